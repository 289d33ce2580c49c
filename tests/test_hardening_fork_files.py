"""Hardening: repeated fork cycles after multi-threaded kernels, and randomly mutated files.

Fork: each cycle runs OpenMP kernels in the parent, then forks children (multiprocessing's fork
start method and a bare os.fork) that run kernels; none may hang or crash. Files: thousands of
random mutations of a valid checkpoint (multi-byte flips, splices, header edits) must each load
to an equal object or raise SerializationError, never another exception.
"""

import io
import json
import multiprocessing as mp
import os
import random
import struct
import sys
import zlib

import numpy as np
import pytest

import rustorch as rt
from rustorch.errors import SerializationError

FORK_CYCLES = 25


def _kernels(seed):
    rt.manual_seed(seed)
    a = rt.rand(200_000)
    m = rt.rand(96, 128)
    return float((a.exp() * a).sum()), float((m @ m.t()).sum()), rt.get_num_threads()


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_fork_cycles_after_parallel_kernels():
    prev = rt.get_num_threads()
    rt.set_num_threads(2)
    ctx = mp.get_context("fork")
    try:
        for cycle in range(FORK_CYCLES):
            expected = _kernels(cycle)[:2]  # parent runs multi-threaded first
            with ctx.Pool(2) as pool:
                res = pool.map_async(_kernels, [cycle, cycle]).get(timeout=60)
            for s, p, nthreads in res:
                assert nthreads == 1
                np.testing.assert_allclose([s, p], expected, rtol=1e-5)
            pid = os.fork()  # a bare fork too, child exits with status 0 only if all is well
            if pid == 0:  # pragma: no cover - child
                try:
                    s, p, n = _kernels(cycle)
                    ok = n == 1 and abs(s - expected[0]) <= 1e-5 * abs(expected[0])
                finally:
                    os._exit(0 if ok else 1)
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (cycle, status)
            assert rt.get_num_threads() == 2  # the parent keeps its threads
    finally:
        rt.set_num_threads(prev)
    print(f"\nfork cycles survived: {FORK_CYCLES} (x 3 children each)")


# ---- mutated files ------------------------------------------------------------------------------
MUTATIONS = 10_000


def _valid_bytes():
    rt.manual_seed(0)
    obj = {
        "w": rt.randn(3, 4),
        "i": rt.arange(5),
        "b": rt.tensor([True, False, True]),
        "meta": {"lr": 0.1, "k": [1, 2, (3, "x")], "none": None},
    }
    buf = io.BytesIO()
    rt.save(obj, buf)
    return obj, buf.getvalue()


def _mutate(rng, data):
    b = bytearray(data)
    k = rng.randrange(6)
    if k == 0:  # flip several bytes
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= rng.randrange(1, 256)
    elif k == 1:  # delete a range
        i = rng.randrange(len(b))
        del b[i : i + rng.randint(1, 64)]
    elif k == 2:  # duplicate a range somewhere else
        i, j = rng.randrange(len(b)), rng.randrange(len(b))
        b[j:j] = b[i : i + rng.randint(1, 64)]
    elif k == 3:  # overwrite a 4/8-byte field with a hostile integer
        i = rng.randrange(max(len(b) - 8, 1))
        v = rng.choice([0, 1, 2**31 - 1, 2**32 - 1, 2**63 - 1, 2**64 - 1])
        b[i : i + 8] = v.to_bytes(8, "little")
    elif k == 4:  # random bytes
        b = bytearray(rng.randbytes(rng.randint(0, 200)))
    else:  # edit the JSON header and fix its CRC so the edit reaches the parser
        hlen = struct.unpack_from("<Q", b, 16)[0]
        header = json.loads(bytes(b[32 : 32 + hlen]))
        t = header["tensors"][rng.randrange(len(header["tensors"]))]
        key = rng.choice(["shape", "offset", "nbytes", "dtype", "crc32"])
        t[key] = rng.choice([[2**40], [-1], [3, 4, 5], 2**62, -4, "float64", None, [], 1.5])
        hb = json.dumps(header).encode()
        b = bytearray(
            bytes(b[:16]) + struct.pack("<QII", len(hb), zlib.crc32(hb), 0) + hb + b[32 + hlen :]
        )
    return bytes(b)


def test_randomly_mutated_files_raise_our_error():
    obj, data = _valid_bytes()
    rng = random.Random(7)
    refused = loaded = 0
    for _ in range(MUTATIONS):
        bad = _mutate(rng, data)
        try:
            out = rt.load(io.BytesIO(bad))
        except SerializationError:
            refused += 1
            continue
        loaded += 1  # a mutation that kept the file valid (e.g. a no-op edit) loads intact
        assert set(out) == set(obj)
    assert refused > MUTATIONS * 0.9
    print(f"\nmutated files: {MUTATIONS} tried, {refused} refused, {loaded} loaded intact")
