"""Layers, one file per family like torch.nn.modules (conv, pooling, batchnorm, dropout next)."""

from rustorch.nn.modules.activation import (
    GELU,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from rustorch.nn.modules.container import ModuleDict, ModuleList, Sequential
from rustorch.nn.modules.flatten import Flatten
from rustorch.nn.modules.linear import Identity, Linear
from rustorch.nn.modules.loss import L1Loss, MSELoss, _Loss, _WeightedLoss
from rustorch.nn.modules.module import Module
from rustorch.nn.modules.normalization import LayerNorm
from rustorch.nn.modules.sparse import Embedding

__all__ = [
    "Module",
    "Linear",
    "Identity",
    "ReLU",
    "GELU",
    "Tanh",
    "Sigmoid",
    "SiLU",
    "LeakyReLU",
    "Softplus",
    "Flatten",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "MSELoss",
    "L1Loss",
    "LayerNorm",
    "Embedding",
]
