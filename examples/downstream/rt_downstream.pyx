# cython: boundscheck=False, wraparound=False, initializedcheck=False
"""Example downstream module: float32 kernels of rustorch called from another package."""

import numpy as np

from rustorch._kernels.capi cimport (
    rt_capi_version,
    rt_exp_f32,
    rt_gemm_isa,
    rt_sgemm,
    rt_sum_f32,
)
from rustorch._kernels.rt_math cimport rt_sigmoidf


def capi_version():
    return rt_capi_version()


def gemm_isa():
    return rt_gemm_isa().decode()


def matmul(a, b, bint transpose_b=False):
    """a @ b (or a @ b.T) for 2-D float32 arrays, through rustorch's GEMM."""
    cdef const float[:, ::1] A = np.ascontiguousarray(a, dtype=np.float32)
    cdef const float[:, ::1] B = np.ascontiguousarray(b, dtype=np.float32)
    cdef Py_ssize_t M = A.shape[0], K = A.shape[1]
    cdef Py_ssize_t N = B.shape[0] if transpose_b else B.shape[1]
    cdef Py_ssize_t kb = B.shape[1] if transpose_b else B.shape[0]
    if kb != K:
        raise ValueError(f"matmul: inner dimensions differ ({K} and {kb})")
    out = np.empty((M, N), dtype=np.float32)
    cdef float[:, ::1] C = out
    cdef int rc
    if M == 0 or N == 0:
        return out
    # B(k, j) = B[k * brs + j * bcs]: a transposed operand is only swapped strides
    cdef Py_ssize_t brs = 1 if transpose_b else N
    cdef Py_ssize_t bcs = K if transpose_b else 1
    cdef const float* pa = &A[0, 0] if K else NULL
    cdef const float* pb = &B[0, 0] if K else NULL
    with nogil:
        rc = rt_sgemm(pa, K, 1, pb, brs, bcs, &C[0, 0], N, M, N, K)
    if rc != 0:
        raise MemoryError("rt_sgemm could not allocate its packing buffers")
    return out


def total(x):
    """Sum of a 1-D float32 array."""
    cdef const float[::1] X = np.ascontiguousarray(x, dtype=np.float32).ravel()
    cdef float s
    with nogil:
        s = rt_sum_f32(&X[0], X.shape[0]) if X.shape[0] else 0.0
    return s


def exp(x):
    """exp of a 1-D float32 array (compiled API, one call)."""
    cdef const float[::1] X = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.empty(X.shape[0], dtype=np.float32)
    cdef float[::1] O = out
    if X.shape[0]:
        with nogil:
            rt_exp_f32(&X[0], &O[0], X.shape[0])
    return out


def sigmoid(x):
    """sigmoid of a 1-D float32 array (header-only rt_math.h, inlined into this loop)."""
    cdef const float[::1] X = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.empty(X.shape[0], dtype=np.float32)
    cdef float[::1] O = out
    cdef Py_ssize_t i
    with nogil:
        for i in range(X.shape[0]):
            O[i] = rt_sigmoidf(X[i])
    return out
