"""Kernel threads and build facts: get_num_threads, set_num_threads, show_config."""

import os
import threading

from rustorch._kernels import _config as _kc
from rustorch._kernels import _dispatch, _gemm, random

__version__ = "0.1.0"

_MODULES = (_dispatch.elementwise, _dispatch.reduce, random, _gemm)
# rustorch.nn kernels (conv2d, pooling, batch norm, losses, dropout)
_MODULES += tuple(_dispatch.load(n)[0] for n in ("conv", "pool", "norm", "loss", "dropout"))
_lock = threading.Lock()
_nthreads = 1
_forked = False  # set in a child made by fork(): its kernels stay on one thread


def _available_cpus() -> int:
    """CPUs this process may use: affinity mask and cgroup v2 quota, whichever is smaller."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            n = max(1, min(n, int(int(quota) / int(period) + 0.999)))
    except (OSError, ValueError):
        pass
    return max(1, n)


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return _available_cpus()


def get_num_threads() -> int:
    """Threads the kernels use (OMP_NUM_THREADS or the usable CPU count by default)."""
    return _nthreads


def set_num_threads(n: int) -> None:
    """Set the kernel thread count (1 in a build without OpenMP)."""
    global _nthreads
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads(): expected a positive integer, got {n}")
    if not _kc.OPENMP or _forked:
        n = 1
    with _lock:
        _nthreads = n
        for m in _MODULES:
            m.set_num_threads(n)


def isa_level() -> str:
    """The x86-64 level the elementwise/reduction kernels run at (baseline, avx2, avx512)."""
    return _dispatch.elementwise_level


def show_config(file=None) -> str:
    """Print (and return) version, OpenMP, threads and the kernel ISA level in use."""
    lines = [
        f"rustorch {__version__}",
        f"  OpenMP: {'on' if _kc.OPENMP else 'off (serial build)'}",
        f"  threads: {get_num_threads()} (usable CPUs: {_available_cpus()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})",
        f"  kernel ISA level: {isa_level()} (elementwise/reduce), {_gemm.isa_level()} (matmul); "
        f"RUSTORCH_ISA={os.environ.get('RUSTORCH_ISA', 'unset')} (CPU supports: "
        + ", ".join(
            lv for i, lv in enumerate(("baseline", "avx2", "avx512")) if _kc.cpu_supports(i)
        )
        + ")",
    ]
    text = "\n".join(lines)
    print(text, file=file)
    return text


def _after_fork_in_child() -> None:
    # GNU libgomp's worker threads do not survive fork(): a child that entered a multi-threaded
    # parallel region would wait for them forever. Every kernel module takes its thread count
    # from here, so a forked child runs them all on one thread for good (use the spawn start
    # method for parallel children).
    global _nthreads, _forked
    _forked = True
    _nthreads = 1
    for m in _MODULES:
        m.set_num_threads(1)


set_num_threads(_default_threads())
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
