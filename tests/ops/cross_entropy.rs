//! cross_entropy tests: filled in with the cross_entropy kernels.
