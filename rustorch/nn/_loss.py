"""Classification losses: cross_entropy, nll_loss, binary_cross_entropy_with_logits.

Class-index targets go through fused kernels (log-softmax and the picked log-probability in one
pass per sample; the backward recomputes softmax from the saved per-sample max and
log-sum-exp). Every target is checked against the class count before any kernel reads with it.
Reductions follow torch: "mean" divides by the summed weights of the non-ignored targets.
cross_entropy with class-probability targets is composed from log_softmax and tensor ops.
"""

import warnings
from math import prod

import numpy as np

from rustorch._kernels import _dispatch
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch.errors import DTypeError, IndexingError, ShapeError
from rustorch.nn._activation import log_softmax
from rustorch.ops._common import F32, I64, Tensor, _empty, _wrap, desc, grad_on, record

_lk, _ = _dispatch.load("loss")

_REDUCTIONS = ("none", "mean", "sum")


def _legacy(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='mean' "
        "(or 'sum' / 'none') instead.",
        UserWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _need(t, name, op):
    if type(t) is not Tensor:
        raise DTypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")
    return t


def _class_layout(input, target, op):
    """(outer, C, inner, flat int64 targets) for input (C,), (N, C) or (N, C, d1, ...)."""
    x, t = input._data, target._data
    if x.ndim == 0:
        raise ShapeError(f"{op}(): input must have at least 1 dimension, got {desc(input)}")
    if x.ndim == 1:
        if t.ndim != 0:
            raise ShapeError(
                f"{op}(): 1D input (C,) expects a 0-D target, got input {desc(input)} and "
                f"target {desc(target)}"
            )
        return 1, x.shape[0], 1, t.reshape(1)
    N, C = x.shape[:2]
    if t.ndim >= 1 and t.shape[0] != N:
        raise ShapeError(
            f"{op}(): Expected input batch_size ({N}) to match target batch_size "
            f"({t.shape[0]}) (input {desc(input)}, target {desc(target)})"
        )
    want = (N,) + x.shape[2:]
    if t.shape != want:
        raise ShapeError(
            f"{op}(): Expected target size {list(want)}, got {list(t.shape)} "
            f"(input {desc(input)}, target {desc(target)})"
        )
    return N, C, prod(x.shape[2:]), t.reshape(-1)


def _weight(weight, C, op, input):
    if weight is None:
        return None
    _need(weight, "weight", op)
    if weight._data.dtype is not F32:
        raise DTypeError(f"{op}(): weight must be float32, got {desc(weight)}")
    if weight._data.shape != (C,):
        raise ShapeError(
            f"{op}(): weight tensor should be defined either for all {C} classes or no classes "
            f"but got weight tensor of shape: {list(weight._data.shape)} (input {desc(input)})"
        )
    return weight._data


def _check_targets(t, C, ignore_index):
    if t.size:
        bad = _lk.check_targets(t, C, ignore_index)
        if bad >= 0:
            raise IndexingError(f"Target {int(t[bad])} is out of bounds.")


def _finish(loss, tl, tw, reduction, tshape):
    """The reduced loss array and the backward's scale (None for 'none')."""
    if reduction == "none":
        return loss.reshape(tshape), None
    if reduction == "sum":
        return np.array(tl, dtype=F32), 1.0
    val = tl / tw if tw != 0 else float("nan")
    return np.array(val, dtype=F32), (1.0 / tw if tw != 0 else float("nan"))


def _gscale(g, scale):
    if scale is None:
        return g._data.reshape(-1), True
    return np.array([float(g._data.reshape(-1)[0]) * scale], dtype=F32), False


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    """-weight[t] * input[n, t] per sample (input holds log-probabilities)."""
    op = "nll_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    _need(input, "input", op)
    _need(target, "target", op)
    if input._data.dtype is not F32:
        raise DTypeError(f"{op}(): expected a float32 input, got {desc(input)}")
    if target._data.dtype is not I64:
        raise DTypeError(f"{op}(): expected an int64 target of class indices, got {desc(target)}")
    outer, C, inner, t = _class_layout(input, target, op)
    w = _weight(weight, C, op, input)
    ign = int(ignore_index)
    _check_targets(t, C, ign)
    x = input._data
    loss = _empty((outer * inner,), F32)
    tl, tw = _lk.nll_fwd(x, t, outer, C, inner, w, ign, loss) if loss.size else (0.0, 0.0)
    out, scale = _finish(loss, tl, tw, reduction, target._data.shape)
    r = _wrap(out)
    if input._rg and grad_on():
        shape = x.shape

        def nll_bw(g):
            gs, per = _gscale(g, scale)
            gx = _empty(shape, F32)
            _lk.nll_bwd(t, outer, C, inner, w, ign, gs, per, gx)
            return (_wrap(gx),)

        r.grad_fn = record("NllLossBackward0", nll_bw, (input,))
        r._rg = True
    return r


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """log_softmax over dim 1 (dim 0 for 1-D input) followed by nll_loss, fused; targets are
    int64 class indices, or float class probabilities of the input's shape."""
    op = "cross_entropy"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    _need(input, "input", op)
    _need(target, "target", op)
    if input._data.dtype is not F32:
        raise DTypeError(f"{op}(): expected a float32 input, got {desc(input)}")
    eta = float(label_smoothing)
    if not 0.0 <= eta <= 1.0:
        raise ShapeError(f"{op}(): label_smoothing must be between 0.0 and 1.0. Got: {eta}")
    if target._data.dtype is F32:
        return _ce_probs(input, target, weight, reduction, eta)
    if target._data.dtype is not I64:
        raise DTypeError(
            f"{op}(): expected an int64 target of class indices or a float32 target of class "
            f"probabilities, got {desc(target)}"
        )
    outer, C, inner, t = _class_layout(input, target, op)
    w = _weight(weight, C, op, input)
    ign = int(ignore_index)
    _check_targets(t, C, ign)
    x = input._data
    n = outer * inner
    loss = _empty((n,), F32)
    stats = _empty((3, n), F32)
    tl, tw = _lk.ce_fwd(x, t, outer, C, inner, w, eta, ign, loss, stats) if n else (0.0, 0.0)
    out, scale = _finish(loss, tl, tw, reduction, target._data.shape)
    r = _wrap(out)
    if input._rg and grad_on():

        def ce_bw(g):
            gs, per = _gscale(g, scale)
            gx = _empty(x.shape, F32)
            if n:
                _lk.ce_bwd(x, t, outer, C, inner, w, eta, ign, stats, gs, per, gx)
            return (_wrap(gx),)

        r.grad_fn = record("CrossEntropyLossBackward0", ce_bw, (input,))
        r._rg = True
    return r


def _ce_probs(input, target, weight, reduction, eta):
    """Cross entropy against class probabilities (composed ops, so every input differentiates)."""
    op = "cross_entropy"
    x = input._data
    if target._data.shape != x.shape:
        raise ShapeError(
            f"{op}(): probability targets must have the input's shape, got input {desc(input)} "
            f"and target {desc(target)}"
        )
    cdim = 0 if x.ndim == 1 else 1
    C = x.shape[cdim]
    w = _weight(weight, C, op, input)
    logp = log_softmax(input, cdim)
    tgt = target if eta == 0.0 else target * (1.0 - eta) + eta / C
    prod_ = logp * tgt
    if w is not None:
        prod_ = prod_ * weight.reshape((C,) + (1,) * (x.ndim - cdim - 1))
    loss = -prod_.sum(cdim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (x.size // C if C else 0)


def _bcast(t, shape, name, op, input):
    if t is None:
        return None
    _need(t, name, op)
    if t._data.dtype is not F32:
        raise DTypeError(f"{op}(): {name} must be float32, got {desc(t)}")
    if _ew.broadcast_shape(t._data.shape, shape) != tuple(shape):
        raise ShapeError(
            f"{op}(): {name} of shape {tuple(t._data.shape)} is not broadcastable to the input "
            f"shape {tuple(shape)} (input {desc(input)})"
        )
    from rustorch.ops.shape import expand_arr

    return expand_arr(t._data, tuple(shape))


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    pos_weight=None,
):
    """Sigmoid + binary cross entropy in one stable formula:
    weight * ((1 - t) * x - (1 + (pos_weight - 1) * t) * logsigmoid(x))."""
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    _need(input, "input", op)
    _need(target, "target", op)
    x, tg = input._data, target._data
    if x.dtype is not F32 or tg.dtype is not F32:
        raise DTypeError(
            f"{op}(): expected float32 input and target, got {desc(input)}, {desc(target)}"
        )
    if tg.shape != x.shape:
        raise ShapeError(
            f"Target size ({list(tg.shape)}) must be the same as input size ({list(x.shape)})"
        )
    if (weight is not None and weight._rg) or (pos_weight is not None and pos_weight._rg):
        return _bce_composed(input, target, weight, pos_weight, reduction)
    w = _bcast(weight, x.shape, "weight", op, input)
    pw = _bcast(pos_weight, x.shape, "pos_weight", op, input)
    loss = _empty(x.shape, F32)
    tot = _lk.bce_logits_fwd(x, tg, w, pw, loss) if x.size else 0.0
    if reduction == "none":
        out, scale = loss, None
    elif reduction == "sum":
        out, scale = np.array(tot, dtype=F32), 1.0
    else:
        n = x.size
        out = np.array(tot / n if n else float("nan"), dtype=F32)
        scale = 1.0 / n if n else float("nan")
    r = _wrap(out)
    nx, nt = input._rg, target._rg
    if (nx or nt) and grad_on():

        def bce_bw(g):
            gs, per = _gscale(g, scale)
            gx = _empty(x.shape, F32) if nx else None
            gt = _empty(x.shape, F32) if nt else None
            if x.size:
                _lk.bce_logits_bwd(x, tg, w, pw, gs, per, gx, gt)
            return (None if gx is None else _wrap(gx), None if gt is None else _wrap(gt))

        r.grad_fn = record("BinaryCrossEntropyWithLogitsBackward0", bce_bw, (input, target))
        r._rg = True
    return r


def _bce_composed(input, target, weight, pos_weight, reduction):
    """The same formula from differentiable tensor ops (weight or pos_weight needs a gradient)."""
    logsig = input.clamp(max=0.0) - (1.0 + (-input.abs()).exp()).log()
    lw = 1.0 if pos_weight is None else (pos_weight - 1.0) * target + 1.0
    loss = (1.0 - target) * input - lw * logsig
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy_with_logits"]
