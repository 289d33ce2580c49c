"""layer_norm / LayerNorm and embedding / Embedding (functional and modules) against torch."""

import numpy as np
import pytest

import rustorch as rt
import rustorch.nn as nn
import rustorch.nn.functional as F
from rustorch.autograd import gradcheck
from rustorch.errors import DTypeError, IndexingError, ShapeError, TorchError

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def leaf(a, rg=True):
    return rt.tensor(a.copy(), requires_grad=rg)


def tleaf(a, rg=True, dtype=torch.float64):
    return torch.tensor(a.copy(), dtype=dtype, requires_grad=rg)


def close(got, want, tol):
    """got (rustorch) against a torch float64 reference, scaled by the reference's magnitude."""
    w = want.detach().numpy().astype(np.float64)
    g = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == np.float32
    scale = 1.0 + (np.abs(w).max() if w.size else 0.0)
    err = np.abs(g.astype(np.float64) - w).max() if w.size else 0.0
    assert err <= tol * scale, (err, scale)


# ---- layer_norm vs torch ------------------------------------------------------------------------
LN_CASES = [
    ((2, 8), (8,)),
    ((3, 4, 5), (5,)),
    ((3, 4, 5), (4, 5)),
    ((2, 3, 4, 6), (3, 4, 6)),
    ((7,), (7,)),  # one row
    ((6, 1), (1,)),  # rows of length 1: y = bias
    ((0, 7), (7,)),  # zero rows
    ((3, 0), (0,)),  # empty rows
    ((5, 2000), (2000,)),  # rows longer than the kernel's summation block
    ((70, 4000), (4000,)),  # above the parallel threshold
    ((16, 8, 2100), (8, 2100)),  # above the threshold, 2-D normalized_shape
    ((20, 60000), (60000,)),  # long rows: fewer backward chunks (partial-sum buffer cap)
]
AFFINE = ["wb", "w", "b", "none"]


@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("shape,ns", LN_CASES, ids=str)
def test_layer_norm_vs_torch(shape, ns, affine):
    x = rand(shape, 1) * 2 + 0.5
    w = rand(ns, 2) + 1
    b = rand(ns, 3)
    rx, tx = leaf(x), tleaf(x)
    rw = leaf(w) if "w" in affine else None
    tw = tleaf(w) if "w" in affine else None
    rb = leaf(b) if "b" in affine else None
    tb = tleaf(b) if "b" in affine else None
    y = F.layer_norm(rx, ns, rw, rb)
    ty = TF.layer_norm(tx, ns, tw, tb)
    close(y, ty, 1e-5)
    g = rand(shape, 4)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g, dtype=torch.float64))
    close(rx.grad, tx.grad, 2e-5)
    if rw is not None:
        close(rw.grad, tw.grad, 2e-5)
    if rb is not None:
        close(rb.grad, tb.grad, 2e-5)


@pytest.mark.parametrize("needs", ["x", "w", "b", "wb", "xb"])
def test_layer_norm_partial_requires_grad(needs):
    shape, ns = (33, 7, 40), (40,)
    x, w, b = rand(shape, 40), rand(ns, 41) + 1, rand(ns, 42)
    rx, rw, rb = leaf(x, "x" in needs), leaf(w, "w" in needs), leaf(b, "b" in needs)
    tx, tw, tb = tleaf(x, "x" in needs), tleaf(w, "w" in needs), tleaf(b, "b" in needs)
    y = F.layer_norm(rx, ns, rw, rb)
    ty = TF.layer_norm(tx, ns, tw, tb)
    g = rand(shape, 43)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g, dtype=torch.float64))
    for r, t in ((rx, tx), (rw, tw), (rb, tb)):
        if t.requires_grad:
            close(r.grad, t.grad, 2e-5)
        else:
            assert r.grad is None


@pytest.mark.parametrize("eps", [1e-5, 0.1, 3.0])
def test_layer_norm_eps_and_list_shape(eps):
    x = rand((4, 3, 6), 5) * 0.1
    rx, tx = leaf(x), tleaf(x)
    y = F.layer_norm(rx, [3, 6], eps=eps)
    ty = TF.layer_norm(tx, [3, 6], eps=eps)
    close(y, ty, 1e-5)
    y.sum().backward()
    ty.sum().backward()
    close(rx.grad, tx.grad, 1e-5)


def test_layer_norm_large_mean_keeps_precision():
    # a mean 1e4 times the spread: the naive E[x^2] - E[x]^2 in float would lose everything
    x = (rand((8, 512), 6) * 1e-2 + 1e4).astype(np.float32)
    rx, tx = leaf(x), tleaf(x)
    y = F.layer_norm(rx, (512,))
    ty = TF.layer_norm(tx, (512,))
    close(y, ty, 2e-3)
    g = rand((8, 512), 7)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g, dtype=torch.float64))
    close(rx.grad, tx.grad, 2e-3)


def test_layer_norm_matches_torch_float32_and_grad_fn():
    x = rand((5, 9), 8)
    rx, tx = leaf(x), tleaf(x, dtype=torch.float32)
    y = F.layer_norm(rx, (9,))
    ty = TF.layer_norm(tx, (9,))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    with rt.no_grad():
        assert F.layer_norm(rx, (9,)).grad_fn is None
    assert F.layer_norm(leaf(x, False), (9,)).grad_fn is None


def test_layer_norm_gradcheck():
    x = leaf(rand((3, 2, 4), 9))
    w = leaf(rand((2, 4), 10) + 2)
    b = leaf(rand((2, 4), 11))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b), eps=1e-2, atol=3e-3)
    x2 = leaf(rand((4, 5), 12))
    assert gradcheck(lambda x: F.layer_norm(x, (5,), eps=0.1), (x2,), eps=1e-2, atol=3e-3)


def test_layer_norm_threads_give_identical_results():
    x = rand((96, 3000), 13)  # 288,000 elements: above the parallel threshold
    w, b, g = rand(3000, 14) + 1, rand(3000, 15), rand((96, 3000), 16)
    old = rt.get_num_threads()
    outs = []
    try:
        for nt in (1, 2):
            rt.set_num_threads(nt)
            rx, rw, rb = leaf(x), leaf(w), leaf(b)
            y = F.layer_norm(rx, (3000,), rw, rb)
            y.backward(rt.tensor(g))
            outs.append([t.numpy().copy() for t in (y.detach(), rx.grad, rw.grad, rb.grad)])
    finally:
        rt.set_num_threads(old)
    for a, c in zip(*outs):
        np.testing.assert_array_equal(a, c)


def test_layer_norm_errors():
    x = rt.randn(2, 3, 8)
    with pytest.raises(ShapeError, match=r"normalized_shape=\[7\].*size\[2, 3, 8\]"):
        F.layer_norm(x, (7,))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        F.layer_norm(x, (2, 3, 8, 1))
    with pytest.raises(ShapeError, match="at least 1-dimensional"):
        F.layer_norm(x, ())
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        F.layer_norm(x, 8)
    with pytest.raises(ShapeError, match=r"weight of shape \[7\] and normalized_shape = \[8\]"):
        F.layer_norm(x, (8,), rt.ones(7))
    with pytest.raises(ShapeError, match="bias"):
        F.layer_norm(x, (8,), rt.ones(8), rt.ones(3, 8))
    with pytest.raises(DTypeError, match="float32"):
        F.layer_norm(rt.tensor([[1, 2]]), (2,))
    with pytest.raises(DTypeError, match="weight must be float32"):
        F.layer_norm(x, (8,), rt.ones(8, dtype=rt.int64))
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.layer_norm(np.ones((2, 8), np.float32), (8,))
    with pytest.raises(ValueError):
        nn.LayerNorm(4)(rt.randn(2, 5))


# ---- LayerNorm module ---------------------------------------------------------------------------
def test_layer_norm_module_like_torch():
    for args, kw in [
        ((8,), {}),
        (((3, 4),), {"eps": 1e-3}),
        ((4,), {"bias": False}),
        ((4,), {"elementwise_affine": False}),
    ]:
        m, tm = nn.LayerNorm(*args, **kw), torch.nn.LayerNorm(*args, **kw)
        assert repr(m) == repr(tm)
        assert list(m.state_dict()) == list(tm.state_dict())
        assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
        for k, v in m.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), tm.state_dict()[k].numpy())
    assert nn.LayerNorm(8).normalized_shape == (8,)
    assert repr(nn.LayerNorm(8)) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"


def test_layer_norm_module_forward_backward_reset():
    m, tm = nn.LayerNorm((3, 5)), torch.nn.LayerNorm((3, 5))
    tm.weight.data.copy_(torch.tensor(rand((3, 5), 20)))
    tm.bias.data.copy_(torch.tensor(rand((3, 5), 21)))
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = rand((2, 4, 3, 5), 22)
    rx, tx = leaf(x), tleaf(x, dtype=torch.float32)
    y, ty = m(rx), tm(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    ty.sum().backward()
    for a, c in ((rx.grad, tx.grad), (m.weight.grad, tm.weight.grad), (m.bias.grad, tm.bias.grad)):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-4, atol=1e-5)
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones((3, 5), np.float32))
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros((3, 5), np.float32))
    assert isinstance(m.weight, nn.Parameter)


# ---- embedding vs torch -------------------------------------------------------------------------
EMB_INDEX = [
    np.array([0, 2, 2, 4, 2, 0]),  # repeated indices accumulate
    np.array(3),  # 0-d index
    np.array([[1, 4, 1], [0, 0, 3]]),
    np.arange(24).reshape(2, 3, 4) % 5,
    np.zeros((0,), np.int64),
    np.zeros((2, 0), np.int64),
]


@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
@pytest.mark.parametrize("idx", EMB_INDEX, ids=lambda a: str(a.shape))
def test_embedding_vs_torch(idx, padding_idx):
    w = rand((5, 3), 30)
    rw, tw = leaf(w), tleaf(w, dtype=torch.float32)
    ri, ti = rt.tensor(idx.astype(np.int64)), torch.tensor(idx.astype(np.int64))
    y = F.embedding(ri, rw, padding_idx)
    ty = TF.embedding(ti, tw, padding_idx)
    assert tuple(y.shape) == tuple(ty.shape) == idx.shape + (3,)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = rand(idx.shape + (3,), 31)
    y.backward(rt.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(rw.grad.numpy(), tw.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert tuple(rw.grad.shape) == (5, 3)
    if padding_idx is not None:
        assert not rw.grad.numpy()[padding_idx].any()


def test_embedding_grad_repeated_and_padding_exact():
    w = leaf(rand((4, 2), 32))
    y = F.embedding(rt.tensor([1, 1, 1, 3, 0, 0]), w, padding_idx=0)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1]])
    assert y.grad_fn.name() == "EmbeddingBackward0"
    assert F.embedding(rt.tensor([1]), leaf(rand((4, 2)), False)).grad_fn is None


def test_embedding_gradcheck():
    w = leaf(rand((6, 3), 33))
    idx = rt.tensor([[0, 5, 5], [2, 0, 1]])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))
    # (padding_idx is left out: its row's gradient is zero by definition, not the derivative)


def test_embedding_backward_uses_indices_from_forward_time():
    w = leaf(rand((4, 2), 34))
    idx = rt.tensor([0, 1])
    y = F.embedding(idx, w)
    idx[0] = 3  # changed after the forward: the gradient still goes to rows 0 and 1
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [1, 1], [0, 0], [0, 0]])


def test_embedding_errors():
    w = rt.randn(5, 3)
    for bad in (5, 7, -1):
        with pytest.raises(IndexingError, match=rf"embedding\(\): index {bad} .*\(5, 3\)"):
            F.embedding(rt.tensor([[0, 1], [bad, 2]]), w)
    with pytest.raises(IndexError):
        F.embedding(rt.tensor(9), w)
    with pytest.raises(TypeError, match="int64"):
        F.embedding(rt.tensor([0.0, 1.0]), w)
    with pytest.raises(RuntimeError, match="int64"):
        F.embedding(rt.tensor([True, False]), w)
    with pytest.raises(ShapeError, match="2-D"):
        F.embedding(rt.tensor([0, 1]), rt.randn(5))
    with pytest.raises(DTypeError, match="float32"):
        F.embedding(rt.tensor([0, 1]), rt.tensor([[1, 2]]))
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.embedding([0, 1], w)
    with pytest.raises(TorchError, match="max_norm is not supported"):
        F.embedding(rt.tensor([0, 1]), w, max_norm=1.0)
    with pytest.raises(TorchError, match="sparse=True is not supported"):
        F.embedding(rt.tensor([0, 1]), w, sparse=True)
    with pytest.raises(IndexingError, match="Padding_idx must be within num_embeddings"):
        F.embedding(rt.tensor([0, 1]), w, padding_idx=5)
    with pytest.raises(IndexingError, match="Padding_idx"):
        nn.Embedding(5, 3, padding_idx=-6)


# ---- Embedding module ---------------------------------------------------------------------------
def test_embedding_module_like_torch():
    for args, kw in [((10, 4), {}), ((10, 4), {"padding_idx": 3}), ((7, 2), {"padding_idx": -2})]:
        m, tm = nn.Embedding(*args, **kw), torch.nn.Embedding(*args, **kw)
        assert repr(m) == repr(tm)
        assert m.padding_idx == tm.padding_idx
        assert list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
        assert tuple(m.weight.shape) == tuple(tm.weight.shape)
        if m.padding_idx is not None:
            assert not m.weight.detach().numpy()[m.padding_idx].any()
    big = nn.Embedding(2000, 32, padding_idx=7)
    w = big.weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    assert not w[7].any() and w[8].any()
    assert isinstance(big.weight, nn.Parameter) and big.weight.requires_grad


def test_embedding_module_forward_backward_and_from_pretrained():
    m, tm = nn.Embedding(6, 4, padding_idx=2), torch.nn.Embedding(6, 4, padding_idx=2)
    m.load_state_dict({"weight": tm.weight.detach().numpy()})
    idx = np.array([[2, 5, 5], [0, 2, 1]])
    y, ty = m(rt.tensor(idx)), tm(torch.tensor(idx))
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.backward(rt.tensor(rand((2, 3, 4), 40)))
    ty.backward(torch.tensor(rand((2, 3, 4), 40)))
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), atol=1e-6)
    pre = rt.tensor(rand((3, 2), 41))
    e = nn.Embedding.from_pretrained(pre)
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(rt.tensor([2, 0])).numpy(), pre.numpy()[[2, 0]])
    assert nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
