"""The op table: which FX node targets run on rustorch, and how.

Four tables, one per kind of FX node:

- ``ATEN``: ATen overloads by name (``"aten.addmm.default"``), as they appear in graphs from
  AOTAutograd (what ``torch.compile(backend="rustorch")`` runs);
- ``FUNCTIONS``: torch-level callables (``torch.relu``, ``torch.nn.functional.conv2d``,
  ``operator.add``, ...) from ``torch.fx.symbolic_trace`` graphs;
- ``METHODS``: Tensor method names (``call_method`` nodes);
- ``MODULES``: ``torch.nn`` module classes (``call_module`` nodes), run with the module's
  parameters and buffers shared zero-copy.

A handler receives rustorch tensors (torch tensors already converted) and plain Python values,
with torch dtypes replaced by rustorch's, and returns rustorch tensors (or tuples of them).
Handlers raise ``NotNative`` for arguments outside what rustorch implements (a transposed
convolution, a 3-D convolution, ...); the program then runs that node on torch.

Lazy transposes: rustorch stores tensors contiguously, so ``permute`` copies. The 2-D transpose
that every ``linear`` lowers to (``permute(W, [1, 0])`` feeding ``addmm``/``mm``) is instead
kept as ``Transposed(base)``; handlers marked ``transposes=True`` (mm, addmm, permute, t,
transpose) read it through the GEMM kernel's transpose flags, everything else gets a contiguous
copy (``materialize``), and a graph output becomes a torch ``.t()`` view of our storage.
"""

from __future__ import annotations

import math
import operator
from math import prod

import numpy as np

import rustorch as rt
from rustorch import ops as O
from rustorch._dtype import bool_ as _rt_bool
from rustorch._dtype import float32 as _rt_f32
from rustorch._dtype import int64 as _rt_i64
from rustorch._kernels import _gemm
from rustorch._tensor import Tensor, _wrap
from rustorch.fx._convert import Transposed, materialize, param
from rustorch.nn import functional as F

_F32 = np.dtype(np.float32)
_ZERO_OFF = np.zeros(1, dtype=np.int64)  # GEMM operand offsets of one 2-D product


class NotNative(NotImplementedError):
    """Arguments a rustorch handler does not implement: the node runs on torch instead."""


class OpSpec:
    __slots__ = ("name", "fn", "transposes", "check")

    def __init__(self, name, fn, transposes=False, check=None):
        self.name = name
        self.fn = fn
        self.transposes = transposes
        self.check = check


ATEN: dict = {}
FUNCTIONS: dict = {}  # callable -> OpSpec (filled by build_torch_tables)
METHODS: dict = {}
MODULES: dict = {}  # module class -> OpSpec whose fn takes (module, *args, **kwargs)


def aten(*names, transposes=False, check=None):
    def deco(fn):
        for n in names:
            full = "aten." + n
            ATEN[full] = OpSpec(full, fn, transposes, check)
        return fn

    return deco


# ---- helpers -----------------------------------------------------------------------------------
def _leaf(x, flag):
    """A leaf sharing x's storage that requires grad when flag (for recomputed backwards)."""
    t = _wrap(x._data)
    if flag:
        t.requires_grad_(True)
    return t


def _grad_or_zeros(t):
    if t.grad is not None:
        return t.grad
    return rt.zeros_like(t)


def _ints(v):
    return [int(e) for e in v] if isinstance(v, (list, tuple)) else v


def _new_dtype(dtype, like=None):
    if dtype is not None:
        return dtype
    return like.dtype if like is not None else _rt_f32


def _arg_val(node, i, name):
    """The fake value of node's argument i (or keyword name), if the graph carries metadata."""
    a = node.args[i] if len(node.args) > i else node.kwargs.get(name)
    return a.meta.get("val") if hasattr(a, "meta") else None


# ---- creation ----------------------------------------------------------------------------------
@aten("scalar_tensor.default")
def _scalar_tensor(s, dtype=None, layout=None, device=None, pin_memory=None):
    return rt.full((), s, dtype=_new_dtype(dtype))


@aten("full.default")
def _full(size, fill_value, *, dtype=None, layout=None, device=None, pin_memory=None):
    if dtype is None:
        dtype = _rt_bool if isinstance(fill_value, bool) else _rt_f32
    return rt.full(_ints(size), fill_value, dtype=dtype)


@aten("full_like.default")
def _full_like(x, fill_value, *, dtype=None, layout=None, device=None, pin_memory=None, **_):
    return rt.full(x.shape, fill_value, dtype=_new_dtype(dtype, x))


@aten("zeros.default")
def _zeros(size, *, dtype=None, layout=None, device=None, pin_memory=None):
    return rt.zeros(_ints(size), dtype=_new_dtype(dtype))


@aten("ones.default")
def _ones(size, *, dtype=None, layout=None, device=None, pin_memory=None):
    return rt.ones(_ints(size), dtype=_new_dtype(dtype))


@aten("empty.memory_format")
def _empty(size, *, dtype=None, layout=None, device=None, pin_memory=None, memory_format=None):
    return rt.empty(_ints(size), dtype=_new_dtype(dtype))


@aten("empty_strided.default")
def _empty_strided(size, stride, *, dtype=None, layout=None, device=None, pin_memory=None):
    return rt.empty(_ints(size), dtype=_new_dtype(dtype))  # storage is always contiguous


@aten("zeros_like.default")
def _zeros_like(x, *, dtype=None, **_):
    return rt.zeros(x.shape, dtype=_new_dtype(dtype, x))


@aten("ones_like.default")
def _ones_like(x, *, dtype=None, **_):
    return rt.ones(x.shape, dtype=_new_dtype(dtype, x))


@aten("empty_like.default")
def _empty_like(x, *, dtype=None, **_):
    return rt.empty(x.shape, dtype=_new_dtype(dtype, x))


@aten("new_zeros.default")
def _new_zeros(x, size, *, dtype=None, **_):
    return rt.zeros(_ints(size), dtype=_new_dtype(dtype, x))


@aten("new_ones.default")
def _new_ones(x, size, *, dtype=None, **_):
    return rt.ones(_ints(size), dtype=_new_dtype(dtype, x))


@aten("new_full.default")
def _new_full(x, size, fill_value, *, dtype=None, **_):
    return rt.full(_ints(size), fill_value, dtype=_new_dtype(dtype, x))


@aten("new_empty.default")
def _new_empty(x, size, *, dtype=None, **_):
    return rt.empty(_ints(size), dtype=_new_dtype(dtype, x))


@aten("arange.default", "arange.start", "arange.start_step")
def _arange(*args, dtype=None, layout=None, device=None, pin_memory=None):
    if dtype is None:
        dtype = _rt_i64 if all(isinstance(a, int) for a in args) else _rt_f32
    return rt.arange(*args, dtype=dtype)


# ---- copies, casts, aliases --------------------------------------------------------------------
@aten("clone.default", "lift_fresh_copy.default")
def _clone(x, *, memory_format=None):
    return O.clone(x)


@aten("alias.default", "detach.default", "lift_fresh.default")
def _alias(x):
    return x


def _check_to_copy(node):
    dev = node.kwargs.get("device")
    if dev is not None and str(dev) != "cpu":
        return f"device {dev}"
    return None


@aten("_to_copy.default", check=_check_to_copy)
def _to_copy(x, *, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False, **_):
    if dtype is None or dtype is x.dtype:
        return O.clone(x)
    return O.pointwise.to_dtype(x, dtype)


@aten("copy.default")
def _copy(x, src, non_blocking=False):
    if src.dtype is not x.dtype:
        src = O.pointwise.to_dtype(src, x.dtype)
    if tuple(src.shape) == tuple(x.shape):
        return O.clone(src)
    return O.expand(src, x.shape)


# ---- views and shape ops -----------------------------------------------------------------------
@aten("view.default", "_unsafe_view.default", "reshape.default")
def _view(x, shape):
    return O.reshape(x, _ints(shape))


@aten("expand.default")
def _expand(x, size, *, implicit=False):
    return O.expand(x, _ints(size))


def _transpose2(x):
    if type(x) is Transposed:
        return x.base
    return Transposed(x)


@aten("permute.default", transposes=True)
def _permute(x, dims):
    nd = len(x.shape)
    dims = [d % nd for d in dims] if nd else list(dims)
    if nd == 2 and dims == [1, 0]:
        return _transpose2(x)
    if dims == list(range(nd)):
        return x
    return O.permute(materialize(x), dims)


@aten("t.default", transposes=True)
def _t(x):
    if len(x.shape) == 2:
        return _transpose2(x)
    return materialize(x)


@aten("transpose.int", transposes=True)
def _transpose(x, dim0, dim1):
    nd = len(x.shape)
    if nd == 2 and dim0 % 2 != dim1 % 2:
        return _transpose2(x)
    return O.transpose(materialize(x), dim0, dim1)


@aten("unsqueeze.default")
def _unsqueeze(x, dim):
    return O.unsqueeze(x, dim)


@aten("squeeze.dim", "squeeze.dims", "squeeze.default")
def _squeeze(x, dim=None):
    return O.squeeze(x, dim)


@aten("slice.Tensor")
def _slice(x, dim=0, start=None, end=None, step=1):
    nd = x.ndim
    d = dim % nd
    return x[(slice(None),) * d + (slice(start, end, step),)]


@aten("select.int")
def _select(x, dim, index):
    d = dim % x.ndim
    return x[(slice(None),) * d + (int(index),)]


@aten("cat.default")
def _cat(tensors, dim=0):
    return O.cat([materialize(t) for t in tensors], dim)


@aten("stack.default")
def _stack(tensors, dim=0):
    return O.stack([materialize(t) for t in tensors], dim)


@aten("split.Tensor", "split_with_sizes.default")
def _split(x, split_size, dim=0):
    return list(O.split(x, split_size, dim))


@aten("unbind.int")
def _unbind(x, dim=0):
    return list(O.unbind(x, dim))


@aten("index_select.default")
def _index_select(x, dim, index):
    return O.index_select(x, dim, index)


@aten("index.Tensor")
def _index(x, indices):
    tensors = [i for i in indices if i is not None]
    if len(tensors) != 1:
        raise NotNative("index with more than one index tensor")
    k = next(i for i, t in enumerate(indices) if t is not None)
    return x[(slice(None),) * k + (tensors[0],)]


def _flat_positions(x_shape, index, dim):
    """int64 flat offsets into a tensor of x_shape for gather/scatter along dim."""
    nd = len(x_shape)
    strides = [prod(x_shape[k + 1 :]) for k in range(nd)]
    ishape = tuple(index.shape)
    pos = O.mul(index, strides[dim])
    for k in range(nd):
        if k != dim and ishape[k] > 1:
            shape = [1] * nd
            shape[k] = ishape[k]
            pos = O.add(pos, O.reshape(O.mul(rt.arange(ishape[k]), strides[k]), shape))
    return O.reshape(pos, [-1])


@aten("gather.default")
def _gather(x, dim, index, *, sparse_grad=False):
    if x.ndim == 0:
        return O.clone(x)
    d = dim % x.ndim
    pos = _flat_positions(tuple(x.shape), index, d)
    return O.reshape(O.reshape(x, [-1])[pos], list(index.shape))


@aten("scatter.value", "scatter.src")
def _scatter(x, dim, index, value):
    if x.ndim == 0:
        raise NotNative("scatter into a 0-d tensor")
    d = dim % x.ndim
    out = O.clone(x)
    if index.numel() == 0:
        return out
    pos = _flat_positions(tuple(x.shape), index, d)
    flat = O.reshape(out, [-1])
    if isinstance(value, Tensor):
        if tuple(value.shape) != tuple(index.shape):
            sl = tuple(slice(0, s) for s in index.shape)
            value = value[sl]
        value = O.reshape(value, [-1])
    flat[pos] = value
    return out


@aten("sym_size.int")
def _sym_size(x, dim):
    return x.shape[dim]


@aten("sym_numel.default")
def _sym_numel(x):
    return prod(x.shape)


@aten("sym_stride.int")
def _sym_stride(x, dim):
    return materialize(x).stride(dim)


@aten("_assert_scalar.default", "_assert_tensor_metadata.default")
def _noop(*args, **kwargs):
    return None


# ---- pointwise ---------------------------------------------------------------------------------
def _binary(fn):
    def op(a, b, *, alpha=1):
        if alpha != 1:
            b = O.mul(b, alpha)
        return fn(a, b)

    return op


aten("add.Tensor", "add.Scalar")(_binary(O.add))
aten("sub.Tensor", "sub.Scalar")(_binary(O.sub))


@aten("rsub.Scalar", "rsub.Tensor")
def _rsub(a, b, *, alpha=1):
    return O.sub(b, O.mul(a, alpha) if alpha != 1 else a)


for _n, _f in {
    "mul.Tensor": O.mul,
    "mul.Scalar": O.mul,
    "div.Tensor": O.div,
    "div.Scalar": O.div,
    "pow.Tensor_Scalar": O.pow,
    "pow.Tensor_Tensor": O.pow,
    "pow.Scalar": O.pow,
    "maximum.default": O.maximum,
    "minimum.default": O.minimum,
    "eq.Tensor": O.eq,
    "eq.Scalar": O.eq,
    "ne.Tensor": O.ne,
    "ne.Scalar": O.ne,
    "lt.Tensor": O.lt,
    "lt.Scalar": O.lt,
    "le.Tensor": O.le,
    "le.Scalar": O.le,
    "gt.Tensor": O.gt,
    "gt.Scalar": O.gt,
    "ge.Tensor": O.ge,
    "ge.Scalar": O.ge,
    "logical_and.default": O.logical_and,
    "logical_or.default": O.logical_or,
    "remainder.Tensor": O.remainder,
    "remainder.Scalar": O.remainder,
    "floor_divide.default": O.floor_divide,
    "neg.default": O.neg,
    "exp.default": O.exp,
    "log.default": O.log,
    "sqrt.default": O.sqrt,
    "rsqrt.default": O.rsqrt,
    "abs.default": O.abs,
    "tanh.default": O.tanh,
    "sigmoid.default": O.sigmoid,
    "sin.default": O.sin,
    "cos.default": O.cos,
    "relu.default": O.relu,
    "sign.default": O.sign,
    "reciprocal.default": O.reciprocal,
    "logical_not.default": O.logical_not,
    "bitwise_not.default": O.pointwise.bitwise_not,
    "where.self": O.where,
}.items():
    aten(_n)(_f)


def _bool_logic(fn, name):
    def op(a, b):
        for t in (a, b):
            if isinstance(t, Tensor) and t.dtype is not _rt_bool:
                raise NotNative(f"{name} on {t.dtype} tensors (rustorch has it for bool)")
        return fn(a, b)

    return op


def _check_bool_args(node):
    for i in range(2):
        v = _arg_val(node, i, "other" if i else "self")
        if v is not None and getattr(v, "dtype", None) is not None and str(v.dtype) != "torch.bool":
            return f"{v.dtype} operands (rustorch has it for bool)"
    return None


aten("bitwise_and.Tensor", check=_check_bool_args)(_bool_logic(O.logical_and, "bitwise_and"))
aten("bitwise_or.Tensor", check=_check_bool_args)(_bool_logic(O.logical_or, "bitwise_or"))


@aten("div.Tensor_mode", "div.Scalar_mode")
def _div_mode(a, b, *, rounding_mode=None):
    return O.div(a, b, rounding_mode=rounding_mode)


@aten("clamp.default")
def _clamp(x, min=None, max=None):
    return O.clamp(x, min, max)


@aten("clamp_min.default")
def _clamp_min(x, min):
    return O.clamp_min(x, min)


@aten("clamp_max.default")
def _clamp_max(x, max):
    return O.clamp_max(x, max)


def _saved_bwd(code, g, y):
    """g and a saved output through one of the elementwise backward kernels (equal shapes)."""
    gd, yd = g._data, y._data
    if gd.shape != yd.shape or gd.dtype is not _F32 or yd.dtype is not _F32:
        return None
    out = np.empty(gd.shape, _F32)
    O.pointwise._binary(code, gd, yd, out)
    return _wrap(out)


@aten("threshold_backward.default")
def _threshold_backward(g, x, threshold):
    if threshold == 0:  # relu's backward: one fused pass (y > 0 ? g : 0)
        r = _saved_bwd(O.pointwise.RELU_BWD, g, x)
        if r is not None:
            return r
    return O.where(O.le(x, threshold), 0.0, g)


@aten("sigmoid_backward.default")
def _sigmoid_backward(g, y):
    r = _saved_bwd(O.pointwise.SIGMOID_BWD, g, y)
    return r if r is not None else O.mul(g, O.mul(O.rsub(y, 1.0), y))


@aten("tanh_backward.default")
def _tanh_backward(g, y):
    r = _saved_bwd(O.pointwise.TANH_BWD, g, y)
    return r if r is not None else O.mul(g, O.rsub(O.mul(y, y), 1.0))


@aten("gelu.default")
def _gelu(x, *, approximate="none"):
    return F.gelu(x, approximate=approximate)


@aten("gelu_backward.default")
def _gelu_backward(g, x, *, approximate="none"):
    with rt.enable_grad():
        xi = _leaf(x, True)
        F.gelu(xi, approximate=approximate).backward(g)
    return xi.grad


@aten("silu.default")
def _silu(x):
    return F.silu(x)


@aten("silu_backward.default")
def _silu_backward(g, x):
    with rt.enable_grad():
        xi = _leaf(x, True)
        F.silu(xi).backward(g)
    return xi.grad


@aten("leaky_relu.default")
def _leaky_relu(x, negative_slope=0.01):
    return F.leaky_relu(x, negative_slope)


@aten("leaky_relu_backward.default")
def _leaky_relu_backward(g, x, negative_slope, self_is_result):
    return O.where(O.gt(x, 0.0), g, O.mul(g, negative_slope))


# ---- reductions --------------------------------------------------------------------------------
def _cast(r, dtype):
    return r if dtype is None or r.dtype is dtype else O.pointwise.to_dtype(r, dtype)


@aten("sum.default")
def _sum_all(x, *, dtype=None):
    return _cast(O.sum(x), dtype)


@aten("sum.dim_IntList")
def _sum(x, dim=None, keepdim=False, *, dtype=None):
    return _cast(O.sum(x, dim, keepdim), dtype)


@aten("mean.default")
def _mean_all(x, *, dtype=None):
    return O.mean(x)


@aten("mean.dim")
def _mean(x, dim=None, keepdim=False, *, dtype=None):
    return O.mean(x, dim, keepdim)


@aten("amax.default")
def _amax(x, dim=(), keepdim=False):
    return O.amax(x, dim, keepdim)


@aten("amin.default")
def _amin(x, dim=(), keepdim=False):
    return O.amin(x, dim, keepdim)


@aten("max.dim")
def _max_dim(x, dim, keepdim=False):
    return tuple(O.max(x, dim, keepdim))


@aten("min.dim")
def _min_dim(x, dim, keepdim=False):
    return tuple(O.min(x, dim, keepdim))


@aten("max.default")
def _max_all(x):
    return O.max(x)


@aten("min.default")
def _min_all(x):
    return O.min(x)


@aten("argmax.default")
def _argmax(x, dim=None, keepdim=False):
    return O.argmax(x, dim, keepdim)


@aten("argmin.default")
def _argmin(x, dim=None, keepdim=False):
    return O.argmin(x, dim, keepdim)


@aten("var.correction")
def _var(x, dim=None, *, correction=None, keepdim=False):
    c = 1.0 if correction is None else float(correction)
    dims = list(range(x.ndim)) if not dim else [d % x.ndim for d in dim]
    n = prod(x.shape[d] for d in dims)
    d = O.sub(x, O.mean(x, dims, True))
    return O.div(O.sum(O.mul(d, d), dims, keepdim), max(n - c, 0.0))


# ---- matrix products (read lazy transposes through the GEMM's trans flags) --------------------
def _gemm_operand(x):
    if type(x) is Transposed:
        return x.base, True
    return x, False


def _mm_native(a, b):
    A, ta = _gemm_operand(a)
    B, tb = _gemm_operand(b)
    ad, bd = A._data, B._data
    if not (ta or tb) or ad.dtype is not _F32 or bd.dtype is not _F32 or ad.ndim != 2:
        return None
    if bd.ndim != 2:
        return None
    M, K = (ad.shape[1], ad.shape[0]) if ta else ad.shape
    K2, N = (bd.shape[1], bd.shape[0]) if tb else bd.shape
    if K != K2:
        return None
    out = np.empty((M, N), _F32)
    if M and N:
        if K == 0:
            out.fill(0.0)  # storage init: an empty sum
        else:
            _gemm.gemm(ad, bd, out, _ZERO_OFF, _ZERO_OFF, M, N, K, ta, tb)
    return _wrap(out)


@aten("mm.default", transposes=True)
def _mm(a, b):
    r = _mm_native(a, b)
    return r if r is not None else O.mm(materialize(a), materialize(b))


@aten("addmm.default", transposes=True)
def _addmm(bias, a, b, *, beta=1, alpha=1):
    bias = materialize(bias)
    if (
        beta == 1
        and alpha == 1
        and type(b) is Transposed
        and type(a) is Tensor
        and bias.ndim == 1
        and bias.shape[0] == b.shape[1]
        and bias.dtype is _rt_f32
    ):
        return F.linear(a, b.base, bias)  # x @ W^T + b: W read transposed by the kernel
    r = _mm(a, b)
    if alpha != 1:
        r = O.mul(r, alpha)
    if beta == 0:
        return r
    return O.add(r, O.mul(bias, beta) if beta != 1 else bias)


@aten("bmm.default")
def _bmm(a, b):
    return O.bmm(a, b)


@aten("dot.default")
def _dot(a, b):
    return O.dot(a, b)


@aten("mv.default")
def _mv(a, b):
    return O.mv(a, b)


# ---- convolution -------------------------------------------------------------------------------
def _check_conv(node):
    transposed = node.args[6] if len(node.args) > 6 else False
    if transposed:
        return "transposed convolution"
    w = _arg_val(node, 1, "weight")
    if w is not None and getattr(w, "ndim", 4) != 4:
        return f"{w.ndim - 2}-d convolution (rustorch has conv2d)"
    return None


def _check_conv_bw(node):
    transposed = node.args[7] if len(node.args) > 7 else False
    if transposed:
        return "transposed convolution"
    w = _arg_val(node, 2, "weight")
    if w is not None and getattr(w, "ndim", 4) != 4:
        return f"{w.ndim - 2}-d convolution (rustorch has conv2d)"
    return None


def _conv_args(w, transposed, output_padding):
    if transposed:
        raise NotNative("transposed convolution")
    if w.ndim != 4:
        raise NotNative(f"{w.ndim - 2}-d convolution")


@aten("convolution.default", check=_check_conv)
def _convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    _conv_args(w, transposed, output_padding)
    return F.conv2d(x, w, b, _ints(stride), _ints(padding), _ints(dilation), groups)


@aten("convolution_backward.default", check=_check_conv_bw)
def _convolution_backward(
    g, x, w, bias_sizes, stride, padding, dilation, transposed, output_padding, groups, mask
):
    _conv_args(w, transposed, output_padding)
    if not any(mask):
        return (None, None, None)
    with rt.enable_grad():
        xi = _leaf(x, mask[0])
        wi = _leaf(w, mask[1])
        bi = rt.zeros(w.shape[0]).requires_grad_(True) if mask[2] else None
        y = F.conv2d(xi, wi, bi, _ints(stride), _ints(padding), _ints(dilation), groups)
        y.backward(g)
    return (
        _grad_or_zeros(xi) if mask[0] else None,
        _grad_or_zeros(wi) if mask[1] else None,
        _grad_or_zeros(bi) if mask[2] else None,
    )


# ---- pooling -----------------------------------------------------------------------------------
def _pool_stride(stride):
    return None if stride is None or len(stride) == 0 else _ints(stride)


@aten("max_pool2d_with_indices.default")
def _max_pool2d_with_indices(x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return tuple(
        F.max_pool2d(
            x,
            _ints(kernel_size),
            _pool_stride(stride),
            _ints(padding),
            _ints(dilation),
            ceil_mode,
            return_indices=True,
        )
    )


def _pair(v, default):
    v = _ints(v) if v is not None else []
    if isinstance(v, int):
        return (v, v)
    if len(v) == 0:
        return default
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


@aten("max_pool2d_with_indices_backward.default")
def _max_pool2d_with_indices_backward(
    g, x, kernel_size, stride, padding, dilation, ceil_mode, indices
):
    # send g to the saved argmax positions (flat in-plane indices, torch's layout)
    shape = tuple(x.shape)
    H, W = shape[-2:]
    P = prod(shape[:-2])
    L = prod(tuple(indices.shape)[-2:])
    base = O.reshape(O.mul(rt.arange(P), H * W), [P, 1])
    pos = O.reshape(O.add(O.reshape(indices, [P, L]), base), [-1])
    gflat = O.reshape(g, [-1])
    k = _pair(kernel_size, None)
    s = _pair(stride, k)
    d = _pair(dilation, (1, 1))
    if all(s[i] >= d[i] * (k[i] - 1) + 1 for i in (0, 1)):
        # windows do not overlap: every input element is the argmax of at most one window
        gx = rt.zeros(P * H * W)
        gx[pos] = gflat
        return O.reshape(gx, list(shape))
    # overlapping windows add up: the backward of index_select over the flattened planes
    with rt.enable_grad():
        z = rt.zeros(P * H * W).requires_grad_(True)
        O.index_select(z, 0, pos).backward(gflat)
    return O.reshape(_grad_or_zeros(z), list(shape))


@aten("avg_pool2d.default")
def _avg_pool2d(
    x, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True, divisor=None
):
    return F.avg_pool2d(
        x,
        _ints(kernel_size),
        _pool_stride(stride),
        _ints(padding),
        ceil_mode,
        count_include_pad,
        divisor,
    )


@aten("avg_pool2d_backward.default")
def _avg_pool2d_backward(g, x, kernel_size, stride, padding, ceil_mode, count_include_pad, div):
    with rt.enable_grad():
        xi = _leaf(x, True)
        y = F.avg_pool2d(
            xi,
            _ints(kernel_size),
            _pool_stride(stride),
            _ints(padding),
            ceil_mode,
            count_include_pad,
            div,
        )
        y.backward(g)
    return xi.grad


@aten("_adaptive_avg_pool2d.default")
def _adaptive_avg_pool2d(x, output_size):
    return F.adaptive_avg_pool2d(x, _ints(output_size))


@aten("_adaptive_avg_pool2d_backward.default")
def _adaptive_avg_pool2d_backward(g, x):
    with rt.enable_grad():
        xi = _leaf(x, True)
        F.adaptive_avg_pool2d(xi, list(g.shape[-2:])).backward(g)
    return xi.grad


# ---- batch norm --------------------------------------------------------------------------------
def _bn_train(x, w, b, rm, rv, momentum, eps):
    """(out, save_mean, save_invstd, new_running_mean, new_running_var), functionally.

    One fused batch-norm pass computes the output and the batch statistics: with momentum 1
    and zeroed "running" buffers, the kernel leaves the batch mean and the unbiased batch
    variance in them."""
    C = x.shape[1]
    n = prod(x.shape) // max(C, 1)
    mean = rt.zeros(C)
    uvar = rt.zeros(C)
    out = F.batch_norm(x, mean, uvar, w, b, training=True, momentum=1.0, eps=eps)
    var = O.mul(uvar, (n - 1) / n) if n > 1 else uvar
    invstd = O.rsqrt(O.add(var, eps))
    m = 0.0 if momentum is None else float(momentum)
    new_rm = new_rv = None
    if rm is not None:
        new_rm = O.add(O.mul(rm, 1.0 - m), O.mul(mean, m))
    if rv is not None:
        new_rv = O.add(O.mul(rv, 1.0 - m), O.mul(uvar, m))
    return out, mean, invstd, new_rm, new_rv


def _bn_eval(x, w, b, rm, rv, eps):
    return F.batch_norm(x, rm, rv, w, b, training=False, momentum=0.0, eps=eps)


def _empty0():
    return rt.zeros(0)


@aten("_native_batch_norm_legit_functional.default")
def _bn_legit_functional(x, w, b, rm, rv, training, momentum, eps):
    if training:
        return _bn_train(x, w, b, rm, rv, momentum, eps)
    out = _bn_eval(x, w, b, rm, rv, eps)
    return out, _empty0(), _empty0(), O.clone(rm), O.clone(rv)


@aten("_native_batch_norm_legit_no_training.default")
def _bn_legit_no_training(x, w, b, rm, rv, momentum, eps):
    return _bn_eval(x, w, b, rm, rv, eps), _empty0(), _empty0()


@aten("native_batch_norm.default", "_native_batch_norm_legit.default")
def _bn_inplace(x, w, b, rm, rv, training, momentum, eps):
    if training or rm is None:
        out, mean, invstd, new_rm, new_rv = _bn_train(x, w, b, rm, rv, momentum, eps)
        if training and rm is not None:
            rm.copy_(new_rm)
        if training and rv is not None:
            rv.copy_(new_rv)
        return out, mean, invstd
    return _bn_eval(x, w, b, rm, rv, eps), _empty0(), _empty0()


@aten("_native_batch_norm_legit.no_stats")
def _bn_no_stats(x, w, b, training, momentum, eps):
    out, mean, invstd, _, _ = _bn_train(x, w, b, None, None, momentum, eps)
    return out, mean, invstd


@aten("native_batch_norm_backward.default")
def _bn_backward(g, x, w, rm, rv, save_mean, save_invstd, train, eps, mask):
    if not any(mask):
        return (None, None, None)
    C = x.shape[1]
    with rt.enable_grad():
        xi = _leaf(x, mask[0])
        wi = None
        if w is not None:
            wi = _leaf(w, mask[1])
        elif mask[1]:
            wi = rt.ones(C).requires_grad_(True)
        bi = rt.zeros(C).requires_grad_(True) if mask[2] else None
        if train:
            y = F.batch_norm(xi, None, None, wi, bi, training=True, eps=eps)
        else:
            y = F.batch_norm(xi, rm, rv, wi, bi, training=False, eps=eps)
        y.backward(g)
    return (
        _grad_or_zeros(xi) if mask[0] else None,
        _grad_or_zeros(wi) if mask[1] else None,
        _grad_or_zeros(bi) if mask[2] else None,
    )


# ---- dropout -----------------------------------------------------------------------------------
@aten("native_dropout.default")
def _native_dropout(x, p, train):
    if train is False or p == 0:
        return O.clone(x), rt.ones(x.shape, dtype=_rt_bool)
    if p >= 1:
        return rt.zeros(x.shape), rt.zeros(x.shape, dtype=_rt_bool)
    mask = O.lt(rt.rand(*x.shape), 1.0 - p)  # rustorch's generator, not torch's stream
    return O.mul(O.mul(x, mask), 1.0 / (1.0 - p)), mask


@aten("native_dropout_backward.default")
def _native_dropout_backward(g, mask, scale):
    return O.mul(O.mul(g, mask), scale)


# ---- softmax and losses ------------------------------------------------------------------------
@aten("_softmax.default")
def _softmax(x, dim, half_to_float=False):
    return F.softmax(x, dim)


@aten("_log_softmax.default")
def _log_softmax(x, dim, half_to_float=False):
    return F.log_softmax(x, dim)


@aten("_softmax_backward_data.default")
def _softmax_backward_data(g, y, dim, input_dtype):
    gy = O.mul(g, y)
    return O.sub(gy, O.mul(y, O.sum(gy, dim, True)))


@aten("_log_softmax_backward_data.default")
def _log_softmax_backward_data(g, y, dim, input_dtype):
    return O.sub(g, O.mul(O.exp(y), O.sum(g, dim, True)))


_REDUCTIONS = ("none", "mean", "sum")


def _total_weight(target, weight, ignore_index):
    valid = O.ne(target, ignore_index)
    if weight is None:
        return O.pointwise.to_dtype(O.sum(valid), _rt_f32)
    safe = O.where(valid, target, 0)
    w = O.reshape(O.index_select(weight, 0, O.reshape(safe, [-1])), list(target.shape))
    return O.sum(O.where(valid, w, 0.0))


@aten("nll_loss_forward.default", "nll_loss2d_forward.default")
def _nll_loss_forward(x, target, weight, reduction, ignore_index):
    red = _REDUCTIONS[reduction]
    out = F.nll_loss(x, target, weight, ignore_index=ignore_index, reduction=red)
    return out, _total_weight(target, weight, ignore_index)


@aten("nll_loss_backward.default", "nll_loss2d_backward.default")
def _nll_loss_backward(g, x, target, weight, reduction, ignore_index, total_weight):
    red = _REDUCTIONS[reduction]
    with rt.enable_grad():
        xi = _leaf(x, True)
        loss = F.nll_loss(xi, target, weight, ignore_index=ignore_index, reduction=red)
        loss.backward(g)
    return _grad_or_zeros(xi)


# ---- operator.* and builtins (both graph levels) -----------------------------------------------
_OPERATORS = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.floordiv,
    operator.mod,
    operator.pow,
    operator.matmul,
    operator.neg,
    operator.pos,
    operator.abs,
    operator.getitem,
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    operator.and_,
    operator.or_,
    operator.invert,
    getattr,
    math.sqrt,
]

# ---- torch-level tables (symbolic_trace graphs) ------------------------------------------------
_TORCH_NAMES = """abs add amax amin argmax argmin bmm cat chunk clamp clip concat cos div dot
eq exp expand_copy flatten ge gt le log lt matmul max maximum mean min minimum mm mul mv ne neg
permute pow relu reshape rsqrt sigmoid sign sin split sqrt square squeeze stack sub sum t tanh
transpose unbind unsqueeze where zeros ones full arange zeros_like ones_like full_like empty
empty_like""".split()
_F_NAMES = """linear relu tanh sigmoid gelu silu leaky_relu flatten conv2d max_pool2d
avg_pool2d adaptive_avg_pool2d batch_norm dropout softmax log_softmax cross_entropy nll_loss
mse_loss l1_loss binary_cross_entropy_with_logits""".split()
_METHOD_NAMES = """add sub mul div pow neg exp log sqrt rsqrt abs tanh sigmoid relu clamp clip
maximum minimum sign sin cos square reciprocal eq ne lt le gt ge sum mean max min amax amin argmax
argmin reshape view view_as reshape_as flatten unflatten unsqueeze squeeze permute transpose t
expand expand_as chunk split unbind index_select matmul mm bmm dot mv clone float long bool size
dim numel contiguous detach add_ sub_ mul_ div_ softmax log_softmax""".split()


def _method(name):
    def call(self, *args, **kwargs):
        return getattr(materialize(self), name)(*args, **kwargs)

    call.__name__ = name
    return call


def _tensor_softmax(self, dim, dtype=None):
    return F.softmax(self, dim, dtype=dtype)


def _tensor_log_softmax(self, dim, dtype=None):
    return F.log_softmax(self, dim, dtype=dtype)


def _mod_linear(m, x):
    return F.linear(x, param(m.weight), param(m.bias))


def _mod_conv2d(m, x):
    if m.padding_mode != "zeros":
        raise NotNative(f"Conv2d(padding_mode={m.padding_mode!r})")
    return F.conv2d(x, param(m.weight), param(m.bias), m.stride, m.padding, m.dilation, m.groups)


def _mod_batch_norm(m, x):
    # torch.nn.modules.batchnorm._BatchNorm.forward, with the buffers shared zero-copy (the
    # kernel updates the running statistics in torch's storage)
    factor = 0.0 if m.momentum is None else m.momentum
    if m.training and m.track_running_stats and m.num_batches_tracked is not None:
        m.num_batches_tracked.add_(1)
        factor = 1.0 / float(m.num_batches_tracked) if m.momentum is None else m.momentum
    bn_training = m.training or (m.running_mean is None and m.running_var is None)
    keep = not m.training or m.track_running_stats
    return F.batch_norm(
        x,
        param(m.running_mean) if keep else None,
        param(m.running_var) if keep else None,
        param(m.weight),
        param(m.bias),
        bn_training,
        factor,
        m.eps,
    )


def _mod_max_pool2d(m, x):
    return F.max_pool2d(
        x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, m.return_indices
    )


def _mod_avg_pool2d(m, x):
    return F.avg_pool2d(
        x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override
    )


def _mod_loss(fn, *attrs):
    def call(m, input, target):
        kw = {a: param(getattr(m, a)) for a in attrs}
        return fn(input, target, **kw)

    return call


_MODULE_FNS = {
    "Linear": _mod_linear,
    "Conv2d": _mod_conv2d,
    "BatchNorm1d": _mod_batch_norm,
    "BatchNorm2d": _mod_batch_norm,
    "ReLU": lambda m, x: F.relu(x),
    "Tanh": lambda m, x: F.tanh(x),
    "Sigmoid": lambda m, x: F.sigmoid(x),
    "GELU": lambda m, x: F.gelu(x, approximate=m.approximate),
    "SiLU": lambda m, x: F.silu(x),
    "LeakyReLU": lambda m, x: F.leaky_relu(x, m.negative_slope),
    "Identity": lambda m, x: x,
    "Flatten": lambda m, x: F.flatten(x, m.start_dim, m.end_dim),
    "Dropout": lambda m, x: F.dropout(x, m.p, m.training),
    "MaxPool2d": _mod_max_pool2d,
    "AvgPool2d": _mod_avg_pool2d,
    "AdaptiveAvgPool2d": lambda m, x: F.adaptive_avg_pool2d(x, m.output_size),
    "Softmax": lambda m, x: F.softmax(x, m.dim),
    "LogSoftmax": lambda m, x: F.log_softmax(x, m.dim),
    "CrossEntropyLoss": _mod_loss(
        F.cross_entropy, "weight", "ignore_index", "reduction", "label_smoothing"
    ),
    "NLLLoss": _mod_loss(F.nll_loss, "weight", "ignore_index", "reduction"),
    "MSELoss": _mod_loss(F.mse_loss, "reduction"),
    "L1Loss": _mod_loss(F.l1_loss, "reduction"),
}


def _qualname(fn):
    mod = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    if mod in ("_operator", "operator"):
        mod = "operator"
    if name.startswith("_VariableFunctionsClass."):  # torch's builtin functions
        name = name.split(".", 1)[1]
    if mod == "builtins":
        return name
    return f"{mod}.{name}" if mod else name


_built = False


def build_torch_tables():
    """Fill FUNCTIONS / METHODS / MODULES (needs torch; done on first compile)."""
    global _built
    if _built:
        return
    import torch
    import torch.nn.functional as TF

    for fn in _OPERATORS:
        FUNCTIONS[fn] = OpSpec(_qualname(fn), fn)
    for n in _TORCH_NAMES:
        tf, rf = getattr(torch, n, None), getattr(rt, n, None)
        if tf is not None and rf is not None:
            FUNCTIONS[tf] = OpSpec(f"torch.{n}", rf)
    for n in _F_NAMES:
        tf, rf = getattr(TF, n, None), getattr(F, n, None)
        if tf is not None and rf is not None:
            FUNCTIONS[tf] = OpSpec(f"torch.nn.functional.{n}", rf)
    for n in ("softmax", "log_softmax"):
        FUNCTIONS[getattr(torch, n)] = OpSpec(f"torch.{n}", getattr(F, n))
    for n in _METHOD_NAMES:
        if n == "softmax":
            fn = _tensor_softmax
        elif n == "log_softmax":
            fn = _tensor_log_softmax
        elif n == "contiguous":
            fn = materialize
        elif hasattr(Tensor, n):
            fn = _method(n)
        else:
            continue
        METHODS[n] = OpSpec(f"Tensor.{n}", fn)
    for cls_name, fn in _MODULE_FNS.items():
        cls = getattr(torch.nn, cls_name)
        MODULES[cls] = OpSpec(f"torch.nn.{cls_name}", fn)
    _built = True


def supported_names():
    build_torch_tables()
    names = set(ATEN)
    names.update(s.name for s in FUNCTIONS.values())
    names.update(s.name for s in METHODS.values())
    names.update(s.name for s in MODULES.values())
    return sorted(names)


__all__ = [
    "ATEN",
    "FUNCTIONS",
    "METHODS",
    "MODULES",
    "NotNative",
    "OpSpec",
    "Transposed",
    "build_torch_tables",
    "materialize",
    "supported_names",
]
