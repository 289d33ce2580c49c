# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Reductions over an (outer, R, inner) view of a contiguous tensor.

The Python layer turns any set of reduced dims into one or more such passes. Full sums use fixed
chunk boundaries, so the result is the same whatever the thread count.
"""

cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

cnp.import_array()

cdef extern from "rt_reduce.h":
    float rt_sum_contig(const float *x, Py_ssize_t n) noexcept nogil
    float rt_sum_aligned(const float *x, Py_ssize_t n) noexcept nogil
    float rt_sum_pairwise(const float *p, Py_ssize_t n) noexcept nogil
    void rt_sum_cols(const float *x, Py_ssize_t R, Py_ssize_t inner, float *out, Py_ssize_t n) noexcept nogil
    int64_t rt_sum_i64(const int64_t *x, Py_ssize_t R, Py_ssize_t inner) noexcept nogil
    void rt_argext_f32(const float *x, Py_ssize_t R, Py_ssize_t inner, int is_max, float *val, int64_t *idx) noexcept nogil
    void rt_argext_i64(const int64_t *x, Py_ssize_t R, Py_ssize_t inner, int is_max, int64_t *val, int64_t *idx) noexcept nogil
    void rt_ext_cols_f32(const float *x, Py_ssize_t R, Py_ssize_t inner, int is_max, float *out, Py_ssize_t n) noexcept nogil

DEF CHUNK = 65536
DEF COLS = 1024

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 16


def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef void _sum_chunks_par(const float* x, Py_ssize_t n, Py_ssize_t nch,
                          float* part) noexcept nogil:
    cdef Py_ssize_t c, ln
    for c in prange(nch, nogil=True, num_threads=_nthreads, schedule="static"):
        ln = n - c * CHUNK
        if ln > CHUNK:
            ln = CHUNK
        part[c] = rt_sum_aligned(x + c * CHUNK, ln)


cdef float _sum_long(const float* x, Py_ssize_t n) noexcept nogil:
    """Sum of a long contiguous run: fixed chunks (maybe in parallel), then a pairwise combine."""
    cdef Py_ssize_t nch = (n + CHUNK - 1) // CHUNK, c, ln
    cdef float* part
    cdef float s
    if nch <= 1:
        return rt_sum_aligned(x, n)
    part = <float*>malloc(nch * sizeof(float))
    if part == NULL:
        return rt_sum_aligned(x, n)
    if _nthreads > 1 and n >= PAR_MIN:
        _sum_chunks_par(x, n, nch, part)
    else:
        for c in range(nch):
            ln = n - c * CHUNK
            if ln > CHUNK:
                ln = CHUNK
            part[c] = rt_sum_aligned(x + c * CHUNK, ln)
    s = rt_sum_pairwise(part, nch)
    free(part)
    return s


def sum_f32(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t R, Py_ssize_t inner):
    """out[o, i] = sum_r x[o, r, i] (float32)."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t o, t, nct, c0, ln, i
    cdef bint par = _nthreads > 1 and outer * R * inner >= PAR_MIN
    with nogil:
        if R == 0:
            for i in range(outer * inner):
                po[i] = 0
        elif inner == 1:
            if outer == 1:
                po[0] = _sum_long(px, R)
            elif par:
                for o in prange(outer, num_threads=_nthreads, schedule="static"):
                    po[o] = rt_sum_aligned(px + o * R, R)
            else:
                for o in range(outer):
                    po[o] = rt_sum_aligned(px + o * R, R)
        else:
            nct = (inner + COLS - 1) // COLS
            if par:
                for t in prange(outer * nct, num_threads=_nthreads, schedule="static"):
                    o = t // nct
                    c0 = (t % nct) * COLS
                    ln = inner - c0
                    if ln > COLS:
                        ln = COLS
                    rt_sum_cols(px + o * R * inner + c0, R, inner, po + o * inner + c0, ln)
            else:
                for t in range(outer * nct):
                    o = t // nct
                    c0 = (t % nct) * COLS
                    ln = inner - c0
                    if ln > COLS:
                        ln = COLS
                    rt_sum_cols(px + o * R * inner + c0, R, inner, po + o * inner + c0, ln)


def sum_all_f32(cnp.ndarray x):
    """A new 0-d float32 array holding the sum of all of x's elements (the same sum as sum_f32
    with outer = inner = 1). Below one chunk it keeps the GIL: releasing it costs more."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef float s = 0
    if n >= CHUNK:
        with nogil:
            s = _sum_long(px, n)
    elif n > 0:
        s = rt_sum_aligned(px, n)
    out = cnp.PyArray_EMPTY(0, NULL, cnp.NPY_FLOAT32, 0)
    (<float*>cnp.PyArray_DATA(out))[0] = s
    return out


def sum_i64(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t R, Py_ssize_t inner):
    """out[o, i] = sum_r x[o, r, i] (int64)."""
    cdef const int64_t* px = <const int64_t*>cnp.PyArray_DATA(x)
    cdef int64_t* po = <int64_t*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t o, i
    with nogil:
        for o in range(outer):
            for i in range(inner):
                po[o * inner + i] = rt_sum_i64(px + o * R * inner + i, R, inner)


def arg_extreme(cnp.ndarray x, cnp.ndarray vals, cnp.ndarray idx, Py_ssize_t outer,
                Py_ssize_t R, Py_ssize_t inner, bint is_max):
    """vals/idx[o, i] = max or min over r of x[o, r, i] and its first index (R >= 1)."""
    cdef Py_ssize_t o, i, t, n = outer * inner
    cdef int im = is_max
    cdef int64_t* pi = <int64_t*>cnp.PyArray_DATA(idx)
    cdef bint par = _nthreads > 1 and n * R >= PAR_MIN and n > 1
    cdef const float* pxf
    cdef float* pvf
    cdef const int64_t* pxi
    cdef int64_t* pvi
    if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
        pxf = <const float*>cnp.PyArray_DATA(x)
        pvf = <float*>cnp.PyArray_DATA(vals)
        with nogil:
            if par:
                for t in prange(n, num_threads=_nthreads, schedule="static"):
                    rt_argext_f32(pxf + (t // inner) * R * inner + t % inner, R, inner, im,
                                  pvf + t, pi + t)
            else:
                for t in range(n):
                    rt_argext_f32(pxf + (t // inner) * R * inner + t % inner, R, inner, im,
                                  pvf + t, pi + t)
    else:
        pxi = <const int64_t*>cnp.PyArray_DATA(x)
        pvi = <int64_t*>cnp.PyArray_DATA(vals)
        with nogil:
            for t in range(n):
                rt_argext_i64(pxi + (t // inner) * R * inner + t % inner, R, inner, im,
                              pvi + t, pi + t)


def extreme_f32(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t R,
                Py_ssize_t inner, bint is_max):
    """out[o, i] = max or min over r of x[o, r, i] (float32 values only, NaN propagates)."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t t, o, c0, ln, nct = (inner + COLS - 1) // COLS
    cdef int im = is_max
    cdef int64_t dummy
    with nogil:
        if inner == 1:
            for o in range(outer):
                rt_argext_f32(px + o * R, R, 1, im, po + o, &dummy)
        else:
            for t in range(outer * nct):
                o = t // nct
                c0 = (t % nct) * COLS
                ln = inner - c0
                if ln > COLS:
                    ln = COLS
                rt_ext_cols_f32(px + o * R * inner + c0, R, inner, im, po + o * inner + c0, ln)


def any_u8(cnp.ndarray x):
    cdef const unsigned char* p = <const unsigned char*>cnp.PyArray_DATA(x)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i
    cdef bint r = False
    with nogil:
        for i in range(n):
            if p[i]:
                r = True
                break
    return r


def all_u8(cnp.ndarray x):
    cdef const unsigned char* p = <const unsigned char*>cnp.PyArray_DATA(x)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i
    cdef bint r = True
    with nogil:
        for i in range(n):
            if not p[i]:
                r = False
                break
    return r
