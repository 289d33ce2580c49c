"""torch.compile(model, backend="rustorch"): an MLP and a small CNN run on rustorch's kernels.

Run: python examples/compile_backend_demo.py [--steps 5] [--batch 64] [--threads 1]

For each model: compile with backend="rustorch", check the compiled outputs against eager
torch, train both copies for a few SGD steps (forward and backward graphs run on rustorch,
the optimizer is torch's) and compare the parameters, then time an inference call and a
training step of each, and list the ATen ops that ran natively (and any that fell back).
torch and rustorch get the same thread count (default 1: on a machine whose cores are shared
with other jobs, multi-threaded timings of both swing wildly).
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_mlp():
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(16 * 7 * 7, 10),
    )


def timed(fn, reps):
    fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b))


def demo(name, model, x, y, steps, reps):
    import rustorch.fx as rfx

    print(f"== {name}")
    # dropout draws rustorch's random numbers, not torch's: compare with it switched off
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    ref = copy.deepcopy(model)
    first = len(rfx.programs())
    compiled = torch.compile(model, backend="rustorch")

    t0 = time.perf_counter()
    out = compiled(x)
    F.cross_entropy(out, y).backward()
    print(f"compile + first step: {time.perf_counter() - t0:.2f} s")
    model.zero_grad()
    print(f"outputs vs eager: max |diff| = {(out - ref(x)).abs().max().item():.2e}")

    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ropt = torch.optim.SGD(ref.parameters(), lr=0.01, momentum=0.9)
    for step in range(steps):
        for m, o in ((compiled, opt), (ref, ropt)):
            o.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            o.step()
        print(f"  step {step}: loss {loss.item():.4f}")
    diff = max_diff(model.state_dict().values(), ref.state_dict().values())
    print(f"parameters and buffers after {steps} steps vs eager: max |diff| = {diff:.2e}")

    def infer(m):
        def run():
            with torch.no_grad():
                m(x)

        return run

    def train(m, o):
        def run():
            o.zero_grad()
            F.cross_entropy(m(x), y).backward()
            o.step()

        return run

    model.eval()
    ref.eval()
    infer(compiled)()  # compile the inference graph before timing
    ti_e, ti_c = timed(infer(ref), reps), timed(infer(compiled), reps)
    model.train()
    ref.train()
    for mod in (model, ref):
        for m in mod.modules():
            if isinstance(m, nn.Dropout):
                m.eval()
    tt_e, tt_c = timed(train(ref, ropt), reps), timed(train(compiled, opt), reps)
    print(f"inference     eager {ti_e * 1e3:8.3f} ms   rustorch {ti_c * 1e3:8.3f} ms")
    print(f"training step eager {tt_e * 1e3:8.3f} ms   rustorch {tt_c * 1e3:8.3f} ms")

    progs = rfx.programs()[first:]
    native = sorted(set().union(*(p.native_ops() for p in progs)))
    fallback = sorted(set().union(*(p.fallback_ops for p in progs)))
    print(f"graphs compiled: {', '.join(p.graph_name for p in progs)}")
    print(f"natively run ops ({len(native)}): {', '.join(native)}")
    print(f"ops run on eager torch: {', '.join(fallback) if fallback else 'none'}")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    import rustorch

    torch.set_num_threads(args.threads)
    rustorch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.batch
    demo(
        "MLP 784-256-128-10",
        make_mlp(),
        torch.randn(n, 784),
        torch.randint(0, 10, (n,)),
        args.steps,
        args.reps,
    )
    demo(
        "CNN conv-bn-relu-pool x2, linear",
        make_cnn(),
        torch.randn(n, 1, 28, 28),
        torch.randint(0, 10, (n,)),
        args.steps,
        args.reps,
    )


if __name__ == "__main__":
    main()
