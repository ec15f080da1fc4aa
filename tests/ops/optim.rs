//! optim tests: filled in with the optim kernels.
