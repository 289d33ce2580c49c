"""All tensor ops, and their binding as Tensor methods and operators.

Each op's forward and backward live together in one of: pointwise.py (elementwise, comparisons,
where, casts, in-place updates), reduction.py, shape.py (views, copies, indexing, cat/stack),
linalg.py (matmul family).
"""

import numpy as np

from rustorch._dtype import bool_, float32, int64
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch.ops import linalg, pointwise, reduction, shape
from rustorch.ops._common import F32, Tensor, _wrap, grad_on, record
from rustorch.ops.linalg import bmm, dot, matmul, mm, mv
from rustorch.ops.pointwise import (
    abs,
    absolute,
    add,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    div,
    eq,
    equal,
    exp,
    floor_divide,
    ge,
    greater,
    greater_equal,
    gt,
    le,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    negative,
    not_equal,
    pow,
    reciprocal,
    relu,
    remainder,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tanh,
    true_divide,
    where,
)
from rustorch.ops.reduction import all, amax, amin, any, argmax, argmin, max, mean, min, sum
from rustorch.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    index_select,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view,
)

multiply, subtract, divide = mul, sub, div


def clone(input):
    """A copy of input with its own storage; gradients pass straight through."""
    r = _wrap(input._data.copy())  # storage copy
    if input._rg and grad_on():
        r.grad_fn = record("CloneBackward0", lambda g: (g,), (input,), saves=False)
        r._rg = True
    return r


# ---- helpers the autograd engine uses --------------------------------------------------------
_ONE = np.ones((), F32)


def ones_like_data(t):
    return _wrap(_ew.fill_like(_ONE, t._data.shape))


def clone_detached(g):
    return _wrap(g._data.copy())


def add_inplace(acc, g):
    _ew.binary(pointwise.ADD, acc._data, g._data, acc._data)


def add_grads(a, b):
    out = np.empty(a._data.shape, F32)
    _ew.binary(pointwise.ADD, a._data, b._data, out)
    return _wrap(out)


# ---- Tensor methods and operators ------------------------------------------------------------
def _method_type(self, dtype=None):
    from rustorch._creation import _resolve_dtype

    if dtype is None:
        return (
            "rustorch."
            + {float32: "FloatTensor", int64: "LongTensor", bool_: "BoolTensor"}[self.dtype]
        )
    return pointwise.to_dtype(self, _resolve_dtype(dtype))


def _operand(x):
    return type(x) is Tensor or isinstance(x, (int, float, bool, np.number, np.bool_, np.ndarray))


def _cmp_dunder(fn):
    def op(self, other):
        if not _operand(other):
            return NotImplemented
        return fn(self, other)

    return op


def _set_data(self, value):
    if type(value) is not Tensor:
        raise TypeError("data must be set to a Tensor")
    self._data = value._data


_METHODS = {
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "true_divide": div,
    "pow": pow,
    "neg": neg,
    "negative": neg,
    "exp": exp,
    "log": log,
    "sqrt": sqrt,
    "rsqrt": rsqrt,
    "abs": abs,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "relu": relu,
    "clamp": clamp,
    "clip": clamp,
    "clamp_min": clamp_min,
    "clamp_max": clamp_max,
    "maximum": maximum,
    "minimum": minimum,
    "sign": sign,
    "remainder": remainder,
    "floor_divide": floor_divide,
    "__mod__": remainder,
    "__rmod__": lambda self, o: remainder(o, self),
    "__floordiv__": floor_divide,
    "__rfloordiv__": lambda self, o: floor_divide(o, self),
    "sin": sin,
    "cos": cos,
    "square": square,
    "reciprocal": reciprocal,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "equal": equal,
    "logical_not": logical_not,
    "logical_and": logical_and,
    "logical_or": logical_or,
    "where": lambda self, condition, other: where(condition, self, other),
    "sum": sum,
    "mean": mean,
    "max": max,
    "min": min,
    "amax": amax,
    "amin": amin,
    "argmax": argmax,
    "argmin": argmin,
    "any": any,
    "all": all,
    "reshape": reshape,
    "view": view,
    "view_as": shape.view_as,
    "reshape_as": shape.reshape_as,
    "flatten": flatten,
    "unflatten": unflatten,
    "unsqueeze": unsqueeze,
    "squeeze": squeeze,
    "permute": permute,
    "transpose": transpose,
    "swapaxes": swapaxes,
    "t": t,
    "expand": expand,
    "expand_as": shape.expand_as,
    "broadcast_to": broadcast_to,
    "chunk": chunk,
    "split": split,
    "unbind": unbind,
    "index_select": index_select,
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
    "dot": dot,
    "mv": mv,
    "clone": clone,
    "add_": pointwise.add_,
    "sub_": pointwise.sub_,
    "mul_": pointwise.mul_,
    "div_": pointwise.div_,
    "fill_": pointwise.fill_,
    "zero_": pointwise.zero_,
    "copy_": pointwise.copy_,
    "clamp_": pointwise.clamp_,
    "float": lambda self: pointwise.to_dtype(self, float32),
    "long": lambda self: pointwise.to_dtype(self, int64),
    "bool": lambda self: pointwise.to_dtype(self, bool_),
    "type": _method_type,
    "__add__": add,
    "__radd__": lambda self, o: add(o, self),
    "__sub__": sub,
    "__rsub__": lambda self, o: sub(o, self),
    "__mul__": mul,
    "__rmul__": lambda self, o: mul(o, self),
    "__truediv__": div,
    "__rtruediv__": lambda self, o: div(o, self),
    "__pow__": pow,
    "__rpow__": lambda self, o: pow(o, self),
    "__matmul__": matmul,
    "__rmatmul__": lambda self, o: matmul(o, self),
    "__neg__": neg,
    "__abs__": abs,
    "__pos__": lambda self: self,
    "__invert__": pointwise.bitwise_not,
    "__and__": logical_and,
    "__or__": logical_or,
    "__eq__": _cmp_dunder(eq),
    "__ne__": _cmp_dunder(ne),
    "__lt__": _cmp_dunder(lt),
    "__le__": _cmp_dunder(le),
    "__gt__": _cmp_dunder(gt),
    "__ge__": _cmp_dunder(ge),
    "__iadd__": pointwise.add_,
    "__isub__": pointwise.sub_,
    "__imul__": pointwise.mul_,
    "__itruediv__": pointwise.div_,
    "__getitem__": shape.getitem,
    "__setitem__": shape.setitem,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.data = property(lambda self: self.detach(), _set_data)

from rustorch.autograd import graph as _graph  # noqa: E402

_graph.OPS = _graph._Ops
_graph._wrap = _wrap
_graph._ew = _ew
_graph._ONE = _ONE

__all__ = [n for n in dir() if not n.startswith("_")] + ["linalg", "reduction"]
