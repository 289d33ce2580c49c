"""Backward graph nodes and the engine that walks them.

A Node is created by an op when grad mode is on and an input requires grad. It holds a closure
that maps the output's gradient to one gradient per input (None where no gradient is needed),
and the edges to the inputs' nodes: another Node for a non-leaf input, the leaf Tensor itself
for a leaf that requires grad, or None. Saved tensors live only in the closure, so dropping the
closure frees them.
"""

import threading

from rustorch.autograd.grad_mode import _state
from rustorch.errors import AutogradError

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """One op's backward: ``name()``, ``next_functions`` like torch's grad_fn."""

    __slots__ = ("_name", "_fn", "next", "_saves", "__weakref__")

    def __init__(self, name, fn, next, saves=True):
        self._name = name
        self._fn = fn
        self.next = next
        self._saves = saves

    def name(self) -> str:
        return self._name

    @property
    def next_functions(self):
        out = []
        for e in self.next:
            if e is None or isinstance(e, Node):
                out.append((e, 0))
            else:
                out.append((AccumulateGrad(e), 0))
        return tuple(out)

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"


class AccumulateGrad:
    """View of a leaf edge, as torch shows it in ``next_functions``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


_acc_lock = threading.Lock()

_wrap = None  # rustorch._tensor._wrap, set by rustorch.ops (kept out of the import cycle)
_ew = None  # the elementwise kernel module, set with _wrap
_ONE = None  # a float32 1.0 array, set with _wrap


def _add(a, b):
    out = _ew.binary_new(0, a._data, b._data)
    if out is None:
        raise AutogradError(
            f"backward: gradients of shapes {a._data.shape} and {b._data.shape} reached one "
            "tensor and cannot be summed"
        )
    return _wrap(out)


def backward(tensor, grad, retain_graph):
    """Tensor.backward's engine: add d(tensor)/d(leaf) * grad into every leaf's ``.grad``.

    ``grad`` None means ones (a scalar output). The graph runs with grad mode off in this
    thread; each leaf's contributions are summed first, then all leaves are updated under one
    lock, so two threads running backward through shared parameters never lose an update.
    """
    if grad is None:
        grad = _wrap(_ew.fill_like(_ONE, tensor._data.shape))
        stored = set()
    else:
        stored = {id(grad._data)}  # the caller's array: never stored as a .grad
    root = tensor.grad_fn
    if root is None:
        leaves = {tensor: grad}
    else:
        prev = getattr(_state, "enabled", True)
        _state.enabled = False
        try:
            leaves = run_backward(root, grad, retain_graph)
        finally:
            _state.enabled = prev
    with _acc_lock:
        for leaf, g in leaves.items():
            _accumulate(leaf, g, stored)


def _accumulate(leaf, g, stored):
    """Add g into leaf.grad (the caller holds _acc_lock).

    A leaf's first gradient is stored without a copy unless it is a view or an array already
    stored for another leaf (add's backward hands one array to both inputs) or the caller's.
    Later gradients are added in place: by now this backward no longer reads any gradient array.
    """
    d = g._data
    cur = leaf.grad
    if cur is None:
        i = id(d)
        if d.base is not None or i in stored:
            leaf.grad = _wrap(d.copy())  # storage copy
        else:
            stored.add(i)
            leaf.grad = g if g.grad_fn is None and not g._rg else _wrap(d)
    else:
        _ew.binary(0, cur._data, d, cur._data)


def run_backward(root, grad, retain_graph):
    """Propagate ``grad`` from node ``root``; returns {leaf: summed gradient}."""
    # Count, for each node, how many edges point at it: it runs once all of them delivered.
    deps = {}
    stack = [root]
    while stack:
        for e in stack.pop().next:
            if type(e) is Node:
                c = deps.get(e, 0)
                deps[e] = c + 1
                if c == 0:
                    stack.append(e)
    grads = {}  # gradient summed so far for each node still waiting on consumers
    leaves = {}
    ready = [root]
    g = grad
    while ready:
        n = ready.pop()
        if n is not root:
            g = grads.pop(n, None)
        nxt = n.next
        if g is None:  # no gradient reached this node: nothing flows on
            outs = (None,) * len(nxt)
        else:
            fn = n._fn
            if fn is None:
                raise AutogradError(_FREED)
            outs = fn(g)
            if not retain_graph and n._saves:
                n._fn = None
        for i in range(len(nxt)):
            e = nxt[i]
            if e is None:
                continue
            gi = outs[i]
            if type(e) is Node:
                if gi is not None:
                    prev = grads.get(e)
                    grads[e] = gi if prev is None else _add(prev, gi)
                c = deps[e] - 1
                deps[e] = c
                if c == 0:
                    ready.append(e)
            elif gi is not None:
                prev = leaves.get(e)
                leaves[e] = gi if prev is None else _add(prev, gi)
    return leaves
