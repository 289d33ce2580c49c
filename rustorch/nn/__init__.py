"""rustorch.nn: Module, Parameter, layers, functional and init with torch.nn's names.

See docs/nn.md for what is supported and how it differs from torch.
"""

from rustorch.nn import functional, init, utils
from rustorch.nn.modules import *  # noqa: F403
from rustorch.nn.modules import _Loss, _WeightedLoss
from rustorch.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils"] + [
    n for n in dir() if n[:1].isupper() and not n.startswith("_")
]
from rustorch.nn.layers_cnn import *  # noqa: E402, F403  (Conv2d, BatchNorm2d, pooling, losses)
from rustorch.nn.layers_cnn import __all__ as _cnn_all  # noqa: E402

__all__ += _cnn_all
