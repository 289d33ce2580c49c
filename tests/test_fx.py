"""rustorch.fx against eager torch: run_fx on torch-level and ATen graphs, and the torch.compile
backend (inference, training with an optimizer, graph breaks, fallback/strict, dynamic shapes).

torch.compile is slow to compile, so each compiled model is built once per module and shared.
"""

import copy
import importlib.metadata
import os
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import rustorch.fx as rfx  # noqa: E402
from rustorch.fx import FallbackWarning, UnsupportedOpError  # noqa: E402

ATOL, RTOL = 2e-5, 1e-4


def close(a, b, atol=ATOL, rtol=RTOL):
    torch.testing.assert_close(a, b, atol=atol, rtol=rtol)


def mlp():
    return nn.Sequential(
        nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 5)
    )


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(6 * 2 * 2, 10),
    )


@pytest.fixture(scope="module", autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.fixture(autouse=True)
def _torch_seed():
    torch.manual_seed(0)


def _programs_since(n0):
    return [p for p in rfx.programs() if p.serial >= n0]


def _serial():
    ps = rfx.programs()
    return ps[-1].serial + 1 if ps else 0


# ---- run_fx on torch-level graphs (symbolic_trace) ---------------------------------------------
def test_run_fx_symbolic_trace_mlp_and_cnn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        m = mlp()
        x = torch.randn(7, 20)
        gm = torch.fx.symbolic_trace(m)
        with torch.no_grad():
            close(rfx.run_fx(gm, x), m(x))
        c = cnn().eval()
        gm = torch.fx.symbolic_trace(c)
        xb = torch.randn(3, 1, 8, 8)
        with torch.no_grad():
            close(rfx.run_fx(gm, xb), c(xb))


def test_run_fx_batchnorm_training_updates_torch_buffers():
    c = cnn()
    c[7].eval()  # dropout off: rustorch's random stream is not torch's
    ref = copy.deepcopy(c)
    gm = torch.fx.symbolic_trace(c)
    x = torch.randn(4, 1, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        for _ in range(2):
            out = rfx.run_fx(gm, x)
            with torch.no_grad():
                close(out, ref(x))
    for k, v in ref.state_dict().items():
        close(c.state_dict()[k], v)  # running_mean/var and num_batches_tracked


class _Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(6, 8))
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, x, y):
        h = torch.relu(x @ self.w) * self.scale + y.t()
        h = h.view(h.size(0), -1).permute(1, 0).contiguous()
        z = F.log_softmax(h, dim=-1).sum(dim=1) - h.mean() / 3
        return z, h.max(dim=0)[0], torch.cat([h, -h], 1).amax(1), (h > 0).sum()


def test_run_fx_functions_methods_and_attrs():
    m = _Functional()
    gm = torch.fx.symbolic_trace(m)
    ops = {n.op for n in gm.graph.nodes}
    assert {"call_function", "call_method", "get_attr"} <= ops
    x, y = torch.randn(5, 6), torch.randn(8, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        got = rfx.run_fx(gm, x, y)
    with torch.no_grad():
        want = m(x, y)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.dtype
        close(a, b)


def test_run_fx_aten_graph_with_backward_ops():
    """An ATen graph with forward and backward ops (make_fx through autograd.grad)."""
    from torch.fx.experimental.proxy_tensor import make_fx

    def f(x, w, b, g, beta, rm, rv, w2, b2, y):
        h = F.conv2d(x, w, b, padding=1)
        h = F.batch_norm(h, rm, rv, g, beta, training=True)
        h = F.max_pool2d(F.relu(h), 2)
        h = F.avg_pool2d(h, 2, ceil_mode=True)
        h = F.adaptive_avg_pool2d(h, (1, 1)).flatten(1)
        h = F.gelu(F.linear(h, w2, b2))
        h = F.silu(h) + torch.tanh(h) * torch.sigmoid(h) + F.leaky_relu(h, 0.2)
        out = F.cross_entropy(h, y) + F.softmax(h, 1).pow(2).mean() + h.var(0).sum()
        return out, torch.autograd.grad(out, (x, w, b, g, beta, w2, b2))

    def args():
        torch.manual_seed(1)
        return [
            torch.randn(2, 3, 8, 8, requires_grad=True),
            torch.randn(4, 3, 3, 3, requires_grad=True),
            torch.randn(4, requires_grad=True),
            torch.rand(4, requires_grad=True),
            torch.randn(4, requires_grad=True),
            torch.zeros(4),
            torch.ones(4),
            torch.randn(5, 4, requires_grad=True),
            torch.randn(5, requires_grad=True),
            torch.tensor([1, 3]),
        ]

    gm = make_fx(f, decomposition_table=rfx.decompositions())(*args())
    targets = {str(n.target) for n in gm.graph.nodes if n.op == "call_function"}
    for op in (
        "aten.convolution_backward.default",
        "aten.native_batch_norm_backward.default",
        "aten.max_pool2d_with_indices_backward.default",
        "aten.nll_loss_backward.default",
        "aten._log_softmax_backward_data.default",
        "aten.threshold_backward.default",
    ):
        assert op in targets
    a_rt, a_ref = args(), args()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        got = rfx.run_fx(gm, *a_rt)
    want = f(*a_ref)
    close(got[0], want[0].detach())
    for g1, g2 in zip(got[1], want[1]):
        close(g1, g2, atol=5e-5, rtol=5e-4)
    close(a_rt[5], a_ref[5])  # running statistics updated in place, like torch
    close(a_rt[6], a_ref[6])


@pytest.mark.parametrize(
    "ks,stride,pad,dil,ceil",
    [(2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 1, 1, 1, True), (2, 2, 0, 2, False)],
)
def test_run_fx_max_pool_backward_from_indices(ks, stride, pad, dil, ceil):
    """Non-overlapping windows scatter through the saved indices, overlapping ones add up."""
    from torch.fx.experimental.proxy_tensor import make_fx

    def f(x):
        y = F.max_pool2d(x, ks, stride, pad, dil, ceil)
        return torch.autograd.grad((y * y.detach().cos()).sum(), x)[0]

    x = torch.randn(2, 3, 9, 11, requires_grad=True)
    gm = make_fx(f, decomposition_table=rfx.decompositions())(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        close(rfx.run_fx(gm, x), f(x))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_run_fx_nll_loss_forward_backward(reduction):
    from torch.fx.experimental.proxy_tensor import make_fx

    w = torch.rand(5) + 0.5
    target = torch.tensor([0, 4, -100, 2, 4, 1])

    def f(x):
        loss = F.cross_entropy(x, target, weight=w, ignore_index=-100, reduction=reduction)
        return loss, torch.autograd.grad(loss.sum(), x)[0]

    x = torch.randn(6, 5, requires_grad=True)
    gm = make_fx(f, decomposition_table=rfx.decompositions())(x)
    assert any("nll_loss_forward" in str(n.target) for n in gm.graph.nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        got = rfx.run_fx(gm, x)
    want = f(x)
    close(got[0], want[0].detach())
    close(got[1], want[1])


def test_run_fx_transposes_stay_views():
    """A 2-D transpose is read through the GEMM's trans flags and returned as a torch view of
    the same storage, like torch's own t()."""
    from torch.fx.experimental.proxy_tensor import make_fx

    def f(x, w, b):
        return F.linear(x, w, b), w.t(), (x.t() @ x).t()

    x, w, b = torch.randn(5, 4), torch.randn(3, 4), torch.randn(3)
    gm = make_fx(f, decomposition_table=rfx.decompositions())(x, w, b)
    y, wt, xtx = rfx.run_fx(gm, x, w, b)
    close(y, F.linear(x, w, b))
    assert wt.data_ptr() == w.data_ptr() and wt.stride() == w.t().stride()
    close(xtx, (x.t() @ x).t())
    src = rfx.compile_fx(gm).source
    assert "M(" not in src  # no transpose was materialised


def test_run_fx_falls_back_per_node():
    def f(x):
        return torch.special.erf(x).cumsum(0) + torch.relu(x)

    gm = torch.fx.symbolic_trace(f)
    x = torch.randn(5)
    with pytest.warns(FallbackWarning) as rec:
        out = rfx.run_fx(gm, x)
    close(out, f(x))
    msgs = [str(w.message) for w in rec if issubclass(w.category, FallbackWarning)]
    assert len(msgs) == 1  # one warning naming every unsupported op
    assert "erf" in msgs[0] and "cumsum" in msgs[0]


def test_run_fx_runtime_fallback_for_unsupported_dtype():
    """Without metadata the dtype shows only at run time: each failing native node switches to
    torch for good and the call resumes from it (nothing runs twice)."""

    def f(x):
        return torch.relu(x) * 2 + torch.tanh(x).sum()

    gm = torch.fx.symbolic_trace(f)
    x = torch.randn(4, dtype=torch.float64)
    with pytest.warns(FallbackWarning, match="failed natively") as rec:
        out = rfx.run_fx(gm, x)
    failed = [str(w.message) for w in rec if issubclass(w.category, FallbackWarning)]
    assert len(failed) == 2 and "torch.relu" in failed[0] and "torch.tanh" in failed[1]
    assert out.dtype == torch.float64
    close(out, f(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        close(rfx.run_fx(gm, x), f(x))


def test_strict_mode_run_fx_and_env(monkeypatch):
    def f(x):
        return torch.special.erf(x)

    gm = torch.fx.symbolic_trace(f)
    with pytest.raises(UnsupportedOpError, match="erf"):
        rfx.run_fx(gm, torch.randn(3), strict=True)
    monkeypatch.setenv("RUSTORCH_FX_STRICT", "1")
    with pytest.raises(UnsupportedOpError, match="erf"):
        rfx.compile_fx(gm)


def test_supported_ops_lists_every_level():
    ops = rfx.supported_ops()
    assert ops == sorted(ops)
    for name in (
        "aten.convolution.default",
        "aten.convolution_backward.default",
        "aten.addmm.default",
        "aten._native_batch_norm_legit_functional.default",
        "aten.max_pool2d_with_indices_backward.default",
        "torch.relu",
        "torch.nn.functional.conv2d",
        "Tensor.view",
        "torch.nn.Conv2d",
        "torch.nn.BatchNorm2d",
    ):
        assert name in ops
    assert "aten.erf.default" not in ops


# ---- torch.compile(backend="rustorch") --------------------------------------------------------
def _train_and_compare(model, make_batch, steps=3, lr=0.05, compile_kw=None):
    ref = copy.deepcopy(model)
    cm = torch.compile(model, backend="rustorch", **(compile_kw or {}))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    ropt = torch.optim.SGD(ref.parameters(), lr=lr, momentum=0.9)
    for step in range(steps):
        x, y = make_batch(step)
        out = cm(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        rout = ref(x)
        rloss = F.cross_entropy(rout, y)
        rloss.backward()
        close(out, rout)
        for p, q in zip(model.parameters(), ref.parameters()):
            close(p.grad, q.grad, atol=5e-5, rtol=5e-4)
        opt.step()
        ropt.step()
        opt.zero_grad()
        ropt.zero_grad()
    for v, w in zip(model.state_dict().values(), ref.state_dict().values()):
        close(v, w, atol=5e-5, rtol=5e-4)
    return cm, ref


def test_compile_mlp_training_and_inference():
    n0 = _serial()
    m = mlp()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        cm, ref = _train_and_compare(
            m, lambda s: (torch.randn(8, 20), torch.randint(0, 5, (8,))), steps=3
        )
        x = torch.randn(8, 20)
        with torch.no_grad():
            close(cm(x), ref(x))
    progs = _programs_since(n0)
    names = {p.graph_name for p in progs}
    assert {"forward graph", "backward graph", "inference graph"} <= names
    assert all(p.calls > 0 and not p.fallback_ops for p in progs)
    fw = next(p for p in progs if p.graph_name == "forward graph")
    assert "aten.addmm.default" in fw.native_ops()


def test_compile_cnn_training_and_eval():
    n0 = _serial()
    m = cnn()
    m[7].eval()  # dropout in eval (rustorch's dropout mask is not torch's)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        cm, ref = _train_and_compare(
            m, lambda s: (torch.randn(4, 1, 8, 8), torch.randint(0, 10, (4,))), steps=3
        )
        m.eval()
        ref.eval()
        x = torch.randn(3, 1, 8, 8)
        with torch.no_grad():
            close(cm(x), ref(x))
    progs = _programs_since(n0)
    ops = set().union(*(p.native_ops() for p in progs))
    for op in (
        "aten.convolution.default",
        "aten.convolution_backward.default",
        "aten._native_batch_norm_legit_functional.default",
        "aten.native_batch_norm_backward.default",
        "aten._native_batch_norm_legit_no_training.default",
        "aten.max_pool2d_with_indices.default",
        "aten.max_pool2d_with_indices_backward.default",
    ):
        assert op in ops


class _GraphBreak(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(10, 12)
        self.b = nn.Linear(12, 4)

    def forward(self, x):
        h = torch.relu(self.a(x))
        torch._dynamo.graph_break()
        return self.b(h).log_softmax(-1)


def test_compile_graph_break():
    n0 = _serial()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        _train_and_compare(
            _GraphBreak(), lambda s: (torch.randn(6, 10), torch.randint(0, 4, (6,))), steps=2
        )
    fws = [p for p in _programs_since(n0) if p.graph_name == "forward graph"]
    assert len(fws) == 2  # one program per side of the break


class _Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 6)

    def forward(self, x):
        return torch.special.erf(self.a(x)).cumsum(1)


def test_compile_unsupported_op_falls_back_with_one_warning():
    m = _Unsupported()
    ref = copy.deepcopy(m)
    cm = torch.compile(m, backend="rustorch")
    x = torch.randn(3, 6)
    with pytest.warns(FallbackWarning) as rec:
        out = cm(x)
        out.sum().backward()
    msgs = [str(w.message) for w in rec if issubclass(w.category, FallbackWarning)]
    fw = [s for s in msgs if "forward graph" in s]
    assert len(fw) == 1 and "aten.erf.default" in fw[0] and "aten.cumsum.default" in fw[0]
    rout = ref(x)
    rout.sum().backward()
    close(out, rout)
    for p, q in zip(m.parameters(), ref.parameters()):
        close(p.grad, q.grad)


def _caused_by(exc, cls):
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, cls):
            return True
        stack += [e.__cause__, e.__context__, getattr(e, "inner_exception", None)]
    return False


def test_compile_strict_mode_raises():
    x = torch.randn(3, 6)
    for backend, kw in (
        ("rustorch", {"options": {"strict": True}}),
        (rfx.make_backend(strict=True), {}),
    ):
        torch._dynamo.reset()
        cm = torch.compile(_Unsupported(), backend=backend, **kw)
        with pytest.raises(Exception) as ei:
            cm(x)
        assert _caused_by(ei.value, UnsupportedOpError), ei.value
        assert "erf" in str(ei.value)


def test_compile_dynamic_shapes():
    n0 = _serial()
    m = mlp()
    batches = {0: 3, 1: 5, 2: 9}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        _train_and_compare(
            m,
            lambda s: (torch.randn(batches[s], 20), torch.randint(0, 5, (batches[s],))),
            steps=3,
            compile_kw={"dynamic": True},
        )
    progs = _programs_since(n0)
    fws = [p for p in progs if p.graph_name == "forward graph"]
    assert len(fws) == 1  # one dynamic graph served all three batch sizes
    sym = [
        n
        for n in fws[0].gm.graph.nodes
        if n.op == "placeholder" and isinstance(n.meta.get("val"), torch.SymInt)
    ]
    assert sym, "expected a SymInt placeholder"


def test_backend_rejects_unknown_options():
    cm = torch.compile(mlp(), backend="rustorch", options={"bogus": 1})
    with pytest.raises(Exception, match="bogus"):
        cm(torch.randn(2, 20))


def _entry_point_installed():
    eps = importlib.metadata.entry_points(group="torch_dynamo_backends")
    return any(ep.name == "rustorch" and ep.value == "rustorch.fx:backend" for ep in eps)


@pytest.mark.skipif(
    not _entry_point_installed(),
    reason="the torch_dynamo_backends entry point is not installed (pip install -e .)",
)
def test_backend_name_works_without_importing_rustorch():
    code = (
        "import sys, torch\n"
        "assert 'rustorch' not in sys.modules\n"
        "f = torch.compile(lambda x: torch.relu(x) * 2, backend='rustorch')\n"
        "x = torch.randn(5)\n"
        "assert torch.allclose(f(x), torch.relu(x) * 2)\n"
        "assert 'rustorch.fx' in sys.modules\n"
        "print('ok')\n"
    )
    env = dict(os.environ)
    env.pop("RUSTORCH_FX_STRICT", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith("ok")
