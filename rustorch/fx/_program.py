"""Compile a torch.fx graph into one straight-line Python function over rustorch ops.

``Program(gm)`` looks every node up in the op table (``_ops``), decides per node whether it
runs natively or on eager torch, and generates the source of one function with a line per
node (``v7 = F7(v3, v5, [1, 1])``), so running the graph costs a Python call per node and no
interpretation. Graph inputs are converted zero-copy on entry, outputs zero-copy on exit.

Fallback: a node that rustorch does not implement (or whose metadata shows a dtype or device
rustorch does not store) calls its torch target with its arguments shared zero-copy; the
program warns once, naming every such op of the graph, or raises ``UnsupportedOpError`` in
strict mode. A native node that raises at run time (arguments outside what the handler
implements) is switched to torch for good with a warning, and the call resumes from that node
with the values computed so far (read from the failed frame), so nothing runs twice.
"""

from __future__ import annotations

import itertools
import keyword
import math
import os
import sys
import warnings

import torch

from rustorch._dtype import bool_ as _rt_bool
from rustorch._dtype import dtype as _rt_dtype_cls
from rustorch._dtype import float32 as _rt_f32
from rustorch._dtype import int64 as _rt_i64
from rustorch.errors import TorchError
from rustorch.fx import _ops
from rustorch.fx._convert import Transposed, materialize, r2t, t2r, tree_r2t, tree_t2r

_RT_DTYPES = {torch.float32: _rt_f32, torch.int64: _rt_i64, torch.bool: _rt_bool}
_OK_DTYPES = frozenset(_RT_DTYPES)
_SIMPLE = (int, bool, str, type(None))
_NO_IMPL = "not implemented in rustorch"
_SERIAL = itertools.count()


class UnsupportedOpError(TorchError, NotImplementedError):
    """Strict mode: the graph contains ops that rustorch does not run natively."""


class FallbackWarning(UserWarning):
    """Some ops of a compiled graph run on eager torch instead of rustorch."""


def strict_from_env() -> bool:
    return os.environ.get("RUSTORCH_FX_STRICT", "").strip().lower() not in ("", "0", "false", "no")


def op_name(node, gm=None) -> str:
    """A readable name for what a node calls: 'aten.addmm.default', 'torch.relu', ..."""
    if node.op == "call_function":
        t = node.target
        if isinstance(t, torch._ops.OpOverload):
            return str(t)
        spec = _ops.FUNCTIONS.get(t) if _hashable(t) else None
        return spec.name if spec is not None else _ops._qualname(t)
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.op == "call_module" and gm is not None:
        cls = type(gm.get_submodule(node.target))
        if getattr(torch.nn, cls.__name__, None) is cls:
            return f"torch.nn.{cls.__name__}"
        return f"{cls.__module__}.{cls.__qualname__}"
    return f"{node.op}:{node.target}"


def _hashable(x) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _fake_values(x):
    """Tensor fake values in a node's meta (or an argument tree of nodes)."""
    out = []

    def visit(v):
        if isinstance(v, torch.fx.Node):
            visit(v.meta.get("val", v.meta.get("example_value")))
        elif isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            for e in v:
                visit(e)
        elif isinstance(v, dict):
            for e in v.values():
                visit(e)

    visit(x)
    return out


def _meta_reason(node):
    """Why a node's metadata rules out rustorch (dtype, device, layout), or None."""
    vals = _fake_values(node) + _fake_values(list(node.args)) + _fake_values(node.kwargs)
    for v in vals:
        if v.dtype not in _OK_DTYPES:
            return f"dtype {v.dtype}"
        if v.device.type not in ("cpu", "meta"):
            return f"device {v.device}"
        if v.layout is not torch.strided:
            return f"layout {v.layout}"
    for c in _constants(node.args) + _constants(node.kwargs):
        if isinstance(c, torch.dtype) and c not in _OK_DTYPES:
            return f"dtype {c}"
        if isinstance(c, torch.device) and c.type != "cpu":
            return f"device {c}"
    return None


def _constants(x):
    out = []

    def visit(v):
        if isinstance(v, (list, tuple)):
            for e in v:
                visit(e)
        elif isinstance(v, dict):
            for e in v.values():
                visit(e)
        elif not isinstance(v, torch.fx.Node):
            out.append(v)

    visit(x)
    return out


class _Step:
    """What one node does: kind is input / attr / native / torch / output."""

    __slots__ = ("node", "index", "kind", "spec", "reason", "name")

    def __init__(self, node, index):
        self.node = node
        self.index = index
        self.kind = None
        self.spec = None
        self.reason = None
        self.name = None


class Program:
    """A GraphModule compiled to run on rustorch; call it with torch tensors."""

    def __init__(self, gm, *, strict=None, graph_name="graph"):
        _ops.build_torch_tables()
        self.gm = gm
        self.strict = strict_from_env() if strict is None else bool(strict)
        self.graph_name = graph_name
        self.calls = 0
        self.serial = next(_SERIAL)
        self.steps = [_Step(n, i) for i, n in enumerate(gm.graph.nodes)]
        self._by_node = {s.node: s for s in self.steps}
        for s in self.steps:
            self._classify(s)
        self.fallback_ops = self._report()
        self._fn, self._lines = self._codegen(0)

    # ---- classification -------------------------------------------------------------------
    def _lookup(self, node):
        if node.op == "call_function":
            t = node.target
            if isinstance(t, torch._ops.OpOverload):
                return _ops.ATEN.get(str(t))
            return _ops.FUNCTIONS.get(t) if _hashable(t) else None
        if node.op == "call_method":
            return _ops.METHODS.get(node.target)
        if node.op == "call_module":
            return _ops.MODULES.get(type(self.gm.get_submodule(node.target)))
        return None

    def _classify(self, s):
        node = s.node
        if node.op in ("placeholder", "output", "get_attr"):
            s.kind = {"placeholder": "input", "output": "output", "get_attr": "attr"}[node.op]
            return
        s.name = op_name(node, self.gm)
        if not node.users and isinstance(node.target, torch._ops.OpOverload):
            if not node.is_impure():
                s.kind = "dead"  # an unused pure ATen op (e.g. a reserve buffer): skipped
                return
        spec = self._lookup(node)
        if spec is None:
            s.kind, s.reason = "torch", _NO_IMPL
            return
        reason = spec.check(node) if spec.check is not None else None
        if reason is None:
            reason = _meta_reason(node)
        if reason is not None:
            s.kind, s.reason = "torch", reason
            return
        s.kind, s.spec = "native", spec

    def _report(self):
        bad = {}
        for s in self.steps:
            if s.kind == "torch":
                bad.setdefault(s.name, set()).add(s.reason)
        if not bad:
            return []
        names = sorted(bad)
        detail = ", ".join(
            n + ("" if bad[n] == {_NO_IMPL} else f" ({'; '.join(sorted(bad[n] - {_NO_IMPL}))})")
            for n in names
        )
        if self.strict:
            raise UnsupportedOpError(
                f"rustorch.fx (strict mode): {len(names)} op(s) of the {self.graph_name} are not "
                f"supported natively: {detail}. Unset strict (or RUSTORCH_FX_STRICT) to run them "
                "on eager torch."
            )
        warnings.warn(
            f"rustorch.fx: {len(names)} op(s) of the {self.graph_name} are not supported "
            f"natively and run on eager torch: {detail}",
            FallbackWarning,
            stacklevel=4,
        )
        return names

    # ---- code generation -------------------------------------------------------------------
    def _codegen(self, start, env_names=()):
        """Source for nodes[start:] (start > 0: a resume function that reads env first)."""
        g = {"I": t2r, "OT": tree_r2t, "M": materialize}
        lines = ["def _run(args, env):"]
        line_of = {}
        for name in env_names:
            lines.append(f"    {name} = env[{name!r}]")
        # placeholders whose rustorch value v{i} exists
        self._converted = {
            s.index for s in self.steps if s.kind == "input" and self._used_natively(s)
        }
        converted = self._converted
        for s in self.steps[start:]:
            node, i = s.node, s.index
            if s.kind == "input":
                k = sum(1 for t in self.steps[:i] if t.kind == "input")
                default = node.args[0] if node.args else None
                if node.args:
                    g[f"D{i}"] = default
                    lines.append(f"    a{i} = args[{k}] if len(args) > {k} else D{i}")
                else:
                    lines.append(f"    a{i} = args[{k}]")
                if i in converted:
                    lines.append(f"    v{i} = I(a{i})")
                continue
            if s.kind == "attr":
                g[f"G{i}"] = _attr_getter(self.gm, node.target)
                lines.append(f"    v{i} = G{i}()")
                continue
            if s.kind == "output":
                lines.append(f"    return {self._render_output(node.args[0], g)}")
                continue
            if s.kind == "dead":
                continue
            native = s.kind == "native"
            call = self._render_call(s, g, native)
            line_of[len(lines) + 1] = i
            lines.append(f"    v{i} = {call}  # {node.name}")
        src = "\n".join(lines) + "\n"
        code = compile(src, f"<rustorch.fx {self.graph_name}>", "exec")
        exec(code, g)
        fn = g["_run"]
        fn._rustorch_source = src
        return fn, line_of

    def _used_natively(self, s):
        return any(self._by_node[u].kind in ("native",) for u in s.node.users)

    def _value(self, n, g, native, transposes):
        """The expression for node n's value as an argument."""
        src = self._by_node[n]
        if src.kind == "input":
            if not native:
                return f"a{src.index}"
            if src.index not in self._converted:
                return f"I(a{src.index})"
        v = f"v{src.index}"
        if native and not transposes and self._may_be_transposed(src):
            return f"M({v})"
        return v

    def _may_be_transposed(self, s):
        if s.kind in ("input", "attr", "torch"):
            return True
        if s.kind == "native" and s.spec.transposes:
            return True
        return False

    def _render(self, a, g, native, transposes):
        if isinstance(a, torch.fx.Node):
            return self._value(a, g, native, transposes)
        if isinstance(a, list):
            return "[" + ", ".join(self._render(e, g, native, transposes) for e in a) + "]"
        if type(a) is tuple or (isinstance(a, tuple) and not hasattr(a, "_fields")):
            inner = ", ".join(self._render(e, g, native, transposes) for e in a)
            return "(" + inner + ("," if len(a) == 1 else "") + ")"
        if type(a) in _SIMPLE:
            return repr(a)
        if type(a) is slice:
            parts = (self._render(e, g, native, transposes) for e in (a.start, a.stop, a.step))
            return "slice(" + ", ".join(parts) + ")"
        if type(a) is float and math.isfinite(a):
            return repr(a)
        if native and isinstance(a, torch.dtype):
            a = _RT_DTYPES[a]
        key = f"K{len(g)}"
        g[key] = a
        return key

    def _render_call(self, s, g, native):
        node, i = s.node, s.index
        transposes = native and s.spec.transposes
        args = [self._render(a, g, native, transposes) for a in node.args]
        kwargs = [
            f"{k}={self._render(v, g, native, transposes)}"
            if k.isidentifier() and not keyword.iskeyword(k)
            else f"**{{{k!r}: {self._render(v, g, native, transposes)}}}"
            for k, v in node.kwargs.items()
        ]
        if native:
            g[f"F{i}"] = s.spec.fn
            if node.op == "call_module":
                g[f"m{i}"] = self.gm.get_submodule(node.target)
                args = [f"m{i}"] + args
            return f"F{i}(" + ", ".join(args + kwargs) + ")"
        g[f"F{i}"] = _torch_call(self.gm, node)
        return f"F{i}(" + ", ".join(args + kwargs) + ")"

    def _render_output(self, out, g):
        def render(a):
            if isinstance(a, torch.fx.Node):
                src = self._by_node[a]
                if src.kind == "input":
                    return f"a{src.index}"  # passed through: the caller's own tensor
                return f"OT(v{src.index})"
            if isinstance(a, (list, tuple)):
                inner = ", ".join(render(e) for e in a)
                if isinstance(a, tuple):
                    return "(" + inner + ("," if len(a) == 1 else "") + ")"
                return "[" + inner + "]"
            if isinstance(a, dict):
                return "{" + ", ".join(f"{k!r}: {render(v)}" for k, v in a.items()) + "}"
            if a is None or type(a) in (int, bool):
                return repr(a)
            key = f"K{len(g)}"
            g[key] = a
            return f"OT({key})"

        return render(out)

    # ---- running ---------------------------------------------------------------------------
    def __call__(self, *args):
        return self.run(args)

    def run(self, args):
        self.calls += 1
        try:
            return self._fn(args, None)
        except Exception:
            return self._recover(args, self._fn, self._lines, sys.exc_info()[1])

    def _recover(self, args, fn, line_of, err):
        """A native node raised: switch it to torch for good and resume the call from it with
        the values computed so far (non-strict mode; strict mode re-raises)."""
        while True:
            frame = lineno = None
            tb = err.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code is fn.__code__:
                    frame, lineno = tb.tb_frame, tb.tb_lineno
                tb = tb.tb_next
            i = line_of.get(lineno) if frame is not None else None
            s = self.steps[i] if i is not None else None
            if s is None or s.kind != "native":
                raise err
            if self.strict and isinstance(err, _ops.NotNative):
                raise UnsupportedOpError(
                    f"rustorch.fx (strict mode): {s.name} (node {s.node.name}) is not supported "
                    f"natively with these arguments: {err}"
                ) from err
            if self.strict:
                raise err
            env = {
                k: v for k, v in frame.f_locals.items() if k[:1] in ("a", "v") and k[1:].isdigit()
            }
            del frame
            s.kind, s.spec, s.reason = "torch", None, f"{type(err).__name__}: {err}"
            warnings.warn(
                f"rustorch.fx: {s.name} (node {s.node.name}) failed natively ({s.reason}); it "
                "runs on eager torch from now on",
                FallbackWarning,
                stacklevel=3,
            )
            self.fallback_ops = sorted(set(self.fallback_ops) | {s.name})
            self._fn, self._lines = self._codegen(0)
            fn, line_of = self._codegen(i, tuple(sorted(env)))
            try:
                return fn(args, env)
            except Exception as e:
                err = e

    @property
    def source(self) -> str:
        """The generated Python source (for debugging)."""
        return self._fn._rustorch_source

    def native_ops(self):
        return sorted({s.name for s in self.steps if s.kind == "native"})


def _attr_getter(gm, target):
    *path, last = target.split(".")

    def get():
        obj = gm
        for p in path:
            obj = getattr(obj, p)
        return t2r(getattr(obj, last))

    return get


def _torch_call(gm, node):
    """A callable running node's own torch target on torch values (the fallback)."""
    if node.op == "call_module":
        target = gm.get_submodule(node.target)
    elif node.op == "call_method":
        name = node.target

        def target(self, *args, **kwargs):
            return getattr(self, name)(*args, **kwargs)
    else:
        target = node.target

    def call(*args, **kwargs):
        targs = tree_to_torch(args)
        tkw = {k: tree_to_torch(v) for k, v in kwargs.items()}
        with torch.no_grad():
            r = target(*targs, **tkw)
        return tree_t2r(r)

    return call


_TORCH_DTYPES = {v: k for k, v in _RT_DTYPES.items()}


def tree_to_torch(x):
    """Arguments for a torch call: rustorch tensors (and dtypes) as torch's, zero-copy."""
    tx = type(x)
    if tx is _ops.Tensor or tx is Transposed:
        return r2t(x)
    if tx is list or tx is tuple:
        return tx(tree_to_torch(e) for e in x)
    if tx is _rt_dtype_cls:
        return _TORCH_DTYPES.get(x, x)
    return x


__all__ = ["Program", "UnsupportedOpError", "FallbackWarning", "op_name"]
