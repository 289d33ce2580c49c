"""Reductions: sum, mean, max/min (values and indices), amax/amin, argmax/argmin,
var/std, logsumexp, norm.

A set of reduced dims becomes one kernel pass per run of adjacent dims over an (outer, R, inner)
view of the contiguous input, so no permuted copy is ever made.
"""

import numbers
from collections import namedtuple
from math import prod

import numpy as np

from rustorch._kernels import indexing as _ik
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch._kernels._dispatch import reduce as _rk
from rustorch.errors import DTypeError, ShapeError
from rustorch.ops._common import (
    BOOL,
    F32,
    I64,
    Tensor,
    _empty,
    _wrap,
    _wrap_dim,
    desc,
    dims_arg,
    grad_on,
    record,
)
from rustorch.ops.pointwise import (
    abs,
    add,
    cast_arr,
    div,
    eq,
    exp,
    log,
    logical_and,
    logical_or,
    mul,
    ne,
    sqrt,
    sub,
    where,
)
from rustorch.ops.shape import expand_arr

max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


def _groups(dims):
    gs = []
    for d in dims:
        if gs and gs[-1][1] == d - 1:
            gs[-1][1] = d
        else:
            gs.append([d, d])
    return gs


def _passes(shape, dims):
    """Yield (outer, R, inner, new_shape) for each run of reduced dims, last run first."""
    shape = list(shape)
    for g0, g1 in reversed(_groups(dims)):
        outer = prod(shape[:g0])
        R = prod(shape[g0 : g1 + 1])
        inner = prod(shape[g1 + 1 :])
        shape = shape[:g0] + shape[g1 + 1 :]
        yield outer, R, inner, tuple(shape)


def sum_arr(d, dims):
    """Sum of a contiguous array over sorted dims (removed from the shape)."""
    if d.dtype is not F32:
        d = cast_arr(d, I64)
        k = _rk.sum_i64
    else:
        if len(dims) == d.ndim:  # full sum: one pass, no planning
            return _rk.sum_all_f32(d)
        k = _rk.sum_f32
    for outer, R, inner, shape in _passes(d.shape, dims):
        out = _empty(shape, d.dtype)
        k(d, out, outer, R, inner)
        d = out
    return d


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def expand_grad(g, in_shape, dims, keepdim):
    """Gradient of a reduction, broadcast back to the input's shape (a contiguous copy)."""
    gd = g._data
    if gd.size == 1:
        return _wrap(_ew.fill_like(gd, tuple(in_shape)))
    if not keepdim:
        gd = gd.reshape(_kept_shape(in_shape, dims))
    return _wrap(expand_arr(gd, in_shape))


def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to an input's shape (the inverse of broadcasting)."""
    gs = g._data.shape
    if gs == shape:
        return g
    nd = len(gs) - len(shape)
    dims = tuple(range(nd)) + tuple(
        i + nd for i, s in enumerate(shape) if s == 1 and gs[i + nd] != 1
    )
    return _wrap(sum_arr(g._data, dims).reshape(shape))


def sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """Sum over all elements or over dim (int or tuple); bool/int64 inputs sum to int64."""
    if type(input) is not Tensor:
        raise DTypeError(f"sum(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if dim is None and dtype is None and not keepdim and d.dtype is F32:
        dims = None  # the common full float32 sum: no dims to plan; its gradient is a fill
        r = _wrap(_rk.sum_all_f32(d))
    else:
        dims = dims_arg(dim, d.shape, "sum")
        out = sum_arr(d, dims)
        if keepdim:
            out = out.reshape(_kept_shape(d.shape, dims))
        if dtype is not None and out.dtype is not dtype.np:
            out = cast_arr(out, dtype.np)
        r = _wrap(out)
    if input._rg and grad_on():
        shp = d.shape

        def sum_bw(g):
            return (expand_grad(g, shp, dims, keepdim),)

        r.grad_fn = record(
            "SumBackward1" if dim is not None else "SumBackward0", sum_bw, (input,), saves=False
        )
        r._rg = True
    return r


def mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """Mean over all elements or over dim; float32 only, like torch (NaN for empty)."""
    if type(input) is not Tensor:
        raise DTypeError(f"mean(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if d.dtype is not F32:
        raise DTypeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {desc(input)}"
        )
    dims = dims_arg(dim, d.shape, "mean")
    n = prod(d.shape[i] for i in dims)
    s = sum_arr(d, dims)
    if keepdim:
        s = s.reshape(_kept_shape(d.shape, dims))
    out = _empty(s.shape, F32)
    from rustorch.ops.pointwise import DIV, _binary

    _binary(DIV, s, np.array(n, dtype=F32), out)
    r = _wrap(out)
    if input._rg and grad_on():
        shp = d.shape

        def mean_bw(g):
            return (expand_grad(div(g, float(n)), shp, dims, keepdim),)

        r.grad_fn = record(
            "MeanBackward1" if dim is not None else "MeanBackward0", mean_bw, (input,), saves=False
        )
        r._rg = True
    return r


def _check_nonempty(d, dims, op):
    if d.ndim == 0:
        return  # one element
    for i in dims:
        if d.shape[i] == 0:
            raise ShapeError(
                f"{op}(): Expected reduction dim {i} to have non-zero size "
                f"(input shape {tuple(d.shape)})"
            )
    if d.size == 0 and not dims:
        raise ShapeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")


def _ext_arr(d, dims, is_max):
    """amax/amin values over sorted dims (NaN propagates)."""
    for outer, R, inner, shape in _passes(d.shape, dims):
        out = _empty(shape, d.dtype)
        if d.dtype is F32:
            _rk.extreme_f32(d, out, outer, R, inner, is_max)
        else:
            _rk.arg_extreme(d, out, _empty(shape, I64), outer, R, inner, is_max)
        d = out
    return d


def _ext_input(input, op):
    if type(input) is not Tensor:
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if d.dtype is BOOL:
        d = cast_arr(d, I64)
    return d


def _even_bw(x, y, g, dims, keepdim, in_shape):
    """Gradient of amax/amin (and full max/min): split evenly among the tied extreme elements."""
    yd = y._data if keepdim else y._data.reshape(_kept_shape(in_shape, dims))
    ye = _wrap(expand_arr(yd, in_shape))
    mask = logical_or(eq(x, ye), logical_and(ne(x, x), ne(ye, ye)))
    cnt = sum(mask, dims, keepdim=True)
    ge = expand_grad(g, in_shape, dims, keepdim)
    return where(mask, div(ge, expand_grad(cnt.float(), in_shape, dims, True)), 0.0)


def _amaxmin(input, dim, keepdim, is_max, op):
    d = _ext_input(input, op)
    dims = dims_arg(dim, d.shape, op)
    _check_nonempty(d, dims, op)
    out = _ext_arr(d, dims, is_max)
    if keepdim:
        out = out.reshape(_kept_shape(d.shape, dims))
    if input._data.dtype is BOOL:
        out = cast_arr(out, BOOL)
    r = _wrap(out)
    if input._rg and grad_on():
        x, y, shp = input.detach(), r.detach(), d.shape

        def ext_bw(g):
            return (_even_bw(x, y, g, dims, keepdim, shp),)

        r.grad_fn = record("AmaxBackward0" if is_max else "AminBackward0", ext_bw, (input,))
        r._rg = True
    return r


def amax(input, dim=(), keepdim=False) -> Tensor:
    """Max over dims (all when dim is () or None); gradient split among ties like torch."""
    return _amaxmin(input, None if dim == () else dim, keepdim, True, "amax")


def amin(input, dim=(), keepdim=False) -> Tensor:
    return _amaxmin(input, None if dim == () else dim, keepdim, False, "amin")


def _arg_pass(d, dim, is_max):
    shape = d.shape
    outer = prod(shape[:dim])
    R = shape[dim]
    inner = prod(shape[dim + 1 :])
    oshape = shape[:dim] + shape[dim + 1 :]
    vals = _empty(oshape, d.dtype)
    idx = _empty(oshape, I64)
    _rk.arg_extreme(d, vals, idx, outer, R, inner, is_max)
    return vals, idx


def _maxmin(input, dim, keepdim, is_max, op):
    if dim is not None and type(dim) is Tensor:
        from rustorch.ops.pointwise import maximum, minimum

        return maximum(input, dim) if is_max else minimum(input, dim)
    if dim is None:
        if keepdim:
            raise DTypeError(f"{op}(): keepdim requires dim")
        r = _amaxmin(input, None, False, is_max, op)
        if r.grad_fn is not None:
            r.grad_fn._name = "MaxBackward1" if is_max else "MinBackward1"
        return r
    d = _ext_input(input, op)
    dd = _wrap_dim(dim, d.shape, op)
    _check_nonempty(d, (dd,), op)
    if d.ndim == 0:
        vals, idx = d.copy(), np.zeros((), dtype=I64)
    else:
        vals, idx = _arg_pass(d, dd, is_max)
    if keepdim:
        ks = _kept_shape(d.shape, (dd,))
        vals, idx = vals.reshape(ks), idx.reshape(ks)
    if input._data.dtype is BOOL:
        vals = cast_arr(vals, BOOL)
    rv = _wrap(vals)
    if input._rg and grad_on():
        shp = d.shape
        ix = idx

        def maxd_bw(g):
            return (_scatter_back(g, ix, shp, dd, keepdim),)

        rv.grad_fn = record("MaxBackward0" if is_max else "MinBackward0", maxd_bw, (input,))
        rv._rg = True
    res = max_result if is_max else min_result
    return res(rv, _wrap(idx))


def _scatter_back(g, idx, in_shape, dim, keepdim):
    out = np.zeros(in_shape, dtype=F32)
    if len(in_shape) == 0:
        return _wrap(g._data.reshape(()).copy())
    outer = prod(in_shape[:dim])
    R = in_shape[dim]
    inner = prod(in_shape[dim + 1 :])
    _ik.scatter_add_dim(g._data, idx, out, outer, R, inner, 1)
    return _wrap(out)


def max(input, dim=None, keepdim=False):
    """max(x) -> 0-d tensor; max(x, dim) -> (values, indices); max(x, other) -> maximum."""
    return _maxmin(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim=False):
    return _maxmin(input, dim, keepdim, False, "min")


def _argmaxmin(input, dim, keepdim, is_max, op):
    d = _ext_input(input, op)
    if dim is None:
        if d.size == 0:
            raise ShapeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        flat = d.reshape(-1)
        _, idx = _arg_pass(flat, 0, is_max)
        if keepdim:
            idx = idx.reshape((1,) * d.ndim)
        return _wrap(idx)
    dd = _wrap_dim(dim, d.shape, op)
    _check_nonempty(d, (dd,), op)
    if d.ndim == 0:
        return _wrap(np.zeros((), dtype=I64))
    _, idx = _arg_pass(d, dd, is_max)
    if keepdim:
        idx = idx.reshape(_kept_shape(d.shape, (dd,)))
    return _wrap(idx)


def argmax(input, dim=None, keepdim=False) -> Tensor:
    """Index of the max (first one on ties; a NaN counts as the max) as int64."""
    return _argmaxmin(input, dim, keepdim, True, "argmax")


def argmin(input, dim=None, keepdim=False) -> Tensor:
    return _argmaxmin(input, dim, keepdim, False, "argmin")


def _any(arr) -> bool:
    return bool(_rk.any_u8(arr))


def _all(arr) -> bool:
    return bool(_rk.all_u8(arr))


def any(input) -> Tensor:
    """True if any element is nonzero (0-d bool tensor)."""
    d = cast_arr(input._data, BOOL)
    return _wrap(np.array(_rk.any_u8(d), dtype=BOOL))


def all(input) -> Tensor:
    d = cast_arr(input._data, BOOL)
    return _wrap(np.array(_rk.all_u8(d), dtype=BOOL))


# ---- var / std, logsumexp, norm (composed from the ops above: autograd comes with them) -------
_INF = float("inf")


def _stat_args(input, dim, unbiased, keepdim, correction, op):
    """torch's var/std overloads -> (dims, keepdim, correction)."""
    if type(input) is not Tensor:
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if d.dtype is not F32:
        raise DTypeError(
            f"{op}(): std and var only support floating point and complex dtypes, got {desc(input)}"
        )
    if isinstance(dim, (bool, np.bool_)):  # the (input, bool unbiased) overload
        if unbiased is not None or keepdim:
            raise DTypeError(
                f"{op}(): got unbiased={dim!r} as the second argument together with more "
                f"arguments; use {op}(input, dim, unbiased, keepdim) (input {desc(input)})"
            )
        dim, unbiased = None, bool(dim)
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise DTypeError(
                f"{op}(): argument 'unbiased' must be bool, not {type(unbiased).__name__} "
                f"(input {desc(input)})"
            )
        if correction is not None:
            raise DTypeError(
                f"{op}(): pass either 'unbiased' or 'correction', not both (input {desc(input)})"
            )
        correction = 1 if unbiased else 0
    elif correction is None:
        correction = 1
    elif isinstance(correction, bool) or not isinstance(correction, numbers.Real):
        raise DTypeError(
            f"{op}(): argument 'correction' must be a number, not {type(correction).__name__} "
            f"(input {desc(input)})"
        )
    if not isinstance(keepdim, (bool, np.bool_)):
        raise DTypeError(f"{op}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}")
    dims = dims_arg(dim, d.shape, op)
    return dims, bool(keepdim), correction


def _var(input, dims, keepdim, correction):
    d = input._data
    n = prod(d.shape[i] for i in dims)
    dev = sub(input, mean(input, dims, True))
    s = sum(mul(dev, dev), dims, keepdim)
    return div(s, float(n - correction if n > correction else 0))  # torch: max(0, N - correction)


def _sqrt0(v, name):
    """sqrt whose gradient is 0 where the result is 0 (torch's choice for std and the 2-norm)."""
    if not (v._rg and grad_on()):
        return sqrt(v)
    r = sqrt(v.detach())
    y = r.detach()

    def sqrt0_bw(g):
        return (where(eq(y, 0.0), 0.0, div(g, mul(y, 2.0))),)

    r.grad_fn = record(name, sqrt0_bw, (v,))
    r._rg = True
    return r


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Variance over dim (all dims when None) with `correction` (default 1, Bessel's).

    Accepts torch's overloads: var(x, dim, *, correction=1, keepdim=False),
    var(x, dim, unbiased, keepdim) and var(x, unbiased). The divisor is max(0, N - correction)
    (inf/NaN when it is 0, like torch). Two passes: the mean, then the squared deviations.
    """
    dims, keepdim, correction = _stat_args(input, dim, unbiased, keepdim, correction, "var")
    return _var(input, dims, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """sqrt(var(...)), same arguments as var; the gradient is 0 where std is 0, like torch."""
    dims, keepdim, correction = _stat_args(input, dim, unbiased, keepdim, correction, "std")
    return _sqrt0(_var(input, dims, keepdim, correction), "StdBackward0")


def logsumexp(input, dim, keepdim=False) -> Tensor:
    """log(sum(exp(input))) over dim, computed as max + log(sum(exp(input - max))).

    An infinite max is replaced by 0 (like torch), so rows of -inf give -inf and a row with +inf
    gives inf; an empty reduced dim gives -inf. Integer and bool inputs are computed in float32.
    """
    if type(input) is not Tensor:
        raise DTypeError(
            f"logsumexp(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    d = input._data
    x = _wrap(d if d.dtype is F32 else cast_arr(d, F32))  # no graph: the backward is below
    dims = dims_arg(dim, d.shape, "logsumexp")
    kept = _kept_shape(d.shape, dims)
    if d.size == 0:
        r = log(sum(exp(x), dims, True))  # empty sums are 0: log gives -inf
    else:
        m = _wrap(_ext_arr(x._data, dims, True).reshape(kept))
        m = where(eq(abs(m), _INF), 0.0, m)
        r = add(log(sum(exp(sub(x, m)), dims, True)), m)
    y = r
    if not keepdim:
        r = _wrap(r._data.reshape(tuple(s for i, s in enumerate(d.shape) if i not in dims)))
    if input._rg and grad_on():
        shp = d.shape

        def logsumexp_bw(g):  # torch's formula: g * exp(input - result)
            return (mul(expand_grad(g, shp, dims, keepdim), exp(sub(x, y))),)

        r.grad_fn = record("LogsumexpBackward0", logsumexp_bw, (input,))
        r._rg = True
    return r


def _norm_kind(p, input, dim):
    if p is None or (isinstance(p, str) and p == "fro"):
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ShapeError(
                f"norm(): p='fro' takes at most 2 dims, got dim={tuple(dim)} (input {desc(input)})"
            )
        return 2
    if isinstance(p, numbers.Real) and not isinstance(p, str):
        pf = float(p)
        if pf in (1.0, 2.0, _INF):
            return pf
    raise DTypeError(
        f"norm(): p={p!r} is not supported by rustorch (supported: 'fro', 2, 1, inf); "
        f"input {desc(input)}"
    )


def norm(input, p="fro", dim=None, keepdim=False) -> Tensor:
    """Vector norm over dim (all dims when None): p = 'fro' or 2 (sqrt of the sum of squares,
    gradient 0 at a zero norm like torch), 1 (sum of |x|) or inf (max |x|, gradient split among
    ties). float32 only, like torch."""
    if type(input) is not Tensor:
        raise DTypeError(f"norm(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if d.dtype is not F32:
        raise DTypeError(f"norm(): Expected a floating point tensor as input, got {desc(input)}")
    kind = _norm_kind(p, input, dim)
    dims = dims_arg(dim, d.shape, "norm")
    if kind == 2.0 or kind == 2:
        return _sqrt0(sum(mul(input, input), dims, keepdim), "NormBackward1")
    if kind == 1.0:
        return sum(abs(input), dims, keepdim)
    if d.ndim:
        for i in dims:
            if d.shape[i] == 0:
                raise ShapeError(
                    f"norm(): cannot compute the inf norm over dimension {i} of size 0 "
                    f"(no identity); input {desc(input)}"
                )
    return amax(abs(input), dims, keepdim)
