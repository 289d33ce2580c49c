"""NN-op benchmarks: conv2d, max_pool2d, batch_norm, layer_norm vs torch in the same run.

Run: python benches/bench_nn.py [--threads 1 2] [--rounds 5] [--only SUBSTR] [--markdown]
[--json out.json]  (--only keeps the workloads whose name contains SUBSTR)

Each library is timed in its own process (two OpenMP runtimes spinning in one process steal
each other's cores), the two alternating round by round; the median of rounds is reported
(this machine's second core is shared and noisy). "ratio" is torch time divided by
rustorch time: above 1.0 means rustorch is faster. "fwd+bwd" runs the forward and a backward
with a fixed upstream gradient into every input that requires grad (input, weight, bias), with
the leaves' .grad reset each call so no accumulation is timed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time

import numpy as np

HAVE_TORCH = importlib.util.find_spec("torch") is not None  # compared when installed


def _time(fn, min_time=0.2, max_reps=1000):
    """Seconds per call: repeat fn until min_time has passed (after one warm-up call)."""
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


def _leaves(lib, rng, shapes):
    arrs = [rng.standard_normal(s).astype(np.float32) * 0.5 for s in shapes]
    return [lib.tensor(a, requires_grad=True) for a in arrs]


def _fwd_bwd(fn, leaves, g):
    def run():
        for x in leaves:
            x.grad = None
        fn(*leaves).backward(g)

    return run


def _fwd(fn, leaves, nograd):
    def run():
        with nograd():
            fn(*leaves)

    return run


def workloads(lib, F):
    """[(name, callable, work, unit)] for one library (rustorch or torch, same data)."""
    rng = np.random.default_rng(0)
    w = []
    for xs, ws in (((32, 3, 32, 32), (32, 3, 3, 3)), ((32, 32, 16, 16), (64, 32, 3, 3))):
        N, C, H, W = xs
        OC = ws[0]
        flops = 2.0 * N * OC * H * W * C * 9
        tag = f"conv2d {N}x{C}x{H}x{W} {C}->{OC} 3x3 p1"
        leaves = _leaves(lib, rng, (xs, ws, (OC,)))
        gy = lib.tensor(rng.standard_normal((N, OC, H, W)).astype(np.float32))

        def conv(x, w_, b):
            return F.conv2d(x, w_, b, padding=1)

        w.append((tag + " fwd", _fwd(conv, leaves, lib.no_grad), flops, "GFLOP/s"))
        w.append((tag + " fwd+bwd", _fwd_bwd(conv, leaves, gy), 3 * flops, "GFLOP/s"))
    shape = (32, 64, 32, 32)
    nbytes = 4 * float(np.prod(shape))
    (x,) = _leaves(lib, rng, (shape,))
    gy = lib.tensor(rng.standard_normal((32, 64, 16, 16)).astype(np.float32))
    # bytes: read x, write y (forward); read gy, write gx (backward)
    w.append(
        (
            "max_pool2d 32x64x32x32 k2 s2 fwd+bwd",
            _fwd_bwd(lambda x: F.max_pool2d(x, 2), (x,), gy),
            2.5 * nbytes,
            "GB/s",
        )
    )
    w.append(
        (
            "max_pool2d 32x64x32x32 k3 s2 p1 fwd+bwd",
            _fwd_bwd(lambda x: F.max_pool2d(x, 3, 2, 1), (x,), gy),
            2.5 * nbytes,
            "GB/s",
        )
    )
    leaves = _leaves(lib, rng, (shape, (64,), (64,)))
    gy = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    rm, rv = lib.zeros(64), lib.ones(64)

    def bn(x, w_, b):
        return F.batch_norm(x, rm, rv, w_, b, training=True)

    # bytes: read x, write y (forward); read gy and x, write gx (backward)
    w.append(("batch_norm 32x64x32x32 train fwd+bwd", _fwd_bwd(bn, leaves, gy), 5 * nbytes, "GB/s"))
    shape = (64, 128, 256)
    nbytes = 4 * float(np.prod(shape))
    leaves = _leaves(lib, rng, (shape, (256,), (256,)))
    gy = lib.tensor(rng.standard_normal(shape).astype(np.float32))

    def ln(x, w_, b):
        return F.layer_norm(x, (256,), w_, b)

    # bytes: read x, write y (forward); read gy and x, write gx (backward)
    name = "layer_norm 64x128x256 over 256 fwd+bwd"
    w.append((name, _fwd_bwd(ln, leaves, gy), 5 * nbytes, "GB/s"))
    return w


def _select(ws, only):
    return [t for t in ws if not only or only in t[0]]


def worker(libname, threads, only=None):
    """Time every workload for one library in this process; print JSON {name: seconds}."""
    if libname == "torch":
        import torch as lib
        import torch.nn.functional as F
    else:
        import rustorch as lib
        import rustorch.nn.functional as F
    lib.set_num_threads(threads)
    out = {name: _time(fn) for name, fn, _, _ in _select(workloads(lib, F), only)}
    print(json.dumps(out))


def _run_worker(libname, threads, only=None):
    extra = ["--only", only] if only else []
    r = subprocess.run(
        [sys.executable, __file__, "--worker", libname, "--threads", str(threads), *extra],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"benchmark worker for {libname} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _fmt_t(s):
    if s is None or s != s:
        return "-"
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.3f} ms"


def run(threads, rounds, only=None):
    """Each library runs in its own process (two OpenMP runtimes spinning in one process would
    steal each other's cores), the processes alternating round by round; medians reported."""
    import rustorch as rt

    ws = _select(workloads(rt, _rt_functional()), only)
    meta = {name: (work, unit) for name, _, work, unit in ws}
    results = []
    for nt in threads:
        times = {"rustorch": [], "torch": []}
        for _ in range(rounds):
            for lib in times:
                if lib == "torch" and not HAVE_TORCH:
                    continue
                times[lib].append(_run_worker(lib, nt, only))
        for name, (work, unit) in meta.items():
            r = statistics.median(t[name] for t in times["rustorch"])
            t = statistics.median(t[name] for t in times["torch"]) if times["torch"] else None
            results.append(
                {
                    "name": name,
                    "threads": nt,
                    "rustorch_s": r,
                    "torch_s": t,
                    "ratio": (t / r) if t else None,
                    "unit": unit,
                    "rustorch_rate": work / r / 1e9,
                    "torch_rate": (work / t / 1e9) if t else None,
                    "rustorch_rounds": [t[name] for t in times["rustorch"]],
                    "torch_rounds": [t[name] for t in times["torch"]],
                }
            )
    return results


def _rt_functional():
    import rustorch.nn.functional as F

    return F


def print_table(results, markdown=False, file=sys.stdout):
    import rustorch as rt

    tv = "not installed"
    if HAVE_TORCH:
        from importlib.metadata import version

        tv = version("torch")
    print(f"rustorch {rt.__version__}; torch {tv}", file=file)
    if markdown:
        print(
            "| workload | thr | rustorch | torch | rate rustorch | rate torch | ratio |", file=file
        )
        print("|---|---:|---:|---:|---:|---:|---:|", file=file)
    else:
        hdr = (
            f"{'workload':42s} {'thr':>3s} {'rustorch':>10s} {'torch':>10s} "
            f"{'rate rt':>14s} {'rate torch':>14s} {'ratio':>6s}"
        )
        print(hdr, file=file)
        print("-" * len(hdr), file=file)
    for r in results:
        ra = f"{r['rustorch_rate']:.1f} {r['unit']}"
        rb = f"{r['torch_rate']:.1f} {r['unit']}" if r["torch_rate"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        a, b = _fmt_t(r["rustorch_s"]), _fmt_t(r["torch_s"])
        if markdown:
            print(
                f"| {r['name']} | {r['threads']} | {a} | {b} | {ra} | {rb} | {ratio} |", file=file
            )
        else:
            print(
                f"{r['name']:42s} {r['threads']:>3d} {a:>10s} {b:>10s} {ra:>14s} {rb:>14s} "
                f"{ratio:>6s}",
                file=file,
            )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--markdown", action="store_true", help="print a markdown table")
    p.add_argument("--json", help="also write the results as JSON to this path")
    p.add_argument("--only", help="run only the workloads whose name contains this string")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.threads[0], args.only)
        return 0
    results = run(args.threads, args.rounds, args.only)
    print_table(results, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
