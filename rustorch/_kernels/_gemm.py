"""Matmul kernel entry point: the GEMM module built for the best ISA level this CPU runs.

linalg.pyx is compiled once per x86-64 level (rustorch._kernels.linalg = baseline,
linalg_avx2, linalg_avx512; only the baseline exists on other architectures) and chosen like
every other dispatching kernel, by rustorch._kernels._dispatch (``RUSTORCH_ISA`` forces a
level; one the CPU lacks, or one not built, warns and falls back to the best level below it).
"""

import importlib

from rustorch._kernels import _dispatch
from rustorch._kernels._dispatch import LEVELS


def module_for(level: str):
    """The GEMM extension module compiled for `level` (ImportError if it was not built)."""
    name = "linalg" if level == "baseline" else f"linalg_{level}"
    return importlib.import_module(f"rustorch._kernels.{name}")


_mod, _ = _dispatch.load("linalg")
gemm = _mod.gemm
isa_level = _mod.isa_level
set_num_threads = _mod.set_num_threads

__all__ = ["gemm", "isa_level", "set_num_threads", "module_for", "LEVELS"]
