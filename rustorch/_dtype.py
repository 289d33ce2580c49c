"""The three dtypes rustorch stores: float32 (compute and autograd), int64 and bool."""

import numpy as np


class dtype:
    """A tensor element type, printed like torch's (``rustorch.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name: str, npdt, is_float: bool):
        self.name = name
        self.np = np.dtype(npdt)
        self.is_floating_point = is_float
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"rustorch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", np.float32, True)
int64 = dtype("int64", np.int64, False)
bool_ = dtype("bool", np.bool_, False)

NP_F32 = float32.np
NP_I64 = int64.np
NP_BOOL = bool_.np

# numpy dtype -> our dtype (only the three we store)
FROM_NP = {NP_F32: float32, NP_I64: int64, NP_BOOL: bool_}


def _by_name(name: str) -> dtype:
    return {"float32": float32, "int64": int64, "bool": bool_}[name]
