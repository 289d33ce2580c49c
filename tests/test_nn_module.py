"""rustorch.nn: Module registration, names, state dicts, repr, layers and functional vs torch."""

import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import rustorch as rt
from rustorch import nn
from rustorch.autograd import gradcheck
from rustorch.nn import functional as F
from rustorch.nn import init
from rustorch.nn.utils import state_dict_from_torch, state_dict_to_numpy

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _net(tnn, lib):
    """The same architecture built with torch.nn (lib=torch) or rustorch.nn (lib=rustorch)."""

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lin = tnn.Linear(8, 8)
            self.register_buffer("count", lib.zeros(1, dtype=lib.int64))
            self.act = tnn.Tanh()

        def forward(self, x):
            return self.act(self.lin(x))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = tnn.Linear(4, 8)
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.scale = tnn.Parameter(lib.ones(1))
            self.body = tnn.Sequential(
                tnn.Linear(8, 8, bias=False),
                tnn.ReLU(),
                tnn.ModuleList([Block(), tnn.GELU()]),
            )
            self.heads = tnn.ModuleDict({"a": tnn.Linear(8, 2), "b": Block()})
            self.tied = self.fc1  # the same module twice: listed once
            self.register_parameter("unused", None)

        def forward(self, x):
            x = self.fc1(x) * self.scale
            x = self.body[1](self.body[0](x))
            x = self.body[2][1](self.body[2][0](x))
            return self.heads["a"](self.heads["b"](x))

    return Net()


def test_registration_names_and_order_match_torch():
    r, t = _net(nn, rt), _net(torch.nn, torch)

    def names(it):
        return [n for n, _ in it]

    assert names(r.named_parameters()) == names(t.named_parameters())
    assert names(r.named_buffers()) == names(t.named_buffers())
    assert names(r.named_children()) == names(t.named_children())
    assert names(r.named_modules()) == names(t.named_modules())
    assert names(r.named_parameters(recurse=False)) == names(t.named_parameters(recurse=False))
    assert names(r.named_parameters(remove_duplicate=False)) == names(
        t.named_parameters(remove_duplicate=False)
    )
    assert list(r.state_dict().keys()) == list(t.state_dict().keys())
    assert [type(m).__name__ for m in r.modules()] == [type(m).__name__ for m in t.modules()]
    assert [type(m).__name__ for m in r.children()] == [type(m).__name__ for m in t.children()]
    assert len(list(r.parameters())) == len(list(t.parameters()))
    assert len(list(r.buffers())) == len(list(t.buffers()))
    for (n, p), (_, q) in zip(r.named_parameters(), t.named_parameters()):
        assert p.shape == tuple(q.shape), n
    assert r.get_submodule("body.2.0.lin") is r.body[2][0].lin
    assert r.get_parameter("heads.a.bias") is r.heads["a"].bias
    assert r.get_buffer("running") is r.running


def test_state_dict_values_share_storage_and_are_detached():
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["weight"].requires_grad
    sd["weight"].numpy()[0, 0] = 42.0
    assert m.weight.detach().numpy()[0, 0] == 42.0
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight
    assert list(m.state_dict(prefix="enc.").keys()) == ["enc.weight", "enc.bias"]


def _mlp(tnn):
    return tnn.Sequential(
        tnn.Linear(10, 32), tnn.ReLU(), tnn.Linear(32, 16), tnn.GELU(), tnn.Linear(16, 3)
    )


def test_load_torch_weights_same_outputs_and_grads():
    torch.manual_seed(0)
    t = _mlp(torch.nn)
    r = _mlp(nn)
    res = r.load_state_dict(state_dict_from_torch(t.state_dict()))
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    x = np.random.randn(7, 10).astype(np.float32)
    yt = t(torch.tensor(x))
    yr = r(rt.tensor(x))
    np.testing.assert_allclose(_np(yr), _np(yt), rtol=1e-5, atol=1e-5)
    yt.square().sum().backward()
    (yr * yr).sum().backward()
    for (n, p), (_, q) in zip(r.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-4, atol=1e-5, err_msg=n)
    # and back: rustorch weights into torch through numpy
    t2 = _mlp(torch.nn)
    t2.load_state_dict(
        {k: torch.from_numpy(v) for k, v in state_dict_to_numpy(r.state_dict()).items()}
    )
    np.testing.assert_allclose(_np(t2(torch.tensor(x))), _np(yr), rtol=1e-5, atol=1e-5)


def test_torch_state_dict_exported_then_loaded_without_torch(tmp_path):
    torch.manual_seed(1)
    t = _mlp(torch.nn)
    path = tmp_path / "w.rt"
    rt.save(t.state_dict(), path)  # torch tensors are converted while saving
    r = _mlp(nn)
    r.load_state_dict(rt.load(path))
    x = np.random.randn(4, 10).astype(np.float32)
    np.testing.assert_allclose(_np(r(rt.tensor(x))), _np(t(torch.tensor(x))), atol=1e-5)
    # numpy arrays and torch tensors work as state_dict values too
    r2 = _mlp(nn)
    r2.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_allclose(_np(r2(rt.tensor(x))), _np(r(rt.tensor(x))))
    r3 = _mlp(nn)
    r3.load_state_dict(t.state_dict())
    np.testing.assert_allclose(_np(r3(rt.tensor(x))), _np(r(rt.tensor(x))))


def test_load_state_dict_errors_match_torch_keys():
    r, t = _mlp(nn), _mlp(torch.nn)
    sd_r, sd_t = r.state_dict(), t.state_dict()
    for sd in (sd_r, sd_t):
        del sd["2.bias"]
        sd["9.weight"] = sd["0.weight"]
        sd["extra"] = sd["0.bias"]
    with pytest.raises(rt.errors.StateDictError) as ei:
        r.load_state_dict(sd_r)
    with pytest.raises(RuntimeError) as et:
        t.load_state_dict(sd_t)
    msg = str(ei.value)
    assert 'Missing key(s) in state_dict: "2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "9.weight", "extra"' in msg
    assert str(et.value).split(":", 1)[1] == msg.split(":", 1)[1]
    assert isinstance(ei.value, RuntimeError)
    res_r = r.load_state_dict(sd_r, strict=False)
    res_t = t.load_state_dict(sd_t, strict=False)
    assert res_r.missing_keys == res_t.missing_keys == ["2.bias"]
    assert res_r.unexpected_keys == res_t.unexpected_keys == ["9.weight", "extra"]
    assert tuple(res_r) == (["2.bias"], ["9.weight", "extra"])


def test_load_state_dict_shape_mismatch_always_raises():
    m = nn.Linear(4, 3)
    before = _np(m.weight).copy()
    bad = {"weight": rt.zeros(3, 5), "bias": rt.zeros(3)}
    for strict in (True, False):
        with pytest.raises(rt.errors.StateDictError, match="size mismatch for weight"):
            m.load_state_dict(bad, strict=strict)
    np.testing.assert_array_equal(_np(m.weight), before)
    with pytest.raises(rt.errors.StateDictError, match="expected a rustorch Tensor"):
        m.load_state_dict({"weight": "nope", "bias": rt.zeros(3)})
    with pytest.raises(TypeError):
        m.load_state_dict([1, 2])


def test_load_state_dict_copies_in_place_and_assign():
    m = nn.Linear(2, 2)
    w = m.weight
    src = {"weight": rt.ones(2, 2), "bias": rt.zeros(2)}
    m.load_state_dict(src)
    assert m.weight is w and _np(w).tolist() == [[1, 1], [1, 1]]
    src["weight"].numpy()[0, 0] = 5.0  # a copy: the module does not alias the source
    assert _np(m.weight)[0, 0] == 1.0
    m.load_state_dict({"weight": rt.full((2, 2), 3.0), "bias": rt.zeros(2)}, assign=True)
    assert m.weight is not w and isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert _np(m.weight)[0, 0] == 3.0


def test_buffers_and_persistence():
    m = nn.Module()
    m.register_buffer("a", rt.zeros(2))
    m.register_buffer("b", rt.ones(2), persistent=False)
    m.register_buffer("c", None)
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert list(m.state_dict()) == ["a"]
    m.a = rt.full((2,), 7.0)  # reassigning a buffer keeps it a buffer
    assert _np(m.state_dict()["a"]).tolist() == [7.0, 7.0]
    with pytest.raises(TypeError):
        m.a = 3
    with pytest.raises(KeyError):
        m.register_buffer("x.y", rt.zeros(1))
    m.plain = 5
    with pytest.raises(KeyError):
        m.register_buffer("plain", rt.zeros(1))
    del m.a
    assert "a" not in dict(m.named_buffers())


def test_parameter_semantics():
    base = rt.ones(3)
    p = nn.Parameter(base)
    assert isinstance(p, nn.Parameter) and isinstance(p, rt.Tensor) and p.requires_grad
    assert type(p) is rt.Tensor  # ops keep their exact-type fast paths
    p.numpy(force=True)[0] = 2.0  # shares storage with its data, like torch
    assert _np(base)[0] == 2.0
    assert not isinstance(base, nn.Parameter)
    assert not isinstance(p * 2, nn.Parameter)
    q = nn.Parameter(rt.zeros(2), requires_grad=False)
    assert isinstance(q, nn.Parameter) and not q.requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(TypeError):
        nn.Parameter([1.0, 2.0])
    with pytest.raises(rt.errors.DTypeError):
        nn.Parameter(rt.arange(3))  # integer tensors cannot require grad
    m = nn.Module()
    with pytest.raises(TypeError):
        m.register_parameter("w", rt.zeros(2))  # a plain tensor is not a parameter
    m.w = nn.Parameter(rt.zeros(2))
    with pytest.raises(TypeError):
        m.w = rt.zeros(2)
    m.w = None
    assert list(m.named_parameters()) == [] and "w" in m._parameters
    m.t = rt.zeros(2)  # a plain tensor attribute is neither parameter nor buffer, like torch
    assert list(m.parameters()) == [] and list(m.buffers()) == []


def test_setattr_replaces_kinds_and_errors():
    m = nn.Module()
    m.x = nn.Linear(1, 1)
    assert "x" in m._modules
    m.x = nn.Parameter(rt.zeros(1))  # a parameter replaces the module under the same name
    assert "x" in m._parameters and "x" not in m._modules
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = m.nothing

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(rt.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)
    assert "x" in dir(m)


def test_train_eval_zero_grad_requires_grad_apply():
    r = _net(nn, rt)
    assert all(m.training for m in r.modules())
    assert r.eval() is r
    assert not any(m.training for m in r.modules())
    r.train()
    assert all(m.training for m in r.modules())
    r.body.train(False)
    assert r.training and not r.body[2][0].act.training
    with pytest.raises(ValueError):
        r.train("yes")
    out = r(rt.randn(2, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in r.parameters())
    r.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0.0 for p in r.parameters())
    r.zero_grad()
    assert all(p.grad is None for p in r.parameters())
    r.requires_grad_(False)
    assert not any(p.requires_grad for p in r.parameters())
    seen = []
    r.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 5
    assert r.to("cpu") is r and r.to(rt.float32) is r and r.cpu() is r and r.float() is r
    with pytest.raises(rt.errors.DTypeError):
        r.to("cuda")
    with pytest.raises(rt.errors.DTypeError):
        r.double()


def test_deepcopy_keeps_parameters():
    m = _mlp(nn)
    c = copy.deepcopy(m)
    assert all(isinstance(p, nn.Parameter) for p in c.parameters())
    assert all(p is not q for p, q in zip(m.parameters(), c.parameters()))
    x = rt.randn(2, 10)
    np.testing.assert_array_equal(_np(c(x)), _np(m(x)))
    c[0].weight.numpy(force=True)[...] = 0.0
    assert float(abs(m[0].weight).sum()) > 0


@pytest.mark.parametrize(
    "build",
    [
        lambda n: n.Linear(4, 8),
        lambda n: n.Linear(3, 2, bias=False),
        lambda n: n.ReLU(),
        lambda n: n.ReLU(inplace=True),
        lambda n: n.GELU(),
        lambda n: n.GELU(approximate="tanh"),
        lambda n: n.Tanh(),
        lambda n: n.Sigmoid(),
        lambda n: n.SiLU(),
        lambda n: n.LeakyReLU(0.2, inplace=True),
        lambda n: n.Flatten(),
        lambda n: n.Identity(),
        lambda n: n.MSELoss(),
        lambda n: n.L1Loss(reduction="sum"),
        lambda n: n.Sequential(),
        lambda n: n.Sequential(n.Linear(4, 8), n.ReLU()),
        lambda n: n.Sequential(n.Linear(4, 8), n.Sequential(n.Linear(8, 8), n.Tanh()), n.ReLU()),
        lambda n: n.ModuleList([n.Linear(2, 2), n.Linear(2, 2), n.Linear(2, 2), n.ReLU()]),
        lambda n: n.ModuleList([]),
        lambda n: n.ModuleDict({"enc": n.Linear(1, 2), "act": n.ReLU()}),
        lambda n: _mlp(n),
    ],
)
def test_repr_matches_torch(build):
    assert repr(build(nn)) == repr(build(torch.nn))


def test_repr_custom_module():
    r, t = _net(nn, rt), _net(torch.nn, torch)
    assert repr(r) == repr(t)


def test_sequential_and_containers():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[0], nn.Linear) and isinstance(s[-1], nn.Linear)
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear"]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is s[1]
    with pytest.raises(IndexError):
        s[3]
    s.append(nn.Sigmoid())
    assert list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and isinstance(s[1], nn.Linear)
    s[2] = nn.Tanh()
    assert isinstance(s[2], nn.Tanh)
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity) and len(s) == 4
    y = s(rt.randn(5, 2))
    assert y.shape == (5, 1)
    od = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(od.state_dict()) == ["enc.weight", "enc.bias"]
    assert len(s + od) == 6
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml += [nn.Identity()]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Identity)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    ml.insert(1, nn.Linear(2, 2))
    assert isinstance(ml[1], nn.Linear)
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(md) == 2
    assert md.pop("a") is not None and list(md) == ["b"]


def test_linear_default_init_like_torch():
    rt.manual_seed(3)
    m = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    w, b = _np(m.weight), _np(m.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has std a / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert m.weight.shape == (40, 50) and m.bias.shape == (40,)
    rt.manual_seed(3)
    again = nn.Linear(50, 40)
    np.testing.assert_array_equal(_np(again.weight), w)  # seeded like rustorch's generator
    with pytest.warns(UserWarning, match="zero-element"):  # as torch warns
        assert nn.Linear(0, 3).bias is not None


def test_init_functions():
    for nl, p in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    with pytest.raises(ValueError):
        init.calculate_gain("nope")
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 7)]:
        assert init._calculate_fan_in_and_fan_out(
            rt.zeros(*shape)
        ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(rt.zeros(3))
    t = rt.empty(400, 300)
    assert init.constant_(t, 2.5) is t and float(t.min()) == float(t.max()) == 2.5
    assert float(init.zeros_(t).sum()) == 0 and float(init.ones_(t).mean()) == 1
    init.uniform_(t, -2, 3)
    a = _np(t)
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    init.normal_(t, 1.0, 2.0)
    assert abs(_np(t).mean() - 1.0) < 0.05 and abs(_np(t).std() - 2.0) < 0.05
    init.xavier_uniform_(t, gain=2.0)
    a_bound = 2.0 * math.sqrt(6 / 700)
    assert np.abs(_np(t)).max() <= a_bound and abs(_np(t).std() - a_bound / math.sqrt(3)) < 0.01
    init.xavier_normal_(t)
    assert abs(_np(t).std() - math.sqrt(2 / 700)) < 0.002
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(_np(t).std() - math.sqrt(2 / 400)) < 0.003
    init.kaiming_uniform_(t, a=0, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert np.abs(_np(t)).max() <= bound
    g = rt.Generator(5)
    x1 = _np(init.normal_(rt.empty(10), generator=g)).copy()
    x2 = _np(init.normal_(rt.empty(10), generator=rt.Generator(5)))
    np.testing.assert_array_equal(x1, x2)
    e = init.eye_(rt.empty(3, 4))
    np.testing.assert_array_equal(_np(e), np.eye(3, 4))
    with pytest.raises(ValueError):
        init.kaiming_uniform_(t, mode="fan_middle")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init.kaiming_uniform_(rt.empty(0, 3))


# ---- functional -----------------------------------------------------------------------------
ACTS = [
    ("gelu", lambda x: F.gelu(x), lambda x: torch.nn.functional.gelu(x)),
    (
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
    ),
    ("silu", F.silu, torch.nn.functional.silu),
    (
        "leaky_relu",
        lambda x: F.leaky_relu(x, 0.1),
        lambda x: torch.nn.functional.leaky_relu(x, 0.1),
    ),
    ("relu", F.relu, torch.nn.functional.relu),
    ("tanh", F.tanh, torch.tanh),
    ("sigmoid", F.sigmoid, torch.sigmoid),
]


@pytest.mark.parametrize("name,fr,ft", ACTS, ids=[a[0] for a in ACTS])
@pytest.mark.parametrize("shape", [(0,), (1,), (7, 5), (3, 40000)])
def test_activations_match_torch(name, fr, ft, shape):
    x = (np.random.randn(*shape) * 4).astype(np.float32)
    if x.size:
        x.reshape(-1)[0] = 0.0
    g = np.random.randn(*shape).astype(np.float32)
    xr, xt = rt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yr, yt = fr(xr), ft(xt)
    np.testing.assert_allclose(_np(yr), _np(yt), rtol=1e-5, atol=2e-6)
    yr.backward(rt.tensor(g))
    yt.backward(torch.tensor(g))
    # atol: the tanh-GELU derivative cancels two ~1e-5 terms for x near -4 (tanh rounding)
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,fr,ft", ACTS[:4], ids=[a[0] for a in ACTS[:4]])
def test_activations_gradcheck(name, fr, ft):
    x = rt.tensor(np.random.randn(4, 3).astype(np.float32) + 0.05, requires_grad=True)
    assert gradcheck(fr, (x,))


def test_activation_modules_and_inplace():
    x = rt.tensor([-2.0, -0.5, 0.0, 1.5])
    for m, f in [
        (nn.ReLU(), F.relu),
        (nn.GELU(), F.gelu),
        (nn.Tanh(), F.tanh),
        (nn.Sigmoid(), F.sigmoid),
        (nn.SiLU(), F.silu),
        (nn.LeakyReLU(0.3), lambda t: F.leaky_relu(t, 0.3)),
    ]:
        np.testing.assert_array_equal(_np(m(x)), _np(f(x)))
    y = x.clone()
    assert F.relu(y, inplace=True) is y and _np(y).tolist() == [0, 0, 0, 1.5]
    y = x.clone()
    assert F.leaky_relu(y, 0.5, inplace=True) is y and _np(y)[0] == -1.0
    y = x.clone()
    assert F.silu(y, inplace=True) is y
    p = rt.tensor([-1.0, 2.0], requires_grad=True)
    out = F.relu(p, inplace=True)  # autograd involved: a new tensor, the leaf is untouched
    assert out is not p and _np(p).tolist() == [-1.0, 2.0]
    with pytest.raises(rt.errors.TorchError):
        F.gelu(x, approximate="fast")
    with pytest.raises(rt.errors.DTypeError):
        F.gelu(rt.arange(3))


@pytest.mark.parametrize(
    "xshape,bias",
    [((5, 7), True), ((5, 7), False), ((2, 3, 7), True), ((7,), True), ((0, 7), True)],
)
def test_linear_matches_torch(xshape, bias):
    x = np.random.randn(*xshape).astype(np.float32)
    w = np.random.randn(4, 7).astype(np.float32)
    b = np.random.randn(4).astype(np.float32)
    xr, wr = rt.tensor(x, requires_grad=True), rt.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    br = rt.tensor(b, requires_grad=True) if bias else None
    bt = torch.tensor(b, requires_grad=True) if bias else None
    yr, yt = F.linear(xr, wr, br), torch.nn.functional.linear(xt, wt, bt)
    assert yr.shape == tuple(yt.shape)
    np.testing.assert_allclose(_np(yr), _np(yt), rtol=1e-5, atol=1e-5)
    g = np.random.randn(*yt.shape).astype(np.float32)
    yr.backward(rt.tensor(g))
    yt.backward(torch.tensor(g))
    pairs = [(xr, xt), (wr, wt)] + ([(br, bt)] if bias else [])
    for a, c in pairs:
        np.testing.assert_allclose(_np(a.grad), _np(c.grad), rtol=1e-5, atol=1e-5)


def test_linear_gradcheck_and_errors():
    x = rt.randn(3, 4, requires_grad=True)
    w = rt.randn(2, 4, requires_grad=True)
    b = rt.randn(2, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, w, b))
    with pytest.raises(rt.errors.ShapeError, match="in_features"):
        F.linear(rt.randn(3, 5), w)
    with pytest.raises(rt.errors.DTypeError):
        F.linear(rt.arange(4), w)
    # only the operands that need a gradient get one
    b.grad = None
    y = F.linear(rt.randn(3, 4), w.detach(), b)
    y.sum().backward()
    assert b.grad is not None and _np(b.grad).tolist() == [3.0, 3.0]
    # a broadcastable (non-1-D) bias still works
    y = F.linear(rt.randn(3, 4), w.detach(), rt.ones(3, 1))
    assert y.shape == (3, 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_losses_match_torch(name, reduction):
    x = np.random.randn(6, 5).astype(np.float32)
    y = np.random.randn(6, 5).astype(np.float32)
    xr, yr = rt.tensor(x, requires_grad=True), rt.tensor(y, requires_grad=True)
    xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    lr = getattr(F, name)(xr, yr, reduction=reduction)
    lt = getattr(torch.nn.functional, name)(xt, yt, reduction=reduction)
    np.testing.assert_allclose(_np(lr), _np(lt), rtol=1e-5, atol=1e-6)
    g = np.asarray(np.random.randn(*lt.shape), dtype=np.float32)
    lr.backward(rt.tensor(g))
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(yr.grad), _np(yt.grad), rtol=1e-5, atol=1e-6)
    mod = {"mse_loss": nn.MSELoss, "l1_loss": nn.L1Loss}[name](reduction=reduction)
    np.testing.assert_allclose(_np(mod(xr, yr)), _np(lt), rtol=1e-5, atol=1e-6)


def test_loss_arguments():
    x, y = rt.randn(3), rt.randn(3)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, y, reduction="avg")
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(rt.randn(3, 1), rt.randn(3))
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"
    np.testing.assert_allclose(
        _np(F.l1_loss(x, y, size_average=False)), _np(F.l1_loss(x, y, reduction="sum"))
    )


def test_flatten():
    x = rt.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert F.flatten(x).shape == (120,)
