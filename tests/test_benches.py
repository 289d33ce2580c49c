"""`python -m benches --quick` runs every benchmark and writes valid pytest-benchmark JSON.

Part of the test command so the benchmark code cannot rot; the figures are not checked."""

import importlib.util
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAVE_TORCH = importlib.util.find_spec("torch") is not None
STAT_KEYS = {"min", "max", "mean", "stddev", "median", "rounds", "iqr", "q1", "q3", "ops", "total"}


def _run(tmp_path, *args, timeout=120):
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, "-m", "benches", *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r, json.loads(out.read_text())


def _check_document(doc, groups, with_torch):
    assert set(doc) >= {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    mi = doc["machine_info"]
    assert {"node", "machine", "python_version", "system", "cpu"} <= set(mi)
    assert mi["rustorch_isa"] in ("baseline", "avx2", "avx512")
    assert isinstance(doc["commit_info"], dict) and doc["commit_info"]["project"] == "rustorch"
    assert doc["version"].count(".") == 2
    names = set()
    for b in doc["benchmarks"]:
        assert {"group", "name", "fullname", "params", "stats", "extra_info", "options"} <= set(b)
        assert b["name"] not in names, "benchmark names must be unique"
        names.add(b["name"])
        s = b["stats"]
        assert STAT_KEYS <= set(s)
        assert s["rounds"] == len(s["data"]) >= 1
        assert 0 < s["min"] <= s["median"] <= s["max"] and math.isfinite(s["mean"])
        assert s["stddev"] >= 0
        ex = b["extra_info"]
        assert {"torch_median", "ratio", "threads"} <= set(ex)
        assert b["params"]["threads"] == ex["threads"]
        if with_torch and b["group"] != "fx":
            assert ex["torch_median"] > 0 and ex["ratio"] > 0
        if not with_torch:
            assert ex["torch_median"] is None and ex["ratio"] is None
    got = {b["group"] for b in doc["benchmarks"]}
    assert got == set(groups), got
    return doc


def test_quick_run_writes_pytest_benchmark_json(tmp_path):
    r, doc = _run(tmp_path, "--quick")
    groups = ["core", "matmul", "nn", "train"] + (["fx"] if HAVE_TORCH else [])
    _check_document(doc, groups, HAVE_TORCH)
    # the table: one line per benchmark, under a header
    assert "rustorch" in r.stdout and "ratio" in r.stdout
    for b in doc["benchmarks"]:
        assert b["extra_info"]["threads"] in (0, 1)  # --quick: one thread
        assert b["stats"]["rounds"] == 1
    assert len(doc["benchmarks"]) >= 20
    if importlib.util.find_spec("pytest_benchmark") is not None:
        # pytest-benchmark's own reader accepts the file
        code = "import sys; from pytest_benchmark.cli import main; main()"
        c = subprocess.run(
            [sys.executable, "-c", code, "compare", str(tmp_path / "bench.json")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert c.returncode == 0, c.stdout + c.stderr
        assert "benchmark 'core'" in c.stdout and "benchmark 'train'" in c.stdout, c.stdout


def test_without_torch_columns_are_empty(tmp_path):
    r, doc = _run(tmp_path, "--quick", "--no-torch", "--only", "matmul", "train", "fx")
    _check_document(doc, ["matmul", "train"], with_torch=False)
    assert "torch not available" in r.stderr


def test_stats_match_pytest_benchmark():
    sys.path.insert(0, str(ROOT))
    from benches.__main__ import stats

    ref = pytest.importorskip("pytest_benchmark.stats")
    rng = random.Random(0)
    for n in range(1, 12):
        data = [rng.random() for _ in range(n)]
        s = ref.Stats()
        for x in data:
            s.update(x)
        mine = stats(data)
        for k, v in s.as_dict().items():
            assert (
                mine[k] == pytest.approx(v, rel=1e-12) if not isinstance(v, str) else mine[k] == v
            )
