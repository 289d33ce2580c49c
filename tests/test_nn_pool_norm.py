"""max/avg/adaptive pooling, batch_norm and dropout (functional and modules) against torch."""

import numpy as np
import pytest

import rustorch as rt
import rustorch.nn as nn
import rustorch.nn.functional as F
from rustorch.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def both(a, rg=True):
    return rt.tensor(a.copy(), requires_grad=rg), torch.tensor(a.copy(), requires_grad=rg)


def close(r, t, tol=1e-4):
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def backward_both(y, ty, seed=9):
    g = rand(tuple(ty.shape), seed)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))


# ---- max_pool2d ---------------------------------------------------------------------------------
MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=2, stride=1),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=2),
    dict(kernel_size=3, stride=1, dilation=(2, 1)),
    dict(kernel_size=(3, 2), stride=3, padding=(1, 0)),
    dict(kernel_size=5, stride=3, padding=2),
    dict(kernel_size=1),
]


@pytest.mark.parametrize("kw", MAX_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9, 11), (1, 2, 8, 40), (3, 7, 7)], ids=str)
def test_max_pool2d_vs_torch(kw, shape):
    x, tx = both(rand(shape, 1))
    y, idx = F.max_pool2d(x, return_indices=True, **kw)
    ty, tidx = TF.max_pool2d(tx, return_indices=True, **kw)
    close(y, ty, 0)
    assert idx.dtype is rt.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    backward_both(y, ty)
    close(x.grad, tx.grad, 1e-6)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool2d_ties_nan_and_inf_like_torch(kw):
    a = np.zeros((1, 2, 6, 20), np.float32)  # all ties: the first element of each window wins
    a[0, 1] = rand((6, 20))
    a[0, 1, 0, :4] = np.nan  # NaN wins (the last NaN in scan order, like torch)
    a[0, 1, 2, 2] = np.nan
    a[0, 1, 3:5, 5:9] = -np.inf  # an all -inf window keeps its first element's index
    a[0, 1, 5, 10:14] = 7.0
    x, tx = both(a)
    y, idx = F.max_pool2d(x, return_indices=True, **kw)
    ty, tidx = TF.max_pool2d(tx, return_indices=True, **kw)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    backward_both(y, ty)
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_pool2d_module_and_gradcheck():
    m = nn.MaxPool2d(3, stride=2, padding=1)
    assert repr(m) == repr(torch.nn.MaxPool2d(3, stride=2, padding=1))
    x = rt.tensor(rand((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda x: m(x), (x,))


# ---- avg_pool2d / adaptive_avg_pool2d ----------------------------------------------------------
AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2)),
    dict(kernel_size=3, padding=1, divisor_override=5),
]


@pytest.mark.parametrize("kw", AVG_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9, 10), (3, 8, 7)], ids=str)
def test_avg_pool2d_vs_torch(kw, shape):
    x, tx = both(rand(shape, 2))
    y, ty = F.avg_pool2d(x, **kw), TF.avg_pool2d(tx, **kw)
    close(y, ty, 1e-5)
    backward_both(y, ty)
    close(x.grad, tx.grad, 1e-5)


@pytest.mark.parametrize("out", [(4, 5), 3, (1, 1), (None, 2), (9, 13), 7])
def test_adaptive_avg_pool2d_vs_torch(out):
    x, tx = both(rand((2, 3, 9, 11), 3))
    y, ty = F.adaptive_avg_pool2d(x, out), TF.adaptive_avg_pool2d(tx, out)
    close(y, ty, 1e-5)
    backward_both(y, ty)
    close(x.grad, tx.grad, 1e-5)


def test_pool_modules_and_gradcheck():
    assert repr(nn.AvgPool2d(3, 2, 1)) == repr(torch.nn.AvgPool2d(3, 2, 1))
    assert repr(nn.AdaptiveAvgPool2d((2, 3))) == repr(torch.nn.AdaptiveAvgPool2d((2, 3)))
    x = rt.tensor(rand((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))
    assert gradcheck(lambda x: nn.AdaptiveAvgPool2d((2, 4))(x), (x,))


def test_pool_errors():
    x = rt.randn(1, 1, 4, 4)
    with pytest.raises(rt.ShapeError, match="half of kernel size"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(rt.ShapeError, match="half of kernel size"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(rt.ShapeError, match="Output size is too small"):
        F.max_pool2d(x, 5)
    with pytest.raises(rt.ShapeError, match="3D or 4D"):
        F.max_pool2d(rt.randn(4, 4), 2)
    with pytest.raises(rt.ShapeError, match="stride should be greater than zero"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(rt.ShapeError, match="kernel size should be greater than zero"):
        F.avg_pool2d(x, 0)
    with pytest.raises(rt.ShapeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(rt.DTypeError, match="float32"):
        F.max_pool2d(rt.ones(1, 1, 4, 4, dtype=rt.int64), 2)
    assert F.max_pool2d(rt.randn(0, 2, 4, 4), 2).shape == (0, 2, 2, 2)


# ---- batch_norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 7), (4, 3, 5, 6), (2, 4, 33, 31)], ids=str)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_vs_torch(shape, training, affine):
    C = shape[1]
    x, tx = both(rand(shape, 1) * 3 + 2)
    w, tw = both(rand(C, 2)) if affine else (None, None)
    b, tb = both(rand(C, 3)) if affine else (None, None)
    rm0, rv0 = rand(C, 4), np.abs(rand(C, 5)) + 0.5
    rm, rv = rt.tensor(rm0), rt.tensor(rv0)
    trm, trv = torch.tensor(rm0), torch.tensor(rv0)
    y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3)
    ty = TF.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=0.3, eps=1e-3)
    close(y, ty)
    close(rm, trm, 1e-5)
    close(rv, trv, 1e-5)
    backward_both(y, ty)
    close(x.grad, tx.grad, 2e-4)
    if affine:
        close(w.grad, tw.grad, 2e-4)
        close(b.grad, tb.grad, 2e-4)


def test_batch_norm_large_mean_small_spread_is_accurate():
    # a one-pass E[x^2] - E[x]^2, or y = x * scale + (b - mean * scale), would lose everything
    a = (rand((16, 3, 8, 8)) * 1e-2 + 1e4).astype(np.float32)
    d = a.astype(np.float64)
    ref = (d - d.mean((0, 2, 3), keepdims=True)) / np.sqrt(d.var((0, 2, 3), keepdims=True) + 1e-5)
    x, tx = both(a)
    y = F.batch_norm(x, None, None, training=True)
    ty = TF.batch_norm(tx, None, None, training=True)
    err, terr = np.abs(y.detach().numpy() - ref).max(), np.abs(ty.detach().numpy() - ref).max()
    assert err < 0.02 and err <= terr + 1e-3, (err, terr)
    g = rand(a.shape, 1)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))
    close(x.grad, tx.grad, 0.1)  # torch's own gradient is off by a few percent here
    for shape in ((64, 3), (2, 3, 5)):  # the (N, C) and (N, C, L) paths
        a = (rand(shape, 2) * 1e-2 + 1e4).astype(np.float32)
        d = a.astype(np.float64)
        dims = (0,) + tuple(range(2, len(shape)))
        ref = (d - d.mean(dims, keepdims=True)) / np.sqrt(d.var(dims, keepdims=True) + 1e-5)
        y = F.batch_norm(rt.tensor(a), None, None, training=True)
        assert np.abs(y.numpy() - ref).max() < 0.02


def test_batch_norm_gradcheck():
    x = rt.tensor(rand((4, 3, 2, 2)), requires_grad=True)
    w = rt.tensor(rand(3, 1) + 2, requires_grad=True)
    b = rt.tensor(rand(3, 2), requires_grad=True)
    # float32 evaluations: a larger step keeps the central differences above rounding noise
    assert gradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        (x, w, b),
        eps=1e-2,
        atol=3e-3,
    )
    rm, rv = rt.zeros(3), rt.ones(3)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(rt.randn(1, 3), None, None, training=True)
    with pytest.raises(rt.ShapeError, match="must be defined in eval mode"):
        F.batch_norm(rt.randn(4, 3), None, None, training=False)
    with pytest.raises(rt.ShapeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(rt.randn(4, 3), rt.zeros(4), rt.ones(3))
    with pytest.raises(rt.ShapeError, match="2D or more"):
        F.batch_norm(rt.randn(4), None, None, training=True)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_module_vs_torch(momentum):
    m = nn.BatchNorm2d(3, momentum=momentum)
    tm = torch.nn.BatchNorm2d(3, momentum=momentum)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    for step in range(3):
        a = rand((4, 3, 5, 5), step) * (step + 1)
        close(m(rt.tensor(a)), tm(torch.tensor(a)))
    close(m.running_mean, tm.running_mean, 1e-5)
    close(m.running_var, tm.running_var, 1e-5)
    assert int(m.num_batches_tracked) == int(tm.num_batches_tracked) == 3
    m2, tm2 = nn.BatchNorm2d(3, bias=False), torch.nn.BatchNorm2d(3, bias=False)
    assert repr(m2) == repr(tm2) and list(m2.state_dict()) == list(tm2.state_dict())
    m.eval()
    tm.eval()
    a = rand((2, 3, 5, 5), 7)
    close(m(rt.tensor(a)), tm(torch.tensor(a)))
    with pytest.raises(ValueError, match="expected 4D input"):
        m(rt.randn(2, 3, 4))


def test_batchnorm1d_module_vs_torch():
    m, tm = nn.BatchNorm1d(4, affine=False), torch.nn.BatchNorm1d(4, affine=False)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    for shape in ((8, 4), (3, 4, 6)):
        a = rand(shape, 1)
        close(m(rt.tensor(a)), tm(torch.tensor(a)))
    close(m.running_var, tm.running_var, 1e-5)
    m2, tm2 = (
        nn.BatchNorm1d(4, track_running_stats=False),
        torch.nn.BatchNorm1d(4, track_running_stats=False),
    )
    assert list(m2.state_dict()) == list(tm2.state_dict())
    m2.eval()
    tm2.eval()
    a = rand((5, 4), 2)
    close(m2(rt.tensor(a)), tm2(torch.tensor(a)))  # batch statistics even in eval mode
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        m(rt.randn(2, 4, 3, 3))


# ---- dropout -----------------------------------------------------------------------------------
def test_dropout_scaling_mask_and_backward():
    rt.manual_seed(3)
    x = rt.tensor(rand((64, 100)) + 5.0, requires_grad=True)
    y = F.dropout(x, p=0.3)
    yd, xd = y.detach().numpy(), x.detach().numpy()
    kept = yd != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(yd[kept], xd[kept] / 0.7, rtol=1e-6)
    g = rand((64, 100), 1)
    y.backward(rt.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g / 0.7, 0.0), rtol=1e-6)
    assert y.grad_fn.name() == "NativeDropoutBackward0"


def test_dropout_mask_is_the_generators_uniforms():
    rt.manual_seed(11)
    y = F.dropout(rt.ones(1000), p=0.4)
    rt.manual_seed(11)
    u = rt.rand(1000)
    np.testing.assert_array_equal(y.numpy() != 0, u.numpy() >= 0.4)


def test_dropout_same_for_a_seed_whatever_the_thread_count():
    x = rt.ones(300_000)
    old = rt.get_num_threads()
    try:
        outs = []
        for nt in (1, 2):
            rt.set_num_threads(nt)
            rt.manual_seed(5)
            outs.append(F.dropout(x, 0.5).numpy().copy())
    finally:
        rt.set_num_threads(old)
    np.testing.assert_array_equal(outs[0], outs[1])
    rt.manual_seed(6)
    assert not np.array_equal(F.dropout(x, 0.5).numpy(), outs[0])


def test_dropout_identity_cases_and_module():
    x = rt.randn(5, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)
    m = nn.Dropout(0.25)
    assert repr(m) == repr(torch.nn.Dropout(0.25))
    with pytest.raises(rt.AutogradError, match="in-place"):
        F.dropout(x, 0.5, inplace=True)
    z = rt.ones(1000)
    rt.manual_seed(2)
    assert F.dropout(z, 0.5, inplace=True) is z
    rt.manual_seed(2)
    np.testing.assert_array_equal(z.numpy(), F.dropout(rt.ones(1000), 0.5).numpy())
    m.eval()
    assert m(x) is x


def test_results_do_not_depend_on_the_thread_count():
    a = rand((8, 16, 48, 48), 3)  # large enough for the kernels' parallel paths
    x = rt.tensor(a, requires_grad=True)
    rm, rv = rt.zeros(16), rt.ones(16)

    def run():
        x.grad = None
        outs = [
            F.max_pool2d(x, 2),
            F.max_pool2d(x, 3, 2, 1),
            F.avg_pool2d(x, 3, 2, 1),
            F.adaptive_avg_pool2d(x, 3),
            F.batch_norm(x, rm, rv, training=True),
        ]
        sum(o.sum() for o in outs).backward()
        return [o.detach().numpy().copy() for o in outs] + [x.grad.numpy().copy()]

    old = rt.get_num_threads()
    try:
        rt.set_num_threads(1)
        one = run()
        rt.set_num_threads(2)
        two = run()
    finally:
        rt.set_num_threads(old)
    for p, q in zip(one, two):
        np.testing.assert_array_equal(p, q)


def _child_ops(x, xs, w, q):
    # only this module's ops (and the GEMM) run in the child; results are read through numpy
    outs = [
        F.max_pool2d(x, 2),
        F.max_pool2d(x, 3, 2, 1),
        F.batch_norm(x, None, None, training=True),
        F.softmax(x, 1),
        F.dropout(x, 0.5),
        F.conv2d(xs, w, padding=1),
    ]
    q.put([float(np.sum(o.numpy())) for o in outs])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_kernels_run_in_a_forked_child_after_parallel_use():
    import multiprocessing as mp

    old = rt.get_num_threads()
    try:
        rt.set_num_threads(2)
        x = rt.tensor(rand((32, 64, 32, 32)))
        xs, w = rt.tensor(rand((4, 64, 32, 32), 1)), rt.tensor(rand((8, 64, 3, 3), 2))
        F.max_pool2d(x, 3, 2, 1)  # the parent's OpenMP team exists now
        F.batch_norm(x, None, None, training=True)
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_child_ops, args=(x, xs, w, q))
        p.start()
        p.join(60)
        alive = p.is_alive()
        if alive:
            p.kill()
        assert not alive, "a kernel hung in the forked child"
        assert p.exitcode == 0 and len(q.get(timeout=5)) == 6
    finally:
        rt.set_num_threads(old)
