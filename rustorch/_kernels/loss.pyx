# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""softmax / log_softmax (any dim, as an (outer, R, inner) view) and the classification losses:
cross entropy and nll with class-index targets, binary cross entropy with logits.

Per-sample losses are written to a buffer and reduced serially in double, so a loss does not
depend on the thread count. rustorch/nn/_activation.py and _loss.py validate shapes, dtypes and
target values before calling (check_targets finds an out-of-range class index first).
"""


cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t

cnp.import_array()

cdef extern from "rt_loss.h":
    ctypedef struct rt_ce_args:
        Py_ssize_t C, inner
        const float *w
        float wsum
        float eta
        int64_t ignore
    void rt_softmax_row(const float *x, float *y, Py_ssize_t R, int logsm) noexcept nogil
    void rt_softmax_cols(const float *x, float *y, Py_ssize_t R, Py_ssize_t inner, Py_ssize_t n,
                         int logsm) noexcept nogil
    void rt_softmax_bwd_row(const float *g, const float *y, float *gx, Py_ssize_t R,
                            int logsm) noexcept nogil
    void rt_softmax_bwd_cols(const float *g, const float *y, float *gx, Py_ssize_t R,
                             Py_ssize_t inner, Py_ssize_t n, int logsm) noexcept nogil
    void rt_ce_sample(const float *x, int64_t t, const rt_ce_args *a, float *loss, float *wt,
                      float *mx, float *lse) noexcept nogil
    void rt_ce_sample_bwd(const float *x, int64_t t, const rt_ce_args *a, float m, float ls,
                          float gscale, float *gx) noexcept nogil
    float rt_logsigmoid(float x) noexcept nogil
    float rt_sigmoidf(float x) noexcept nogil

DEF COLS = 256

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 17  # parallel regions cost ms when the other core is busy



def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef inline int _threads(Py_ssize_t tasks, Py_ssize_t work) noexcept nogil:
    return _nthreads if (_nthreads > 1 and tasks > 1 and work >= PAR_MIN) else 1


def softmax(cnp.ndarray x, cnp.ndarray y, Py_ssize_t outer, Py_ssize_t R, Py_ssize_t inner,
            bint logsm):
    """y = softmax or log_softmax of x (outer, R, inner) over R."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef Py_ssize_t o, t, c0, ln, nct = (inner + COLS - 1) // COLS
    cdef int lg = logsm
    cdef int nt
    with nogil:
        if inner == 1:
            nt = _threads(outer, outer * R)
            for o in prange(outer, num_threads=nt, schedule="static"):
                rt_softmax_row(px + o * R, py + o * R, R, lg)
        else:
            nt = _threads(outer * nct, outer * R * inner)
            for t in prange(outer * nct, num_threads=nt, schedule="static"):
                o = t // nct
                c0 = (t % nct) * COLS
                ln = inner - c0
                if ln > COLS:
                    ln = COLS
                rt_softmax_cols(px + o * R * inner + c0, py + o * R * inner + c0, R, inner, ln, lg)


def softmax_bwd(cnp.ndarray g, cnp.ndarray y, cnp.ndarray gx, Py_ssize_t outer, Py_ssize_t R,
                Py_ssize_t inner, bint logsm):
    cdef const float* pg = <const float*>cnp.PyArray_DATA(g)
    cdef const float* py = <const float*>cnp.PyArray_DATA(y)
    cdef float* po = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t o, t, c0, ln, b, nct = (inner + COLS - 1) // COLS
    cdef int lg = logsm
    cdef int nt
    with nogil:
        if inner == 1:
            nt = _threads(outer, outer * R)
            for o in prange(outer, num_threads=nt, schedule="static"):
                rt_softmax_bwd_row(pg + o * R, py + o * R, po + o * R, R, lg)
        else:
            nt = _threads(outer * nct, outer * R * inner)
            for t in prange(outer * nct, num_threads=nt, schedule="static"):
                o = t // nct
                c0 = (t % nct) * COLS
                ln = inner - c0
                if ln > COLS:
                    ln = COLS
                b = o * R * inner + c0
                rt_softmax_bwd_cols(pg + b, py + b, po + b, R, inner, ln, lg)


def check_targets(cnp.ndarray t, Py_ssize_t C, int64_t ignore):
    """Flat index of the first target outside [0, C) that is not ignore_index, or -1."""
    cdef const int64_t* pt = <const int64_t*>cnp.PyArray_DATA(t)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(t), i, bad = -1
    with nogil:
        for i in range(n):
            if (pt[i] < 0 or pt[i] >= C) and pt[i] != ignore:
                bad = i
                break
    return bad


cdef rt_ce_args _ce_args(Py_ssize_t C, Py_ssize_t inner, w, float eta, int64_t ignore):
    cdef rt_ce_args a
    cdef Py_ssize_t c
    a.C = C
    a.inner = inner
    a.eta = eta
    a.ignore = ignore
    a.w = NULL
    a.wsum = <float>C
    if w is not None:
        a.w = <const float*>cnp.PyArray_DATA(<cnp.ndarray>w)
        a.wsum = 0.0
        for c in range(C):
            a.wsum = a.wsum + a.w[c]
    return a


def ce_fwd(cnp.ndarray x, cnp.ndarray t, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, w,
           float eta, int64_t ignore, cnp.ndarray loss, cnp.ndarray stats):
    """Per-sample losses (outer*inner), and (sum of loss, sum of target weights) returned as
    doubles; stats (2, outer*inner) keeps each sample's max and log-sum-exp for backward."""
    cdef rt_ce_args a = _ce_args(C, inner, w, eta, ignore)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const int64_t* pt = <const int64_t*>cnp.PyArray_DATA(t)
    cdef float* pl = <float*>cnp.PyArray_DATA(loss)
    cdef float* ps = <float*>cnp.PyArray_DATA(stats)
    cdef Py_ssize_t n = outer * inner, s
    cdef float* wts = ps + 2 * n  # stats has 3 rows: max, lse, weight of the target
    cdef double tl = 0.0, tw = 0.0
    cdef int nt = _threads(n, n * C)
    with nogil:
        for s in prange(n, num_threads=nt, schedule="static"):
            rt_ce_sample(px + (s // inner) * C * inner + s % inner, pt[s], &a, pl + s, wts + s,
                         ps + s, ps + n + s)
        for s in range(n):
            tl += pl[s]
            tw += wts[s]
    return tl, tw


def ce_bwd(cnp.ndarray x, cnp.ndarray t, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, w,
           float eta, int64_t ignore, cnp.ndarray stats, cnp.ndarray gscale, bint per_sample,
           cnp.ndarray gx):
    """gx for every sample; gscale is one factor (per_sample False) or one per sample."""
    cdef rt_ce_args a = _ce_args(C, inner, w, eta, ignore)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const int64_t* pt = <const int64_t*>cnp.PyArray_DATA(t)
    cdef const float* ps = <const float*>cnp.PyArray_DATA(stats)
    cdef const float* pg = <const float*>cnp.PyArray_DATA(gscale)
    cdef float* po = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t n = outer * inner, s, base
    cdef int nt = _threads(n, n * C)
    with nogil:
        for s in prange(n, num_threads=nt, schedule="static"):
            base = (s // inner) * C * inner + s % inner
            rt_ce_sample_bwd(px + base, pt[s], &a, ps[s], ps[n + s],
                             pg[s] if per_sample else pg[0], po + base)


def nll_fwd(cnp.ndarray x, cnp.ndarray t, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, w,
            int64_t ignore, cnp.ndarray loss):
    """loss[s] = -w[t] * x[o, t, i]; returns (sum of loss, sum of target weights)."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const int64_t* pt = <const int64_t*>cnp.PyArray_DATA(t)
    cdef const float* pw = NULL
    cdef float* pl = <float*>cnp.PyArray_DATA(loss)
    cdef Py_ssize_t n = outer * inner, s
    cdef int64_t tc
    cdef float wt
    cdef double tl = 0.0, tw = 0.0
    if w is not None:
        pw = <const float*>cnp.PyArray_DATA(<cnp.ndarray>w)
    with nogil:
        for s in range(n):
            tc = pt[s]
            if tc == ignore:
                pl[s] = 0.0
                continue
            wt = pw[tc] if pw != NULL else 1.0
            pl[s] = -wt * px[(s // inner) * C * inner + tc * inner + s % inner]
            tl += pl[s]
            tw += wt
    return tl, tw


def nll_bwd(cnp.ndarray t, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, w, int64_t ignore,
            cnp.ndarray gscale, bint per_sample, cnp.ndarray gx):
    """gx (zeroed here) [o, t, i] = -w[t] * gscale."""
    cdef const int64_t* pt = <const int64_t*>cnp.PyArray_DATA(t)
    cdef const float* pw = NULL
    cdef const float* pg = <const float*>cnp.PyArray_DATA(gscale)
    cdef float* po = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t n = outer * inner, s, i, tot = cnp.PyArray_SIZE(gx)
    cdef int64_t tc
    if w is not None:
        pw = <const float*>cnp.PyArray_DATA(<cnp.ndarray>w)
    with nogil:
        for i in range(tot):
            po[i] = 0.0
        for s in range(n):
            tc = pt[s]
            if tc == ignore:
                continue
            po[(s // inner) * C * inner + tc * inner + s % inner] = (
                -(pw[tc] if pw != NULL else 1.0) * (pg[s] if per_sample else pg[0]))


def bce_logits_fwd(cnp.ndarray x, cnp.ndarray t, w, pw, cnp.ndarray loss):
    """loss = w * ((1 - t) * x - (1 + (pw - 1) * t) * logsigmoid(x)) elementwise (w, pw already
    broadcast to x's shape, or None); returns the sum in double."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const float* pt = <const float*>cnp.PyArray_DATA(t)
    cdef const float* pww = NULL
    cdef const float* ppw = NULL
    cdef float* pl = <float*>cnp.PyArray_DATA(loss)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i
    cdef float lw, v
    cdef double tot = 0.0
    if w is not None:
        pww = <const float*>cnp.PyArray_DATA(<cnp.ndarray>w)
    if pw is not None:
        ppw = <const float*>cnp.PyArray_DATA(<cnp.ndarray>pw)
    with nogil:
        for i in range(n):
            lw = 1.0 if ppw == NULL else 1.0 + (ppw[i] - 1.0) * pt[i]
            v = (1.0 - pt[i]) * px[i] - lw * rt_logsigmoid(px[i])
            if pww != NULL:
                v = v * pww[i]
            pl[i] = v
        for i in range(n):
            tot += pl[i]
    return tot


def bce_logits_bwd(cnp.ndarray x, cnp.ndarray t, w, pw, cnp.ndarray gscale, bint per_elem,
                   gx, gt):
    """d/dx = w * ((1 - t) - lw * (1 - sigmoid(x))); d/dt = w * (-x - (pw - 1) * logsigmoid(x)),
    each times gscale (one factor, or one per element)."""
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef const float* pt = <const float*>cnp.PyArray_DATA(t)
    cdef const float* pww = NULL
    cdef const float* ppw = NULL
    cdef const float* pg = <const float*>cnp.PyArray_DATA(gscale)
    cdef float* pgx = NULL
    cdef float* pgt = NULL
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i
    cdef float lw, s, wv, gv
    if w is not None:
        pww = <const float*>cnp.PyArray_DATA(<cnp.ndarray>w)
    if pw is not None:
        ppw = <const float*>cnp.PyArray_DATA(<cnp.ndarray>pw)
    if gx is not None:
        pgx = <float*>cnp.PyArray_DATA(<cnp.ndarray>gx)
    if gt is not None:
        pgt = <float*>cnp.PyArray_DATA(<cnp.ndarray>gt)
    with nogil:
        for i in range(n):
            gv = pg[i] if per_elem else pg[0]
            wv = gv if pww == NULL else gv * pww[i]
            if pgx != NULL:
                lw = 1.0 if ppw == NULL else 1.0 + (ppw[i] - 1.0) * pt[i]
                s = rt_sigmoidf(px[i])
                pgx[i] = wv * ((1.0 - pt[i]) - lw * (1.0 - s))
            if pgt != NULL:
                if ppw == NULL:
                    pgt[i] = -wv * px[i]
                else:
                    pgt[i] = wv * (-px[i] - (ppw[i] - 1.0) * rt_logsigmoid(px[i]))
