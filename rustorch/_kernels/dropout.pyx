# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Dropout from the counter-based generator: element i is kept when U(seed, offset + i) >= p.

The uniform for element i is computed exactly like random.uniform's (same hash, same 24-bit
mantissa), so a dropout mask equals ``rand(n) >= p`` drawn from the same generator state, and
it is the same whatever the thread count.
"""

import os

cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport uint8_t, uint64_t

cnp.import_array()

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 17  # parallel regions cost ms when the other core is busy


# In a child made by fork(), GNU libgomp still lists the parent's worker threads in its pool
# and a parallel region can wait for them forever: children run serial.
cdef bint _forked = False


def _after_fork_in_child():
    global _forked, _nthreads
    _forked = True
    _nthreads = 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_num_threads(int n):
    global _nthreads
    _nthreads = 1 if (_forked or n < 1) else n


cdef inline uint64_t _mix(uint64_t seed, uint64_t ctr) noexcept nogil:
    # the same hash as random.pyx (splitmix64 finaliser keyed by the seed, two rounds)
    cdef uint64_t z = seed * 0x9E3779B97F4A7C15ULL + ctr * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    z = (z + seed) * 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


def forward(cnp.ndarray x, cnp.ndarray out, cnp.ndarray mask, uint64_t seed, uint64_t offset,
            float p, float scale):
    """mask[i] = U_i >= p; out[i] = x[i] * scale where kept, else 0."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef uint8_t* pm = <uint8_t*>cnp.PyArray_DATA(mask)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i
    cdef float u
    cdef uint8_t keep
    with nogil:
        for i in prange(n, num_threads=_nthreads if n >= PAR_MIN else 1, schedule="static"):
            u = <float>(_mix(seed, offset + i) >> 40) * (1.0 / 16777216.0)
            keep = u >= p
            pm[i] = keep
            po[i] = px[i] * scale if keep else 0.0


def backward(cnp.ndarray g, cnp.ndarray mask, cnp.ndarray gx, float scale):
    """gx = g * mask * scale."""
    cdef const float* pg = <const float*>cnp.PyArray_DATA(g)
    cdef const uint8_t* pm = <const uint8_t*>cnp.PyArray_DATA(mask)
    cdef float* po = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(g), i
    with nogil:
        for i in prange(n, num_threads=_nthreads if n >= PAR_MIN else 1, schedule="static"):
            po[i] = pg[i] * scale if pm[i] else 0.0
