"""Matmul throughput: rustorch's GEMM kernel against torch.matmul, GFLOP/s per case.

    python benches/bench_matmul.py [--threads 1 2] [--quick] [--rounds 3] [--isa avx2]
                                   [--case NAME ...]

Times the raw kernel call (rustorch._kernels._gemm.gemm on numpy buffers, the same call
rustorch.matmul makes) and torch.matmul on identical data with torch.set_num_threads matching.
torch columns are skipped when torch is not installed. Each figure is the best of several
repeats, each repeat timing enough calls to last ~`--min-time` seconds; the repeats of the
two libraries alternate, so a busy neighbour on a shared machine slows both alike.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rustorch._kernels import _gemm  # noqa: E402

try:
    import torch
except ImportError:  # the torch columns are optional
    torch = None

# name -> (batch, M, N, K, trans_a, trans_b, a_broadcast)
CASES = {
    "square 128": (1, 128, 128, 128, False, False),
    "square 512": (1, 512, 512, 512, False, False),
    "square 1024": (1, 1024, 1024, 1024, False, False),
    "square 2048": (1, 2048, 2048, 2048, False, False),
    "batched 64x128": (64, 128, 128, 128, False, False),
    "batched 64x32": (64, 32, 32, 32, False, False),
    "skinny 4096x1024@1024x64": (1, 4096, 64, 1024, False, False),
    # Linear(784 -> 256) backward at batch 512: x (512x784), g (512x256), W (256x784)
    "linear bw A^T@G 784x512@512x256": (1, 784, 256, 512, True, False),
    "linear bw G@B^T 512x256@256x784": (1, 512, 784, 256, False, True),
}
QUICK = ("square 128", "square 512", "batched 64x32", "skinny 4096x1024@1024x64")


def _operands(batch, M, N, K, ta, tb, rng):
    a = rng.standard_normal((batch, K, M) if ta else (batch, M, K), dtype=np.float32)
    b = rng.standard_normal((batch, N, K) if tb else (batch, K, N), dtype=np.float32)
    return a, b


def _calls_per_repeat(fn, min_time):
    """How many calls of fn make one timed repeat of about min_time seconds."""
    fn()  # warm up: caches, packing buffers, thread pools
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time / 4:
            return max(1, int(n * min_time / max(t, 1e-9)))
        n *= 2


def _best_times(fns, min_time, repeats):
    """Best seconds per call of each fn; repeats alternate between the fns, so a noisy
    neighbour on a shared machine hurts them alike."""
    counts = [_calls_per_repeat(f, min_time) for f in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, (f, n) in enumerate(zip(fns, counts)):
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            best[i] = min(best[i], (time.perf_counter() - t0) / n)
    return best


def bench_case(name, min_time, repeats, gemm):
    """(rustorch GFLOP/s, torch GFLOP/s or None) for one case."""
    batch, M, N, K, ta, tb = CASES[name]
    rng = np.random.default_rng(0)
    a, b = _operands(batch, M, N, K, ta, tb, rng)
    out = np.empty((batch, M, N), dtype=np.float32)
    ao = np.arange(batch, dtype=np.int64) * (M * K)
    bo = np.arange(batch, dtype=np.int64) * (K * N)
    flops = 2.0 * batch * M * N * K

    def ours():
        gemm(a, b, out, ao, bo, M, N, K, ta, tb)

    fns = [ours]
    if torch is not None:
        ta_t, tb_t = torch.from_numpy(a), torch.from_numpy(b)
        at = ta_t.transpose(-1, -2) if ta else ta_t
        bt = tb_t.transpose(-1, -2) if tb else tb_t
        if batch == 1:
            at, bt = at[0], bt[0]
        ours()
        ref = torch.matmul(at, bt).numpy().reshape(out.shape)
        err = np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-30)
        assert err < 1e-4, f"{name}: rustorch and torch disagree (rel err {err:.2e})"
        fns.append(lambda: torch.matmul(at, bt))
    secs = _best_times(fns, min_time, repeats)
    return flops / secs[0] / 1e9, (flops / secs[1] / 1e9 if len(secs) > 1 else None)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, nargs="+", default=[1])
    p.add_argument("--quick", action="store_true", help="a few cases, short timings")
    p.add_argument("--isa", choices=_gemm.LEVELS, help="time this level's module directly")
    p.add_argument("--case", nargs="+", choices=list(CASES), help="only these cases")
    p.add_argument("--min-time", type=float, default=None, help="seconds per repeat")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per figure (best)")
    p.add_argument("--rounds", type=int, default=1, help="report the median of this many figures")
    args = p.parse_args(argv)
    mod = _gemm.module_for(args.isa) if args.isa else _gemm._mod
    names = args.case or (list(QUICK) if args.quick else list(CASES))
    min_time = args.min_time or (0.05 if args.quick else 0.2)
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"rustorch GEMM: {mod.isa_level()} module; torch {torch.__version__ if torch else 'n/a'}")
    print(f"CPU threads available: {len(os.sched_getaffinity(0))}")
    for nt in args.threads:
        mod.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        print(f"\nthreads={nt}")
        print(f"{'case':34s} {'rustorch':>10s} {'torch':>10s} {'ratio':>7s}   (GFLOP/s)")
        ratios = []
        for name in names:
            runs = [bench_case(name, min_time, repeats, mod.gemm) for _ in range(args.rounds)]
            ours = statistics.median(r[0] for r in runs)
            theirs = statistics.median(r[1] for r in runs) if runs[0][1] else None
            if theirs:
                ratios.append(ours / theirs)
                print(f"{name:34s} {ours:10.1f} {theirs:10.1f} {ours / theirs:7.2f}")
            else:
                print(f"{name:34s} {ours:10.1f} {'-':>10s} {'-':>7s}")
        if ratios:
            print(f"{'median ratio':34s} {'':10s} {'':10s} {statistics.median(ratios):7.2f}")


if __name__ == "__main__":
    main()
