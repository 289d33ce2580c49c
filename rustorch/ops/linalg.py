"""matmul with torch's rules (1-D, 2-D, batched with broadcast batch dims), mm, bmm, dot.

All products go through one batched kernel that takes per-batch operand offsets, so broadcast
batch dims never copy an operand, and backward's A^T @ G and G @ B^T read the saved operands
transposed through the kernel's trans flags instead of materialising transposes.
"""

from math import prod

import numpy as np

from rustorch._kernels import _gemm
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch.errors import DTypeError, ShapeError
from rustorch.ops._common import F32, I64, Tensor, _empty, _wrap, desc, descs, grad_on, record


def _offsets(batch_in, batch_out, step):
    """Element offset of each output batch's operand matrix (broadcast batch dims repeat)."""
    from rustorch.ops.shape import expand_arr

    n_in = prod(batch_in)
    ids = np.arange(n_in, dtype=I64).reshape(batch_in)  # index storage, not math on data
    ids = expand_arr(ids, batch_out).reshape(-1)
    out = _empty(ids.shape, I64)
    _ew.binary(2, ids, np.array(step, dtype=I64), out)
    return out


def _product(ad, bd, a_batch, b_batch, batch, M, N, K, ta, tb, a_step, b_step):
    B = prod(batch)
    out = _empty(tuple(batch) + (M, N), F32)
    if out.size == 0:
        return out
    if K == 0:
        out.fill(0.0)  # storage init
        return out
    if a_batch == batch and b_batch == batch:
        ao = np.arange(0, B * a_step, a_step, dtype=I64) if a_step else np.zeros(B, dtype=I64)
        bo = np.arange(0, B * b_step, b_step, dtype=I64) if b_step else np.zeros(B, dtype=I64)
    else:
        ao = _offsets(a_batch, batch, a_step)
        bo = _offsets(b_batch, batch, b_step)
    _gemm.gemm(ad, bd, out, ao, bo, M, N, K, ta, tb)
    return out


def _check(a, b, op):
    if type(a) is not Tensor or type(b) is not Tensor:
        raise DTypeError(f"{op}(): expected two Tensors, got {descs(a, b)}")
    if a._data.dtype is not F32 or b._data.dtype is not F32:
        raise DTypeError(f"{op}(): rustorch matmul supports float32 only, got {descs(a, b)}")


def matmul(input, other) -> Tensor:
    """Matrix product with torch.matmul's rules, including broadcast batch dims."""
    _check(input, other, "matmul")
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul(): both arguments to matmul need to be at least 1D, but they are "
            f"{a.ndim}D and {b.ndim}D ({descs(input, other)})"
        )
    a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    M, K = a2.shape[-2:]
    K2, N = b2.shape[-2:]
    if K != K2:
        raise ShapeError(
            f"matmul(): shapes cannot be multiplied ({'x'.join(map(str, a.shape))} and "
            f"{'x'.join(map(str, b.shape))}): inner dimensions {K} and {K2} differ "
            f"({descs(input, other)})"
        )
    a_batch, b_batch = a2.shape[:-2], b2.shape[:-2]
    fold = b2.ndim == 2 and a2.ndim > 2  # (..., M, K) @ (K, N): one big 2-D product
    if fold:
        Mf = prod(a_batch) * M
        out = _product(a2, b2, (), (), (), Mf, N, K, False, False, 0, 0).reshape(a_batch + (M, N))
        batch = a_batch
    else:
        batch = _ew.broadcast_shape(a_batch, b_batch)
        if batch is None:
            raise ShapeError(
                f"matmul(): batch dimensions {a_batch} and {b_batch} are not broadcastable "
                f"({descs(input, other)})"
            )
        out = _product(a2, b2, a_batch, b_batch, batch, M, N, K, False, False, M * K, K * N)
    oshape = tuple(batch)
    if a.ndim > 1:
        oshape += (M,)
    if b.ndim > 1:
        oshape += (N,)
    r = _wrap(out.reshape(oshape))
    if (input._rg or other._rg) and grad_on():
        na, nb = input._rg, other._rg
        ac, bc = a2, b2
        full = out.shape

        def mm_bw(g):
            from rustorch.ops.reduction import sum_arr

            gd = g._data.reshape(full)
            ga = gb = None
            if fold:
                G = gd.reshape(-1, N)
                Mf = G.shape[0]
                if na:
                    ga = _product(G, bc, (), (), (), Mf, K, N, False, True, 0, 0)
                    ga = _wrap(ga.reshape(a.shape))
                if nb:
                    gb = _product(ac, G, (), (), (), K, N, Mf, True, False, 0, 0)
                    gb = _wrap(gb.reshape(b.shape))
                return (ga, gb)
            if na:
                # dA = G @ B^T, summed over batch dims that A was broadcast along
                x = _product(
                    gd, bc, tuple(batch), b_batch, batch, M, K, N, False, True, M * N, K * N
                )
                x = _sum_batch(x, a_batch, batch, sum_arr)
                ga = _wrap(x.reshape(a.shape))
            if nb:
                x = _product(
                    ac, gd, a_batch, tuple(batch), batch, K, N, M, True, False, M * K, M * N
                )
                x = _sum_batch(x, b_batch, batch, sum_arr)
                gb = _wrap(x.reshape(b.shape))
            return (ga, gb)

        r.grad_fn = record(
            "MmBackward0" if a.ndim == b.ndim == 2 else "MatmulBackward0", mm_bw, (input, other)
        )
        r._rg = True
    return r


def _sum_batch(x, own_batch, batch, sum_arr):
    if tuple(own_batch) == tuple(batch):
        return x
    nd = len(batch) - len(own_batch)
    dims = tuple(range(nd)) + tuple(
        i + nd for i, s in enumerate(own_batch) if s == 1 and batch[i + nd] != 1
    )
    return sum_arr(x, dims).reshape(tuple(own_batch) + x.shape[-2:])


def mm(input, mat2) -> Tensor:
    """2-D @ 2-D only."""
    _check(input, mat2, "mm")
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise ShapeError(f"mm(): expected 2-D tensors, got {descs(input, mat2)}")
    if input._data.shape[1] != mat2._data.shape[0]:
        s1, s2 = input._data.shape, mat2._data.shape
        raise ShapeError(
            f"mm(): mat1 and mat2 shapes cannot be multiplied ({s1[0]}x{s1[1]} and {s2[0]}x{s2[1]})"
        )
    return matmul(input, mat2)


def bmm(input, mat2) -> Tensor:
    """3-D @ 3-D with equal batch sizes."""
    _check(input, mat2, "bmm")
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise ShapeError(f"bmm(): batch1 and batch2 must be 3D tensors, got {descs(input, mat2)}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(
            f"bmm(): Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}] "
            f"({descs(input, mat2)})"
        )
    return matmul(input, mat2)


def dot(input, other) -> Tensor:
    _check(input, other, "dot")
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise ShapeError(f"dot(): 1D tensors expected, but got {descs(input, other)}")
    if input._data.shape != other._data.shape:
        raise ShapeError(
            f"dot(): inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src "
            f"[{other._data.shape[0]}] to have the same number of elements, but got "
            f"{input._data.shape[0]} and {other._data.shape[0]} elements respectively"
        )
    return matmul(input, other)


def mv(input, vec):
    _check(input, vec, "mv")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise ShapeError(f"mv(): expected a 2-D matrix and a 1-D vector, got {descs(input, vec)}")
    return matmul(input, vec)


__all__ = ["matmul", "mm", "bmm", "dot", "mv", "desc"]
