"""Build script: Cython kernels with -O3 and OpenMP when the compiler supports it.

Environment:
  RUSTORCH_NO_OPENMP=1   build the kernels serial (no OpenMP), e.g. for a compiler without it.
  RUSTORCH_CFLAGS        extra compile flags appended to every kernel (e.g. "-fsanitize=address").
  RUSTORCH_PURE_PYTHON=1 do not compile the op layer / autograd engine (rustorch/_accel.py lists
                         them) with Cython; they then run as plain Python, about 2x slower per op.
"""

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNELS = ["_config", "elementwise", "reduce", "indexing", "linalg", "random"]
KERNELS += ["optim", "activation"]  # rustorch.optim updates, rustorch.nn activations
KERNELS += ["conv", "pool", "norm", "loss", "dropout"]  # rustorch.nn conv/pool/norm/losses
KERNELS += ["capi"]  # stable C-level API for downstream cimport (capi.pxd, docs/downstream.md)

# Kernels compiled once per x86-64 ISA level; the dispatcher picks one at import.
# name -> {level: extra flags}
ISA_VARIANTS: dict[str, dict[str, list[str]]] = {}

# x86-64 levels for the memory/transcendental-bound kernels: the plain module is the baseline.
AVX2_FLAGS = ["-mavx2", "-mfma"]
AVX512_FLAGS = AVX2_FLAGS + [
    "-mavx512f",
    "-mavx512bw",
    "-mavx512dq",
    "-mavx512vl",
    "-mprefer-vector-width=512",
]
ISA_VARIANTS["elementwise"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}
ISA_VARIANTS["reduce"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}
ISA_VARIANTS["pool"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}
ISA_VARIANTS["norm"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}
ISA_VARIANTS["loss"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}
ISA_VARIANTS["conv"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}
ISA_VARIANTS["linalg"] = {"avx2": AVX2_FLAGS, "avx512": AVX512_FLAGS}  # GEMM micro-kernels
MSVC_ISA = {"-mavx2": "/arch:AVX2", "-mavx512f": "/arch:AVX512"}

_PROBE = r"""
#include <omp.h>
int main(void) {
    int s = 0;
    #pragma omp parallel for reduction(+:s)
    for (int i = 0; i < 100; i++) s += i;
    return (s == 4950 && omp_get_max_threads() > 0) ? 0 : 1;
}
"""


def _compiler_kind(compiler) -> str:
    ctype = getattr(compiler, "compiler_type", "unix")
    if ctype == "msvc":
        return "msvc"
    cc = " ".join(getattr(compiler, "compiler", []) or [os.environ.get("CC", "cc")])
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                cc.split()[:1] + ["--version"], capture_output=True, text=True
            ).stdout
        except OSError:
            out = ""
        if "Apple" in out or "clang" in out:
            return "apple-clang"
    return "gcc"


def openmp_flags(kind: str) -> tuple[list[str], list[str]]:
    """(compile flags, link flags) for OpenMP on this compiler family."""
    if kind == "msvc":
        return ["/openmp"], []
    if kind == "apple-clang":
        prefix = os.environ.get("LIBOMP_PREFIX") or _brew_libomp()
        cflags = ["-Xpreprocessor", "-fopenmp"]
        lflags = ["-lomp"]
        if prefix:
            cflags.append(f"-I{prefix}/include")
            lflags = [f"-L{prefix}/lib", "-lomp", f"-Wl,-rpath,{prefix}/lib"]
        return cflags, lflags
    return ["-fopenmp"], ["-fopenmp"]


def _brew_libomp() -> str | None:
    for p in ("/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"):
        if os.path.isdir(p):
            return p
    return None


def probe_openmp(compiler, cflags: list[str], lflags: list[str]) -> bool:
    """Compile and link a tiny OpenMP program; True when it works."""
    tmp = tempfile.mkdtemp(prefix="rustorch-omp-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(_PROBE)
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
        compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=lflags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def build_extensions(self):
        kind = _compiler_kind(self.compiler)
        use_omp = os.environ.get("RUSTORCH_NO_OPENMP", "") not in ("1", "true", "yes")
        omp_c, omp_l = openmp_flags(kind)
        if use_omp and not probe_openmp(self.compiler, omp_c, omp_l):
            warnings.warn(
                "rustorch: OpenMP is not available with this compiler; building serial "
                "kernels (set LIBOMP_PREFIX on macOS, or install libgomp/libomp).",
                stacklevel=1,
            )
            use_omp = False
        if kind == "msvc":
            base = ["/O2"]
        else:
            base = [
                "-O3",
                "-fno-math-errno",
                "-fno-trapping-math",
                "-Wno-unused-function",
                "-Wno-unreachable-code",
            ]
        extra = os.environ.get("RUSTORCH_CFLAGS", "").split()
        # Release builds drop debug info (wheel size: 30 MB -> a few MB); RUSTORCH_CFLAGS=-g
        # keeps it. Apple's linker has no -s (delocate/strip there); MSVC emits no DWARF.
        strip = kind == "gcc" and sys.platform.startswith("linux")
        strip = strip and not any(f.startswith("-g") for f in extra)
        for ext in self.extensions:
            isa = [f for f in ext.extra_compile_args if f.startswith("-m")]
            if kind == "msvc":
                isa = sorted({MSVC_ISA[f] for f in isa if f in MSVC_ISA})
            cflags = base + isa + (["-g0"] if strip else []) + extra
            lflags = (["-s"] if strip else []) + list(extra)
            if use_omp:
                cflags += omp_c
                lflags += omp_l
            else:
                ext.define_macros.append(("RUSTORCH_SERIAL", "1"))
            ext.extra_compile_args = cflags
            ext.extra_link_args = lflags
            ext.define_macros.append(("RUSTORCH_OPENMP", "1" if use_omp else "0"))
        super().build_extensions()


def _py_modules():
    """The pure-Python modules listed in rustorch/_accel.py, compiled as-is by Cython."""
    import ast

    src = open(os.path.join("rustorch", "_accel.py")).read()
    tree = ast.parse(src)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MODULES":
            return list(ast.literal_eval(node.value))
    return []


def _extensions():
    inc = [np.get_include(), os.path.join("rustorch", "_kernels")]
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    exts = []
    for name in KERNELS:
        exts.append(
            Extension(
                f"rustorch._kernels.{name}",
                [f"rustorch/_kernels/{name}.pyx"],
                include_dirs=inc,
                define_macros=list(macros),
            )
        )
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
    for name, levels in ISA_VARIANTS.items():
        for level, flags in levels.items():
            if level != "baseline" and not x86:
                continue
            e = Extension(
                f"rustorch._kernels.{name}_{level}",
                [f"rustorch/_kernels/{name}_{level}.pyx"],
                include_dirs=inc,
                define_macros=list(macros),
                extra_compile_args=list(flags),  # BuildExt puts the common flags around these
            )
            exts.append(e)
    annotate = os.environ.get("RUSTORCH_ANNOTATE") == "1"
    kernels = cythonize(
        exts,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
        annotate=annotate,
    )
    if os.environ.get("RUSTORCH_PURE_PYTHON", "") in ("1", "true", "yes"):
        return kernels
    # Python semantics kept exactly (bounds checks, negative indices, Python division).
    py = [Extension("rustorch." + r.replace("/", "."), [f"rustorch/{r}.py"]) for r in _py_modules()]
    # annotation_typing off: type hints stay documentation, never C-level argument checks
    directives = {"language_level": 3, "annotation_typing": False}
    return kernels + cythonize(py, compiler_directives=directives, annotate=annotate)


if __name__ == "__main__":
    setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
