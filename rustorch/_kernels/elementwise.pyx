# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Elementwise kernels: broadcasting binary ops, comparisons, unary ops, where, casts, strided copies.

Every entry point takes numpy arrays that the Python layer has already validated (dtype, shape,
contiguity). Broadcasting is done by stride arithmetic (stride 0 on broadcast dims); dims are
coalesced so a same-shape op is one flat loop. Work above a size threshold is split into chunks
run by OpenMP; below it the loop is serial so small tensors pay no threading cost.
"""

cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t

cnp.import_array()

cdef extern from "rt_elementwise.h":
    ctypedef struct rt_ctx:
        int op
        float f0
        float f1
        int64_t i0
        int64_t i1
    ctypedef void (*rt_row_fn)(const rt_ctx *ctx, const char *a, Py_ssize_t sa, const char *b,
                               Py_ssize_t sb, const char *c, Py_ssize_t sc, char *o,
                               Py_ssize_t n) noexcept nogil
    void rt_bin_f32(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_bin_i64(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_bin_u8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cmp_f32(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cmp_i64(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cmp_u8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_un_f32(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cls_f32(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_un_i64(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_copy_1(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_copy_4(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_copy_8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_where_1(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_where_4(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_where_8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cast_f32_i64(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cast_f32_u8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cast_i64_f32(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cast_i64_u8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cast_u8_f32(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_cast_u8_i64(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil
    void rt_not_u8(const rt_ctx*, const char*, Py_ssize_t, const char*, Py_ssize_t, const char*, Py_ssize_t, char*, Py_ssize_t) noexcept nogil

DEF MAXD = 32
DEF CHUNK = 16384

cdef int _nthreads = 1
# Below these element counts a kernel runs serial: cheap ops need more work to pay for threads.
cdef Py_ssize_t PAR_CHEAP = 1 << 16
cdef Py_ssize_t PAR_MATH = 1 << 13


def set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


cdef struct Plan:
    int ndim
    Py_ssize_t total
    Py_ssize_t shape[MAXD]
    Py_ssize_t st[3][MAXD]


cdef struct Off3:
    Py_ssize_t a, b, c


cdef inline Off3 _offsets(const Plan* p, Py_ssize_t r) noexcept nogil:
    """Element offsets of row r's start in each operand (row-major over the outer dims)."""
    cdef Py_ssize_t rem = r, idx
    cdef int d
    cdef Off3 o
    o.a = 0
    o.b = 0
    o.c = 0
    for d in range(p.ndim - 2, -1, -1):
        idx = rem % p.shape[d]
        rem = rem // p.shape[d]
        o.a += idx * p.st[0][d]
        o.b += idx * p.st[1][d]
        o.c += idx * p.st[2][d]
    return o


cdef void _drive(rt_row_fn fn, const rt_ctx* ctx, const Plan* p, const char* a, int ia,
                 const char* b, int ib, const char* c, int ic, char* o, int io,
                 Py_ssize_t min_par) noexcept nogil:
    """Run fn over the plan's rows; output is contiguous, operands follow the plan's strides."""
    cdef Py_ssize_t inner, rows, nch, ntasks, t, r, c0, ln
    cdef Py_ssize_t sa, sb, sc
    cdef Off3 off
    if p.total == 0:
        return
    inner = p.shape[p.ndim - 1]
    rows = p.total // inner
    sa = p.st[0][p.ndim - 1]
    sb = p.st[1][p.ndim - 1]
    sc = p.st[2][p.ndim - 1]
    if p.total < min_par or _nthreads <= 1:
        for r in range(rows):
            off = _offsets(p, r)
            fn(ctx, a + off.a * ia, sa, b + off.b * ib, sb, c + off.c * ic, sc,
               o + r * inner * io, inner)
        return
    nch = (inner + CHUNK - 1) // CHUNK
    ntasks = rows * nch
    for t in prange(ntasks, nogil=True, num_threads=_nthreads, schedule="static"):
        r = t // nch
        c0 = (t % nch) * CHUNK
        ln = inner - c0
        if ln > CHUNK:
            ln = CHUNK
        # every variable assigned in the loop body is private to its thread
        off = _offsets(p, r)
        fn(ctx, a + (off.a + c0 * sa) * ia, sa, b + (off.b + c0 * sb) * ib, sb,
           c + (off.c + c0 * sc) * ic, sc, o + (r * inner + c0) * io, ln)


cdef int _plan(Plan* p, cnp.ndarray out, cnp.ndarray x0, cnp.ndarray x1,
               cnp.ndarray x2) except -1:
    """Strides (in elements) of each operand broadcast to out's shape, then coalesce dims.

    x2 may be None (two operands)."""
    cdef int nd = cnp.PyArray_NDIM(out), k, d, j, nd_in
    cdef Py_ssize_t stride, ext, total = 1
    cdef Py_ssize_t shp[MAXD]
    cdef Py_ssize_t st[3][MAXD]
    cdef cnp.npy_intp* dims
    cdef cnp.ndarray x
    if nd > MAXD:
        raise ValueError(f"at most {MAXD} dimensions are supported")
    dims = cnp.PyArray_DIMS(out)
    for d in range(nd):
        shp[d] = dims[d]
        total *= shp[d]
    for k in range(3):
        for d in range(nd):
            st[k][d] = 0
    for k in range(3):
        x = x0 if k == 0 else (x1 if k == 1 else x2)
        if x is None:
            continue
        nd_in = cnp.PyArray_NDIM(x)
        dims = cnp.PyArray_DIMS(x)
        stride = 1
        for j in range(nd_in - 1, -1, -1):
            ext = dims[j]
            d = nd - nd_in + j
            st[k][d] = 0 if (ext == 1 and shp[d] != 1) else stride
            stride *= ext
    p.total = total
    # coalesce: drop size-1 dims, merge d into the previous kept dim when all strides allow
    p.ndim = 0
    for d in range(nd):
        if shp[d] == 1:
            continue
        if p.ndim > 0:
            j = p.ndim - 1
            if (p.st[0][j] == st[0][d] * shp[d] and p.st[1][j] == st[1][d] * shp[d]
                    and p.st[2][j] == st[2][d] * shp[d]):
                p.shape[j] *= shp[d]
                for k in range(3):
                    p.st[k][j] = st[k][d]
                continue
        p.shape[p.ndim] = shp[d]
        for k in range(3):
            p.st[k][p.ndim] = st[k][d]
        p.ndim += 1
    if p.ndim == 0:
        p.ndim = 1
        p.shape[0] = 1
        for k in range(3):
            p.st[k][0] = 1
    return 0


cdef inline int _flat(Plan* p, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb) noexcept:
    p.ndim = 1
    p.total = n
    p.shape[0] = n
    p.st[0][0] = sa
    p.st[1][0] = sb
    p.st[2][0] = 0
    return 0


def broadcast_shape(tuple a, tuple b):
    """torch broadcasting of two shapes; None when they are incompatible."""
    cdef Py_ssize_t na = len(a), nb = len(b), n = na if na > nb else nb, i, x, y
    out = [0] * n
    for i in range(n):
        x = a[na - n + i] if na - n + i >= 0 else 1
        y = b[nb - n + i] if nb - n + i >= 0 else 1
        if x == y or y == 1:
            out[i] = x
        elif x == 1:
            out[i] = y
        else:
            return None
    return tuple(out)


cdef inline rt_row_fn _bin_fn(int tn, bint cmp) except NULL:
    if tn == cnp.NPY_FLOAT32:
        return rt_cmp_f32 if cmp else rt_bin_f32
    if tn == cnp.NPY_INT64:
        return rt_cmp_i64 if cmp else rt_bin_i64
    if tn == cnp.NPY_BOOL:
        return rt_cmp_u8 if cmp else rt_bin_u8
    raise TypeError("unsupported dtype")


cdef _binary(int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, bint cmp):
    cdef rt_ctx ctx
    cdef Plan p
    cdef Py_ssize_t na = cnp.PyArray_SIZE(a), nb = cnp.PyArray_SIZE(b), no = cnp.PyArray_SIZE(out)
    cdef rt_row_fn fn = _bin_fn(cnp.PyArray_TYPE(a), cmp)
    ctx.op = op
    ctx.f0 = 0
    ctx.f1 = 0
    ctx.i0 = 0
    ctx.i1 = 0
    if na == no and nb == no:
        _flat(&p, no, 1, 1)
    elif na == no and nb == 1:
        _flat(&p, no, 1, 0)
    elif nb == no and na == 1:
        _flat(&p, no, 0, 1)
    else:
        _plan(&p, out, a, b, None)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef int ia = cnp.PyArray_ITEMSIZE(a), io = cnp.PyArray_ITEMSIZE(out)
    cdef Py_ssize_t mp = PAR_MATH if op == 4 else PAR_CHEAP
    with nogil:
        _drive(fn, &ctx, &p, pa, ia, pb, ia, pa, 0, po, io, mp)


def binary(int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out):
    """out = a (op) b with broadcasting; a, b share a dtype; out has the broadcast shape."""
    _binary(op, a, b, out, False)


def compare(int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out):
    """out (bool) = a (cmp) b with broadcasting; a and b share a dtype."""
    _binary(op, a, b, out, True)


def binary_scaled(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, float alpha):
    """out = a + alpha * b (float32, same size)."""
    cdef rt_ctx ctx
    cdef Plan p
    ctx.op = 13
    ctx.f0 = alpha
    _flat(&p, cnp.PyArray_SIZE(out), 1, 1)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    with nogil:
        _drive(rt_bin_f32, &ctx, &p, pa, 4, pb, 4, pa, 0, po, 4, PAR_CHEAP)


def unary(int op, cnp.ndarray a, cnp.ndarray out, double f0=0.0, double f1=0.0,
          int64_t i0=0, int64_t i1=0):
    """out = op(a) elementwise; a and out contiguous and of equal size (out may be a)."""
    cdef rt_ctx ctx
    cdef Plan p
    cdef int tn = cnp.PyArray_TYPE(a)
    cdef rt_row_fn fn
    cdef int isz
    if tn == cnp.NPY_FLOAT32:
        fn = rt_un_f32
        isz = 4
    elif tn == cnp.NPY_INT64:
        fn = rt_un_i64
        isz = 8
    else:
        raise TypeError("unsupported dtype")
    ctx.op = op
    ctx.f0 = <float>f0
    ctx.f1 = <float>f1
    ctx.i0 = i0
    ctx.i1 = i1
    _flat(&p, cnp.PyArray_SIZE(out), 1, 0)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    # exp/log/tanh/sigmoid/pow/... cost more per element, so threads pay off sooner (floor, ceil,
    # round, trunc, frac = 22..26 are cheap)
    cdef Py_ssize_t mp = PAR_MATH if (1 <= op <= 6 or op == 9 or op == 10
                                      or (op >= 16 and not 22 <= op <= 26)) else PAR_CHEAP
    with nogil:
        _drive(fn, &ctx, &p, pa, isz, pa, 0, pa, 0, po, isz, mp)


def binary_params(int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, double f0, double f1):
    """out = a (op) b for float32 arrays of equal size, with the op's two float parameters."""
    cdef rt_ctx ctx
    cdef Plan p
    ctx.op = op
    ctx.f0 = <float>f0
    ctx.f1 = <float>f1
    ctx.i0 = 0
    ctx.i1 = 0
    _flat(&p, cnp.PyArray_SIZE(out), 1, 1)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    with nogil:
        _drive(rt_bin_f32, &ctx, &p, pa, 4, pb, 4, pa, 0, po, 4, PAR_MATH)


def classify(int op, cnp.ndarray a, cnp.ndarray out):
    """out (bool) = isnan / isinf / isfinite (op 0 / 1 / 2) of float32 a (equal size)."""
    cdef rt_ctx ctx
    cdef Plan p
    ctx.op = op
    ctx.f0 = 0
    ctx.f1 = 0
    ctx.i0 = 0
    ctx.i1 = 0
    _flat(&p, cnp.PyArray_SIZE(out), 1, 0)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    with nogil:
        _drive(rt_cls_f32, &ctx, &p, pa, 4, pa, 0, pa, 0, po, 1, PAR_CHEAP)


def where(cnp.ndarray cond, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out):
    """out = cond ? a : b with broadcasting of all three to out's shape."""
    cdef rt_ctx ctx
    cdef Plan p
    cdef int isz = cnp.PyArray_ITEMSIZE(out)
    cdef rt_row_fn fn = rt_where_4 if isz == 4 else (rt_where_8 if isz == 8 else rt_where_1)
    _plan(&p, out, a, b, cond)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    cdef char* pc = <char*>cnp.PyArray_DATA(cond)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    with nogil:
        _drive(fn, &ctx, &p, pa, isz, pb, isz, pc, 1, po, isz, PAR_CHEAP)


def cast(cnp.ndarray a, cnp.ndarray out):
    """Convert between float32, int64 and bool (same size, contiguous)."""
    cdef rt_ctx ctx
    cdef Plan p
    cdef int s = cnp.PyArray_TYPE(a), d = cnp.PyArray_TYPE(out)
    cdef rt_row_fn fn
    if s == d:
        fn = rt_copy_4 if cnp.PyArray_ITEMSIZE(a) == 4 else (
            rt_copy_8 if cnp.PyArray_ITEMSIZE(a) == 8 else rt_copy_1)
    elif s == cnp.NPY_FLOAT32 and d == cnp.NPY_INT64:
        fn = rt_cast_f32_i64
    elif s == cnp.NPY_FLOAT32 and d == cnp.NPY_BOOL:
        fn = rt_cast_f32_u8
    elif s == cnp.NPY_INT64 and d == cnp.NPY_FLOAT32:
        fn = rt_cast_i64_f32
    elif s == cnp.NPY_INT64 and d == cnp.NPY_BOOL:
        fn = rt_cast_i64_u8
    elif s == cnp.NPY_BOOL and d == cnp.NPY_FLOAT32:
        fn = rt_cast_u8_f32
    elif s == cnp.NPY_BOOL and d == cnp.NPY_INT64:
        fn = rt_cast_u8_i64
    else:
        raise TypeError("unsupported cast")
    _flat(&p, cnp.PyArray_SIZE(out), 1, 0)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef int ia = cnp.PyArray_ITEMSIZE(a), io = cnp.PyArray_ITEMSIZE(out)
    with nogil:
        _drive(fn, &ctx, &p, pa, ia, pa, 0, pa, 0, po, io, PAR_CHEAP)


def logical_not(cnp.ndarray a, cnp.ndarray out):
    cdef rt_ctx ctx
    cdef Plan p
    _flat(&p, cnp.PyArray_SIZE(out), 1, 0)
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    with nogil:
        _drive(rt_not_u8, &ctx, &p, pa, 1, pa, 0, pa, 0, po, 1, PAR_CHEAP)


cdef int _strided_plan(Plan* p, tuple shape, tuple strides) except -1:
    cdef int nd = len(shape), d, j
    cdef Py_ssize_t total = 1, e, s
    if nd > MAXD:
        raise ValueError(f"at most {MAXD} dimensions are supported")
    p.ndim = 0
    for d in range(nd):
        e = shape[d]
        s = strides[d]
        total *= e
        if e == 1:
            continue
        if p.ndim > 0:
            j = p.ndim - 1
            if p.st[0][j] == s * e:
                p.shape[j] *= e
                p.st[0][j] = s
                continue
        p.shape[p.ndim] = e
        p.st[0][p.ndim] = s
        p.st[1][p.ndim] = 0
        p.st[2][p.ndim] = 0
        p.ndim += 1
    if p.ndim == 0:
        p.ndim = 1
        p.shape[0] = 1
        p.st[0][0] = 1
        p.st[1][0] = 0
        p.st[2][0] = 0
    p.total = total
    return 0


def gather(cnp.ndarray src, Py_ssize_t offset, tuple shape, tuple strides, cnp.ndarray out):
    """out (contiguous, `shape`) = src viewed at element `offset` with element `strides`.

    The caller guarantees every addressed element lies inside src.
    """
    cdef rt_ctx ctx
    cdef Plan p
    cdef int isz = cnp.PyArray_ITEMSIZE(src)
    cdef rt_row_fn fn = rt_copy_4 if isz == 4 else (rt_copy_8 if isz == 8 else rt_copy_1)
    _strided_plan(&p, shape, strides)
    cdef char* pa = <char*>cnp.PyArray_DATA(src) + offset * isz
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    with nogil:
        _drive(fn, &ctx, &p, pa, isz, pa, 0, pa, 0, po, isz, PAR_CHEAP)


cdef void _scatter_rows(const Plan* p, const char* src, char* dst, int isz) noexcept nogil:
    cdef Py_ssize_t inner = p.shape[p.ndim - 1], rows = p.total // inner, r, i
    cdef Py_ssize_t s = p.st[0][p.ndim - 1]
    cdef Off3 off
    cdef const char* sp
    cdef char* dp
    for r in range(rows):
        off = _offsets(p, r)
        sp = src + r * inner * isz
        dp = dst + off.a * isz
        if isz == 4:
            for i in range(inner):
                (<unsigned int*>dp)[i * s] = (<const unsigned int*>sp)[i]
        elif isz == 8:
            for i in range(inner):
                (<unsigned long long*>dp)[i * s] = (<const unsigned long long*>sp)[i]
        else:
            for i in range(inner):
                (<unsigned char*>dp)[i * s] = (<const unsigned char*>sp)[i]


def scatter(cnp.ndarray src, cnp.ndarray dst, Py_ssize_t offset, tuple shape, tuple strides):
    """dst viewed at `offset` with `strides` (shape `shape`) = src (contiguous).

    The caller guarantees the addressed elements lie inside dst and do not overlap.
    """
    cdef Plan p
    cdef int isz = cnp.PyArray_ITEMSIZE(dst)
    _strided_plan(&p, shape, strides)
    if p.total == 0:
        return
    cdef char* pd = <char*>cnp.PyArray_DATA(dst) + offset * isz
    cdef const char* ps = <char*>cnp.PyArray_DATA(src)
    with nogil:
        _scatter_rows(&p, ps, pd, isz)


cdef object _alloc_bcast(cnp.ndarray a, cnp.ndarray b, int typenum):
    """A new array of the broadcast shape of a and b (None when they do not broadcast)."""
    cdef int na = cnp.PyArray_NDIM(a), nb = cnp.PyArray_NDIM(b), n, i, ia, ib
    cdef cnp.npy_intp* da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp* db = cnp.PyArray_DIMS(b)
    cdef cnp.npy_intp dims[MAXD]
    cdef cnp.npy_intp x, y
    n = na if na > nb else nb
    if n > MAXD:
        raise ValueError(f"at most {MAXD} dimensions are supported")
    for i in range(n):
        ia = na - n + i
        ib = nb - n + i
        x = da[ia] if ia >= 0 else 1
        y = db[ib] if ib >= 0 else 1
        if x == y or y == 1:
            dims[i] = x
        elif x == 1:
            dims[i] = y
        else:
            return None
    return cnp.PyArray_EMPTY(n, dims, typenum, 0)


def binary_new(int op, cnp.ndarray a, cnp.ndarray b):
    """a (op) b into a new array of a's dtype and the broadcast shape; None if not broadcastable."""
    out = _alloc_bcast(a, b, cnp.PyArray_TYPE(a))
    if out is not None:
        _binary(op, a, b, out, False)
    return out


def compare_new(int op, cnp.ndarray a, cnp.ndarray b):
    """a (cmp) b into a new bool array of the broadcast shape; None if not broadcastable."""
    out = _alloc_bcast(a, b, cnp.NPY_BOOL)
    if out is not None:
        _binary(op, a, b, out, True)
    return out


def unary_new(int op, cnp.ndarray a, double f0=0.0, double f1=0.0):
    """op(a) into a new array of a's shape and dtype (float32 or int64)."""
    out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
    unary(op, a, out, f0, f1)
    return out


def fill_like(cnp.ndarray src, tuple shape):
    """A new array of `shape` and src's dtype with every element = src's (single) element."""
    cdef int nd = len(shape), d
    cdef cnp.npy_intp dims[MAXD]
    if nd > MAXD:
        raise ValueError(f"at most {MAXD} dimensions are supported")
    for d in range(nd):
        dims[d] = shape[d]
    out = cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(src), 0)
    cdef rt_ctx ctx
    cdef Plan p
    cdef int isz = cnp.PyArray_ITEMSIZE(src)
    cdef rt_row_fn fn = rt_copy_4 if isz == 4 else (rt_copy_8 if isz == 8 else rt_copy_1)
    _flat(&p, cnp.PyArray_SIZE(out), 0, 0)
    cdef char* ps = <char*>cnp.PyArray_DATA(src)
    cdef char* po = <char*>cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        _drive(fn, &ctx, &p, ps, isz, ps, 0, ps, 0, po, isz, PAR_CHEAP)
    return out
