"""var/std, logsumexp, norm, masked_fill, outer, isclose/allclose, tril/triu, flip and the
new_* / type_as Tensor methods against torch: values, dims, keepdim, dtypes, zero-size and 0-d
inputs, special values, gradients (torch and gradcheck) and error paths."""

import math
import warnings

import numpy as np
import pytest

import rustorch as rt
from rustorch.errors import AutogradError, DTypeError, IndexingError, ShapeError

torch = pytest.importorskip("torch")

INF = float("inf")
NAN = float("nan")


def dtname(dt):
    return str(dt).split(".")[-1]


def assert_same(r, t, rtol=1e-5, atol=1e-5):
    assert isinstance(r, rt.Tensor), type(r)
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    assert dtname(r.dtype) == dtname(t.dtype), (r.dtype, t.dtype)
    a, b = r.detach().numpy(), t.detach().numpy()
    if a.dtype == np.float32:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


def data(shape, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == "int64":
        return rng.integers(-5, 6, size=shape).astype(np.int64)
    return rng.integers(0, 2, size=shape).astype(bool)


def both(a, requires_grad=False):
    return rt.tensor(a.copy(), requires_grad=requires_grad), torch.tensor(
        a.copy(), requires_grad=requires_grad
    )


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about degrees of freedom <= 0
        return fn(*args, **kw)


SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 4), (2, 0), (0, 3), (2, 1, 3, 2)]


def dim_args(shape):
    nd = len(shape)
    out = [(None, False), (None, True)]
    n = max(nd, 1)
    for d in range(-n, n):
        out += [(d, False), (d, True)]
    if nd >= 2:
        out += [((0, 1), False), ((0, -1), True), ((-1, 0), False), ([], False)]
    if nd >= 3:
        out += [((0, 2), False), ((1, 2), True), (tuple(range(nd)), False)]
    return out


def cases(shapes=SHAPES):
    return [(s, d, k) for s in shapes for d, k in dim_args(s)]


def _kw(dim):
    return {} if dim is None else {"dim": dim}


# ---- var / std ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim,keepdim", cases(), ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_forward(name, shape, dim, keepdim):
    x, tx = both(data(shape))
    for corr in (None, 0, 1, 2, 2.5):
        ckw = {} if corr is None else {"correction": corr}
        r = getattr(rt, name)(x, keepdim=keepdim, **_kw(dim), **ckw)
        t = quiet(getattr(torch, name), tx, keepdim=keepdim, **_kw(dim), **ckw)
        assert_same(r, t)
        assert_same(getattr(x, name)(keepdim=keepdim, **_kw(dim), **ckw), t)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_overloads(name):
    x, tx = both(data((3, 5)))
    f, tf = getattr(rt, name), getattr(torch, name)
    assert_same(f(x, False), tf(tx, False))
    assert_same(f(x, True), tf(tx, True))
    assert_same(f(x, unbiased=False), tf(tx, unbiased=False))
    assert_same(f(x, 1, False, True), tf(tx, 1, False, True))
    assert_same(f(x, 0, True), tf(tx, 0, True))
    assert_same(f(x, (0, 1), True, keepdim=True), tf(tx, (0, 1), True, keepdim=True))
    assert_same(f(x, dim=None, unbiased=False), tf(tx, dim=None, unbiased=False))
    assert_same(f(x, -1, correction=0, keepdim=True), tf(tx, -1, correction=0, keepdim=True))
    assert_same(getattr(x, name)(1, False), getattr(tx, name)(1, False))
    assert_same(getattr(x, name)(False), getattr(tx, name)(False))
    assert_same(getattr(x, name)(unbiased=False), getattr(tx, name)(unbiased=False))


def test_var_numerics_large_offset_and_values():
    a = (1e4 + data((4, 1000))).astype(np.float32)
    x, tx = both(a)
    assert_same(rt.var(x, 1), torch.var(tx, 1), rtol=1e-4)
    assert_same(rt.std(x), torch.std(tx), rtol=1e-4)
    # exact small cases
    x = rt.tensor([[0.0, 1, 2], [3, 4, 5]])
    np.testing.assert_allclose(rt.var(x).item(), 3.5, rtol=1e-6)
    np.testing.assert_allclose(rt.var(x, 1, False).numpy(), [2 / 3, 2 / 3], rtol=1e-6)
    assert math.isnan(rt.var(rt.tensor([1.0])).item())
    assert math.isnan(rt.var(rt.tensor(3.0), 0).item())
    assert rt.var(x, correction=7).item() == INF  # divisor max(0, 6 - 7) = 0
    # NaN / inf propagate like torch
    a = np.array([[1.0, NAN, 2.0], [1.0, INF, 2.0], [1.0, 2.0, 4.0]], np.float32)
    x, tx = both(a)
    assert_same(rt.var(x, 1), torch.var(tx, 1))
    assert_same(rt.std(x, 1), torch.std(tx, 1))


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(
    "kw",
    [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}, {"dim": -1, "correction": 0}, {"dim": 0}],
    ids=str,
)
def test_var_std_backward_vs_torch(name, kw):
    x, tx = both(data((2, 3, 4), seed=3), requires_grad=True)
    r = getattr(rt, name)(x, **kw)
    t = getattr(torch, name)(tx, **kw)
    w = data(tuple(t.shape), seed=4)
    (r * rt.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_std_norm_gradient_zero_at_zero_like_torch():
    for f, tf in [
        (lambda v: rt.std(v), lambda v: torch.std(v)),
        (lambda v: rt.std(v, 1), lambda v: torch.std(v, 1)),
        (lambda v: rt.norm(v), lambda v: torch.norm(v)),
        (lambda v: rt.norm(v, 2, 1), lambda v: torch.norm(v, 2, 1)),
    ]:
        a = np.array([[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]], np.float32)
        x, tx = both(a, requires_grad=True)
        f(x).sum().backward()
        tf(tx).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
        assert not np.isnan(x.grad.numpy()).any()


def test_var_single_element_gradient_nan_like_torch():
    x, tx = both(np.array([1.0], np.float32), requires_grad=True)
    rt.var(x).backward()
    quiet(torch.var, tx).backward()
    assert np.isnan(x.grad.numpy()).all() and np.isnan(tx.grad.numpy()).all()


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.var(),
        lambda x: x.var(1),
        lambda x: rt.var(x, (0, 2), keepdim=True, correction=0),
        lambda x: x.std(-1),
        lambda x: rt.std(x, 0, False, True),
        lambda x: x.logsumexp(1),
        lambda x: rt.logsumexp(x, (0, 2), keepdim=True),
        lambda x: x.norm(),
        lambda x: rt.norm(x, 2, (1, 2)),
        lambda x: rt.norm(x, 1, 0),
        lambda x: rt.norm(x, INF, -1),
        lambda x: rt.norm(x, "fro", (0, 1), True),
        lambda x: x.tril(),
        lambda x: rt.triu(x, -1),
        lambda x: x.flip(0, 2),
        lambda x: rt.flip(x, [-1]),
        lambda x: x.masked_fill(rt.tensor([True, False, False, True]), 2.0),
        lambda x: rt.outer(x.flatten()[:5], x.flatten()[3:7]),
    ],
)
def test_gradcheck(fn):
    a = np.random.default_rng(12).permutation(24).astype(np.float32).reshape(2, 3, 4) / 4 + 0.5
    x = rt.tensor(a, requires_grad=True)
    assert rt.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_errors(name):
    f = getattr(rt, name)
    x = rt.tensor(data((2, 3)))
    with pytest.raises(DTypeError, match=rf"{name}\(\).*floating point.*shape=\(2,\), dtype=int64"):
        f(rt.tensor([1, 2]))
    with pytest.raises(DTypeError, match=rf"{name}\(\)"):
        f(rt.tensor([True, False]))
    with pytest.raises(DTypeError, match="either 'unbiased' or 'correction'"):
        f(x, 1, True, correction=1)
    with pytest.raises(DTypeError, match="'unbiased' must be bool"):
        f(x, 1, 0)
    with pytest.raises(DTypeError, match="appears multiple times"):
        f(x, (0, 0))
    with pytest.raises(IndexingError):
        f(x, 2)
    with pytest.raises(DTypeError, match="'correction' must be a number"):
        f(x, 1, correction="a")
    with pytest.raises(DTypeError, match="must be a Tensor"):
        f([1.0, 2.0])
    with pytest.raises(DTypeError, match="unbiased"):
        f(x, True, keepdim=True)


# ---- logsumexp -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,dim,keepdim", [c for c in cases() if c[1] is not None and c[1] != []], ids=str
)
def test_logsumexp_forward(shape, dim, keepdim):
    a = data(shape) * 30  # large values: overflows without the max shift
    x, tx = both(a)
    assert_same(rt.logsumexp(x, dim, keepdim), torch.logsumexp(tx, dim, keepdim))
    assert_same(x.logsumexp(dim, keepdim=keepdim), tx.logsumexp(dim, keepdim=keepdim))


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_logsumexp_int_bool_promote(dtype):
    x, tx = both(data((3, 4), dtype))
    assert_same(rt.logsumexp(x, 1), torch.logsumexp(tx, 1))
    assert_same(rt.logsumexp(x, (0, 1), True), torch.logsumexp(tx, (0, 1), True))


def test_logsumexp_special_values():
    a = np.array(
        [
            [-INF, -INF, -INF],
            [INF, 1.0, 2.0],
            [INF, -INF, 0.0],
            [NAN, 1.0, 2.0],
            [-INF, 0.0, 1.0],
            [1e30, 1e30, -1e30],
            [-1e30, -1e30, -1e30],
        ],
        np.float32,
    )
    x, tx = both(a, requires_grad=True)
    r, t = rt.logsumexp(x, 1), torch.logsumexp(tx, 1)
    assert_same(r, t)
    r.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, equal_nan=True)


def test_logsumexp_backward_vs_torch():
    for dim, keepdim in [(1, False), ((0, 2), True), (-1, True), (0, False)]:
        x, tx = both(data((2, 3, 4), seed=5) * 10, requires_grad=True)
        r, t = rt.logsumexp(x, dim, keepdim), torch.logsumexp(tx, dim, keepdim)
        w = data(tuple(t.shape), seed=6)
        (r * rt.tensor(w)).sum().backward()
        (t * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_logsumexp_errors():
    with pytest.raises(IndexingError, match="logsumexp"):
        rt.logsumexp(rt.ones(2, 3), 2)
    with pytest.raises(DTypeError, match="logsumexp"):
        rt.logsumexp(rt.ones(2, 3), (1, 1))
    with pytest.raises(DTypeError, match="must be a Tensor"):
        rt.logsumexp([1.0], 0)


# ---- norm ----------------------------------------------------------------------------------------
NORM_PS = ["fro", 2, 2.0, 1, INF]


@pytest.mark.parametrize("shape,dim,keepdim", cases(), ids=str)
@pytest.mark.parametrize("p", NORM_PS, ids=str)
def test_norm_forward(p, shape, dim, keepdim):
    if p == "fro" and isinstance(dim, tuple) and len(dim) > 2:
        pytest.skip("torch refuses 'fro' over more than 2 dims (tested in the errors test)")
    x, tx = both(data(shape))
    try:
        t = torch.norm(tx, p, dim, keepdim)
    except RuntimeError:  # inf norm of an empty reduction: no identity
        assert p == INF
        with pytest.raises(ShapeError, match="norm"):
            rt.norm(x, p, dim, keepdim)
        return
    assert_same(rt.norm(x, p, dim, keepdim), t)
    assert_same(x.norm(p, dim, keepdim), t)


def test_norm_defaults_and_values():
    x, tx = both(np.array([[0.0, 1, 2], [3, 4, -5]], np.float32))
    assert_same(rt.norm(x), torch.norm(tx))
    assert_same(x.norm(), tx.norm())
    assert_same(rt.norm(x, dim=1), torch.norm(tx, dim=1))
    np.testing.assert_allclose(rt.norm(x, 1).item(), 15.0)
    np.testing.assert_allclose(rt.norm(x, INF).item(), 5.0)
    np.testing.assert_allclose(rt.norm(x).item(), math.sqrt(55), rtol=1e-6)
    assert rt.norm(rt.ones(0)).item() == 0.0
    x, tx = both(np.array([1e30, 1e30], np.float32))
    assert_same(rt.norm(x), torch.norm(tx))  # inf in both: no rescaling
    x, tx = both(np.array([1.0, NAN, -INF], np.float32))
    for p in NORM_PS:
        assert_same(rt.norm(x, p), torch.norm(tx, p))


@pytest.mark.parametrize("p", NORM_PS, ids=str)
def test_norm_backward_vs_torch(p):
    a = np.array([[1.0, -3.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0], [2.0, -2.0, 1.0, 0.5]], np.float32)
    for dim, keepdim in [(None, False), (1, False), (0, True), ((0, 1), False)]:
        x, tx = both(a, requires_grad=True)
        r, t = rt.norm(x, p, dim, keepdim), torch.norm(tx, p, dim, keepdim)
        w = data(tuple(t.shape), seed=7)
        (r * rt.tensor(w)).sum().backward()
        (t * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_norm_errors():
    x = rt.ones(2, 3)
    with pytest.raises(DTypeError, match=r"norm\(\).*floating point.*dtype=int64"):
        rt.norm(rt.tensor([1, 2]))
    with pytest.raises(DTypeError, match=r"norm\(\).*dtype=bool"):
        rt.norm(rt.tensor([True]))
    for p in (3, 0, -INF, "nuc", 0.5):
        with pytest.raises(DTypeError, match=r"norm\(\): p=.* not supported.*shape=\(2, 3\)"):
            rt.norm(x, p)
    with pytest.raises(ShapeError, match="'fro' takes at most 2 dims"):
        rt.norm(rt.ones(2, 2, 2), "fro", (0, 1, 2))
    with pytest.raises(ShapeError, match="inf norm over dimension 1 of size 0"):
        rt.norm(rt.ones(2, 0), INF, 1)
    with pytest.raises(ShapeError, match="inf norm"):
        rt.norm(rt.ones(0), INF)
    with pytest.raises(IndexingError, match="norm"):
        rt.norm(x, 2, 2)


# ---- masked_fill ---------------------------------------------------------------------------------
MF_CASES = [
    ((2, 3), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), ()),
    ((3,), (2, 3)),  # out-of-place broadcasts input to the mask's shape, like torch
    ((2, 1, 3), (4, 1)),
    ((), ()),
    ((0, 3), (3,)),
    ((4,), (1,)),
]


@pytest.mark.parametrize("xs,ms", MF_CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_masked_fill_forward(xs, ms, dtype):
    x, tx = both(data(xs, dtype))
    m, tm = both(data(ms, "bool", seed=1))
    for v in (5, 2.7, -1.5, True, 0):
        assert_same(rt.masked_fill(x, m, v), torch.masked_fill(tx, tm, v))
        assert_same(x.masked_fill(m, v), tx.masked_fill(tm, v))
    for v in (np.float32(2.7), np.int64(3), np.array(1.5, np.float32)):
        assert_same(rt.masked_fill(x, m, rt.tensor(v)), torch.masked_fill(tx, tm, torch.tensor(v)))
    if dtype == "float32":
        for v in (INF, -INF):
            assert_same(rt.masked_fill(x, m, v), torch.masked_fill(tx, tm, v))
        r = rt.masked_fill(x, m, NAN).numpy()
        t = torch.masked_fill(tx, tm, NAN).numpy()
        np.testing.assert_array_equal(np.isnan(r), np.isnan(t))


def test_masked_fill_backward():
    x, tx = both(data((2, 3)), requires_grad=True)
    v, tv = both(np.array(3.0, np.float32), requires_grad=True)
    m, tm = both(np.array([True, False, True]))
    w = data((2, 3), seed=2)
    (rt.masked_fill(x, m, v) * rt.tensor(w)).sum().backward()
    (torch.masked_fill(tx, tm, tv) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-6)
    assert x.grad.numpy()[:, 0].tolist() == [0.0, 0.0]
    # broadcast input: gradient summed back to its shape
    x, tx = both(data((3,)), requires_grad=True)
    m, tm = both(data((4, 3), "bool", seed=3))
    rt.masked_fill(x, m, 1.0).sum().backward()
    torch.masked_fill(tx, tm, 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    assert rt.masked_fill(x, m, 1.0).grad_fn.name() == "MaskedFillBackward0"


def test_masked_fill_inplace():
    a = data((2, 3))
    x, tx = both(a)
    m, tm = both(np.array([True, False, True]))
    r = x.masked_fill_(m, 7.0)
    tx.masked_fill_(tm, 7.0)
    assert r is x
    assert_same(x, tx)
    xi, txi = both(data((2, 3), "int64"))
    xi.masked_fill_(rt.tensor(True), 1.5)
    txi.masked_fill_(torch.tensor(True), 1.5)
    assert_same(xi, txi)
    p = rt.tensor(a, requires_grad=True)
    with pytest.raises(AutogradError, match="masked_fill_"):
        p.masked_fill_(m, 0.0)
    with rt.no_grad():
        p.masked_fill_(m, 0.0)
    assert p.detach().numpy()[:, 0].tolist() == [0.0, 0.0]
    with pytest.raises(ShapeError, match=r"masked_fill_\(\).*\(3,\) doesn't match.*\(2, 3\)"):
        rt.ones(3).masked_fill_(rt.ones(2, 3).bool(), 5.0)
    with pytest.raises(DTypeError, match="boolean masks"):
        rt.ones(3).masked_fill_(rt.ones(3), 5.0)


def test_masked_fill_errors():
    x = rt.ones(2, 3)
    with pytest.raises(DTypeError, match=r"masked_fill\(\).*boolean masks.*dtype=int64"):
        rt.masked_fill(x, rt.tensor([1, 0, 1]), 5)
    with pytest.raises(ShapeError, match=r"masked_fill\(\).*0-dimensional.*shape=\(1,\)"):
        rt.masked_fill(x, rt.tensor([True, False, True]), rt.tensor([5.0]))
    with pytest.raises(ShapeError, match=r"masked_fill\(\).*shape=\(2, 3\).*shape=\(2,\)"):
        rt.masked_fill(x, rt.tensor([True, False]), 1)
    with pytest.raises(DTypeError, match="int64"):
        rt.masked_fill(rt.arange(3), rt.tensor(True), NAN)
    with pytest.raises(DTypeError, match="int64"):
        rt.masked_fill(rt.arange(3), rt.tensor(True), 2**70)
    with pytest.raises(DTypeError, match="value must be a number"):
        rt.masked_fill(x, rt.tensor(True), "a")
    with pytest.raises(DTypeError, match="must be a Tensor"):
        rt.masked_fill([1.0], rt.tensor(True), 1)


# ---- outer ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "da,db", [("float32", "float32"), ("int64", "float32"), ("int64", "int64"), ("bool", "bool")]
)
@pytest.mark.parametrize("n,m", [(3, 4), (1, 5), (0, 3), (4, 0)])
def test_outer_forward(da, db, n, m):
    a, ta = both(data((n,), da))
    b, tb = both(data((m,), db, seed=1))
    assert_same(rt.outer(a, b), torch.outer(ta, tb))
    assert_same(a.outer(b), ta.outer(tb))


def test_outer_backward_and_errors():
    a, ta = both(data((3,)), requires_grad=True)
    b, tb = both(data((4,), seed=1), requires_grad=True)
    w = data((3, 4), seed=2)
    (rt.outer(a, b) * rt.tensor(w)).sum().backward()
    (torch.outer(ta, tb) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-5)
    with pytest.raises(ShapeError, match=r"outer.*vec2, but got 2-D.*shape=\(2, 1\)"):
        rt.outer(rt.ones(3), rt.ones(2, 1))
    with pytest.raises(ShapeError, match=r"outer.*self, but got 0-D"):
        rt.outer(rt.tensor(1.0), rt.ones(2))
    with pytest.raises(DTypeError, match="must be a Tensor"):
        rt.outer(rt.ones(2), [1.0])


# ---- isclose / allclose --------------------------------------------------------------------------
SPECIAL = np.array([0.0, 1.0, -1.0, 1e-9, 1e20, INF, -INF, NAN, 1.00001, 1.0 + 1e-6], np.float32)


def test_isclose_special_values_all_pairs():
    a = np.repeat(SPECIAL, len(SPECIAL))
    b = np.tile(SPECIAL, len(SPECIAL))
    x, tx = both(a)
    y, ty = both(b)
    for kw in [{}, {"equal_nan": True}, {"rtol": 0, "atol": 0}, {"rtol": 0.1, "atol": 1e-3}]:
        assert_same(rt.isclose(x, y, **kw), torch.isclose(tx, ty, **kw))
        assert_same(x.isclose(y, **kw), tx.isclose(ty, **kw))
        assert rt.allclose(x, y, **kw) == torch.allclose(tx, ty, **kw)


@pytest.mark.parametrize("xs,ys", [((2, 3), (3,)), ((3,), (2, 3)), ((), (4,)), ((0, 2), (2,))])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_isclose_broadcast_dtypes(xs, ys, dtype):
    a = data(xs, dtype)
    b = data(ys, dtype, seed=1)
    if dtype == "float32":
        b = b * 1e-6 + 1.0
        a = a * 1e-6 + 1.0
    x, tx = both(a)
    y, ty = both(b)
    for kw in [{}, {"atol": 1}, {"rtol": 0.5}, {"rtol": 0, "atol": 0}]:
        assert_same(rt.isclose(x, y, **kw), torch.isclose(tx, ty, **kw))
        assert rt.allclose(x, y, **kw) == torch.allclose(tx, ty, **kw)
        assert isinstance(rt.allclose(x, y, **kw), bool)


def test_isclose_errors():
    x = rt.ones(2, 3)
    with pytest.raises(DTypeError, match=r"isclose\(\).*Long did not match Float"):
        rt.isclose(rt.arange(3), rt.ones(3))
    with pytest.raises(DTypeError, match="greater than or equal to zero"):
        rt.isclose(x, x, rtol=-1)
    with pytest.raises(DTypeError, match="greater than or equal to zero"):
        rt.allclose(x, x, atol=-1)
    with pytest.raises(ShapeError, match=r"isclose\(\).*shape=\(2, 3\).*shape=\(2,\)"):
        rt.isclose(x, rt.ones(2))
    with pytest.raises(DTypeError, match="expected two Tensors"):
        rt.isclose(x, 1.0)


# ---- tril / triu ---------------------------------------------------------------------------------
TRI_SHAPES = [(3, 4), (4, 3), (1, 1), (2, 3, 4), (2, 2, 3, 3), (0, 3), (3, 0), (2, 0, 0)]


@pytest.mark.parametrize("shape", TRI_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_tril_triu_forward(shape, dtype):
    x, tx = both(data(shape, dtype))
    for k in (-5, -2, -1, 0, 1, 2, 5, 2**70, -(2**70)):
        tk = max(-(2**62), min(2**62, k))  # torch takes an int64 diagonal
        assert_same(rt.tril(x, k), torch.tril(tx, tk))
        assert_same(rt.triu(x, k), torch.triu(tx, tk))
        assert_same(x.tril(k), tx.tril(tk))
        assert_same(x.triu(diagonal=k), tx.triu(diagonal=tk))
    assert_same(rt.tril(x), torch.tril(tx))
    assert_same(x.triu(), tx.triu())


def test_tril_triu_backward_and_errors():
    for f, tf in [(rt.tril, torch.tril), (rt.triu, torch.triu)]:
        x, tx = both(data((2, 3, 4)), requires_grad=True)
        w = data((2, 3, 4), seed=1)
        (f(x, 1) * rt.tensor(w)).sum().backward()
        (tf(tx, 1) * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
        with pytest.raises(ShapeError, match=r"at least 2 dimensions.*shape=\(3,\)"):
            f(rt.ones(3))
        with pytest.raises(ShapeError, match="at least 2 dimensions"):
            f(rt.tensor(1.0))
        with pytest.raises(DTypeError, match="'diagonal' must be int"):
            f(rt.ones(2, 2), 1.5)
        with pytest.raises(DTypeError, match="must be a Tensor"):
            f([[1.0]])


# ---- flip ----------------------------------------------------------------------------------------
FLIP_CASES = [
    ((), ()),
    ((), (0,)),
    ((), (-1,)),
    ((5,), (0,)),
    ((3, 4), (0,)),
    ((3, 4), (1,)),
    ((3, 4), (0, 1)),
    ((3, 4), (-1, 0)),
    ((3, 4), ()),
    ((2, 3, 4), (1,)),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (2, 1, 0)),
    ((2, 1, 3), (1,)),
    ((2, 0, 3), (0, 2)),
    ((2, 3, 1, 4, 2), (0, 3, 4)),
]


@pytest.mark.parametrize("shape,dims", FLIP_CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_flip_forward(shape, dims, dtype):
    x, tx = both(data(shape, dtype))
    assert_same(rt.flip(x, dims), torch.flip(tx, dims))
    assert_same(rt.flip(x, list(dims)), torch.flip(tx, list(dims)))
    assert_same(x.flip(dims), tx.flip(dims))
    if dims:
        assert_same(x.flip(*dims), tx.flip(*dims))


def test_flip_backward_and_errors():
    x, tx = both(data((2, 3, 4)), requires_grad=True)
    w = data((2, 3, 4), seed=1)
    (rt.flip(x, (0, 2)) * rt.tensor(w)).sum().backward()
    (torch.flip(tx, (0, 2)) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    y = rt.tensor(data((2, 3)))
    y0 = y.numpy().copy()
    f = rt.flip(y, 0)
    assert f.numpy().tolist() == y0[::-1].tolist()
    assert y.numpy().tolist() == y0.tolist()  # a copy, input untouched
    with pytest.raises(ShapeError, match=r"flip\(\).*appears multiple times.*shape=\(2, 3\)"):
        rt.flip(y, (0, 0))
    with pytest.raises(ShapeError, match="appears multiple times"):
        rt.flip(y, (1, -1))
    with pytest.raises(IndexingError, match="flip"):
        rt.flip(y, (2,))
    with pytest.raises(DTypeError, match="must be a Tensor"):
        rt.flip([1.0], (0,))


# ---- new_* / type_as -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_new_methods(dtype):
    x, tx = both(data((2, 3), dtype))
    for args in [(2, 3), ((2, 3),), ([4],), (0,), ((),)]:
        assert_same(x.new_zeros(*args), tx.new_zeros(*args))
        assert_same(x.new_ones(*args), tx.new_ones(*args))
        r, t = x.new_empty(*args), tx.new_empty(*args)
        assert tuple(r.shape) == tuple(t.shape) and dtname(r.dtype) == dtname(t.dtype)
    for v in (3, 2.5, True):
        assert_same(x.new_full((2,), v), tx.new_full((2,), v))
    assert_same(x.new_tensor([1, 2]), tx.new_tensor([1, 2]))
    assert_same(x.new_tensor([[1.5, 0.0]]), tx.new_tensor([[1.5, 0.0]]))
    assert_same(x.new_tensor([1, 0], dtype=rt.int64), tx.new_tensor([1, 0], dtype=torch.int64))
    assert_same(x.new_zeros(2, dtype=rt.float32), tx.new_zeros(2, dtype=torch.float32))
    assert_same(x.new_ones(2, dtype=rt.bool), tx.new_ones(2, dtype=torch.bool))
    for other, tother in [both(data((1,), d)) for d in ("float32", "int64", "bool")]:
        assert_same(x.type_as(other), tx.type_as(tother))


def test_new_methods_grad_and_errors():
    x = rt.ones(2, requires_grad=True)
    z = x.new_zeros(3, requires_grad=True)
    assert z.requires_grad and z.is_leaf and z.dtype == rt.float32
    c = x.new_tensor(x)
    assert not c.requires_grad and c.grad_fn is None
    c.add_(1.0)
    assert x.detach().numpy().tolist() == [1.0, 1.0]  # a copy
    assert x.type_as(rt.ones(1)) is x
    with pytest.raises(ShapeError, match="negative dimension"):
        x.new_zeros(-1)
    with pytest.raises(DTypeError, match="type_as"):
        x.type_as(1.0)
