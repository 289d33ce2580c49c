"""rustorch.nn.functional: torch.nn.functional's names, signatures and defaults.

Each function is an op in the project's usual shape (check -> kernel -> backward node), or a
short composition of existing ops whose backward comes from those ops.

Sections: linear | activations | shape | embedding | losses. Convolution, pooling,
normalisation, dropout, softmax/log_softmax and the classification losses live in their own
sections (added with those kernels); keep the section order when adding functions.
"""

from __future__ import annotations

import numbers
import warnings
from math import prod

import numpy as np

from rustorch import ops as _ops
from rustorch._config import get_num_threads
from rustorch._kernels import _gemm
from rustorch._kernels import activation as _act
from rustorch._kernels import indexing as _ik
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch.errors import DTypeError, IndexingError, ShapeError, TorchError
from rustorch.ops._common import F32, I64, Tensor, _empty, _wrap, desc, descs, grad_on, record

_ADD = 0  # elementwise op codes (rustorch.ops.pointwise.ADD, U_RELU)
_U_RELU = 7
_U_SOFTPLUS, _SOFTPLUS_BWD = 34, 16  # rustorch.ops.pointwise.U_SOFTPLUS, SOFTPLUS_BWD
_ZERO_OFF = np.zeros(1, dtype=I64)  # GEMM batch offsets of a single 2-D product (read only)


def _need_f32(t, op, arg="input"):
    if type(t) is not Tensor:
        raise DTypeError(f"{op}(): argument '{arg}' must be a Tensor, not {type(t).__name__}")
    if t._data.dtype is not F32:
        raise DTypeError(f"{op}(): expected a float32 tensor for '{arg}', got {desc(t)}")
    return t


# ---- linear -----------------------------------------------------------------------------------
def _gemm2(a, b, M, N, K, ta, tb):
    """(M x N) = op(a) @ op(b) through the GEMM kernel (zeros when K == 0)."""
    out = _empty((M, N), F32)
    if M == 0 or N == 0:
        return out
    if K == 0:
        out.fill(0.0)  # storage init
        return out
    _gemm.gemm(a, b, out, _ZERO_OFF, _ZERO_OFF, M, N, K, ta, tb)
    return out


def linear(input, weight, bias=None):
    """input @ weight.T + bias, for input (*, in_features) and weight (out_features, in_features).

    The product reads weight transposed through the GEMM kernel's trans flag (no copy of W^T);
    backward computes dX = G @ W, dW = G^T @ X and db = G summed over rows the same way."""
    _need_f32(input, "linear")
    _need_f32(weight, "linear", "weight")
    if bias is not None:
        _need_f32(bias, "linear", "bias")
    x, w = input._data, weight._data
    if w.ndim != 2 or x.ndim == 0:
        r = _ops.matmul(input, weight.t() if w.ndim == 2 else weight)
        return r if bias is None else _ops.add(r, bias)
    N, K = w.shape
    if x.shape[-1] != K:
        raise ShapeError(
            f"linear(): mat1 and mat2 shapes cannot be multiplied "
            f"({prod(x.shape[:-1])}x{x.shape[-1]} and {K}x{N}): input's last dim "
            f"{x.shape[-1]} != in_features {K} ({descs(input, weight)})"
        )
    if bias is not None and bias._data.shape != (N,):
        r = linear(input, weight)
        return _ops.add(r, bias)
    lead = x.shape[:-1]
    M = prod(lead)
    x2 = x.reshape(M, K)
    out = _gemm2(x2, w, M, N, K, False, True)
    if bias is not None and out.size:
        _ew.binary(_ADD, out, bias._data, out)
    r = _wrap(out.reshape(lead + (N,)))
    nx, nw = input._rg, weight._rg
    nb = bias is not None and bias._rg
    if (nx or nw or nb) and grad_on():
        xs = x2 if nw else None
        ws = w if nx else None
        xshape = x.shape

        def linear_bw(g):
            G = g._data.reshape(M, N)
            gx = gw = gb = None
            if nx:
                gx = _wrap(_gemm2(G, ws, M, K, N, False, False).reshape(xshape))
            if nw:
                gw = _wrap(_gemm2(G, xs, N, K, M, True, False))
            if nb:
                if M:
                    gb = _wrap(_ops.reduction.sum_arr(G, (0,)))
                else:
                    gb = _wrap(np.zeros((N,), F32))
            return (gx, gw, gb)

        r.grad_fn = record(
            "AddmmBackward0" if bias is not None else "MmBackward0",
            linear_bw,
            (input, weight, bias),
        )
        r._rg = True
    return r


# ---- activations ------------------------------------------------------------------------------
_GELU, _GELU_TANH, _SILU, _LEAKY = 0, 1, 2, 3


def _act_op(code, input, op, name, slope=0.0, inplace=False):
    t = _need_f32(input, op)
    x = t._data
    if inplace and not (t._rg and grad_on()):
        _act.forward(code, x, x, slope, get_num_threads())  # elementwise: aliasing is safe
        return t
    out = _empty(x.shape, F32)
    _act.forward(code, x, out, slope, get_num_threads())
    r = _wrap(out)
    if t._rg and grad_on():

        def act_bw(g):
            gx = _empty(x.shape, F32)
            _act.backward(code, g._data, x, gx, slope, get_num_threads())
            return (_wrap(gx),)

        r.grad_fn = record(name, act_bw, (t,))
        r._rg = True
    return r


# ``inplace=True`` writes into the input only when autograd is not involved (rustorch does not
# record in-place ops); when the input requires grad the result is a new tensor instead.


def relu(input, inplace: bool = False):
    """max(input, 0)."""
    if inplace and type(input) is Tensor and input._data.dtype is F32:
        if not (input._rg and grad_on()):
            _ew.unary(_U_RELU, input._data, input._data)
            return input
    return _ops.relu(input)


def tanh(input):
    return _ops.tanh(input)


def sigmoid(input):
    return _ops.sigmoid(input)


def gelu(input, approximate: str = "none"):
    """x * Phi(x) (``approximate="none"``, with erf) or its tanh approximation."""
    if approximate == "none":
        return _act_op(_GELU, input, "gelu", "GeluBackward0")
    if approximate == "tanh":
        return _act_op(_GELU_TANH, input, "gelu", "GeluBackward0")
    raise TorchError(
        f"gelu(): approximate argument must be either none or tanh, got {approximate!r}"
    )


def silu(input, inplace: bool = False):
    """x * sigmoid(x)."""
    return _act_op(_SILU, input, "silu", "SiluBackward0", 0.0, inplace)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope * x."""
    return _act_op(
        _LEAKY, input, "leaky_relu", "LeakyReluBackward0", float(negative_slope), inplace
    )


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (torch's rule)."""
    t = _need_f32(input, "softplus")
    for name, v in (("beta", beta), ("threshold", threshold)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise DTypeError(
                f"softplus(): argument '{name}' must be a number, not {type(v).__name__} "
                f"(input: {desc(t)})"
            )
    beta, threshold = float(beta), float(threshold)
    x = t._data
    out = _empty(x.shape, F32)
    _ew.unary(_U_SOFTPLUS, x, out, beta, threshold)
    r = _wrap(out)
    if t._rg and grad_on():

        def softplus_bw(g):
            gx = _empty(x.shape, F32)
            _ew.binary_params(_SOFTPLUS_BWD, g._data, x, gx, beta, threshold)
            return (_wrap(gx),)

        r.grad_fn = record("SoftplusBackward0", softplus_bw, (t,))
        r._rg = True
    return r


# (softmax, log_softmax: to be added here)


# ---- shape ------------------------------------------------------------------------------------
def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return _ops.flatten(input, start_dim, end_dim)


# (convolution, pooling, batch_norm, dropout: to be added in their own sections below)


# ---- embedding --------------------------------------------------------------------------------
def _padding_idx(padding_idx, num_embeddings, op):
    """torch's padding_idx rule: in [-num_embeddings, num_embeddings), negatives wrapped."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
        raise DTypeError(
            f"{op}(): padding_idx must be an int or None, not {type(padding_idx).__name__}"
        )
    p = int(padding_idx)
    if not -num_embeddings <= p < num_embeddings:
        raise IndexingError(
            f"{op}(): Padding_idx must be within num_embeddings: padding_idx={p}, "
            f"num_embeddings={num_embeddings}"
        )
    return p + num_embeddings if p < 0 else p


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """Rows of weight (num_embeddings, embedding_dim) picked by the int64 indices in input (any
    shape): the result has shape input.shape + (embedding_dim,).

    Forward is the index_select kernel; backward scatter-adds the output gradient into a zero
    (num_embeddings, embedding_dim) gradient with the index_add kernel (repeated indices
    accumulate) and leaves the padding_idx row zero, like torch. max_norm, scale_grad_by_freq
    and sparse gradients are not supported."""
    if type(input) is not Tensor:
        raise DTypeError(
            f"embedding(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    if type(weight) is not Tensor:
        raise DTypeError(
            f"embedding(): argument 'weight' must be a Tensor, not {type(weight).__name__}"
        )
    if input._data.dtype is not I64:
        raise DTypeError(
            "embedding(): Expected tensor for argument #1 'indices' to have scalar type int64, "
            f"got {desc(input)}"
        )
    w = weight._data
    if w.dtype is not F32:
        raise DTypeError(f"embedding(): expected a float32 weight, got {desc(weight)}")
    if w.ndim != 2:
        raise ShapeError(f"embedding(): 'weight' must be 2-D, got {desc(weight)}")
    if max_norm is not None:
        raise TorchError(
            "embedding(): max_norm is not supported by rustorch (it renormalises weight rows "
            "in place); use max_norm=None"
        )
    if scale_grad_by_freq:
        raise TorchError("embedding(): scale_grad_by_freq=True is not supported by rustorch")
    if sparse:
        raise TorchError(
            "embedding(): sparse=True is not supported by rustorch (no sparse tensors); use "
            "sparse=False"
        )
    n, D = w.shape
    pad = _padding_idx(padding_idx, n, "embedding")
    ishape = input._data.shape
    idx = input._data.reshape(-1)
    if idx.size and not _ik.index_in_range(idx, 0, n):
        bad = idx[(idx < 0) | (idx >= n)][0]  # error path only
        raise IndexingError(
            f"embedding(): index {int(bad)} is out of range for weight of shape {tuple(w.shape)} "
            f"(indices must be in [0, {n}); input {desc(input)})"
        )
    out = _empty((idx.size, D), F32)
    if out.size:
        _ik.index_select(w, idx, out, 1, n, D)
    r = _wrap(out.reshape(ishape + (D,)))
    if weight._rg and grad_on():
        wshape = w.shape
        idx = idx.copy()  # the indices as they were at forward time

        def embedding_bw(g):
            gw = np.zeros(wshape, dtype=F32)  # storage init
            if g._data.size:
                _ik.index_add(g._data.reshape(idx.size, D), idx, gw, 1, n, D)
                if pad is not None:
                    gw[pad] = 0.0  # storage init: the padding row gets no gradient
            return (_wrap(gw),)

        r.grad_fn = record("EmbeddingBackward0", embedding_bw, (weight,))
        r._rg = True
    return r


# ---- losses -----------------------------------------------------------------------------------
def _reduction(reduction, size_average=None, reduce=None):
    """The reduction string, honouring torch's deprecated size_average/reduce arguments."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _loss_operands(input, target, op):
    if type(input) is not Tensor or type(target) is not Tensor:
        raise DTypeError(
            f"{op}(): expected Tensors for input and target, got {descs(input, target)}"
        )
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _reduce(x, reduction):
    if reduction == "mean":
        return _ops.mean(x)
    if reduction == "sum":
        return _ops.sum(x)
    return x


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean (or sum, or elementwise with reduction="none") of (input - target) ** 2."""
    reduction = _reduction(reduction, size_average, reduce)
    _loss_operands(input, target, "mse_loss")
    d = _ops.sub(input, target)
    return _reduce(_ops.mul(d, d), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean (or sum, or elementwise with reduction="none") of |input - target|."""
    reduction = _reduction(reduction, size_average, reduce)
    _loss_operands(input, target, "l1_loss")
    return _reduce(_ops.abs(_ops.sub(input, target)), reduction)


# (cross_entropy, nll_loss, binary_cross_entropy_with_logits: to be added here)


__all__ = [
    "linear",
    "relu",
    "tanh",
    "sigmoid",
    "gelu",
    "silu",
    "leaky_relu",
    "softplus",
    "flatten",
    "embedding",
    "mse_loss",
    "l1_loss",
]

# ---- convolution, pooling, normalisation, dropout, softmax, classification losses ------------
from rustorch.nn._activation import dropout, log_softmax, softmax  # noqa: E402
from rustorch.nn._conv import conv2d  # noqa: E402
from rustorch.nn._loss import (  # noqa: E402
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)
from rustorch.nn._norm import batch_norm, layer_norm  # noqa: E402
from rustorch.nn._pool import (  # noqa: E402
    adaptive_avg_pool2d,
    avg_pool2d,
    max_pool2d,
    max_pool2d_with_indices,
)

__all__ += [
    "conv2d",
    "max_pool2d",
    "max_pool2d_with_indices",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "batch_norm",
    "layer_norm",
    "dropout",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
]
