"""Run every rustorch benchmark against torch, print one table, optionally write JSON.

    python -m benches [--quick] [--threads 1 2] [--rounds 3] [--only core matmul nn train fx]
                      [--json results.json] [--no-torch]

Groups: core (bench_core.py), matmul (bench_matmul.py), nn (bench_nn.py), train
(bench_train.py), fx (bench_fx.py: torch.compile(backend="rustorch") against eager torch; needs
torch). ``--quick``: small sizes, one round, one thread, well under a minute; CI runs it.

``--json PATH`` writes pytest-benchmark's JSON format (``machine_info``, ``commit_info``,
``benchmarks``, ``datetime``, ``version``), so ``pytest-benchmark compare`` and the tools that
read its files (github-action-benchmark, ...) work on it. Each benchmark's ``stats`` are
rustorch's seconds per call (per training step for "train") over the rounds; ``extra_info``
holds the torch median (``torch_median``, null without torch), ``ratio`` = torch time /
rustorch time (above 1: rustorch faster) and ``threads``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

GROUPS = ("core", "matmul", "nn", "train", "fx")
FORMAT_VERSION = "5.1.0"  # the pytest-benchmark JSON layout this file follows
ROOT = Path(__file__).resolve().parents[1]


def _row(group, name, threads, rt_times, torch_times, unit="s/call", extra=None):
    return {
        "group": group,
        "name": name,
        "threads": threads,
        "rustorch": list(rt_times),
        "torch": list(torch_times or []),
        "unit": unit,
        "extra": extra or {},
    }


# -- the groups ---------------------------------------------------------------------------


def run_core(threads, rounds, quick, use_torch):
    from benches import bench_core

    if not use_torch:
        bench_core.torch = None
    rows = []
    for r in bench_core.run(threads, rounds, quick):
        nt = r["threads"]
        rt_t = r.get("rustorch_rounds") or [r["rustorch_s"]]
        th_t = r.get("torch_rounds") or ([r["torch_s"]] if r["torch_s"] else [])
        name = r["name"]
        extra = {"gbps": r["rustorch_gbps"]} if r["rustorch_gbps"] else {}
        rows.append(_row("core", name, nt, rt_t, th_t, extra=extra))
    return rows


def run_matmul(threads, rounds, quick, use_torch):
    from benches import bench_matmul
    from rustorch._kernels import _gemm

    if not use_torch:
        bench_matmul.torch = None
    torch = bench_matmul.torch
    mod = _gemm._mod
    names = list(bench_matmul.QUICK[:2] if quick else bench_matmul.CASES)
    min_time, repeats = (0.03, 2) if quick else (0.2, 5)
    rows = []
    for nt in threads:
        mod.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        for name in names:
            batch, M, N, K, _, _ = bench_matmul.CASES[name]
            flops = 2.0 * batch * M * N * K
            res = [
                bench_matmul.bench_case(name, min_time, repeats, mod.gemm) for _ in range(rounds)
            ]
            rt_t = [flops / (g * 1e9) for g, _ in res]
            th_t = [flops / (g * 1e9) for _, g in res if g]
            rows.append(_row("matmul", name, nt, rt_t, th_t, extra={"flops": flops}))
    return rows


def run_nn(threads, rounds, quick, use_torch):
    from benches import bench_nn

    if not use_torch:
        bench_nn.HAVE_TORCH = False
    rows = []
    for r in bench_nn.run(threads, rounds):
        rows.append(
            _row(
                "nn",
                r["name"],
                r["threads"],
                r["rustorch_rounds"],
                r["torch_rounds"],
                extra={"rate": r["rustorch_rate"], "rate_unit": r["unit"]},
            )
        )
    return rows


def run_train(threads, rounds, quick, use_torch):
    import rustorch as rt
    from benches import bench_train

    if not use_torch:
        bench_train.torch = None
    torch = bench_train.torch
    min_time = 0.2 if quick else 1.0
    rows = []
    for nt in threads:
        rt.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        for name, steps in bench_train.cases(quick):
            res = {k: [] for k in steps}
            for _ in range(rounds):  # interleave the libraries round by round
                for k, f in steps.items():
                    res[k].append(1.0 / bench_train._steps_per_s(f, min_time))
            rows.append(_row("train", name, nt, res["rustorch"], res.get("torch"), "s/step"))
    return rows


def run_fx(threads, rounds, quick, use_torch):
    if not use_torch:
        return []
    from benches import bench_fx

    rows = []
    # bench_fx.run returns one summary figure per case: the stats of these rows hold only it
    for nt, case, eager, compiled in bench_fx.run(threads, rounds, 64, not quick):
        rows.append(
            _row(
                "fx",
                f"{case} compiled",
                nt,
                [compiled],
                [eager],
                extra={"rounds_summarised": rounds, "baseline": "eager torch"},
            )
        )
    return rows


RUNNERS = {"core": run_core, "matmul": run_matmul, "nn": run_nn, "train": run_train, "fx": run_fx}


def have_torch():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


# -- pytest-benchmark JSON ------------------------------------------------------------------


def stats(data):
    """pytest-benchmark's Stats fields for a list of per-round seconds."""
    d = sorted(data)
    n = len(d)
    mean = statistics.mean(d)
    sd = statistics.stdev(d) if n > 1 else 0
    if n == 1:
        q1 = q3 = d[0]
    elif n % 2:
        k, q = n // 4, n % 4
        if q == 1:
            q1 = 0.25 * d[k - 1] + 0.75 * d[k]
            q3 = 0.75 * d[3 * k] + 0.25 * d[3 * k + 1]
        else:
            q1 = 0.75 * d[k] + 0.25 * d[k + 1]
            q3 = 0.25 * d[3 * k + 1] + 0.75 * d[3 * k + 2]
    else:
        q1, q3 = statistics.median(d[: n // 2]), statistics.median(d[n // 2 :])
    iqr = q3 - q1
    lo, hi = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    iqr_out = sum(1 for v in d if v < lo or v > hi)
    sd_out = sum(1 for v in d if v < mean - sd or v > mean + sd)
    if n == 1:
        ld, hd = d[0], d[0]
    else:
        import bisect

        ld = d[bisect.bisect_left(d, lo)]
        pos = bisect.bisect_right(d, hi)
        hd = d[-1] if pos == n else d[pos]
    total = sum(d)
    return {
        "min": d[0],
        "max": d[-1],
        "mean": mean,
        "stddev": sd,
        "rounds": n,
        "median": statistics.median(d),
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_out,
        "stddev_outliers": sd_out,
        "outliers": f"{sd_out};{iqr_out}",
        "ld15iqr": ld,
        "hd15iqr": hd,
        "ops": n / total if total else 0,
        "total": total,
        "data": list(data),
        "iterations": 1,
    }


def _git(*args):
    r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise OSError(r.stderr.strip())
    return r.stdout.strip()


def commit_info():
    try:
        return {
            "id": _git("rev-parse", "HEAD"),
            "time": _git("log", "-1", "--format=%cI"),
            "author_time": _git("log", "-1", "--format=%aI"),
            "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "project": "rustorch",
            "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        }
    except (OSError, subprocess.SubprocessError) as e:
        return {"error": f"no git information: {e}".strip(), "project": "rustorch"}


def machine_info():
    import rustorch as rt

    info = {
        "node": platform.node(),
        "processor": platform.processor(),
        "machine": platform.machine(),
        "python_compiler": platform.python_compiler(),
        "python_implementation": platform.python_implementation(),
        "python_implementation_version": platform.python_version(),
        "python_version": platform.python_version(),
        "python_build": list(platform.python_build()),
        "release": platform.release(),
        "system": platform.system(),
        "cpu": {"count": os.cpu_count(), "brand_raw": _cpu_brand()},
        "rustorch_version": rt.__version__,
        "rustorch_isa": rt.isa_level(),
        "rustorch_max_threads": rt.get_num_threads(),
        "torch_version": None,
    }
    if have_torch():
        from importlib.metadata import PackageNotFoundError, version

        try:
            info["torch_version"] = version("torch")
        except PackageNotFoundError:
            info["torch_version"] = "unknown"
    return info


def _cpu_brand():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def to_json(rows, args, use_torch):
    benchmarks = []
    for r in rows:
        rt_med = statistics.median(r["rustorch"])
        th_med = statistics.median(r["torch"]) if r["torch"] else None
        name = f"{r['name']} [threads={r['threads']}]" if r["threads"] else r["name"]
        extra = {
            "torch_median": th_med,
            "ratio": th_med / rt_med if th_med else None,
            "threads": r["threads"],
            "unit": r["unit"],
            "torch_data": r["torch"],
            **r["extra"],
        }
        benchmarks.append(
            {
                "group": r["group"],
                "name": name,
                "fullname": f"benches/{r['group']}::{name}",
                "params": {"threads": r["threads"]},
                "param": str(r["threads"]),
                "extra_info": extra,
                "options": {
                    "timer": "perf_counter",
                    "quick": args.quick,
                    "rounds": args.rounds,
                    "torch": use_torch,
                },
                "stats": stats(r["rustorch"]),
            }
        )
    return {
        "machine_info": machine_info(),
        "commit_info": commit_info(),
        "benchmarks": benchmarks,
        "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "version": FORMAT_VERSION,
    }


# -- table ----------------------------------------------------------------------------------


def _fmt(s):
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us"
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.3f} s"


def print_table(rows, file=sys.stdout):
    hdr = (
        f"{'group':6s} {'benchmark':54s} {'thr':>3s} {'rustorch':>11s} {'torch':>11s} {'ratio':>6s}"
    )
    print(hdr, file=file)
    print("-" * len(hdr), file=file)
    for r in rows:
        rt_med = statistics.median(r["rustorch"])
        th_med = statistics.median(r["torch"]) if r["torch"] else None
        ratio = f"{th_med / rt_med:.2f}" if th_med else "-"
        thr = str(r["threads"]) if r["threads"] else "-"
        name = r["name"] if len(r["name"]) <= 54 else r["name"][:51] + "..."
        print(
            f"{r['group']:6s} {name:54s} {thr:>3s} {_fmt(rt_med):>11s} {_fmt(th_med):>11s} "
            f"{ratio:>6s}",
            file=file,
        )
    print(
        "times: median per call (per step for train); ratio = torch / rustorch, above 1 means "
        "rustorch is faster (fx: eager torch / compile(backend='rustorch'))",
        file=file,
    )


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benches",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawTextHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small sizes, 1 round, 1 thread")
    p.add_argument("--threads", type=int, nargs="+", default=None, help="default: 1 2")
    p.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    p.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    p.add_argument("--json", metavar="PATH", help="write pytest-benchmark JSON here")
    p.add_argument("--no-torch", action="store_true", help="time rustorch only")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    threads = args.threads or ([1] if args.quick else [1, 2])
    use_torch = have_torch() and not args.no_torch
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    rows = []
    for g in args.only:
        t0 = time.perf_counter()
        rows += RUNNERS[g](threads, args.rounds, args.quick, use_torch)
        print(f"[{g}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr, flush=True)
    if not use_torch:
        print("torch not available: torch columns are empty", file=sys.stderr)
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(rows, args, use_torch), indent=1) + "\n")
        print(f"wrote {len(rows)} benchmarks to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
