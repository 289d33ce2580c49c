"""torch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

import math

import numpy as np

from rustorch._dtype import NP_BOOL, NP_F32

_EDGE = 3
_THRESHOLD = 1000
_LINEWIDTH = 80


class _Formatter:
    def __init__(self, flat, dtype):
        self.dtype = dtype
        self.int_mode = True
        self.sci = False
        if dtype is NP_F32:
            vals = [v for v in flat if math.isfinite(v)]
            self.int_mode = all(v == math.floor(v) for v in vals)
            nz = [abs(v) for v in vals if v != 0]
            if nz:
                mx, mn = max(nz), min(nz)
                if self.int_mode:
                    self.sci = mx > 1e8
                else:
                    self.sci = mx / mn > 1000.0 or mx > 1e8 or mn < 1e-4
        if dtype is NP_F32:
            # like torch: the column width comes from the nonzero finite values only; nan,
            # inf and zeros are padded to it but never widen it
            sized = [v for v in flat if math.isfinite(v) and v != 0]
        else:
            sized = flat
        self.width = max((len(self.fmt(v)) for v in sized), default=1)

    def fmt(self, v):
        if self.dtype is NP_BOOL:
            return str(bool(v))
        if self.dtype is not NP_F32:
            return str(int(v))
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if self.sci:
            return f"{v:.4e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.4f}"

    def __call__(self, v):
        return self.fmt(v).rjust(self.width)


def _summ(arr, summarize):
    if not summarize:
        return arr.tolist()
    return arr


def _collect(arr, summarize, out):
    if arr.ndim == 0:
        out.append(arr.item())
        return
    n = arr.shape[0]
    if summarize and n > 2 * _EDGE:
        idx = list(range(_EDGE)) + list(range(n - _EDGE, n))
    else:
        idx = range(n)
    for i in idx:
        _collect(arr[i], summarize, out)


def _render(arr, f, indent, summarize):
    if arr.ndim == 0:
        return f(arr.item())
    n = arr.shape[0]
    if arr.ndim == 1:
        items = (
            [f(v) for v in arr.tolist()]
            if not (summarize and n > 2 * _EDGE)
            else (
                [f(v) for v in arr[:_EDGE].tolist()]
                + [" ..."]
                + [f(v) for v in arr[-_EDGE:].tolist()]
            )
        )
        per_line = max(1, (_LINEWIDTH - indent) // (f.width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and n > 2 * _EDGE:
        rows = [_render(arr[i], f, indent + 1, summarize) for i in range(_EDGE)]
        rows.append("...")
        rows += [_render(arr[i], f, indent + 1, summarize) for i in range(n - _EDGE, n)]
    else:
        rows = [_render(arr[i], f, indent + 1, summarize) for i in range(n)]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t) -> str:
    arr = t._data
    prefix = "tensor("
    suffix = []
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffix.append(f"size={tuple(arr.shape)}")
    else:
        summarize = arr.size > _THRESHOLD
        vals = []
        _collect(arr, summarize, vals)
        f = _Formatter(vals, arr.dtype)
        body = _render(arr, f, len(prefix), summarize)
    if arr.dtype is not NP_F32 and arr.size == 0:
        suffix.append("dtype=rustorch." + ("bool" if arr.dtype is NP_BOOL else "int64"))
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffix.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffix) + ")"


__all__ = ["tensor_repr", "np"]
