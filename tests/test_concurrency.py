"""Concurrency: shared models across Python threads, thread-local grad mode, kernels from several
threads while OpenMP is active, and set_num_threads changed during use."""

import threading

import numpy as np
import pytest

import rustorch as rt
import rustorch.nn as nn

THREADS = 4
STEPS = 60


def _run_threads(fn, n=THREADS, timeout=120):
    start = threading.Barrier(n)
    errors = []

    def body(k):
        try:
            start.wait(30)
            fn(k)
        except BaseException as e:  # noqa: BLE001  reported below
            errors.append(e)

    ts = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    assert not any(t.is_alive() for t in ts), "a thread hung"
    if errors:
        raise errors[0]


def _int_mlp():
    """An MLP whose weights, inputs and so all gradients are small integers: every partial sum
    is exact in float32, so the accumulated gradient does not depend on the order of adds."""
    g = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 8))
    with rt.no_grad():
        for p in model.parameters():
            p.copy_(rt.tensor(g.integers(-2, 3, p.shape).astype(np.float32)))
    xs = [rt.tensor(g.integers(-2, 3, (64, 32)).astype(np.float32)) for _ in range(THREADS)]
    return model, xs


def test_four_threads_share_one_model_gradients_exact():
    prev = rt.get_num_threads()
    rt.set_num_threads(2)  # OpenMP active inside each thread's kernels
    try:
        model, xs = _int_mlp()
        # reference: each thread's gradient, computed alone
        ref = [np.zeros(p.shape, np.float32) for p in model.parameters()]
        for x in xs:
            model.zero_grad()
            model(x).sum().backward()
            for r, p in zip(ref, model.parameters()):
                r += p.grad.numpy()
        model.zero_grad()

        def work(k):
            for _ in range(STEPS):
                model(xs[k]).sum().backward()

        _run_threads(work)
        for r, p in zip(ref, model.parameters()):
            assert np.abs(r * STEPS).max() < 2**24  # still exact in float32
            np.testing.assert_array_equal(p.grad.numpy(), r * STEPS)
    finally:
        rt.set_num_threads(prev)


def test_no_grad_does_not_leak_between_threads():
    w = rt.ones(8, requires_grad=True)
    bad = []

    def work(k):
        for i in range(300):
            if k % 2:
                with rt.no_grad():
                    if (w * 2).requires_grad or rt.is_grad_enabled():
                        bad.append((k, i, "no_grad thread saw grad"))
            else:
                if not (w * 2).requires_grad or not rt.is_grad_enabled():
                    bad.append((k, i, "grad thread saw no_grad"))
                with rt.enable_grad():
                    pass

    _run_threads(work)
    assert not bad, bad[:5]
    assert rt.is_grad_enabled()


def test_kernels_from_threads_while_openmp_active():
    prev = rt.get_num_threads()
    rt.set_num_threads(2)
    try:
        rt.manual_seed(1)
        a = rt.rand(400_000)
        b = rt.rand(400_000)
        m = rt.rand(160, 200)
        img = rt.rand(4, 3, 32, 32)
        w = rt.rand(8, 3, 3, 3)

        def compute():
            return (
                ((a * b).exp() + a.sqrt()).numpy().copy(),
                float((a - b).sum()),
                (m @ m.t()).numpy().copy(),
                rt.nn.functional.conv2d(img, w, padding=1).numpy().copy(),
                rt.amax(m, 1).numpy().copy(),
            )

        expected = compute()
        results = [[] for _ in range(THREADS)]

        def work(k):
            for _ in range(8):
                results[k].append(compute())

        _run_threads(work)
        for per_thread in results:
            for got in per_thread:
                for i, (g, e) in enumerate(zip(got, expected)):
                    if i == 1:  # a full sum's last bits depend on the buffer's alignment
                        assert abs(g - e) <= 1e-6 * float(abs(a - b).sum())
                    else:  # elementwise, matmul, conv, amax: bit-identical from every thread
                        np.testing.assert_array_equal(g, e)
    finally:
        rt.set_num_threads(prev)


def test_set_num_threads_while_kernels_run():
    prev = rt.get_num_threads()
    try:
        rt.manual_seed(2)
        a = rt.rand(300_000)
        m = rt.rand(128, 128)
        rt.set_num_threads(1)
        exp_sum = float(a.sum())
        exp_mm = (m @ m).numpy().copy()
        stop = threading.Event()

        def toggler():
            i = 0
            while not stop.is_set():
                rt.set_num_threads(1 + i % 2)
                i += 1

        tt = threading.Thread(target=toggler)
        tt.start()
        try:

            def work(k):
                for _ in range(30):
                    assert float(a.sum()) == exp_sum  # fixed chunking: thread-count independent
                    np.testing.assert_allclose((m @ m).numpy(), exp_mm, rtol=1e-5)

            _run_threads(work, n=3)
        finally:
            stop.set()
            tt.join(30)
        assert rt.get_num_threads() in (1, 2)
    finally:
        rt.set_num_threads(prev)


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        rt.set_num_threads(bad)
