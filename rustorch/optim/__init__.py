"""rustorch.optim: SGD, Adam, AdamW (fused update kernels) and learning-rate schedulers."""

from rustorch._kernels import _dispatch
from rustorch._kernels import optim as _kernel
from rustorch.optim import lr_scheduler
from rustorch.optim.adam import Adam, AdamW
from rustorch.optim.optimizer import Optimizer
from rustorch.optim.sgd import SGD

# FMA loops only where the elementwise kernels may use AVX2+FMA too (RUSTORCH_ISA honoured)
_kernel.use_fma(_dispatch.LEVEL >= 1)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
