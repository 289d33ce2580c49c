"""Core-op benchmarks: rustorch vs torch in the same run, with ratios.

Run: python benches/bench_core.py [--threads 1 2] [--rounds 5] [--quick] [--json out.json]

Every workload is timed for both libraries, interleaved round by round (this machine's second
core is shared and noisy, so the median of rounds is reported). "ratio" is torch time divided by
rustorch time: above 1.0 means rustorch is faster.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

import rustorch as rt

try:
    import torch
except ImportError:  # the benchmark still runs, without the comparison column
    torch = None


def _time(fn, min_time=0.05, max_reps=10_000):
    """Best-of-inner-loop seconds per call: repeat fn until min_time has passed."""
    fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or reps >= max_reps:
            return dt / reps
        reps = min(max_reps, reps * 4 if dt < min_time / 8 else reps * 2)


def _pair(np_a, np_b=None):
    a = rt.from_numpy(np_a)
    ta = torch.from_numpy(np_a) if torch is not None else None
    if np_b is None:
        return a, ta
    b = rt.from_numpy(np_b)
    tb = torch.from_numpy(np_b) if torch is not None else None
    return a, ta, b, tb


def workloads(quick: bool):
    rng = np.random.default_rng(0)
    big = 1 << 22 if quick else 1 << 24
    small = 1 << 20
    bname = "4M" if quick else "16M"
    side = 1024 if quick else 4096
    w = []
    for n, name in ((small, "1M"), (big, bname)):
        x = rng.random(n, dtype=np.float32)
        y = rng.random(n, dtype=np.float32)
        a, ta, b, tb = _pair(x, y)
        gb = 3 * 4 * n / 1e9
        w.append((f"add {name}", lambda a=a, b=b: a + b, lambda a=ta, b=tb: a + b, gb))
        w.append((f"mul {name}", lambda a=a, b=b: a * b, lambda a=ta, b=tb: a * b, gb))
    x = rng.standard_normal(big, dtype=np.float32)
    a, ta = _pair(x)
    gb = 2 * 4 * big / 1e9
    w.append((f"relu {bname}", lambda a=a: a.relu(), lambda a=ta: a.relu(), gb))
    w.append((f"exp {bname}", lambda a=a: a.exp(), lambda a=ta: a.exp(), gb))
    w.append((f"sum {bname}", lambda a=a: a.sum(), lambda a=ta: a.sum(), 4 * big / 1e9))
    m = rng.random((side, side), dtype=np.float32)
    v = rng.random(side, dtype=np.float32)
    a, ta, b, tb = _pair(m, v)
    w.append(
        (
            f"bcast add {side}x{side}+{side}",
            lambda a=a, b=b: a + b,
            lambda a=ta, b=tb: a + b,
            2 * 4 * side * side / 1e9,
        )
    )
    w.append(
        (
            f"sum dim1 {side}x{side}",
            lambda a=a: a.sum(1),
            lambda a=ta: a.sum(1),
            4 * side * side / 1e9,
        )
    )
    a, ta, b, tb = _pair(np.ones(1, np.float32), np.ones(1, np.float32))
    w.append(("a + b (1 element)", lambda a=a, b=b: a + b, lambda a=ta, b=tb: a + b, None))
    x = rt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = rt.tensor([4.0, 5.0, 6.0], requires_grad=True)

    def tiny_rt(x=x, y=y):
        (x * y + x).sum().backward()

    tiny_t = None
    if torch is not None:
        tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        ty = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)

        def tiny_t(x=tx, y=ty):
            (x * y + x).sum().backward()

    w.append(("tiny graph fwd+bwd", tiny_rt, tiny_t, None))
    return w


def import_time(module: str, runs: int = 5) -> float:
    """Median wall time of `import module` in a fresh interpreter (seconds)."""
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    ts = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode != 0:
            return float("nan")
        ts.append(float(out.stdout.strip()))
    return statistics.median(ts)


def _fmt_t(s):
    if s is None or s != s:
        return "-"
    return f"{s * 1e6:.2f} us" if s < 1e-3 else f"{s * 1e3:.3f} ms"


def run(threads, rounds, quick):
    results = []
    for nt in threads:
        rt.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        for name, f_rt, f_t, gb in workloads(quick):
            tr, tt = [], []
            for _ in range(rounds):  # interleave the two libraries round by round
                tr.append(_time(f_rt))
                if f_t is not None:
                    tt.append(_time(f_t))
            r = statistics.median(tr)
            t = statistics.median(tt) if tt else None
            results.append(
                {
                    "name": name,
                    "threads": nt,
                    "rustorch_s": r,
                    "torch_s": t,
                    "ratio": (t / r) if t else None,
                    "rustorch_gbps": (gb / r) if gb else None,
                    "torch_gbps": (gb / t) if (gb and t) else None,
                    "rustorch_rounds": tr,
                    "torch_rounds": tt,
                }
            )
    rt_imp = import_time("rustorch")
    t_imp = import_time("torch") if torch is not None else None
    results.append(
        {
            "name": "import (fresh process)",
            "threads": 0,
            "rustorch_s": rt_imp,
            "torch_s": t_imp,
            "ratio": (t_imp / rt_imp) if t_imp else None,
            "rustorch_gbps": None,
            "torch_gbps": None,
        }
    )
    return results


def print_table(results, file=sys.stdout):
    print(
        f"rustorch {rt.__version__}, kernels: {rt.isa_level()}; "
        f"torch {torch.__version__ if torch else 'not installed'}",
        file=file,
    )
    hdr = (
        f"{'workload':30s} {'thr':>3s} {'rustorch':>12s} {'torch':>12s} {'GB/s rt':>8s} "
        f"{'GB/s th':>8s} {'ratio':>6s}"
    )
    print(hdr, file=file)
    print("-" * len(hdr), file=file)
    for r in results:
        g1 = f"{r['rustorch_gbps']:.1f}" if r["rustorch_gbps"] else "-"
        g2 = f"{r['torch_gbps']:.1f}" if r["torch_gbps"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        thr = str(r["threads"]) if r["threads"] else "-"
        print(
            f"{r['name']:30s} {thr:>3s} {_fmt_t(r['rustorch_s']):>12s} "
            f"{_fmt_t(r['torch_s']):>12s} {g1:>8s} {g2:>8s} {ratio:>6s}",
            file=file,
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="smaller sizes, 1 round")
    p.add_argument("--json", help="also write the results as JSON to this path")
    args = p.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    results = run(args.threads, rounds, args.quick)
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": _machine(), "results": results}, f, indent=1)
    return 0


def _machine():
    import platform

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "isa": rt.isa_level(),
        "rustorch": rt.__version__,
        "torch": torch.__version__ if torch else None,
    }


if __name__ == "__main__":
    sys.exit(main())
