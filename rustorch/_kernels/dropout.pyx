# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Dropout from the counter-based generator: element i is kept when U(seed, offset + i) >= p.

The uniform for element i is computed exactly like random.uniform's (same hash, same 24-bit
mantissa), so a dropout mask equals ``rand(n) >= p`` drawn from the same generator state, and
it is the same whatever the thread count.
"""


cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport uint8_t, uint64_t

cnp.import_array()

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 17  # parallel regions cost ms when the other core is busy



def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef extern from "rt_random.h":
    uint64_t _mix "rt_mix"(uint64_t seed, uint64_t ctr) noexcept nogil


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
