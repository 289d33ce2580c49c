"""Regression tests for the bugs the hardening fuzzers found (see docs/hardening.md)."""

import io
import json
import struct
import zlib

import pytest

import rustorch as rt
from rustorch.errors import SerializationError


@pytest.mark.parametrize(
    "fn",
    [
        lambda: rt.tensor([True]) - rt.tensor([1.0]),
        lambda: rt.tensor([1.0]) - rt.tensor([True]),
        lambda: rt.tensor([1]) - True,
        lambda: True - rt.tensor([1.0]),
        lambda: rt.rsub(rt.tensor([1.0]), rt.tensor([True])),
    ],
)
def test_sub_refuses_any_bool_operand_like_torch(fn):
    with pytest.raises(rt.DTypeError, match="bool"):
        fn()


def test_sub_of_numbers_still_works():
    assert (rt.tensor([3]) - 1).tolist() == [2]
    assert (2.5 - rt.tensor([1.0])).tolist() == [1.5]


@pytest.mark.parametrize(
    "fn", [lambda x: x.flatten(0, 1), lambda x: x.flatten(2), lambda x: x.squeeze(1)]
)
def test_zero_dim_dims_are_checked(fn):
    with pytest.raises(rt.IndexingError):
        fn(rt.tensor(1.0))
    x = rt.tensor(1.0)
    assert x.flatten(-1, 0).shape == (1,) and x.squeeze(0).shape == () and x.squeeze(-1).shape == ()


@pytest.mark.parametrize("chunks", [1, 2, 5])
def test_chunk_of_empty_dim_returns_chunks_pieces(chunks):
    out = rt.zeros(2, 0).chunk(chunks, 1)
    assert len(out) == chunks and all(t.shape == (2, 0) for t in out)


@pytest.mark.parametrize("dtype", [["float32"], {"a": 1}, 3, None])
def test_load_refuses_non_string_dtype(dtype):
    buf = io.BytesIO()
    rt.save({"w": rt.ones(2)}, buf)
    b = buf.getvalue()
    hlen = struct.unpack_from("<Q", b, 16)[0]
    header = json.loads(b[32 : 32 + hlen])
    header["tensors"][0]["dtype"] = dtype
    hb = json.dumps(header).encode()
    bad = b[:16] + struct.pack("<QII", len(hb), zlib.crc32(hb), 0) + hb + b[32 + hlen :]
    with pytest.raises(SerializationError, match="dtype"):
        rt.load(io.BytesIO(bad))
