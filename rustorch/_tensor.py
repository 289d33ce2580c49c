"""The Tensor: one contiguous numpy buffer + autograd fields.

Storage is always C-contiguous, so a tensor's strides are implied by its shape. Ops that would
produce a strided view in torch (transpose, permute, expand, slicing) produce a contiguous copy
here; reshape/view/flatten/squeeze/unsqueeze share storage. Op methods (``add``, ``sum``,
``__add__`` ...) are attached by ``rustorch.ops``.
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

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from rustorch._repr import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

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


def _contig_strides(shape):
    st = []
    acc = 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)  # like torch: a zero-size dim does not zero the outer strides
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


_new = object.__new__


def _wrap(arr, grad_fn=None):
    """A Tensor over ``arr`` (no copy); with grad_fn it is a non-leaf that requires grad."""
    t = _new(Tensor)
    t._data = arr
    t.grad = None
    t.grad_fn = grad_fn
    t._rg = grad_fn is not None
    return t
