//! attention tests: filled in with the attention kernels.
