"""The GEMM kernel called directly, at every ISA level this CPU runs, against float64 numpy.

Operands sit inside NaN-filled buffers (and batches are separated by NaN gaps), so a read
outside an operand's range turns the result into NaN, and `out` is a view with sentinels on
both sides, so a stray write is caught too.
"""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from rustorch._kernels import _config, _gemm

EPS = float(np.finfo(np.float32).eps)


def _modules():
    mods = []
    for lv, name in enumerate(_gemm.LEVELS):
        if not _config.cpu_supports(lv):
            continue
        try:
            mods.append(pytest.param(_gemm.module_for(name), id=name))
        except ImportError:  # not built on this architecture
            continue
    return mods


MODULES = _modules()


@pytest.fixture(params=MODULES)
def mod(request):
    m = request.param
    before = m.get_num_threads()
    yield m
    m.set_num_threads(before)


def _case(rng, M, N, K, ta, tb, nb=1, a_batches=None, b_batches=None, gap=3):
    """Operands for nb products; a_batches / b_batches distinct matrices (broadcast < nb)."""
    na = nb if a_batches is None else a_batches
    nbb = nb if b_batches is None else b_batches
    sa, sb = M * K + gap, K * N + gap
    a = np.full(na * sa + 2 * gap, np.nan, dtype=np.float32)
    b = np.full(nbb * sb + 2 * gap, np.nan, dtype=np.float32)
    for t in range(na):
        a[gap + t * sa : gap + t * sa + M * K] = rng.standard_normal(M * K)
    for t in range(nbb):
        b[gap + t * sb : gap + t * sb + K * N] = rng.standard_normal(K * N)
    a_off = np.array([gap + (t % na) * sa for t in range(nb)], dtype=np.int64)
    b_off = np.array([gap + (t % nbb) * sb for t in range(nb)], dtype=np.int64)
    return a, b, a_off, b_off


def _reference(a, b, a_off, b_off, M, N, K, ta, tb):
    """float64 op(A_t) @ op(B_t) and |op(A_t)| @ |op(B_t)| (for the error bound)."""
    nb = len(a_off)
    ia = a_off[:, None] + np.arange(M * K)[None, :]
    ib = b_off[:, None] + np.arange(K * N)[None, :]
    A = a.astype(np.float64)[ia].reshape((nb, K, M) if ta else (nb, M, K))
    B = b.astype(np.float64)[ib].reshape((nb, N, K) if tb else (nb, K, N))
    if ta:
        A = A.transpose(0, 2, 1)
    if tb:
        B = B.transpose(0, 2, 1)
    return A @ B, np.abs(A) @ np.abs(B)


_CACHE = {}


def _prepared(M, N, K, ta, tb, nb, seed, a_batches=None, b_batches=None):
    """Operands and float64 reference, shared by every module and thread count."""
    key = (M, N, K, ta, tb, nb, seed, a_batches, b_batches)
    if key not in _CACHE:
        rng = np.random.default_rng(seed)
        a, b, a_off, b_off = _case(rng, M, N, K, ta, tb, nb, a_batches, b_batches)
        ref = _reference(a, b, a_off, b_off, M, N, K, ta, tb) if nb * M * N else (None, None)
        _CACHE[key] = (a, b, a_off, b_off) + ref
    return _CACHE[key]


def _run(mod, M, N, K, ta, tb, threads=1, nb=1, seed=0, **kw):
    a, b, a_off, b_off, ref, mag = _prepared(M, N, K, ta, tb, nb, seed, **kw)
    size = nb * M * N
    buf = np.full(size + 32, np.nan, dtype=np.float32)
    buf[:16] = buf[16 + size :] = 7.0
    out = buf[16 : 16 + size]
    mod.set_num_threads(threads)
    mod.gemm(a, b, out, a_off, b_off, M, N, K, ta, tb)
    assert np.all(buf[:16] == 7.0) and np.all(buf[16 + size :] == 7.0), "write out of range"
    got = out.reshape(nb, M, N)
    if size == 0:
        return
    assert np.all(np.isfinite(got)), "NaN in the result: read outside an operand"
    err = np.abs(got - ref)
    bound = (max(K, 1) + 2) * EPS * mag + 1e-30
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), (
        f"M={M} N={N} K={K} ta={ta} tb={tb} nb={nb} threads={threads}: "
        f"err {err[worst]:.3g} > bound {bound[worst]:.3g} at {worst}"
    )


TRANS = [(False, False), (True, False), (False, True), (True, True)]
ODD = [1, 2, 7, 15, 17, 33, 63, 255, 257]


@pytest.mark.parametrize("ta,tb", TRANS)
def test_odd_shapes(mod, ta, tb):
    ks = np.random.default_rng(1).choice(ODD, size=(len(ODD), 5))
    for i, M in enumerate(ODD):
        for j, N in enumerate((1, 2, 17, 33, 257)):
            _run(mod, M, N, int(ks[i, j]), ta, tb, seed=i)


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("threads", [1, 2])
def test_large_and_deep(mod, ta, tb, threads):
    # packed path (K blocking, several MC blocks), direct path, narrow and one-row products
    for M, N, K in [(1000, 300, 700), (100, 255, 4096), (1000, 33, 1000), (15, 1000, 1000)]:
        _run(mod, M, N, K, ta, tb, threads)


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("threads", [1, 2])
def test_vector_products(mod, ta, tb, threads):
    for M, N, K in [(1, 1000, 1000), (1000, 1, 1000), (1, 1, 1000), (1, 7, 3), (7, 1, 3)]:
        _run(mod, M, N, K, ta, tb, threads)


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("threads", [1, 2])
def test_batched(mod, ta, tb, threads):
    _run(mod, 32, 32, 32, ta, tb, threads, nb=64)
    _run(mod, 17, 33, 9, ta, tb, threads, nb=5)
    _run(mod, 130, 140, 600, ta, tb, threads, nb=3)


@pytest.mark.parametrize("threads", [1, 2])
def test_broadcast_offsets(mod, threads):
    # repeated offsets: one operand shared by every batch (and a 2-periodic one)
    for ta, tb in TRANS:
        _run(mod, 33, 17, 65, ta, tb, threads, nb=6, a_batches=1)
        _run(mod, 40, 300, 20, ta, tb, threads, nb=6, b_batches=2)
        _run(mod, 600, 64, 600, ta, tb, threads, nb=2, b_batches=1)


def test_zero_sizes(mod):
    for M, N, K in [(0, 5, 3), (5, 0, 3), (0, 0, 0), (4, 5, 0), (1, 1, 0), (300, 40, 0)]:
        for ta, tb in TRANS:
            _run(mod, M, N, K, ta, tb)
    # K == 0 overwrites out with zeros
    out = np.full(20, np.nan, dtype=np.float32)
    z = np.zeros(1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.float32)
    mod.gemm(empty, empty, out, z, z, 4, 5, 0, False, False)
    assert np.all(out == 0)
    # no batches at all
    mod.gemm(empty, empty, empty, z[:0], z[:0], 4, 5, 3, False, False)


def test_overwrites_out(mod):
    a = np.ones(6, dtype=np.float32)
    b = np.ones(6, dtype=np.float32)
    out = np.full(4, 123.0, dtype=np.float32)
    z = np.zeros(1, dtype=np.int64)
    mod.gemm(a, b, out, z, z, 2, 2, 3, False, False)
    np.testing.assert_array_equal(out, 3.0)


def test_isa_level_names(mod):
    assert mod.isa_level() in _gemm.LEVELS
    assert _gemm.isa_level() in _gemm.LEVELS


def test_forced_baseline_in_subprocess():
    code = textwrap.dedent(
        """
        import numpy as np
        from rustorch._kernels import _gemm
        assert _gemm.isa_level() == "baseline", _gemm.isa_level()
        rng = np.random.default_rng(0)
        a = rng.standard_normal((70, 50)).astype(np.float32)
        b = rng.standard_normal((50, 40)).astype(np.float32)
        out = np.empty((70, 40), np.float32)
        z = np.zeros(1, np.int64)
        _gemm.gemm(a, b, out, z, z, 70, 40, 50, False, False)
        ref = a.astype(np.float64) @ b.astype(np.float64)
        assert np.abs(out - ref).max() < 1e-4, np.abs(out - ref).max()
        print("ok", _gemm.isa_level())
        """
    )
    env = dict(os.environ, RUSTORCH_ISA="baseline")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok baseline" in r.stdout


def test_fork_child_does_not_hang():
    # libgomp cannot run a parallel region in a child forked after the parent ran one
    code = textwrap.dedent(
        """
        import multiprocessing as mp
        import numpy as np
        from rustorch._kernels import _gemm
        _gemm.set_num_threads(2)
        a = np.ones((300, 300), np.float32)
        z = np.zeros(1, np.int64)

        def work(_):
            out = np.empty((300, 300), np.float32)
            _gemm.gemm(a, a, out, z, z, 300, 300, 300, False, False)
            return float(out.sum())

        work(0)  # the parent's OpenMP team now exists
        with mp.get_context("fork").Pool(2) as pool:
            print(pool.map(work, range(2)))
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[27000000.0, 27000000.0]" in r.stdout


class _FakeConfig:
    def __init__(self, best):
        self.best = best

    def cpu_supports(self, level):
        return level <= self.best


def test_isa_request_falls_back_with_warning(monkeypatch):
    from rustorch._kernels import _dispatch

    monkeypatch.setattr(_dispatch, "_config", _FakeConfig(1))
    monkeypatch.setenv("RUSTORCH_ISA", "avx512")
    with pytest.warns(RuntimeWarning, match="supports at most avx2"):
        assert _dispatch._requested() == 1
    monkeypatch.setenv("RUSTORCH_ISA", "sse9")
    with pytest.warns(RuntimeWarning, match="not one of"):
        assert _dispatch._requested() == 1
    monkeypatch.setenv("RUSTORCH_ISA", "baseline")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _dispatch._requested() == 0
    monkeypatch.delenv("RUSTORCH_ISA")
    assert _dispatch._requested() == 1


def test_matches_torch_if_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 65, 129)).astype(np.float32)
    b = rng.standard_normal((4, 129, 31)).astype(np.float32)
    out = np.empty((4, 65, 31), np.float32)
    ao = np.arange(4, dtype=np.int64) * a[0].size
    bo = np.arange(4, dtype=np.int64) * b[0].size
    _gemm.gemm(a, b, out, ao, bo, 65, 31, 129, False, False)
    ref = torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
