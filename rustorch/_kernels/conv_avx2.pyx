# The same kernels as conv.pyx, compiled with avx2 flags (see setup.py ISA_VARIANTS);
# imported only on CPUs that support avx2 (rustorch/_kernels/_dispatch.py).
include "conv.pyx"
