"""conv2d and nn.Conv2d against torch: shapes, strides, paddings, dilations, groups, gradients,
gradcheck, the chunked path and error messages."""

import numpy as np
import pytest

import rustorch as rt
import rustorch.nn as nn
import rustorch.nn.functional as F
from rustorch.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def both(a, rg=True):
    return rt.tensor(a.copy(), requires_grad=rg), torch.tensor(a.copy(), requires_grad=rg)


def close(r, t, tol=1e-4):
    assert tuple(r.shape) == tuple(t.shape), (r.shape, t.shape)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


CASES = [
    # (input shape, weight shape, kwargs)
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding=1)),
    ((2, 3, 7, 9), (5, 3, 3, 3), {}),
    ((1, 2, 9, 7), (3, 2, 3, 2), dict(stride=2)),
    ((2, 2, 10, 9), (4, 2, 3, 3), dict(stride=(2, 3), padding=(1, 2))),
    ((2, 3, 11, 10), (2, 3, 3, 3), dict(dilation=2, padding=2)),
    ((1, 2, 9, 9), (3, 2, 2, 3), dict(dilation=(2, 1), stride=(1, 2), padding=(0, 1))),
    ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((2, 6, 7, 5), (6, 1, 3, 3), dict(groups=6, padding=1)),  # depthwise
    ((3, 4, 5, 5), (8, 4, 1, 1), {}),  # 1x1: the input is its own column matrix
    ((2, 4, 6, 6), (8, 2, 1, 1), dict(groups=2)),
    ((2, 4, 7, 7), (3, 4, 1, 1), dict(stride=2)),
    ((2, 4, 5, 5), (3, 4, 1, 1), dict(padding=1)),
    ((1, 2, 6, 7), (3, 2, 2, 2), dict(padding="same")),  # even kernel: extra pad bottom/right
    ((1, 2, 6, 7), (3, 2, 3, 4), dict(padding="same", dilation=(2, 1))),
    ((1, 2, 6, 7), (3, 2, 3, 3), dict(padding="valid")),
    ((2, 1, 5, 5), (1, 1, 5, 5), {}),  # 1x1 output
    ((1, 3, 1, 1), (2, 3, 1, 1), {}),
    ((4, 3, 13, 17), (7, 3, 5, 3), dict(stride=3, padding=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_backward_vs_torch(xs, ws, kw, bias):
    x, tx = both(rand(xs, 1))
    w, tw = both(rand(ws, 2))
    b, tb = both(rand(ws[0], 3)) if bias else (None, None)
    y = F.conv2d(x, w, b, **kw)
    ty = TF.conv2d(tx, tw, tb, **kw)
    close(y, ty)
    assert y.grad_fn.name() == "ConvolutionBackward0"
    g = rand(ty.shape, 4)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)
    if bias:
        close(b.grad, tb.grad)


def test_conv2d_unbatched_input():
    x, tx = both(rand((3, 6, 5)))
    w, tw = both(rand((4, 3, 3, 3), 1))
    y, ty = F.conv2d(x, w, padding=1), TF.conv2d(tx, tw, padding=1)
    close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)


@pytest.mark.parametrize("need", ["input", "weight", "bias"])
def test_conv2d_only_some_inputs_require_grad(need):
    xa, wa, ba = rand((2, 3, 6, 6)), rand((4, 3, 3, 3), 1), rand(4, 2)
    x, tx = both(xa, need == "input")
    w, tw = both(wa, need == "weight")
    b, tb = both(ba, need == "bias")
    y, ty = F.conv2d(x, w, b, padding=1), TF.conv2d(tx, tw, tb, padding=1)
    g = rand(ty.shape, 5)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))
    for r, t in ((x, tx), (w, tw), (b, tb)):
        if t.requires_grad:
            close(r.grad, t.grad)
        else:
            assert r.grad is None


def test_conv2d_chunked_batches_match(monkeypatch):
    from rustorch.nn import _conv

    xa, wa, ba = rand((5, 3, 7, 7)), rand((4, 3, 3, 3), 1), rand(4, 2)
    x, tx = both(xa)
    w, tw = both(wa)
    b, tb = both(ba)
    monkeypatch.setattr(_conv, "COL_LIMIT", 2 * 28 * 49)  # two images per column chunk
    y, ty = F.conv2d(x, w, b, padding=1), TF.conv2d(tx, tw, tb, padding=1)
    close(y, ty)
    g = rand(ty.shape, 3)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)
    close(b.grad, tb.grad)


def test_conv2d_no_grad_records_nothing():
    x = rt.tensor(rand((1, 2, 5, 5)), requires_grad=True)
    w = rt.tensor(rand((3, 2, 3, 3)), requires_grad=True)
    with rt.no_grad():
        y = F.conv2d(x, w)
    assert y.grad_fn is None and not y.requires_grad


def test_conv2d_same_result_on_one_and_two_threads():
    # large enough for the parallel im2col / col2im paths
    x = rt.tensor(rand((8, 8, 24, 24)), requires_grad=True)
    w, b = rt.tensor(rand((8, 8, 3, 3), 1), requires_grad=True), rt.randn(8, requires_grad=True)

    def run():
        x.grad = w.grad = b.grad = None
        y = F.conv2d(x, w, b, padding=1)
        y.sum().backward()
        return [t.detach().numpy().copy() for t in (y, x.grad, w.grad, b.grad)]

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


@pytest.mark.parametrize(
    "kw",
    [dict(padding=1), dict(stride=2, dilation=(1, 2)), dict(groups=2, padding=(0, 1))],
    ids=str,
)
def test_conv2d_gradcheck(kw):
    x = rt.tensor(rand((2, 2, 5, 5)), requires_grad=True)
    w = rt.tensor(rand((2, 1 if kw.get("groups") else 2, 3, 2), 1), requires_grad=True)
    b = rt.tensor(rand(2, 2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


def test_conv2d_errors():
    x = rt.randn(2, 3, 8, 8)
    w = rt.randn(4, 3, 3, 3)
    with pytest.raises(rt.ShapeError, match=r"conv2d.*3D \(unbatched\) or 4D"):
        F.conv2d(rt.randn(3, 8), w)
    with pytest.raises(rt.ShapeError, match="to have 3 channels, but got 2 channels"):
        F.conv2d(rt.randn(2, 2, 8, 8), w)
    with pytest.raises(rt.ShapeError, match="weight must be 4-D"):
        F.conv2d(x, rt.randn(4, 3, 3))
    with pytest.raises(rt.ShapeError, match="expected bias to be 1-dimensional with 4 elements"):
        F.conv2d(x, w, rt.randn(3))
    with pytest.raises(rt.ShapeError, match="divisible by 2"):
        F.conv2d(rt.randn(1, 6, 5, 5), rt.randn(3, 3, 3, 3), groups=2)
    with pytest.raises(rt.ShapeError, match="Kernel size can't be greater"):
        F.conv2d(rt.randn(1, 3, 2, 2), w)
    with pytest.raises(rt.ShapeError, match="strided convolutions"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(rt.ShapeError, match="Invalid padding string"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(rt.ShapeError, match="negative padding"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(rt.ShapeError, match="non-positive stride"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(rt.ShapeError, match="dilation should be greater than zero"):
        F.conv2d(x, w, dilation=0)
    with pytest.raises(rt.DTypeError, match="float32"):
        F.conv2d(rt.ones(2, 3, 8, 8, dtype=rt.int64), w)
    with pytest.raises(rt.DTypeError, match="must be a Tensor"):
        F.conv2d(np.zeros((2, 3, 8, 8), np.float32), w)
    with pytest.raises(RuntimeError):  # torch code catching RuntimeError keeps working
        F.conv2d(rt.randn(2, 2, 8, 8), w)


def test_conv2d_module_matches_torch_layout_and_init():
    rt.manual_seed(0)
    m = nn.Conv2d(3, 8, 3, padding=1)
    tm = torch.nn.Conv2d(3, 8, 3, padding=1)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == tuple(tm.weight.shape) and m.bias.shape == (8,)
    bound = 1 / np.sqrt(3 * 9)
    assert np.abs(m.weight.detach().numpy()).max() <= bound + 1e-6
    assert np.abs(m.bias.detach().numpy()).max() <= bound + 1e-6
    assert np.abs(m.weight.detach().numpy()).max() > bound / 2  # actually spread out
    assert repr(m) == repr(tm)
    for kw in (dict(stride=2, bias=False), dict(dilation=2, groups=1), dict(padding="same")):
        assert repr(nn.Conv2d(4, 8, (3, 5), **kw)) == repr(torch.nn.Conv2d(4, 8, (3, 5), **kw))
    m.load_state_dict({k: rt.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = rand((2, 3, 6, 6))
    close(m(rt.tensor(x)), tm(torch.tensor(x)))


def test_conv2d_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="strided convolutions"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(4, 4, 3, padding_mode="reflect")


def test_conv2d_pooled_column_buffers_are_not_shared_between_live_graphs():
    w, tw = both(rand((4, 3, 3, 3), 1))
    xs = [both(rand((2, 3, 6, 6), s)) for s in (2, 3)]
    ys = [F.conv2d(x, w, padding=1) for x, _ in xs]  # both graphs alive, same shapes
    tys = [TF.conv2d(tx, tw, padding=1) for _, tx in xs]
    g = rand(tuple(tys[0].shape), 5)
    ys[1].backward(rt.tensor(g), retain_graph=True)
    ys[1].backward(rt.tensor(g))  # the retained columns are still intact
    ys[0].backward(rt.tensor(g))
    tys[1].backward(torch.tensor(g), retain_graph=True)
    tys[1].backward(torch.tensor(g))
    tys[0].backward(torch.tensor(g))
    close(w.grad, tw.grad)
    for (x, tx), y, ty in zip(xs, ys, tys):
        close(y, ty)
        close(x.grad, tx.grad)
