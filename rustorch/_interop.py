"""Zero-copy exchange with torch, numpy and any DLPack producer or consumer.

A rustorch tensor is one C-contiguous CPU buffer of float32, int64 or bool, so it can share
memory with another library's tensor exactly when that tensor is a dense, C-contiguous CPU
tensor of one of those dtypes. Everything else raises instead of copying silently:

- ``DTypeError``: an element type rustorch does not store (float64, int32, bfloat16, ...);
- ``LayoutError``: memory rustorch cannot address as one contiguous CPU buffer (a transposed
  or sliced view, a sparse tensor, GPU or meta memory);
- ``AutogradError``: a tensor tracked by autograd (torch's ``requires_grad`` on the torch side,
  ours on this side). The shared tensor would not be tracked by the other library's autograd,
  so, like ``Tensor.numpy()``, the caller detaches explicitly.

torch stays an optional dependency: this module imports it only inside ``to_torch()``.
"""

from __future__ import annotations

import sys

import numpy as np

from rustorch._creation import from_numpy
from rustorch._tensor import Tensor, _wrap
from rustorch.errors import AutogradError, DTypeError, LayoutError

_KDLCPU = 1  # DLPack device type of host memory
_TORCH_OK = ("torch.float32", "torch.int64", "torch.bool")


def _is_torch_tensor(obj) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def _share(arr, op, what):
    """from_numpy(arr) with errors that name ``op`` and the original object."""
    try:
        return from_numpy(arr)
    except DTypeError:
        raise DTypeError(
            f"{op}(): can't share memory with {what} of dtype {arr.dtype}: rustorch stores "
            "float32, int64 and bool. Convert it first (e.g. .float() / .astype(np.float32)), "
            "which copies."
        ) from None
    except LayoutError:
        raise LayoutError(
            f"{op}(): can't share memory with {what} of shape {tuple(arr.shape)} and strides "
            f"{tuple(s // max(arr.itemsize, 1) for s in arr.strides)} (in elements): it is not "
            "C-contiguous. Make a contiguous copy first (.contiguous() / np.ascontiguousarray)."
        ) from None


def from_torch(t) -> Tensor:
    """A rustorch tensor sharing ``t``'s memory (no copy): writes show up on both sides.

    ``t`` must be a dense, C-contiguous CPU torch tensor of dtype float32, int64 or bool that
    does not require grad (call ``t.detach()`` first: the result is not tracked by torch's
    autograd). Raises DTypeError / LayoutError / AutogradError otherwise.
    """
    if not _is_torch_tensor(t):
        raise DTypeError(f"from_torch(): expected a torch.Tensor, got {type(t).__name__}")
    desc = f"a torch tensor (shape {tuple(t.shape)}, dtype {t.dtype}, device {t.device})"
    if t.requires_grad:
        raise AutogradError(
            f"from_torch(): can't share {desc} that requires grad: the rustorch tensor would "
            "not be tracked by torch's autograd. Use rustorch.from_torch(t.detach())."
        )
    if t.device.type != "cpu":
        raise LayoutError(
            f"from_torch(): can't share {desc}: rustorch only addresses CPU memory. Move it "
            "first with t.cpu() (a copy)."
        )
    if t.layout is not _torch().strided:
        raise LayoutError(f"from_torch(): can't share {desc} with layout {t.layout}")
    if str(t.dtype) not in _TORCH_OK:
        raise DTypeError(
            f"from_torch(): can't share memory with {desc}: rustorch stores float32, int64 and "
            "bool. Convert it first (t.float(), t.long(), t.bool()), which copies."
        )
    if not t.is_contiguous():
        raise LayoutError(
            f"from_torch(): can't share {desc} with strides {t.stride()}: it is not "
            "C-contiguous (a transposed, permuted, expanded or sliced view). Use "
            "t.contiguous() (a copy)."
        )
    return _share(t.numpy(), "from_torch", "a torch tensor")


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("to_torch() needs torch: pip install torch") from None
    return torch


def to_torch(self):
    """A torch tensor sharing this tensor's memory (no copy): writes show up on both sides.

    Like ``numpy()``, refuses a tensor that requires grad (torch's autograd would not see our
    graph): call ``t.detach().to_torch()``.
    """
    if self._rg:
        raise AutogradError(
            "Can't call to_torch() on Tensor that requires grad. Use tensor.detach().to_torch() "
            "instead (the torch tensor shares memory but is not tracked by either autograd)."
        )
    return _torch().from_numpy(self._data)


def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """DLPack export (consumed by torch.from_dlpack, np.from_dlpack, jax.dlpack, ...).

    The capsule is produced by the storage's numpy array, so it shares our memory."""
    if self._rg:
        raise AutogradError(
            "Can't export a tensor that requires grad through DLPack; use tensor.detach()"
        )
    if stream is not None and stream != -1:
        raise BufferError("rustorch tensors live in CPU memory: __dlpack__ takes no stream")
    kw = {}
    if max_version is not None:
        kw["max_version"] = max_version
    if dl_device is not None:
        kw["dl_device"] = dl_device
    if copy is not None:
        kw["copy"] = copy
    return self._data.__dlpack__(**kw)


def __dlpack_device__(self):
    return (_KDLCPU, 0)


def from_dlpack(obj) -> Tensor:
    """A rustorch tensor sharing the memory of any DLPack producer (torch, numpy, JAX, ...).

    Same rules as ``from_torch``: CPU, C-contiguous, float32/int64/bool, not requiring grad.
    """
    if type(obj) is Tensor:
        return _wrap(obj._data)
    if _is_torch_tensor(obj):
        return from_torch(obj)
    if not hasattr(obj, "__dlpack__"):
        raise DTypeError(
            f"from_dlpack(): expected an object with __dlpack__ (a DLPack producer), got "
            f"{type(obj).__name__}"
        )
    dev = obj.__dlpack_device__() if hasattr(obj, "__dlpack_device__") else (_KDLCPU, 0)
    if int(dev[0]) != _KDLCPU:
        raise LayoutError(
            f"from_dlpack(): can't share memory on DLPack device {tuple(dev)}: rustorch only "
            "addresses CPU memory (device type 1). Copy it to the host first."
        )
    what = f"a {type(obj).__name__}"
    try:
        arr = np.from_dlpack(obj)
    except (BufferError, TypeError, ValueError, RuntimeError) as e:
        raise DTypeError(f"from_dlpack(): numpy can't import {what} through DLPack: {e}") from e
    return _share(arr, "from_dlpack", what)


__all__ = ["from_torch", "from_dlpack", "to_torch"]
