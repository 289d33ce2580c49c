"""log1p, expm1, log2, log10, rounding, inverse/hyperbolic trig, erf, isnan/isinf/isfinite and
softplus against torch: forward (special values, dtypes, shapes), backward, gradcheck, errors."""

import math

import numpy as np
import pytest

import rustorch as rt
from rustorch.errors import DTypeError

torch = pytest.importorskip("torch")

INF, NAN = float("inf"), float("nan")

# float ops with a real (or zero) gradient: name -> (ulps allowed against torch, domain for
# backward tests: "any", "pos" (x > 0), "unit" (|x| < 1), "gt-1" (x > -1))
TRANSCENDENTAL = {
    "log1p": (2, "gt-1"),
    "expm1": (2, "any"),
    "log2": (2, "pos"),
    "log10": (2, "pos"),
    "tan": (3, "any"),
    "asin": (2, "unit"),
    "acos": (2, "unit"),
    "atan": (2, "any"),
    "sinh": (3, "any"),
    "cosh": (3, "any"),
    "erf": (2, "any"),
}
ROUNDING = ["floor", "ceil", "round", "trunc", "frac"]
CLASSIFY = ["isnan", "isinf", "isfinite"]
ALL = list(TRANSCENDENTAL) + ROUNDING + CLASSIFY

EDGE = [
    0.0, -0.0, INF, -INF, NAN, 1e-7, -1e-7, 3e-9, -2.5e-8, 1e-30, -1e-38, 1e-45,
    0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5, 0.49999997, -0.49999997,
    1.0, -1.0, 0.3, -0.9, 0.999, -0.999, 2.0, 8.0, 10.0, 1000.0, 3.7, -3.7, 12.25,
    20.0, 50.0, 88.0, 89.0, -88.0, -100.0, 8388609.0, -8388609.5, 1e30, -1e30,
]  # fmt: skip


def ordered(x):
    """float32 bits as integers ordered like the floats (so ulp distance is a difference)."""
    i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def dtname(dt):
    return str(dt).split(".")[-1]


def assert_same(r, t, ulps=0, signed_zero=True):
    """rustorch result r equals torch result t: shape, dtype, NaN/inf positions, values to ulps."""
    assert isinstance(r, rt.Tensor), type(r)
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    assert dtname(r.dtype) == dtname(t.dtype), (r.dtype, t.dtype)
    a = np.asarray(r.detach().numpy())
    b = t.detach().numpy()
    if a.dtype != np.float32:
        np.testing.assert_array_equal(a, b)
        return
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg="NaN positions differ")
    inf = np.isinf(b)
    np.testing.assert_array_equal(a[inf], b[inf])
    fin = np.isfinite(b)
    assert np.isfinite(a[fin]).all(), "rustorch gives inf/nan where torch is finite"
    d = np.abs(ordered(a[fin]) - ordered(b[fin]))
    assert d.size == 0 or d.max() <= ulps, (
        f"max ulp error {d.max()} > {ulps} at x index {np.argmax(d)}: {a[fin][np.argmax(d)]!r} "
        f"vs torch {b[fin][np.argmax(d)]!r}"
    )
    if signed_zero:
        z = b == 0
        np.testing.assert_array_equal(np.signbit(a[z]), np.signbit(b[z]), err_msg="sign of 0")


def tfn(name):
    return getattr(torch, name)


# torch's vectorised float32 sinh/cosh compute exp(|x|) / 2 and overflow to inf for
# 88.72 < |x| <= 89.41, where the true result (and torch's own scalar path, e.g. on a 0-d
# tensor) is finite; rustorch returns the finite value, so these two are compared with torch's
# float64 result rounded to float32.
F64_REFERENCE = {"sinh", "cosh"}


def torch_ref(name, x):
    if name in F64_REFERENCE:
        return tfn(name)(torch.tensor(x, dtype=torch.float64)).float()
    return tfn(name)(torch.tensor(x))


def rfn(name):
    return getattr(rt, name)


def sample(n, seed, domain="any"):
    rng = np.random.default_rng(seed)
    # log-uniform magnitudes from 1e-8 to 1e2 with random signs, plus small uniform values
    mag = 10.0 ** rng.uniform(-8, 2, n)
    x = np.where(rng.random(n) < 0.5, -mag, mag)
    x[: n // 4] = rng.uniform(-3, 3, n // 4)
    if domain == "pos":
        x = np.abs(x) + 1e-3
    elif domain == "unit":
        x = np.clip(x, -0.95, 0.95)
    elif domain == "gt-1":
        x = np.where(x <= -0.95, np.abs(x), x)
    return x.astype(np.float32)


# ---- forward: float32 ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_forward_edge_values(name):
    x = np.array(EDGE, np.float32)
    ulps = TRANSCENDENTAL.get(name, (0, None))[0]
    r = rfn(name)(rt.tensor(x))
    assert_same(r, torch_ref(name, x), ulps=ulps)


@pytest.mark.parametrize("name", ALL)
def test_forward_random_vs_torch(name):
    x = sample(20000, seed=len(name))
    ulps = TRANSCENDENTAL.get(name, (0, None))[0]
    assert_same(rfn(name)(rt.tensor(x)), torch_ref(name, x), ulps=ulps)


@pytest.mark.parametrize("name", ["sinh", "cosh"])
def test_sinh_cosh_near_overflow(name):
    x = np.array([88.5, 89.0, 89.4, 89.5, -89.0], np.float32)
    with np.errstate(over="ignore"):  # sinh/cosh(89.5) is beyond float32
        want = np.array([getattr(math, name)(float(v)) for v in x]).astype(np.float32)
    got = rfn(name)(rt.tensor(x)).numpy()
    np.testing.assert_array_equal(np.isinf(got), [False, False, False, True, False])
    np.testing.assert_allclose(got, want, rtol=3e-7)
    # torch agrees on a 0-d tensor (its scalar path)
    assert_same(rfn(name)(rt.tensor(x[1])), tfn(name)(torch.tensor(x[1])), ulps=2)


@pytest.mark.parametrize("name", ALL)
def test_method_matches_function_and_torch(name):
    x = sample(64, seed=7).reshape(4, 4, 4)
    r = getattr(rt.tensor(x), name)()
    assert_same(r, getattr(torch.tensor(x), name)(), ulps=TRANSCENDENTAL.get(name, (0,))[0])
    np.testing.assert_array_equal(r.numpy(), rfn(name)(rt.tensor(x)).numpy())


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,)])
def test_zero_dim_and_empty(name, shape):
    x = np.full(shape, 0.75, np.float32)
    r = rfn(name)(rt.tensor(x))
    assert_same(r, tfn(name)(torch.tensor(x)), ulps=TRANSCENDENTAL.get(name, (0,))[0])


def test_large_input_threaded_path():
    x = sample(300000, seed=3)
    old = rt.get_num_threads()
    try:
        rt.set_num_threads(2)
        for name in ["expm1", "log1p", "round", "isfinite", "erf"]:
            assert_same(
                rfn(name)(rt.tensor(x)),
                tfn(name)(torch.tensor(x)),
                ulps=TRANSCENDENTAL.get(name, (0,))[0],
            )
    finally:
        rt.set_num_threads(old)


# ---- accuracy where the naive formula fails ------------------------------------------------
TINY = [1e-7, -1e-7, 3e-9, -3e-9, 1e-12, 5.9604645e-08, -2.9802322e-08, 1e-4, -1e-4, 1e-20]


@pytest.mark.parametrize(
    "name,ref", [("log1p", math.log1p), ("expm1", math.expm1)], ids=["log1p", "expm1"]
)
def test_small_arguments_accurate(name, ref):
    x = np.array(TINY, np.float32)
    got = rfn(name)(rt.tensor(x)).numpy()
    want = np.array([ref(float(v)) for v in x], np.float32)  # float64 reference, rounded
    d = np.abs(ordered(got) - ordered(want))
    assert d.max() <= 1, (got, want)
    # the naive formulas are far off here, so this test does tell them apart
    naive = (rt.log(rt.tensor(x) + 1.0) if name == "log1p" else rt.exp(rt.tensor(x)) - 1.0).numpy()
    assert np.abs(ordered(naive) - ordered(want)).max() > 1000


def test_log2_log10_exact_at_powers():
    p2 = np.array([2.0**k for k in range(-149, 128, 7)], np.float32)
    np.testing.assert_array_equal(rt.log2(rt.tensor(p2)).numpy(), np.log2(p2.astype(np.float64)))
    np.testing.assert_array_equal(
        rt.log10(rt.tensor([1.0, 10.0, 100.0, 1e4])).numpy(), [0, 1, 2, 4]
    )


def test_round_half_to_even():
    x = np.array([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 4.5, 1e7 + 0.5], np.float32)
    np.testing.assert_array_equal(
        rt.round(rt.tensor(x)).numpy(), np.array([0, 2, 2, 4, -0, -2, -2, -4, 4, 1e7], np.float32)
    )
    assert np.signbit(rt.round(rt.tensor([-0.5])).numpy()[0])
    assert_same(rt.round(rt.tensor(x), decimals=0), torch.round(torch.tensor(x), decimals=0))
    assert_same(rt.tensor(x).round(decimals=0), torch.tensor(x).round(decimals=0))


def test_frac_sign_and_specials():
    x = np.array([-2.25, 2.25, -0.0, 3.0, INF, -INF, NAN], np.float32)
    assert_same(rt.frac(rt.tensor(x)), torch.frac(torch.tensor(x)))
    np.testing.assert_array_equal(rt.frac(rt.tensor(x)).numpy()[:2], [-0.25, 0.25])


# ---- int64 / bool inputs -----------------------------------------------------------------------
INT_VALUES = np.array([-3, -1, 0, 1, 2, 5, 2**40], np.int64)
BOOL_VALUES = np.array([True, False, True])


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("kind", ["int64", "bool"])
def test_integer_and_bool_inputs(name, kind):
    x = INT_VALUES if kind == "int64" else BOOL_VALUES
    try:
        t = tfn(name)(torch.tensor(x))
    except (RuntimeError, NotImplementedError, TypeError):
        t = None
    if t is None:
        with pytest.raises(DTypeError, match=name):
            rfn(name)(rt.tensor(x))
        return
    r = rfn(name)(rt.tensor(x))
    assert_same(r, t, ulps=TRANSCENDENTAL.get(name, (0,))[0])


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_int64_returns_a_copy(name):
    src = rt.tensor(INT_VALUES)
    r = rfn(name)(src)
    assert r.dtype == rt.int64
    np.testing.assert_array_equal(r.numpy(), INT_VALUES)
    assert not np.shares_memory(r.numpy(), src.numpy())


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_classify_shapes_int(name):
    for shape in [(), (0,), (2, 3)]:
        x = np.zeros(shape, np.int64)
        assert_same(rfn(name)(rt.tensor(x)), tfn(name)(torch.tensor(x)))


# ---- backward ----------------------------------------------------------------------------------
def _domain_values(domain, seed):
    x = sample(12, seed, domain).reshape(3, 4)
    if domain == "any":
        x = np.clip(x, -5, 5)  # keep sinh/cosh/expm1 gradients moderate
    if domain == "pos":
        x = np.clip(x, 1e-2, 50)
    return x.astype(np.float32)


@pytest.mark.parametrize("name", list(TRANSCENDENTAL))
def test_backward_vs_torch(name):
    x = _domain_values(TRANSCENDENTAL[name][1], seed=11)
    g = np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    xr = rt.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yr = rfn(name)(xr)
    yt = tfn(name)(xt)
    assert yr.requires_grad
    assert yr.grad_fn.name() == yt.grad_fn.name()
    yr.backward(rt.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ROUNDING)
def test_backward_rounding_vs_torch(name):
    x = _domain_values("any", seed=12)
    xr = rt.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    g = np.array([[INF, -INF, NAN, 1.0], [2.0, 3.0, 4.0, 5.0], [1, 1, 1, 1]], np.float32)
    rfn(name)(xr).backward(rt.tensor(g))
    tfn(name)(xt).backward(torch.tensor(g))
    assert_same(xr.grad, xt.grad)  # floor..trunc: zeros even for inf/nan g; frac: g itself


@pytest.mark.parametrize("name", list(TRANSCENDENTAL) + ["frac"])
def test_gradcheck(name):
    domain = TRANSCENDENTAL.get(name, (0, "any"))[1]
    x = _domain_values(domain, seed=13)
    if name == "frac":  # stay away from the jumps at integers
        x = np.floor(x) + 0.5 + 0.3 * np.tanh(x)
    if domain == "any" and name in ("sinh", "cosh", "expm1", "tan"):
        x = np.clip(x, -1.2, 1.2)
    if domain == "pos":
        x = np.maximum(x, 0.5)
    assert rt.autograd.gradcheck(rfn(name), (rt.tensor(x.astype(np.float32), requires_grad=True),))


def test_gradcheck_detects_wrong_gradient():
    # gradcheck itself is able to fail on a gradient that is off (so the tests above can fail)
    x = rt.tensor(np.linspace(0.1, 0.9, 6, dtype=np.float32), requires_grad=True)
    ok = rt.autograd.gradcheck(lambda v: rt.floor(v) + v * v, (x,), raise_exception=False)
    assert ok  # floor's zero gradient is right away from the jumps
    bad = rt.autograd.gradcheck(lambda v: rt.erf(v).detach() + v, (x,), raise_exception=False)
    assert not bad


@pytest.mark.parametrize("name", CLASSIFY)
def test_classify_no_autograd(name):
    x = rt.tensor([1.0, NAN, INF], requires_grad=True)
    r = rfn(name)(x)
    assert r.dtype == rt.bool
    assert not r.requires_grad and r.grad_fn is None


def test_float_ops_on_ints_have_float_result_and_no_grad_leak():
    r = rt.log1p(rt.tensor([0, 1, 2]))
    assert r.dtype == rt.float32 and not r.requires_grad


# ---- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_bool_refused(name):
    with pytest.raises(DTypeError, match=rf"{name}\(\).*shape=\(3,\).*bool"):
        rfn(name)(rt.tensor(BOOL_VALUES))
    with pytest.raises(NotImplementedError):
        tfn(name)(torch.tensor(BOOL_VALUES))


def test_frac_int_refused():
    with pytest.raises(DTypeError, match=r"frac\(\).*shape=\(7,\).*int64"):
        rt.frac(rt.tensor(INT_VALUES))
    with pytest.raises(DTypeError, match="frac"):
        rt.tensor(INT_VALUES).frac()


def test_round_decimals():
    x = rt.tensor([1.2345, 2.5])
    with pytest.raises(DTypeError, match=r"round\(\).*decimals=2.*shape=\(2,\)"):
        rt.round(x, decimals=2)
    with pytest.raises(DTypeError, match="decimals"):
        x.round(decimals=-1)
    with pytest.raises(DTypeError, match="decimals"):
        rt.round(x, decimals=0.5)
    # torch: round(int64) is the input, round(int64, decimals=0) is not implemented
    with pytest.raises(NotImplementedError):
        torch.round(torch.tensor([1, 2]), decimals=0)
    with pytest.raises(DTypeError, match=r"round\(\).*int64"):
        rt.round(rt.tensor([1, 2]), decimals=0)
    with pytest.raises(TypeError):
        rt.round(x, 0)  # decimals is keyword-only, like torch


@pytest.mark.parametrize("name", ALL)
def test_non_tensor_input_refused(name):
    with pytest.raises(DTypeError, match=name):
        rfn(name)("not a tensor")


# ---- softplus ----------------------------------------------------------------------------------
F = rt.nn.functional


@pytest.mark.parametrize(
    "beta,threshold", [(1.0, 20.0), (2.0, 10.0), (0.5, 20.0), (3, 5), (1.0, 0.0), (-1.0, 20.0)]
)
def test_softplus_forward(beta, threshold):
    x = np.concatenate(
        [np.array(EDGE, np.float32), np.linspace(-30, 30, 121, dtype=np.float32), sample(500, 2)]
    )
    r = F.softplus(rt.tensor(x), beta=beta, threshold=threshold)
    t = torch.nn.functional.softplus(torch.tensor(x), beta=beta, threshold=threshold)
    assert_same(r, t, ulps=3, signed_zero=False)


def test_softplus_threshold_switch_and_large():
    x = rt.tensor([19.9, 20.0, 20.1, 100.0, -100.0])
    want = np.array([20.0, 20.1, 100.0], np.float32)  # beta * x > threshold: x itself
    np.testing.assert_array_equal(F.softplus(x).numpy()[1:4], want)
    assert F.softplus(x).numpy()[4] > 0  # log1p(exp(-100)) is a tiny subnormal, not 0
    assert_same(F.softplus(x), torch.nn.functional.softplus(torch.tensor(x.numpy())), ulps=2)


@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 1.0), (0.5, 2.0)])
def test_softplus_backward(beta, threshold):
    x = np.linspace(-8, 8, 33, dtype=np.float32).reshape(3, 11)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    xr = rt.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    F.softplus(xr, beta, threshold).backward(rt.tensor(g))
    torch.nn.functional.softplus(xt, beta, threshold).backward(torch.tensor(g))
    np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_softplus_gradcheck_and_module():
    x = rt.tensor(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    assert rt.autograd.gradcheck(lambda v: F.softplus(v, beta=1.5), (x,))
    m = rt.nn.Softplus(beta=2, threshold=10.0)
    assert (
        repr(m)
        == repr(torch.nn.Softplus(beta=2, threshold=10.0))
        == ("Softplus(beta=2, threshold=10.0)")
    )
    y = m(x)
    assert y.requires_grad and y.grad_fn is not None
    xt = torch.tensor(x.detach().numpy())
    assert_same(y, torch.nn.Softplus(beta=2, threshold=10.0)(xt), ulps=2, signed_zero=False)
    assert "Softplus" in rt.nn.__all__ and "softplus" in F.__all__


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_softplus_shapes(shape):
    x = np.full(shape, 0.25, np.float32)
    assert_same(F.softplus(rt.tensor(x)), torch.nn.functional.softplus(torch.tensor(x)), ulps=2)


def test_softplus_errors():
    with pytest.raises(DTypeError, match=r"softplus\(\).*shape=\(7,\).*int64"):
        F.softplus(rt.tensor(INT_VALUES))
    with pytest.raises(DTypeError, match=r"softplus\(\).*bool"):
        F.softplus(rt.tensor(BOOL_VALUES))
    with pytest.raises(DTypeError, match="softplus"):
        F.softplus([1.0, 2.0])
    with pytest.raises(DTypeError, match=r"softplus\(\).*'beta'.*shape=\(1,\)"):
        F.softplus(rt.tensor([1.0]), beta="2")
