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
_lent = {}  # id -> count of arrays stored as .grad by backward calls still running (any thread)


def _accumulate(leaf, g, ops, handed):
    """Add g into leaf.grad; the lock makes the read-modify-write atomic across threads.

    The first gradient a leaf gets is stored without a copy, unless it is a view or an array
    already given to another leaf (pass-through rules such as add's hand one array to both
    inputs), which are copied. Such a borrowed array may still be queued for other nodes of a
    running backward, so adding into it is done out of place; only a grad array that no running
    backward lent out is updated in place.
    """
    d = g._data
    with _acc_lock:
        cur = leaf.grad
        if cur is None:
            i = id(d)
            if d.base is not None or i in handed:
                leaf.grad = ops.clone_detached(g)
            else:
                handed.add(i)
                _lent[i] = _lent.get(i, 0) + 1
                leaf.grad = g if g.grad_fn is None and not g._rg else g.detach()
        elif id(cur._data) in _lent:
            leaf.grad = ops.add_grads(cur, g)
        else:
            ops.add_inplace(cur, g)


OPS = None  # rustorch.ops, set when it is imported (kept out of the import cycle)
_wrap = None  # rustorch._tensor._wrap, set with OPS
_ew = None  # the elementwise kernel module, set with OPS
_ONE = None  # a float32 1.0 array, set with OPS


class _Ops:
    """The four array operations the engine needs, on kernels directly (no op-layer overhead)."""

    @staticmethod
    def ones_like_data(t):
        return _wrap(_ew.fill_like(_ONE, t._data.shape))

    @staticmethod
    def clone_detached(g):
        return _wrap(g._data.copy())  # storage copy

    @staticmethod
    def add_inplace(acc, g):
        _ew.binary(0, acc._data, g._data, acc._data)

    @staticmethod
    def add_grads(a, b):
        return _wrap(_ew.binary_new(0, a._data, b._data))


def backward(tensor, grad, retain_graph):
    """Tensor.backward's engine entry: runs with grad mode off in this thread."""
    ops = OPS
    handed = set()
    if grad is None:
        grad = ops.ones_like_data(tensor)
    else:
        handed.add(id(grad._data))  # the caller's array: never store it as a .grad
    prev = getattr(_state, "enabled", True)
    _state.enabled = False
    try:
        run_backward(tensor, grad, retain_graph, ops, handed)
    finally:
        _state.enabled = prev
        if len(handed) > 0:
            with _acc_lock:
                for i in handed:
                    c = _lent.get(i, 0) - 1
                    if c > 0:
                        _lent[i] = c
                    else:
                        _lent.pop(i, None)


def run_backward(tensor, grad, retain_graph, ops, handed):
    """Propagate ``grad`` from ``tensor`` to every leaf that requires grad."""
    root = tensor.grad_fn
    if root is None:
        _accumulate(tensor, grad, ops, handed)
        return
    # Count, for each node, how many edges point at it: it runs once all of them delivered.
    deps = {}
    stack = [root]
    while stack:
        for e in stack.pop().next:
            if type(e) is Node:
                if e in deps:
                    deps[e] += 1
                else:
                    deps[e] = 1
                    stack.append(e)
    grads = {}
    ready = [(root, grad)]
    while ready:
        n, g = ready.pop()
        nxt = n.next
        if g is not None:
            fn = n._fn
            if fn is None:
                raise AutogradError(_FREED)
            outs = fn(g)
            if not retain_graph and n._saves:
                n._fn = None
        else:
            outs = (None,) * len(nxt)
        for e, gi in zip(nxt, outs):
            if e is None:
                continue
            if type(e) is Node:
                if gi is not None:
                    prev = grads.get(e)
                    grads[e] = gi if prev is None else ops.add_grads(prev, gi)
                c = deps[e] - 1
                deps[e] = c
                if c == 0:
                    ready.append((e, grads.pop(e, None)))
            elif gi is not None:
                _accumulate(e, gi, ops, handed)
