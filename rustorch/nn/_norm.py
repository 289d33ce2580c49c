"""batch_norm with backward, for (N, C), (N, C, L) and (N, C, H, W) input; layer_norm with
backward over the trailing dims of any input.

Training normalises with the batch statistics (two-pass variance, accumulated in double) and
updates running_mean / running_var in place like torch: new = (1 - momentum) * old +
momentum * batch statistic, with the unbiased variance. Evaluation uses the running
statistics. The kernel saves only the per-channel mean (as a float plus its rounding error, so
x - mean stays accurate when the mean is large relative to the spread) and 1/std for backward.

layer_norm normalises each row of D = prod(normalized_shape) trailing elements by its own mean
and biased variance (the same two-pass double-accumulated statistics), saving the per-row mean
(float plus rounding error) and 1/std for backward.
"""

import numbers
from math import prod

from rustorch._kernels import _dispatch
from rustorch.errors import AutogradError, DTypeError, ShapeError
from rustorch.ops._common import F32, Tensor, _empty, _wrap, desc, grad_on, record

_nk, _ = _dispatch.load("norm")


def _vec(t, name, C, input):
    if t is None:
        return None
    if type(t) is not Tensor:
        raise DTypeError(f"batch_norm(): {name} must be a Tensor or None, not {type(t).__name__}")
    if t._data.dtype is not F32:
        raise DTypeError(f"batch_norm(): {name} must be float32, got {desc(t)}")
    if t._data.shape != (C,):
        raise ShapeError(
            f"batch_norm(): {name} should contain {C} elements not {t._data.size} "
            f"({name} {desc(t)}, input {desc(input)})"
        )
    return t._data


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over every dim but dim 1."""
    if type(input) is not Tensor:
        raise DTypeError(
            f"batch_norm(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    x = input._data
    if x.dtype is not F32:
        raise DTypeError(f"batch_norm(): expected a float32 input, got {desc(input)}")
    if x.ndim < 2:
        raise ShapeError(f"batch_norm(): expected 2D or more input (N, C, ...), got {desc(input)}")
    N, C = x.shape[:2]
    S = prod(x.shape[2:])
    rm = _vec(running_mean, "running_mean", C, input)
    rv = _vec(running_var, "running_var", C, input)
    w = _vec(weight, "weight", C, input)
    b = _vec(bias, "bias", C, input)
    training = bool(training)
    if training:
        if N * S <= 1:
            raise ShapeError(
                "batch_norm(): Expected more than 1 value per channel when training, got input "
                f"size {list(x.shape)}"
            )
    elif rm is None or rv is None:
        raise ShapeError("batch_norm(): running_mean and running_var must be defined in eval mode")
    if training and (
        (running_mean is not None and running_mean._rg)
        or (running_var is not None and running_var._rg)
    ):
        raise AutogradError(
            "batch_norm(): running_mean / running_var are updated in place in training and must "
            "not require grad"
        )
    mom = 0.0 if momentum is None else float(momentum)
    eps = float(eps)
    y = _empty(x.shape, F32)
    smean = sinv = None
    if training:
        smean = _empty((2, C), F32)  # the mean rounded to float, and its rounding error
        sinv = _empty((C,), F32)
    if x.size:
        _nk.forward(x, y, N, C, S, w, b, rm, rv, training, mom, eps, smean, sinv)
    r = _wrap(y)
    nx, nw = input._rg, weight is not None and weight._rg
    nb = bias is not None and bias._rg
    if (nx or nw or nb) and grad_on():
        # evaluation saves a copy of the running statistics: later training steps update them
        m_s, v_s = (smean, sinv) if training else (rm.copy(), rv.copy())  # storage copies

        def bn_bw(g):
            gx = _empty(x.shape, F32) if nx else None
            gw = _empty((C,), F32) if nw else None
            gb = _empty((C,), F32) if nb else None
            if x.size:
                _nk.backward(g._data, x, N, C, S, m_s, v_s, w, training, eps, gx, gw, gb)
            else:
                _zero_param_grads(gw, gb)
            return _wrap_grads(gx, gw, gb)

        r.grad_fn = record("NativeBatchNormBackward0", bn_bw, (input, weight, bias))
        r._rg = True
    return r


def _zero_param_grads(gw, gb):
    """Parameter gradients of an empty input: an empty sum (storage init, no math)."""
    for a in (gw, gb):
        if a is not None:
            a.fill(0.0)


def _wrap_grads(gx, gw, gb):
    return tuple(None if a is None else _wrap(a) for a in (gx, gw, gb))


def _ln_param(t, name, ns, input):
    if t is None:
        return None
    if type(t) is not Tensor:
        raise DTypeError(f"layer_norm(): {name} must be a Tensor or None, not {type(t).__name__}")
    if t._data.dtype is not F32:
        raise DTypeError(f"layer_norm(): {name} must be float32, got {desc(t)}")
    if t._data.shape != ns:
        raise ShapeError(
            f"layer_norm(): Expected {name} to be of same shape as normalized_shape, but got "
            f"{name} of shape {list(t._data.shape)} and normalized_shape = {list(ns)} "
            f"(input {desc(input)})"
        )
    return t._data


def _normalized_shape(normalized_shape):
    ok = isinstance(normalized_shape, (tuple, list)) and all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in normalized_shape
    )
    if not ok:
        raise DTypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    ns = tuple(int(n) for n in normalized_shape)
    if not ns:
        raise ShapeError(
            "layer_norm(): Expected normalized_shape to be at least 1-dimensional, i.e., "
            "containing at least one element, but got normalized_shape = []"
        )
    return ns


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and biased variance taken
    over the last len(normalized_shape) dims (which must equal normalized_shape)."""
    if type(input) is not Tensor:
        raise DTypeError(
            f"layer_norm(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    ns = _normalized_shape(normalized_shape)
    x = input._data
    if x.dtype is not F32:
        raise DTypeError(f"layer_norm(): expected a float32 input, got {desc(input)}")
    k = len(ns)
    if x.ndim < k or x.shape[x.ndim - k :] != ns:
        raise ShapeError(
            f"layer_norm(): Given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size{list(x.shape)}"
        )
    w = _ln_param(weight, "weight", ns, input)
    b = _ln_param(bias, "bias", ns, input)
    eps = float(eps)
    D = prod(ns)
    M = prod(x.shape[: x.ndim - k])
    y = _empty(x.shape, F32)
    smean = _empty((2, M), F32)  # the row means rounded to float, and their rounding errors
    srstd = _empty((M,), F32)
    if x.size:
        _nk.ln_forward(x.reshape(M, D), y.reshape(M, D), M, D, w, b, eps, smean, srstd)
    r = _wrap(y)
    nx, nw = input._rg, weight is not None and weight._rg
    nb = bias is not None and bias._rg
    if (nx or nw or nb) and grad_on():

        def ln_bw(g):
            gx = _empty(x.shape, F32) if nx else None
            gw = _empty(ns, F32) if nw else None
            gb = _empty(ns, F32) if nb else None
            if x.size:
                _nk.ln_backward(
                    g._data.reshape(M, D),
                    x.reshape(M, D),
                    M,
                    D,
                    smean,
                    srstd,
                    w,
                    None if gx is None else gx.reshape(M, D),
                    None if gw is None else gw.reshape(D),
                    None if gb is None else gb.reshape(D),
                )
            else:
                _zero_param_grads(gw, gb)
            return _wrap_grads(gx, gw, gb)

        r.grad_fn = record("NativeLayerNormBackward0", ln_bw, (input, weight, bias))
        r._rg = True
    return r


__all__ = ["batch_norm", "layer_norm"]
