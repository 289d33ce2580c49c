# cython: language_level=3
"""Build and run-time facts shared by every kernel: OpenMP, thread count, CPU features."""

cdef extern from "rt_common.h":
    int rt_omp_max_threads() noexcept nogil
    int rt_cpu_supports(int level) noexcept nogil
    int RUSTORCH_OPENMP

OPENMP = bool(RUSTORCH_OPENMP)


def omp_max_threads():
    """omp_get_max_threads(): honours OMP_NUM_THREADS; 1 in a serial build."""
    return rt_omp_max_threads()


def cpu_supports(int level):
    """Whether this CPU runs ISA level 0 (baseline), 1 (AVX2+FMA) or 2 (AVX-512)."""
    return bool(rt_cpu_supports(level))
