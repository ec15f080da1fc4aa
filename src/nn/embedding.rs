//! `Embedding`: a lookup table of learned vectors.

use crate::error::Result;
use crate::graph::{Graph, Init, Var};

/// Rows of a table picked by integer ids: `ids [..] u32 -> [.., D]`, with `weight [V, D]`.
/// An id `>= V` gives a row of zeros (see [`crate::ops::embedding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Embedding {
    /// `[V, D]`, named `"{name}.weight"`.
    pub weight: Var,
    /// V.
    pub vocab: usize,
    /// D.
    pub dim: usize,
}

impl Embedding {
    /// A table of `vocab` rows of width `dim`, drawn from N(0, 1) as PyTorch does.
    #[track_caller]
    pub fn new(g: &mut Graph, name: &str, vocab: usize, dim: usize) -> Result<Self> {
        Embedding::with_init(g, name, vocab, dim, Init::normal(1.0))
    }

    /// A table initialised by `init` (GPT-2 uses `Init::normal(0.02)`).
    #[track_caller]
    pub fn with_init(
        g: &mut Graph,
        name: &str,
        vocab: usize,
        dim: usize,
        init: Init,
    ) -> Result<Self> {
        let weight = g.param(&format!("{name}.weight"), &[vocab, dim], init)?;
        Ok(Embedding { weight, vocab, dim })
    }

    /// `ids [..] u32 -> [.., D]`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, ids: Var) -> Result<Var> {
        g.embedding(ids, self.weight)
    }
}
