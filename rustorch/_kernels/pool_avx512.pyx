# The same kernels as pool.pyx, compiled with avx512 flags (see setup.py ISA_VARIANTS);
# imported only on CPUs that support avx512 (rustorch/_kernels/_dispatch.py).
include "pool.pyx"
