"""Optimizer base class: parameter groups, state, zero_grad, state_dict (torch's structure).

Subclasses implement ``_update_group(group)``, which runs one fused kernel call per parameter
(rustorch/_kernels/optim.pyx) on the parameter's own storage, so references to parameters (and
tensors sharing their storage) stay valid.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import chain

import numpy as np

from rustorch._dtype import NP_F32
from rustorch._tensor import Tensor, _wrap
from rustorch.errors import DTypeError, ShapeError


class _RequiredParameter:
    """Singleton for a group option that has no default."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj) -> str:
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of Tensors, of (name, Tensor) pairs, or of dicts (parameter
    groups, each with a "params" entry and optional per-group options)."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}"
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(dict(group))

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for group in self.param_groups:
            for k, v in self.defaults.items():
                if v is not required:
                    group.setdefault(k, v)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (unset options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = None
        if params and isinstance(params[0], tuple):
            names = [p[0] for p in params]
            params = [p[1] for p in params]
        param_group["params"] = params
        if names is not None:
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}"
                )
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
            if p._data.dtype is not NP_F32:
                raise DTypeError(
                    f"optimizer: parameters must be float32, got one of dtype {p.dtype}"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            import warnings

            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error",
                stacklevel=3,
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop (default) or zero every parameter's ``.grad``."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g.grad_fn = None
                    g.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a ``.grad``. ``closure`` (optional)
        re-evaluates the model and returns the loss; it runs with grad mode on."""
        loss = None
        if closure is not None:
            from rustorch.autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        self._opt_called = True
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict) -> None:
        raise NotImplementedError

    # ---- helpers for subclasses --------------------------------------------------------------
    @staticmethod
    def _grad_of(p):
        """p.grad's storage, checked against p (None when there is no gradient)."""
        g = p.grad
        if g is None:
            return None
        gd = g._data
        if gd.dtype is not NP_F32 or gd.shape != p._data.shape:
            raise ShapeError(
                f"optimizer: parameter of shape {tuple(p.shape)} has a gradient of shape "
                f"{tuple(gd.shape)} and dtype {g.dtype}"
            )
        return gd

    @staticmethod
    def _buffer(state, key, p):
        """state[key]'s storage, created as zeros like p if missing, checked against p."""
        t = state.get(key)
        if t is None:
            t = _wrap(np.zeros(p._data.shape, NP_F32))
            state[key] = t
        elif not isinstance(t, Tensor):
            t = _wrap(np.array(t, dtype=NP_F32))
            state[key] = t
        d = t._data
        if d.dtype is not NP_F32 or d.shape != p._data.shape or not d.flags.c_contiguous:
            raise ShapeError(
                f"optimizer: state '{key}' has shape {tuple(d.shape)} and dtype {d.dtype} but "
                f"its parameter has shape {tuple(p.shape)} (float32)"
            )
        if not d.flags.writeable:
            d = d.copy()
            state[key] = _wrap(d)
        return d

    # ---- state dict --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]} where
        indices number the parameters across groups in order, like torch. State tensors are
        returned by reference (torch does the same); ``load_state_dict`` copies them."""
        param_mappings: dict = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update(
                {
                    id(p): i
                    for i, p in enumerate(group["params"], start_index)
                    if id(p) not in param_mappings
                }
            )
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (param_mappings[id(k)] if isinstance(k, Tensor) else k): v
            for k, v in self.state.items()
        }
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state and group options saved by ``state_dict()`` (tensors are copied)."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups'")
        groups = self.param_groups
        saved_groups = [dict(g) for g in state_dict["param_groups"]]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict.get("state", {}).items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _copy_state_value(param, key, val) for key, val in v.items()}
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})


def _copy_state_value(param, key, value):
    """A private copy of one saved state entry (tensors and numpy arrays -> rustorch Tensors)."""
    from rustorch.nn.utils.convert import _is_torch_tensor, torch_to_numpy

    if _is_torch_tensor(value):
        value = torch_to_numpy(value)
    if isinstance(value, np.ndarray):
        from rustorch._creation import tensor

        return tensor(value)
    if isinstance(value, Tensor):
        t = _wrap(value._data.copy())
        return t
    if isinstance(value, dict):
        return {k: _copy_state_value(param, k, v) for k, v in value.items()}
    return value


__all__ = ["Optimizer", "required"]
