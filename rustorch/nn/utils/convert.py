"""Converting torch (or numpy) state dicts to rustorch tensors, through numpy."""

from collections import OrderedDict

import numpy as np

from rustorch._tensor import Tensor


def _is_torch_tensor(obj) -> bool:
    # duck-typed so torch is never imported here
    mod = type(obj).__module__ or ""
    return (mod == "torch" or mod.startswith("torch.")) and hasattr(obj, "detach")


def torch_to_numpy(t):
    """A torch tensor as a numpy array rustorch can hold (float32, int64 or bool)."""
    t = t.detach().cpu()
    if t.is_floating_point():
        if str(t.dtype) != "torch.float32":
            t = t.float()
    elif str(t.dtype) != "torch.bool":
        t = t.long()
    return t.contiguous().numpy()


def _convert(obj, leaf):
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, _convert(v, leaf)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _convert(v, leaf) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_convert(v, leaf) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_convert(v, leaf) for v in obj)
    if _is_torch_tensor(obj) or isinstance(obj, (np.ndarray, Tensor)):
        return leaf(obj)
    return obj


def state_dict_from_torch(state_dict):
    """A (module or optimizer) state dict with every torch tensor / numpy array replaced by a
    rustorch Tensor holding a copy of its data, converted through numpy (torch is not imported
    here). Floating tensors become float32, integer tensors int64; nested dicts/lists/tuples are
    walked, other values are kept."""
    from rustorch._creation import tensor

    def leaf(x):
        if isinstance(x, Tensor):
            return x
        arr = torch_to_numpy(x) if _is_torch_tensor(x) else x
        return tensor(np.array(arr, copy=True))

    return _convert(state_dict, leaf)


def state_dict_to_numpy(state_dict):
    """The same walk, producing numpy arrays (e.g. to hand rustorch weights to torch with
    ``torch.from_numpy``)."""

    def leaf(x):
        if isinstance(x, Tensor):
            return x._data.copy()
        if _is_torch_tensor(x):
            return torch_to_numpy(x).copy()
        return np.array(x, copy=True)

    return _convert(state_dict, leaf)
