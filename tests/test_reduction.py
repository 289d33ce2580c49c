"""Reductions against torch: values, dims, keepdim, ties, NaN, dtypes, zero-size, gradients."""

import numpy as np
import pytest

import rustorch as rt

torch = pytest.importorskip("torch")


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


def data(shape, dtype="float32", seed=0, ties=False):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        if ties:
            return rng.integers(-2, 3, size=shape).astype(np.float32)
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == "int64":
        return rng.integers(-50, 50, size=shape).astype(np.int64)
    return rng.integers(0, 2, size=shape).astype(bool)


def both(a, requires_grad=False):
    return rt.tensor(a.copy(), requires_grad=requires_grad), torch.tensor(
        a.copy(), requires_grad=requires_grad
    )


SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 4), (2, 1, 3, 2)]


def dim_args(ndim):
    """(dim, keepdim) combinations valid for a tensor of ndim dims."""
    out = [(None, False)]
    n = max(ndim, 1)
    for d in range(-n, n):
        out += [(d, False), (d, True)]
    if ndim >= 2:
        out += [((0, 1), False), ((0, -1), True), ((-1, 0), False)]
    if ndim >= 3:
        out += [((0, 2), False), ((1, 2), True), (tuple(range(ndim)), False), ((), False)]
    return out


# ---- sum / mean ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_sum_vs_torch(shape, dtype):
    a = data(shape, dtype, seed=1)
    r, t = both(a)
    for dim, keep in dim_args(len(shape)):
        if dim is None:
            assert_same(rt.sum(r), torch.sum(t))
            assert_same(r.sum(), t.sum())
        else:
            assert_same(rt.sum(r, dim, keepdim=keep), torch.sum(t, dim, keepdim=keep))
            assert_same(r.sum(dim=dim, keepdim=keep), t.sum(dim=dim, keepdim=keep))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_mean_vs_torch(shape):
    a = data(shape, seed=2)
    r, t = both(a)
    for dim, keep in dim_args(len(shape)):
        if dim is None:
            assert_same(r.mean(), t.mean())
        else:
            assert_same(rt.mean(r, dim, keepdim=keep), torch.mean(t, dim, keepdim=keep))


def test_sum_dtype_argument():
    r, t = both(data((3, 4), "int64"))
    assert_same(rt.sum(r, dtype=rt.float32), torch.sum(t, dtype=torch.float32))
    rb, tb = both(data((5,), "bool"))
    assert_same(rt.sum(rb, dtype=rt.float32), torch.sum(tb, dtype=torch.float32))
    rf, tf = both(data((3,)))
    assert_same(rt.sum(rf, 0, dtype=rt.float32), torch.sum(tf, 0, dtype=torch.float32))


def test_mean_of_ints_raises():
    for dt in ("int64", "bool"):
        r, t = both(data((3,), dt))
        with pytest.raises(RuntimeError):
            t.mean()
        with pytest.raises(rt.DTypeError) as ei:
            r.mean()
        assert "mean" in str(ei.value) and "(3,)" in str(ei.value)


def test_large_sums_accurate():
    # long enough for the chunked/parallel path; compare with a float64 reference
    a = (np.random.default_rng(3).standard_normal(1_000_003) + 0.5).astype(np.float32)
    r = rt.tensor(a)
    ref = a.astype(np.float64).sum()
    assert abs(r.sum().item() - ref) <= 1e-5 * np.abs(a).sum()
    assert abs(r.mean().item() - ref / a.size) < 1e-5
    m = a[:999_999].reshape(1001, 999)
    np.testing.assert_allclose(
        rt.tensor(m).sum(0).numpy(), m.astype(np.float64).sum(0), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        rt.tensor(m).sum(1).numpy(), m.astype(np.float64).sum(1), rtol=1e-4, atol=1e-4
    )
    i = np.full(300_000, 2**40, np.int64)
    assert rt.tensor(i).sum().item() == 300_000 * 2**40
    ones = rt.ones(2**24 + 1000)
    assert ones.sum().item() == float(2**24 + 1000)  # no float32 accumulation stall


def test_sum_mean_special_values():
    a = np.array([[1.0, np.nan, 2.0], [np.inf, 1.0, -np.inf], [np.inf, np.inf, 3.0]], np.float32)
    r, t = both(a)
    for dim in (None, 0, 1):
        kw = {} if dim is None else {"dim": dim}
        assert_same(r.sum(**kw), t.sum(**kw))
        assert_same(r.mean(**kw), t.mean(**kw))


# ---- max / min / amax / amin / argmax / argmin -------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("ties", [False, True])
def test_extremes_vs_torch(shape, dtype, ties):
    a = data(shape, dtype, seed=4, ties=ties)
    r, t = both(a)
    for mod in ("max", "min"):
        assert_same(getattr(rt, mod)(r), getattr(torch, mod)(t))
        am = "a" + mod
        for dim, keep in dim_args(len(shape)):
            if dim is None:
                assert_same(getattr(rt, am)(r), getattr(torch, am)(t))
                continue
            assert_same(
                getattr(rt, am)(r, dim, keepdim=keep), getattr(torch, am)(t, dim, keepdim=keep)
            )
            if isinstance(dim, int):
                rv, ri = getattr(rt, mod)(r, dim, keepdim=keep)
                tv, ti = getattr(torch, mod)(t, dim, keepdim=keep)
                assert_same(rv, tv)
                assert_same(ri, ti)
                res = getattr(r, mod)(dim=dim, keepdim=keep)
                assert_same(res.values, tv) and assert_same(res.indices, ti)
        for arg in ("argmax", "argmin"):
            if dtype == "bool":
                continue  # torch does not implement argmax for bool
            for dim, keep in dim_args(len(shape)):
                if isinstance(dim, tuple):
                    continue
                assert_same(
                    getattr(rt, arg)(r, dim=dim, keepdim=keep),
                    getattr(torch, arg)(t, dim=dim, keepdim=keep),
                )


def test_ties_pick_first_index():
    a = np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 0.0, -1.0, 0.0], [5.0, 5.0, 5.0, 5.0]], np.float32)
    r, t = both(a)
    for dim in (0, 1):
        assert_same(r.argmax(dim), t.argmax(dim))
        assert_same(r.argmin(dim), t.argmin(dim))
        assert_same(r.max(dim).indices, t.max(dim).indices)
        assert_same(r.min(dim).indices, t.min(dim).indices)
    assert r.argmax().item() == 8 == t.argmax().item()
    assert r.argmin().item() == 6
    np.testing.assert_array_equal(r.max(1).indices.numpy(), [0, 0, 0])
    # long rows exercise the vectorised kernels
    big = np.zeros(10_000, np.float32)
    big[[1234, 5678, 9999]] = 7.0
    rb, tb = both(big)
    assert rb.argmax().item() == 1234 == tb.argmax().item()
    assert rb.argmin().item() == 0


def test_nan_handling_vs_torch():
    a = np.array(
        [[1.0, np.nan, 3.0, np.nan], [-1.0, -2.0, -3.0, -4.0], [np.nan, 0.0, np.inf, -np.inf]],
        np.float32,
    )
    r, t = both(a)
    assert_same(r.max(), t.max())
    assert_same(r.amin(), t.amin())
    for dim in (0, 1, -1):
        for fn in ("amax", "amin", "argmax", "argmin"):
            assert_same(getattr(r, fn)(dim), getattr(t, fn)(dim))
        for fn in ("max", "min"):
            rv, ri = getattr(r, fn)(dim)
            tv, ti = getattr(t, fn)(dim)
            assert_same(rv, tv)
            assert_same(ri, ti)
    assert r.argmax().item() == t.argmax().item() == 1
    assert r.argmin().item() == t.argmin().item() == 1
    long = np.arange(5000, dtype=np.float32)
    long[3333] = np.nan
    rl, tl = both(long)
    assert_same(rl.max(), tl.max())
    assert rl.argmax().item() == tl.argmax().item() == 3333
    assert rl.argmin().item() == tl.argmin().item() == 3333


def test_signed_zero_and_inf_extremes():
    a = np.array([-0.0, 0.0, -np.inf, np.inf, 3.0e38], np.float32)
    r, t = both(a)
    assert_same(r.max(), t.max())
    assert_same(r.min(), t.min())
    assert r.argmax().item() == t.argmax().item()
    assert r.argmin().item() == t.argmin().item()


def test_int64_extremes_exact():
    a = np.array([2**62, -(2**62), 2**62 + 1, 5], np.int64)
    r, t = both(a)
    assert r.max().item() == 2**62 + 1
    assert_same(r.argmax(), t.argmax())
    assert_same(r.amin(), t.amin())
    assert_same(r.sum(), t.sum())


def test_max_with_other_tensor_is_maximum():
    ra, ta = both(data((3,), seed=5))
    rb, tb = both(data((3,), seed=6))
    assert_same(rt.max(ra, rb), torch.max(ta, tb))
    assert_same(rt.min(ra, rb), torch.min(ta, tb))


# ---- zero-size ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)], ids=str)
def test_zero_size_sum_mean(shape):
    r, t = both(np.zeros(shape, np.float32))
    assert_same(r.sum(), t.sum())
    assert_same(r.mean(), t.mean())
    for d in range(len(shape)):
        for keep in (False, True):
            assert_same(r.sum(d, keepdim=keep), t.sum(d, keepdim=keep))
            assert_same(r.mean(d, keepdim=keep), t.mean(d, keepdim=keep))
    ri, ti = both(np.zeros(shape, np.int64))
    assert_same(ri.sum(), ti.sum())


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)], ids=str)
def test_zero_size_extremes(shape):
    r, t = both(np.zeros(shape, np.float32))
    for fn in ("max", "min", "amax", "amin", "argmax", "argmin"):
        with pytest.raises((RuntimeError, IndexError)):
            getattr(t, fn)()
        with pytest.raises(rt.ShapeError) as ei:
            getattr(r, fn)()
        assert fn in str(ei.value)
    for d in range(len(shape)):
        for fn in ("amax", "amin", "argmax", "argmin", "max", "min"):
            try:
                tres = getattr(t, fn)(d)
            except (RuntimeError, IndexError):
                with pytest.raises(rt.ShapeError) as ei:
                    getattr(r, fn)(d)
                assert fn in str(ei.value) and str(tuple(shape)) in str(ei.value)
                continue
            rres = getattr(r, fn)(d)
            if fn in ("max", "min"):
                assert_same(rres.values, tres.values)
                assert_same(rres.indices, tres.indices)
            else:
                assert_same(rres, tres)


# ---- errors -------------------------------------------------------------------------------------
def test_reduction_dim_errors():
    r = rt.zeros(2, 3)
    for fn in (rt.sum, rt.mean, rt.amax, rt.amin, rt.argmax, rt.argmin):
        with pytest.raises(rt.IndexingError) as ei:
            fn(r, 2)
        assert isinstance(ei.value, IndexError)
        assert "out of range" in str(ei.value) and fn.__name__ in str(ei.value)
        with pytest.raises(IndexError):
            fn(r, -3)
    with pytest.raises(IndexError):
        r.max(5)
    with pytest.raises(rt.DTypeError):
        r.sum((0, 0))
    with pytest.raises(rt.DTypeError):
        r.sum("a")
    with pytest.raises(rt.DTypeError):
        rt.sum([1, 2])
    with pytest.raises(rt.TorchError):
        r.max(keepdim=True)
    # a 0-d tensor accepts dim 0 and -1, like torch
    z, tz = both(np.array(2.5, np.float32))
    for d in (0, -1):
        assert_same(z.sum(d), tz.sum(d))
        assert_same(z.amax(d), tz.amax(d))
        assert_same(z.argmax(d), tz.argmax(d))
        assert_same(z.max(d).indices, tz.max(d).indices)
    with pytest.raises(IndexError):
        z.sum(1)


def test_any_all():
    for vals in ([0, 0], [0, 3], [1, 2], []):
        r, t = rt.tensor(vals), torch.tensor(vals)
        assert_same(r.any(), t.any())
        assert_same(r.all(), t.all())
    rf, tf = both(np.array([0.0, np.nan], np.float32))
    assert_same(rf.any(), tf.any())
    assert_same(rf.all(), tf.all())


# ---- gradients ----------------------------------------------------------------------------------
def grad_pair(fn, a, gout_seed=9):
    r, t = both(a, requires_grad=True)
    ro, to = fn(rt, r), fn(torch, t)
    assert_same(ro, to)
    g = np.random.default_rng(gout_seed).standard_normal(tuple(to.shape)).astype(np.float32)
    ro.backward(rt.tensor(g))
    to.backward(torch.tensor(g))
    assert r.grad is not None and r.grad.shape == tuple(t.shape)
    np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
    return r, t


@pytest.mark.parametrize("shape", SHAPES[1:] + [(0, 3)], ids=str)
def test_sum_mean_grads_vs_torch(shape):
    a = data(shape, seed=10)
    for dim, keep in dim_args(len(shape)):
        if dim is None:
            grad_pair(lambda m, x: x.sum(), a)
            if np.prod(shape):
                grad_pair(lambda m, x: x.mean(), a)
            continue
        grad_pair(lambda m, x, d=dim, k=keep: x.sum(d, keepdim=k), a)
        grad_pair(lambda m, x, d=dim, k=keep: m.mean(x, d, keepdim=k) * 3, a)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)], ids=str)
def test_extreme_grads_vs_torch(shape, ties):
    a = data(shape, seed=11, ties=ties)
    grad_pair(lambda m, x: x.max(), a)
    grad_pair(lambda m, x: x.min(), a)
    for dim, keep in dim_args(len(shape)):
        if dim is None:
            grad_pair(lambda m, x: m.amax(x), a)
            continue
        grad_pair(lambda m, x, d=dim, k=keep: m.amax(x, d, keepdim=k), a)
        grad_pair(lambda m, x, d=dim, k=keep: m.amin(x, d, keepdim=k), a)
        if isinstance(dim, int):
            grad_pair(lambda m, x, d=dim, k=keep: x.max(d, keepdim=k).values, a)
            grad_pair(lambda m, x, d=dim, k=keep: m.min(x, d, keepdim=k)[0], a)


def test_amax_tie_splitting_and_max_dim_routing():
    a = np.array([[2.0, 5.0, 5.0], [1.0, 1.0, 1.0]], np.float32)
    r, _ = grad_pair(lambda m, x: m.amax(x, 1), a, gout_seed=0)
    g = np.random.default_rng(0).standard_normal(2).astype(np.float32)
    np.testing.assert_allclose(r.grad.numpy(), [[0, g[0] / 2, g[0] / 2], [g[1] / 3] * 3], rtol=1e-6)
    r, _ = grad_pair(lambda m, x: x.max(1).values, a, gout_seed=0)
    # max(dim) routes the whole gradient to the (first) index it returned
    np.testing.assert_allclose(r.grad.numpy(), [[0, g[0], 0], [g[1], 0, 0]], rtol=1e-6)
    r, _ = grad_pair(lambda m, x: x.max(), a)
    np.testing.assert_allclose(r.grad.numpy().sum(), r.grad.numpy()[0, 1:].sum())


def test_extreme_grads_with_nan():
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np.float32)
    grad_pair(lambda m, x: x.max(1).values, a)
    grad_pair(lambda m, x: x.max(), a)
    # torch's amax backward gives the whole NaN row NaN gradients (its x == result mask is all
    # False there, so it divides 0 by 0); rustorch routes the gradient to the NaN, like max()
    x = rt.tensor(a, requires_grad=True)
    x.amax(1).backward(rt.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [0, 0, 1]])


def test_reduction_grad_fn_names():
    x = rt.ones(2, 3, requires_grad=True)
    tx = torch.ones(2, 3, requires_grad=True)
    for f in (
        lambda m, v: v.sum(),
        lambda m, v: v.sum(0),
        lambda m, v: v.mean(),
        lambda m, v: v.mean(1),
        lambda m, v: v.amax(1),
        lambda m, v: v.amin(),
        lambda m, v: v.max(),
        lambda m, v: v.min(),
        lambda m, v: v.max(0)[0],
        lambda m, v: v.min(1)[0],
    ):
        assert f(rt, x).grad_fn.name() == f(torch, tx).grad_fn.name()
    assert x.max(0).indices.grad_fn is None
    assert x.argmax().grad_fn is None


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.sum(),
        lambda x: x.sum(1),
        lambda x: x.sum((0, 2), keepdim=True),
        lambda x: x.mean(-1),
        lambda x: x.mean(),
        lambda x: x.amax(0),
        lambda x: x.amin((1, 2)),
        lambda x: x.max(),
        lambda x: x.max(1).values,
        lambda x: x.min(-1, keepdim=True)[0],
    ],
)
def test_gradcheck_reductions(fn):
    # distinct values so max/min are differentiable at the test point
    a = np.random.default_rng(12).permutation(24).astype(np.float32).reshape(2, 3, 4) / 4
    x = rt.tensor(a, requires_grad=True)
    assert rt.autograd.gradcheck(fn, (x,))
