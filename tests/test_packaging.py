"""Packaging: the wheels workflow, cibuildwheel's build list, the shipped package's contents,
the baseline-ISA kernels, and torch + rustorch OpenMP runtimes in one process."""

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import rustorch

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "wheels.yml"
TOP_WORKFLOW = ROOT / "wheels.yml"
SHIPPED = ["capi.pxd", "rt_math.pxd", "rt_math.h", "rt_reduce.h", "gemm_kernel.h", "rt_common.h"]

needs_sources = pytest.mark.skipif(
    not WORKFLOW.is_file(), reason="the source tree (workflow files) is not next to the tests"
)


def _run(code: str, env: dict | None = None, timeout: float = 120) -> str:
    """Run `code` in a fresh interpreter (from a neutral cwd) and return its stdout."""
    full_env = {**os.environ, **(env or {})}
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=tempfile.gettempdir(),  # `python -c` puts the cwd on sys.path: keep sources off it
        timeout=timeout,
    )
    assert r.returncode == 0, f"rc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r.stdout


# ------------------------------------------------------------------------ workflow


@needs_sources
def test_top_level_workflow_is_the_github_one():
    assert TOP_WORKFLOW.read_bytes() == WORKFLOW.read_bytes(), (
        "wheels.yml and .github/workflows/wheels.yml differ: edit the .github one, then "
        "`cp .github/workflows/wheels.yml wheels.yml`"
    )


@needs_sources
def test_workflow_matches_github_schema():
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    r = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@needs_sources
def test_workflow_jobs():
    yaml = pytest.importorskip("yaml")
    wf = yaml.safe_load(WORKFLOW.read_text())
    jobs = wf["jobs"]
    assert {"wheels", "sdist", "benchmarks"} <= set(jobs)
    matrix = jobs["wheels"]["strategy"]["matrix"]["include"]
    archs = {m["archs"] for m in matrix}
    assert archs == {"x86_64", "aarch64", "arm64", "AMD64"}
    steps = jobs["wheels"]["steps"]
    assert any(str(s.get("uses", "")).startswith("pypa/cibuildwheel@") for s in steps)
    assert any("brew install libomp" in s.get("run", "") for s in steps)
    bench = "\n".join(s.get("run", "") for s in jobs["benchmarks"]["steps"])
    assert "python -m benches --json bench.json" in bench
    uploads = [s for s in jobs["benchmarks"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "bench.json"


@needs_sources
@pytest.mark.parametrize(
    "platform, expected",
    [
        ("linux", [f"cp3{v}-manylinux_{a}" for v in range(10, 14) for a in ("x86_64", "aarch64")]),
        ("macos", [f"cp3{v}-macosx_{a}" for v in range(10, 14) for a in ("x86_64", "arm64")]),
        ("windows", [f"cp3{v}-win_amd64" for v in range(10, 14)]),
    ],
)
def test_cibuildwheel_build_identifiers(platform, expected):
    exe = shutil.which("cibuildwheel")
    if exe is None:
        pytest.skip("cibuildwheel is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    r = subprocess.run(
        [exe, "--print-build-identifiers", "--platform", platform, str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(r.stdout.split()) == sorted(expected)


# ------------------------------------------------------------------------ package contents


def test_headers_and_pxd_next_to_get_include():
    inc = Path(rustorch.get_include())
    missing = [f for f in SHIPPED if not (inc / f).is_file()]
    assert not missing, f"{missing} not in {inc}"


def test_wheel_record_lists_pxd_files():
    """When rustorch is installed from a wheel, its RECORD must list the headers and .pxd."""
    try:
        dist = importlib.metadata.distribution("rustorch")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("rustorch is not installed (running from a source tree)")
    here = Path(rustorch.__file__).resolve()
    if (
        dist.read_text("RECORD") is None
        or '"editable": true' in (dist.read_text("direct_url.json") or "")
        or Path(dist.locate_file("rustorch/__init__.py")).resolve() != here
    ):
        pytest.skip("the imported rustorch is an editable/development install, not a wheel")
    names = {Path(str(f)).name for f in dist.files or [] if "_kernels" in str(f)}
    assert set(SHIPPED) <= names, f"missing from the installed wheel: {set(SHIPPED) - names}"


def test_capi_exports_every_declared_function():
    from rustorch._kernels import capi

    pxd = (Path(rustorch.get_include()) / "capi.pxd").read_text()
    exported = set(capi.__pyx_capi__)
    for name in ("rt_sgemm", "rt_sum_f32", "rt_exp_f32", "rt_log_f32", "rt_tanh_f32"):
        assert name in exported and f" {name}(" in pxd
    assert {"rt_sigmoid_f32", "rt_gemm_isa", "rt_capi_version"} <= exported
    assert capi.version() == 1
    assert capi.gemm_isa() == rustorch._kernels._gemm.isa_level()


# ------------------------------------------------------------------------ baseline ISA


def test_kernels_load_and_agree_on_baseline_isa():
    out = _run(
        """
        import io

        import numpy as np
        import rustorch as rt
        from rustorch._kernels import _dispatch, _gemm, capi

        rng = np.random.default_rng(0)
        a = rng.standard_normal((130, 70)).astype(np.float32)
        b = rng.standard_normal((70, 90)).astype(np.float32)
        x, y = rt.from_numpy(a), rt.from_numpy(b)
        np.testing.assert_allclose((x @ y).numpy(), a @ b, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(x.exp().numpy(), np.exp(a), rtol=1e-5)
        np.testing.assert_allclose((x + 1.5).numpy(), a + 1.5)
        np.testing.assert_allclose(x.sum(dim=0).numpy(), a.sum(0), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(x.tanh().numpy(), np.tanh(a), rtol=1e-5, atol=1e-6)
        img = rt.randn(2, 3, 12, 12)
        conv = rt.nn.Conv2d(3, 4, 3)
        ref = conv(img).detach().numpy()
        assert ref.shape == (2, 4, 10, 10) and np.isfinite(ref).all()
        names = [_dispatch.elementwise.__name__, _dispatch.reduce.__name__, _gemm._mod.__name__]
        assert names == ["rustorch._kernels." + n for n in ("elementwise", "reduce", "linalg")]
        assert capi.gemm_isa() == "baseline"
        print(rt.show_config(file=io.StringIO()))
        """,
        env={"RUSTORCH_ISA": "baseline"},
    )
    assert "kernel ISA level: baseline (elementwise/reduce), baseline (matmul)" in out


# ------------------------------------------------------------------------ torch + rustorch


@pytest.mark.parametrize("first", ["torch", "rustorch"])
def test_torch_and_rustorch_parallel_in_one_process(first):
    """Two OpenMP runtimes in one process (torch bundles its own on macOS/Windows)."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    second = "rustorch" if first == "torch" else "torch"
    out = _run(
        f"""
        import {first}
        import {second}
        import numpy as np
        import rustorch as rt
        import torch

        rt.set_num_threads(2)
        torch.set_num_threads(2)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((512, 384)).astype(np.float32)
        b = rng.standard_normal((384, 256)).astype(np.float32)
        big = rng.standard_normal(1 << 21).astype(np.float32)
        for _ in range(3):
            t = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
            r = (rt.from_numpy(a) @ rt.from_numpy(b)).numpy()
            np.testing.assert_allclose(r, t, rtol=1e-3, atol=1e-3)
            s = (rt.from_numpy(big) + rt.from_numpy(big)).exp().sum().item()
            s_ref = torch.from_numpy(big).mul(2).exp().sum().item()
            assert abs(s - s_ref) <= 1e-3 * abs(s_ref), (s, s_ref)
        print("ok", rt.get_num_threads(), torch.get_num_threads())
        """
    )
    assert out.split() == ["ok", "2", "2"]
