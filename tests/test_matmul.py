"""matmul / mm / bmm / dot / mv against torch: shape rules, values, gradients, errors."""

import numpy as np
import pytest

import rustorch as rt

torch = pytest.importorskip("torch")


def both(a, requires_grad=False):
    return rt.tensor(a.copy(), requires_grad=requires_grad), torch.tensor(
        a.copy(), requires_grad=requires_grad
    )


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def close(r, t, rtol=1e-4, atol=1e-4):
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    assert r.dtype is rt.float32
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


SHAPE_PAIRS = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((1, 1), (1, 1)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (1, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 5)),
    ((3, 1, 2, 3), (1, 4, 3, 2)),
    ((6, 1, 4, 3), (5, 3, 2)),
    # zero-size
    ((0,), (0,)),
    ((2, 0), (0, 3)),
    ((0, 3), (3, 4)),
    ((2, 3), (3, 0)),
    ((0, 2, 3), (3, 4)),
    ((4, 2, 3), (0, 1, 3, 5)),
    ((0, 2, 3), (1, 3, 4)),
    ((3,), (0, 3, 2)),
    # sizes that cross the kernel's blocking
    ((33, 65), (65, 17)),
    ((2, 70, 130), (130, 9)),
    ((129, 257), (257, 66)),
]


@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS, ids=str)
def test_matmul_forward_and_backward_vs_torch(sa, sb):
    a, b = rand(sa, 1), rand(sb, 2)
    ra, ta = both(a, True)
    rb, tb = both(b, True)
    ro, to = rt.matmul(ra, rb), torch.matmul(ta, tb)
    tol = 1e-4 * max(1, np.sqrt(sa[-1]))
    close(ro, to, rtol=tol, atol=tol)
    close(ra @ rb, to, rtol=tol, atol=tol)
    close(ra.matmul(rb), to, rtol=tol, atol=tol)
    g = rand(tuple(to.shape), 3)
    ro.backward(rt.tensor(g))
    to.backward(torch.tensor(g))
    # gradients are summed back over broadcast batch dims, so their shapes are the inputs'
    close(ra.grad, ta.grad, rtol=tol, atol=tol)
    close(rb.grad, tb.grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS[:15], ids=str)
def test_matmul_one_side_requires_grad(sa, sb):
    a, b = rand(sa, 4), rand(sb, 5)
    for ga, gb in ((True, False), (False, True)):
        ra, ta = both(a, ga)
        rb, tb = both(b, gb)
        (rt.matmul(ra, rb) ** 2).sum().backward()
        (torch.matmul(ta, tb) ** 2).sum().backward()
        for r, t, need in ((ra, ta, ga), (rb, tb, gb)):
            if need:
                close(r.grad, t.grad, rtol=1e-3, atol=1e-3)
            else:
                assert r.grad is None


def test_matmul_special_values_and_exact_integers():
    a = np.array([[1.0, np.nan], [np.inf, 0.0], [2.0, 3.0]], np.float32)
    b = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    ra, ta = both(a)
    rb, tb = both(b)
    r, t = (ra @ rb).numpy(), (ta @ tb).numpy()
    np.testing.assert_array_equal(np.isnan(r), np.isnan(t))
    np.testing.assert_array_equal(r[~np.isnan(r)], t[~np.isnan(t)])
    ia = np.arange(12, dtype=np.float32).reshape(3, 4)
    ib = np.arange(20, dtype=np.float32).reshape(4, 5) - 7
    np.testing.assert_array_equal((rt.tensor(ia) @ rt.tensor(ib)).numpy(), ia @ ib)


def test_matmul_does_not_modify_inputs():
    a, b = rand((4, 3), 6), rand((3, 2), 7)
    ra, rb = rt.tensor(a), rt.tensor(b)
    ra @ rb
    np.testing.assert_array_equal(ra.numpy(), a)
    np.testing.assert_array_equal(rb.numpy(), b)


def test_mm_bmm_dot_mv_vs_torch():
    a, b = rand((4, 3), 8), rand((3, 5), 9)
    cases = [
        (lambda m, x, y: m.mm(x, y), a, b),
        (lambda m, x, y: x.mm(y), a, b),
        (lambda m, x, y: m.bmm(x, y), rand((2, 4, 3), 10), rand((2, 3, 5), 11)),
        (lambda m, x, y: m.dot(x, y), rand((7,), 12), rand((7,), 13)),
        (lambda m, x, y: x.dot(y), rand((0,), 12), rand((0,), 13)),
        (lambda m, x, y: m.mv(x, y), a, rand((3,), 14)),
        (lambda m, x, y: x.mv(y), rand((0, 3), 15), rand((3,), 14)),
    ]
    for fn, x, y in cases:
        rx, tx = both(x, True)
        ry, ty = both(y, True)
        ro, to = fn(rt, rx, ry), fn(torch, tx, ty)
        close(ro, to)
        g = rand(tuple(to.shape), 16)
        ro.backward(rt.tensor(g))
        to.backward(torch.tensor(g))
        close(rx.grad, tx.grad)
        close(ry.grad, ty.grad)


def test_matmul_grad_fn_names():
    a = rt.ones(2, 3, requires_grad=True)
    b = rt.ones(3, 2, requires_grad=True)
    assert (a @ b).grad_fn.name() == "MmBackward0"
    assert rt.mm(a, b).grad_fn.name() == "MmBackward0"
    v = rt.ones(3, requires_grad=True)
    assert (a @ v).grad_fn is not None
    assert not (rt.ones(2, 3) @ rt.ones(3)).requires_grad


def test_matmul_errors_name_both_shapes():
    with pytest.raises(rt.ShapeError) as ei:
        rt.matmul(rt.zeros(2, 3), rt.zeros(4, 5))
    msg = str(ei.value)
    assert "matmul" in msg and "2x3" in msg and "4x5" in msg
    assert "(2, 3)" in msg and "(4, 5)" in msg
    with pytest.raises(RuntimeError):
        torch.matmul(torch.zeros(2, 3), torch.zeros(4, 5))
    with pytest.raises(rt.ShapeError) as ei:
        rt.zeros(3) @ rt.zeros(4)
    assert "(3,)" in str(ei.value) and "(4,)" in str(ei.value)
    with pytest.raises(rt.ShapeError) as ei:
        rt.matmul(rt.zeros(2, 2, 3), rt.zeros(3, 3, 4))
    msg = str(ei.value)
    assert "batch" in msg and "(2,)" in msg and "(3,)" in msg
    with pytest.raises(rt.ShapeError) as ei:
        rt.matmul(rt.tensor(1.0), rt.zeros(3))
    assert "1D" in str(ei.value)
    with pytest.raises(rt.DTypeError) as ei:
        rt.matmul(rt.zeros(2, 2, dtype=rt.int64), rt.zeros(2, 2))
    assert "int64" in str(ei.value)
    with pytest.raises(rt.DTypeError):
        rt.matmul(rt.zeros(2, 2), [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(rt.ShapeError) as ei:
        rt.mm(rt.zeros(2, 3), rt.zeros(4, 5))
    assert "mm" in str(ei.value) and "2x3" in str(ei.value) and "4x5" in str(ei.value)
    with pytest.raises(rt.ShapeError):
        rt.mm(rt.zeros(3), rt.zeros(3, 3))
    with pytest.raises(rt.ShapeError) as ei:
        rt.bmm(rt.zeros(2, 3, 4), rt.zeros(3, 4, 5))
    assert "bmm" in str(ei.value) and "(2, 3, 4)" in str(ei.value)
    with pytest.raises(rt.ShapeError):
        rt.bmm(rt.zeros(3, 4), rt.zeros(4, 5))
    with pytest.raises(rt.ShapeError) as ei:
        rt.dot(rt.zeros(3), rt.zeros(4))
    assert "dot" in str(ei.value)
    with pytest.raises(rt.ShapeError):
        rt.dot(rt.zeros(2, 2), rt.zeros(2, 2))
    with pytest.raises(rt.ShapeError) as ei:
        rt.mv(rt.zeros(3), rt.zeros(3))
    assert "mv" in str(ei.value)
    with pytest.raises(rt.ShapeError):
        rt.mv(rt.zeros(2, 3), rt.zeros(4))


@pytest.mark.parametrize(
    "sa,sb",
    [((3,), (3,)), ((2, 3), (3, 2)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (1, 3, 2))],
    ids=str,
)
def test_gradcheck_matmul(sa, sb):
    a = rt.tensor(rand(sa, 17), requires_grad=True)
    b = rt.tensor(rand(sb, 18), requires_grad=True)
    assert rt.autograd.gradcheck(rt.matmul, (a, b))


def test_rmatmul_with_numpy_and_linear_layer():
    w = rt.tensor(rand((3, 4), 19), requires_grad=True)
    x = rt.tensor(rand((5, 3), 20))
    bias = rt.zeros(4, requires_grad=True)
    tw, tb = (
        torch.tensor(w.detach().numpy(), requires_grad=True),
        torch.zeros(4, requires_grad=True),
    )
    tx = torch.tensor(x.numpy())
    out = rt.relu(x @ w + bias).sum()
    tout = torch.relu(tx @ tw + tb).sum()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-5)
    out.backward()
    tout.backward()
    close(w.grad, tw.grad)
    close(bias.grad, tb.grad)
