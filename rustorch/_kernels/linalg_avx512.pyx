# The same GEMM as linalg.pyx, compiled with avx512 flags (setup.py ISA_VARIANTS) so gemm_kernel.h
# selects the avx512 micro-kernel; imported only on CPUs that support avx512 (see _gemm.py).
include "linalg.pyx"
