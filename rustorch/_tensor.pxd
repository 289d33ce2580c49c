# Declarations that let Cython compile _tensor.py with Tensor as an extension type (C fields
# instead of slots: creating and freeing a tensor costs about half as much). _tensor.py itself
# stays plain Python; see rustorch/_accel.py.
cimport cython


cdef class Tensor:
    cdef public object _data
    cdef public bint _rg
    cdef public object grad
    cdef public object grad_fn
    cdef object __weakref__


@cython.locals(t=Tensor)
cpdef _wrap(arr, grad_fn=*)
