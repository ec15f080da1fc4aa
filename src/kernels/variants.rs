//! Per-adapter choice of kernel variants. Filled in with the matmul work.

/// Which matmul kernel a context uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulVariant {
    /// One output per invocation, no tiling: the always-correct fallback.
    Naive,
    /// Register tiles with vec4 loads, no workgroup memory.
    Register,
    /// Tiles staged through workgroup memory.
    Workgroup,
}
