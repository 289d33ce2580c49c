"""softmax / log_softmax and the classification losses (cross_entropy, nll_loss,
binary_cross_entropy_with_logits, and their modules) against torch."""

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


def close(r, t, tol=1e-5):
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def backward_both(y, ty, seed=9):
    g = rand(tuple(ty.shape), seed)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))


# ---- softmax / log_softmax ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,dim",
    [((4, 7), 1), ((4, 7), 0), ((3, 5, 6), 1), ((3, 5, 6), -1), ((2, 3, 300), 1), ((1000,), 0),
     ((2, 3, 4, 5), 2), ((5, 1), 1), ((3, 0, 2), 1), ((), 0)],
    ids=str,
)  # fmt: skip
@pytest.mark.parametrize("log", [False, True])
def test_softmax_vs_torch(shape, dim, log):
    x, tx = both(rand(shape, 1) * 3)
    f, tf = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    y, ty = f(x, dim), tf(tx, dim)
    close(y, ty)
    assert y.grad_fn.name() == ("LogSoftmaxBackward0" if log else "SoftmaxBackward0")
    backward_both(y, ty)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_large_logits_nan_and_inf_like_torch(log):
    a = np.array(
        [[1e4, -1e4, 0.0, 5e3], [3e4, 3e4, -3e4, 1.0], [np.nan, 1.0, 2.0, 3.0],
         [np.inf, 1.0, 2.0, 3.0], [-np.inf, 1.0, 2.0, 3.0], [-np.inf] * 4],
        np.float32,
    )  # fmt: skip
    f, tf = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    for dim in (0, 1):
        y, ty = f(rt.tensor(a), dim), tf(torch.tensor(a), dim)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6, atol=1e-6)
    y = f(rt.tensor(a[:2]), 1).numpy()
    assert np.isfinite(y).all()


def test_softmax_modules_gradcheck_and_errors():
    assert repr(nn.Softmax(dim=1)) == repr(torch.nn.Softmax(dim=1))
    assert repr(nn.LogSoftmax(dim=0)) == repr(torch.nn.LogSoftmax(dim=0))
    x = rt.tensor(rand((3, 4, 2)), requires_grad=True)
    assert gradcheck(lambda x: F.softmax(x, 1), (x,))
    assert gradcheck(lambda x: nn.LogSoftmax(dim=-1)(x), (x,))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        close(F.softmax(rt.tensor(rand((2, 3)))), TF.softmax(torch.tensor(rand((2, 3))), 1))
    with pytest.raises(rt.IndexingError, match="Dimension out of range"):
        F.softmax(x, 3)
    with pytest.raises(rt.DTypeError):
        F.softmax(rt.ones(3, dtype=rt.int64), 0)


# ---- cross_entropy / nll_loss ------------------------------------------------------------------
SHAPES = [(6, 5), (3, 4, 2, 3), (5,), (4, 3, 7)]


def _targets(shape, seed, ignore=True):
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = np.random.default_rng(seed).integers(0, C, tshape)
    if ignore and len(shape) > 1:
        t.reshape(-1)[0] = -100
    return C, t


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_vs_torch(shape, reduction, smoothing, weighted):
    x, tx = both(rand(shape, 1) * 2)
    C, t = _targets(shape, 2)
    w = np.random.default_rng(3).random(C).astype(np.float32) + 0.5 if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    y = F.cross_entropy(x, rt.tensor(t), None if w is None else rt.tensor(w), **kw)
    ty = TF.cross_entropy(tx, torch.tensor(t), None if w is None else torch.tensor(w), **kw)
    close(y, ty)
    backward_both(y, ty)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_vs_torch(shape, reduction, weighted):
    x, tx = both(rand(shape, 4))
    C, t = _targets(shape, 5)
    w = np.random.default_rng(6).random(C).astype(np.float32) + 0.5 if weighted else None
    y = F.nll_loss(x, rt.tensor(t), None if w is None else rt.tensor(w), reduction=reduction)
    ty = TF.nll_loss(
        tx, torch.tensor(t), None if w is None else torch.tensor(w), reduction=reduction
    )
    close(y, ty)
    assert y.grad_fn.name() == "NllLossBackward0"
    backward_both(y, ty)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probability_targets_vs_torch(shape, reduction):
    x, tx = both(rand(shape, 1))
    p = np.random.default_rng(2).random(shape).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    pt, tpt = both(p)
    w = np.random.default_rng(3).random(shape[1]).astype(np.float32)
    kw = dict(reduction=reduction, label_smoothing=0.1)
    y = F.cross_entropy(x, pt, rt.tensor(w), **kw)
    ty = TF.cross_entropy(tx, tpt, torch.tensor(w), **kw)
    close(y, ty)
    backward_both(y, ty)
    close(x.grad, tx.grad)
    close(pt.grad, tpt.grad)


def test_cross_entropy_extreme_logits_and_ignore_all():
    a = np.array([[1e4, -1e4, 0.0], [-3e4, 3e4, 2e4], [5.0, 5.0, 5.0]], np.float32)
    t = np.array([1, 0, 2])
    for ls in (0.0, 0.3):
        x, tx = both(a)
        y = F.cross_entropy(x, rt.tensor(t), label_smoothing=ls)
        ty = TF.cross_entropy(tx, torch.tensor(t), label_smoothing=ls)
        assert np.isfinite(y.item())
        close(y, ty, 1e-4)
        y.backward()
        ty.backward()
        assert np.isfinite(x.grad.numpy()).all()
        close(x.grad, tx.grad)
    x, tx = both(a)
    ign = np.full(3, -100)
    y, ty = F.cross_entropy(x, rt.tensor(ign)), TF.cross_entropy(tx, torch.tensor(ign))
    assert np.isnan(y.item()) and np.isnan(ty.item())
    y.backward()
    assert not x.grad.numpy().any()
    x = rt.tensor(a)
    y = F.cross_entropy(x, rt.tensor(np.array([1, 7, 2])), ignore_index=7, reduction="sum")
    ty = TF.cross_entropy(torch.tensor(a), torch.tensor([1, 7, 2]), ignore_index=7, reduction="sum")
    close(y, ty, 1e-4)


def test_losses_gradcheck():
    x = rt.tensor(rand((4, 3, 2)), requires_grad=True)
    t = rt.tensor(np.array([[0, 2], [1, 1], [2, -100], [0, 1]]))
    w = rt.tensor(np.array([0.5, 1.0, 2.0], np.float32))
    assert gradcheck(lambda x: F.cross_entropy(x, t, w, label_smoothing=0.2), (x,))
    assert gradcheck(lambda x: F.nll_loss(x, t, w, reduction="sum"), (x,))
    tb = rt.tensor(
        np.random.default_rng(1).random((4, 3, 2)).astype(np.float32), requires_grad=True
    )
    pw = rt.tensor(np.array([0.5, 2.0], np.float32))
    assert gradcheck(
        lambda x, tb: F.binary_cross_entropy_with_logits(x, tb, pos_weight=pw), (x, tb)
    )


def test_classification_loss_errors():
    x = rt.randn(3, 4)
    with pytest.raises(rt.IndexingError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, rt.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.nll_loss(x, rt.tensor([0, -3, 1]))
    with pytest.raises(rt.ShapeError, match="batch_size"):
        F.cross_entropy(x, rt.tensor([0, 1]))
    with pytest.raises(rt.ShapeError, match=r"Expected target size \[3, 2\]"):
        F.cross_entropy(rt.randn(3, 4, 2), rt.tensor([[0, 1], [1, 1], [2, 2], [3, 3]])[:3, :1])
    with pytest.raises(rt.ShapeError, match="weight tensor should be defined"):
        F.cross_entropy(x, rt.tensor([0, 1, 2]), weight=rt.ones(3))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.cross_entropy(x, rt.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(rt.DTypeError, match="int64"):
        F.nll_loss(x, rt.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(rt.ShapeError, match="label_smoothing"):
        F.cross_entropy(x, rt.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(rt.randn(3), rt.rand(4))
    with pytest.raises(rt.ShapeError, match="not broadcastable"):
        F.binary_cross_entropy_with_logits(rt.randn(3, 2), rt.rand(3, 2), pos_weight=rt.ones(3))


def test_legacy_size_average_and_reduce():
    x, tx = both(rand((4, 3)))
    t = np.array([0, 1, 2, 1])
    with pytest.warns(UserWarning, match="size_average and reduce"):
        y = F.cross_entropy(x, rt.tensor(t), size_average=False)
    close(y, TF.cross_entropy(tx, torch.tensor(t), reduction="sum"))


# ---- binary_cross_entropy_with_logits ----------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits_vs_torch(reduction, weights):
    x, tx = both(rand((4, 6), 1) * 4)
    p = np.random.default_rng(2).random((4, 6)).astype(np.float32)
    t, tt = both(p)
    kw, tkw = {}, {}
    if weights in ("weight", "both"):
        w = np.random.default_rng(3).random((1, 6)).astype(np.float32)
        kw["weight"], tkw["weight"] = rt.tensor(w), torch.tensor(w)
    if weights in ("pos_weight", "both"):
        pw = np.random.default_rng(4).random(6).astype(np.float32) * 3
        kw["pos_weight"], tkw["pos_weight"] = rt.tensor(pw), torch.tensor(pw)
    y = F.binary_cross_entropy_with_logits(x, t, reduction=reduction, **kw)
    ty = TF.binary_cross_entropy_with_logits(tx, tt, reduction=reduction, **tkw)
    close(y, ty)
    backward_both(y, ty)
    close(x.grad, tx.grad)
    close(t.grad, tt.grad)


def test_bce_with_logits_extremes_and_learnable_weights():
    a = np.array([1e4, -1e4, 30.0, -30.0, 0.0, 88.0, -104.0], np.float32)
    p = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 1.0], np.float32)
    x, tx = both(a)
    y = F.binary_cross_entropy_with_logits(x, rt.tensor(p), reduction="none")
    ty = TF.binary_cross_entropy_with_logits(tx, torch.tensor(p), reduction="none")
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    close(x.grad, tx.grad)
    x, tx = both(rand((3, 2)))
    w, tw = both(np.array([0.5, 2.0], np.float32))
    pw, tpw = both(np.array([3.0, 0.5], np.float32))
    t = np.random.default_rng(1).random((3, 2)).astype(np.float32)
    # torch refuses gradients for weight / pos_weight; rustorch composes the same formula from
    # differentiable ops, checked here against that formula written in torch ops
    y = F.binary_cross_entropy_with_logits(x, rt.tensor(t), w, pos_weight=pw)
    tt = torch.tensor(t)
    ty = (((1 - tt) * tx - ((tpw - 1) * tt + 1) * TF.logsigmoid(tx)) * tw).mean()
    close(y, ty)
    y.backward()
    ty.backward()
    for r, q in ((x, tx), (w, tw), (pw, tpw)):
        close(r.grad, q.grad)


# ---- modules -----------------------------------------------------------------------------------
def test_loss_modules_vs_torch():
    x, tx = both(rand((5, 4), 1))
    t = np.array([0, 3, 1, 2, 3])
    w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    pairs = [
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (
            nn.CrossEntropyLoss(rt.tensor(w), label_smoothing=0.1, ignore_index=3),
            torch.nn.CrossEntropyLoss(torch.tensor(w), label_smoothing=0.1, ignore_index=3),
        ),
        (nn.NLLLoss(reduction="sum"), torch.nn.NLLLoss(reduction="sum")),
    ]
    for m, tm in pairs:
        assert repr(m) == repr(tm)
        assert list(m.state_dict()) == list(tm.state_dict())
        close(m(x, rt.tensor(t)), tm(tx, torch.tensor(t)))
    p = np.random.default_rng(1).random((5, 4)).astype(np.float32)
    m = nn.BCEWithLogitsLoss(pos_weight=rt.tensor(w))
    tm = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    assert list(m.state_dict()) == list(tm.state_dict())
    close(m(x, rt.tensor(p)), tm(tx, torch.tensor(p)))


def test_results_do_not_depend_on_the_thread_count():
    a = rand((256, 10, 64), 3)  # large enough for the kernels' parallel paths
    x = rt.tensor(a, requires_grad=True)
    t = rt.tensor(np.random.default_rng(1).integers(0, 10, (256, 64)))

    def run():
        x.grad = None
        outs = [F.softmax(x, 1), F.log_softmax(x, -1), F.cross_entropy(x, t, label_smoothing=0.1)]
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
