"""Training-step benchmarks: rustorch vs torch on the same models, same run.

Run: python benches/bench_train.py [--threads 1 2] [--rounds 3] [--quick]

A step is forward, cross_entropy, backward and an SGD update. Models: a 784-256-10 MLP at
batch 64 and 512, and a small CNN (conv-bn-relu-pool x2, linear) on 1x28x28 input at batch 64.
Steps/s are the median of interleaved rounds; ratio = rustorch steps/s / torch steps/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import rustorch as rt

try:
    import torch
except ImportError:
    torch = None


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 7 * 7, 10),
    )


def _stepper(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    F = lib.nn.functional

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _steps_per_s(step, min_time):
    step()
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return n / dt


def cases(quick):
    rng = np.random.default_rng(0)
    out = []
    for name, make, shape, batch in (
        ("MLP 784-256-10", mlp, (784,), 64),
        ("MLP 784-256-10", mlp, (784,), 512),
        ("small CNN 1x28x28", cnn, (1, 28, 28), 64),
    ):
        x = rng.standard_normal((batch,) + shape).astype(np.float32)
        y = rng.integers(0, 10, batch)
        libs = {"rustorch": (rt, rt.tensor(x), rt.tensor(y))}
        if torch is not None:
            libs["torch"] = (torch, torch.from_numpy(x), torch.from_numpy(y))
        steps = {}
        for lname, (lib, xx, yy) in libs.items():
            model = make(lib)
            model.train()
            steps[lname] = _stepper(lib, model, xx, yy)
        out.append((f"{name} batch {batch}", steps))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    min_time = 0.2 if a.quick else 1.0
    rounds = 1 if a.quick else a.rounds
    print(
        f"{'workload':34s} {'thr':>3s} {'rustorch step/s':>16s} {'torch step/s':>13s} {'ratio':>6s}"
    )
    for nt in a.threads:
        rt.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        for name, steps in cases(a.quick):
            res = {k: [] for k in steps}
            for _ in range(rounds):  # interleave the libraries round by round
                for k, f in steps.items():
                    res[k].append(_steps_per_s(f, min_time))
            r = statistics.median(res["rustorch"])
            t = statistics.median(res["torch"]) if "torch" in res else None
            ratio = f"{r / t:.2f}" if t else "-"
            tt = f"{t:.0f}" if t else "-"
            print(f"{name:34s} {nt:>3d} {r:>16.0f} {tt:>13s} {ratio:>6s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
