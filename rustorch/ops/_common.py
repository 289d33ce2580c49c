"""Helpers every op module uses: wrapping results, recording backward nodes, error text."""

import numpy as np

from rustorch._dtype import NP_BOOL, NP_F32, NP_I64
from rustorch._tensor import Tensor, _wrap, _wrap_dim
from rustorch.autograd.grad_mode import _state
from rustorch.autograd.graph import Node
from rustorch.errors import DTypeError

_empty = np.empty
F32, I64, BOOL = NP_F32, NP_I64, NP_BOOL
_DTNAME = {F32: "float32", I64: "int64", BOOL: "bool"}


def grad_on() -> bool:
    try:
        return _state.enabled
    except AttributeError:
        _state.enabled = True
        return True


def edge(t):
    """What a backward node points at for input t: its grad_fn, the leaf itself, or None."""
    if type(t) is not Tensor:
        return None
    tt = t  # a Tensor: _common.pxd types this local, so the fields below are C reads
    if not tt._rg:
        return None
    f = tt.grad_fn
    return tt if f is None else f


def record(name, fn, inputs, saves=True):
    """A Node for an op whose inputs are `inputs` (Tensors or constants)."""
    n = len(inputs)
    if n == 1:
        return Node(name, fn, (edge(inputs[0]),), saves)
    if n == 2:
        return Node(name, fn, (edge(inputs[0]), edge(inputs[1])), saves)
    return Node(name, fn, tuple([edge(t) for t in inputs]), saves)


def desc(x) -> str:
    """'Tensor(shape=(2, 3), dtype=float32)' for error messages."""
    if type(x) is Tensor:
        return f"Tensor(shape={tuple(x._data.shape)}, dtype={_DTNAME[x._data.dtype]})"
    return f"{type(x).__name__}({x!r})"


def descs(*xs) -> str:
    return ", ".join(desc(x) for x in xs)


def need_tensor(x, op, arg="input"):
    if type(x) is not Tensor:
        raise DTypeError(f"{op}(): argument '{arg}' must be a Tensor, not {type(x).__name__}")
    return x


def need_float(t, op):
    if t._data.dtype is not F32:
        raise DTypeError(f"{op}(): expected a float32 tensor, got {desc(t)}")


def dims_arg(dim, ndim, op):
    """Normalise dim (None, int, tuple/list) to a sorted tuple of unique non-negative dims."""
    shape = ndim  # the input's shape (named in errors) or just its ndim
    ndim = len(shape) if isinstance(shape, tuple) else shape
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))  # torch: an empty dim list reduces over all dims
    if isinstance(dim, (tuple, list)):
        ds = sorted({_wrap_dim(d, shape, op) for d in dim})
        if len(ds) != len(dim):
            raise DTypeError(f"{op}(): dim {tuple(dim)} appears multiple times in the list of dims")
        return tuple(ds) if ndim else ()  # a 0-d tensor accepts dim 0/-1 and has none to reduce
    d = _wrap_dim(dim, shape, op)
    return (d,) if ndim else ()


__all__ = [
    "Tensor",
    "_wrap",
    "_wrap_dim",
    "_empty",
    "F32",
    "I64",
    "BOOL",
    "grad_on",
    "edge",
    "record",
    "desc",
    "descs",
    "need_tensor",
    "need_float",
    "dims_arg",
]
