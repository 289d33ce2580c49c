"""rustorch.save / rustorch.load: tensors and plain containers in a file that is only data.

Loading never executes code (there is no pickle): the file is a fixed prefix, a JSON header
describing the object tree, and the tensors' raw little-endian bytes.

Layout (all integers little-endian)::

    offset  size  field
    0       8     magic b"\\x89RTORCH\\n"
    8       4     format version (1)
    12      4     flags (0)
    16      8     header length H in bytes
    24      4     CRC-32 of the header
    28      4     reserved (0)
    32      H     header: UTF-8 JSON {"format": "rustorch", "version": 1,
                  "tensors": [{"dtype", "shape", "offset", "nbytes", "crc32",
                  "requires_grad"}, ...], "data_size": D, "root": node}
    32+H    D     tensor data, packed back to back in table order (offsets relative to here)

A node is JSON null/true/false/int/string/list (a Python list), a finite float, or an object
tagged by "t": {"t": "float", "v": "nan"|"inf"|"-inf"}, {"t": "tuple", "v": [...]},
{"t": "dict" | "odict", "k": [...], "v": [...]} (keys are nodes, so int keys survive),
{"t": "tensor", "i": index}. A tensor object saved twice is stored once and loads as one object.

Every check happens before anything is allocated: sizes are compared with the file's length,
tensor byte ranges must tile the data section exactly, and CRCs cover header and data, so a
truncated, corrupted or foreign file raises SerializationError and never allocates more memory
than the file's size.
"""

from __future__ import annotations

import io
import math
import os
import struct
from collections import OrderedDict

import numpy as np

from rustorch._tensor import Tensor, _wrap
from rustorch.errors import SerializationError

MAGIC = b"\x89RTORCH\n"
VERSION = 1
_PREFIX = struct.Struct("<8sIIQII")  # magic, version, flags, header length, header crc, reserved
PREFIX_SIZE = _PREFIX.size  # 32
MAX_DEPTH = 200  # nesting limit for containers, on save and on load
_DTYPES = {"float32": np.dtype("<f4"), "int64": np.dtype("<i8"), "bool": np.dtype("|b1")}
_NAME_OF = {
    np.dtype(np.float32): "float32",
    np.dtype(np.int64): "int64",
    np.dtype(np.bool_): "bool",
}
_MAX_NDIM = 64


# ---- save -----------------------------------------------------------------------------------
def _array_of(obj):
    """A C-contiguous float32/int64/bool numpy array for a tensor-like obj, or None."""
    if isinstance(obj, Tensor):
        return obj._data, obj.requires_grad
    if isinstance(obj, np.ndarray):
        arr = obj
    else:
        from rustorch.nn.utils.convert import _is_torch_tensor, torch_to_numpy

        if not _is_torch_tensor(obj):
            return None
        arr = torch_to_numpy(obj)
        return np.ascontiguousarray(arr), bool(getattr(obj, "requires_grad", False))
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    elif kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    elif kind not in "fiub":
        raise SerializationError(
            f"save(): cannot store a numpy array of dtype {arr.dtype} "
            "(rustorch stores float32, int64 and bool)"
        )
    return np.ascontiguousarray(arr), False


class _Writer:
    def __init__(self):
        self.table = []  # header entries
        self.arrays = []  # arrays in table order
        self.index = {}  # id(obj) -> table index
        self.keep = []  # keeps converted objects alive so ids stay unique
        self.offset = 0
        self.active = set()  # ids of containers being encoded (cycle detection)

    def tensor(self, obj, arr, requires_grad):
        key = id(obj)
        if key in self.index:
            return {"t": "tensor", "i": self.index[key]}
        name = _NAME_OF[np.dtype(arr.dtype.type)]
        flat = arr.astype(_DTYPES[name], copy=False).reshape(-1).view(np.uint8)  # little-endian
        import zlib

        entry = {
            "dtype": name,
            "shape": list(arr.shape),
            "offset": self.offset,
            "nbytes": int(flat.size),
            "crc32": zlib.crc32(flat) & 0xFFFFFFFF,
            "requires_grad": bool(requires_grad),
        }
        self.offset += int(flat.size)
        self.index[key] = len(self.table)
        self.keep.append(obj)
        self.table.append(entry)
        self.arrays.append(flat)
        return {"t": "tensor", "i": self.index[key]}

    def node(self, obj, depth=0):
        if depth > MAX_DEPTH:
            raise SerializationError(f"save(): containers nested deeper than {MAX_DEPTH} levels")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"t": "float", "v": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, (np.bool_, np.integer, np.floating)):
            return self.node(obj.item(), depth)
        got = _array_of(obj)
        if got is not None:
            arr, rg = got
            return self.tensor(obj, arr, rg)
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise SerializationError("save(): the object contains a reference cycle")
            self.active.add(id(obj))
            try:
                if isinstance(obj, list):
                    return [self.node(v, depth + 1) for v in obj]
                if isinstance(obj, tuple):
                    return {"t": "tuple", "v": [self.node(v, depth + 1) for v in obj]}
                keys, vals = [], []
                for k, v in obj.items():
                    if not (k is None or isinstance(k, (bool, int, float, str, tuple))):
                        raise SerializationError(
                            f"save(): dict keys must be str, int, float, bool, None or tuples, "
                            f"got {type(k).__name__}"
                        )
                    keys.append(self.node(k, depth + 1))
                    vals.append(self.node(v, depth + 1))
                return {
                    "t": "odict" if isinstance(obj, OrderedDict) else "dict",
                    "k": keys,
                    "v": vals,
                }
            finally:
                self.active.discard(id(obj))
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = "; save obj.state_dict() instead"
        raise SerializationError(
            f"save(): cannot store an object of type {type(obj).__name__} (supported: tensors, "
            f"numpy arrays, dict/OrderedDict/list/tuple, str, int, float, bool, None){hint}"
        )


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Write obj (tensors, numpy arrays, torch tensors, and nested dict/OrderedDict/list/tuple of
    them and of str/int/float/bool/None) to a path or a binary file object.

    Numpy arrays and torch tensors are stored as rustorch tensors (floating -> float32,
    integer -> int64). torch's pickle arguments are accepted and ignored.
    """
    import json
    import zlib

    w = _Writer()
    try:
        root = w.node(obj)
    except RecursionError:
        raise SerializationError("save(): containers nested too deeply") from None
    header = {
        "format": "rustorch",
        "version": VERSION,
        "tensors": w.table,
        "data_size": w.offset,
        "root": root,
    }
    hb = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    prefix = _PREFIX.pack(MAGIC, VERSION, 0, len(hb), zlib.crc32(hb) & 0xFFFFFFFF, 0)

    def write(fh):
        fh.write(prefix)
        fh.write(hb)
        for flat in w.arrays:
            if flat.size:
                fh.write(memoryview(flat))

    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        tmp = path + ".tmp"
        try:
            with open(tmp, "wb") as fh:
                write(fh)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        write(f)


# ---- load -----------------------------------------------------------------------------------
def _bad(msg):
    return SerializationError(f"load(): {msg}")


def _foreign(head: bytes) -> str:
    if head[:4] == b"PK\x03\x04":
        return (
            "this is a zip archive (torch.save's format); rustorch.load never unpickles. Export "
            "it where torch is installed with rustorch.save(torch.load(path), new_path) or "
            "rustorch.nn.utils.state_dict_from_torch(...)"
        )
    if head[:1] == b"\x80" or head[:1] in (b"(", b"}", b"]"):
        return "this looks like a pickle file; rustorch.load never unpickles (it would run code)"
    if head[:6] == b"\x93NUMPY":
        return "this is a numpy .npy file; use numpy.load and rustorch.from_numpy"
    return "not a rustorch file (bad magic bytes)"


def _size_of(fh):
    """Bytes from the current position to the end (None if the stream cannot seek)."""
    try:
        pos = fh.tell()
        end = fh.seek(0, io.SEEK_END)
        fh.seek(pos)
        return end - pos
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _read_exact(fh, n, what):
    data = fh.read(n)
    if data is None or len(data) != n:
        raise _bad(f"truncated file: expected {n} bytes of {what}, got {len(data or b'')}")
    return data


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _check_table(table, data_size):
    if not isinstance(table, list):
        raise _bad("corrupted header: 'tensors' is not a list")
    pos = 0
    out = []
    for i, e in enumerate(table):
        if not isinstance(e, dict):
            raise _bad(f"corrupted header: tensor entry {i} is not an object")
        dt = e.get("dtype")
        if not isinstance(dt, str) or dt not in _DTYPES:  # a list/dict here is unhashable
            raise _bad(f"tensor {i}: dtype {dt!r} is not allowed (float32, int64, bool)")
        shape = e.get("shape")
        if (
            not isinstance(shape, list)
            or len(shape) > _MAX_NDIM
            or not all(_is_int(s) and s >= 0 for s in shape)
        ):
            raise _bad(f"tensor {i}: invalid shape {shape!r}")
        off, nb, crc = e.get("offset"), e.get("nbytes"), e.get("crc32")
        if not (_is_int(off) and _is_int(nb) and _is_int(crc)):
            raise _bad(f"tensor {i}: offset, nbytes and crc32 must be integers")
        numel = 1
        for s in shape:
            numel *= s
        if nb != numel * _DTYPES[dt].itemsize:
            raise _bad(
                f"tensor {i}: nbytes {nb} does not match shape {shape} of dtype {dt} "
                f"({numel * _DTYPES[dt].itemsize} bytes)"
            )
        if off != pos or off + nb > data_size:
            raise _bad(
                f"tensor {i}: byte range [{off}, {off + nb}) is outside the data section "
                f"(size {data_size}) or overlaps/skips another tensor"
            )
        pos = off + nb
        out.append((dt, tuple(shape), off, nb, crc, bool(e.get("requires_grad", False))))
    if pos != data_size:
        raise _bad(
            f"corrupted header: tensors cover {pos} bytes of a {data_size}-byte data section"
        )
    return out


class _Reader:
    def __init__(self, tensors):
        self.tensors = tensors

    def node(self, n, depth=0):
        if depth > MAX_DEPTH:
            raise _bad(f"containers nested deeper than {MAX_DEPTH} levels")
        if n is None or isinstance(n, (bool, int, str)):
            return n
        if isinstance(n, float):
            return n
        if isinstance(n, list):
            return [self.node(v, depth + 1) for v in n]
        if not isinstance(n, dict):
            raise _bad(f"corrupted header: unexpected node {type(n).__name__}")
        t = n.get("t")
        if t == "tensor":
            i = n.get("i")
            if not _is_int(i) or not 0 <= i < len(self.tensors):
                raise _bad(f"corrupted header: tensor reference {i!r} out of range")
            return self.tensors[i]
        if t == "float":
            v = n.get("v")
            if v not in ("nan", "inf", "-inf"):
                raise _bad(f"corrupted header: bad float {v!r}")
            return float(v)
        if t == "tuple":
            v = n.get("v")
            if not isinstance(v, list):
                raise _bad("corrupted header: tuple without items")
            return tuple(self.node(x, depth + 1) for x in v)
        if t in ("dict", "odict"):
            ks, vs = n.get("k"), n.get("v")
            if not isinstance(ks, list) or not isinstance(vs, list) or len(ks) != len(vs):
                raise _bad("corrupted header: dict keys and values do not pair up")
            d = OrderedDict() if t == "odict" else {}
            for k, v in zip(ks, vs):
                key = self.node(k, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise _bad(
                        f"corrupted header: unhashable dict key {type(key).__name__}"
                    ) from None
                d[key] = self.node(v, depth + 1)
            return d
        raise _bad(f"corrupted header: unknown node type {t!r}")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """Read an object written by ``rustorch.save`` from a path or a binary file object.

    Tensors come back as rustorch Tensors with their own storage. Anything that is not a
    complete, intact rustorch file raises SerializationError. torch's keyword arguments are
    accepted; ``map_location`` must be None or "cpu"."""
    if map_location is not None and str(map_location) != "cpu":
        raise SerializationError(f"load(): rustorch only supports the cpu, got {map_location!r}")
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as fh:
            return _load(fh)
    return _load(f)


def _load(fh):
    import json
    import zlib

    avail = _size_of(fh)
    if avail is None:  # a stream that cannot seek: its bytes are already in memory
        fh = io.BytesIO(fh.read())
        avail = _size_of(fh)
    if avail < PREFIX_SIZE:
        head = fh.read(avail) or b""
        if not head:
            raise _bad("empty file")
        if not MAGIC.startswith(head[:8]):
            raise _bad(_foreign(head))
        raise _bad(f"truncated file: {avail} bytes, shorter than the {PREFIX_SIZE}-byte prefix")
    prefix = _read_exact(fh, PREFIX_SIZE, "prefix")
    magic, version, flags, hlen, hcrc, reserved = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise _bad(_foreign(prefix))
    if version != VERSION:
        raise _bad(f"unsupported format version {version} (this rustorch reads version {VERSION})")
    if flags != 0 or reserved != 0:
        raise _bad("corrupted prefix: flags/reserved fields are not zero")
    if hlen > avail - PREFIX_SIZE:
        raise _bad(
            f"truncated or corrupted file: header length {hlen} exceeds the "
            f"{avail - PREFIX_SIZE} bytes that follow the prefix"
        )
    hb = _read_exact(fh, hlen, "header")
    if zlib.crc32(hb) & 0xFFFFFFFF != hcrc:
        raise _bad("corrupted header: CRC-32 mismatch")
    try:
        header = json.loads(hb.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise _bad(f"corrupted header: {type(e).__name__}: {str(e)[:200]}") from None
    if (
        not isinstance(header, dict)
        or header.get("format") != "rustorch"
        or header.get("version") != VERSION
    ):
        raise _bad("corrupted header: not a rustorch version-1 header")
    data_size = header.get("data_size")
    if not _is_int(data_size) or data_size < 0:
        raise _bad("corrupted header: bad data_size")
    remaining = avail - PREFIX_SIZE - hlen
    if data_size > remaining:
        raise _bad(
            f"truncated file: the data section needs {data_size} bytes, {remaining} are present"
        )
    if data_size < remaining:
        raise _bad(f"corrupted file: {remaining - data_size} unexpected bytes after the data")
    table = _check_table(header.get("tensors"), data_size)
    tensors = []
    for i, (dt, shape, _off, nb, crc, rg) in enumerate(table):
        arr = np.empty(shape, _DTYPES[dt])
        if nb:
            raw = arr.reshape(-1).view(np.uint8)
            got = fh.readinto(memoryview(raw))
            if got != nb:
                raise _bad(f"truncated file: tensor {i} has {got} of its {nb} bytes")
            if zlib.crc32(raw) & 0xFFFFFFFF != crc:
                raise _bad(f"corrupted data: CRC-32 mismatch in tensor {i}")
            if dt == "bool" and raw.max() > 1:
                raise _bad(f"corrupted data: tensor {i} holds bool bytes other than 0 and 1")
        elif crc != 0:
            raise _bad(f"corrupted data: CRC-32 mismatch in tensor {i}")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if dt == "bool":
            arr = arr.view(np.bool_)
        arr = arr.view(_native(dt))
        t = _wrap(arr)
        if rg:
            t.requires_grad_(True)
        tensors.append(t)
    try:
        return _Reader(tensors).node(header.get("root"))
    except RecursionError:
        raise _bad("containers nested too deeply") from None


def _native(dt):
    from rustorch._dtype import NP_BOOL, NP_F32, NP_I64

    return {"float32": NP_F32, "int64": NP_I64, "bool": NP_BOOL}[dt]


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


__all__ = ["save", "load", "SerializationError"]
