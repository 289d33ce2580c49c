"""rustorch.fx: run torch.fx graphs on rustorch, and the ``"rustorch"`` torch.compile backend.

    import torch
    compiled = torch.compile(model, backend="rustorch")   # no rustorch import needed

- ``run_fx(gm, *args)`` runs a ``torch.fx.GraphModule`` (torch-level, from
  ``torch.fx.symbolic_trace``, or ATen-level, from AOTAutograd) node by node on rustorch ops;
  inputs and outputs are torch tensors, shared zero-copy.
- ``backend(gm, example_inputs, options=None)`` is the torch.compile backend: AOTAutograd
  lowers the graph to ATen ops (core ATen decompositions, minus the ops rustorch runs fused),
  and the forward, backward and inference graphs each compile to a ``Program``.
- Ops rustorch does not implement run on eager torch, with one ``FallbackWarning`` per graph
  naming them; strict mode (``options={"strict": True}``, ``make_backend(strict=True)`` or
  ``RUSTORCH_FX_STRICT=1``) raises ``UnsupportedOpError`` instead.

This package needs torch; ``import rustorch`` never imports it. Importing this package
registers the backend under the name ``"rustorch"``; the ``torch_dynamo_backends`` entry point
in pyproject.toml makes the name work without importing rustorch first.
"""

from __future__ import annotations

import weakref

try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("rustorch.fx needs torch (pip install torch)") from e

from rustorch.fx import _ops
from rustorch.fx._program import FallbackWarning, Program, UnsupportedOpError, strict_from_env

BACKEND_NAME = "rustorch"

# Composite ops that core ATen decompositions would split into several pointwise ops but that
# rustorch runs as one fused op (or one recomputed rustorch autograd node): kept whole.
_KEEP_WHOLE = (
    "threshold_backward",
    "_log_softmax_backward_data",
    "_softmax_backward_data",
    "native_batch_norm_backward",
    "nll_loss_forward",
    "nll_loss_backward",
    "nll_loss2d_forward",
    "nll_loss2d_backward",
    "gelu_backward",
    "silu",
    "silu_backward",
    "sigmoid_backward",
    "tanh_backward",
    "leaky_relu_backward",
    "native_dropout_backward",
)


def decompositions():
    """The decomposition table the backend gives AOTAutograd."""
    from torch._decomp import core_aten_decompositions

    table = dict(core_aten_decompositions())
    keep = {getattr(torch.ops.aten, n) for n in _KEEP_WHOLE if hasattr(torch.ops.aten, n)}
    for op in list(table):
        if getattr(op, "overloadpacket", None) in keep:
            del table[op]
    return table


def compile_fx(gm, *, strict=None, graph_name="graph") -> Program:
    """Compile gm once; the result is called like gm, with torch tensors."""
    return Program(gm, strict=strict, graph_name=graph_name)


def run_fx(gm, *args, strict=None):
    """Run a torch.fx GraphModule on rustorch ops; inputs and outputs are torch tensors.

    Compiles the graph on first use and caches the program on gm (recompiled when the graph's
    code changes). Values only: no autograd graph is recorded (use the torch.compile backend
    for training).
    """
    key = (
        getattr(gm, "_code", None) or str(gm.graph),
        strict_from_env() if strict is None else strict,
    )
    cache = gm.__dict__.get("_rustorch_program")
    if cache is None or cache[0] != key:
        cache = (key, Program(gm, strict=key[1]))
        gm.__dict__["_rustorch_program"] = cache
    return cache[1].run(args)


_LIVE = weakref.WeakSet()  # programs the backend compiled that are still in use


def programs():
    """The programs compiled by the backend that are still alive, oldest first: each has
    ``graph_name``, ``calls``, ``native_ops()``, ``fallback_ops`` and ``source``."""
    return sorted(_LIVE, key=lambda p: p.serial)


def supported_ops():
    """Names of every op that runs natively on rustorch (ATen overloads, torch functions,
    Tensor methods, nn modules)."""
    return _ops.supported_names()


def _boxed(program):
    def run(args):
        return program.run(args)

    run._boxed_call = True
    run.program = program
    return run


_VALID_OPTIONS = ("strict",)


def make_backend(*, strict=None):
    """A torch.compile backend with fixed options: ``torch.compile(m, backend=make_backend(
    strict=True))``."""

    def rustorch_backend(gm, example_inputs, **kwargs):
        options = dict(kwargs.get("options") or {})
        if strict is not None:
            options.setdefault("strict", strict)
        return backend(gm, example_inputs, options=options)

    return rustorch_backend


def backend(gm, example_inputs, *, options=None, mode=None):
    """The torch.compile backend: ``torch.compile(model, backend="rustorch", options={...})``.

    Options: ``strict`` (bool, default ``RUSTORCH_FX_STRICT``): raise UnsupportedOpError
    instead of running unsupported ops on torch. ``example_inputs`` may be fake tensors; they
    are never computed on.
    """
    from torch._dynamo.backends.common import aot_autograd

    options = dict(options or {})
    unknown = sorted(set(options) - set(_VALID_OPTIONS))
    if unknown:
        raise TypeError(
            f"rustorch backend: unknown option(s) {unknown}; valid: {list(_VALID_OPTIONS)}"
        )
    strict = options.get("strict")
    strict = strict_from_env() if strict is None else bool(strict)
    programs = []

    def compiler(graph_name):
        def compile_graph(fx_gm, example_inputs):
            p = Program(fx_gm, strict=strict, graph_name=f"{graph_name} graph")
            programs.append(p)
            _LIVE.add(p)
            return _boxed(p)

        return compile_graph

    compiled = aot_autograd(
        fw_compiler=compiler("forward"),
        bw_compiler=compiler("backward"),
        inference_compiler=compiler("inference"),
        decompositions=decompositions(),
    )(gm, example_inputs)
    try:
        compiled.rustorch_programs = programs
    except AttributeError:
        pass
    return compiled


def register() -> bool:
    """Register ``backend`` as "rustorch" with torch._dynamo (done on import)."""
    try:
        from torch._dynamo.backends import registry
    except ImportError:  # pragma: no cover - torch without dynamo
        return False
    if BACKEND_NAME in registry._COMPILER_FNS:
        return True
    if BACKEND_NAME in registry._BACKENDS:
        # discovered through the entry point: lookup_backend() loads and registers it itself
        return True
    registry.register_backend(compiler_fn=backend, name=BACKEND_NAME)
    return True


register()

__all__ = [
    "BACKEND_NAME",
    "FallbackWarning",
    "Program",
    "UnsupportedOpError",
    "backend",
    "compile_fx",
    "decompositions",
    "make_backend",
    "programs",
    "register",
    "run_fx",
    "supported_ops",
]
