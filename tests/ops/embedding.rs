//! embedding tests: filled in with the embedding kernels.
