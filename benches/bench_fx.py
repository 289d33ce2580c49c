"""torch.compile(backend="rustorch") vs eager torch, in the same run.

Run: python benches/bench_fx.py [--threads 1] [--rounds 5] [--batch 64] [--cnn] [--markdown]

Cases (batch 64): the MLP 784-256-128-10 (ReLU) inference call under no_grad, and its
training step (zero_grad, forward, cross_entropy, backward, torch.optim.SGD step; the loss and
the optimizer are torch's in both columns, the model's forward and backward graphs run on
rustorch in the compiled one). ``--cnn`` adds the small CNN of examples/compile_backend_demo.py
(two conv-bn-relu-pool blocks and a linear layer, 1x28x28 input).

Both versions run in one process (the compiled one is a torch module), alternating round by
round; each figure is the best over rounds of the mean time of a ~0.2 s repeat loop (the
machine this was written on shares its cores with other jobs: the best round is the one least
disturbed, for both columns alike).
torch and rustorch are given the same thread count. "speedup" is eager time / compiled time.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time


def _time(fn, min_time=0.2, max_reps=2000):
    fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or reps >= max_reps:
            return dt / reps
        reps = min(max_reps, max(reps * 2, int(reps * min_time / max(dt, 1e-9)) + 1))


def _models(torch, with_cnn):
    nn = torch.nn
    torch.manual_seed(0)
    cases = [
        (
            "MLP 784-256-128-10",
            nn.Sequential(
                nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
            ),
            (784,),
        )
    ]
    if with_cnn:
        cases.append(
            (
                "CNN 2x(conv-bn-relu-pool)+linear",
                nn.Sequential(
                    nn.Conv2d(1, 8, 3, padding=1),
                    nn.BatchNorm2d(8),
                    nn.ReLU(),
                    nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3, padding=1),
                    nn.BatchNorm2d(16),
                    nn.ReLU(),
                    nn.MaxPool2d(2),
                    nn.Flatten(),
                    nn.Linear(16 * 7 * 7, 10),
                ),
                (1, 28, 28),
            )
        )
    return cases


def run(threads, rounds, batch, with_cnn):
    import torch
    import torch.nn.functional as F

    import rustorch
    import rustorch.fx  # noqa: F401  (registers "rustorch"; the entry point does it too)

    rows = []
    for nt in threads:
        torch.set_num_threads(nt)
        rustorch.set_num_threads(nt)
        for name, model, in_shape in _models(torch, with_cnn):
            x = torch.randn(batch, *in_shape)
            y = torch.randint(0, 10, (batch,))
            eager = copy.deepcopy(model)
            compiled = torch.compile(model, backend="rustorch")
            opt_e = torch.optim.SGD(eager.parameters(), lr=1e-3)
            opt_c = torch.optim.SGD(model.parameters(), lr=1e-3)

            def infer(m, x=x):
                def f():
                    with torch.no_grad():
                        m(x)

                return f

            def train(m, opt, x=x, y=y):
                def f():
                    opt.zero_grad()
                    F.cross_entropy(m(x), y).backward()
                    opt.step()

                return f

            for kind, fe, fc, mode in (
                ("inference", infer(eager), infer(compiled), "eval"),
                ("training step", train(eager, opt_e), train(compiled, opt_c), "train"),
            ):
                for m in (eager, model):
                    getattr(m, mode)()
                fc()  # compile this mode's graphs before timing
                te, tc = [], []
                for _ in range(rounds):
                    te.append(_time(fe))
                    tc.append(_time(fc))
                e, c = min(te), min(tc)
                rows.append((nt, f"{name} {kind}", e, c))
                print(
                    f"threads {nt}  {name:34s} {kind:14s} eager {e * 1e6:9.1f} us   "
                    f"rustorch {c * 1e6:9.1f} us   speedup {e / c:5.2f}",
                    file=sys.stderr,
                )
            torch._dynamo.reset()
    return rows


def markdown(rows, batch):
    out = [
        f'| threads | case (batch {batch}) | eager torch | compile(backend="rustorch") | speedup |',
        "|--------:|------|------------:|------------:|--------:|",
    ]
    for nt, case, e, c in rows:
        out.append(f"| {nt} | {case} | {e * 1e6:.0f} us | {c * 1e6:.0f} us | {e / c:.2f} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--cnn", action="store_true", help="also time the small CNN")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("bench_fx.py needs torch (pip install -e '.[bench]')")
    rows = run(args.threads, args.rounds, args.batch, args.cnn)
    if args.markdown:
        print(markdown(rows, args.batch))


if __name__ == "__main__":
    main()
