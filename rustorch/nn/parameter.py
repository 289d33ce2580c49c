"""Parameter: a Tensor that a Module registers as a learnable parameter.

torch makes Parameter a Tensor subclass. rustorch's ops test ``type(x) is Tensor`` on their fast
paths (an exact type check is cheaper than isinstance and keeps foreign objects out of the
kernels), so a subclass would either be refused or take the slow conversion path in every op.
Instead ``Parameter(data)`` returns a plain Tensor that shares ``data``'s storage, has
``requires_grad`` set, and is remembered in a weak registry; ``isinstance(t, Parameter)`` asks
that registry. Ops therefore see an ordinary Tensor and stay on their fast paths, while Module's
attribute registration and user code can still tell parameters apart.

Differences from torch: ``type(p)`` is Tensor, ``repr(p)`` shows a tensor without torch's
"Parameter containing:" line, and a copy made by an op (``p * 1``, ``p.clone()``) is, as in
torch, not a Parameter.
"""

import weakref

import numpy as np

from rustorch._tensor import Tensor, _wrap

_registry: dict = {}  # id(tensor) -> weakref to it


def _mark(t):
    key = id(t)

    def forget(ref, key=key, reg=_registry):
        # drop the entry unless the id was reused by a newer parameter
        if reg.get(key) is ref:
            del reg[key]

    _registry[key] = weakref.ref(t, forget)
    return t


def is_parameter(obj) -> bool:
    """True if obj was created by ``Parameter(...)`` (or registered as one by a Module)."""
    r = _registry.get(id(obj))
    return r is not None and r() is obj


class _ParameterMeta(type):
    def __instancecheck__(cls, obj):
        return is_parameter(obj)


class Parameter(metaclass=_ParameterMeta):
    """``Parameter(data=None, requires_grad=True)``: a leaf Tensor sharing data's storage.

    Returns a rustorch Tensor (see the module docstring for why it is not a subclass);
    ``isinstance(p, Parameter)`` is True for it.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.empty((0,), np.float32)
        elif type(data) is Tensor:
            arr = data._data
        else:
            raise TypeError(
                f"Parameter(): expected a rustorch Tensor (or None), got {type(data).__name__}; "
                "wrap arrays with rustorch.tensor(...) first"
            )
        t = _wrap(arr)
        if requires_grad:
            t.requires_grad_(True)
        return _mark(t)


__all__ = ["Parameter", "is_parameter"]
