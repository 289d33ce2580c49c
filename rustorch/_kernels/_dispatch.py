"""Pick the kernel build for this CPU: baseline, AVX2+FMA or AVX-512 modules.

Each dispatching kernel is compiled once per x86-64 level into its own extension module (a
module compiled with -mavx512f may use those instructions anywhere, so it is imported only
after the CPU check). ``RUSTORCH_ISA=baseline|avx2|avx512`` forces a level; asking for one the
CPU lacks warns and falls back to the best it has.
"""

import importlib
import os
import warnings

from rustorch._kernels import _config

LEVELS = ("baseline", "avx2", "avx512")


def _cpu_best() -> int:
    best = 0
    for i in range(1, len(LEVELS)):
        if _config.cpu_supports(i):
            best = i
    return best


def _requested() -> int:
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


LEVEL = _requested()


def load(name: str):
    """(module, level name) of kernel `name` for the chosen level, falling back downwards."""
    for lv in range(LEVEL, -1, -1):
        mod = name if lv == 0 else f"{name}_{LEVELS[lv]}"
        try:
            return importlib.import_module(f"rustorch._kernels.{mod}"), LEVELS[lv]
        except ImportError:
            if lv == 0:
                raise
    raise ImportError(name)


elementwise, elementwise_level = load("elementwise")
reduce, reduce_level = load("reduce")
