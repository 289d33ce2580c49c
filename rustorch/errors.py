"""rustorch's exception hierarchy.

Every error is a ``TorchError``, which subclasses ``RuntimeError`` so code written for torch's
errors (``except RuntimeError``) keeps working; the children also subclass the matching Python
built-in so ``except ValueError`` / ``except TypeError`` catch them too.
"""


class TorchError(RuntimeError):
    """Root of all rustorch errors."""


class ShapeError(TorchError, ValueError):
    """Shapes that do not fit the op (broadcasting, matmul, reshape, indexing, ...)."""


class LayoutError(TorchError, ValueError):
    """Memory layout that cannot be used without a copy (e.g. a non-contiguous numpy array)."""


class DTypeError(TorchError, TypeError):
    """A dtype the op does not support, or a dtype that cannot be shared zero-copy."""


class AutogradError(TorchError):
    """Misuse of autograd: freed graphs, implicit non-scalar gradients, no grad_fn, ..."""


__all__ = ["TorchError", "ShapeError", "LayoutError", "DTypeError", "AutogradError"]


class IndexingError(ShapeError, IndexError):
    """A dim or index out of range (also an IndexError, as torch raises)."""


__all__.append("IndexingError")


class StateDictError(TorchError):
    """load_state_dict(): missing or unexpected keys (strict=True), or shapes that do not match."""


class SerializationError(TorchError):
    """rustorch.load(): a truncated, corrupted or foreign file; rustorch.save(): an object that
    the format cannot store."""


__all__ += ["StateDictError", "SerializationError"]
