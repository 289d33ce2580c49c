"""rustorch.optim: update trajectories, state dicts and schedulers against torch."""

import io
import math
import warnings

import numpy as np
import pytest

import rustorch as rt
from rustorch import nn, optim
from rustorch._kernels import optim as _kernel
from rustorch.nn.utils import state_dict_from_torch

torch = pytest.importorskip("torch")

SHAPES = [(37, 19), (19,), (5,), (0, 3)]
STEPS = 60


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _bitwise_sgd() -> bool:
    """Whether SGD should match torch bit for bit: both sides fuse multiply-adds."""
    cap = torch.backends.cpu.get_cpu_capability()
    return _kernel.use_fma(True) and cap in ("AVX2", "AVX512")


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    return (
        [nn.Parameter(rt.tensor(a)) for a in init],
        [torch.nn.Parameter(torch.tensor(a)) for a in init],
    )


def _groups(params, grouped):
    if not grouped:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.05}]


def _set_grads(rp, tp, rng, skip=None):
    for i, (a, b) in enumerate(zip(rp, tp)):
        if i == skip:
            a.grad = b.grad = None
            continue
        g = (rng.standard_normal(a.shape) * 2).astype(np.float32)
        a.grad = rt.tensor(g)
        b.grad = torch.tensor(g)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.6, 0.95), eps=1e-6, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]


@pytest.mark.parametrize("grouped", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_trajectory_matches_torch(name, kw, grouped):
    rp, tp = _pair()
    ro = getattr(optim, name)(_groups(rp, grouped), **kw)
    to = getattr(torch.optim, name)(_groups(tp, grouped), foreach=False, **kw)
    rng = np.random.default_rng(1)
    exact = name == "SGD" and _bitwise_sgd()
    for step in range(STEPS):
        _set_grads(rp, tp, rng, skip=2 if step % 7 == 3 else None)  # some steps lack a grad
        ro.step()
        to.step()
    for a, b in zip(rp, tp):
        if exact:
            np.testing.assert_array_equal(_np(a), _np(b))
        else:
            # Adam: torch's sqrt (MKL) differs from the correctly rounded one by 1 ulp at times
            np.testing.assert_allclose(_np(a), _np(b), rtol=2e-6, atol=2e-6)
    sr, st = ro.state_dict(), to.state_dict()
    for gr, gt in zip(sr["param_groups"], st["param_groups"]):
        assert gr == {**gt, "foreach": None}  # torch was told foreach=False
    assert list(sr["state"]) == list(st["state"])
    for k in st["state"]:
        assert list(sr["state"][k]) == list(st["state"][k])
        for key, v in st["state"][k].items():
            np.testing.assert_allclose(_np(sr["state"][k][key]), _np(v), rtol=1e-5, atol=1e-6)


def test_model_training_matches_torch():
    """Gradients from our autograd, a full model: trajectories agree to float32 accuracy."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    rm = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2))
    rm.load_state_dict(state_dict_from_torch(tm.state_dict()))
    to = torch.optim.Adam(tm.parameters(), lr=1e-2, foreach=False)
    ro = optim.Adam(rm.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.standard_normal((32, 2)).astype(np.float32)
    for _ in range(50):
        to.zero_grad()
        ro.zero_grad()
        torch.nn.functional.mse_loss(tm(torch.tensor(x)), torch.tensor(y)).backward()
        nn.functional.mse_loss(rm(rt.tensor(x)), rt.tensor(y)).backward()
        to.step()
        ro.step()
    for (n, p), (_, q) in zip(rm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-4, atol=1e-4, err_msg=n)


@pytest.mark.parametrize(
    "name,kw",
    [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", {})],
)
def test_state_dict_round_trip_continues_identically(name, kw):
    rp, _ = _pair(3)
    ro = getattr(optim, name)(_groups(rp, True), **kw)
    rng = np.random.default_rng(5)

    def grads(params, seed):
        g = np.random.default_rng(seed)
        for p in params:
            p.grad = rt.tensor(g.standard_normal(p.shape).astype(np.float32))

    for s in range(20):
        grads(rp, s)
        ro.step()
    buf = io.BytesIO()
    rt.save({"params": [p.detach() for p in rp], "opt": ro.state_dict()}, buf)
    buf.seek(0)
    ck = rt.load(buf)
    cp = [nn.Parameter(t) for t in ck["params"]]
    co = getattr(optim, name)(_groups(cp, True), **kw)
    co.load_state_dict(ck["opt"])
    assert co.param_groups[1]["lr"] == ro.param_groups[1]["lr"]
    for s in range(20, 40):
        grads(rp, s)
        grads(cp, s)
        ro.step()
        co.step()
    for a, b in zip(rp, cp):
        np.testing.assert_array_equal(_np(a), _np(b))
    _ = rng


def test_load_torch_optimizer_state():
    rp, tp = _pair(7)
    to = torch.optim.Adam(tp, lr=0.01, foreach=False)
    rng = np.random.default_rng(2)
    for _ in range(10):
        _set_grads(rp, tp, rng)
        to.step()
    for a, b in zip(rp, tp):
        a.detach().numpy()[...] = _np(b)
    ro = optim.Adam(rp, lr=0.01)
    ro.load_state_dict(state_dict_from_torch(to.state_dict()))
    for _ in range(10):
        _set_grads(rp, tp, rng)
        to.step()
        ro.step()
    for a, b in zip(rp, tp):
        np.testing.assert_allclose(_np(a), _np(b), rtol=2e-6, atol=2e-6)
    assert float(ro.state[rp[0]]["step"]) == 20.0


def test_state_is_not_aliased_after_load():
    p = nn.Parameter(rt.ones(3))
    o = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = rt.ones(3)
    o.step()
    sd = o.state_dict()
    o2 = optim.SGD([p], lr=0.1, momentum=0.9)
    o2.load_state_dict(sd)
    o2.step()
    assert _np(sd["state"][0]["momentum_buffer"]).tolist() == [1.0, 1.0, 1.0]


def test_updates_are_in_place():
    p = nn.Parameter(rt.ones(4))
    view = p.detach()  # shares storage
    storage = p._data
    for o in (optim.SGD([p], lr=0.5), optim.Adam([p]), optim.AdamW([p])):
        p.grad = rt.ones(4)
        o.step()
        assert p._data is storage
    np.testing.assert_array_equal(_np(view), _np(p))
    assert float(view[0]) < 1.0


def test_zero_grad_closure_and_skipping():
    a, b = nn.Parameter(rt.ones(2)), nn.Parameter(rt.ones(2))
    o = optim.SGD([a, b], lr=1.0)
    a.grad = rt.ones(2)

    calls = []

    def closure():
        calls.append(rt.is_grad_enabled())
        return 3.0

    assert o.step(closure) == 3.0 and calls == [True]
    assert _np(a).tolist() == [0.0, 0.0] and _np(b).tolist() == [1.0, 1.0]
    o.zero_grad(set_to_none=False)
    assert _np(a.grad).tolist() == [0.0, 0.0]
    o.zero_grad()
    assert a.grad is None
    assert len(o.state) == 0  # plain SGD keeps no state, like torch


def test_constructor_and_group_errors():
    p = nn.Parameter(rt.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="beta parameter"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    o = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        o.add_param_group({"params": [p]})
    q = nn.Parameter(rt.ones(3))
    o.add_param_group({"params": q, "momentum": 0.5})
    assert o.param_groups[1]["lr"] == 0.1 and o.param_groups[1]["momentum"] == 0.5
    o2 = optim.SGD([nn.Parameter(rt.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        o2.load_state_dict(o.state_dict())
    named = optim.Adam([("w", p)])
    assert named.param_groups[0]["param_names"] == ["w"]
    assert "Parameter Group 0" in repr(named)
    # a gradient of the wrong shape is refused before the kernel runs
    p.grad = rt.ones(3)
    with pytest.raises(rt.errors.ShapeError):
        optim.SGD([p], lr=0.1).step()


def test_parallel_kernel_is_deterministic():
    n = 1 << 17
    rng = np.random.default_rng(0)
    init = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    results = []
    before = rt.get_num_threads()
    try:
        for threads in (1, 2):
            rt.set_num_threads(threads)
            p = nn.Parameter(rt.tensor(init))
            o = optim.Adam([p], lr=0.01, amsgrad=True)
            for g in grads:
                p.grad = rt.tensor(g)
                o.step()
            results.append(_np(p).copy())
    finally:
        rt.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


# ---- schedulers ------------------------------------------------------------------------------
def _sched_pair(kind, **kw):
    rp, tp = _pair()
    ro = optim.SGD(_groups(rp, True), lr=0.1, momentum=0.9)
    to = torch.optim.SGD(_groups(tp, True), lr=0.1, momentum=0.9)
    rs = getattr(optim.lr_scheduler, kind)(ro, **kw)
    ts = getattr(torch.optim.lr_scheduler, kind)(to, **kw)
    return ro, to, rs, ts


@pytest.mark.parametrize(
    "kind,kw",
    [
        ("StepLR", dict(step_size=3)),
        ("StepLR", dict(step_size=5, gamma=0.5)),
        ("CosineAnnealingLR", dict(T_max=10)),
        ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
        ("ExponentialLR", dict(gamma=0.9)),
    ],
)
def test_scheduler_sequence_matches_torch(kind, kw):
    ro, to, rs, ts = _sched_pair(kind, **kw)
    seq_r, seq_t = [rs.get_last_lr()], [ts.get_last_lr()]
    for _ in range(40):  # past T_max: torch's recursive cosine keeps oscillating
        ro.step()
        to.step()
        rs.step()
        ts.step()
        seq_r.append(rs.get_last_lr())
        seq_t.append(ts.get_last_lr())
    np.testing.assert_allclose(np.array(seq_r), np.array(seq_t), rtol=1e-12, atol=1e-15)
    assert [g["lr"] for g in ro.param_groups] == pytest.approx([g["lr"] for g in to.param_groups])
    sd = rs.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == ts.state_dict()["last_epoch"] == 40
    # round trip through our file format, then keep stepping in lock step
    buf = io.BytesIO()
    rt.save(sd, buf)
    buf.seek(0)
    rs2 = getattr(optim.lr_scheduler, kind)(ro, **kw)
    rs2.load_state_dict(rt.load(buf))
    ro.param_groups[0]["lr"], ro.param_groups[1]["lr"] = rs.get_last_lr()
    for _ in range(5):
        ro.step()
        to.step()
        rs2.step()
        ts.step()
    np.testing.assert_allclose(rs2.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


def test_scheduler_closed_form_and_warning():
    ro, to, rs, ts = _sched_pair("StepLR", step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rs.step(5)
        ts.step(5)
    assert rs.get_last_lr() == pytest.approx(ts.get_last_lr())
    p = nn.Parameter(rt.ones(1))
    o = optim.SGD([p], lr=1.0)
    s = optim.lr_scheduler.CosineAnnealingLR(o, T_max=4)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    assert s.get_last_lr()[0] == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    with pytest.raises(TypeError):
        optim.lr_scheduler.StepLR(object(), 3)
