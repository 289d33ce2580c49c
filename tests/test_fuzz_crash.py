"""Crash fuzzer: >= 20,000 random calls (valid and invalid) into the public API, in subprocesses.

The body is tests/fuzz_crash_script.py. A subprocess that dies by a signal (segfault, abort) or
raises an exception other than our errors / TypeError / ValueError / IndexError /
ZeroDivisionError fails the test. Two seeds run concurrently (one per core).
RUSTORCH_FUZZ_CALLS=N sets the calls per seed (default 25,000).
"""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("fuzz_crash_script.py")
CALLS = int(os.environ.get("RUSTORCH_FUZZ_CALLS", "25000"))
SEEDS = (101, 202)


def test_crash_fuzz_20k_calls():
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), str(seed), str(CALLS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in SEEDS
    ]
    total = ok = err = 0
    failures = []
    for seed, p in zip(SEEDS, procs):
        try:
            out, errout = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            p.kill()
            out, errout = p.communicate()
            failures.append(f"seed {seed}: hung\n{errout[-3000:]}")
            continue
        if p.returncode != 0:
            how = f"signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}"
            failures.append(f"seed {seed}: {how}\n{out[-2000:]}\n{errout[-4000:]}")
            continue
        line = [ln for ln in out.splitlines() if ln.startswith("fuzz-done")][-1]
        n, n_ok, n_err = map(int, line.split()[1:])
        total, ok, err = total + n, ok + n_ok, err + n_err
        assert n_ok > n // 5 and n_err > n // 5  # both success and error paths are reached
    assert not failures, "\n\n".join(failures)
    assert total >= 20_000 or CALLS != 25000
    print(f"fuzzed {total} calls: {ok} returned, {err} raised allowed errors, 0 crashes")
