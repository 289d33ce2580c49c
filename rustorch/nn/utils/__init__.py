"""rustorch.nn.utils: moving state between torch and rustorch, gradient clipping helpers.

Loading a torch ``state_dict`` into a rustorch model::

    model.load_state_dict(rustorch.nn.utils.state_dict_from_torch(torch_model.state_dict()))

or, with no torch at load time, export once where torch is installed::

    rustorch.save(torch_model.state_dict(), "weights.rt")   # torch tensors are converted
    model.load_state_dict(rustorch.load("weights.rt"))      # later, without torch
"""

from rustorch.nn.utils.convert import state_dict_from_torch, state_dict_to_numpy

__all__ = ["state_dict_from_torch", "state_dict_to_numpy"]
