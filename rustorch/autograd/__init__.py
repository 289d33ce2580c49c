"""Autograd: grad mode, the backward engine (graph.py) and a numerical gradient checker."""

from rustorch.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from rustorch.autograd.gradcheck import gradcheck
from rustorch.autograd.graph import Node


def backward(tensors, grad_tensors=None, retain_graph=None):
    """torch.autograd.backward: backward() on each tensor with its gradient."""
    from rustorch._tensor import Tensor

    if isinstance(tensors, Tensor):
        tensors = [tensors]
        grad_tensors = [grad_tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    for t, g in zip(tensors, grad_tensors):
        t.backward(g, retain_graph=retain_graph)


__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "gradcheck",
    "backward",
    "Node",
]
