# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Matrix multiply: a simple, correct batched SGEMM (a later kernel replaces it with a packed one).

gemm(a, b, out, a_off, b_off, M, N, K, trans_a, trans_b): for every batch t,
  out[t] (M x N, contiguous) = op(A_t) @ op(B_t)
where A_t starts at element a_off[t] of a's buffer and is M x K row-major (K x M when trans_a),
and B_t starts at b_off[t] and is K x N row-major (N x K when trans_b). Offsets let broadcast
batch dims share one operand without copying it.
"""

cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t

cnp.import_array()

cdef int _nthreads = 1


def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef void _row(const float* A, const float* B, float* C, Py_ssize_t i, Py_ssize_t M,
               Py_ssize_t N, Py_ssize_t K, bint ta, bint tb) noexcept nogil:
    cdef Py_ssize_t j, k
    cdef float aik, s
    for j in range(N):
        C[j] = 0
    if not tb:
        for k in range(K):
            aik = A[k * M + i] if ta else A[i * K + k]
            for j in range(N):
                C[j] += aik * B[k * N + j]
    else:
        for j in range(N):
            s = 0
            if ta:
                for k in range(K):
                    s += A[k * M + i] * B[j * K + k]
            else:
                for k in range(K):
                    s += A[i * K + k] * B[j * K + k]
            C[j] = s


def gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, cnp.ndarray a_off, cnp.ndarray b_off,
         Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, bint trans_a, bint trans_b):
    cdef const float* pa = <const float*>cnp.PyArray_DATA(a)
    cdef const float* pb = <const float*>cnp.PyArray_DATA(b)
    cdef float* pc = <float*>cnp.PyArray_DATA(out)
    cdef const int64_t* oa = <const int64_t*>cnp.PyArray_DATA(a_off)
    cdef const int64_t* ob = <const int64_t*>cnp.PyArray_DATA(b_off)
    cdef Py_ssize_t nb = cnp.PyArray_SIZE(a_off), rows = nb * M, r, t, i
    if rows == 0 or N == 0:
        return
    with nogil:
        if _nthreads > 1 and rows * N * K >= 1 << 16 and rows > 1:
            for r in prange(rows, num_threads=_nthreads, schedule="static"):
                t = r // M
                i = r % M
                _row(pa + oa[t], pb + ob[t], pc + r * N, i, M, N, K, trans_a, trans_b)
        else:
            for r in range(rows):
                t = r // M
                i = r % M
                _row(pa + oa[t], pb + ob[t], pc + r * N, i, M, N, K, trans_a, trans_b)


def isa_level():
    """Name of the instruction-set level this kernel was built for."""
    return "baseline"
