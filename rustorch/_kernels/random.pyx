# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Counter-based random numbers: element i of a draw is a hash of (seed, offset + i).

Because each element depends only on its counter, the numbers are the same whatever the thread
count or chunking, and a generator's state is just (seed, offset).
"""

cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport cos, log, sqrt
from libc.stdint cimport int64_t, uint64_t

cnp.import_array()

cdef int _nthreads = 1


def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef extern from "rt_random.h":
    uint64_t _mix "rt_mix"(uint64_t seed, uint64_t ctr) noexcept nogil


def uniform(cnp.ndarray out, uint64_t seed, uint64_t offset, float low, float high):
    """out[i] = low + (high - low) * U[0, 1) from counter offset + i (float32)."""
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out), i
    cdef float span = high - low
    with nogil:
        if _nthreads > 1 and n >= 1 << 16:
            for i in prange(n, num_threads=_nthreads, schedule="static"):
                po[i] = low + span * (<float>(_mix(seed, offset + i) >> 40) * (1.0 / 16777216.0))
        else:
            for i in range(n):
                po[i] = low + span * (<float>(_mix(seed, offset + i) >> 40) * (1.0 / 16777216.0))


def normal(cnp.ndarray out, uint64_t seed, uint64_t offset, float mean, float std):
    """out[i] ~ N(mean, std^2) by Box-Muller on two 24-bit uniforms from one 64-bit hash."""
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out), i
    cdef uint64_t h
    cdef double u1, u2
    with nogil:
        if _nthreads > 1 and n >= 1 << 14:
            for i in prange(n, num_threads=_nthreads, schedule="static"):
                h = _mix(seed, offset + i)
                u1 = (<double>(h >> 40) + 1.0) * (1.0 / 16777216.0)
                u2 = <double>(h & 0xFFFFFF) * (1.0 / 16777216.0)
                po[i] = mean + std * <float>(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2))
        else:
            for i in range(n):
                h = _mix(seed, offset + i)
                u1 = (<double>(h >> 40) + 1.0) * (1.0 / 16777216.0)
                u2 = <double>(h & 0xFFFFFF) * (1.0 / 16777216.0)
                po[i] = mean + std * <float>(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2))


def integers(cnp.ndarray out, uint64_t seed, uint64_t offset, int64_t low, uint64_t span):
    """out[i] = low + uniform integer in [0, span) (int64)."""
    cdef int64_t* po = <int64_t*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out), i
    with nogil:
        for i in range(n):
            po[i] = low + <int64_t>(_mix(seed, offset + i) % span)


def permutation(cnp.ndarray out, uint64_t seed, uint64_t offset):
    """out = a random permutation of 0..n-1 (Fisher-Yates)."""
    cdef int64_t* po = <int64_t*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out), i, j
    cdef int64_t tmp
    with nogil:
        for i in range(n):
            po[i] = i
        for i in range(n - 1, 0, -1):
            j = <Py_ssize_t>(_mix(seed, offset + i) % <uint64_t>(i + 1))
            tmp = po[i]
            po[i] = po[j]
            po[j] = tmp


def bernoulli_mask(cnp.ndarray out, uint64_t seed, uint64_t offset, float p):
    """out[i] = 1.0 where U[0,1) >= p (kept), else 0.0 (float32)."""
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(out), i
    with nogil:
        if _nthreads > 1 and n >= 1 << 16:
            for i in prange(n, num_threads=_nthreads, schedule="static"):
                po[i] = 1.0 if (<float>(_mix(seed, offset + i) >> 40) * (1.0 / 16777216.0)) >= p else 0.0
        else:
            for i in range(n):
                po[i] = 1.0 if (<float>(_mix(seed, offset + i) >> 40) * (1.0 / 16777216.0)) >= p else 0.0
