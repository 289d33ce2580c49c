"""Tensor creation: tensor, from_numpy, zeros/ones/full/empty (+ _like), arange, eye, random."""

from __future__ import annotations

import numbers
import threading

import numpy as np

from rustorch import _dtype
from rustorch._dtype import NP_BOOL, NP_F32, NP_I64
from rustorch._kernels import random as _rnd
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch._tensor import Tensor, _wrap
from rustorch.errors import DTypeError, LayoutError, ShapeError

_PY_DTYPES = {float: _dtype.float32, int: _dtype.int64, bool: _dtype.bool_}


def _resolve_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, _dtype.dtype):
        return dtype
    if dtype in _PY_DTYPES:
        return _PY_DTYPES[dtype]
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = name.replace("torch.", "").replace("rustorch.", "")
    table = {
        "float32": _dtype.float32,
        "float": _dtype.float32,
        "int64": _dtype.int64,
        "long": _dtype.int64,
        "bool": _dtype.bool_,
    }
    if name in table:
        return table[name]
    raise DTypeError(f"unsupported dtype {dtype!r}: rustorch stores float32, int64 and bool only")


def _to_array(data, op):
    """Any nested Python/numpy data -> a new C-contiguous array of one of our three dtypes."""
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, (list, tuple)) and data and any(isinstance(x, Tensor) for x in data):
        data = [x._data if isinstance(x, Tensor) else x for x in data]
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ShapeError(f"{op}(): expected a rectangular (non-ragged) sequence: {e}") from None
    kind = arr.dtype.kind
    if kind == "f":
        with np.errstate(over="ignore"):  # beyond float32 -> inf, like torch
            arr = arr.astype(NP_F32, copy=False)
    elif kind in "iu":
        arr = arr.astype(NP_I64, copy=False)
    elif kind == "b":
        pass
    elif arr.size == 0 and kind in "O":
        arr = arr.astype(NP_F32)
    else:
        raise DTypeError(
            f"{op}(): could not convert data of dtype {arr.dtype} to a tensor "
            "(rustorch stores float32, int64 and bool)"
        )
    if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
        arr = np.array(arr, order="C")
    return arr


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data (floats -> float32, ints -> int64, bools -> bool)."""
    _device(device)
    arr = _to_array(data, "tensor")
    dt = _resolve_dtype(dtype)
    if dt is not None and arr.dtype is not dt.np:
        out = np.empty(arr.shape, dt.np)
        _ew.cast(arr, out)
        arr = out
    if arr.dtype is NP_F32 and not arr.flags.writeable:
        arr = arr.copy()
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


as_tensor = tensor


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing arr's memory (no copy). arr must be C-contiguous float32/int64/bool."""
    if not isinstance(arr, np.ndarray):
        raise DTypeError(f"from_numpy(): expected np.ndarray (got {type(arr).__name__})")
    dt = arr.dtype
    if dt not in (NP_F32, NP_I64, NP_BOOL) or not dt.isnative:
        raise DTypeError(
            f"from_numpy(): can't share memory with a numpy array of dtype {dt}: rustorch "
            "stores float32, int64 and bool. Convert first, e.g. arr.astype(np.float32), or "
            "use rustorch.tensor(arr) to copy."
        )
    if not arr.flags.c_contiguous:
        raise LayoutError(
            f"from_numpy(): the array (shape {arr.shape}, strides {arr.strides}) is not "
            "C-contiguous, so its memory can't be shared. Pass np.ascontiguousarray(arr) "
            "(a copy) or use rustorch.tensor(arr)."
        )
    if not arr.flags.aligned:
        raise LayoutError("from_numpy(): the array is not aligned; pass arr.copy()")
    # canonical dtype objects (our ops compare dtypes by identity)
    view = arr.view(_dtype.FROM_NP[dt].np) if dt is not _dtype.FROM_NP[dt].np else arr
    return _wrap(view)


def _device(device):
    if device is not None and str(device) != "cpu":
        raise DTypeError(f"rustorch only supports the cpu device, got {device!r}")


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise DTypeError(f"{op}(): size must be a tuple of ints, got {size!r}")
        if s < 0:
            raise ShapeError(
                f"{op}(): Trying to create tensor with negative dimension {s}: {list(size)}"
            )
        out.append(int(s))
    return tuple(out)


def _finish(arr, requires_grad):
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    _device(device)
    dt = _resolve_dtype(dtype) or _dtype.float32
    return _finish(np.empty(_size(size, "empty"), dt.np), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    _device(device)
    dt = _resolve_dtype(dtype) or _dtype.float32
    return _finish(np.zeros(_size(size, "zeros"), dt.np), requires_grad)


def _filled(shape, value, dt):
    arr = np.empty(shape, dt.np)
    if arr.size:
        if dt is _dtype.bool_:
            arr.view(np.uint8).fill(bool(value))
        elif dt is _dtype.int64:
            from rustorch.ops.pointwise import i64

            _ew.unary(13, arr, arr, i0=i64(value, "full"))
        else:
            _ew.unary(13, arr, arr, f0=float(value))
    return arr


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    _device(device)
    dt = _resolve_dtype(dtype) or _dtype.float32
    return _finish(_filled(_size(size, "ones"), 1, dt), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape size filled with fill_value (dtype inferred from the value like torch)."""
    _device(device)
    dt = _resolve_dtype(dtype)
    if dt is None:
        dt = (
            _dtype.bool_
            if isinstance(fill_value, bool)
            else _dtype.int64
            if isinstance(fill_value, numbers.Integral)
            else _dtype.float32
        )
    size = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    return _finish(_filled(_size(size, "full"), fill_value, dt), requires_grad)


def _like(t, dtype):
    if not isinstance(t, Tensor):
        raise DTypeError(f"expected a Tensor, got {type(t).__name__}")
    return t._data.shape, (_resolve_dtype(dtype) or t.dtype)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    s, dt = _like(input, dtype)
    return _finish(np.zeros(s, dt.np), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    s, dt = _like(input, dtype)
    return _finish(_filled(s, 1, dt), requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    s, dt = _like(input, dtype)
    return _finish(_filled(s, fill_value, dt), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    s, dt = _like(input, dtype)
    return _finish(np.empty(s, dt.np), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from start to end (exclusive) by step; int64 when all arguments are ints."""
    _device(device)
    if end is None:
        start, end = 0, start
    vals = [start, end, step]
    vals = [v.item() if isinstance(v, Tensor) else v for v in vals]
    start, end, step = vals
    if step == 0:
        raise ShapeError("arange(): step must be nonzero")
    if (end - start) / step < 0:
        raise ShapeError(
            f"arange(): upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    dt = _resolve_dtype(dtype) or (_dtype.int64 if is_int else _dtype.float32)
    if is_int:
        arr = np.arange(start, end, step, dtype=NP_I64)  # index generation, not data math
    else:
        n = max(0, int(np.ceil((end - start) / step)))
        arr = start + np.arange(n, dtype=np.float64) * step
    if arr.dtype is not dt.np:
        arr = arr.astype(dt.np)
    return _finish(np.ascontiguousarray(arr), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _device(device)
    dt = _resolve_dtype(dtype) or _dtype.float32
    arr = np.linspace(start, end, int(steps)).astype(dt.np)
    return _finish(arr, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _device(device)
    dt = _resolve_dtype(dtype) or _dtype.float32
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ShapeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    arr = np.zeros((n, m), dt.np)
    flat = arr.reshape(-1)
    k = min(n, m)
    if k:
        one = np.ones(k, dt.np)
        _ew.scatter(one, flat, 0, (k,), (m + 1,))
    return _finish(arr, requires_grad)


# ---- random numbers ---------------------------------------------------------------------------
class Generator:
    """Counter-based generator: state is (seed, offset); same seed, same numbers at any
    thread count."""

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self.manual_seed(seed)

    def manual_seed(self, seed: int):
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self.offset = 0
        return self

    def initial_seed(self) -> int:
        return self.seed

    def get_state(self):
        return (self.seed, self.offset)

    def set_state(self, state):
        self.seed, self.offset = int(state[0]), int(state[1])

    def _take(self, n: int) -> int:
        with self._lock:
            off = self.offset
            # round up so every draw starts on a fresh, aligned counter block
            self.offset += (n + 3) & ~3
            return off


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (same seed -> same numbers)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    import time

    s = time.time_ns() & 0xFFFFFFFFFFFF
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.seed


def _gen(generator):
    return default_generator if generator is None else generator


def _float_only(dtype, op):
    dt = _resolve_dtype(dtype)
    if dt is not None and dt is not _dtype.float32:
        raise DTypeError(f"{op}(): only float32 is supported, got dtype={dt}")


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) float32 from our counter-based generator (not torch's stream)."""
    _device(device)
    _float_only(dtype, "rand")
    arr = np.empty(_size(size, "rand"), NP_F32)
    g = _gen(generator)
    _rnd.uniform(arr, g.seed, g._take(arr.size), 0.0, 1.0)
    return _finish(arr, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal float32 from our counter-based generator (not torch's stream)."""
    _device(device)
    _float_only(dtype, "randn")
    arr = np.empty(_size(size, "randn"), NP_F32)
    g = _gen(generator)
    _rnd.normal(arr, g.seed, g._take(arr.size), 0.0, 1.0)
    return _finish(arr, requires_grad)


def rand_like(input, *, generator=None) -> Tensor:
    return rand(input.shape, generator=generator)


def randn_like(input, *, generator=None) -> Tensor:
    return randn(input.shape, generator=generator)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Uniform integers in [low, high) as int64."""
    _device(device)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), like torch
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise ShapeError("randint(): size is required")
    if high <= low:
        raise ShapeError(
            f"randint(): random_ expects 'from' to be less than 'to', but got "
            f"from={low} >= to={high}"
        )
    arr = np.empty(_size((size,) if isinstance(size, int) else tuple(size), "randint"), NP_I64)
    g = _gen(generator)
    _rnd.integers(arr, g.seed, g._take(arr.size), int(low), int(high - low))
    dt = _resolve_dtype(dtype)
    t = _wrap(arr)
    return t if dt is None else t.to(dt)


def randperm(n, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    _device(device)
    arr = np.empty((int(n),), NP_I64)
    g = _gen(generator)
    _rnd.permutation(arr, g.seed, g._take(arr.size))
    return _wrap(arr)
