"""Matmul kernel entry point: the GEMM module built for the best ISA level this CPU runs.

linalg.pyx is compiled once per x86-64 level (rustorch._kernels.linalg = baseline,
linalg_avx2, linalg_avx512; only the baseline exists on other architectures). A module built
with -mavx512f may use those instructions anywhere, so it is imported only after the CPU
check. ``RUSTORCH_ISA=baseline|avx2|avx512`` forces a level; asking for one the CPU lacks (or
one not built) warns and falls back to the best available level below it.
"""

import importlib
import os
import warnings

from rustorch._kernels import _config

LEVELS = ("baseline", "avx2", "avx512")


def _cpu_best() -> int:
    best = 0
    for lv in range(1, len(LEVELS)):
        if _config.cpu_supports(lv):
            best = lv
    return best


def _wanted() -> int:
    best = _cpu_best()
    env = os.environ.get("RUSTORCH_ISA", "").strip().lower()
    if not env:
        return best
    if env not in LEVELS:
        warnings.warn(
            f"RUSTORCH_ISA={env!r} is not one of {', '.join(LEVELS)}; using {LEVELS[best]}",
            RuntimeWarning,
            stacklevel=3,
        )
        return best
    lv = LEVELS.index(env)
    if lv > best:
        warnings.warn(
            f"RUSTORCH_ISA={env} requested but this CPU supports at most {LEVELS[best]}; "
            f"using {LEVELS[best]}",
            RuntimeWarning,
            stacklevel=3,
        )
        return best
    return lv


def module_for(level: str):
    """The GEMM extension module compiled for `level` (ImportError if it was not built)."""
    name = "linalg" if level == "baseline" else f"linalg_{level}"
    return importlib.import_module(f"rustorch._kernels.{name}")


def _load():
    for lv in range(_wanted(), -1, -1):
        try:
            return module_for(LEVELS[lv])
        except ImportError:
            if lv == 0:
                raise
    raise ImportError("rustorch._kernels.linalg")


_mod = _load()
gemm = _mod.gemm
isa_level = _mod.isa_level
set_num_threads = _mod.set_num_threads

__all__ = ["gemm", "isa_level", "set_num_threads", "module_for", "LEVELS"]
