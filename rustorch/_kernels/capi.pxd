# Stable C-level API of rustorch's kernels for other Cython packages (docs/downstream.md).
#
#     from rustorch._kernels.capi cimport rt_sgemm, rt_sum_f32, rt_exp_f32
#
# Every function takes raw pointers to contiguous float32 data (strides only where named),
# never touches Python objects, releases nothing and acquires nothing: call it with or without
# the GIL, from any thread, including from inside your own prange. All of them are serial
# (they never start OpenMP threads). Version 1; signatures here only ever gain new functions.

# Version of this API (1): compare against what your package was written for.
cdef int rt_capi_version() noexcept nogil

# C (M x N, row stride ldc) = op(A) @ op(B), overwritten. A(i, k) = A[i*ars + k*acs] and
# B(k, j) = B[k*brs + j*bcs] (so a transposed operand is just swapped strides). Uses the GEMM
# built for this CPU (AVX-512 / AVX2 / baseline, as rustorch.show_config() reports).
# Returns 0, or -1 if a packing buffer could not be allocated. Thread-safe (per-thread buffers).
cdef int rt_sgemm(const float* A, Py_ssize_t ars, Py_ssize_t acs,
                  const float* B, Py_ssize_t brs, Py_ssize_t bcs,
                  float* C, Py_ssize_t ldc,
                  Py_ssize_t M, Py_ssize_t N, Py_ssize_t K) noexcept nogil

# Sum of x[0:n] (pairwise/blocked: error grows like log n). 0 for n <= 0.
cdef float rt_sum_f32(const float* x, Py_ssize_t n) noexcept nogil

# out[i] = f(x[i]) for i < n; out may equal x (in place). About 1 ulp, NaN/inf like libm.
cdef void rt_exp_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil
cdef void rt_log_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil
cdef void rt_tanh_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil
cdef void rt_sigmoid_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil

# ISA level of the GEMM rt_sgemm runs: "baseline", "avx2" or "avx512" (static string).
cdef const char* rt_gemm_isa() noexcept nogil
