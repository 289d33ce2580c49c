# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Index-driven copies: gather/scatter along a dim, index_select/index_add, nonzero.

Callers validate every index first (index_in_range); these loops trust them.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t

cnp.import_array()


def gather_dim(cnp.ndarray x, cnp.ndarray idx, cnp.ndarray out, Py_ssize_t outer,
               Py_ssize_t R, Py_ssize_t inner, Py_ssize_t K):
    """out[o, k, i] = x[o, idx[o, k, i], i] for an index tensor of K entries along the dim.

    The caller guarantees 0 <= idx < R. Works for any 4- or 8-byte element type."""
    cdef const int64_t* pi = <const int64_t*>cnp.PyArray_DATA(idx)
    cdef char* px = <char*>cnp.PyArray_DATA(x)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef int isz = cnp.PyArray_ITEMSIZE(x)
    cdef Py_ssize_t o, k, i, j, src
    with nogil:
        for o in range(outer):
            for k in range(K):
                for i in range(inner):
                    j = (o * K + k) * inner + i
                    src = (o * R + pi[j]) * inner + i
                    if isz == 4:
                        (<float*>po)[j] = (<float*>px)[src]
                    else:
                        (<int64_t*>po)[j] = (<int64_t*>px)[src]


def scatter_add_dim(cnp.ndarray src, cnp.ndarray idx, cnp.ndarray out, Py_ssize_t outer,
                    Py_ssize_t R, Py_ssize_t inner, Py_ssize_t K):
    """out[o, idx[o, k, i], i] += src[o, k, i] (float32; the caller guarantees 0 <= idx < R)."""
    cdef const int64_t* pi = <const int64_t*>cnp.PyArray_DATA(idx)
    cdef const float* ps = <const float*>cnp.PyArray_DATA(src)
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t o, k, i, j
    with nogil:
        for o in range(outer):
            for k in range(K):
                for i in range(inner):
                    j = (o * K + k) * inner + i
                    po[(o * R + pi[j]) * inner + i] += ps[j]


def index_in_range(cnp.ndarray idx, int64_t lo, int64_t hi):
    """True when every element of an int64 array lies in [lo, hi)."""
    cdef const int64_t* pi = <const int64_t*>cnp.PyArray_DATA(idx)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(idx), i
    cdef bint ok = True
    with nogil:
        for i in range(n):
            if pi[i] < lo or pi[i] >= hi:
                ok = False
                break
    return ok


def index_select(cnp.ndarray x, cnp.ndarray idx, cnp.ndarray out, Py_ssize_t outer,
                 Py_ssize_t R, Py_ssize_t inner):
    """out[o, k, i] = x[o, idx[k], i] (any 1-, 4- or 8-byte element type; 0 <= idx < R)."""
    cdef const int64_t* pi = <const int64_t*>cnp.PyArray_DATA(idx)
    cdef char* px = <char*>cnp.PyArray_DATA(x)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef int isz = cnp.PyArray_ITEMSIZE(x)
    cdef Py_ssize_t K = cnp.PyArray_SIZE(idx), o, k, i, src, dst
    with nogil:
        for o in range(outer):
            for k in range(K):
                src = (o * R + pi[k]) * inner
                dst = (o * K + k) * inner
                if isz == 4:
                    for i in range(inner):
                        (<float*>po)[dst + i] = (<float*>px)[src + i]
                elif isz == 8:
                    for i in range(inner):
                        (<int64_t*>po)[dst + i] = (<int64_t*>px)[src + i]
                else:
                    for i in range(inner):
                        (<unsigned char*>po)[dst + i] = (<unsigned char*>px)[src + i]


def index_add(cnp.ndarray src, cnp.ndarray idx, cnp.ndarray out, Py_ssize_t outer,
              Py_ssize_t R, Py_ssize_t inner):
    """out[o, idx[k], i] += src[o, k, i] (float32; repeated indices accumulate)."""
    cdef const int64_t* pi = <const int64_t*>cnp.PyArray_DATA(idx)
    cdef const float* ps = <const float*>cnp.PyArray_DATA(src)
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t K = cnp.PyArray_SIZE(idx), o, k, i, s, d
    with nogil:
        for o in range(outer):
            for k in range(K):
                s = (o * K + k) * inner
                d = (o * R + pi[k]) * inner
                for i in range(inner):
                    po[d + i] += ps[s + i]


def index_put(cnp.ndarray src, cnp.ndarray idx, cnp.ndarray out, Py_ssize_t outer,
              Py_ssize_t R, Py_ssize_t inner):
    """out[o, idx[k], i] = src[o, k, i] (any 1-, 4- or 8-byte type; last write wins)."""
    cdef const int64_t* pi = <const int64_t*>cnp.PyArray_DATA(idx)
    cdef char* ps = <char*>cnp.PyArray_DATA(src)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef int isz = cnp.PyArray_ITEMSIZE(out)
    cdef Py_ssize_t K = cnp.PyArray_SIZE(idx), o, k, i, s, d
    with nogil:
        for o in range(outer):
            for k in range(K):
                s = (o * K + k) * inner
                d = (o * R + pi[k]) * inner
                if isz == 4:
                    for i in range(inner):
                        (<float*>po)[d + i] = (<float*>ps)[s + i]
                elif isz == 8:
                    for i in range(inner):
                        (<int64_t*>po)[d + i] = (<int64_t*>ps)[s + i]
                else:
                    for i in range(inner):
                        (<unsigned char*>po)[d + i] = (<unsigned char*>ps)[s + i]


def wrap_negative(cnp.ndarray idx, int64_t size):
    """In place: idx[k] += size where idx[k] < 0 (torch's negative indices)."""
    cdef int64_t* pi = <int64_t*>cnp.PyArray_DATA(idx)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(idx), i
    with nogil:
        for i in range(n):
            if pi[i] < 0:
                pi[i] += size


def count_nonzero_u8(cnp.ndarray x):
    cdef const unsigned char* p = <const unsigned char*>cnp.PyArray_DATA(x)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i, c = 0
    with nogil:
        for i in range(n):
            c += p[i] != 0
    return c


def nonzero_flat(cnp.ndarray x, cnp.ndarray out):
    """out[j] = flat position of the j-th nonzero byte of x (out sized by count_nonzero_u8)."""
    cdef const unsigned char* p = <const unsigned char*>cnp.PyArray_DATA(x)
    cdef int64_t* po = <int64_t*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i, j = 0
    with nogil:
        for i in range(n):
            if p[i]:
                po[j] = i
                j += 1
