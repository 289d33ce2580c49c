# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Matrix multiply: batched SGEMM with packed panels and a register-blocked micro-kernel.

gemm(a, b, out, a_off, b_off, M, N, K, trans_a, trans_b): for every batch t,
  out[t] (M x N, contiguous) = op(A_t) @ op(B_t)
where A_t starts at element a_off[t] of a's buffer and is M x K row-major (K x M when trans_a),
and B_t starts at b_off[t] and is K x N row-major (N x K when trans_b). Offsets let broadcast
batch dims share one operand without copying it.

The kernels live in gemm_kernel.h (BLIS-style packing, cache blocking and micro-kernels, chosen
by the ISA this module is compiled for: this file is also built as linalg_avx2 / linalg_avx512,
see setup.py ISA_VARIANTS and _gemm.py). This file only splits a call into tasks for the
OpenMP threads: a task is one product, or a block of rows / columns of one, run serially by
rt_gemm (which picks the vector, direct or packed path). Many batches give one task each; a
few large products are cut into blocks so every thread gets several tasks (claimed
dynamically, so a slow or shared core only delays its last task; threads share nothing and
meet only at the end). Tiny calls stay on one thread: waking OpenMP would cost more than the
work.
"""


cimport numpy as cnp
from cython.parallel cimport prange
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport int64_t

cnp.import_array()

cdef extern from "gemm_kernel.h" nogil:
    const char* RT_GEMM_ISA_NAME
    int RT_GEMM_MR
    int RT_GEMM_NR
    int rt_gemm(const float* A, Py_ssize_t ars, Py_ssize_t acs, const float* B, Py_ssize_t brs,
                Py_ssize_t bcs, float* C, Py_ssize_t ldc, Py_ssize_t M, Py_ssize_t N,
                Py_ssize_t K) noexcept

cdef int _nthreads = 1
# Below this many multiply-adds in the whole call, one thread does everything: waking the
# OpenMP team would cost more than the work.
cdef double SERIAL_MAX_WORK = 1 << 18
# A task (one product, or a block of one) should have at least this many multiply-adds...
cdef double TASK_MIN_WORK = 1 << 20
# ...and there should be about this many tasks per thread, so that a slow or shared core
# only delays its last small task instead of a whole share of the work.
cdef int TASKS_PER_THREAD = 4


def set_num_threads(int n):
    """Threads the kernel may use (OpenMP); values below 1 mean 1."""
    global _nthreads
    _nthreads = n if n > 0 else 1


def get_num_threads():
    return _nthreads


cdef inline Py_ssize_t _cdiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return (a + b - 1) // b


cdef void _grid(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, Py_ssize_t nb, int nt,
                Py_ssize_t* rows, Py_ssize_t* cols) noexcept nogil:
    """Block sizes (rows x cols) that split each product into enough tasks for nt threads.

    Each block packs its own operands, so pick the split that re-reads the least: g_m row
    blocks repeat B g_m times and g_n column blocks repeat A g_n times.
    """
    cdef double each = <double>M * <double>N * <double>K
    cdef Py_ssize_t want = _cdiv(TASKS_PER_THREAD * nt, nb), gm, gn, best_gm = 1, best_gn = 1
    cdef Py_ssize_t cap = <Py_ssize_t>(each / TASK_MIN_WORK)
    cdef double cost, best = -1
    rows[0] = M
    cols[0] = N
    if want > cap:
        want = cap
    if want <= 1:
        return
    for gm in range(1, want + 1):
        gn = _cdiv(want, gm)
        if gm > _cdiv(M, RT_GEMM_MR) or gn > _cdiv(N, RT_GEMM_NR):
            continue
        cost = <double>gm * N + <double>gn * M
        if best < 0 or cost < best:
            best, best_gm, best_gn = cost, gm, gn
    rows[0] = _cdiv(_cdiv(M, best_gm), RT_GEMM_MR) * RT_GEMM_MR
    cols[0] = _cdiv(_cdiv(N, best_gn), RT_GEMM_NR) * RT_GEMM_NR
    if best_gm == 1:
        rows[0] = M
    if best_gn == 1:
        cols[0] = N


def gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, cnp.ndarray a_off, cnp.ndarray b_off,
         Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, bint trans_a, bint trans_b):
    cdef const float* pa = <const float*>cnp.PyArray_DATA(a)
    cdef const float* pb = <const float*>cnp.PyArray_DATA(b)
    cdef float* pc = <float*>cnp.PyArray_DATA(out)
    cdef const int64_t* oa = <const int64_t*>cnp.PyArray_DATA(a_off)
    cdef const int64_t* ob = <const int64_t*>cnp.PyArray_DATA(b_off)
    cdef Py_ssize_t nb = cnp.PyArray_SIZE(a_off), t, task, ntask, per, gm, gn, i0, j0
    cdef Py_ssize_t ars, acs, brs, bcs, mn = M * N, rows = M, cols = N
    cdef int nt = _nthreads, fail = 0
    if nb == 0 or M == 0 or N == 0:
        return
    # strides of A(i, k) and B(k, j); a single column of B needs none across columns
    if trans_a:
        ars, acs = 1, M
    else:
        ars, acs = K, 1
    if trans_b:
        brs, bcs = 1, K
    else:
        brs, bcs = N, 1
    if N == 1:
        bcs = 1
    if <double>M * <double>N * <double>K * <double>nb <= SERIAL_MAX_WORK:
        nt = 1
    with nogil:
        if nt <= 1:
            for t in range(nb):
                fail += rt_gemm(pa + oa[t], ars, acs, pb + ob[t], brs, bcs, pc + t * mn, N,
                                M, N, K)
        else:
            # tasks: (batch, row block, column block); independent, claimed dynamically
            _grid(M, N, K, nb, nt, &rows, &cols)
            gm = _cdiv(M, rows)
            gn = _cdiv(N, cols)
            per = gm * gn
            ntask = nb * per
            for task in prange(ntask, num_threads=nt, schedule="dynamic"):
                t = task // per
                i0 = (task % per) // gn * rows
                j0 = (task % per) % gn * cols
                fail += rt_gemm(pa + oa[t] + i0 * ars, ars, acs, pb + ob[t] + j0 * bcs, brs,
                                bcs, pc + t * mn + i0 * N + j0, N, min(rows, M - i0),
                                min(cols, N - j0), K)
    if fail:
        raise MemoryError("gemm(): could not allocate the packing buffers")


def isa_level():
    """Name of the instruction-set level this kernel was built for."""
    return RT_GEMM_ISA_NAME.decode()


def kernel_info():
    """(ISA level, MR, NR) of the micro-kernel compiled into this module."""
    return RT_GEMM_ISA_NAME.decode(), RT_GEMM_MR, RT_GEMM_NR


def _gemm_capsule():
    """This build's serial rt_gemm as a PyCapsule (read by rustorch._kernels.capi)."""
    return PyCapsule_New(<void*>rt_gemm, b"rustorch._kernels.rt_gemm", NULL)
