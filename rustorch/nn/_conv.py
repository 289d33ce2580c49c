"""conv2d: im2col + batched GEMM, with backward for input (col2im), weight and bias.

Forward, per image n and group g: out[n, g] (OCg x L) = W[g] (OCg x Kg) @ col[n, g] (Kg x L),
one batched GEMM call over all (n, g) through per-batch operand offsets. The bias rides in the
GEMM: the weight gets a bias column and the column block a row of ones, so there is no separate
pass over the output, and in backward the weight-gradient GEMM yields the bias gradient as its
last column. A 1x1 convolution with stride 1 and no padding uses the input as its own column
matrix (no im2col copy).

Backward: dcol[n, g] = W[g]^T @ dout[n, g] then col2im (scatter-add) gives the input gradient;
dW = sum_n (col[n, g] @ dout[n, g]^T)^T (per-image GEMMs folded in a fixed order, so the result
does not depend on the thread count). The column matrix is kept for backward when it is small enough
(COL_LIMIT elements), otherwise rebuilt chunk by chunk.
"""

import threading
import weakref

import numpy as np

from rustorch._kernels import _dispatch, _gemm
from rustorch.errors import DTypeError, ShapeError
from rustorch.ops._common import F32, I64, Tensor, _empty, _wrap, desc, grad_on, record

_ck, _ = _dispatch.load("conv")

COL_LIMIT = 1 << 25  # floats in one column buffer (128 MiB); larger batches are chunked

_OFFSETS = {}


class _Scratch:
    """Reusable float32 buffers for the column matrices and other temporaries.

    A fresh 10 MB array page-faults on first touch every call (glibc gives large blocks back
    to the OS when they are freed), which cost more than im2col itself: 2.3 ms of a 32->64
    3x3 conv's forward+backward. Buffers are matched by exact size (a network repeats its
    shapes every step) and the pool keeps at most LIMIT bytes.
    """

    LIMIT = 256 << 20

    def __init__(self):
        self._free = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def take(self, n):
        with self._lock:
            lst = self._free.get(n)
            if lst:
                self._bytes -= 4 * n
                return lst.pop()
        return _empty((n,), F32)

    def give(self, arr):
        with self._lock:
            if self._bytes + arr.nbytes > self.LIMIT:
                self._free.clear()  # shapes changed: start over rather than hoard
                self._bytes = 0
            self._free.setdefault(arr.size, []).append(arr)
            self._bytes += arr.nbytes


_SCRATCH = _Scratch()


def _offsets(nb, G, per_g, per_t):
    """int64 offsets of batch t = n*G + g: g*per_g + t*per_t (cached: these are tiny)."""
    key = (nb, G, per_g, per_t)
    o = _OFFSETS.get(key)
    if o is None:
        t = np.arange(nb * G, dtype=I64)  # index bookkeeping, not tensor math
        o = (t % G) * per_g + t * per_t
        if len(_OFFSETS) > 256:
            _OFFSETS.clear()
        _OFFSETS[key] = o
    return o


def _int_tuple(v, n, name, op):
    if isinstance(v, bool):
        raise DTypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    if isinstance(v, (tuple, list)) and all(
        isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v
    ):
        if len(v) == 1:
            return (int(v[0]),) * n
        if len(v) == n:
            return tuple(int(e) for e in v)
    raise DTypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {v!r}")


def _shape_str(s):
    return "[" + ", ".join(str(d) for d in s) + "]"


def _padding(padding, ks, stride, dilation, op):
    """(top, bottom, left, right) from an int, a tuple, 'valid' or 'same' (torch's rules)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(
                    f"{op}(): padding='same' is not supported for strided convolutions"
                )
            out = []
            for k, d in zip(ks, dilation):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        raise ShapeError(f"{op}(): Invalid padding string {padding!r}, should be 'valid' or 'same'")
    ph, pw = _int_tuple(padding, 2, "padding", op)
    if ph < 0 or pw < 0:
        raise ShapeError(f"{op}(): negative padding is not supported, got padding={padding!r}")
    return (ph, ph, pw, pw)


def _check(input, weight, bias, stride, padding, dilation, groups):
    op = "conv2d"
    for name, t in (("input", input), ("weight", weight)):
        if type(t) is not Tensor:
            raise DTypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")
    if bias is not None and type(bias) is not Tensor:
        raise DTypeError(f"{op}(): argument 'bias' must be a Tensor or None, not {type(bias)}")
    for t in (input, weight) + ((bias,) if bias is not None else ()):
        if t._data.dtype is not F32:
            ins = ", ".join(desc(u) for u in (input, weight, bias) if u is not None)
            raise DTypeError(f"{op}(): expected float32 tensors, got {ins}")
    x, w = input._data, weight._data
    if x.ndim not in (3, 4):
        raise ShapeError(
            f"{op}(): Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of "
            f"size: {_shape_str(x.shape)} ({desc(input)}, weight {desc(weight)})"
        )
    if w.ndim != 4:
        raise ShapeError(
            f"{op}(): weight must be 4-D (out_channels, in_channels/groups, kH, kW), got "
            f"{desc(weight)} (input {desc(input)})"
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ShapeError(f"{op}(): non-positive groups is not supported, got groups={groups!r}")
    groups = int(groups)
    stride = _int_tuple(stride, 2, "stride", op)
    dilation = _int_tuple(dilation, 2, "dilation", op)
    if min(stride) < 1:
        raise ShapeError(f"{op}(): non-positive stride is not supported, got stride={stride}")
    if min(dilation) < 1:
        raise ShapeError(f"{op}(): dilation should be greater than zero, got dilation={dilation}")
    OC, Cg, KH, KW = w.shape
    C = x.shape[-3]
    if OC % groups:
        raise ShapeError(
            f"{op}(): Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {_shape_str(w.shape)} instead"
        )
    if Cg * groups != C:
        raise ShapeError(
            f"{op}(): Given groups={groups}, weight of size {_shape_str(w.shape)}, expected "
            f"input{_shape_str(x.shape)} to have {Cg * groups} channels, but got {C} channels "
            "instead"
        )
    if bias is not None and bias._data.shape != (OC,):
        raise ShapeError(
            f"{op}(): Given weight of size {_shape_str(w.shape)}, expected bias to be "
            f"1-dimensional with {OC} elements, but got bias of size "
            f"{_shape_str(bias._data.shape)} instead"
        )
    pad = _padding(padding, (KH, KW), stride, dilation, op)
    H, W = x.shape[-2:]
    eh, ew = dilation[0] * (KH - 1) + 1, dilation[1] * (KW - 1) + 1
    Hp, Wp = H + pad[0] + pad[1], W + pad[2] + pad[3]
    if Hp < eh or Wp < ew:
        raise ShapeError(
            f"{op}(): Calculated padded input size per channel: ({Hp} x {Wp}). Kernel size: "
            f"({eh} x {ew}). Kernel size can't be greater than actual input size "
            f"(input {desc(input)}, weight {desc(weight)})"
        )
    OH = (Hp - eh) // stride[0] + 1
    OW = (Wp - ew) // stride[1] + 1
    gm = (H, W, KH, KW, stride[0], stride[1], pad[0], pad[2], dilation[0], dilation[1], OH, OW)
    return groups, gm


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) like torch.nn.functional.conv2d.

    input (N, C, H, W) or (C, H, W); weight (OC, C/groups, KH, KW); bias (OC,) or None;
    padding an int, a pair, "valid" or "same" (stride 1 only; an even kernel pads the extra row
    and column at the bottom/right, like torch).
    """
    G, gm = _check(input, weight, bias, stride, padding, dilation, groups)
    x = input._data
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    w = weight._data
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = gm[10], gm[11]
    L = OH * OW
    OCg = OC // G
    Kg = Cg * KH * KW
    w2 = w.reshape(OC, Kg)
    has_b = bias is not None
    direct = KH == 1 and KW == 1 and gm[4] == 1 and gm[5] == 1 and gm[6] == 0 and gm[7] == 0
    aug = has_b and not direct
    Kp = Kg + aug
    out = _empty((N, OC, OH, OW), F32)
    col = None
    if out.size:
        if Kg == 0:
            out.fill(0.0)  # storage init: an empty reduction
            if has_b:
                _ck.bias_add(out, bias._data, N, OC, L)
        else:
            A = w2
            if aug:
                A = _empty((OC, Kp), F32)
                _ck.pack_weight(w2, bias._data, A, OC, Kg)
            nb = N if direct else max(1, min(N, COL_LIMIT // max(1, G * Kp * L)))
            for n0 in range(0, N, nb):
                n1 = min(N, n0 + nb)
                c = x[n0:n1] if direct else _im2col(x[n0:n1], C, Cg, aug, gm, Kp, L)
                _gemm.gemm(
                    A,
                    c,
                    out[n0:n1],
                    _offsets(n1 - n0, G, OCg * Kp, 0),
                    _offsets(n1 - n0, G, 0, Kp * L),
                    OCg,
                    L,
                    Kp,
                    False,
                    False,
                )
                if nb == N:
                    col = c
                elif not direct:
                    _SCRATCH.give(c.base)
            if has_b and direct:
                _ck.bias_add(out, bias._data, N, OC, L)
    r = _wrap(out.reshape(out.shape[1:]) if unbatched else out)
    nx, nw = input._rg, weight._rg
    nbias = has_b and bias._rg
    if (nx or nw or nbias) and grad_on():
        # the closure keeps only what backward reads: W for dx, the columns (or x) for dW
        wsave = w2 if nx else None
        xsave = x if (nw and col is None) else None
        csave = col if nw else None
        empty = out.size == 0 or Kg == 0
        in_shape, w_shape = input._data.shape, w.shape

        def conv_bw(g):
            gd = g._data.reshape(N, OC, L)
            gx = gw = gb = None
            if empty:
                gx = _wrap(np.zeros(in_shape, F32)) if nx else None  # storage init
                gw = _wrap(np.zeros(w_shape, F32)) if nw else None
                if nbias:
                    gbd = _empty((OC,), F32)
                    _ck.bias_grad(gd, gbd, N, OC, L)
                    gb = _wrap(gbd)
                return gx, gw, gb
            if nx:
                gx = _wrap(_input_grad(gd, wsave, N, C, G, OCg, Kg, L, gm, direct, H, W))
                if unbatched:
                    gx = _wrap(gx._data.reshape(in_shape))
            if nw:
                part = _SCRATCH.take(N * G * Kp * OCg).reshape(N * G, Kp, OCg)
                nb = N if csave is not None else max(1, min(N, COL_LIMIT // max(1, G * Kp * L)))
                for n0 in range(0, N, nb):
                    n1 = min(N, n0 + nb)
                    c = csave if csave is not None else _im2col(xsave[n0:n1], C, Cg, aug, gm, Kp, L)
                    # partT[t] = col[t] @ dout[t]^T (Kp x OCg): packs better than dout @ col^T
                    _gemm.gemm(
                        c,
                        gd[n0:n1],
                        part[n0 * G : n1 * G],
                        _offsets(n1 - n0, G, 0, Kp * L),
                        _offsets(n1 - n0, G, 0, OCg * L),
                        Kp,
                        OCg,
                        L,
                        False,
                        True,
                    )
                    if csave is None:
                        _SCRATCH.give(c.base)
                gwd = _empty((OC, Kg), F32)
                gbd = _empty((OC,), F32) if (nbias and aug) else None
                _ck.fold_wgrad(part, N, G, OCg, Kp, Kg, gwd, gbd)
                _SCRATCH.give(part.base)
                gw = _wrap(gwd.reshape(w_shape))
                if gbd is not None:
                    gb = _wrap(gbd)
            if nbias and gb is None:
                gbd = _empty((OC,), F32)
                _ck.bias_grad(gd, gbd, N, OC, L)
                gb = _wrap(gbd)
            return gx, gw, gb

        if csave is not None and not direct:
            # the columns go back to the pool once the backward closure is gone
            weakref.finalize(conv_bw, _SCRATCH.give, csave.base)
        elif col is not None and not direct:
            _SCRATCH.give(col.base)
        r.grad_fn = record("ConvolutionBackward0", conv_bw, (input, weight, bias))
        r._rg = True
    elif col is not None and not direct:
        _SCRATCH.give(col.base)
    return r


def _im2col(x, C, Cg, aug, gm, Kp, L):
    """Column matrix (a pooled buffer: give its .base back when done)."""
    n = x.shape[0]
    col = _SCRATCH.take(n * (C // Cg) * Kp * L).reshape(n, (C // Cg) * Kp * L)
    _ck.im2col(x, col, n, C, Cg, aug, gm)
    return col


def _input_grad(gd, w2, N, C, G, OCg, Kg, L, gm, direct, H, W):
    """dx = col2im(W^T @ dout), chunked over the batch like the forward."""
    gx = _empty((N, C, H, W), F32)
    if direct:
        _gemm.gemm(
            w2,
            gd,
            gx,
            _offsets(N, G, OCg * Kg, 0),
            _offsets(N, G, 0, OCg * L),
            Kg,
            L,
            OCg,
            True,
            False,
        )
        return gx
    nb = max(1, min(N, COL_LIMIT // max(1, G * Kg * L)))
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        gcol = _SCRATCH.take((n1 - n0) * G * Kg * L).reshape(n1 - n0, G * Kg * L)
        _gemm.gemm(
            w2,
            gd[n0:n1],
            gcol,
            _offsets(n1 - n0, G, OCg * Kg, 0),
            _offsets(n1 - n0, G, 0, OCg * L),
            Kg,
            L,
            OCg,
            True,
            False,
        )
        _ck.col2im(gcol, gx[n0:n1], n1 - n0, C, gm)
        _SCRATCH.give(gcol.base)
    return gx


__all__ = ["conv2d"]
