# The same GEMM as linalg.pyx, compiled with avx2 flags (setup.py ISA_VARIANTS) so gemm_kernel.h
# selects the avx2 micro-kernel; imported only on CPUs that support avx2 (see _gemm.py).
include "linalg.pyx"
