"""rustorch: a small, auditable CPU tensor + autograd library with PyTorch's API.

Change ``import torch`` to ``import rustorch as torch`` for the supported subset. Storage is
always contiguous: ops that return strided views in torch (transpose, permute, expand, slicing)
return contiguous copies here; reshape/view/flatten/squeeze/unsqueeze share storage.
"""

from rustorch import _accel, errors

_accel.check()  # warn if a compiled op module is older than its source
from rustorch._config import __version__, get_num_threads, isa_level, set_num_threads, show_config
from rustorch._creation import (
    Generator,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    tensor,
    zeros,
    zeros_like,
)
from rustorch._dtype import bool_ as bool
from rustorch._dtype import dtype, float32, int64
from rustorch._tensor import Tensor
from rustorch.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from rustorch.errors import (
    AutogradError,
    DTypeError,
    IndexingError,
    LayoutError,
    ShapeError,
    TorchError,
)
from rustorch.ops import *  # noqa: F403  (the op namespace is the public API)
from rustorch.ops import clone  # noqa: F401

float = float32  # noqa: A001  torch.float
long = int64
from rustorch import autograd, nn, optim  # noqa: E402
from rustorch._interop import from_dlpack, from_torch  # noqa: E402
from rustorch.nn.functional import log_softmax, softmax  # noqa: E402
from rustorch.serialization import load, save  # noqa: E402

__all__ = [n for n in dir() if not n.startswith("_")]


def get_include() -> str:
    """Folder with the kernels' C headers (rt_*.h) and Cython declarations (*.pxd).

    For downstream packages: add it to the C compiler's include_dirs; Cython finds the .pxd
    files through the installed package (docs/downstream.md).
    """
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kernels")


def __getattr__(name):  # rustorch.fx imports torch, so it loads only on first use
    if name == "fx":
        import importlib

        return importlib.import_module("rustorch.fx")
    raise AttributeError(f"module 'rustorch' has no attribute {name!r}")
