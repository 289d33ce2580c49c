# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused optimizer updates: one pass over a parameter's contiguous float32 buffers, in place.

Each function reproduces torch's single-tensor (foreach=False) update of torch/optim/sgd.py and
adam.py operation by operation, in float32, with every scalar rounded to float32 where torch
rounds it (a Python float becomes a float32 scalar inside torch's CPU kernels). The loops are in
rt_optim.h / rt_optim_body.h; on CPUs with AVX2+FMA they use fused multiply-adds exactly where
torch's kernels do, so SGD matches torch bit for bit and Adam to within torch's own (MKL) sqrt
rounding.

The op layer (rustorch/optim) checks that every buffer is float32, C-contiguous and has the
parameter's shape before calling; nothing is checked here.
"""

cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport pow

cnp.import_array()

cdef extern from "rt_common.h":
    int rt_cpu_supports(int level) noexcept nogil

cdef extern from "rt_optim.h":
    ctypedef struct rt_sgd_args:
        float* p
        const float* g
        float* buf
        float wd, mom, damp1, neg_lr
        int has_wd, has_mom, nesterov, maximize, first
    ctypedef struct rt_adam_args:
        float* p
        const float* g
        float* m
        float* v
        float* vmax
        float w1, beta2, omb2, wd, decay, bc2_sqrt, eps, neg_step
        int has_wd, decoupled, amsgrad, maximize
    int RT_HAVE_FMA_PATH
    void rt_sgd(const rt_sgd_args* a, Py_ssize_t lo, Py_ssize_t hi, int fma) noexcept nogil
    void rt_adam(const rt_adam_args* a, Py_ssize_t lo, Py_ssize_t hi, int fma) noexcept nogil

# Below this many elements the update runs serial; above it, fixed chunks of CHUNK elements are
# spread over the threads (elements are independent, so results never depend on the count).
cdef Py_ssize_t PAR_MIN = 1 << 15
cdef Py_ssize_t CHUNK = 1 << 13
cdef int _fma = RT_HAVE_FMA_PATH and rt_cpu_supports(1)


def use_fma(bint on):
    """Use the FMA loops (when this build and CPU have them); returns whether they are used."""
    global _fma
    _fma = 1 if (on and RT_HAVE_FMA_PATH and rt_cpu_supports(1)) else 0
    return bool(_fma)


def sgd(cnp.ndarray param, cnp.ndarray grad, object buf, double lr, double weight_decay,
        double momentum, double dampening, bint nesterov, bint maximize, bint first,
        int nthreads=1):
    """In-place SGD step on one parameter (buf: the momentum buffer, or None without momentum)."""
    cdef rt_sgd_args a
    cdef Py_ssize_t n = cnp.PyArray_SIZE(param), nch, c, lo, hi
    cdef int fma = _fma
    a.p = <float*>cnp.PyArray_DATA(param)
    a.g = <const float*>cnp.PyArray_DATA(grad)
    a.has_mom = momentum != 0
    a.buf = <float*>cnp.PyArray_DATA(<cnp.ndarray>buf) if a.has_mom else NULL
    a.has_wd = weight_decay != 0
    a.wd = <float>weight_decay
    a.mom = <float>momentum
    a.damp1 = <float>(1.0 - dampening)
    a.neg_lr = <float>(-lr)
    a.nesterov = nesterov
    a.maximize = maximize
    a.first = first
    if n == 0:
        return
    with nogil:
        if nthreads > 1 and n >= PAR_MIN:
            nch = (n + CHUNK - 1) // CHUNK
            for c in prange(nch, num_threads=nthreads, schedule="static"):
                lo = c * CHUNK
                hi = lo + CHUNK
                if hi > n:
                    hi = n
                rt_sgd(&a, lo, hi, fma)
        else:
            rt_sgd(&a, 0, n, fma)


def adam(cnp.ndarray param, cnp.ndarray grad, cnp.ndarray exp_avg, cnp.ndarray exp_avg_sq,
         object max_exp_avg_sq, double lr, double beta1, double beta2, double eps,
         double weight_decay, double step, bint amsgrad, bint maximize, bint decoupled,
         int nthreads=1):
    """In-place Adam (decoupled=False) or AdamW (decoupled=True) step on one parameter.

    `step` is the step count after this step's increment; max_exp_avg_sq is used when amsgrad.
    """
    cdef rt_adam_args a
    cdef Py_ssize_t n = cnp.PyArray_SIZE(param), nch, c, lo, hi
    cdef int fma = _fma
    # bias corrections in double, like torch's Python floats (bc2 ** 0.5 is pow, not sqrt)
    cdef double bc1 = 1.0 - pow(beta1, step)
    cdef double bc2 = 1.0 - pow(beta2, step)
    a.p = <float*>cnp.PyArray_DATA(param)
    a.g = <const float*>cnp.PyArray_DATA(grad)
    a.m = <float*>cnp.PyArray_DATA(exp_avg)
    a.v = <float*>cnp.PyArray_DATA(exp_avg_sq)
    a.amsgrad = amsgrad
    a.vmax = <float*>cnp.PyArray_DATA(<cnp.ndarray>max_exp_avg_sq) if amsgrad else NULL
    a.w1 = <float>(1.0 - beta1)
    a.beta2 = <float>beta2
    a.omb2 = <float>(1.0 - beta2)
    a.has_wd = weight_decay != 0
    a.wd = <float>weight_decay
    a.decay = <float>(1.0 - lr * weight_decay)
    a.decoupled = decoupled
    a.bc2_sqrt = <float>pow(bc2, 0.5)
    a.eps = <float>eps
    a.neg_step = <float>(-(lr / bc1))
    a.maximize = maximize
    if n == 0:
        return
    with nogil:
        if nthreads > 1 and n >= PAR_MIN:
            nch = (n + CHUNK - 1) // CHUNK
            for c in prange(nch, num_threads=nthreads, schedule="static"):
                lo = c * CHUNK
                hi = lo + CHUNK
                if hi > n:
                    hi = n
                rt_adam(&a, lo, hi, fma)
        else:
            rt_adam(&a, 0, n, fma)
