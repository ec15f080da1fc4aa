//! [`TextEncoder`]: a model that turns texts into embedding vectors, so that a retrieval
//! program is written once for every encoder kiln has: the contrastive encoder trained in
//! kiln ([`ContrastiveEmbedder`](super::ContrastiveEmbedder)) and a pretrained sentence
//! encoder ([`SentenceEncoder`](crate::pretrained::SentenceEncoder)).
//!
//! The provided methods fill a [`VectorIndex`] with the embeddings of texts and search it
//! with the embeddings of queries. Training an encoder lives with the model, not here.

use crate::context::Context;
use crate::error::Result;
use crate::index::{Hit, Meta, VectorIndex};

/// Texts embedded per call to [`TextEncoder::embed`] by the provided methods: enough to fill
/// an encoder's batches, few enough that the host copies stay small.
const TEXTS_PER_CALL: usize = 256;

/// A model mapping each text to one vector of [`dim`](TextEncoder::dim) floats, in which
/// texts that belong together (a question and the passage answering it) have a high inner
/// product.
pub trait TextEncoder {
    /// Width D of every embedding.
    fn dim(&self) -> usize;

    /// The embeddings of `texts`, one vector of [`dim`](TextEncoder::dim) floats per text, in
    /// order; no texts give no vectors.
    fn embed(&mut self, ctx: &Context, texts: &[&str]) -> Result<Vec<Vec<f32>>>;

    /// The embeddings of `texts` flat, `[N, D]` row-major, as [`VectorIndex::add`] and
    /// [`VectorIndex::search`] take them.
    fn embed_flat(&mut self, ctx: &Context, texts: &[&str]) -> Result<Vec<f32>> {
        let mut flat = Vec::with_capacity(texts.len() * self.dim());
        for group in texts.chunks(TEXTS_PER_CALL) {
            flat.extend(self.embed(ctx, group)?.into_iter().flatten());
        }
        Ok(flat)
    }

    /// A new exact [`VectorIndex`] holding the embedding of every text, in order: text `i`
    /// gets id `i` and the [`Meta`] `{ text, source, position: i }`.
    fn index(&mut self, ctx: &Context, texts: &[&str], source: &str) -> Result<VectorIndex> {
        let mut index = VectorIndex::new(ctx, self.dim())?;
        for (g, group) in texts.chunks(TEXTS_PER_CALL).enumerate() {
            let vectors = self.embed_flat(ctx, group)?;
            let metas = group
                .iter()
                .enumerate()
                .map(|(i, text)| Meta {
                    text: text.to_string(),
                    source: source.to_string(),
                    position: (g * TEXTS_PER_CALL + i) as u64,
                    ..Default::default()
                })
                .collect();
            index.add(ctx, &vectors, metas)?;
        }
        Ok(index)
    }

    /// The `k` best hits in `index` for each query, best first (`k` at most
    /// [`KMAX`](crate::index::KMAX)).
    fn search(
        &mut self,
        ctx: &Context,
        index: &VectorIndex,
        queries: &[&str],
        k: usize,
    ) -> Result<Vec<Vec<Hit>>> {
        let mut hits = Vec::with_capacity(queries.len());
        for group in queries.chunks(TEXTS_PER_CALL) {
            let vectors = self.embed_flat(ctx, group)?;
            hits.extend(index.search(ctx, &vectors, k)?);
        }
        Ok(hits)
    }

    /// The positions ([`Meta::position`]: the text's place in the list given to
    /// [`index`](TextEncoder::index)) of the `k` best hits for each query, best first.
    fn nearest(
        &mut self,
        ctx: &Context,
        index: &VectorIndex,
        queries: &[&str],
        k: usize,
    ) -> Result<Vec<Vec<usize>>> {
        let hits = self.search(ctx, index, queries, k)?;
        let position = |h: &Hit| index.meta(h.id).map(|m| m.position as usize);
        Ok(hits
            .iter()
            .map(|row| row.iter().filter_map(position).collect())
            .collect())
    }
}
