"""Autograd engine: accumulation, retain_graph, errors, grad modes, deep graphs, threads, leaks."""

import gc
import os
import sys
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import rustorch as rt


def leaf(vals):
    return rt.tensor(np.asarray(vals, np.float32), requires_grad=True)


# ---- accumulation and retain_graph --------------------------------------------------------------
def test_grads_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4, 6])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5, 7, 9])
    g = x.grad
    (x * 1).sum().backward()
    assert x.grad is g  # accumulated in place, like torch
    x.grad = None
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1])


def test_first_grad_is_a_copy_of_the_incoming_gradient():
    x = leaf([1.0, 2.0])
    gout = rt.tensor([5.0, 6.0])
    x.backward(gout)
    np.testing.assert_array_equal(x.grad.numpy(), [5, 6])
    assert not np.shares_memory(x.grad.numpy(), gout.numpy())
    x.backward(gout)
    np.testing.assert_array_equal(gout.numpy(), [5, 6])  # not mutated by accumulation
    np.testing.assert_array_equal(x.grad.numpy(), [10, 12])


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, -2.0])
    y = (rt.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(rt.AutogradError) as ei:
        y.backward()
    assert "retain_graph" in str(ei.value)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)  # unchanged by the failure


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = x * x
    z = y.sum()
    z.backward()
    with pytest.raises(rt.AutogradError) as ei:
        z.backward()
    msg = str(ei.value)
    assert "second time" in msg and "retain_graph=True" in msg
    assert isinstance(ei.value, RuntimeError)
    # a new graph that reuses the freed part fails too
    with pytest.raises(rt.AutogradError):
        (y * 2).sum().backward()


def test_backward_errors():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(rt.AutogradError) as ei:
        y.backward()
    assert "scalar" in str(ei.value) and "(2,)" in str(ei.value)
    with pytest.raises(rt.AutogradError) as ei:
        rt.ones(3).sum().backward()
    assert "does not require grad" in str(ei.value)
    with pytest.raises(rt.AutogradError):
        rt.ones(1).backward()
    with pytest.raises(rt.ShapeError) as ei:
        y.backward(rt.ones(3))
    assert "(3,)" in str(ei.value) and "(2,)" in str(ei.value)
    with pytest.raises(rt.DTypeError):
        y.backward(rt.ones(2, dtype=rt.int64))
    with pytest.raises(rt.AutogradError):
        y.sum().backward(create_graph=True)
    with pytest.raises(rt.AutogradError):
        y.sum().backward(inputs=[x])
    with rt.no_grad():
        z = x * 2
    with pytest.raises(rt.AutogradError):
        z.sum().backward()
    assert x.grad is None  # none of the failures above touched the leaf


def test_backward_with_gradient_argument():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    y.backward(gradient=rt.tensor([[1.0, 0.0], [0.5, -1.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0], [3, -8]])
    x.grad = None
    (x * 3).backward([[1.0, 1.0], [1.0, 1.0]])  # nested lists are accepted
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 3], [3, 3]])
    s = leaf([2.0])
    (s * 4).backward()  # one element: implicit gradient allowed, like torch
    assert s.grad.tolist() == [4.0]
    t = leaf([1.0, 2.0])
    rt.autograd.backward([(t * 2).sum(), (t * t).sum()])
    np.testing.assert_array_equal(t.grad.numpy(), [4, 6])
    u = leaf([1.0])
    rt.autograd.backward(u * 5, rt.tensor([2.0]))
    assert u.grad.tolist() == [10.0]


def test_non_leaf_grads_and_requires_grad_propagation():
    x = leaf([1.0, 2.0])
    c = rt.tensor([3.0, 4.0])
    y = x * c
    assert y.requires_grad and not y.is_leaf
    assert not (c * 2).requires_grad and (c * 2).grad_fn is None
    y.sum().backward()
    assert y.grad is None  # non-leaf grads are not retained
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])
    # detach cuts the graph
    x.grad = None
    (x.detach() * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2])


def test_backward_on_leaf_itself():
    x = leaf([1.0, 2.0, 3.0])
    x.backward(rt.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3])


# ---- graph shapes -------------------------------------------------------------------------------
def test_diamond_graph_and_reused_nodes():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 2
    b = a * a  # a used twice by one op
    c = a + b  # and again by another
    d = (c * a).sum()
    d.backward()
    xv = np.array([1.0, 2.0, 3.0])
    # d = (2x + 4x^2) * 2x = 4x^2 + 8x^3 -> 8x + 24x^2
    np.testing.assert_allclose(x.grad.numpy(), 8 * xv + 24 * xv**2, rtol=1e-6)


def test_same_leaf_twice_in_one_op_and_wide_fan_out():
    x = leaf([3.0])
    (x * x).backward()
    assert x.grad.tolist() == [6.0]
    x.grad = None
    total = x * 0
    for i in range(200):
        total = total + x * float(i)
    total.sum().backward()
    assert x.grad.tolist() == [float(sum(range(200)))]


def test_one_gradient_array_shared_by_two_leaves_then_added_to():
    # add's backward hands the same array to x and y; x then gets a second contribution. The
    # sum for x must not write into y's gradient, in either order of the graph's inputs.
    for swap in (False, True):
        x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        s = (y + x) if swap else (x + y)
        (s.sum() + (x * 3.0).sum()).backward()
        assert x.grad.tolist() == [4.0, 4.0]
        assert y.grad.tolist() == [1.0, 1.0]
        assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
        (x + y).sum().backward()  # second backward: accumulated in place, still separate
        assert x.grad.tolist() == [5.0, 5.0]
        assert y.grad.tolist() == [2.0, 2.0]


def test_tensor_type_is_closed_and_hashes_by_identity():
    x = rt.tensor([1.0])
    assert {x: 1}[x] == 1 and hash(x) != hash(rt.tensor([1.0]))
    with pytest.raises(AttributeError):
        x.some_new_attribute = 1  # no per-instance dict, like torch's C tensor
    assert rt.Tensor.__add__ is not None and callable(rt.Tensor.softmax)


def test_matches_torch_on_a_small_mlp():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((8, 5)).astype(np.float32)
    w1 = rng.standard_normal((5, 7)).astype(np.float32)
    b1 = rng.standard_normal(7).astype(np.float32)
    w2 = rng.standard_normal((7, 3)).astype(np.float32)
    tgt = rng.integers(0, 3, 8)

    def run(m):
        p = [m.tensor(v.copy(), requires_grad=True) for v in (w1, b1, w2)]
        h = m.tanh(m.tensor(xs) @ p[0] + p[1])
        logits = h @ p[2]
        z = logits - logits.amax(1, keepdim=True)
        logp = z - m.log(m.exp(z).sum(1, keepdim=True))
        onehot = m.tensor(np.eye(3, dtype=np.float32)[tgt])
        loss = -(logp * onehot).sum() / 8 + (p[0] ** 2).mean() * 0.1
        loss.backward()
        return loss, p

    rl, rp = run(rt)
    tl, tp = run(torch)
    np.testing.assert_allclose(rl.item(), tl.item(), rtol=1e-5)
    for r, t in zip(rp, tp):
        np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


# ---- deep chain ---------------------------------------------------------------------------------
def test_deep_chain_100k_ops_no_recursion_error():
    limit = sys.getrecursionlimit()
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(50_000):
        y = y * 1.0
        y = y + 0.0
    assert sys.getrecursionlimit() == limit
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    del y  # dropping a 100,000-node graph must not overflow the C stack either
    z = x
    for _ in range(100_000):
        z = z + 1.0
    del z  # never backpropagated
    gc.collect()


# ---- grad modes ---------------------------------------------------------------------------------
def test_no_grad_context_and_decorators():
    x = leaf([1.0])
    assert rt.is_grad_enabled()
    with rt.no_grad():
        assert not rt.is_grad_enabled()
        y = x * 2
        with rt.enable_grad():
            assert rt.is_grad_enabled()
            z = x * 2
        assert not rt.is_grad_enabled()
    assert rt.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @rt.no_grad()
    def f1(t):
        return t * 2, rt.is_grad_enabled()

    @rt.no_grad
    def f2(t):
        return t * 2

    @rt.enable_grad()
    def f3(t):
        return t * 2

    out, flag = f1(x)
    assert not out.requires_grad and not flag
    assert not f2(x).requires_grad
    assert f2.__name__ == "f2"
    with rt.no_grad():
        assert f3(x).requires_grad
    assert rt.is_grad_enabled()


def test_set_grad_enabled_forms():
    x = leaf([1.0])
    with rt.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rt.is_grad_enabled()
    rt.set_grad_enabled(False)
    try:
        assert not rt.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        rt.set_grad_enabled(True)
    assert (x * 2).requires_grad

    @rt.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert rt.is_grad_enabled()  # decorating does not change the mode
    assert not f(x).requires_grad
    assert rt.is_grad_enabled()
    with rt.no_grad():
        with rt.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not rt.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with rt.no_grad():
            raise ValueError("boom")
    assert rt.is_grad_enabled()

    @rt.no_grad()
    def bad():
        raise KeyError("x")

    with pytest.raises(KeyError):
        bad()
    assert rt.is_grad_enabled()


def test_grad_mode_is_thread_local():
    x = leaf([1.0])
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker_no_grad():
        with rt.no_grad():
            seen["worker_enabled"] = rt.is_grad_enabled()
            inside.set()
            release.wait(10)
            seen["worker_result"] = (x * 2).requires_grad

    th = threading.Thread(target=worker_no_grad)
    th.start()
    assert inside.wait(10)
    # the other thread's no_grad does not leak into this one
    assert rt.is_grad_enabled()
    assert (x * 2).requires_grad
    release.set()
    th.join(10)
    assert seen == {"worker_enabled": False, "worker_result": False}

    # and a no_grad here does not leak into a fresh thread
    res = {}
    with rt.no_grad():
        t2 = threading.Thread(target=lambda: res.setdefault("r", (x * 2).requires_grad))
        t2.start()
        t2.join(10)
    assert res["r"] is True


# ---- threads ------------------------------------------------------------------------------------
def test_two_threads_accumulate_into_shared_parameters_exactly():
    n_iter = 2000
    w = rt.zeros(4096, requires_grad=True)  # big enough that the GIL-free add kernels overlap
    b = rt.zeros((), requires_grad=True)
    # integer-valued contributions: every partial sum is exact in float32
    inputs = [rt.tensor(np.arange(4096, dtype=np.float32) % (k + 2)) for k in range(2)]
    start = threading.Barrier(2)
    errors = []

    def work(k):
        try:
            start.wait(10)
            x = inputs[k]
            for _ in range(n_iter):
                loss = (w * x).sum() + b * float(k + 1)
                loss.backward()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    expected = n_iter * (inputs[0].numpy() + inputs[1].numpy())
    np.testing.assert_array_equal(w.grad.numpy(), expected)
    assert b.grad.item() == n_iter * 3


def test_two_threads_backward_through_shared_graph_prefix():
    # both threads build on one shared (retained) subgraph
    w = rt.ones(16, requires_grad=True)
    shared = w * 2
    start = threading.Barrier(2)
    n_iter = 500

    def work():
        start.wait(10)
        for _ in range(n_iter):
            (shared * 1.0).sum().backward(retain_graph=True)

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    np.testing.assert_array_equal(w.grad.numpy(), np.full(16, 2.0 * 2 * n_iter))


# ---- leaks --------------------------------------------------------------------------------------
def test_saved_tensors_and_graph_freed_after_backward():
    x = rt.randn(100, requires_grad=True)
    h = x * 2
    y = rt.exp(h) * h
    loss = y.sum()
    saved = weakref.ref(h._data)
    node = weakref.ref(y.grad_fn)
    hnode = weakref.ref(h.grad_fn)
    del h, y
    assert saved() is not None  # the graph keeps what backward needs alive
    loss.backward()
    assert saved() is None  # ... and frees it during backward (no gc needed: no cycles)
    assert node() is not None  # the (now empty) graph lives as long as the output
    del loss
    assert node() is None and hnode() is None
    assert x.grad is not None


def test_graph_freed_when_output_dropped_without_backward():
    x = rt.randn(10, requires_grad=True)
    y = rt.tanh(x) * x
    node = weakref.ref(y.grad_fn)
    arr = weakref.ref(y._data)
    del y
    assert node() is None and arr() is None


def test_no_reference_cycles_in_a_training_step():
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        w = rt.randn(4, 4, requires_grad=True)
        for _ in range(50):
            x = rt.randn(8, 4)
            loss = (rt.relu(x @ w) ** 2).mean()
            loss.backward()
            with rt.no_grad():
                w -= w.grad * 0.01
            w.grad = None
        del x, loss
        assert gc.collect() == 0  # nothing needed the cycle collector
        assert len(gc.get_objects()) - before < 200
    finally:
        gc.enable()


def test_memory_flat_over_10k_iterations():
    w = rt.randn(16, requires_grad=True)
    b = rt.zeros((), requires_grad=True)
    x = rt.randn(16)

    def step():
        loss = (rt.sigmoid(w * x + b) * w).sum()
        loss.backward()
        w.grad = None
        b.grad = None

    for _ in range(500):  # warm caches and free lists
        step()
    tracemalloc.start()
    try:
        step()
        base, _ = tracemalloc.get_traced_memory()
        rss0 = _rss()
        for _ in range(10_000):
            step()
        gc.collect()
        cur, _ = tracemalloc.get_traced_memory()
        rss1 = _rss()
    finally:
        tracemalloc.stop()
    assert cur - base < 64 * 1024, f"memory grew by {cur - base} bytes over 10,000 steps"
    if rss0 is not None:  # C-level allocations too (tracemalloc only sees Python/numpy ones)
        assert rss1 - rss0 < 8 * 2**20, f"RSS grew by {rss1 - rss0} bytes over 10,000 steps"


def _rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


# ---- gradcheck ----------------------------------------------------------------------------------
def test_gradcheck_passes_on_correct_gradients():
    x = rt.tensor([0.3, -0.7, 1.1], requires_grad=True)
    y = rt.tensor([[0.5], [1.5]], requires_grad=True)
    assert rt.autograd.gradcheck(lambda a, b: rt.tanh(a * b) + a**2, (x, y))
    assert rt.autograd.gradcheck(lambda a: (a * a).sum(), x)
    # a non-differentiable argument is allowed
    assert rt.autograd.gradcheck(lambda a, k: a * k, (x, 3.0))
    x.grad = None
    c = rt.tensor([1.0, 2.0, 3.0])
    assert rt.autograd.gradcheck(lambda a, k: a * k, (x, c))


def test_gradcheck_catches_wrong_gradients():
    x = rt.tensor([0.3, -0.7, 1.1], requires_grad=True)
    wrong = lambda a: a * a.detach()  # noqa: E731  forward a^2, autograd says d/da = a
    assert rt.autograd.gradcheck(wrong, (x,), raise_exception=False) is False
    with pytest.raises(rt.AutogradError) as ei:
        rt.autograd.gradcheck(wrong, (x,))
    assert "input 0" in str(ei.value) and "(3,)" in str(ei.value)
    # a gradient that is missing for the second input is caught too
    y = rt.tensor([2.0, 1.0, 0.5], requires_grad=True)
    assert not rt.autograd.gradcheck(lambda a, b: a * b.detach(), (x, y), raise_exception=False)
    # and a wrong custom gradient path built from ops: d/da [a.detach() * 3 + (a - a.detach())]
    assert rt.autograd.gradcheck(lambda a: (a - a.detach()) * 3 + a.detach() * 3, (x,))
    bad = lambda a: (a - a.detach()) * 2 + a.detach() * 3  # noqa: E731
    assert not rt.autograd.gradcheck(bad, (x,), raise_exception=False)


def test_gradcheck_requires_a_differentiable_input():
    with pytest.raises(rt.AutogradError):
        rt.autograd.gradcheck(lambda a: a * 2, (rt.ones(2),))


def test_gradcheck_leaves_inputs_unchanged():
    vals = np.array([0.25, -1.5, 2.0], np.float32)
    x = rt.tensor(vals, requires_grad=True)
    rt.autograd.gradcheck(rt.sin, (x,))
    np.testing.assert_array_equal(x.detach().numpy(), vals)
