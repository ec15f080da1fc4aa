//! matmul tests: filled in with the matmul kernels.
