//! reduce tests: filled in with the reduce kernels.
