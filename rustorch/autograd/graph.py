"""Backward graph nodes and the engine that walks them.

A Node is created by an op when grad mode is on and an input requires grad. It holds a closure
that maps the output's gradient to one gradient per input (None where no gradient is needed),
and the edges to the inputs' nodes: another Node for a non-leaf input, the leaf Tensor itself
for a leaf that requires grad, or None. Saved tensors live only in the closure, so dropping the
closure frees them.
"""

import threading

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


def _accumulate(leaf, g, ops):
    # The lock makes read-modify-write of .grad atomic when threads share parameters.
    with _acc_lock:
        cur = leaf.grad
        if cur is None:
            leaf.grad = ops.clone_detached(g)
        else:
            ops.add_inplace(cur, g)


def run_backward(tensor, grad, retain_graph, ops):
    """Propagate ``grad`` from ``tensor`` to every leaf that requires grad."""
    root = tensor.grad_fn
    if root is None:
        _accumulate(tensor, grad, ops)
        return
    # Count, for each node, how many edges point at it: it runs once all of them delivered.
    deps = {}
    stack = [root]
    while stack:
        n = stack.pop()
        for e in n.next:
            if type(e) is Node:
                c = deps.get(e)
                if c is None:
                    deps[e] = 1
                    stack.append(e)
                else:
                    deps[e] = c + 1
    grads = {root: grad}
    ready = [root]
    Tensor = type(tensor)
    while ready:
        n = ready.pop()
        g = grads.pop(n, None)
        outs = None
        if g is not None:
            fn = n._fn
            if fn is None:
                raise AutogradError(_FREED)
            outs = fn(g)
            if not retain_graph and n._saves:
                n._fn = None
        nxt = n.next
        for i in range(len(nxt)):
            e = nxt[i]
            if e is None:
                continue
            gi = outs[i] if outs is not None else None
            if type(e) is Node:
                if gi is not None:
                    prev = grads.get(e)
                    grads[e] = gi if prev is None else ops.add_grads(prev, gi)
                c = deps[e] - 1
                deps[e] = c
                if c == 0:
                    ready.append(e)
            elif gi is not None and isinstance(e, Tensor):
                _accumulate(e, gi, ops)
