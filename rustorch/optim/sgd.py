"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD's update)."""

from rustorch._config import get_num_threads
from rustorch._kernels import optim as _k
from rustorch.optim.optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)``.

    Per parameter, in one fused pass (torch's single-tensor order of operations)::

        g = grad (+ weight_decay * p)
        buf = g on the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
        p = p - lr * g

    ``foreach``/``fused`` are accepted for compatibility (the update is always one fused
    kernel per parameter); ``differentiable=True`` is not supported.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if differentiable:
            raise ValueError("SGD(differentiable=True) is not supported by rustorch")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        wd = float(group["weight_decay"])
        nesterov = bool(group["nesterov"])
        maximize = bool(group["maximize"])
        nt = get_num_threads()
        for p in group["params"]:
            g = self._grad_of(p)
            if g is None:
                continue
            buf = None
            first = False
            if momentum != 0:
                state = self.state[p]
                first = state.get("momentum_buffer") is None
                buf = self._buffer(state, "momentum_buffer", p)
            _k.sgd(p._data, g, buf, lr, wd, momentum, dampening, nesterov, maximize, first, nt)
