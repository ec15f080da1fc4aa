//! elementwise tests: filled in with the elementwise kernels.
