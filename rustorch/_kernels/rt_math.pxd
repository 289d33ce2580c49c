# Header-only scalar float32 math from rt_math.h (docs/downstream.md), for inlining into your
# own loops: needs rustorch.get_include() on the C compiler's include path.
#
#     from rustorch._kernels.rt_math cimport rt_expf
#
# Branch-free Cephes-style polynomials that gcc/clang auto-vectorise; about 1 ulp; NaN, +-inf,
# 0 and subnormals handled like libm. Pure functions: safe from any thread, GIL or not.

cdef extern from "rt_math.h" nogil:
    float rt_expf(float x) noexcept
    float rt_logf(float x) noexcept
    float rt_tanhf(float x) noexcept
    float rt_sigmoidf(float x) noexcept
