"""examples/downstream: a separate package that cimports rustorch's C API, built and run here."""

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "downstream"


def _compiler_missing(tmp: Path) -> str | None:
    """Why the example cannot be built here (None when a C compiler works)."""
    if importlib.util.find_spec("Cython") is None:
        return "Cython is not installed"
    if sys.platform != "win32":  # MSVC is found by setuptools itself
        cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
        if shutil.which(shlex.split(cc)[0]) is None:
            return f"no C compiler on PATH ({cc!r})"
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    src = tmp / "probe.c"
    src.write_text("int rt_probe(void) { return 0; }\n")
    try:
        compiler = new_compiler()
        customize_compiler(compiler)
        compiler.compile([str(src)], output_dir=str(tmp))
    except Exception as e:  # CompileError, DistutilsExecError, missing MSVC, ...
        return f"no working C compiler: {e}"
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not EXAMPLE.is_dir():
        pytest.skip("examples/downstream is not next to the tests (installed-wheel run)")
    root = tmp_path_factory.mktemp("downstream")
    why = _compiler_missing(root)
    if why:
        pytest.skip(why)
    dest = root / "pkg"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("build", "*.so", "*.c"))
    r = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=dest,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return dest


def test_downstream_package_uses_rustorch_kernels(built):
    code = textwrap.dedent(
        """
        import numpy as np
        import rt_downstream as d
        import rustorch
        from rustorch._kernels import _gemm

        rng = np.random.default_rng(0)
        for m, k, n in [(1, 1, 1), (7, 5, 3), (70, 50, 90), (300, 257, 129)]:
            a = rng.standard_normal((m, k)).astype(np.float32)
            b = rng.standard_normal((k, n)).astype(np.float32)
            ref = a.astype(np.float64) @ b
            np.testing.assert_allclose(d.matmul(a, b), ref, rtol=1e-4, atol=1e-4)
            bt = np.ascontiguousarray(b.T)
            np.testing.assert_allclose(d.matmul(a, bt, True), ref, rtol=1e-4, atol=1e-4)
        assert d.matmul(np.zeros((3, 0)), np.zeros((0, 4))).tolist() == [[0.0] * 4] * 3
        x = rng.standard_normal(10_001).astype(np.float32)
        np.testing.assert_allclose(d.total(x), x.astype(np.float64).sum(), rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(d.exp(x), np.exp(x), rtol=2e-6)
        np.testing.assert_allclose(d.sigmoid(x), 1 / (1 + np.exp(-x.astype(np.float64))),
                                   rtol=2e-6)
        assert d.capi_version() == 1
        assert d.gemm_isa() == _gemm.isa_level()
        print("ok")
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=built, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == ["ok"]


def test_downstream_follows_forced_baseline(built):
    r = subprocess.run(
        [sys.executable, "-c", "import rt_downstream as d; print(d.gemm_isa())"],
        cwd=built,
        capture_output=True,
        text=True,
        env={**os.environ, "RUSTORCH_ISA": "baseline"},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "baseline"
