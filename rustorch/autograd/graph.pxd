# Declarations that let Cython compile graph.py with Node as an extension type and typed
# engine locals (graph.py itself stays plain Python; see rustorch/_accel.py).
cimport cython


cdef class Node:
    cdef public object _name
    cdef public object _fn
    cdef public tuple next
    cdef public bint _saves
    cdef object __weakref__


@cython.locals(n=Node, deps=dict, grads=dict, leaves=dict, ready=list, stack=list, c=Py_ssize_t,
               i=Py_ssize_t, nxt=tuple, outs=tuple)
cpdef dict run_backward(root, grad, bint retain_graph)

@cython.locals(stored=set, leaves=dict)
cpdef backward(tensor, grad, bint retain_graph)

@cython.locals(stored=set)
cdef _accumulate(leaf, g, set stored)
