"""Zero-copy exchange with torch and DLPack: from_torch / to_torch / __dlpack__ / from_dlpack."""

import subprocess
import sys

import numpy as np
import pytest

import rustorch as rt
from rustorch.errors import AutogradError, DTypeError, LayoutError

torch = pytest.importorskip("torch")


def _same_memory(a_rt, b_torch):
    return a_rt.numpy().ctypes.data == b_torch.data_ptr()


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.arange(12, dtype=torch.float32).reshape(3, 4),
        lambda: torch.arange(6, dtype=torch.int64),
        lambda: torch.tensor([True, False, True]),
        lambda: torch.tensor(2.5),
        lambda: torch.empty(0, 3),
        lambda: torch.arange(20, dtype=torch.float32)[5:15],  # offset, still contiguous
    ],
)
def test_from_torch_shares_memory(make):
    t = make()
    r = rt.from_torch(t)
    assert tuple(r.shape) == tuple(t.shape)
    assert str(r.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(r.numpy(), t.numpy())
    if t.numel():
        assert _same_memory(r, t)
        flat = r.reshape(-1)
        flat[0] = 1 if t.dtype is not torch.bool else False
        assert t.reshape(-1)[0].item() == flat[0].item()


def test_from_torch_result_works_with_ops():
    t = torch.randn(4, 5)
    r = rt.from_torch(t)
    np.testing.assert_allclose((r @ r.t()).numpy(), (t @ t.t()).numpy(), rtol=1e-5, atol=1e-5)


def test_to_torch_shares_memory_both_ways():
    r = rt.arange(6).float().reshape(2, 3)
    t = r.to_torch()
    assert t.dtype == torch.float32 and tuple(t.shape) == (2, 3)
    assert _same_memory(r, t)
    t[1, 2] = -7.0
    assert r[1, 2].item() == -7.0
    r[0, 0] = 11.0
    assert t[0, 0].item() == 11.0
    assert rt.tensor([1, 2]).to_torch().dtype == torch.int64
    assert rt.tensor([True]).to_torch().dtype == torch.bool


def test_round_trip_is_the_same_storage():
    t = torch.randn(3, 3)
    back = rt.from_torch(t).to_torch()
    assert back.data_ptr() == t.data_ptr()
    assert torch.equal(back, t)


def test_from_torch_errors():
    with pytest.raises(LayoutError, match="not C-contiguous"):
        rt.from_torch(torch.randn(3, 4).t())
    with pytest.raises(LayoutError, match="contiguous"):
        rt.from_torch(torch.randn(3, 4)[:, ::2])
    with pytest.raises(DTypeError, match="float64"):
        rt.from_torch(torch.randn(3, dtype=torch.float64))
    with pytest.raises(DTypeError, match="int32"):
        rt.from_torch(torch.arange(3, dtype=torch.int32))
    with pytest.raises(AutogradError, match="detach"):
        rt.from_torch(torch.randn(3, requires_grad=True))
    with pytest.raises(LayoutError, match="CPU"):
        rt.from_torch(torch.empty(3, device="meta"))
    with pytest.raises(LayoutError, match="layout"):
        rt.from_torch(torch.eye(3).to_sparse())
    with pytest.raises(DTypeError, match="torch.Tensor"):
        rt.from_torch(np.zeros(3, np.float32))
    # the error classes are torch's exception types too
    with pytest.raises(RuntimeError):
        rt.from_torch(torch.randn(3, 4).t())


def test_to_torch_refuses_requires_grad():
    r = rt.ones(3, requires_grad=True)
    with pytest.raises(AutogradError, match="detach"):
        r.to_torch()
    t = r.detach().to_torch()
    assert t.requires_grad is False


def test_dlpack_export_to_torch_and_numpy():
    r = rt.arange(5).float()
    assert r.__dlpack_device__() == (1, 0)
    t = torch.from_dlpack(r)
    assert _same_memory(r, t)
    t[0] = 42.0
    assert r[0].item() == 42.0
    a = np.from_dlpack(r)
    assert a.ctypes.data == r.numpy().ctypes.data
    assert torch.from_dlpack(rt.tensor([True, False])).tolist() == [True, False]
    assert np.from_dlpack(rt.tensor([3, 4])).dtype == np.int64
    with pytest.raises(AutogradError):
        r.requires_grad_(True).__dlpack__()


def test_from_dlpack_imports_torch_numpy_and_rustorch():
    t = torch.arange(4, dtype=torch.float32)
    r = rt.from_dlpack(t)
    assert _same_memory(r, t)
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    r2 = rt.from_dlpack(a)
    assert r2.numpy().ctypes.data == a.ctypes.data
    r2[0, 0] = 9
    assert a[0, 0] == 9
    r3 = rt.from_dlpack(r2)
    assert r3.numpy().ctypes.data == a.ctypes.data


def test_from_dlpack_errors():
    with pytest.raises(LayoutError, match="C-contiguous"):
        rt.from_dlpack(np.zeros((3, 4), np.float32).T)
    with pytest.raises(DTypeError, match="int32"):
        rt.from_dlpack(np.zeros(3, np.int32))
    with pytest.raises(DTypeError, match="__dlpack__"):
        rt.from_dlpack([1.0, 2.0])

    class OnGPU:
        def __dlpack__(self, **kw):
            raise AssertionError("must not be called")

        def __dlpack_device__(self):
            return (2, 0)  # kDLCUDA

    with pytest.raises(LayoutError, match="CPU"):
        rt.from_dlpack(OnGPU())
    with pytest.raises(AutogradError):
        rt.from_dlpack(torch.ones(2, requires_grad=True))


def test_import_rustorch_does_not_import_torch():
    code = "import sys, rustorch; t = rustorch.ones(2); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
