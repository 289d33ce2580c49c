# Declarations that let Cython compile _common.py with C-level calls for the helpers every op
# uses to record its backward node (_common.py itself stays plain Python; see rustorch/_accel.py).
# The extension type is cimported under another name so that the module's Python-level name
# `Tensor`, which the op modules import from here, stays what it is.
cimport cython

from rustorch._tensor cimport Tensor as _TensorT


@cython.locals(tt=_TensorT)
cpdef edge(t)

@cython.locals(n=Py_ssize_t)
cpdef record(name, fn, inputs, bint saves=*)
