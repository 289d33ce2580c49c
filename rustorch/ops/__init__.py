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
    acos,
    add,
    allclose,
    asin,
    atan,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    cosh,
    div,
    eq,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floor_divide,
    frac,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    lt,
    masked_fill,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    negative,
    not_equal,
    outer,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from rustorch.ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    std,
    sum,
    var,
)
from rustorch.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    flip,
    index_select,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    t,
    transpose,
    tril,
    triu,
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


_ONE = np.ones((), F32)  # the autograd engine seeds scalar outputs from it


from rustorch.autograd import graph as _graph  # noqa: E402

_graph._wrap = _wrap
_graph._ew = _ew
_graph._ONE = _ONE

__all__ = [n for n in dir() if not n.startswith("_")] + ["linalg", "reduction"]
