# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Batch normalisation kernels over an (N, C, S) view (S = H*W for 4-D input, 1 for 2-D), and
layer normalisation kernels over the rows of an (M, D) view (end of file).

Work is split over channels (each channel's statistics are independent and computed in a fixed
order, so results do not depend on the thread count). Optional arrays (weight, bias, running
statistics, gradients) are passed as None. rustorch/nn/_norm.py validates shapes and dtypes.
"""


cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdlib cimport calloc, free, malloc

cnp.import_array()

cdef extern from "rt_norm.h":
    ctypedef struct rt_bn_args:
        Py_ssize_t N, C, S
        float eps, momentum
        const float *w
        const float *b
        float *rm
        float *rv
    void rt_bn_train_channel(const float *x, float *y, float *save_mean, float *save_invstd,
                             const rt_bn_args *a, Py_ssize_t c) noexcept nogil
    void rt_bn_train_bwd_channel(const float *g, const float *x, const float *mean,
                                 const float *invstd, const float *wt, float *gx, float *gw,
                                 float *gb, Py_ssize_t N, Py_ssize_t C, Py_ssize_t S,
                                 Py_ssize_t c) noexcept nogil
    void rt_bn_eval_channel(const float *x, float *y, const float *rm, const float *rv,
                            const rt_bn_args *a, Py_ssize_t c) noexcept nogil
    void rt_bn_eval_bwd_channel(const float *g, const float *x, const float *rm, const float *rv,
                                const float *wt, float eps, float *gx, float *gw, float *gb,
                                Py_ssize_t N, Py_ssize_t C, Py_ssize_t S, Py_ssize_t c) noexcept nogil
    void rt_bn_train_cols(const float *x, float *y, float *save_mean, float *save_invstd,
                          const rt_bn_args *a, double *acc) noexcept nogil
    void rt_bn_train_bwd_cols(const float *g, const float *x, const float *mean,
                              const float *invstd, const float *wt, float *gx, float *gw,
                              float *gb, Py_ssize_t N, Py_ssize_t C, double *acc) noexcept nogil

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 18  # parallel regions cost ms when the other core is busy



def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef inline float* _ptr(object a):
    return NULL if a is None else <float*>cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline int _threads(Py_ssize_t C, Py_ssize_t work) noexcept nogil:
    return _nthreads if (_nthreads > 1 and C > 1 and work >= PAR_MIN) else 1


def forward(cnp.ndarray x, cnp.ndarray y, Py_ssize_t N, Py_ssize_t C, Py_ssize_t S, w, b,
            rm, rv, bint training, float momentum, float eps, save_mean, save_invstd):
    """Training: batch statistics (saved as mean / invstd; running stats updated in place when
    given). Evaluation: the running statistics. y = (x - mean) * invstd * w + b."""
    cdef rt_bn_args a
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef float* psm = _ptr(save_mean)
    cdef float* psi = _ptr(save_invstd)
    cdef Py_ssize_t c
    cdef double* acc
    cdef int nt = _threads(C, N * C * S)
    a.N = N
    a.C = C
    a.S = S
    a.eps = eps
    a.momentum = momentum
    a.w = _ptr(w)
    a.b = _ptr(b)
    a.rm = _ptr(rm)
    a.rv = _ptr(rv)
    if training and S == 1:
        acc = <double*>malloc(2 * C * sizeof(double) + 8)
        if acc == NULL:
            raise MemoryError()
        with nogil:
            rt_bn_train_cols(px, py, psm, psi, &a, acc)
        free(acc)
        return
    with nogil:
        if training:
            for c in prange(C, num_threads=nt, schedule="static"):
                rt_bn_train_channel(px, py, psm, psi, &a, c)
        else:
            for c in prange(C, num_threads=nt, schedule="static"):
                rt_bn_eval_channel(px, py, a.rm, a.rv, &a, c)


def backward(cnp.ndarray g, cnp.ndarray x, Py_ssize_t N, Py_ssize_t C, Py_ssize_t S,
             cnp.ndarray mean, cnp.ndarray var_or_invstd, w, bint training, float eps, gx, gw,
             gb):
    """Gradients for input / weight / bias (None: not needed). Training passes the saved mean
    and invstd; evaluation passes the running mean and running variance."""
    cdef const float* pg = <const float*>cnp.PyArray_DATA(g)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const float* pm = <const float*>cnp.PyArray_DATA(mean)
    cdef const float* pv = <const float*>cnp.PyArray_DATA(var_or_invstd)
    cdef const float* pw = _ptr(w)
    cdef float* pgx = _ptr(gx)
    cdef float* pgw = _ptr(gw)
    cdef float* pgb = _ptr(gb)
    cdef Py_ssize_t c
    cdef double* acc
    cdef int nt = _threads(C, N * C * S)
    if training and S == 1:
        acc = <double*>malloc(2 * C * sizeof(double) + 8)
        if acc == NULL:
            raise MemoryError()
        with nogil:
            rt_bn_train_bwd_cols(pg, px, pm, pv, pw, pgx, pgw, pgb, N, C, acc)
        free(acc)
        return
    with nogil:
        if training:
            for c in prange(C, num_threads=nt, schedule="static"):
                rt_bn_train_bwd_channel(pg, px, pm, pv, pw, pgx, pgw, pgb, N, C, S, c)
        else:
            for c in prange(C, num_threads=nt, schedule="static"):
                rt_bn_eval_bwd_channel(pg, px, pm, pv, pw, eps, pgx, pgw, pgb, N, C, S, c)


# ---- layer_norm: rows of an (M, D) view (rt_layernorm.h) -----------------------------------------
cdef extern from "rt_layernorm.h":
    void rt_ln_fwd_row(const float *x, float *y, const float *w, const float *b,
                       float *save_mean, float *save_rstd, Py_ssize_t M, Py_ssize_t D, float eps,
                       Py_ssize_t r) noexcept nogil
    void rt_ln_bwd_chunk(const float *g, const float *x, const float *w, const float *mean,
                         const float *rstd, float *gx, double *part_w, double *part_b,
                         float *scr_w, float *scr_b, Py_ssize_t M, Py_ssize_t D, Py_ssize_t nch,
                         Py_ssize_t c) noexcept nogil
    void rt_ln_sum_parts(const double *part, float *out, Py_ssize_t nch,
                         Py_ssize_t D) noexcept nogil

cdef Py_ssize_t LN_MAX_CHUNKS = 64  # row chunks of the backward (fixed: no thread dependence)
cdef Py_ssize_t LN_PART_MAX = 1 << 20  # doubles per partial-sum buffer (gw or gb)


def ln_forward(cnp.ndarray x, cnp.ndarray y, Py_ssize_t M, Py_ssize_t D, w, b, float eps,
               cnp.ndarray save_mean, cnp.ndarray save_rstd):
    """y = (x - mean) * rstd * w + b per row of D (M, D >= 1); saves the mean as float hi / lo
    (2*M floats) and rstd (M floats)."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef const float* pw = _ptr(w)
    cdef const float* pb = _ptr(b)
    cdef float* psm = <float*>cnp.PyArray_DATA(save_mean)
    cdef float* psr = <float*>cnp.PyArray_DATA(save_rstd)
    cdef Py_ssize_t r
    cdef int nt = _threads(M, M * D)
    with nogil:
        for r in prange(M, num_threads=nt, schedule="static"):
            rt_ln_fwd_row(px, py, pw, pb, psm, psr, M, D, eps, r)


def ln_backward(cnp.ndarray g, cnp.ndarray x, Py_ssize_t M, Py_ssize_t D, cnp.ndarray mean,
                cnp.ndarray rstd, w, gx, gw, gb):
    """Gradients for input / weight / bias (None: not needed; M, D >= 1). Rows are processed in
    a fixed number of chunks, each with its own partial sums for gw / gb (float over a few
    rows, then double), summed in chunk order afterwards, so results do not depend on the
    thread count."""
    cdef const float* pg = <const float*>cnp.PyArray_DATA(g)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const float* pm = <const float*>cnp.PyArray_DATA(mean)
    cdef const float* pr = <const float*>cnp.PyArray_DATA(rstd)
    cdef const float* pw = _ptr(w)
    cdef float* pgx = _ptr(gx)
    cdef float* pgw = _ptr(gw)
    cdef float* pgb = _ptr(gb)
    cdef Py_ssize_t nch = M if M < LN_MAX_CHUNKS else LN_MAX_CHUNKS
    cdef Py_ssize_t c
    cdef double* part_w = NULL
    cdef double* part_b = NULL
    cdef float* scr_w = NULL
    cdef float* scr_b = NULL
    if pgw != NULL or pgb != NULL:
        if nch * D > LN_PART_MAX:
            nch = LN_PART_MAX // D if D < LN_PART_MAX else 1
        if pgw != NULL:
            part_w = <double*>calloc(nch * D, sizeof(double))
            scr_w = <float*>calloc(nch * D, sizeof(float))
        if pgb != NULL:
            part_b = <double*>calloc(nch * D, sizeof(double))
            scr_b = <float*>calloc(nch * D, sizeof(float))
        if (pgw != NULL and (part_w == NULL or scr_w == NULL)) or (
                pgb != NULL and (part_b == NULL or scr_b == NULL)):
            free(part_w)
            free(part_b)
            free(scr_w)
            free(scr_b)
            raise MemoryError()
    cdef int nt = _threads(nch, M * D)
    with nogil:
        for c in prange(nch, num_threads=nt, schedule="static"):
            rt_ln_bwd_chunk(pg, px, pw, pm, pr, pgx, part_w, part_b, scr_w, scr_b, M, D, nch, c)
        if part_w != NULL:
            rt_ln_sum_parts(part_w, pgw, nch, D)
        if part_b != NULL:
            rt_ln_sum_parts(part_b, pgb, nch, D)
    free(part_w)
    free(part_b)
    free(scr_w)
    free(scr_b)
