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
//! target `i`, so every other passage in the batch is a negative.

use crate::error::Result;
use crate::graph::{Graph, Init, Var};
use crate::ops::matmul::MatmulOptions;
use crate::tensor::DType;

use super::{Embedding, EncoderLayer, PositionalEncoding, ResidualNorm, TransformerOptions};

/// Sizes of a [`ContrastiveEncoder`].
#[derive(Clone, Copy, Debug, PartialEq)]
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
