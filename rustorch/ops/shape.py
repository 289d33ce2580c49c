"""Shape ops and indexing.

reshape/view/flatten/squeeze/unsqueeze return tensors that share storage. transpose, permute,
t, expand, indexing and cat produce contiguous copies (rustorch storage is always contiguous),
through one strided-gather kernel; their backward scatters or sums the gradient back.
"""

import numbers
from math import prod

import numpy as np

from rustorch._kernels import indexing as _ik
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch.errors import DTypeError, IndexingError, ShapeError
from rustorch.ops._common import (
    BOOL,
    F32,
    I64,
    Tensor,
    _empty,
    _wrap,
    _wrap_dim,
    desc,
    grad_on,
    record,
)
from rustorch.ops.pointwise import cast_arr


def _strides(shape):
    st = [0] * len(shape)
    acc = 1
    for i in range(len(shape) - 1, -1, -1):
        st[i] = acc
        acc *= shape[i]
    return st


def gather_arr(src, offset, shape, strides):
    out = _empty(tuple(shape), src.dtype)
    if out.size:
        _ew.gather(src, offset, tuple(shape), tuple(strides), out)
    return out


def expand_arr(d, shape):
    """A contiguous copy of d broadcast to shape (d's shape must broadcast to it)."""
    shape = tuple(shape)
    if d.shape == shape:
        return d
    nd = len(shape) - d.ndim
    st = _strides(d.shape)
    strides = [0] * nd + [
        0 if (d.shape[i] == 1 and shape[i + nd] != 1) else st[i] for i in range(d.ndim)
    ]
    return gather_arr(d, 0, shape, strides)


def _shape_args(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise DTypeError(f"{op}(): shape must be a sequence of ints, got {shape!r}") from None


def _infer(shape, n, op, t):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise ShapeError(f"{op}(): only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise ShapeError(f"{op}(): invalid shape dimension in {list(shape)}")
    if neg:
        known = prod(s for s in shape if s != -1)
        if known == 0 or n % known:
            raise ShapeError(
                f"{op}(): shape '{list(shape)}' is invalid for input of size {n} ({desc(t)})"
            )
        shape = tuple(n // known if s == -1 else s for s in shape)
    if prod(shape) != n:
        raise ShapeError(
            f"{op}(): shape '{list(shape)}' is invalid for input of size {n} ({desc(t)})"
        )
    return shape


def _view(t, shape, name):
    r = _wrap(t._data.reshape(shape))
    if t._rg and grad_on():
        in_shape = t._data.shape
        r.grad_fn = record(name, lambda g: (_wrap(g._data.reshape(in_shape)),), (t,), saves=False)
        r._rg = True
    return r


def reshape(input, *shape) -> Tensor:
    """A tensor with the same elements in a new shape (shares storage; one dim may be -1)."""
    shape = _infer(_shape_args(shape, "reshape"), input._data.size, "reshape", input)
    if shape == input._data.shape:
        return _view(input, shape, "ViewBackward0")
    return _view(input, shape, "ViewBackward0")


view = reshape


def view_as(input, other):
    return reshape(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    d = input._data
    if d.ndim == 0:  # dims still checked: a 0-d tensor accepts only -1 and 0, like torch
        _wrap_dim(start_dim, d.shape, "flatten")
        _wrap_dim(end_dim, d.shape, "flatten")
        return _view(input, (1,), "ViewBackward0")
    s = _wrap_dim(start_dim, d.shape, "flatten")
    e = _wrap_dim(end_dim, d.shape, "flatten")
    if s > e:
        raise ShapeError("flatten(): start_dim cannot come after end_dim")
    shape = d.shape[:s] + (prod(d.shape[s : e + 1]),) + d.shape[e + 1 :]
    return _view(input, shape, "ViewBackward0")


def _need_dims(d, dim, op):
    if d.ndim == 0:
        raise IndexingError(
            f"{op}(): dimension specified as {dim} but tensor has no dimensions (input shape ())"
        )


def unflatten(input, dim, sizes):
    d = input._data
    _need_dims(d, dim, "unflatten")
    dd = _wrap_dim(dim, d.shape, "unflatten")
    sizes = _infer(tuple(sizes), d.shape[dd], "unflatten", input)
    return _view(input, d.shape[:dd] + sizes + d.shape[dd + 1 :], "ViewBackward0")


def unsqueeze(input, dim) -> Tensor:
    d = input._data
    dd = _wrap_dim(dim, d.ndim + 1, "unsqueeze", d.shape)
    return _view(input, d.shape[:dd] + (1,) + d.shape[dd:], "UnsqueezeBackward0")


def squeeze(input, dim=None) -> Tensor:
    d = input._data
    if dim is None:
        shape = tuple(s for s in d.shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        ds = {_wrap_dim(x, d.shape, "squeeze") for x in dims}  # 0-d: only -1 and 0 are valid
        shape = tuple(s for i, s in enumerate(d.shape) if not (i in ds and s == 1))
    return _view(input, shape, "SqueezeBackward0")


def permute(input, *dims) -> Tensor:
    """Reorder dims (a contiguous copy in rustorch)."""
    d = input._data
    dims = _shape_args(dims, "permute")
    if len(dims) != d.ndim:
        raise ShapeError(
            f"permute(): number of dims don't match in permute: got {len(dims)} dims for "
            f"{desc(input)}"
        )
    dims = tuple(_wrap_dim(x, d.shape, "permute") for x in dims)
    if len(set(dims)) != len(dims):
        raise ShapeError(f"permute(): repeated dim in {dims}")
    st = _strides(d.shape)
    out = gather_arr(d, 0, [d.shape[i] for i in dims], [st[i] for i in dims])
    r = _wrap(out)
    if input._rg and grad_on():
        inv = [0] * len(dims)
        for i, p in enumerate(dims):
            inv[p] = i

        def permute_bw(g):
            return (permute(g, *inv),)

        r.grad_fn = record("PermuteBackward0", permute_bw, (input,), saves=False)
        r._rg = True
    return r


def transpose(input, dim0, dim1) -> Tensor:
    d = input._data
    nd = d.ndim
    if nd == 0:
        _wrap_dim(dim0, (), "transpose")
        _wrap_dim(dim1, (), "transpose")
        return _view(input, (), "TransposeBackward0")
    a = _wrap_dim(dim0, d.shape, "transpose")
    b = _wrap_dim(dim1, d.shape, "transpose")
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    r = permute(input, *perm)
    if r.grad_fn is not None:
        r.grad_fn._name = "TransposeBackward0"
    return r


swapaxes = transpose


def t(input) -> Tensor:
    if input._data.ndim > 2:
        raise ShapeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D"
        )
    if input._data.ndim < 2:
        return _view(input, input._data.shape, "TBackward0")
    r = transpose(input, 0, 1)
    if r.grad_fn is not None:
        r.grad_fn._name = "TBackward0"
    return r


def expand(input, *sizes) -> Tensor:
    """Broadcast to sizes (-1 keeps a dim); a contiguous copy in rustorch."""
    d = input._data
    sizes = _shape_args(sizes, "expand")
    if len(sizes) < d.ndim:
        raise ShapeError(
            f"expand(): the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({d.ndim})"
        )
    nd = len(sizes) - d.ndim
    shape = []
    for i, s in enumerate(sizes):
        if i < nd:
            if s < 0:
                raise ShapeError("expand(): -1 not allowed in a leading, non-existing dimension")
            shape.append(s)
            continue
        cur = d.shape[i - nd]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise ShapeError(
                f"expand(): The expanded size of the tensor ({s}) must match the existing size "
                f"({cur}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                f"Tensor sizes: {list(d.shape)}"
            )
        shape.append(s)
    shape = tuple(shape)
    r = _wrap(expand_arr(d, shape))
    if input._rg and grad_on():
        in_shape = d.shape

        def expand_bw(g):
            from rustorch.ops.reduction import sum_to_shape

            return (sum_to_shape(g, in_shape),)

        r.grad_fn = record("ExpandBackward0", expand_bw, (input,), saves=False)
        r._rg = True
    return r


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def cat(tensors, dim=0) -> Tensor:
    """Concatenate along dim; dtypes promote and 1-D empty tensors are skipped, like torch."""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("cat(): expected a non-empty list of Tensors")
    for x in tensors:
        if type(x) is not Tensor:
            raise DTypeError(f"cat(): expected a sequence of Tensors, got {type(x).__name__}")
    keep = [not (x._data.ndim == 1 and x._data.shape[0] == 0) for x in tensors]
    if not any(keep):
        keep[0] = True
    parts = [x for x, k in zip(tensors, keep) if k]
    ref = parts[0]._data
    if ref.ndim == 0:
        raise ShapeError("cat(): zero-dimensional tensor cannot be concatenated")
    dd = _wrap_dim(dim, ref.shape, "cat")
    dt = (
        F32
        if any(x._data.dtype is F32 for x in parts)
        else (I64 if any(x._data.dtype is I64 for x in parts) else BOOL)
    )
    for i, x in enumerate(parts):
        s = x._data.shape
        if len(s) != ref.ndim or any(s[k] != ref.shape[k] for k in range(ref.ndim) if k != dd):
            raise ShapeError(
                f"cat(): Sizes of tensors must match except in dimension {dd}. Expected "
                f"{ref.shape} (ignoring dim {dd}) but got {s} for tensor number {i} in the list"
            )
    sizes = [x._data.shape[dd] for x in parts]
    shape = list(ref.shape)
    shape[dd] = sum(sizes)
    out = _empty(tuple(shape), dt)
    st = _strides(shape)
    off = 0
    for x, n in zip(parts, sizes):
        if n:
            xs = list(shape)
            xs[dd] = n
            _ew.scatter(cast_arr(x._data, dt), out, off * st[dd], tuple(xs), tuple(st))
        off += n
    r = _wrap(out)
    if dt is F32 and grad_on() and any(x._rg for x in tensors):
        needs = [x._rg for x in tensors]

        def cat_bw(g):
            res = []
            o = 0
            it = iter(sizes)
            for need, k in zip(needs, keep):
                if not k:  # a skipped 1-D empty input gets an empty gradient, like torch
                    res.append(_wrap(np.zeros((0,), F32)) if need else None)
                    continue
                n = next(it)
                if need:
                    xs = list(shape)
                    xs[dd] = n
                    res.append(_wrap(gather_arr(g._data, o * st[dd], xs, st)))
                else:
                    res.append(None)
                o += n
            return tuple(res)

        r.grad_fn = record("CatBackward0", cat_bw, tensors, saves=False)
        r._rg = True
    return r


concat = concatenate = cat


def stack(tensors, dim=0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack(): expected a non-empty list of Tensors")
    for x in tensors:
        if type(x) is not Tensor:
            raise DTypeError(f"stack(): expected a sequence of Tensors, got {type(x).__name__}")
    s0 = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != s0:
            raise ShapeError(
                f"stack(): stack expects each tensor to be equal size, but got {s0} at entry 0 "
                f"and {x._data.shape} at entry {i}"
            )
    dd = _wrap_dim(dim, len(s0) + 1, "stack", s0)
    return cat([unsqueeze(x, dd) for x in tensors], dd)


def chunk(input, chunks, dim=0):
    d = input._data
    _need_dims(d, dim, "chunk")
    dd = _wrap_dim(dim, d.shape, "chunk")
    if not isinstance(chunks, int) or chunks <= 0:
        raise ShapeError(f"chunk(): chunk expects `chunks` to be greater than 0, got {chunks!r}")
    n = d.shape[dd]
    if n == 0:  # torch returns `chunks` empty pieces
        return split(input, [0] * chunks, dd)
    step = -(-n // chunks)
    return split(input, step, dd)


def split(input, split_size_or_sections, dim=0):
    d = input._data
    _need_dims(d, dim, "split")
    dd = _wrap_dim(dim, d.shape, "split")
    n = d.shape[dd]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or (step == 0 and n):
            raise ShapeError(
                f"split(): split_size can only be 0 if dimension size is 0, but got split_size "
                f"{step} for dim {dd} of {desc(input)}"
            )
        bounds = [(i, min(i + step, n)) for i in (range(0, n, step) if n else ())] or [(0, 0)]
    else:
        secs = list(split_size_or_sections)
        if sum(secs) != n or any(s < 0 for s in secs):
            raise ShapeError(f"split(): sections {secs} do not sum to size {n} of dim {dd}")
        bounds, o = [], 0
        for s in secs:
            bounds.append((o, o + s))
            o += s
    idx = [slice(None)] * dd
    return tuple(input[tuple(idx + [slice(a, b)])] for a, b in bounds)


def unbind(input, dim=0):
    d = input._data
    _need_dims(d, dim, "unbind")
    dd = _wrap_dim(dim, d.shape, "unbind")
    idx = [slice(None)] * dd
    return tuple(input[tuple(idx + [i])] for i in range(d.shape[dd]))


# ---- indexing ---------------------------------------------------------------------------------
def _is_adv(x):
    return type(x) is Tensor or isinstance(x, (list, np.ndarray))


def _basic_plan(shape, items, op="index"):
    """(offset, out_shape, strides) of a basic index (ints, slices, ..., None) into `shape`."""
    n_real = sum(1 for x in items if x is not None and x is not Ellipsis)
    if sum(1 for x in items if x is Ellipsis) > 1:
        raise IndexingError(f"{op}: an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexingError(
            f"{op}: too many indices for tensor of dimension {len(shape)} (got {n_real})"
        )
    full = []
    for x in items:
        if x is Ellipsis:
            full.extend([slice(None)] * (len(shape) - n_real))
        else:
            full.append(x)
    st = _strides(shape)
    offset = 0
    out_shape, out_st = [], []
    d = 0
    for x in full:
        if x is None:
            out_shape.append(1)
            out_st.append(0)
            continue
        size = shape[d] if d < len(shape) else 1
        if isinstance(x, slice):
            if x.step is not None and int(x.step) <= 0:
                raise IndexingError(f"{op}: step must be greater than zero, got {x.step}")
            start, stop, step = x.indices(size)
            ln = len(range(start, stop, step))
            out_shape.append(ln)
            out_st.append(step * st[d])
            if ln:
                offset += start * st[d]
        else:
            i = int(x)
            if i < -size or i >= size:
                raise IndexingError(
                    f"{op}: index {i} is out of bounds for dimension {d} with size {size}"
                )
            offset += (i + size if i < 0 else i) * st[d]
        d += 1
    for k in range(d, len(shape)):
        out_shape.append(shape[k])
        out_st.append(st[k])
    return offset, tuple(out_shape), tuple(out_st)


def _norm_items(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for x in items:
        if x is None or x is Ellipsis or isinstance(x, slice) or _is_adv(x):
            out.append(x)
        elif isinstance(x, (bool, np.bool_)):
            raise IndexingError("index: bool scalars as indices are not supported")
        elif isinstance(x, numbers.Integral):
            out.append(int(x))
        else:
            raise IndexingError(
                f"index: only integers, slices (`:`), ellipsis (`...`), None and "
                f"int64/bool tensors are valid indices (got {type(x).__name__})"
            )
    return out


def _adv_index_arr(x, size, dim, op):
    """An advanced index item -> (flat int64 positions, result shape of that item, n dims used)."""
    if type(x) is Tensor:
        a = x._data
    else:
        a = np.asarray(x)
        if a.dtype.kind in "iu":
            a = a.astype(I64)
        elif a.dtype.kind == "b":
            a = a.astype(BOOL)
        elif a.size == 0:
            a = a.astype(I64)
        else:
            raise IndexingError(
                f"{op}: tensors used as indices must be long or bool, got {a.dtype}"
            )
    if a.dtype is BOOL:
        return a, None, a.ndim
    if a.dtype is not I64:
        raise IndexingError(
            f"{op}: tensors used as indices must be long, int or bool tensors, got {desc(x)}"
        )
    return a, a.shape, 1


def getitem(input, idx):
    """torch indexing: ints, slices, ..., None (copies) and one int64/bool tensor index."""
    items = _norm_items(idx)
    adv = [i for i, x in enumerate(items) if _is_adv(x)]
    if len(adv) > 1:
        raise IndexingError("index: at most one tensor/list index is supported by rustorch")
    d = input._data
    if not adv:
        offset, shape, strides = _basic_plan(d.shape, items)
        r = _wrap(gather_arr(d, offset, shape, strides))
        if input._rg and grad_on():
            in_shape = d.shape

            def index_bw(g):
                out = np.zeros(in_shape, dtype=F32)
                if g._data.size:
                    _ew.scatter(g._data, out, offset, shape, strides)
                return (_wrap(out),)

            r.grad_fn = record("IndexBackward0", index_bw, (input,), saves=False)
            r._rg = True
        return r
    # one advanced index: basic-index everything else with a full slice at its place, then
    # select along the dims it covers.
    p = adv[0]
    arr, res_shape, _ = _adv_index_arr(items[p], None, 0, "index")
    if arr.dtype is BOOL and arr.ndim == 0:
        raise IndexingError("index: 0-d bool indices are not supported")
    covered = arr.ndim if arr.dtype is BOOL else 1
    consumed = sum(
        covered if i == p else 1 for i, x in enumerate(items) if x is not None and x is not Ellipsis
    )
    if consumed > d.ndim:
        raise IndexingError(
            f"index: too many indices for tensor of dimension {d.ndim} (got {consumed})"
        )
    ell = d.ndim - consumed
    before = 0
    for x in items[:p]:
        if x is Ellipsis:
            before += ell
        elif x is None or isinstance(x, slice):
            before += 1
    new_items = list(items)
    new_items[p : p + 1] = [slice(None)] * covered
    base = getitem(input, tuple(new_items))
    bd = base._data.shape
    if arr.dtype is BOOL:
        if tuple(arr.shape) != tuple(bd[before : before + covered]):
            raise IndexingError(
                f"index: The shape of the mask {tuple(arr.shape)} does not match the shape of "
                f"the indexed tensor {tuple(bd)} at dims {before}..{before + covered - 1}"
            )
        flat = np.ascontiguousarray(arr).reshape(-1)
        cnt = _ik.count_nonzero_u8(flat)
        pos = _empty((cnt,), I64)
        _ik.nonzero_flat(flat, pos)
        merged = bd[:before] + (prod(bd[before : before + covered]),) + bd[before + covered :]
        base = reshape(base, merged)
        return index_select(base, before, _wrap(pos))
    r = index_select(base, before, _wrap(np.ascontiguousarray(arr).reshape(-1)))
    if len(res_shape) != 1:
        rs = r._data.shape
        r = reshape(r, rs[:before] + tuple(res_shape) + rs[before + 1 :])
    return r


def index_select(input, dim, index) -> Tensor:
    """Rows of input along dim picked by a 1-D int64 index (negative indices count from the end)."""
    d = input._data
    dd = _wrap_dim(dim, d.shape, "index_select")
    if type(index) is not Tensor or index._data.dtype is not I64:
        raise IndexingError(f"index_select(): index must be an int64 tensor, got {desc(index)}")
    idx = index._data.reshape(-1)
    size = d.shape[dd] if d.ndim else 1
    if idx.size and not _ik.index_in_range(idx, -size, size):
        raise IndexingError(
            f"index_select(): index out of range for dimension {dd} with size {size} "
            f"(input {desc(input)})"
        )
    idx = idx.copy()
    _ik.wrap_negative(idx, size)
    shape = d.shape
    outer = prod(shape[:dd])
    inner = prod(shape[dd + 1 :])
    oshape = shape[:dd] + (idx.size,) + shape[dd + 1 :]
    out = _empty(oshape, d.dtype)
    if out.size:
        _ik.index_select(d, idx, out, outer, size, inner)
    r = _wrap(out)
    if input._rg and grad_on():

        def index_select_bw(g):
            gi = np.zeros(shape, dtype=F32)
            if g._data.size:
                _ik.index_add(g._data, idx, gi, outer, size, inner)
            return (_wrap(gi),)

        r.grad_fn = record("IndexSelectBackward0", index_select_bw, (input,))
        r._rg = True
    return r


def setitem(input, idx, value):
    """In-place assignment (no autograd): basic indices, or one int64/bool index."""
    from rustorch.autograd.grad_mode import is_grad_enabled
    from rustorch.errors import AutogradError

    if input._rg and is_grad_enabled():
        raise AutogradError(
            "a leaf Variable that requires grad is being used in an in-place operation "
            "(index assignment); wrap it in rustorch.no_grad()"
        )
    d = input._data
    if type(value) is Tensor:
        v = cast_arr(value._data, d.dtype)
    else:
        from rustorch._creation import tensor

        v = cast_arr(tensor(value)._data, d.dtype)
    items = _norm_items(idx)
    adv = [i for i, x in enumerate(items) if _is_adv(x)]
    if not adv:
        offset, shape, strides = _basic_plan(d.shape, items, "setitem")
        _check_bcast(v.shape, shape)
        src = expand_arr(v, shape)
        if src.size:
            _ew.scatter(np.ascontiguousarray(src), d, offset, shape, strides)
        return
    if len(adv) > 1 or adv[0] != 0 or len(items) != 1:
        raise IndexingError("setitem: only x[index_tensor] = v is supported with tensor indices")
    arr, _, _ = _adv_index_arr(items[0], None, 0, "setitem")
    if d.ndim == 0 and arr.dtype is not BOOL:
        raise IndexingError("setitem: too many indices for tensor of dimension 0")
    if arr.dtype is BOOL:
        if tuple(arr.shape) != tuple(d.shape[: arr.ndim]):
            raise IndexingError(
                f"setitem: The shape of the mask {tuple(arr.shape)} does not match the shape "
                f"of the indexed tensor {tuple(d.shape)}"
            )
        flat = np.ascontiguousarray(arr).reshape(-1)
        pos = _empty((_ik.count_nonzero_u8(flat),), I64)
        _ik.nonzero_flat(flat, pos)
        tgt = d.reshape((prod(arr.shape),) + d.shape[arr.ndim :])
    else:
        pos = np.ascontiguousarray(arr).reshape(-1).copy()
        n = d.shape[0] if d.ndim else 1
        if pos.size and not _ik.index_in_range(pos, -n, n):
            raise IndexingError(f"setitem: index out of range for dimension 0 with size {n}")
        _ik.wrap_negative(pos, n)
        tgt = d
    sel_shape = (pos.size,) + tgt.shape[1:]
    _check_bcast(v.shape, sel_shape)
    src = np.ascontiguousarray(expand_arr(v, sel_shape))
    if src.size:
        _ik.index_put(src, pos, tgt, 1, tgt.shape[0], prod(tgt.shape[1:]))


def _check_bcast(vs, shape):
    from rustorch._kernels.elementwise import broadcast_shape

    if broadcast_shape(tuple(vs), tuple(shape)) != tuple(shape):
        raise ShapeError(
            f"setitem: shape mismatch: value of shape {tuple(vs)} cannot be "
            f"broadcast to indexing result of shape {tuple(shape)}"
        )


# ---- flip, tril / triu ------------------------------------------------------------------------
def flip(input, dims) -> Tensor:
    """A copy with the order of elements reversed along each of dims (int or sequence)."""
    if type(input) is not Tensor:
        raise DTypeError(f"flip(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    ds = (dims,) if isinstance(dims, numbers.Integral) else _shape_args(tuple(dims), "flip")
    wd = [_wrap_dim(x, d.shape, "flip") for x in ds]
    if len(set(wd)) != len(wd):
        raise ShapeError(
            f"flip(): dim {tuple(ds)} appears multiple times in the list of dims "
            f"(input {desc(input)})"
        )
    st = _strides(d.shape)
    offset = 0
    if d.ndim:
        for x in set(wd):
            offset += (d.shape[x] - 1) * st[x]
            st[x] = -st[x]
    r = _wrap(gather_arr(d, offset if d.size else 0, d.shape, st))
    if input._rg and grad_on():
        fd = tuple(wd)

        def flip_bw(g):
            return (flip(g, fd),)

        r.grad_fn = record("FlipBackward0", flip_bw, (input,), saves=False)
        r._rg = True
    return r


def _tri(input, diagonal, lower, op):
    if type(input) is not Tensor:
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    d = input._data
    if d.ndim < 2:
        raise ShapeError(f"{op}: input tensor must have at least 2 dimensions, got {desc(input)}")
    if isinstance(diagonal, (bool, np.bool_)) or not isinstance(diagonal, numbers.Integral):
        raise DTypeError(
            f"{op}(): argument 'diagonal' must be int, not {type(diagonal).__name__} "
            f"(input {desc(input)})"
        )
    from rustorch._creation import arange
    from rustorch.ops.pointwise import ge, le, sub, where

    rows, cols = d.shape[-2], d.shape[-1]
    diagonal = max(-rows - 1, min(cols + 1, int(diagonal)))  # beyond the matrix: all or nothing
    # keep[i, j]: j - i <= diagonal (tril) or j - i >= diagonal (triu)
    off = sub(reshape(arange(cols), (1, cols)), reshape(arange(rows), (rows, 1)))
    keep = le(off, diagonal) if lower else ge(off, diagonal)
    r = where(keep, input, _wrap(np.zeros((), d.dtype)))
    if r.grad_fn is not None:
        r.grad_fn._name = "TrilBackward0" if lower else "TriuBackward0"
    return r


def tril(input, diagonal=0) -> Tensor:
    """The lower triangle of the last two dims (j - i <= diagonal kept), the rest 0."""
    return _tri(input, diagonal, True, "tril")


def triu(input, diagonal=0) -> Tensor:
    """The upper triangle of the last two dims (j - i >= diagonal kept), the rest 0."""
    return _tri(input, diagonal, False, "triu")
