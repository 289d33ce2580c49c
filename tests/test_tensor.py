"""Tensor creation, attributes, conversions and printing (torch as the oracle where it applies)."""

import copy
import pickle

import numpy as np
import pytest

import rustorch as rt

torch = pytest.importorskip("torch")


def dtname(dt):
    return str(dt).split(".")[-1]


def assert_like_torch(r, t, exact=True, values=True):
    assert tuple(r.shape) == tuple(t.shape)
    assert dtname(r.dtype) == dtname(t.dtype)
    if not values:
        return
    if exact:
        np.testing.assert_array_equal(r.detach().numpy(), t.detach().numpy())
    else:
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)


# ---- tensor() -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        1.5,
        3,
        True,
        [1.0, 2.5],
        [1, 2, 3],
        [True, False],
        [[1, 2], [3, 4]],
        [1, 2.5],
        [True, 2],
        [[[1.0]]],
        [],
        [[], []],
    ],
    ids=repr,
)
def test_tensor_dtype_inference_matches_torch(data):
    assert_like_torch(rt.tensor(data), torch.tensor(data))


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(6, dtype=np.float64).reshape(2, 3) / 7,
        np.arange(6, dtype=np.int32),
        np.arange(6, dtype=np.int16),
        np.arange(6, dtype=np.uint8),
        np.array([True, False]),
        np.float64(2.5),
        np.array(3, dtype=np.int32),
        np.arange(12, dtype=np.float32).reshape(3, 4).T,
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_tensor_from_numpy_data_converts(arr):
    r = rt.tensor(arr)
    expect = {"f": np.float32, "i": np.int64, "u": np.int64, "b": np.bool_}[arr.dtype.kind]
    assert r.dtype.np == expect
    assert r.shape == np.shape(arr)
    assert r.numpy().flags.c_contiguous
    np.testing.assert_array_equal(r.numpy(), np.asarray(arr).astype(expect))


def test_tensor_always_copies():
    src = np.array([1.0, 2.0], np.float32)
    r = rt.tensor(src)
    src[0] = 99
    assert r[0].item() == 1.0
    r2 = rt.tensor(r)
    r2[1] = 5.0
    assert r[1].item() == 2.0
    lst = [1, 2]
    r3 = rt.tensor(lst)
    lst[0] = 7
    assert r3.tolist() == [1, 2]
    ro = np.array([1.0, 2.0], np.float32)
    ro.flags.writeable = False
    r4 = rt.tensor(ro)
    r4[0] = 3.0  # a writable copy
    assert ro[0] == 1.0


def test_tensor_of_tensors_and_requires_grad():
    a = rt.tensor([rt.tensor(1.0), rt.tensor(2.0)])
    assert a.shape == (2,) and a.tolist() == [1.0, 2.0]
    t = rt.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    with pytest.raises(rt.DTypeError):
        rt.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize(
    "data,dtype",
    [
        ([1.7, -1.7, 2.5, -0.5], "int64"),
        ([1.7, -1.7, 0.0], "bool"),
        ([1, 0, -3], "float32"),
        ([1, 0, -3], "bool"),
        ([True, False], "float32"),
        ([True, False], "int64"),
        ([2**40, -5], "float32"),
    ],
)
def test_tensor_explicit_dtype_matches_torch(data, dtype):
    r = rt.tensor(data, dtype=getattr(rt, dtype))
    assert_like_torch(r, torch.tensor(data, dtype=getattr(torch, dtype)))


def test_dtype_spellings():
    for spelling in (rt.float32, rt.float, float, "float32", torch.float32):
        assert rt.zeros(1, dtype=spelling).dtype is rt.float32
    for spelling in (rt.int64, rt.long, int, torch.int64, "long"):
        assert rt.zeros(1, dtype=spelling).dtype is rt.int64
    for spelling in (rt.bool, bool, torch.bool):
        assert rt.zeros(1, dtype=spelling).dtype is rt.bool
    assert repr(rt.float32) == "rustorch.float32"
    assert pickle.loads(pickle.dumps(rt.int64)) is rt.int64


@pytest.mark.parametrize(
    "bad", [torch.float64, torch.int32, torch.float16, "float64", np.float64, np.int8, "complex"]
)
def test_unsupported_dtype_raises(bad):
    for make in (
        lambda: rt.zeros(2, dtype=bad),
        lambda: rt.tensor([1.0], dtype=bad),
        lambda: rt.ones(2, dtype=bad),
        lambda: rt.full((2,), 1, dtype=bad),
        lambda: rt.arange(3, dtype=bad),
        lambda: rt.ones(2).to(bad),
    ):
        with pytest.raises(rt.DTypeError) as ei:
            make()
        assert isinstance(ei.value, TypeError)


def test_tensor_bad_data():
    with pytest.raises(rt.ShapeError):
        rt.tensor([[1, 2], [3]])
    with pytest.raises(rt.DTypeError):
        rt.tensor(["a", "b"])
    with pytest.raises(rt.DTypeError):
        rt.tensor([1 + 2j])
    with pytest.raises(rt.DTypeError):
        rt.tensor([1.0], device="cuda")
    assert rt.tensor([1.0], device="cpu").device == "cpu"


# ---- from_numpy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_])
def test_from_numpy_shares_memory_both_ways(dt):
    arr = np.zeros((2, 3), dt)
    t = rt.from_numpy(arr)
    assert t.shape == (2, 3) and t.dtype.np == np.dtype(dt)
    assert np.shares_memory(t.numpy(), arr)
    arr[0, 1] = 1
    assert t[0, 1].item() == 1
    t[1, 2] = 1
    assert arr[1, 2] == 1
    with rt.no_grad():
        t.fill_(1)
    assert np.all(arr == 1)


def test_from_numpy_zero_d_and_empty():
    a = np.array(2.5, np.float32)
    t = rt.from_numpy(a)
    assert t.shape == () and t.item() == 2.5
    e = np.zeros((0, 3), np.int64)
    assert rt.from_numpy(e).shape == (0, 3)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((3, 4), np.float32)[:, ::2],
        np.zeros((3, 4), np.float32).T,
        np.asfortranarray(np.zeros((3, 4), np.int64)),
        np.zeros(10, np.bool_)[::3],
    ],
    ids=["slice", "transpose", "fortran", "bool_step"],
)
def test_from_numpy_non_contiguous_raises_layout_error(arr):
    with pytest.raises(rt.LayoutError) as ei:
        rt.from_numpy(arr)
    assert isinstance(ei.value, ValueError)
    assert str(arr.shape) in str(ei.value)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros(3, np.float64),
        np.zeros(3, np.int32),
        np.zeros(3, np.float16),
        np.zeros(3, np.uint8),
        np.zeros(3, ">f4"),
        np.zeros(3, np.complex64),
    ],
    ids=str,
)
def test_from_numpy_unsupported_dtype_raises(arr):
    with pytest.raises(rt.DTypeError) as ei:
        rt.from_numpy(arr)
    assert "from_numpy" in str(ei.value)
    assert str(arr.dtype) in str(ei.value)


def test_from_numpy_non_array():
    with pytest.raises(rt.DTypeError):
        rt.from_numpy([1.0, 2.0])


# ---- factories ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize(
    "args", [((),), (3,), (2, 3), ((2, 3),), ([4, 0],), (0,), (1, 1, 1)], ids=repr
)
@pytest.mark.parametrize("dtype", [None, "float32", "int64", "bool"])
def test_basic_factories(name, args, dtype):
    kw = {} if dtype is None else {"dtype": getattr(rt, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    r = getattr(rt, name)(*args, **kw)
    t = getattr(torch, name)(*args, **tkw)
    assert_like_torch(r, t, values=name != "empty")
    rl = getattr(rt, name + "_like")(r)
    tl = getattr(torch, name + "_like")(t)
    assert_like_torch(rl, tl, values=name != "empty")
    assert rl.numpy() is not r.numpy()


def test_factory_requires_grad_and_errors():
    z = rt.zeros(2, 3, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    assert rt.ones_like(z).requires_grad is False
    assert rt.zeros_like(z, requires_grad=True).requires_grad
    with pytest.raises(rt.DTypeError):
        rt.zeros(2, dtype=rt.int64, requires_grad=True)
    with pytest.raises(rt.ShapeError) as ei:
        rt.zeros(2, -1)
    assert "negative dimension" in str(ei.value) and "zeros" in str(ei.value)
    with pytest.raises(rt.DTypeError):
        rt.ones(2.5)
    with pytest.raises(rt.DTypeError):
        rt.empty("3")
    with pytest.raises(rt.DTypeError):
        rt.zeros_like([1, 2])
    with pytest.raises(rt.DTypeError):
        rt.ones(2, device="cuda")


@pytest.mark.parametrize(
    "size,value,dtype",
    [
        ((2, 3), 1.5, None),
        ((2,), 7, None),
        ((2,), True, None),
        (3, -2, None),
        ((2, 2), 2.7, "int64"),
        ((2,), 0, "bool"),
        ((2,), 3, "float32"),
        ((0, 2), 1.0, None),
        ((), 4.0, None),
        ((3,), float("inf"), None),
    ],
)
def test_full_matches_torch(size, value, dtype):
    kw = {} if dtype is None else {"dtype": getattr(rt, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    r = rt.full(size, value, **kw)
    t = torch.full((size,) if isinstance(size, int) else size, value, **tkw)
    assert_like_torch(r, t)
    assert_like_torch(rt.full_like(r, 5), torch.full_like(t, 5))


@pytest.mark.parametrize(
    "args,kw",
    [
        ((5,), {}),
        ((0,), {}),
        ((2, 9), {}),
        ((2, 9, 3), {}),
        ((10, 0, -3), {}),
        ((-5, 5, 2), {}),
        ((0, 1, 0.1), {}),
        ((1, 2.5, 0.5), {}),
        ((0.5, -2.0, -0.25), {}),
        ((5.0,), {}),
        ((3,), {"dtype": "float32"}),
        ((1, 4), {"dtype": "float32"}),
        ((-1.0, 1.0, 0.3), {}),
    ],
    ids=repr,
)
def test_arange_matches_torch(args, kw):
    rk = {k: getattr(rt, v) for k, v in kw.items()}
    tk = {k: getattr(torch, v) for k, v in kw.items()}
    assert_like_torch(rt.arange(*args, **rk), torch.arange(*args, **tk), exact=False)


def test_arange_errors():
    with pytest.raises(rt.ShapeError):
        rt.arange(0, 5, 0)
    with pytest.raises(rt.ShapeError):
        rt.arange(5, 0, 1)
    with pytest.raises(RuntimeError):
        torch.arange(5, 0, 1)
    r = rt.arange(rt.tensor(4))
    assert r.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "args", [(0, 1, 5), (-3, 7, 1), (0, 1, 0), (2.5, -2.5, 11), (0, 1, 100), (1, 1, 3)]
)
def test_linspace_matches_torch(args):
    assert_like_torch(rt.linspace(*args), torch.linspace(*args), exact=False)


@pytest.mark.parametrize("n,m", [(0, None), (1, None), (3, None), (2, 4), (4, 2), (3, 0)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_eye_matches_torch(n, m, dtype):
    args = (n,) if m is None else (n, m)
    r = rt.eye(*args, dtype=getattr(rt, dtype))
    t = torch.eye(*args, dtype=getattr(torch, dtype))
    assert_like_torch(r, t)


def test_eye_errors():
    with pytest.raises(rt.ShapeError):
        rt.eye(-1)


# ---- random -------------------------------------------------------------------------------------
def test_manual_seed_determinism():
    rt.manual_seed(123)
    a = [rt.rand(5), rt.randn(2, 3), rt.randint(0, 10, (7,)), rt.randperm(9)]
    rt.manual_seed(123)
    b = [rt.rand(5), rt.randn(2, 3), rt.randint(0, 10, (7,)), rt.randperm(9)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert rt.initial_seed() == 123
    rt.manual_seed(124)
    assert not np.array_equal(rt.rand(5).numpy(), a[0].numpy())
    # consecutive draws differ
    rt.manual_seed(5)
    assert not np.array_equal(rt.rand(16).numpy(), rt.rand(16).numpy())


def test_generator_objects_and_state():
    g1 = rt.Generator(7)
    g2 = rt.Generator().manual_seed(7)
    np.testing.assert_array_equal(rt.randn(10, generator=g1).numpy(), rt.randn(10, generator=g2))
    st = g1.get_state()
    x = rt.rand(6, generator=g1)
    g1.set_state(st)
    np.testing.assert_array_equal(rt.rand(6, generator=g1).numpy(), x.numpy())
    assert g1.initial_seed() == 7
    # the default generator is untouched by private generators
    rt.manual_seed(1)
    ref = rt.rand(4).numpy()
    rt.manual_seed(1)
    rt.rand(4, generator=rt.Generator(99))
    np.testing.assert_array_equal(rt.rand(4).numpy(), ref)


def test_rand_statistics():
    rt.manual_seed(0)
    u = rt.rand(200_000).numpy().astype(np.float64)
    assert u.dtype == np.float64 and u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005
    assert abs(u.var() - 1 / 12) < 0.002
    hist = np.histogram(u, bins=10, range=(0, 1))[0] / u.size
    assert np.all(np.abs(hist - 0.1) < 0.005)
    n = rt.randn(200_000).numpy().astype(np.float64)
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    assert abs(np.mean(np.abs(n) < 1) - 0.6827) < 0.01
    assert np.all(np.isfinite(n))
    # neighbouring elements are uncorrelated
    assert abs(np.corrcoef(n[:-1], n[1:])[0, 1]) < 0.02


def test_randint_and_randperm():
    rt.manual_seed(3)
    r = rt.randint(-3, 4, (50_000,))
    assert r.dtype is rt.int64
    v = r.numpy()
    assert v.min() == -3 and v.max() == 3
    counts = np.bincount(v + 3) / v.size
    assert np.all(np.abs(counts - 1 / 7) < 0.01)
    assert rt.randint(5, (3, 2)).shape == (3, 2)
    assert rt.randint(2, 5, (4,), dtype=rt.float32).dtype is rt.float32
    big = rt.randint(0, 2**40, (1000,)).numpy()
    assert big.max() > 2**32  # the full range is reachable, not just 32 bits
    with pytest.raises(rt.ShapeError):
        rt.randint(5, 5, (2,))
    for n in (0, 1, 10, 1000):
        p = rt.randperm(n)
        assert p.dtype is rt.int64 and p.shape == (n,)
        np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(n))
    assert not np.array_equal(rt.randperm(1000).numpy(), np.arange(1000))


def test_random_shapes_and_dtype_errors():
    assert rt.rand(()).shape == ()
    assert rt.rand(0, 3).shape == (0, 3)
    assert rt.randn((2, 3)).shape == (2, 3)
    assert rt.rand_like(rt.zeros(2, 2)).shape == (2, 2)
    assert rt.randn_like(rt.zeros(4)).dtype is rt.float32
    assert rt.rand(3, requires_grad=True).requires_grad
    with pytest.raises(rt.DTypeError):
        rt.rand(3, dtype=rt.int64)
    with pytest.raises(rt.DTypeError):
        rt.randn(3, dtype=rt.bool)
    with pytest.raises(rt.ShapeError):
        rt.rand(-1)


# ---- attributes ---------------------------------------------------------------------------------
def test_basic_attributes_match_torch():
    for shape in [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 2, 3, 4)]:
        r = rt.zeros(shape)
        t = torch.zeros(shape)
        assert isinstance(r.shape, tuple) and r.shape == tuple(t.shape)
        assert r.ndim == t.ndim == r.dim()
        assert r.numel() == t.numel() == r.nelement()
        assert r.size() == tuple(t.size())
        assert r.stride() == t.stride()
        for d in range(-len(shape), len(shape)):
            assert r.size(d) == t.size(d)
            assert r.stride(d) == t.stride(d)
        assert r.is_contiguous() and r.device == "cpu" and not r.is_cuda
        assert r.element_size() == 4 and r.is_floating_point()
    assert rt.zeros(2, dtype=rt.int64).element_size() == 8
    assert not rt.zeros(2, dtype=rt.bool).is_floating_point()
    with pytest.raises(rt.IndexingError):
        rt.zeros(2, 3).size(2)
    with pytest.raises(IndexError):
        rt.zeros(2, 3).size(-3)


def test_size_of_0d_matches_torch():
    with pytest.raises(IndexError):
        torch.zeros(()).size(1)
    with pytest.raises(IndexError):
        rt.zeros(()).size(1)


def test_item_tolist():
    for data in (2.5, 7, True, [1.5], [[3]]):
        r, t = rt.tensor(data), torch.tensor(data)
        assert r.item() == t.item() and type(r.item()) is type(t.item())
    for data in ([1.5, 2.0], [[1, 2], [3, 4]], [True, False], [], 4.25, [[[]]]):
        r, t = rt.tensor(data), torch.tensor(data)
        assert r.tolist() == t.tolist()
        assert type(r.tolist()) is type(t.tolist())
    with pytest.raises(rt.ShapeError):
        rt.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError):
        rt.zeros(0).item()


def test_numpy_zero_copy_and_requires_grad():
    r = rt.ones(3)
    a = r.numpy()
    a[0] = 5
    assert r[0].item() == 5
    assert r.numpy() is a or np.shares_memory(r.numpy(), a)
    w = rt.ones(3, requires_grad=True)
    with pytest.raises(rt.AutogradError) as ei:
        w.numpy()
    assert "detach" in str(ei.value)
    with pytest.raises(RuntimeError):
        (w * 2).numpy()
    d = w.detach().numpy()
    d[1] = 7  # detach shares storage, like torch
    assert w[1].item() == 7.0
    assert w.numpy(force=True).tolist() == [1.0, 7.0, 1.0]


def test_array_protocol():
    r = rt.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(r)
    assert a.dtype == np.float32 and np.shares_memory(a, r.numpy())
    f = np.asarray(r, dtype=np.float64)
    assert f.dtype == np.float64 and not np.shares_memory(f, r.numpy())
    np.testing.assert_array_equal(np.array(r), [[1, 2], [3, 4]])
    assert np.add(r, 1).dtype == np.float32
    assert not np.shares_memory(np.array(r, copy=True), r.numpy())


def test_detach_clone_contiguous():
    x = rt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    c = y.clone()
    assert c.requires_grad and c.grad_fn.name() == "CloneBackward0"
    assert not np.shares_memory(c.detach().numpy(), y.detach().numpy())
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])
    assert x.contiguous() is x
    assert x.cpu() is x
    assert x.data.requires_grad is False
    x2 = rt.zeros(2)
    x2.data = rt.ones(2)
    assert x2.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError):
        x2.data = [1.0]
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_requires_grad_flags_and_grad_fn():
    x = rt.zeros(3)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    x.requires_grad_(True)
    y = x + 1
    assert not y.is_leaf and y.grad_fn.name() == "AddBackward0"
    with pytest.raises(rt.AutogradError):
        y.requires_grad_(False)
    with pytest.raises(rt.DTypeError) as ei:
        rt.zeros(2, dtype=rt.int64).requires_grad_()
    assert "int64" in str(ei.value) and "(2,)" in str(ei.value)
    with pytest.raises(rt.DTypeError):
        rt.zeros(2, dtype=rt.bool).requires_grad = True
    nf = y.grad_fn.next_functions
    assert len(nf) == 2 and nf[0][0].name() == "torch::autograd::AccumulateGrad"
    assert nf[0][0].variable is x and nf[1][0] is None
    assert "AddBackward0" in repr(y.grad_fn)
    with pytest.raises(rt.AutogradError):
        y.retain_grad()


@pytest.mark.parametrize(
    "vals",
    [
        [0.0, -0.0, 0.5, -0.5, 1.9, -1.9, 2.0, 1e9, -1e9, 3.4e15],
        [float("inf"), float("-inf"), float("nan"), 0.0, 1.0],  # NaN -> long is undefined
    ],
)
def test_float_casts_match_torch(vals):
    r, t = rt.tensor(vals), torch.tensor(vals)
    assert_like_torch(r.bool(), t.bool())
    finite = [v for v in vals if np.isfinite(v)]
    if finite:
        assert_like_torch(rt.tensor(finite).long(), torch.tensor(finite).long())
    assert_like_torch(r.float(), t.float())
    assert r.float() is r  # same dtype: no copy, like torch


def test_int_bool_casts_match_torch():
    i = [0, 1, -1, 2**31, -(2**40), 2**53 + 1, 7]
    r, t = rt.tensor(i), torch.tensor(i)
    assert_like_torch(r.float(), t.float())
    assert_like_torch(r.bool(), t.bool())
    b = [True, False, True]
    rb, tb = rt.tensor(b), torch.tensor(b)
    assert_like_torch(rb.float(), tb.float())
    assert_like_torch(rb.long(), tb.long())
    assert_like_torch(r.to(rt.float32), t.to(torch.float32))
    assert_like_torch(r.to(dtype=rt.bool), t.to(dtype=torch.bool))
    assert_like_torch(r.type(rt.float32), t.type(torch.float32))
    assert r.type() == "rustorch.LongTensor" and rb.type() == "rustorch.BoolTensor"
    assert rt.zeros(1).type() == "rustorch.FloatTensor"
    assert r.to("cpu") is r
    with pytest.raises(rt.DTypeError):
        r.to("cuda")
    with pytest.raises(rt.DTypeError):
        r.to(device="cuda:0")
    c = rt.tensor([1.5], requires_grad=True).long()
    assert not c.requires_grad


def test_python_protocols():
    r = rt.tensor([[1, 2], [3, 4]])
    assert len(r) == 2
    assert [x.tolist() for x in r] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        len(rt.tensor(1.0))
    with pytest.raises(TypeError):
        iter(rt.tensor(1.0))
    assert bool(rt.tensor([0.5])) and not bool(rt.tensor(0))
    with pytest.raises(RuntimeError):
        bool(rt.tensor([1, 2]))
    assert float(rt.tensor(2)) == 2.0 and int(rt.tensor(2.9)) == 2
    assert [10, 20, 30][rt.tensor(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][rt.tensor(1.0)]
    with pytest.raises(TypeError):
        [1, 2][rt.tensor([0, 1])]
    assert f"{rt.tensor(3.14159):.2f}" == "3.14"
    assert hash(r) == hash(r) and r in {r}
    c = copy.deepcopy(rt.tensor([1.0, 2.0], requires_grad=True))
    assert c.requires_grad and c.is_leaf
    with pytest.raises(TypeError):
        pickle.dumps(rt.ones(2))
    assert (+r) is r


# ---- repr ---------------------------------------------------------------------------------------
REPR_CASES = {
    "floats": lambda m: m.tensor([1.5, 2.25, -3.0]),
    "int_valued_floats": lambda m: m.tensor([1.0, 2.0, -3.0]),
    "ints": lambda m: m.tensor([1, 2, -300]),
    "bools": lambda m: m.tensor([True, False]),
    "2d": lambda m: m.tensor([[1.5, 2.0], [3.0, 4.125]]),
    "3d": lambda m: (m.arange(24.0).reshape(2, 3, 4) - 10) / 3,
    "0d_float": lambda m: m.tensor(3.5),
    "0d_int": lambda m: m.tensor(3),
    "0d_bool": lambda m: m.tensor(True),
    "empty": lambda m: m.tensor([]),
    "empty_2d": lambda m: m.zeros(0, 3),
    "empty_int": lambda m: m.zeros(2, 0, dtype=m.int64),
    "empty_bool": lambda m: m.zeros(0, dtype=m.bool),
    "requires_grad": lambda m: m.tensor([1.5, 2.0], requires_grad=True),
    "grad_fn": lambda m: m.tensor([1.5, 2.0], requires_grad=True) * 2,
    "grad_fn_0d": lambda m: m.tensor([1.5, 2.0], requires_grad=True).sum(),
    "sci_small": lambda m: m.tensor([1e-5, 1.0, 1e5]),
    "sci_big_int": lambda m: m.tensor([1e10, 1.0]),
    "nonfinite": lambda m: m.tensor([float("nan"), 1.0, float("inf"), -float("inf")]),
    "nan_frac": lambda m: m.tensor([float("nan"), 1.5]),
    "signed_zero": lambda m: m.tensor([-0.0, 0.0]),
    "zeros": lambda m: m.zeros(2, 2),
    "big_ints": lambda m: m.tensor([1, -1000000000000]),
    "summarized_1d": lambda m: m.arange(3000),
    "summarized_2d": lambda m: m.arange(2000).reshape(40, 50),
    "summarized_float": lambda m: m.linspace(0, 1, 2000),
    "wrapped_line": lambda m: m.arange(30.0) / 7,
    "nested_ints": lambda m: m.tensor([[[1, 2]], [[3, 4]]]),
}


@pytest.mark.parametrize("name", sorted(REPR_CASES))
def test_repr_matches_torch(name):
    make = REPR_CASES[name]
    r = make(rt)
    expected = repr(make(torch)).replace("torch.", "rustorch.")
    assert repr(r) == expected
    assert str(r) == expected


def test_repr_grad_fn_name_is_rustorch_node():
    x = rt.tensor([1.0], requires_grad=True)
    assert repr(rt.exp(x)) == "tensor([2.7183], grad_fn=<ExpBackward0>)"
