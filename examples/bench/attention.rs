//! Attention cases of the benchmark (filled in with the attention kernels).

use crate::figure::Figure;

/// Runs the attention cases.
pub fn run(_ctx: &kiln::Context) -> kiln::Result<Vec<Figure>> {
    Ok(Vec::new())
}
