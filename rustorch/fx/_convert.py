"""Conversions between torch tensors and rustorch values inside compiled graphs.

Graph inputs, parameters and outputs cross the boundary without copies wherever the memory
allows it (``t2r`` / ``r2t``). Unlike the public ``rustorch.from_torch``, these are lenient,
because a graph must run whatever it receives: a tensor that requires grad is detached (the
graph runs under AOTAutograd, which owns the autograd side), a 2-D transposed view becomes a
lazy ``Transposed`` over the same storage, another strided view is copied, and a tensor that
rustorch cannot hold (float64, non-CPU, ...) stays a torch tensor, which makes any native
handler that receives it fail and its node fall back to torch.
"""

from __future__ import annotations

import torch

from rustorch import ops as O
from rustorch._creation import from_numpy
from rustorch._tensor import Tensor


class Transposed:
    """The 2-D transpose of ``base`` (a contiguous rustorch tensor), not yet copied."""

    __slots__ = ("base", "_mat")

    def __init__(self, base):
        self.base = base
        self._mat = None

    @property
    def shape(self):
        s = self.base._data.shape
        return (s[1], s[0])

    def materialize(self):
        if self._mat is None:
            self._mat = O.t(self.base)
        return self._mat


def materialize(x):
    return x.materialize() if type(x) is Transposed else x


_OK_DTYPES = (torch.float32, torch.int64, torch.bool)
_strided = torch.strided
_from_numpy = torch.from_numpy
_TorchTensor = torch.Tensor


def t2r(t):
    """A torch value as a rustorch value (zero-copy for contiguous CPU float32/int64/bool)."""
    if not isinstance(t, _TorchTensor):
        return t
    if t.requires_grad:
        t = t.detach()
    if t.dtype not in _OK_DTYPES or t.device.type != "cpu" or t.layout is not _strided:
        return t
    if t.is_contiguous():
        return from_numpy(t.numpy())
    if t.ndim == 2:
        tt = t.t()
        if tt.is_contiguous():
            return Transposed(from_numpy(tt.numpy()))
    return from_numpy(t.contiguous().numpy())


def r2t(x):
    """A rustorch value as a torch value sharing its memory."""
    tx = type(x)
    if tx is Tensor:
        return _from_numpy(x._data)
    if tx is Transposed:
        return _from_numpy(x.base._data).t()
    return x


def tree_t2r(x):
    if isinstance(x, _TorchTensor):
        return t2r(x)
    if isinstance(x, (list, tuple)):
        return (
            type(x)(tree_t2r(e) for e in x)
            if type(x) in (list, tuple)
            else tuple(tree_t2r(e) for e in x)
        )
    return x


def tree_r2t(x):
    tx = type(x)
    if tx is Tensor or tx is Transposed:
        return r2t(x)
    if tx is list or tx is tuple:
        return tx(tree_r2t(e) for e in x)
    if tx is dict:
        return {k: tree_r2t(v) for k, v in x.items()}
    return x


def param(t):
    """A module's parameter or buffer (a torch tensor or None) as a rustorch tensor."""
    return None if t is None else t2r(t)
