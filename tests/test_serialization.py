"""rustorch.save / rustorch.load: round trips, and hostile files that must raise our error."""

import io
import json
import math
import pickle
import struct
import tracemalloc
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import rustorch as rt
from rustorch import nn, optim
from rustorch.errors import SerializationError
from rustorch.serialization import MAGIC, PREFIX_SIZE


def _np(t):
    return t.detach().numpy()


def _roundtrip(obj):
    buf = io.BytesIO()
    rt.save(obj, buf)
    buf.seek(0)
    return rt.load(buf)


def _bytes(obj):
    buf = io.BytesIO()
    rt.save(obj, buf)
    return buf.getvalue()


def _load_bytes(data):
    return rt.load(io.BytesIO(data))


def _same(a, b):
    if isinstance(a, rt.Tensor):
        assert isinstance(b, rt.Tensor)
        assert a.shape == b.shape and a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        return
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_round_trip_nested_structures_and_dtypes():
    obj = {
        "f32": rt.randn(3, 4),
        "i64": rt.tensor([[1, -(2**62)], [3, 4]]),
        "bool": rt.tensor([True, False, True]),
        "scalar": rt.tensor(2.5),
        "empty": rt.zeros(0, 5),
        "empty_i": rt.zeros(2, 0, dtype=rt.int64),
        "grad": rt.ones(2, requires_grad=True),
        7: "int key",
        (1, "a"): [None, True, False, 0, -1, 2**70, 1.5, -0.0, math.inf, -math.inf, math.nan],
        "nested": OrderedDict([("b", (1, (2, [3, {"deep": rt.arange(3)}]))), ("a", [])]),
        "unicode": "héllo ✓ \x00 \n",
        1.5: None,
        None: {},
        True: (),
    }
    _same(obj, _roundtrip(obj))


def test_module_and_optimizer_state_dicts(tmp_path):
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    o = optim.Adam(m.parameters(), lr=0.01, amsgrad=True)
    m(rt.randn(5, 4)).sum().backward()
    o.step()
    path = tmp_path / "ck.rt"
    rt.save({"model": m.state_dict(), "optim": o.state_dict(), "epoch": 3}, path)
    ck = rt.load(str(path))
    assert isinstance(ck["model"], OrderedDict)
    m2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    m2.load_state_dict(ck["model"])
    x = rt.randn(2, 4)
    np.testing.assert_array_equal(_np(m2(x)), _np(m(x)))
    sd = o.state_dict()
    assert list(ck["optim"]["state"]) == [0, 1, 2, 3]  # int keys survive
    assert ck["optim"]["param_groups"] == sd["param_groups"]  # betas stays a tuple
    _same(ck["optim"]["state"][0]["step"], sd["state"][0]["step"])
    assert ck["epoch"] == 3
    assert not (tmp_path / "ck.rt.tmp").exists()


def test_numpy_inputs_and_shared_tensors():
    t = rt.ones(3)
    obj = {
        "a": t,
        "b": t,
        "np64": np.arange(4, dtype=np.float64),
        "np32": np.ones((2, 2), np.int32),
        "big_endian": np.arange(3, dtype=">f4"),
        "npb": np.array([True]),
        "s": np.float32(1.5),
        "i": np.int64(3),
        "flag": np.bool_(True),
    }
    out = _roundtrip(obj)
    assert out["a"] is out["b"]  # one object saved once, loaded once
    assert out["np64"].dtype == rt.float32 and _np(out["np64"]).tolist() == [0, 1, 2, 3]
    assert out["np32"].dtype == rt.int64
    assert _np(out["big_endian"]).tolist() == [0.0, 1.0, 2.0]
    assert out["npb"].dtype == rt.bool
    assert out["s"] == 1.5 and out["i"] == 3 and out["flag"] is True
    # loaded tensors own their storage and work with ops
    assert float((out["a"] + 1).sum()) == 6.0


def test_torch_objects_are_converted():
    torch = pytest.importorskip("torch")
    sd = {
        "w": torch.randn(3, 2, dtype=torch.float64),
        "n": torch.tensor(5),
        "h": torch.ones(2).half(),
    }
    out = _roundtrip(sd)
    assert (
        out["w"].dtype == rt.float32 and out["n"].dtype == rt.int64 and out["h"].dtype == rt.float32
    )
    np.testing.assert_allclose(_np(out["w"]), sd["w"].numpy().astype(np.float32))


@pytest.mark.parametrize(
    "obj",
    [nn.Linear(2, 2), {1, 2}, object(), {"k": lambda: 0}, {frozenset(): 1}, b"bytes"],
    ids=["module", "set", "object", "function", "frozenset_key", "bytes"],
)
def test_unsupported_objects_raise(obj):
    with pytest.raises(SerializationError):
        _bytes(obj)


def test_cycles_and_depth_on_save():
    a = []
    a.append(a)
    with pytest.raises(SerializationError, match="cycle"):
        _bytes(a)
    deep = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(SerializationError, match="deeper"):
        _bytes(deep)
    # the same (acyclic) list twice is fine
    shared = [1]
    assert _roundtrip([shared, shared]) == [[1], [1]]


def test_path_and_file_objects(tmp_path):
    p = tmp_path / "x.rt"
    rt.save([rt.ones(2)], p)
    with open(p, "rb") as f:
        assert _np(rt.load(f)[0]).tolist() == [1.0, 1.0]
    with pytest.raises(FileNotFoundError):
        rt.load(tmp_path / "missing.rt")
    with pytest.raises(SerializationError):
        rt.load(p, map_location="cuda")
    assert rt.load(p, map_location="cpu", weights_only=True)[0].shape == (2,)

    class Stream:  # a non-seekable stream
        def __init__(self, data):
            self.b = io.BytesIO(data)

        def read(self, n=-1):
            return self.b.read(n)

    assert _np(rt.load(Stream(p.read_bytes()))[0]).tolist() == [1.0, 1.0]


# ---- hostile files ---------------------------------------------------------------------------
def _sample():
    return {
        "w": rt.randn(4, 3),
        "i": rt.arange(3),
        "b": rt.tensor([True, False]),
        "meta": {"lr": 0.1, "k": [1, 2, (3,)]},
    }


def _craft(header, data=b"", *, magic=MAGIC, version=1, flags=0, hcrc=None, raw_header=None):
    hb = raw_header if raw_header is not None else json.dumps(header).encode()
    crc = zlib.crc32(hb) & 0xFFFFFFFF if hcrc is None else hcrc
    return struct.pack("<8sIIQII", magic, version, flags, len(hb), crc, 0) + hb + data


def _tensor_file(dtype="float32", shape=(2,), offset=0, nbytes=None, data=None, crc=None, **kw):
    item = {"float32": 4, "int64": 8, "bool": 1}.get(dtype, 4)
    n = math.prod(shape) * item
    data = bytes(n) if data is None else data
    entry = {
        "dtype": dtype,
        "shape": list(shape),
        "offset": offset,
        "nbytes": n if nbytes is None else nbytes,
        "crc32": zlib.crc32(data) if crc is None else crc,
        "requires_grad": False,
    }
    entry.update(kw)
    header = {
        "format": "rustorch",
        "version": 1,
        "tensors": [entry],
        "data_size": len(data),
        "root": {"t": "tensor", "i": 0},
    }
    return _craft(header, data)


def test_crafted_valid_file_loads():
    assert _np(_load_bytes(_tensor_file(data=struct.pack("<2f", 1, 2)))).tolist() == [1.0, 2.0]


def test_every_truncation_raises():
    data = _bytes(_sample())
    for n in list(range(0, len(data), 3)) + [len(data) - 1]:
        with pytest.raises(SerializationError):
            _load_bytes(data[:n])


def test_every_flipped_byte_raises():
    data = _bytes(_sample())
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x5A
        with pytest.raises(SerializationError):
            _load_bytes(bytes(bad))


def test_trailing_bytes_raise():
    with pytest.raises(SerializationError, match="unexpected bytes"):
        _load_bytes(_bytes([1]) + b"\x00")


@pytest.mark.parametrize(
    "data,match",
    [
        (b"", "empty"),
        (b"\x89RTO", "truncated"),
        (b"PK\x03\x04" + bytes(60), "zip archive"),
        (pickle.dumps({"a": 1}), "pickle"),
        (b"\x93NUMPY" + bytes(60), "numpy"),
        (b"hello world, this is not a checkpoint", "magic"),
        (_craft({}, magic=b"\x89RTORCH\r"), "magic"),
        (_craft({}, version=2), "version"),
        (_craft({}, flags=1), "flags"),
        (_craft({"format": "rustorch"}, hcrc=123), "CRC"),
        (_craft(None, raw_header=b"{not json"), "corrupted header"),
        (_craft(None, raw_header=b"\xff\xfe"), "corrupted header"),
        (_craft(None, raw_header=b'{"a": NaN}'), "corrupted header"),
        (_craft(None, raw_header=b"[" * 100000 + b"]" * 100000), "corrupted header"),
        (_craft({"format": "other", "version": 1}), "not a rustorch"),
        (_craft({"format": "rustorch", "version": 1, "data_size": -1}), "data_size"),
        (
            _craft({"format": "rustorch", "version": 1, "data_size": 10**15, "tensors": []}),
            "truncated",
        ),
        (
            _craft({"format": "rustorch", "version": 1, "data_size": 0, "tensors": {}}),
            "not a list",
        ),
        (
            _craft(
                {
                    "format": "rustorch",
                    "version": 1,
                    "data_size": 0,
                    "tensors": [],
                    "root": {"t": "tensor", "i": 0},
                }
            ),
            "out of range",
        ),
        (
            _craft(
                {
                    "format": "rustorch",
                    "version": 1,
                    "data_size": 0,
                    "tensors": [],
                    "root": {"t": "dict", "k": [[1]], "v": [2]},
                }
            ),
            "unhashable",
        ),
        (
            _craft(
                {
                    "format": "rustorch",
                    "version": 1,
                    "data_size": 0,
                    "tensors": [],
                    "root": {"t": "pickle", "v": "cos\nsystem\n"},
                }
            ),
            "unknown node",
        ),
        (
            _craft(
                {
                    "format": "rustorch",
                    "version": 1,
                    "data_size": 0,
                    "tensors": [],
                    "root": {"t": "float", "v": "1e400"},
                }
            ),
            "bad float",
        ),
        (_tensor_file(shape=(2**40,), data=bytes(8)), "outside"),
        (_tensor_file(shape=(2**40,), nbytes=2**42, data=bytes(8)), "outside"),
        (_tensor_file(shape=(2**31, 2**31, 2**31), data=b""), "outside"),
        (_tensor_file(shape=(2**40,), nbytes=8, data=bytes(8)), "nbytes"),
        (_tensor_file(shape=(2,), offset=4, data=bytes(8)), "outside"),
        (_tensor_file(shape=(2,), offset=-8, data=bytes(8)), "outside"),
        (_tensor_file(shape=(-2,), data=bytes(8)), "invalid shape"),
        (_tensor_file(shape=(2.0,), data=bytes(8)), "invalid shape"),
        (_tensor_file(shape=(1,) * 65, data=bytes(4)), "invalid shape"),
        (_tensor_file(dtype="float64", data=bytes(16)), "not allowed"),
        (_tensor_file(dtype="object", data=bytes(16)), "not allowed"),
        (_tensor_file(nbytes=4, data=bytes(8)), "nbytes"),
        (_tensor_file(data=bytes(8), crc=1), "CRC"),
        (_tensor_file(dtype="bool", shape=(2,), data=b"\x01\x02"), "bool bytes"),
        (_tensor_file(data=bytes(8), offset="0"), "integers"),
    ],
    ids=lambda v: v.replace(" ", "_") if isinstance(v, str) else None,
)
def test_hostile_files_raise_our_error(data, match):
    """Each file is refused with our error before any allocation that depends on it."""
    with pytest.raises(SerializationError, match=match):
        _load_bytes(data)


def test_overlapping_tensors_cannot_multiply_allocation():
    # many entries pointing at one byte range would allocate N times the file: refused
    data = bytes(1 << 16)
    entry = {
        "dtype": "float32",
        "shape": [1 << 14],
        "offset": 0,
        "nbytes": 1 << 16,
        "crc32": zlib.crc32(data),
    }
    header = {
        "format": "rustorch",
        "version": 1,
        "tensors": [entry] * 1000,
        "data_size": len(data),
        "root": [{"t": "tensor", "i": i} for i in range(1000)],
    }
    tracemalloc.start()
    try:
        with pytest.raises(SerializationError, match="overlaps"):
            _load_bytes(_craft(header, data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(data) + (1 << 20)


def test_huge_declared_sizes_allocate_nothing():
    tracemalloc.start()
    try:
        for data in (
            _tensor_file(shape=(1 << 35,), nbytes=1 << 37, data=bytes(16)),
            _craft({}, raw_header=b"x")[:16] + struct.pack("<Q", 1 << 60) + bytes(8),
        ):
            with pytest.raises(SerializationError):
                _load_bytes(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_prefix_size_is_documented():
    assert PREFIX_SIZE == 32 and len(MAGIC) == 8
    assert _bytes(None)[:8] == MAGIC
