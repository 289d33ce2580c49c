# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""conv2d helpers around the GEMM: im2col, col2im, bias packing and the weight-gradient fold.

Column layout per image: G groups, each a block of (Kg + aug) rows of L = OH*OW floats, where
Kg = Cg*KH*KW (rows ordered channel, kernel row, kernel column, like the weight's flattening)
and aug = 1 adds a row of ones so the GEMM with the weight augmented by a bias column adds the
bias (and, in backward, the same GEMM yields the bias gradient as the last column).
The Python layer (rustorch/nn/_conv.py) validates every shape before calling these.
"""


cimport numpy as cnp
from cython.parallel cimport prange

cnp.import_array()

cdef extern from "rt_conv.h":
    ctypedef struct rt_conv_geom:
        Py_ssize_t H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW
    void rt_im2col_plane(const float *x, float *col, const rt_conv_geom *g) noexcept nogil
    void rt_col2im_plane(float *col, float *x, const rt_conv_geom *g) noexcept nogil
    void rt_fill_f32(float *p, Py_ssize_t n, float v) noexcept nogil
    void rt_bias_grad(const float *g, float *gb, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L,
                      Py_ssize_t c) noexcept nogil
    void rt_wgrad_rows(const float *partT, Py_ssize_t N, Py_ssize_t G, Py_ssize_t OCg,
                       Py_ssize_t Kp, Py_ssize_t K, Py_ssize_t g, Py_ssize_t k, float *gw,
                       float *gb) noexcept nogil

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 18  # parallel regions cost ms when the other core is busy



def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef rt_conv_geom _geom(tuple gm):
    cdef rt_conv_geom g
    g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.OH, g.OW = gm
    return g


def im2col(cnp.ndarray x, cnp.ndarray col, Py_ssize_t N, Py_ssize_t C, Py_ssize_t Cg,
           bint aug, tuple gm):
    """col[n] (G blocks of Kg + aug rows of L) from x (N, C, H, W)."""
    cdef rt_conv_geom g = _geom(gm)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* pc = <float*>cnp.PyArray_DATA(col)
    cdef Py_ssize_t L = g.OH * g.OW, KK = g.KH * g.KW, Kg = Cg * KK, G = C // Cg
    cdef Py_ssize_t blk = (Kg + aug) * L, img = G * blk, HW = g.H * g.W, t, n, c
    cdef bint par = _nthreads > 1 and N * C > 1 and N * C * KK * L >= PAR_MIN
    with nogil:
        if par:
            for t in prange(N * C, num_threads=_nthreads, schedule="static"):
                n = t // C
                c = t % C
                rt_im2col_plane(px + t * HW, pc + n * img + (c // Cg) * blk + (c % Cg) * KK * L,
                                &g)
                if aug and c % Cg == 0:
                    rt_fill_f32(pc + n * img + (c // Cg) * blk + Kg * L, L, 1.0)
        else:
            for t in range(N * C):
                n = t // C
                c = t % C
                rt_im2col_plane(px + t * HW, pc + n * img + (c // Cg) * blk + (c % Cg) * KK * L,
                                &g)
                if aug and c % Cg == 0:
                    rt_fill_f32(pc + n * img + (c // Cg) * blk + Kg * L, L, 1.0)


def col2im(cnp.ndarray col, cnp.ndarray x, Py_ssize_t N, Py_ssize_t C, tuple gm):
    """x (N, C, H, W) = col (N, C*KH*KW, L) scattered back and summed (overwrites x; col is
    used as scratch)."""
    cdef rt_conv_geom g = _geom(gm)
    cdef float* pc = <float*>cnp.PyArray_DATA(col)
    cdef float* px = <float*>cnp.PyArray_DATA(x)
    cdef Py_ssize_t L = g.OH * g.OW, KK = g.KH * g.KW, HW = g.H * g.W, t
    cdef bint par = _nthreads > 1 and N * C > 1 and N * C * KK * L >= PAR_MIN
    with nogil:
        if par:
            for t in prange(N * C, num_threads=_nthreads, schedule="static"):
                rt_col2im_plane(pc + t * KK * L, px + t * HW, &g)
        else:
            for t in range(N * C):
                rt_col2im_plane(pc + t * KK * L, px + t * HW, &g)


def pack_weight(cnp.ndarray w, cnp.ndarray b, cnp.ndarray out, Py_ssize_t M, Py_ssize_t K):
    """out (M, K + 1) = [w (M, K) | b (M)] (b may be None: zeros)."""
    cdef const float* pw = <const float*>cnp.PyArray_DATA(w)
    cdef const float* pb = NULL
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef Py_ssize_t m, k
    if b is not None:
        pb = <const float*>cnp.PyArray_DATA(b)
    with nogil:
        for m in range(M):
            for k in range(K):
                po[m * (K + 1) + k] = pw[m * K + k]
            po[m * (K + 1) + K] = pb[m] if pb != NULL else 0.0


def fold_wgrad(cnp.ndarray partT, Py_ssize_t N, Py_ssize_t G, Py_ssize_t OCg, Py_ssize_t Kp,
               Py_ssize_t K, cnp.ndarray gw, cnp.ndarray gb):
    """gw (G*OCg, K) = sum_n partT[n*G + g, :K, :]^T; gb (G*OCg) = the row K when Kp == K + 1.
    partT is (N*G, Kp, OCg)."""
    cdef const float* pp = <const float*>cnp.PyArray_DATA(partT)
    cdef float* pw = <float*>cnp.PyArray_DATA(gw)
    cdef float* pb = NULL
    cdef Py_ssize_t t
    if gb is not None:
        pb = <float*>cnp.PyArray_DATA(gb)
    with nogil:
        if _nthreads > 1 and G * Kp > 1 and N * G * Kp * OCg >= PAR_MIN:
            for t in prange(G * Kp, num_threads=_nthreads, schedule="static"):
                rt_wgrad_rows(pp, N, G, OCg, Kp, K, t // Kp, t % Kp, pw, pb)
        else:
            for t in range(G * Kp):
                rt_wgrad_rows(pp, N, G, OCg, Kp, K, t // Kp, t % Kp, pw, pb)


def bias_grad(cnp.ndarray g, cnp.ndarray gb, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L):
    """gb[c] = sum over n and l of g (N, C, L)."""
    cdef const float* pg = <const float*>cnp.PyArray_DATA(g)
    cdef float* pb = <float*>cnp.PyArray_DATA(gb)
    cdef Py_ssize_t c
    with nogil:
        if _nthreads > 1 and C > 1 and N * C * L >= PAR_MIN:
            for c in prange(C, num_threads=_nthreads, schedule="static"):
                rt_bias_grad(pg, pb, N, C, L, c)
        else:
            for c in range(C):
                rt_bias_grad(pg, pb, N, C, L, c)


def bias_add(cnp.ndarray out, cnp.ndarray b, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L):
    """out (N, C, L) += b[c]."""
    cdef float* po = <float*>cnp.PyArray_DATA(out)
    cdef const float* pb = <const float*>cnp.PyArray_DATA(b)
    cdef Py_ssize_t t, l
    cdef float v
    with nogil:
        for t in range(N * C):
            v = pb[t % C]
            for l in range(L):
                po[t * L + l] = po[t * L + l] + v
