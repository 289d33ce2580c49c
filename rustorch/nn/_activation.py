"""softmax, log_softmax (fused, stable, any dim) and dropout, each with backward.

softmax / log_softmax view the input as (outer, R, inner) around `dim`, subtract the slice's
maximum before exponentiating (logits of magnitude 1e4 stay finite), and save only the output
for backward. dropout draws its mask from the counter-based default generator (the same numbers
on any thread count) and saves the mask as bytes.
"""

import numbers
import warnings
from math import prod

from rustorch._creation import default_generator
from rustorch._kernels import _dispatch
from rustorch._kernels import dropout as _dk
from rustorch.errors import AutogradError, DTypeError
from rustorch.ops._common import BOOL, F32, Tensor, _empty, _wrap, _wrap_dim, desc, grad_on, record

_lk, _ = _dispatch.load("loss")


def _legacy_dim(ndim, name):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax(input, dim, dtype, logsm):
    name = "log_softmax" if logsm else "softmax"
    if type(input) is not Tensor:
        raise DTypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if dtype is not None:
        from rustorch._dtype import float32

        if dtype is not float32:
            raise DTypeError(f"{name}(): only dtype=float32 is supported, got dtype={dtype}")
    x = input._data
    if x.dtype is not F32:
        raise DTypeError(
            f'{name}(): "{name}_lastdim_kernel_impl" not implemented for {desc(input)}; '
            "convert the input to float32"
        )
    if dim is None:
        dim = _legacy_dim(x.ndim, name)
    d = _wrap_dim(dim, x.ndim, name)
    shape = x.shape
    outer = prod(shape[:d]) if x.ndim else 1
    R = shape[d] if x.ndim else 1
    inner = prod(shape[d + 1 :]) if x.ndim else 1
    y = _empty(shape, F32)
    if y.size:
        _lk.softmax(x, y, outer, R, inner, logsm)
    r = _wrap(y)
    if input._rg and grad_on():

        def softmax_bw(g):
            gx = _empty(shape, F32)
            if gx.size:
                _lk.softmax_bwd(g._data, y, gx, outer, R, inner, logsm)
            return (_wrap(gx),)

        r.grad_fn = record(
            "LogSoftmaxBackward0" if logsm else "SoftmaxBackward0", softmax_bw, (input,)
        )
        r._rg = True
    return r


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x - max) / sum(exp(x - max)) along dim."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """(x - max) - log(sum(exp(x - max))) along dim."""
    return _softmax(input, dim, dtype, True)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the survivors by 1 / (1 - p).

    The mask comes from rustorch's counter-based default generator (``manual_seed`` makes it
    reproducible, on any thread count); it is not torch's random stream. With training=False
    or p=0 the input itself is returned, like torch.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if type(input) is not Tensor:
        raise DTypeError(
            f"dropout(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    x = input._data
    if x.dtype is not F32:
        raise DTypeError(f"dropout(): expected a float32 tensor, got {desc(input)}")
    p = float(p)
    if not training or p == 0.0 or x.size == 0:
        return input
    if inplace:
        # like rustorch's other in-place ops: not recorded by autograd
        if input._rg and grad_on():
            raise AutogradError(
                "dropout(inplace=True): a tensor that requires grad is being used in an in-place "
                "operation (use inplace=False, or run under no_grad())"
            )
        g = default_generator
        mask = _empty(x.shape, BOOL)
        _dk.forward(x, x, mask, g.seed, g._take(x.size), p, 0.0 if p == 1.0 else 1.0 / (1.0 - p))
        return input
    out = _empty(x.shape, F32)
    mask = _empty(x.shape, BOOL)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    g = default_generator
    _dk.forward(x, out, mask, g.seed, g._take(x.size), p, scale)
    r = _wrap(out)
    if input._rg and grad_on():
        shape = x.shape

        def dropout_bw(gr):
            gx = _empty(shape, F32)
            _dk.backward(gr._data, mask, gx, scale)
            return (_wrap(gx),)

        r.grad_fn = record("NativeDropoutBackward0", dropout_bw, (input,))
        r._rg = True
    return r


__all__ = ["softmax", "log_softmax", "dropout"]
