"""2-D pooling: max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d, each with backward.

Input is (N, C, H, W) or unbatched (C, H, W); the kernels see N*C independent planes. Output
sizes, padding limits and ceil_mode follow torch's pooling_output_shape. max_pool2d keeps the
argmax of every window (int32 flat in-plane index, torch's tie and NaN rules) for backward.
"""

import numpy as np

from rustorch._kernels import _dispatch
from rustorch.errors import DTypeError, ShapeError
from rustorch.ops._common import F32, I64, Tensor, _empty, _wrap, desc, grad_on, record

_pk, _ = _dispatch.load("pool")


def _ints(v, name, op, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool):
        raise DTypeError(f"{op}(): {name} must be an int or a tuple of two ints, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)):
        if len(v) == 0 and allow_none:
            return None
        if all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v):
            if len(v) == 1:
                return (int(v[0]), int(v[0]))
            if len(v) == 2:
                return (int(v[0]), int(v[1]))
    raise DTypeError(f"{op}(): {name} must be an int or a tuple of two ints, got {v!r}")


def _planes(input, op):
    """(array as (P, H, W), N, C, unbatched) after dtype/rank checks."""
    if type(input) is not Tensor:
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    x = input._data
    if x.dtype is not F32:
        raise DTypeError(f"{op}(): expected a float32 tensor, got {desc(input)}")
    if x.ndim not in (3, 4) or any(s == 0 for s in x.shape[-3:]):
        raise ShapeError(
            f"{op}(): Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
            f"input, and non-zero sizes for its other dims, but got {desc(input)}"
        )
    unbatched = x.ndim == 3
    N, C = (1, x.shape[0]) if unbatched else x.shape[:2]
    H, W = x.shape[-2:]
    return x.reshape(N * C, H, W), N, C, unbatched


def _out_size(size, k, s, p, d, ceil_mode):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _geometry(input, x, kernel_size, stride, padding, dilation, ceil_mode, op):
    kh, kw = _ints(kernel_size, "kernel_size", op)
    st = _ints(stride, "stride", op, allow_none=True)
    sh, sw = (kh, kw) if st is None else st
    ph, pw = _ints(padding, "padding", op)
    dh, dw = _ints(dilation, "dilation", op)
    if kh <= 0 or kw <= 0:
        raise ShapeError(
            f"{op}(): kernel size should be greater than zero, but got kH: {kh} kW: {kw}"
        )
    if sh <= 0 or sw <= 0:
        raise ShapeError(f"{op}(): stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise ShapeError(
            f"{op}(): dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}"
        )
    if ph < 0 or pw < 0:
        raise ShapeError(f"{op}(): pad must be non-negative, but got padH: {ph} padW: {pw}")
    if ph > kh // 2 or pw > kw // 2:  # torch's pool2d_shape_check (dilation not counted)
        raise ShapeError(
            f"{op}(): pad should be smaller than or equal to half of kernel size, but got "
            f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}"
        )
    H, W = x.shape[-2:]
    OH = _out_size(H, kh, sh, ph, dh, ceil_mode)
    OW = _out_size(W, kw, sw, pw, dw, ceil_mode)
    if OH < 1 or OW < 1:
        C = input._data.shape[-3]
        raise ShapeError(
            f"{op}(): Given input size: ({C}x{H}x{W}). Calculated output size: "
            f"({C}x{OH}x{OW}). Output size is too small ({desc(input)})"
        )
    return (H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


def _shape_out(N, C, OH, OW, unbatched):
    return (C, OH, OW) if unbatched else (N, C, OH, OW)


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """Max over each window; with return_indices, also the int64 flat in-plane argmax."""
    op = "max_pool2d"
    x, N, C, unbatched = _planes(input, op)
    gm = _geometry(input, x, kernel_size, stride, padding, dilation, ceil_mode, op)
    H, W, OH, OW = gm[0], gm[1], gm[10], gm[11]
    if H * W >= 2**31:
        raise ShapeError(f"{op}(): planes of 2**31 elements or more are not supported")
    P = N * C
    y = _empty((P, OH, OW), F32)
    idx = _empty((P, OH, OW), np.int32)
    if P:
        _pk.max_fwd(x, y, idx, P, gm)
    oshape = _shape_out(N, C, OH, OW, unbatched)
    r = _wrap(y.reshape(oshape))
    if input._rg and grad_on():
        in_shape = input._data.shape

        def maxpool_bw(g):
            gx = _empty((P, H, W), F32)
            if P:
                _pk.max_bwd(g._data, idx, gx, P, gm)
            return (_wrap(gx.reshape(in_shape)),)

        r.grad_fn = record("MaxPool2DWithIndicesBackward0", maxpool_bw, (input,))
        r._rg = True
    if return_indices:
        i64 = _empty(oshape, I64)
        _pk.idx_to_i64(idx, i64)
        return r, _wrap(i64)
    return r


def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over each window (torch's divisor rules for padding and divisor_override)."""
    op = "avg_pool2d"
    x, N, C, unbatched = _planes(input, op)
    gm = _geometry(input, x, kernel_size, stride, padding, 1, ceil_mode, op)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(
            divisor_override, (int, np.integer)
        ):
            raise DTypeError(f"{op}(): divisor_override must be an int, got {divisor_override!r}")
        if divisor_override == 0:
            raise ShapeError(f"{op}(): divisor must be not zero")
    ovr = 0 if divisor_override is None else int(divisor_override)
    H, W, OH, OW = gm[0], gm[1], gm[10], gm[11]
    P = N * C
    cip = bool(count_include_pad)
    y = _empty((P, OH, OW), F32)
    if P:
        _pk.avg_fwd(x, y, P, gm, cip, ovr)
    r = _wrap(y.reshape(_shape_out(N, C, OH, OW, unbatched)))
    if input._rg and grad_on():
        in_shape = input._data.shape

        def avgpool_bw(g):
            gx = _empty((P, H, W), F32)
            if P:
                _pk.avg_bwd(g._data, gx, P, gm, cip, ovr)
            return (_wrap(gx.reshape(in_shape)),)

        r.grad_fn = record("AvgPool2DBackward0", avgpool_bw, (input,), saves=False)
        r._rg = True
    return r


def adaptive_avg_pool2d(input, output_size):
    """Average over windows [floor(i*H/OH), ceil((i+1)*H/OH)) that exactly cover the input."""
    op = "adaptive_avg_pool2d"
    if type(input) is not Tensor:
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if d.ndim not in (3, 4) or any(s == 0 for s in d.shape[-2:]):
        raise ShapeError(
            f"{op}(): Expected 3D or 4D tensor with non-zero sizes for its spatial dims, "
            f"got {desc(input)}"
        )
    x, N, C, unbatched = _planes(input, op)
    H, W = x.shape[-2:]
    if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
        os_ = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) in (1, 2):
        os_ = tuple(output_size) * (2 if len(output_size) == 1 else 1)
        os_ = (H if os_[0] is None else int(os_[0]), W if os_[1] is None else int(os_[1]))
    else:
        raise DTypeError(f"{op}(): output_size must be an int or a pair, got {output_size!r}")
    OH, OW = os_
    if OH < 0 or OW < 0:
        raise ShapeError(f"{op}(): elements of output_size must be >= 0, got {output_size!r}")
    P = N * C
    y = _empty((P, OH, OW), F32)
    if P and OH * OW:
        _pk.adaptive_avg_fwd(x, y, P, H, W, OH, OW)
    r = _wrap(y.reshape(_shape_out(N, C, OH, OW, unbatched)))
    if input._rg and grad_on():
        in_shape = input._data.shape

        def adaptive_bw(g):
            gx = _empty((P, H, W), F32)
            if OH * OW == 0:
                gx.fill(0.0)  # storage init
            elif P:
                _pk.adaptive_avg_bwd(g._data, gx, P, H, W, OH, OW)
            return (_wrap(gx.reshape(in_shape)),)

        r.grad_fn = record("AdaptiveAvgPool2DBackward0", adaptive_bw, (input,), saves=False)
        r._rg = True
    return r


__all__ = ["max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d"]
