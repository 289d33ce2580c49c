# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""2-D max / average / adaptive-average pooling, forward and backward, one plane per task.

Arrays are contiguous (P, H, W) planes (P = N*C) that rustorch/nn/_pool.py has validated;
geometry tuples are (H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW). Planes are independent, so
a backward scatter never races: work is split over planes.
"""


cimport numpy as cnp
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free, malloc
from libc.stdint cimport int32_t, int64_t

cnp.import_array()

cdef extern from "rt_pool.h":
    ctypedef struct rt_pool_geom:
        Py_ssize_t H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW
    void rt_maxpool_plane(const float *x, float *y, int32_t *idx, const rt_pool_geom *g, float *pad,
                          Py_ssize_t Hp, Py_ssize_t Wp) noexcept nogil
    void rt_maxpool_pad_dims(const rt_pool_geom *g, Py_ssize_t *Hp, Py_ssize_t *Wp) noexcept nogil
    void rt_maxpool_plane_2x2(const float *x, float *y, int32_t *idx, Py_ssize_t W, Py_ssize_t OH,
                              Py_ssize_t OW) noexcept nogil
    void rt_maxpool_bwd_plane(const float *gy, const int32_t *idx, float *gx, Py_ssize_t HW,
                              Py_ssize_t L) noexcept nogil
    void rt_maxpool_bwd_plane_2x2(const float *gy, const int32_t *idx, float *gx, Py_ssize_t H,
                                  Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW) noexcept nogil
    void rt_avgpool_plane(const float *x, float *y, const rt_pool_geom *g, int include_pad,
                          Py_ssize_t override) noexcept nogil
    void rt_avgpool_bwd_plane(const float *gy, float *gx, const rt_pool_geom *g, int include_pad,
                              Py_ssize_t override) noexcept nogil
    void rt_adaptive_avg_plane(const float *x, float *y, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                               Py_ssize_t OW) noexcept nogil
    void rt_adaptive_avg_bwd_plane(const float *gy, float *gx, Py_ssize_t H, Py_ssize_t W,
                                   Py_ssize_t OH, Py_ssize_t OW) noexcept nogil

cdef int _nthreads = 1
cdef Py_ssize_t PAR_MIN = 1 << 18  # parallel regions cost ms when the other core is busy



def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef rt_pool_geom _geom(tuple gm):
    cdef rt_pool_geom g
    g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.OH, g.OW = gm
    return g


cdef inline bint _is_2x2(const rt_pool_geom* g) noexcept nogil:
    return (g.KH == 2 and g.KW == 2 and g.SH == 2 and g.SW == 2 and g.PH == 0 and g.PW == 0
            and g.DH == 1 and g.DW == 1)


cdef inline int _threads(Py_ssize_t P, Py_ssize_t work) noexcept nogil:
    return _nthreads if (_nthreads > 1 and P > 1 and work >= PAR_MIN) else 1


def max_fwd(cnp.ndarray x, cnp.ndarray y, cnp.ndarray idx, Py_ssize_t P, tuple gm):
    """y, idx (P, OH, OW) = max and its flat in-plane index (int32) over each window."""
    cdef rt_pool_geom g = _geom(gm)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef int32_t* pi = <int32_t*>cnp.PyArray_DATA(idx)
    cdef Py_ssize_t HW = g.H * g.W, L = g.OH * g.OW, p, Hp, Wp
    cdef int nt = _threads(P, P * HW)
    cdef float* pad = NULL
    rt_maxpool_pad_dims(&g, &Hp, &Wp)
    with nogil:
        if _is_2x2(&g):
            for p in prange(P, num_threads=nt, schedule="static"):
                rt_maxpool_plane_2x2(px + p * HW, py + p * L, pi + p * L, g.W, g.OH, g.OW)
        else:
            with parallel(num_threads=nt):
                # one -inf-padded scratch plane per thread (NULL: the scalar path)
                pad = <float*>malloc(Hp * Wp * sizeof(float)) if Hp > 0 else NULL
                for p in prange(P, schedule="static"):
                    rt_maxpool_plane(px + p * HW, py + p * L, pi + p * L, &g, pad, Hp, Wp)
                free(pad)


def max_bwd(cnp.ndarray gy, cnp.ndarray idx, cnp.ndarray gx, Py_ssize_t P, tuple gm):
    """gx (P, H, W) = gy scattered (and summed) to the saved argmax positions."""
    cdef rt_pool_geom g = _geom(gm)
    cdef const float* pg = <const float*>cnp.PyArray_DATA(gy)
    cdef const int32_t* pi = <const int32_t*>cnp.PyArray_DATA(idx)
    cdef float* px = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t HW = g.H * g.W, L = g.OH * g.OW, p
    cdef int nt = _threads(P, P * HW)
    cdef bint fast = _is_2x2(&g)
    with nogil:
        for p in prange(P, num_threads=nt, schedule="static"):
            if fast:
                rt_maxpool_bwd_plane_2x2(pg + p * L, pi + p * L, px + p * HW, g.H, g.W, g.OH, g.OW)
            else:
                rt_maxpool_bwd_plane(pg + p * L, pi + p * L, px + p * HW, HW, L)


def idx_to_i64(cnp.ndarray src, cnp.ndarray dst):
    """int32 -> int64 copy of the saved indices (for return_indices=True)."""
    cdef const int32_t* ps = <const int32_t*>cnp.PyArray_DATA(src)
    cdef int64_t* pd = <int64_t*>cnp.PyArray_DATA(dst)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(src), i
    with nogil:
        for i in range(n):
            pd[i] = ps[i]


def avg_fwd(cnp.ndarray x, cnp.ndarray y, Py_ssize_t P, tuple gm, bint include_pad,
            Py_ssize_t override):
    cdef rt_pool_geom g = _geom(gm)
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef Py_ssize_t HW = g.H * g.W, L = g.OH * g.OW, p
    cdef int nt = _threads(P, P * HW)
    cdef int ip = include_pad
    with nogil:
        for p in prange(P, num_threads=nt, schedule="static"):
            rt_avgpool_plane(px + p * HW, py + p * L, &g, ip, override)


def avg_bwd(cnp.ndarray gy, cnp.ndarray gx, Py_ssize_t P, tuple gm, bint include_pad,
            Py_ssize_t override):
    cdef rt_pool_geom g = _geom(gm)
    cdef const float* pg = <const float*>cnp.PyArray_DATA(gy)
    cdef float* px = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t HW = g.H * g.W, L = g.OH * g.OW, p
    cdef int nt = _threads(P, P * HW)
    cdef int ip = include_pad
    with nogil:
        for p in prange(P, num_threads=nt, schedule="static"):
            rt_avgpool_bwd_plane(pg + p * L, px + p * HW, &g, ip, override)


def adaptive_avg_fwd(cnp.ndarray x, cnp.ndarray y, Py_ssize_t P, Py_ssize_t H, Py_ssize_t W,
                     Py_ssize_t OH, Py_ssize_t OW):
    cdef const float* px = <const float*>cnp.PyArray_DATA(x)
    cdef float* py = <float*>cnp.PyArray_DATA(y)
    cdef Py_ssize_t HW = H * W, L = OH * OW, p
    cdef int nt = _threads(P, P * HW)
    with nogil:
        for p in prange(P, num_threads=nt, schedule="static"):
            rt_adaptive_avg_plane(px + p * HW, py + p * L, H, W, OH, OW)


def adaptive_avg_bwd(cnp.ndarray gy, cnp.ndarray gx, Py_ssize_t P, Py_ssize_t H, Py_ssize_t W,
                     Py_ssize_t OH, Py_ssize_t OW):
    cdef const float* pg = <const float*>cnp.PyArray_DATA(gy)
    cdef float* px = <float*>cnp.PyArray_DATA(gx)
    cdef Py_ssize_t HW = H * W, L = OH * OW, p
    cdef int nt = _threads(P, P * HW)
    with nogil:
        for p in prange(P, num_threads=nt, schedule="static"):
            rt_adaptive_avg_bwd_plane(pg + p * L, px + p * HW, H, W, OH, OW)
