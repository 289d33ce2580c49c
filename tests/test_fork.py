"""Fork safety: kernels run in a child forked after the parent used OpenMP threads.

GNU libgomp's worker threads do not survive fork(), so a child that opened a multi-threaded
parallel region would hang. rustorch drops to one thread in a forked child.
"""

import multiprocessing as mp
import sys

import numpy as np
import pytest

import rustorch as rt

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")


def _work(seed):
    rt.manual_seed(seed)
    a = rt.rand(300_000)
    b = rt.rand(300_000)
    m = rt.rand(200, 300)
    s = float((a * b + a.exp()).sum())
    p = float((m @ m.t()).sum())
    return seed, rt.get_num_threads(), s, p


def test_fork_after_parallel_kernels_does_not_hang():
    prev = rt.get_num_threads()
    rt.set_num_threads(2)
    try:
        expected = {s: _work(s)[2:] for s in range(4)}  # parent uses OpenMP threads first
        ctx = mp.get_context("fork")
        with ctx.Pool(2) as pool:
            res = pool.map_async(_work, range(4)).get(timeout=120)
        for seed, nthreads, s, p in res:
            assert nthreads == 1
            np.testing.assert_allclose([s, p], expected[seed], rtol=1e-5)
        # and the parent still runs multi-threaded afterwards
        assert rt.get_num_threads() == 2
        _work(0)
    finally:
        rt.set_num_threads(prev)
