"""End to end: a small CNN (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, Linear) trained with
nn.CrossEntropyLoss and SGD on scikit-learn's bundled 8x8 digits, and the same model loaded into
torch giving the same predictions."""

import time

import numpy as np
import pytest

import rustorch as rt
from rustorch import nn, optim

datasets = pytest.importorskip("sklearn.datasets")


def _data():
    d = datasets.load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(0).permutation(len(x))
    x, y = x[idx], y[idx]
    n_test = 360
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def _model(nn_):
    return nn_.Sequential(
        nn_.Conv2d(1, 16, 3, padding=1),
        nn_.BatchNorm2d(16),
        nn_.ReLU(),
        nn_.MaxPool2d(2),
        nn_.Conv2d(16, 32, 3, padding=1),
        nn_.BatchNorm2d(32),
        nn_.ReLU(),
        nn_.MaxPool2d(2),
        nn_.Flatten(),
        nn_.Dropout(0.25),
        nn_.Linear(32 * 2 * 2, 10),
    )


@pytest.fixture
def one_thread():
    # tiny batches: on a shared 2-core machine, 2-thread parallel regions wait for a busy core
    old = rt.get_num_threads()
    rt.set_num_threads(1)
    yield
    rt.set_num_threads(old)


def test_cnn_learns_digits(one_thread):
    rt.manual_seed(0)
    xtr, ytr, xte, yte = _data()
    model = _model(nn)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _epoch in range(6):
        model.train()
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), 64):
            b = order[i : i + 64]
            loss = loss_fn(model(rt.tensor(xtr[b])), rt.tensor(ytr[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    elapsed = time.perf_counter() - t0
    model.eval()
    with rt.no_grad():
        logits = model(rt.tensor(xte))
    acc = float((logits.argmax(dim=1).numpy() == yte).mean())
    print(f"held-out accuracy {acc:.3f}, {elapsed:.2f} s")
    assert acc >= 0.95, f"held-out accuracy {acc:.3f}"
    assert elapsed < 30, f"training took {elapsed:.1f} s"  # ~0.6 s on one core

    torch = pytest.importorskip("torch")
    tmodel = _model(torch.nn)
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    tmodel.eval()
    with torch.no_grad():
        tlogits = tmodel(torch.tensor(xte))
    np.testing.assert_allclose(logits.numpy(), tlogits.numpy(), rtol=1e-3, atol=1e-3)
