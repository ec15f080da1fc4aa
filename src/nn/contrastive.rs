//! A small text encoder trained by contrastive learning with in-batch negatives (the
//! dense-passage-retrieval recipe): the retrieval demo's encoder when no pretrained one is given.
//!
//! `ids [B, T]` → token embeddings `· √D` + sinusoidal positions → N post-norm encoder layers
//! (key-padding mask) → mean over real tokens → unit length. Mean pooling is a batched matmul
//! of the hidden states with per-row weights `pool [B, 1, T]` (`1/len` on real tokens, 0 on
//! padding, made on the CPU by [`pool_weights`]). Unit length comes from a layer norm without
//! affine parameters, divided by `√D`: the result has zero mean and `Σ y² = D·var/(var + ε)`,
//! so norm 1 up to ε, and the inner product of two embeddings is their cosine similarity.
//!
//! Training ([`ContrastiveEncoder::training_graph`]): questions `q [B, D]` and their passages
//! `p [B, D]` give scores `S = q·pᵀ / τ` `[B, B]`; the loss is cross-entropy with row `i`'s
//! target `i`, so every other passage in the batch is a negative: [`distinct_batches`] makes
//! batches in which no two rows share a passage, and [`ContrastiveEncoder::feed`] writes one.
//!
//! Inference ([`ContrastiveEmbedder`]): an eval plan of the encoder over the trained weights and
//! the tokenizer, a [`TextEncoder`] like the pretrained encoders.

use std::collections::BTreeSet;

use crate::context::Context;
use crate::data::Batches;
use crate::error::{Error, Result};
use crate::graph::{Graph, Init, ParamStore, Plan, PlanSpec, Var};
use crate::ops::matmul::MatmulOptions;
use crate::tensor::DType;

use super::{
    Embedding, EncoderLayer, PositionalEncoding, ResidualNorm, TextEncoder, TransformerOptions,
};

/// Sizes of a [`ContrastiveEncoder`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContrastiveConfig {
    /// Vocabulary size.
    pub vocab: usize,
    /// Width D (the embedding's dimension).
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Feed-forward width.
    pub d_ff: usize,
    /// Padded length T of every text.
    pub max_len: usize,
    /// Temperature τ of the training scores.
    pub temperature: f32,
}

impl ContrastiveConfig {
    /// The retrieval demo's encoder for a vocabulary of `vocab` ids and texts of `max_len`:
    /// width `d_model`, 4 heads, one layer, feed-forward `2·d_model`, temperature 0.05 (sharp
    /// enough that in-batch negatives are pushed apart, as in DPR-style training).
    pub fn new(vocab: usize, d_model: usize, max_len: usize) -> ContrastiveConfig {
        ContrastiveConfig {
            vocab,
            d_model,
            heads: 4,
            layers: 1,
            d_ff: 2 * d_model,
            max_len,
            temperature: 0.05,
        }
    }
}

/// The encoder's layers, as declared in one graph (parameters under `retriever.`).
pub struct ContrastiveEncoder {
    /// The configuration.
    pub cfg: ContrastiveConfig,
    embed: Embedding,
    layers: Vec<EncoderLayer>,
}

/// The inputs of one side (`"{side}_ids"`, `"{side}_mask"`, `"{side}_pool"`).
fn side_inputs(g: &mut Graph, side: &str, b: usize, t: usize) -> Result<(Var, Var, Var)> {
    Ok((
        g.input(&format!("{side}_ids"), &[b, t], DType::U32)?,
        g.input(&format!("{side}_mask"), &[b, t], DType::U32)?,
        g.input(&format!("{side}_pool"), &[b, 1, t], DType::F32)?,
    ))
}

impl ContrastiveEncoder {
    /// Declares the encoder's parameters in `g`.
    pub fn new(g: &mut Graph, cfg: ContrastiveConfig) -> Result<ContrastiveEncoder> {
        let d = cfg.d_model;
        let embed = Embedding::with_init(
            g,
            "retriever.embed",
            cfg.vocab,
            d,
            Init::normal(1.0 / (d as f32).sqrt()),
        )?;
        let opts = TransformerOptions {
            norm: ResidualNorm::Post,
            dropout: 0.0,
            ..Default::default()
        };
        let layers = (0..cfg.layers)
            .map(|i| EncoderLayer::new(g, &format!("retriever.{i}"), d, cfg.heads, cfg.d_ff, opts))
            .collect::<Result<Vec<_>>>()?;
        Ok(ContrastiveEncoder { cfg, embed, layers })
    }

    /// `ids [B, T]`, `mask [B, T]` (1 real), `pool [B, 1, T]` → unit embeddings `[B, D]`.
    pub fn forward(&self, g: &mut Graph, ids: Var, mask: Var, pool: Var) -> Result<Var> {
        let d = self.cfg.d_model;
        let x = self.embed.forward(g, ids)?;
        let x = g.scale(x, (d as f32).sqrt(), 0.0)?;
        let mut x = PositionalEncoding::new().forward(g, x)?;
        for layer in &self.layers {
            x = layer.forward(g, x, Some(mask), false)?;
        }
        let pooled = g.matmul(pool, x)?;
        let b = g.shape(pooled)?[0];
        let pooled = g.reshape(pooled, &[b, d])?;
        let ones = g.constant(&[d], &vec![1.0; d])?;
        let zeros = g.constant(&[d], &vec![0.0; d])?;
        let y = g.layer_norm(pooled, ones, zeros, 1e-6)?;
        g.scale(y, 1.0 / (d as f32).sqrt(), 0.0)
    }

    /// An inference graph for `batch` texts: inputs `text_ids`, `text_mask`, `text_pool`;
    /// returns the graph and the embeddings `[B, D]`.
    pub fn embedding_graph(cfg: ContrastiveConfig, batch: usize) -> Result<(Graph, Var)> {
        let mut g = Graph::new();
        let enc = ContrastiveEncoder::new(&mut g, cfg)?;
        let (ids, mask, pool) = side_inputs(&mut g, "text", batch, cfg.max_len)?;
        let e = enc.forward(&mut g, ids, mask, pool)?;
        Ok((g, e))
    }

    /// The training graph for `batch` (question, passage) pairs: inputs `q_*` and `p_*` as in
    /// [`ContrastiveEncoder::embedding_graph`]; returns the graph and the mean loss `[1]`.
    pub fn training_graph(cfg: ContrastiveConfig, batch: usize) -> Result<(Graph, Var)> {
        let mut g = Graph::new();
        let enc = ContrastiveEncoder::new(&mut g, cfg)?;
        let (qi, qm, qp) = side_inputs(&mut g, "q", batch, cfg.max_len)?;
        let (pi, pm, pp) = side_inputs(&mut g, "p", batch, cfg.max_len)?;
        let q = enc.forward(&mut g, qi, qm, qp)?;
        let p = enc.forward(&mut g, pi, pm, pp)?;
        let opts = MatmulOptions {
            trans_a: false,
            trans_b: true,
        };
        let scores = g.matmul_with(q, p, None, opts)?;
        let scores = g.scale(scores, 1.0 / cfg.temperature, 0.0)?;
        let targets: Vec<u32> = (0..batch as u32).collect();
        let targets = g.constant_u32(&[batch], &targets)?;
        let loss = g.cross_entropy(scores, targets, Default::default())?;
        Ok((g, loss))
    }

    /// Writes one batch of (query, positive passage) pairs, already tokenised, into a
    /// [`training_graph`](Self::training_graph) plan's `q_*` and `p_*` inputs, each text padded
    /// or cut to `max_len`; returns the pairs it holds (for a rate). Row `i`'s positive is
    /// passage `i`, so no passage may appear twice ([`distinct_batches`]).
    pub fn feed(
        ctx: &Context,
        plan: &Plan,
        max_len: usize,
        queries: &[&[u32]],
        passages: &[&[u32]],
    ) -> Result<usize> {
        if queries.len() != passages.len() {
            return Err(Error::Graph(format!(
                "contrastive feed: {} queries but {} passages; each query needs its passage",
                queries.len(),
                passages.len()
            )));
        }
        for (side, rows) in [("q", queries), ("p", passages)] {
            let (ids, mask, pool) = pool_weights(rows, max_len);
            plan.set_input_u32(ctx, format!("{side}_ids"), &ids)?;
            plan.set_input_u32(ctx, format!("{side}_mask"), &mask)?;
            plan.set_input_f32(ctx, format!("{side}_pool"), &pool)?;
        }
        Ok(queries.len())
    }
}

/// One epoch of in-batch-negative training batches over examples whose positives are
/// `groups[i]` (a question's passage): full batches of `batch` example indices in which no two
/// examples share a group, since a passage that is one row's positive must not be another
/// row's negative.
///
/// The examples are taken in the shuffled order of [`Batches`] (`seed`, `epoch`); an example
/// whose group is already in every open batch waits in a new one, so nothing is skipped for a
/// clash. Each example is used at most once; only the batches left unfilled at the end are
/// dropped (with many groups, fewer than a batch of examples). Groups fewer than `batch` give
/// no batch at all.
pub fn distinct_batches(groups: &[usize], batch: usize, seed: u64, epoch: u64) -> Vec<Vec<usize>> {
    let batch = batch.max(1);
    let mut open: Vec<(Vec<usize>, BTreeSet<usize>)> = Vec::new();
    let mut full = Vec::with_capacity(groups.len() / batch);
    for i in Batches::new(groups.len(), groups.len(), seed, epoch).flatten() {
        let g = groups[i];
        let slot = match open.iter().position(|(_, seen)| !seen.contains(&g)) {
            Some(slot) => slot,
            None => {
                open.push((Vec::with_capacity(batch), BTreeSet::new()));
                open.len() - 1
            }
        };
        open[slot].0.push(i);
        open[slot].1.insert(g);
        if open[slot].0.len() == batch {
            full.push(open.remove(slot).0);
        }
    }
    full
}

/// A trained [`ContrastiveEncoder`] ready to embed texts: an eval plan for `batch` texts at a
/// time over a [`ParamStore`]'s weights, and the tokenizer whose ids the encoder was trained
/// on. A [`TextEncoder`]: texts in, unit vectors of `d_model` floats out.
pub struct ContrastiveEmbedder {
    cfg: ContrastiveConfig,
    plan: Plan,
    out: Var,
    batch: usize,
    tokenize: Tokenize,
}

/// Text to ids, as the encoder's vocabulary numbers them.
type Tokenize = Box<dyn Fn(&str) -> Vec<u32>>;

impl std::fmt::Debug for ContrastiveEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContrastiveEmbedder")
            .field("cfg", &self.cfg)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl ContrastiveEmbedder {
    /// Compiles the embedding plan for `batch` texts (at least 1) over `store` (the weights
    /// are shared: training the encoder in the same store changes what this embeds; a fresh
    /// store is filled by [`checkpoint::restore`](crate::io::checkpoint::restore) afterwards).
    /// `tokenize` maps a text to ids below `cfg.vocab`.
    pub fn new(
        ctx: &Context,
        cfg: ContrastiveConfig,
        batch: usize,
        store: &mut ParamStore,
        tokenize: impl Fn(&str) -> Vec<u32> + 'static,
    ) -> Result<ContrastiveEmbedder> {
        let batch = batch.max(1);
        let (g, out) = ContrastiveEncoder::embedding_graph(cfg, batch)?;
        let plan = Plan::compile(ctx, &g, store, &PlanSpec::eval(vec![out]))?;
        Ok(ContrastiveEmbedder {
            cfg,
            plan,
            out,
            batch,
            tokenize: Box::new(tokenize),
        })
    }

    /// The encoder's sizes.
    pub fn config(&self) -> &ContrastiveConfig {
        &self.cfg
    }

    /// The embeddings of texts already tokenised (each cut to `max_len` ids), `batch` at a
    /// time, the last batch padded with empty texts whose rows are dropped.
    pub fn embed_ids(&mut self, ctx: &Context, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let vocab = self.cfg.vocab as u32;
        if let Some((i, id)) = texts
            .iter()
            .enumerate()
            .find_map(|(i, t)| t.iter().find(|&&id| id >= vocab).map(|&id| (i, id)))
        {
            return Err(Error::Graph(format!(
                "contrastive embedder: text {i} has id {id}, outside the vocabulary of {vocab}"
            )));
        }
        let mut out = Vec::with_capacity(texts.len());
        for group in texts.chunks(self.batch) {
            let mut rows = group.to_vec();
            rows.resize(self.batch, &[]);
            let (ids, mask, pool) = pool_weights(&rows, self.cfg.max_len);
            self.plan.set_input_u32(ctx, "text_ids", &ids)?;
            self.plan.set_input_u32(ctx, "text_mask", &mask)?;
            self.plan.set_input_f32(ctx, "text_pool", &pool)?;
            self.plan.step(ctx)?;
            let flat = self.plan.read_f32(ctx, self.out)?;
            let rows = flat.chunks(self.cfg.d_model).take(group.len());
            out.extend(rows.map(<[f32]>::to_vec));
        }
        Ok(out)
    }
}

impl TextEncoder for ContrastiveEmbedder {
    fn dim(&self) -> usize {
        self.cfg.d_model
    }

    fn embed(&mut self, ctx: &Context, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| (self.tokenize)(t)).collect();
        let rows: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        self.embed_ids(ctx, &rows)
    }
}

/// The ids, mask and pooling weights of `texts` (already tokenised) padded or cut to `t`:
/// `([B·T] ids, [B·T] mask, [B·T] weights 1/len on real tokens)`. An empty text gets one
/// padding token of weight 1, so its embedding is defined.
pub fn pool_weights(texts: &[&[u32]], t: usize) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
    let mut ids = vec![0u32; texts.len() * t];
    let mut mask = vec![0u32; texts.len() * t];
    let mut pool = vec![0f32; texts.len() * t];
    for (r, text) in texts.iter().enumerate() {
        let n = text.len().min(t);
        let row = r * t;
        ids[row..row + n].copy_from_slice(&text[..n]);
        let n = n.max(1);
        for k in 0..n {
            mask[row + k] = 1;
            pool[row + k] = 1.0 / n as f32;
        }
    }
    (ids, mask, pool)
}
