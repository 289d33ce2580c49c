# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Stable C-level API for downstream Cython packages: see capi.pxd and docs/downstream.md.

The functions are exported through Cython's ``__pyx_capi__`` table, so a package that
``cimport``s them calls into this module's compiled code (no rustorch headers needed for these).
rt_sgemm forwards to the GEMM module chosen for this CPU at import (rustorch._kernels._gemm).
"""

from cpython.pycapsule cimport PyCapsule_GetPointer

cdef extern from "rt_math.h" nogil:
    float rt_expf(float x) noexcept
    float rt_logf(float x) noexcept
    float rt_tanhf(float x) noexcept
    float rt_sigmoidf(float x) noexcept

cdef extern from "rt_reduce.h" nogil:
    float rt_sum_aligned(const float* x, Py_ssize_t n) noexcept

ctypedef int (*gemm_fn)(const float*, Py_ssize_t, Py_ssize_t, const float*, Py_ssize_t,
                        Py_ssize_t, float*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                        Py_ssize_t) noexcept nogil

cdef int RT_CAPI_VERSION = 1

cdef gemm_fn _gemm = NULL
cdef bytes _isa = b"baseline"  # kept alive: rt_gemm_isa() returns a pointer into it
cdef const char* _isa_c = b"baseline"


def _bind():
    global _gemm, _isa, _isa_c
    from rustorch._kernels import _gemm as mod

    _gemm = <gemm_fn>PyCapsule_GetPointer(mod._mod._gemm_capsule(), b"rustorch._kernels.rt_gemm")
    _isa = mod.isa_level().encode()
    _isa_c = _isa


_bind()


def version():
    """Version of this C API (capi.pxd)."""
    return RT_CAPI_VERSION


def gemm_isa():
    """ISA level of the GEMM behind rt_sgemm."""
    return _isa.decode()


cdef int rt_sgemm(const float* A, Py_ssize_t ars, Py_ssize_t acs,
                  const float* B, Py_ssize_t brs, Py_ssize_t bcs,
                  float* C, Py_ssize_t ldc,
                  Py_ssize_t M, Py_ssize_t N, Py_ssize_t K) noexcept nogil:
    return _gemm(A, ars, acs, B, brs, bcs, C, ldc, M, N, K)


cdef float rt_sum_f32(const float* x, Py_ssize_t n) noexcept nogil:
    if n <= 0:
        return 0.0
    return rt_sum_aligned(x, n)


cdef void rt_exp_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = rt_expf(x[i])


cdef void rt_log_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = rt_logf(x[i])


cdef void rt_tanh_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = rt_tanhf(x[i])


cdef void rt_sigmoid_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = rt_sigmoidf(x[i])


cdef const char* rt_gemm_isa() noexcept nogil:
    return _isa_c


cdef int rt_capi_version() noexcept nogil:
    return RT_CAPI_VERSION
