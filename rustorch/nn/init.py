"""rustorch.nn.init: torch.nn.init's initialisers (in place, outside autograd, return the tensor).

Random initialisers draw from rustorch's counter-based generator (``rustorch.manual_seed`` or a
``generator=`` argument): the distributions and their parameters match torch's exactly, the
numbers do not (torch's RNG stream is different).
"""

from __future__ import annotations

import math
import warnings

from rustorch._creation import _gen
from rustorch._dtype import NP_F32
from rustorch._kernels import random as _rnd
from rustorch._kernels._dispatch import elementwise as _ew
from rustorch._tensor import Tensor
from rustorch.errors import DTypeError

_U_FILL = 13  # elementwise unary op code (rustorch.ops.pointwise.U_FILL)


def _float_tensor(tensor, op):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}(): expected a rustorch Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype is not NP_F32:
        raise DTypeError(f"{op}(): expected a float32 tensor, got dtype {tensor.dtype}")
    return tensor._data


def _no_elements(tensor) -> bool:
    if tensor._data.size == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (torch's table)."""
    linear_fns = [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
    ]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    num_input_fmaps = tensor.size(1)
    num_output_fmaps = tensor.size(0)
    receptive_field_size = 1
    if dimensions > 2:
        for s in tensor.shape[2:]:
            receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b)."""
    arr = _float_tensor(tensor, "uniform_")
    if arr.size:
        g = _gen(generator)
        _rnd.uniform(arr, g.seed, g._take(arr.size), float(a), float(b))
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std**2)."""
    arr = _float_tensor(tensor, "normal_")
    if arr.size:
        g = _gen(generator)
        _rnd.normal(arr, g.seed, g._take(arr.size), float(mean), float(std))
    return tensor


def constant_(tensor, val: float):
    arr = _float_tensor(tensor, "constant_")
    if arr.size:
        _ew.unary(_U_FILL, arr, arr, f0=float(val))
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Identity matrix in a 2-D tensor (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    from rustorch._creation import eye

    _float_tensor(tensor, "eye_")
    tensor._data[...] = eye(*tensor.shape)._data  # storage copy
    return tensor


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015)."""
    _float_tensor(tensor, "kaiming_uniform_")
    if _no_elements(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
):
    """N(0, std**2) with std = gain / sqrt(fan)."""
    _float_tensor(tensor, "kaiming_normal_")
    if _no_elements(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "eye_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]
