"""Matmul kernel entry point: re-exports the GEMM module chosen for this CPU."""

from rustorch._kernels.linalg import gemm, isa_level, set_num_threads

__all__ = ["gemm", "isa_level", "set_num_threads"]
