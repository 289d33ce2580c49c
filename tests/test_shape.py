"""Shape ops and indexing against torch: values, storage sharing, gradients, zero-size, errors."""

import numpy as np
import pytest

import rustorch as rt

torch = pytest.importorskip("torch")


def dtname(dt):
    return str(dt).split(".")[-1]


def assert_same(r, t):
    assert isinstance(r, rt.Tensor), type(r)
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    assert dtname(r.dtype) == dtname(t.dtype), (r.dtype, t.dtype)
    np.testing.assert_array_equal(r.detach().numpy(), t.detach().numpy())


def arange(shape, dtype=np.float32):
    return (np.arange(int(np.prod(shape))) - 3).astype(dtype).reshape(shape)


def both(a, requires_grad=False):
    return rt.tensor(a.copy(), requires_grad=requires_grad), torch.tensor(
        a.copy(), requires_grad=requires_grad
    )


def shares(a, b):
    return np.shares_memory(a.detach().numpy(), b.detach().numpy())


def grad_check_vs_torch(fn, *arrays, seed=0):
    """fn(module, *leaves) -> tensor (or tuple of tensors); compare outputs and grads."""
    rs = [rt.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    ro, to = fn(rt, *rs), fn(torch, *ts)
    if not isinstance(ro, (tuple, list)):
        ro, to = [ro], [to]
    assert len(ro) == len(to)
    rng = np.random.default_rng(seed)
    rloss, tloss = None, None
    for r, t in zip(ro, to):
        assert_same(r, t)
        w = rng.standard_normal(tuple(t.shape)).astype(np.float32)
        rl, tl = (r * rt.tensor(w)).sum(), (t * torch.tensor(w)).sum()
        rloss = rl if rloss is None else rloss + rl
        tloss = tl if tloss is None else tloss + tl
    rloss.backward()
    tloss.backward()
    for r, t in zip(rs, ts):
        assert r.grad is not None and r.grad.shape == tuple(t.shape)
        np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-6)
    return rs


# ---- views that share storage -------------------------------------------------------------------
VIEW_CASES = [
    ((2, 3, 4), lambda m, x: x.reshape(6, 4)),
    ((2, 3, 4), lambda m, x: x.reshape(-1)),
    ((2, 3, 4), lambda m, x: x.reshape((4, -1))),
    ((2, 3, 4), lambda m, x: m.reshape(x, (24,))),
    ((2, 3, 4), lambda m, x: x.view(3, 8)),
    ((2, 3, 4), lambda m, x: x.view(-1, 2, 2)),
    ((2, 3, 4), lambda m, x: x.flatten()),
    ((2, 3, 4), lambda m, x: x.flatten(1)),
    ((2, 3, 4), lambda m, x: m.flatten(x, 0, 1)),
    ((2, 3, 4), lambda m, x: x.flatten(-2, -1)),
    ((), lambda m, x: x.flatten()),
    ((), lambda m, x: x.reshape(1, 1)),
    ((1,), lambda m, x: x.reshape(())),
    ((2, 3), lambda m, x: x.unsqueeze(0)),
    ((2, 3), lambda m, x: x.unsqueeze(-1)),
    ((2, 3), lambda m, x: m.unsqueeze(x, 1)),
    ((), lambda m, x: x.unsqueeze(0)),
    ((1, 3, 1, 2), lambda m, x: x.squeeze()),
    ((1, 3, 1, 2), lambda m, x: x.squeeze(0)),
    ((1, 3, 1, 2), lambda m, x: x.squeeze(1)),
    ((1, 3, 1, 2), lambda m, x: x.squeeze(-2)),
    ((1, 3, 1, 2), lambda m, x: x.squeeze((0, 2))),
    ((1,), lambda m, x: x.squeeze()),
    ((), lambda m, x: x.squeeze()),
    ((), lambda m, x: x.squeeze(0)),
    ((2, 6), lambda m, x: x.unflatten(1, (2, 3))),
    ((2, 6), lambda m, x: x.unflatten(-1, (3, -1))),
    ((2, 3), lambda m, x: x.view_as(m.zeros(3, 2))),
    ((2, 3), lambda m, x: x.reshape_as(m.zeros(6))),
    ((0, 3), lambda m, x: x.reshape(3, 0)),
    ((0, 3), lambda m, x: x.reshape(-1, 3, 1)),
    ((2, 0), lambda m, x: x.flatten()),
    ((2, 0), lambda m, x: x.unsqueeze(1)),
]


@pytest.mark.parametrize("shape,fn", VIEW_CASES)
def test_views_match_torch_and_share_storage(shape, fn):
    a = arange(shape)
    r, t = both(a)
    out = fn(rt, r)
    assert_same(out, fn(torch, t))
    if out.numel():
        assert shares(out, r)
        with rt.no_grad():
            out.reshape(-1)[0] = 1000.0
        assert r.reshape(-1)[0].item() == 1000.0
    grad_check_vs_torch(fn, a)


# ---- copies -------------------------------------------------------------------------------------
COPY_CASES = [
    ((2, 3), lambda m, x: x.t()),
    ((3,), lambda m, x: x.t()),
    ((), lambda m, x: x.t()),
    ((2, 3), lambda m, x: x.T),
    ((2, 3, 4), lambda m, x: x.transpose(0, 2)),
    ((2, 3, 4), lambda m, x: x.transpose(-1, 1)),
    ((2, 3, 4), lambda m, x: m.transpose(x, 1, 1)),
    ((2, 3, 4), lambda m, x: x.swapaxes(0, 1)),
    ((2, 3, 4), lambda m, x: x.permute(2, 0, 1)),
    ((2, 3, 4), lambda m, x: x.permute((1, 2, 0))),
    ((2, 3, 4), lambda m, x: m.permute(x, (-1, -3, -2))),
    ((2, 3, 4, 5), lambda m, x: x.permute(3, 1, 0, 2)),
    ((3, 1), lambda m, x: x.expand(3, 4)),
    ((3, 1), lambda m, x: x.expand(2, 3, 5)),
    ((3, 1), lambda m, x: x.expand(-1, 2)),
    ((1,), lambda m, x: x.expand(0)),
    ((), lambda m, x: x.expand(2, 2)),
    ((3, 1), lambda m, x: x.expand_as(m.zeros(3, 3))),
    ((3, 1), lambda m, x: m.broadcast_to(x, (2, 3, 2))),
    ((1, 3), lambda m, x: x.expand((4, 3))),
    ((0, 1), lambda m, x: x.expand(0, 4)),
    ((2, 0, 3), lambda m, x: x.permute(2, 0, 1)),
    ((2, 0), lambda m, x: x.t()),
]


@pytest.mark.parametrize("shape,fn", COPY_CASES)
def test_copies_match_torch_and_do_not_share(shape, fn):
    a = arange(shape)
    r, t = both(a)
    out = fn(rt, r)
    assert_same(out, fn(torch, t))
    if out.numel() and r.ndim >= 1 and not (r.ndim == 1 and out.shape == r.shape):
        assert not shares(out, r)
        before = r.numpy().copy()
        with rt.no_grad():
            out.reshape(-1)[0] = 1000.0
        np.testing.assert_array_equal(r.numpy(), before)
    grad_check_vs_torch(fn, a)


def test_larger_permute_transpose_vs_numpy():
    # below the kernels' parallel threshold (see test_config for the parallel race)
    a = np.random.default_rng(0).standard_normal((7, 33, 65)).astype(np.float32)
    r = rt.tensor(a)
    np.testing.assert_array_equal(r.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(r.transpose(0, 2).numpy(), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(r[:, ::3, 1::2].numpy(), a[:, ::3, 1::2])
    i = rt.tensor(np.arange(24).reshape(2, 3, 4))
    np.testing.assert_array_equal(
        i.permute(1, 2, 0).numpy(), np.arange(24).reshape(2, 3, 4).transpose(1, 2, 0)
    )
    b = rt.tensor(np.arange(12).reshape(3, 4) % 2 == 0)
    assert b.t().dtype is rt.bool and b.t().shape == (4, 3)


def test_shape_op_errors():
    x = rt.zeros(2, 3)
    with pytest.raises(rt.ShapeError) as ei:
        x.reshape(4, 2)
    msg = str(ei.value)
    assert "reshape" in msg and "[4, 2]" in msg and "6" in msg and "(2, 3)" in msg
    with pytest.raises(rt.ShapeError):
        x.view(-1, -1)
    with pytest.raises(rt.ShapeError):
        x.reshape(-1, 4)
    with pytest.raises(rt.ShapeError):
        x.reshape(3, -2)
    with pytest.raises(rt.ShapeError):
        rt.zeros(0, 3).reshape(-1, 0)
    with pytest.raises(rt.DTypeError):
        x.reshape("a", 2)
    with pytest.raises(rt.IndexingError):
        x.unsqueeze(3)
    with pytest.raises(IndexError):
        x.unsqueeze(-4)
    with pytest.raises(IndexError):
        x.squeeze(2)
    with pytest.raises(IndexError):
        x.flatten(0, 2)
    with pytest.raises(rt.ShapeError):
        rt.zeros(2, 3, 4).flatten(2, 1)
    with pytest.raises(IndexError):
        x.transpose(0, 2)
    with pytest.raises(rt.ShapeError):
        x.permute(0)
    with pytest.raises(rt.ShapeError):
        x.permute(0, 0)
    with pytest.raises(IndexError):
        x.permute(0, 2)
    with pytest.raises(rt.ShapeError) as ei:
        rt.zeros(2, 3, 4).t()
    assert "3D" in str(ei.value)
    with pytest.raises(rt.ShapeError) as ei:
        x.expand(2, 4)
    assert "expand" in str(ei.value) and "[2, 3]" in str(ei.value)
    with pytest.raises(rt.ShapeError):
        x.expand(3)
    with pytest.raises(rt.ShapeError):
        x.expand(-1, 2, 3)
    for err in (rt.ShapeError, ValueError, RuntimeError):
        with pytest.raises(err):
            x.view(5)


# ---- cat / stack / split / chunk / unbind -------------------------------------------------------
@pytest.mark.parametrize(
    "shapes,dim",
    [
        ([(2, 3), (4, 3)], 0),
        ([(2, 3), (2, 1), (2, 0)], 1),
        ([(2, 3), (2, 5)], -1),
        ([(1, 2, 3), (1, 2, 3), (1, 2, 3)], 1),
        ([(3,), (0,), (2,)], 0),
        ([(0,), (2, 3)], 0),
        ([(2, 3), (0,)], 1),
        ([(0, 3), (0, 3)], 0),
        ([(5,)], 0),
    ],
    ids=str,
)
def test_cat_vs_torch(shapes, dim):
    arrays = [arange(s) + 10 * i for i, s in enumerate(shapes)]
    rs = [rt.tensor(a) for a in arrays]
    ts = [torch.tensor(a) for a in arrays]
    assert_same(rt.cat(rs, dim), torch.cat(ts, dim))
    assert_same(rt.cat(tuple(rs), dim=dim), torch.cat(tuple(ts), dim=dim))
    assert_same(rt.concat(rs, dim), torch.concat(ts, dim))
    grad_check_vs_torch(lambda m, *xs: m.cat(xs, dim), *arrays)


def test_cat_dtype_promotion_and_mixed_grad():
    parts = [np.array([1, 2]), np.array([0.5], np.float32), np.array([True])]
    rs = [rt.tensor(p) for p in parts]
    ts = [torch.tensor(p) for p in parts]
    assert_same(rt.cat(rs), torch.cat(ts))
    assert_same(rt.cat(rs[::2]), torch.cat(ts[::2]))
    assert_same(rt.cat([rs[2], rs[2]]), torch.cat([ts[2], ts[2]]))
    a = rt.ones(2, requires_grad=True)
    b = rt.zeros(3)
    out = rt.cat([b, a, b])
    assert out.grad_fn.name() == "CatBackward0"
    (out * rt.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])
    assert b.grad is None


def test_cat_stack_errors():
    with pytest.raises(rt.ShapeError):
        rt.cat([])
    with pytest.raises(rt.ShapeError) as ei:
        rt.cat([rt.zeros(2, 3), rt.zeros(2, 4)])
    assert "cat" in str(ei.value) and "(2, 4)" in str(ei.value)
    with pytest.raises(rt.ShapeError):
        rt.cat([rt.zeros(2, 3), rt.zeros(3)])
    with pytest.raises(rt.ShapeError):
        rt.cat([rt.tensor(1.0), rt.tensor(2.0)])
    with pytest.raises(IndexError):
        rt.cat([rt.zeros(2), rt.zeros(2)], 1)
    with pytest.raises(rt.DTypeError):
        rt.cat([rt.zeros(2), [1.0]])
    with pytest.raises(rt.ShapeError):
        rt.stack([])
    with pytest.raises(rt.ShapeError) as ei:
        rt.stack([rt.zeros(2), rt.zeros(3)])
    assert "stack" in str(ei.value)
    with pytest.raises(IndexError):
        rt.stack([rt.zeros(2), rt.zeros(2)], 2)
    with pytest.raises(rt.ShapeError):
        rt.split(rt.zeros(5), [2, 2])


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 2)], ids=str)
def test_stack_vs_torch(shape):
    arrays = [arange(shape) * (i + 1) for i in range(3)]
    for dim in range(-len(shape) - 1, len(shape) + 1):
        rs = [rt.tensor(a) for a in arrays]
        ts = [torch.tensor(a) for a in arrays]
        assert_same(rt.stack(rs, dim), torch.stack(ts, dim))
        grad_check_vs_torch(lambda m, *xs, d=dim: m.stack(xs, d), *arrays)
    ints = [rt.tensor(a.astype(np.int64)) for a in arrays]
    assert_same(rt.stack(ints), torch.stack([torch.tensor(a.astype(np.int64)) for a in arrays]))


@pytest.mark.parametrize(
    "shape,arg,dim",
    [
        ((7,), 3, 0),
        ((7,), 7, 0),
        ((7,), 10, 0),
        ((7,), [2, 0, 5], 0),
        ((4, 6), 4, 1),
        ((4, 6), [1, 3], 0),
        ((4, 6), 2, -1),
        ((0, 3), 2, 0),
        ((3, 0), 1, 1),
    ],
    ids=str,
)
def test_split_vs_torch(shape, arg, dim):
    a = arange(shape)
    r, t = both(a)
    rs, ts = rt.split(r, arg, dim), torch.split(t, arg, dim)
    assert isinstance(rs, tuple) and len(rs) == len(ts)
    for x, y in zip(rs, ts):
        assert_same(x, y)
    for x, y in zip(r.split(arg, dim), t.split(arg, dim)):
        assert_same(x, y)
    if a.size:
        grad_check_vs_torch(lambda m, x: m.split(x, arg, dim), a)


@pytest.mark.parametrize(
    "shape,chunks,dim",
    [((7,), 3, 0), ((6,), 4, 0), ((6,), 6, 0), ((5,), 10, 0), ((4, 6), 3, 1), ((3, 5), 2, -1)],
    ids=str,
)
def test_chunk_vs_torch(shape, chunks, dim):
    a = arange(shape)
    r, t = both(a)
    rs, ts = rt.chunk(r, chunks, dim), torch.chunk(t, chunks, dim)
    assert len(rs) == len(ts)
    for x, y in zip(rs, ts):
        assert_same(x, y)
    grad_check_vs_torch(lambda m, x: x.chunk(chunks, dim), a)


@pytest.mark.parametrize("shape,dim", [((3,), 0), ((2, 3), 0), ((2, 3), 1), ((2, 3, 4), -1)])
def test_unbind_vs_torch(shape, dim):
    a = arange(shape)
    r, t = both(a)
    rs, ts = rt.unbind(r, dim), torch.unbind(t, dim)
    assert len(rs) == len(ts)
    for x, y in zip(rs, ts):
        assert_same(x, y)
    grad_check_vs_torch(lambda m, x: x.unbind(dim), a)
    assert rt.unbind(rt.zeros(0, 3)) == ()


# ---- indexing -----------------------------------------------------------------------------------
M2 = np.random.default_rng(0).integers(0, 2, (3, 4)).astype(bool)
M1 = np.array([True, False, True, True, False])
INDEX_CASES = [
    lambda m: 1,
    lambda m: -1,
    lambda m: -3,
    lambda m: (2, 3, 4),
    lambda m: (-1, -1, -1),
    lambda m: slice(None),
    lambda m: slice(1, 3),
    lambda m: (slice(None), 2),
    lambda m: (slice(None), slice(None, None, 2)),
    lambda m: (slice(1, None, 2), slice(None, None, 3), slice(4, 0)),
    lambda m: (slice(-2, None), slice(-100, 100), slice(3, -1)),
    lambda m: (Ellipsis, 1),
    lambda m: (1, Ellipsis),
    lambda m: (1, Ellipsis, 2),
    lambda m: Ellipsis,
    lambda m: None,
    lambda m: (None, 1, None),
    lambda m: (slice(None), None, 1),
    lambda m: (Ellipsis, None),
    lambda m: m.tensor([2, 0, -1]),
    lambda m: m.tensor([1, 1, 1]),
    lambda m: [0, 2],
    lambda m: (1, [0, 2]),
    lambda m: ([0, 2], 1),
    lambda m: (slice(None), 1, [0, 4, 4]),
    lambda m: (1, slice(None), [0, 2]),
    lambda m: ([0, 2], slice(None), 1),
    lambda m: (slice(None), m.tensor([[0, 1], [2, 3]])),
    lambda m: m.tensor([[0, 1], [2, 2]]),
    lambda m: m.tensor(1),
    lambda m: (Ellipsis, m.tensor([0, 4])),
    lambda m: (None, m.tensor([0, 1])),
    lambda m: ([0, 1], None, 2),
    lambda m: m.tensor(M2),
    lambda m: m.tensor(M2[:, 0]),
    lambda m: (slice(None), slice(None), m.tensor(M1)),
    lambda m: (1, slice(None), m.tensor(M1)),
    lambda m: [True, False, True],
    lambda m: m.tensor(np.zeros((3, 4), bool)),
    lambda m: [],
    lambda m: m.tensor([], dtype=m.int64),
    lambda m: (slice(5, 10),),
    lambda m: (slice(None, None, 7),),
]


@pytest.mark.parametrize("k", range(len(INDEX_CASES)))
def test_getitem_vs_torch(k):
    idx = INDEX_CASES[k]
    a = arange((3, 4, 5))
    r, t = both(a)
    out = r[idx(rt)]
    assert_same(out, t[idx(torch)])
    if out.numel():
        assert not shares(out, r)  # indexing copies in rustorch
    grad_check_vs_torch(lambda m, x: x[idx(m)], a)


def test_getitem_int_and_bool_tensors():
    a = np.arange(12).reshape(3, 4)
    r, t = both(a)
    assert_same(r[1], t[1])
    assert_same(r[:, rt.tensor([3, 0])], t[:, torch.tensor([3, 0])])
    assert_same(r[r > 5], t[t > 5])
    b = np.array([[True, False], [False, True]])
    rb, tb = both(b)
    assert_same(rb[0], tb[0])
    assert_same(rb[rb], tb[tb])
    z, tz = both(np.array(5.0, np.float32))
    assert_same(z[None], tz[None])
    assert_same(z[...], tz[...])
    assert_same(z[()], tz[()])
    e, te = both(np.zeros((0, 3), np.float32))
    assert_same(e[:, 1], te[:, 1])
    assert_same(e[e > 0], te[te > 0])
    assert_same(e[rt.tensor([], dtype=rt.int64)], te[torch.tensor([], dtype=torch.int64)])
    assert_same(
        rt.index_select(r, 1, rt.tensor([2, 2, 0])), t.index_select(1, torch.tensor([2, 2, 0]))
    )


def test_index_grads_accumulate_repeated_positions():
    a = arange((4, 3))
    rs = grad_check_vs_torch(lambda m, x: x[m.tensor([0, 0, 3, 0])], a)
    np.testing.assert_array_equal(rs[0].grad.numpy()[1:3], 0)
    grad_check_vs_torch(lambda m, x: x[:3, [2, 2]] * x[1:, 0:1], a)
    grad_check_vs_torch(lambda m, x: x[x > 2] ** 2, a)
    grad_check_vs_torch(lambda m, x: m.index_select(x, 0, m.tensor([3, 3, 1])), a)


def test_index_errors():
    x = rt.zeros(3, 4)
    for bad in (3, -4, (0, 4), (0, -5)):
        with pytest.raises(rt.IndexingError) as ei:
            x[bad]
        assert isinstance(ei.value, IndexError) and isinstance(ei.value, rt.ShapeError)
        assert "out of bounds" in str(ei.value) and "size" in str(ei.value)
    with pytest.raises(IndexError):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[rt.tensor([0, 3])]
    with pytest.raises(IndexError):
        x[rt.tensor([-4])]
    with pytest.raises(IndexError):
        x[[0, 5]]
    with pytest.raises(IndexError):
        x[rt.tensor([True, False])]  # mask shape mismatch
    with pytest.raises(IndexError):
        x[rt.tensor([0.0, 1.0])]  # float index
    with pytest.raises(IndexError):
        x[1.5]
    with pytest.raises(IndexError):
        x["a"]
    with pytest.raises(IndexError):
        x[::-1]  # torch does not support negative steps either
    with pytest.raises(ValueError):
        torch.zeros(3)[::-1]
    with pytest.raises(IndexError):
        x[..., ...]
    with pytest.raises(IndexError):
        rt.zeros(())[0]
    with pytest.raises(IndexError):
        rt.index_select(x, 0, rt.tensor([1.0]))
    with pytest.raises(IndexError):
        rt.index_select(x, 2, rt.tensor([0]))


# ---- setitem ------------------------------------------------------------------------------------
SET_CASES = [
    (lambda m: 1, lambda m: 7.0),
    (lambda m: (0, 2), lambda m: -1.0),
    (lambda m: -1, lambda m: m.tensor([1.0, 2.0, 3.0, 4.0])),
    (lambda m: slice(None), lambda m: m.tensor([9.0, 8.0, 7.0, 6.0])),
    (lambda m: (slice(None), 1), lambda m: m.tensor([[5.0], [6.0], [7.0]]).reshape(3)),
    (lambda m: (slice(None, None, 2), slice(1, None, 2)), lambda m: m.tensor(3.0)),
    (lambda m: (Ellipsis, 0), lambda m: 0),
    (lambda m: (None, 1), lambda m: 2.5),
    (lambda m: m.tensor([0, 2]), lambda m: m.tensor([1.0, 2.0, 3.0, 4.0])),
    (lambda m: m.tensor([-1, 0]), lambda m: m.tensor([[1.0], [2.0]])),
    (lambda m: [1], lambda m: 4),
    (lambda m: m.tensor([True, False, True]), lambda m: -5.0),
    (lambda m: m.tensor(M2[:, :4] if M2.shape[1] == 4 else M2), lambda m: 100.0),
    (lambda m: m.tensor(M2), lambda m: m.arange(int(M2.sum())).float()),
    (lambda m: m.tensor([], dtype=m.int64), lambda m: 1.0),
    (lambda m: slice(3, 5), lambda m: 1.0),
]


@pytest.mark.parametrize("k", range(len(SET_CASES)))
def test_setitem_vs_torch(k):
    idx, val = SET_CASES[k]
    a = arange((3, 4))
    r, t = both(a)
    r[idx(rt)] = val(rt)
    t[idx(torch)] = val(torch)
    assert_same(r, t)


def test_setitem_dtypes_and_errors():
    r, t = both(np.arange(6).reshape(2, 3))
    r[0] = 2.7  # truncates into an int64 tensor, like torch
    t[0] = 2.7
    r[1, 1] = True
    t[1, 1] = True
    assert_same(r, t)
    rb, tb = both(np.zeros(3, bool))
    rb[1] = 5
    tb[1] = 5
    assert_same(rb, tb)
    src = rt.tensor([1.0, 2.0, 3.0])
    dst = rt.zeros(2, 3)
    dst[0] = src
    src[0] = 100.0
    assert dst[0, 0].item() == 1.0  # the value was copied
    with pytest.raises(rt.ShapeError):
        dst[0] = rt.tensor([1.0, 2.0])
    with pytest.raises(IndexError):
        dst[2] = 1.0
    with pytest.raises(IndexError):
        dst[rt.tensor([5])] = 1.0
    with pytest.raises(IndexError):
        dst[rt.tensor([True])] = 1.0
    w = rt.zeros(3, requires_grad=True)
    with pytest.raises(rt.AutogradError):
        w[0] = 1.0
    with rt.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0, 0.0] and w.requires_grad and w.is_leaf
    assert w.detach().tolist() == [1.0, 0.0, 0.0]


def test_shape_grad_fn_names_match_torch():
    x = rt.ones(2, 3, requires_grad=True)
    tx = torch.ones(2, 3, requires_grad=True)
    for f in (
        lambda m, v: v.reshape(3, 2),
        lambda m, v: v.view(6),
        lambda m, v: v.unsqueeze(0),
        lambda m, v: v.squeeze(),
        lambda m, v: v.permute(1, 0),
        lambda m, v: v.transpose(0, 1),
        lambda m, v: v.t(),
        lambda m, v: v[0].expand(2, 3),
        lambda m, v: m.cat([v, v]),
    ):
        assert f(rt, x).grad_fn.name() == f(torch, tx).grad_fn.name()


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.reshape(4, 3).t(),
        lambda x: x.permute(1, 0) * x.t(),
        lambda x: x[1:, ::2],
        lambda x: x[rt.tensor([0, 0, 2])],
        lambda x: x[x > 0],
        lambda x: rt.cat([x, x[:1] * 2]),
        lambda x: rt.stack([x, -x], 1),
        lambda x: x[:, :1].expand(3, 5),
        lambda x: x.split(1, 1)[1] * x.chunk(2, 1)[0],
    ],
)
def test_gradcheck_shape_ops(fn):
    x = rt.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4) + 0.05, requires_grad=True)
    assert rt.autograd.gradcheck(fn, (x,))
