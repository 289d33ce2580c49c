"""Numerics: huge logits stay finite, batch-norm variance of large-mean data, long sums."""

import numpy as np
import pytest

import rustorch as rt
import rustorch.nn.functional as F

torch = pytest.importorskip("torch")


def _logits(scale):
    g = np.random.default_rng(0)
    return (g.standard_normal((16, 10)) * scale).astype(np.float32)


@pytest.mark.parametrize("scale", [1e4, -1e4, 3e4])
def test_softmax_family_with_huge_logits_is_finite_like_torch(scale):
    x = _logits(scale)
    x[0] = scale  # all-equal row: ties at a huge value
    x[1, 3] = 2 * abs(scale)
    tx = torch.tensor(x, requires_grad=True)
    rx = rt.tensor(x, requires_grad=True)
    for name in ("softmax", "log_softmax"):
        got = getattr(F, name)(rx, 1)
        exp = getattr(torch.nn.functional, name)(tx, 1)
        assert np.isfinite(got.detach().numpy()).all()
        np.testing.assert_allclose(got.detach().numpy(), exp.detach().numpy(), rtol=1e-5, atol=1e-6)
    y = np.random.default_rng(1).integers(0, 10, 16)
    for ls in (0.0, 0.1):
        lt = torch.nn.functional.cross_entropy(tx, torch.tensor(y), label_smoothing=ls)
        lr = F.cross_entropy(rx, rt.tensor(y), label_smoothing=ls)
        assert np.isfinite(lr.item())
        np.testing.assert_allclose(lr.item(), lt.item(), rtol=1e-5)
        lt.backward()
        lr.backward()
        assert np.isfinite(rx.grad.numpy()).all()
        np.testing.assert_allclose(rx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
        tx.grad = None
        rx.grad = None


@pytest.mark.parametrize("mean", [1e3, 1e4, 1e5])
def test_batch_norm_variance_of_large_mean_data(mean):
    g = np.random.default_rng(0)
    x = (mean + g.standard_normal((256, 4, 6, 6))).astype(np.float32)  # variance ~ 1
    xd = x.astype(np.float64)
    true_var = xd.var(axis=(0, 2, 3), ddof=1)
    rm, rv = rt.zeros(4), rt.ones(4)
    y = F.batch_norm(rt.tensor(x), rm, rv, training=True, momentum=1.0)
    # running_var takes the unbiased batch variance with momentum 1: compare against float64
    np.testing.assert_allclose(rv.numpy(), true_var, rtol=1e-3)
    np.testing.assert_allclose(rm.numpy(), xd.mean(axis=(0, 2, 3)), rtol=1e-6)
    yn = y.numpy().astype(np.float64)
    np.testing.assert_allclose(yn.std(axis=(0, 2, 3)), 1.0, atol=2e-3)
    ty = torch.nn.functional.batch_norm(
        torch.tensor(x), torch.zeros(4), torch.ones(4), training=True, momentum=1.0
    )
    # as accurate as torch (torch's error here is about 1e-3 at mean 1e5 in float32)
    err_ours = np.abs(yn - ty.double().numpy()).max()
    assert err_ours < 5e-2, err_ours


def test_sum_of_16m_elements_within_pairwise_bound():
    n = 1 << 24
    g = np.random.default_rng(0)
    a = g.random(n, dtype=np.float32) + np.float32(0.5)  # all positive: no cancellation
    exact = a.astype(np.float64).sum()
    eps = np.finfo(np.float32).eps
    bound = eps * np.log2(n) * np.abs(a.astype(np.float64)).sum()  # pairwise summation bound
    t = rt.from_numpy(a)
    got = float(t.sum())
    assert abs(got - exact) <= bound, (got, exact, bound)
    # and much better than the naive bound (n * eps * sum) that sequential float32 would get
    assert abs(got - exact) / exact < 1e-6
    np.testing.assert_allclose(float(t.mean()), exact / n, rtol=1e-6)
    # a reduction over a dim of 16M/4 elements per row
    rows = t.view(4, -1).sum(1).numpy()
    np.testing.assert_allclose(rows, a.reshape(4, -1).astype(np.float64).sum(1), rtol=1e-6)
    # and across a column reduction (outer sum over 2**12 rows of 2**12 columns)
    cols = t.view(4096, 4096).sum(0).numpy()
    np.testing.assert_allclose(cols, a.reshape(4096, 4096).astype(np.float64).sum(0), rtol=1e-5)


def test_mixed_sign_sum_and_mean_of_large_offset_data():
    g = np.random.default_rng(1)
    a = (1e4 + g.standard_normal(1 << 20)).astype(np.float32)
    exact = a.astype(np.float64).sum()
    got = float(rt.from_numpy(a).sum())
    assert abs(got - exact) / exact < 1e-6
    b = g.standard_normal(1 << 20).astype(np.float32)
    got_b = float(rt.from_numpy(b).sum())
    assert abs(got_b - b.astype(np.float64).sum()) < 1e-6 * np.abs(b).sum()
