"""End to end: an MLP trained with rustorch.nn + rustorch.optim on scikit-learn's digits.

The loss is a hand-written cross-entropy from basic ops (a stable log-softmax through amax, exp,
sum and log, and a one-hot mask), so this test depends only on Module, Linear, ReLU, the
optimizers and autograd.
"""

import time

import numpy as np
import pytest

import rustorch as rt
from rustorch import nn, optim

datasets = pytest.importorskip("sklearn.datasets")


def _data():
    d = datasets.load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(0).permutation(len(x))
    x, y = x[idx], y[idx]
    n_test = 360
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def _cross_entropy(logits, onehot):
    m = logits.amax(dim=1, keepdim=True).detach()  # log-softmax is shift invariant
    z = logits - m
    logp = z - z.exp().sum(dim=1, keepdim=True).log()
    return -(logp * onehot).sum() / logits.shape[0]


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=3e-3),
        lambda ps: optim.AdamW(ps, lr=3e-3, weight_decay=1e-2),
    ],
    ids=["sgd_momentum", "adam", "adamw"],
)
def test_mlp_learns_digits(make_opt):
    rt.manual_seed(0)
    xtr, ytr, xte, yte = _data()
    eye = np.eye(10, dtype=np.float32)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = make_opt(model.parameters())
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=15)
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _epoch in range(15):
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), 64):
            b = order[i : i + 64]
            loss = _cross_entropy(model(rt.tensor(xtr[b])), rt.tensor(eye[ytr[b]]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    elapsed = time.perf_counter() - t0
    model.eval()
    with rt.no_grad():
        pred = model(rt.tensor(xte)).argmax(dim=1).numpy()
    acc = float((pred == yte).mean())
    print(f"held-out accuracy {acc:.3f}, {elapsed:.2f} s")
    assert acc >= 0.95, f"held-out accuracy {acc:.3f}"
    assert float(loss) < 0.3
    assert elapsed < 60, f"training took {elapsed:.1f} s"  # ~1 s on an idle 2-core machine
