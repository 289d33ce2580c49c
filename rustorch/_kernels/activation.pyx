# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused activations with their backward: gelu (exact and tanh), silu, leaky_relu.

Forward and backward follow torch's CPU formulas (aten/src/ATen/native/cpu/Activation.cpp) in
float32. Inputs are contiguous float32 arrays of equal size, checked by rustorch.nn.functional.
"""

cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport erff, expf, tanhf

cnp.import_array()

cdef Py_ssize_t PAR_MIN = 1 << 14
cdef Py_ssize_t CHUNK = 1 << 12

cdef enum:  # op codes
    GELU = 0
    GELU_TANH = 1
    SILU = 2
    LEAKY = 3

cdef float SQRT1_2 = 0.70710678118654752440     # M_SQRT1_2
cdef float BETA = 0.79788456080286535588         # M_SQRT2 * M_2_SQRTPI * 0.5 = sqrt(2 / pi)
cdef float KAPPA = 0.044715
cdef float PDF_K = 0.39894228040143267794        # M_2_SQRTPI * M_SQRT1_2 * 0.5 = 1/sqrt(2 pi)


cdef void _fwd(int op, const float* x, float* y, Py_ssize_t lo, Py_ssize_t hi,
               float slope) noexcept nogil:
    cdef Py_ssize_t i
    cdef float xi, inner, half = 0.5, one = 1.0
    if op == GELU:
        for i in range(lo, hi):
            xi = x[i]
            y[i] = xi * half * (one + erff(xi * SQRT1_2))
    elif op == GELU_TANH:
        for i in range(lo, hi):
            xi = x[i]
            inner = BETA * (xi + KAPPA * (xi * xi * xi))
            y[i] = half * xi * (one + tanhf(inner))
    elif op == SILU:
        for i in range(lo, hi):
            xi = x[i]
            y[i] = xi / (one + expf(-xi))
    else:
        for i in range(lo, hi):
            xi = x[i]
            y[i] = xi if xi > 0 else xi * slope


cdef void _bwd(int op, const float* g, const float* x, float* gx, Py_ssize_t lo, Py_ssize_t hi,
               float slope) noexcept nogil:
    cdef Py_ssize_t i
    cdef float xi, cdf, pdf, x2, inner, t, left, right, s
    cdef float half = 0.5, one = 1.0, three = 3.0, mhalf = -0.5
    if op == GELU:
        for i in range(lo, hi):
            xi = x[i]
            cdf = half * (one + erff(xi * SQRT1_2))
            pdf = expf(mhalf * xi * xi) * PDF_K
            gx[i] = g[i] * (cdf + xi * pdf)
    elif op == GELU_TANH:
        for i in range(lo, hi):
            xi = x[i]
            x2 = xi * xi
            inner = BETA * (xi + KAPPA * (x2 * xi))
            t = tanhf(inner)
            left = half * xi
            right = one + t
            gx[i] = g[i] * (half * right + left * (one - t * t) * (BETA * (one + three * KAPPA * x2)))
    elif op == SILU:
        for i in range(lo, hi):
            xi = x[i]
            s = one / (one + expf(-xi))
            gx[i] = g[i] * s * (one + xi * (one - s))
    else:
        for i in range(lo, hi):
            gx[i] = g[i] if x[i] > 0 else g[i] * slope


def forward(int op, cnp.ndarray x, cnp.ndarray y, float slope=0.0, int nthreads=1):
    """y = act(x) for op 0 gelu, 1 gelu(tanh), 2 silu, 3 leaky_relu(slope)."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), nch, c, lo, hi
    with nogil:
        if nthreads > 1 and n >= PAR_MIN:
            nch = (n + CHUNK - 1) // CHUNK
            for c in prange(nch, num_threads=nthreads, schedule="static"):
                lo = c * CHUNK
                hi = lo + CHUNK
                if hi > n:
                    hi = n
                _fwd(op, px, py, lo, hi, slope)
        else:
            _fwd(op, px, py, 0, n, slope)


def backward(int op, cnp.ndarray g, cnp.ndarray x, cnp.ndarray gx, float slope=0.0,
             int nthreads=1):
    """gx = g * act'(x) for the same op codes."""
    cdef const float* pg = <const float*>cnp.PyArray_DATA(g)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* pgx = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), nch, c, lo, hi
    with nogil:
        if nthreads > 1 and n >= PAR_MIN:
            nch = (n + CHUNK - 1) // CHUNK
            for c in prange(nch, num_threads=nthreads, schedule="static"):
                lo = c * CHUNK
                hi = lo + CHUNK
                if hi > n:
                    hi = n
                _bwd(op, pg, px, pgx, lo, hi, slope)
        else:
            _bwd(op, pg, px, pgx, 0, n, slope)
