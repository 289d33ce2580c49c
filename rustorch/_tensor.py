"""The Tensor: one contiguous numpy buffer + autograd fields.

Storage is always C-contiguous, so a tensor's strides are implied by its shape. Ops that would
produce a strided view in torch (transpose, permute, expand, slicing) produce a contiguous copy
here; reshape/view/flatten/squeeze/unsqueeze share storage.

Every op method and operator is a one-line call into the op's function in ``rustorch.ops``
(imported at the bottom of this file: the ops import Tensor). Written out in the class body,
not attached afterwards, so that the compiled build can make Tensor an extension type (see
_tensor.pxd): a tensor is then created and freed in about half the time.
"""

from __future__ import annotations

import numpy as np

from rustorch import _dtype
from rustorch._dtype import FROM_NP
from rustorch.autograd import graph
from rustorch.errors import AutogradError, DTypeError, IndexingError, ShapeError


class Tensor:
    """A float32 / int64 / bool tensor with torch's API.

    ``_data`` is the C-contiguous numpy array holding the elements; ``_rg`` is requires_grad.
    Each op method ``t.f(...)`` is ``rustorch.f(t, ...)``; the function carries the documentation
    (``help(rustorch.sum)``).
    """

    __slots__ = ("_data", "_rg", "grad", "grad_fn", "__weakref__")
    __array_priority__ = 1000  # numpy defers to our reflected operators

    def __init__(self, data=None, *, requires_grad: bool = False):
        from rustorch._creation import _to_array

        arr = _to_array([] if data is None else data, "Tensor")
        if arr.dtype is not _dtype.NP_F32:
            arr = arr.astype(np.float32)
        self._data = arr
        self._rg = False
        self.grad = None
        self.grad_fn = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- basic attributes -------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return FROM_NP[self._data.dtype]

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def T(self):
        return self.permute(*reversed(range(self._data.ndim)))

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype is _dtype.NP_F32

    def is_contiguous(self) -> bool:
        return True

    def stride(self, dim=None):
        st = _contig_strides(self._data.shape)  # storage is always C-contiguous
        return st if dim is None else st[_wrap_dim(dim, self._data.shape, "stride")]

    def size(self, dim=None):
        if dim is None:
            return self._data.shape
        return self._data.shape[_wrap_dim(dim, self._data.shape, "size")]

    # ---- autograd fields ----------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True):
        flag = bool(requires_grad)
        if self.grad_fn is not None:
            raise AutogradError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if flag and self._data.dtype is not _dtype.NP_F32:
            raise DTypeError(
                "only Tensors of floating point dtype can require gradients "
                f"(got a tensor of dtype {self.dtype}, shape {self.shape})"
            )
        self._rg = flag
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def retain_grad(self):
        raise AutogradError("retain_grad() is not supported by rustorch")

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) * gradient into every leaf's ``.grad``.

        The graph's saved tensors are freed afterwards unless ``retain_graph=True``;
        higher-order gradients (``create_graph``) are not supported.
        """
        if create_graph:
            raise AutogradError("create_graph=True (higher-order gradients) is not supported")
        if inputs is not None:
            raise AutogradError("backward(inputs=...) is not supported")
        if not self._rg:
            raise AutogradError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self._data.size != 1:
                raise AutogradError(
                    "grad can be implicitly created only for scalar outputs "
                    f"(backward() on a tensor of shape {self.shape}; pass gradient=)"
                )
            gradient = None  # the engine seeds a ones gradient
        else:
            if not isinstance(gradient, Tensor):
                from rustorch._creation import tensor

                gradient = tensor(gradient, dtype=_dtype.float32)
            if gradient.shape != self.shape:
                raise ShapeError(
                    f"backward(): gradient has shape {gradient.shape} but the output has "
                    f"shape {self.shape}"
                )
            if gradient._data.dtype is not _dtype.NP_F32:
                raise DTypeError(f"backward(): gradient must be float32, got {gradient.dtype}")
            gradient = gradient.detach()
        graph.backward(self, gradient, bool(retain_graph))

    # ---- conversion -----------------------------------------------------------------------------
    def detach(self):
        return _wrap(self._data)

    def detach_(self):
        if self.grad_fn is not None:
            self.grad_fn = None
        self._rg = False
        return self

    def numpy(self, *, force: bool = False):
        """The storage as a numpy array (zero-copy: writes show up in the tensor)."""
        if self._rg and not force:
            raise AutogradError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._data
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        if copy:
            return arr.copy()
        return arr

    def item(self):
        if self._data.size != 1:
            raise ShapeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(-1)[0].item()

    def tolist(self):
        return self._data.tolist()

    def contiguous(self, memory_format=None):
        return self

    def cpu(self):
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)`` casts; device arguments other than "cpu" are rejected."""
        dt = kwargs.pop("dtype", None)
        for a in args:
            if isinstance(a, _dtype.dtype) or a in (float, int, bool):
                dt = a
            elif str(a) != "cpu":
                raise DTypeError(f"to(): rustorch only supports the cpu device, got {a!r}")
        dev = kwargs.pop("device", None)
        if dev is not None and str(dev) != "cpu":
            raise DTypeError(f"to(): rustorch only supports the cpu device, got {dev!r}")
        return self if dt is None else self.type(dt)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ShapeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {self.shape})"
            )
        return bool(self._data.reshape(-1)[0])

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype is not _dtype.NP_I64 or self._data.size != 1:
            raise DTypeError(
                "only integer tensors of a single element can be converted to an index"
            )
        return int(self.item())

    def __hash__(self):
        return id(self)  # by identity, like torch (== is elementwise)

    def __repr__(self) -> str:
        from rustorch._repr import tensor_repr

        return tensor_repr(self)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return self.item().__format__(spec)
        return repr(self)

    def __reduce__(self):
        raise TypeError("rustorch tensors are not picklable; use rustorch.save (a later release)")

    def __deepcopy__(self, memo):
        t = _wrap(self._data.copy())
        t._rg = self._rg if self.grad_fn is None else False
        return t

    # ---- ops as methods (forward and backward live in rustorch.ops) --------------------------
    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if type(value) is not Tensor:
            raise TypeError("data must be set to a Tensor")
        self._data = value._data

    def add(self, other, *, alpha=1) -> Tensor:
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1) -> Tensor:
        return sub(self, other, alpha=alpha)

    def mul(self, other) -> Tensor:
        return mul(self, other)

    def div(self, other, *, rounding_mode=None) -> Tensor:
        return div(self, other, rounding_mode=rounding_mode)

    true_divide = div

    def pow(self, exponent) -> Tensor:
        return _pow(self, exponent)

    def neg(self) -> Tensor:
        return neg(self)

    negative = neg

    def exp(self) -> Tensor:
        return exp(self)

    def log(self) -> Tensor:
        return log(self)

    def sqrt(self) -> Tensor:
        return sqrt(self)

    def rsqrt(self) -> Tensor:
        return rsqrt(self)

    def abs(self) -> Tensor:
        return _abs(self)

    def tanh(self) -> Tensor:
        return tanh(self)

    def sigmoid(self) -> Tensor:
        return sigmoid(self)

    def relu(self) -> Tensor:
        return relu(self)

    def log1p(self) -> Tensor:
        return log1p(self)

    def expm1(self) -> Tensor:
        return expm1(self)

    def log2(self) -> Tensor:
        return log2(self)

    def log10(self) -> Tensor:
        return log10(self)

    def floor(self) -> Tensor:
        return floor(self)

    def ceil(self) -> Tensor:
        return ceil(self)

    def round(self, *, decimals=None) -> Tensor:
        return _round(self, decimals=decimals)

    def trunc(self) -> Tensor:
        return trunc(self)

    def frac(self) -> Tensor:
        return frac(self)

    def tan(self) -> Tensor:
        return tan(self)

    def asin(self) -> Tensor:
        return asin(self)

    def acos(self) -> Tensor:
        return acos(self)

    def atan(self) -> Tensor:
        return atan(self)

    def sinh(self) -> Tensor:
        return sinh(self)

    def cosh(self) -> Tensor:
        return cosh(self)

    def erf(self) -> Tensor:
        return erf(self)

    def isnan(self) -> Tensor:
        return isnan(self)

    def isinf(self) -> Tensor:
        return isinf(self)

    def isfinite(self) -> Tensor:
        return isfinite(self)

    def softmax(self, dim, dtype=None) -> Tensor:
        from rustorch.nn.functional import softmax

        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None) -> Tensor:
        from rustorch.nn.functional import log_softmax

        return log_softmax(self, dim, dtype=dtype)

    def clamp(self, min=None, max=None) -> Tensor:
        return clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min) -> Tensor:
        return clamp_min(self, min)

    def clamp_max(self, max) -> Tensor:
        return clamp_max(self, max)

    def maximum(self, other) -> Tensor:
        return maximum(self, other)

    def minimum(self, other) -> Tensor:
        return minimum(self, other)

    def sign(self) -> Tensor:
        return sign(self)

    def remainder(self, other) -> Tensor:
        return remainder(self, other)

    def floor_divide(self, other) -> Tensor:
        return floor_divide(self, other)

    def sin(self) -> Tensor:
        return sin(self)

    def cos(self) -> Tensor:
        return cos(self)

    def square(self) -> Tensor:
        return square(self)

    def reciprocal(self) -> Tensor:
        return reciprocal(self)

    def eq(self, other) -> Tensor:
        return eq(self, other)

    def ne(self, other) -> Tensor:
        return ne(self, other)

    def lt(self, other) -> Tensor:
        return lt(self, other)

    def le(self, other) -> Tensor:
        return le(self, other)

    def gt(self, other) -> Tensor:
        return gt(self, other)

    def ge(self, other) -> Tensor:
        return ge(self, other)

    def equal(self, other) -> bool:
        return equal(self, other)

    def logical_not(self) -> Tensor:
        return logical_not(self)

    def logical_and(self, other) -> Tensor:
        return logical_and(self, other)

    def logical_or(self, other) -> Tensor:
        return logical_or(self, other)

    def where(self, condition, other) -> Tensor:
        return where(condition, self, other)

    def sum(self, dim=None, keepdim=False, *, dtype=None) -> Tensor:
        return _sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None) -> Tensor:
        return mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        return _max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False) -> Tensor:
        return amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False) -> Tensor:
        return amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False) -> Tensor:
        return argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False) -> Tensor:
        return argmin(self, dim, keepdim)

    def any(self) -> Tensor:
        return _any(self)

    def all(self) -> Tensor:
        return _all(self)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
        return _var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
        return _std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False) -> Tensor:
        return _logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False) -> Tensor:
        return _norm(self, p, dim, keepdim)

    def masked_fill(self, mask, value) -> Tensor:
        return _masked_fill(self, mask, value)

    def masked_fill_(self, mask, value) -> Tensor:
        return _masked_fill_(self, mask, value)

    def outer(self, vec2) -> Tensor:
        return _outer(self, vec2)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
        return _isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return _allclose(self, other, rtol, atol, equal_nan)

    def tril(self, diagonal=0) -> Tensor:
        return _tril(self, diagonal)

    def triu(self, diagonal=0) -> Tensor:
        return _triu(self, diagonal)

    def flip(self, *dims) -> Tensor:
        return _flip(self, dims[0] if len(dims) == 1 else dims)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _new_zeros(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _new_ones(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _new_empty(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _new_full(
            self, size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad
        )

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _new_tensor(self, data, dtype=dtype, device=device, requires_grad=requires_grad)

    def type_as(self, other) -> Tensor:
        return _type_as(self, other)

    def reshape(self, *shape) -> Tensor:
        return reshape(self, *shape)

    view = reshape

    def view_as(self, other) -> Tensor:
        return view_as(self, other)

    def reshape_as(self, other) -> Tensor:
        return reshape_as(self, other)

    def flatten(self, start_dim=0, end_dim=-1) -> Tensor:
        return flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes) -> Tensor:
        return unflatten(self, dim, sizes)

    def unsqueeze(self, dim) -> Tensor:
        return unsqueeze(self, dim)

    def squeeze(self, dim=None) -> Tensor:
        return squeeze(self, dim)

    def permute(self, *dims) -> Tensor:
        return permute(self, *dims)

    def transpose(self, dim0, dim1) -> Tensor:
        return transpose(self, dim0, dim1)

    swapaxes = transpose

    def t(self) -> Tensor:
        return t(self)

    def expand(self, *sizes) -> Tensor:
        return expand(self, *sizes)

    def expand_as(self, other) -> Tensor:
        return expand_as(self, other)

    def broadcast_to(self, shape) -> Tensor:
        return broadcast_to(self, shape)

    def chunk(self, chunks, dim=0) -> tuple:
        return chunk(self, chunks, dim)

    def split(self, split_size_or_sections, dim=0) -> tuple:
        return split(self, split_size_or_sections, dim)

    def unbind(self, dim=0) -> tuple:
        return unbind(self, dim)

    def index_select(self, dim, index) -> Tensor:
        return index_select(self, dim, index)

    def matmul(self, other) -> Tensor:
        return matmul(self, other)

    def mm(self, mat2) -> Tensor:
        return mm(self, mat2)

    def bmm(self, mat2) -> Tensor:
        return bmm(self, mat2)

    def dot(self, other) -> Tensor:
        return dot(self, other)

    def mv(self, vec) -> Tensor:
        return mv(self, vec)

    def clone(self, *, memory_format=None) -> Tensor:
        return clone(self)

    def add_(self, other, *, alpha=1) -> Tensor:
        return add_(self, other, alpha=alpha)

    def sub_(self, other, *, alpha=1) -> Tensor:
        return sub_(self, other, alpha=alpha)

    def mul_(self, other) -> Tensor:
        return mul_(self, other)

    def div_(self, other) -> Tensor:
        return div_(self, other)

    def fill_(self, value) -> Tensor:
        return fill_(self, value)

    def zero_(self) -> Tensor:
        return zero_(self)

    def copy_(self, src) -> Tensor:
        return copy_(self, src)

    def clamp_(self, min=None, max=None) -> Tensor:
        return clamp_(self, min, max)

    def float(self) -> Tensor:
        return to_dtype(self, _dtype.float32)

    def long(self) -> Tensor:
        return to_dtype(self, _dtype.int64)

    def bool(self) -> Tensor:
        return to_dtype(self, _dtype.bool_)

    def type(self, dtype=None):
        """With no argument the type name ("rustorch.FloatTensor"); else a cast like ``to``."""
        if dtype is None:
            return "rustorch." + _TYPE_NAMES[self._data.dtype]
        from rustorch._creation import _resolve_dtype

        return to_dtype(self, _resolve_dtype(dtype))

    def to_torch(self):
        """A torch tensor sharing this tensor's memory (see rustorch._interop.to_torch)."""
        from rustorch._interop import to_torch

        return to_torch(self)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        from rustorch._interop import __dlpack__

        return __dlpack__(
            self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy
        )

    def __dlpack_device__(self) -> tuple:
        from rustorch._interop import __dlpack_device__

        return __dlpack_device__(self)

    # ---- operators ------------------------------------------------------------------------------
    def __add__(self, other) -> Tensor:
        return add(self, other)

    def __radd__(self, other) -> Tensor:
        return add(other, self)

    def __sub__(self, other) -> Tensor:
        return sub(self, other)

    def __rsub__(self, other) -> Tensor:
        return sub(other, self)

    def __mul__(self, other) -> Tensor:
        return mul(self, other)

    def __rmul__(self, other) -> Tensor:
        return mul(other, self)

    def __truediv__(self, other) -> Tensor:
        return div(self, other)

    def __rtruediv__(self, other) -> Tensor:
        return div(other, self)

    def __floordiv__(self, other) -> Tensor:
        return floor_divide(self, other)

    def __rfloordiv__(self, other) -> Tensor:
        return floor_divide(other, self)

    def __mod__(self, other) -> Tensor:
        return remainder(self, other)

    def __rmod__(self, other) -> Tensor:
        return remainder(other, self)

    def __pow__(self, exponent, modulo=None) -> Tensor:
        return _pow(self, exponent)

    def __rpow__(self, other, modulo=None) -> Tensor:
        return _pow(other, self)

    def __matmul__(self, other) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other) -> Tensor:
        return matmul(other, self)

    def __neg__(self) -> Tensor:
        return neg(self)

    def __abs__(self) -> Tensor:
        return _abs(self)

    def __pos__(self) -> Tensor:
        return self

    def __invert__(self) -> Tensor:
        return bitwise_not(self)

    def __and__(self, other) -> Tensor:
        return logical_and(self, other)

    def __or__(self, other) -> Tensor:
        return logical_or(self, other)

    def __eq__(self, other):
        return eq(self, other) if _operand(other) else NotImplemented

    def __ne__(self, other):
        return ne(self, other) if _operand(other) else NotImplemented

    def __lt__(self, other):
        return lt(self, other) if _operand(other) else NotImplemented

    def __le__(self, other):
        return le(self, other) if _operand(other) else NotImplemented

    def __gt__(self, other):
        return gt(self, other) if _operand(other) else NotImplemented

    def __ge__(self, other):
        return ge(self, other) if _operand(other) else NotImplemented

    def __iadd__(self, other) -> Tensor:
        return add_(self, other)

    def __isub__(self, other) -> Tensor:
        return sub_(self, other)

    def __imul__(self, other) -> Tensor:
        return mul_(self, other)

    def __itruediv__(self, other) -> Tensor:
        return div_(self, other)

    def __getitem__(self, idx) -> Tensor:
        return getitem(self, idx)

    def __setitem__(self, idx, value) -> None:
        setitem(self, idx, value)


def _contig_strides(shape):
    st = []
    acc = 1
    for s in reversed(shape):
        st.append(acc)
        acc *= s if s > 1 else 1  # like torch: a zero-size dim does not zero the outer strides
    return tuple(reversed(st))


def _wrap_dim(dim, ndim, op, shape=None):
    """dim wrapped into [0, ndim); ndim may be the input's shape (named in the error)."""
    if isinstance(ndim, tuple):
        shape, ndim = ndim, len(ndim)
    try:
        d = int(dim)
    except (TypeError, ValueError):
        raise DTypeError(f"{op}(): dim must be an int, got {dim!r}") from None
    n = ndim if ndim > 0 else 1
    if d < -n or d >= n:
        raise IndexingError(
            f"{op}(): Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})" + ("" if shape is None else f" for input of shape {tuple(shape)}")
        )
    return d + n if d < 0 else d


def _wrap(arr, grad_fn=None):
    """A Tensor over ``arr`` (no copy); with grad_fn it is a non-leaf that requires grad."""
    t = Tensor.__new__(Tensor)
    t._data = arr
    t.grad = None
    t.grad_fn = grad_fn
    t._rg = grad_fn is not None
    return t


_TYPE_NAMES = {
    _dtype.NP_F32: "FloatTensor",
    _dtype.NP_I64: "LongTensor",
    _dtype.NP_BOOL: "BoolTensor",
}


def _operand(x):
    """What a comparison operator accepts (anything else gets NotImplemented, like torch)."""
    return type(x) is Tensor or isinstance(x, (int, float, bool, np.number, np.bool_, np.ndarray))


# The op functions the methods above call; imported last because rustorch.ops imports Tensor.
# Names that would shadow a builtin in this module get a leading underscore.
from rustorch.ops import abs as _abs  # noqa: E402
from rustorch.ops import (  # noqa: E402
    acos,
    add,
    amax,
    amin,
    argmax,
    argmin,
    asin,
    atan,
    bmm,
    broadcast_to,
    ceil,
    chunk,
    clamp,
    clamp_max,
    clamp_min,
    clone,
    cos,
    cosh,
    div,
    dot,
    eq,
    equal,
    erf,
    exp,
    expand,
    expm1,
    flatten,
    floor,
    floor_divide,
    frac,
    ge,
    gt,
    index_select,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    lt,
    matmul,
    maximum,
    mean,
    minimum,
    mm,
    mul,
    mv,
    ne,
    neg,
    permute,
    reciprocal,
    relu,
    remainder,
    reshape,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    split,
    sqrt,
    square,
    squeeze,
    sub,
    t,
    tan,
    tanh,
    transpose,
    trunc,
    unbind,
    unflatten,
    unsqueeze,
    where,
)
from rustorch.ops import all as _all  # noqa: E402
from rustorch.ops import any as _any  # noqa: E402
from rustorch.ops import max as _max  # noqa: E402
from rustorch.ops import min as _min  # noqa: E402
from rustorch.ops import pow as _pow  # noqa: E402
from rustorch.ops import round as _round  # noqa: E402
from rustorch.ops import sum as _sum  # noqa: E402
from rustorch.ops.pointwise import (  # noqa: E402
    add_,
    bitwise_not,
    clamp_,
    copy_,
    div_,
    fill_,
    mul_,
    sub_,
    to_dtype,
    zero_,
)
from rustorch.ops.pointwise import allclose as _allclose  # noqa: E402
from rustorch.ops.pointwise import isclose as _isclose  # noqa: E402
from rustorch.ops.pointwise import masked_fill as _masked_fill  # noqa: E402
from rustorch.ops.pointwise import masked_fill_ as _masked_fill_  # noqa: E402
from rustorch.ops.pointwise import new_empty as _new_empty  # noqa: E402
from rustorch.ops.pointwise import new_full as _new_full  # noqa: E402
from rustorch.ops.pointwise import new_ones as _new_ones  # noqa: E402
from rustorch.ops.pointwise import new_tensor as _new_tensor  # noqa: E402
from rustorch.ops.pointwise import new_zeros as _new_zeros  # noqa: E402
from rustorch.ops.pointwise import outer as _outer  # noqa: E402
from rustorch.ops.pointwise import type_as as _type_as  # noqa: E402
from rustorch.ops.reduction import logsumexp as _logsumexp  # noqa: E402
from rustorch.ops.reduction import norm as _norm  # noqa: E402
from rustorch.ops.reduction import std as _std  # noqa: E402
from rustorch.ops.reduction import var as _var  # noqa: E402
from rustorch.ops.shape import expand_as, getitem, reshape_as, setitem, view_as  # noqa: E402
from rustorch.ops.shape import flip as _flip  # noqa: E402
from rustorch.ops.shape import tril as _tril  # noqa: E402
from rustorch.ops.shape import triu as _triu  # noqa: E402
