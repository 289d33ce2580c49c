"""Which pure-Python modules setup.py also compiles with Cython, and a staleness check.

The op layer and the autograd engine are plain Python (readable, auditable); compiling the same
files with Cython roughly halves their per-op overhead (measured: tiny graph forward+backward
17 us -> 10 us before any other change). The compiled module shadows the .py file of the same
name, so after editing one of these files rebuild (`python setup.py build_ext --inplace` or
`pip install -e .`); `check()` warns when a compiled module is older than its source.
Set RUSTORCH_PURE_PYTHON=1 at build time to skip compiling them. A module may have an
augmenting ``.pxd`` beside it that changes nothing about its Python semantics: _tensor.pxd makes
Tensor an extension type, autograd/graph.pxd does the same for the graph Node and types the
engine's locals, ops/_common.pxd makes the node-recording helpers C-level calls.
"""

import importlib.machinery
import os
import warnings

MODULES = (
    "_tensor",
    "ops/_common",
    "ops/pointwise",
    "ops/reduction",
    "ops/shape",
    "ops/linalg",
    "autograd/graph",
    "autograd/grad_mode",
)


def check() -> list:
    """Names of compiled modules older than their .py (or .pxd) source (warns once if any)."""
    here = os.path.dirname(os.path.abspath(__file__))
    stale = []
    if not os.path.isfile(os.path.join(os.path.dirname(here), "setup.py")):
        return stale  # an installed wheel, not a source tree: pip does not keep file times
    for rel in MODULES:
        srcs = [os.path.join(here, rel + ext) for ext in (".py", ".pxd")]
        newest = max(os.path.getmtime(p) for p in srcs if os.path.isfile(p))
        for suf in importlib.machinery.EXTENSION_SUFFIXES:
            so = os.path.join(here, rel + suf)
            try:
                if os.path.getmtime(so) < newest:
                    stale.append(rel)
            except OSError:
                continue
    if stale:
        warnings.warn(
            "rustorch: compiled modules are older than their source and shadow it: "
            + ", ".join(stale)
            + ". Rebuild with `python setup.py build_ext --inplace` (or pip install -e .).",
            RuntimeWarning,
            stacklevel=3,
        )
    return stale
