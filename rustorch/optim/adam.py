"""Adam and AdamW (torch.optim.Adam / AdamW's single-tensor update, fused into one kernel)."""

import numpy as np

from rustorch._config import get_num_threads
from rustorch._dtype import NP_F32
from rustorch._kernels import optim as _k
from rustorch._tensor import Tensor, _wrap
from rustorch.optim.optimizer import Optimizer


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, foreach=None, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``.

    Per parameter, in one fused pass (torch's order of operations, bias corrections in double)::

        t += 1;  g = grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_max, v) if amsgrad else v
        p += -(lr / (1 - beta1**t)) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    State per parameter, like torch: "step" (a float32 0-d tensor), "exp_avg", "exp_avg_sq" and,
    with amsgrad, "max_exp_avg_sq".
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable:
            raise ValueError(f"{type(self).__name__}(differentiable=True) is not supported")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        amsgrad = bool(group["amsgrad"])
        maximize = bool(group["maximize"])
        decoupled = bool(group["decoupled_weight_decay"])
        nt = get_num_threads()
        for p in group["params"]:
            g = self._grad_of(p)
            if g is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _wrap(np.zeros((), NP_F32))
            m = self._buffer(state, "exp_avg", p)
            v = self._buffer(state, "exp_avg_sq", p)
            vmax = self._buffer(state, "max_exp_avg_sq", p) if amsgrad else None
            step = _increment(state)
            _k.adam(
                p._data,
                g,
                m,
                v,
                vmax,
                lr,
                beta1,
                beta2,
                eps,
                wd,
                step,
                amsgrad,
                maximize,
                decoupled,
                nt,
            )


def _increment(state) -> float:
    """state["step"] += 1 in float32 (torch keeps the count in a float32 tensor); returns it."""
    st = state.get("step")
    if not isinstance(st, Tensor) or st._data.dtype is not NP_F32 or st._data.size != 1:
        st = _wrap(np.array(float(st if not isinstance(st, Tensor) else st.item()), NP_F32))
        state["step"] = st
    d = st._data
    if not d.flags.writeable:
        d = d.copy()
        st._data = d
    d[...] = float(d.reshape(-1)[0]) + 1.0  # scalar storage write, rounded to float32
    return float(d.reshape(-1)[0])


class AdamW(Adam):
    """Adam with decoupled weight decay: ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=1e-2, amsgrad=False, *, maximize=False, ...)``."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
