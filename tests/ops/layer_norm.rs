//! layer_norm tests: filled in with the layer_norm kernels.
