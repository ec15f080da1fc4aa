//! A decoder-only language model: token embeddings scaled by √D, sinusoidal positions, causal
//! self-attention layers (pre- or post-norm) and an output projection to next-token logits.
//!
//! Dimension letters: B batch, T window, D model width, V vocabulary.
//! `ids [B, T]` → logits `[B, T, V]`, position t seeing positions 0..=t; the training loss is
//! the mean cross-entropy of each position's logits against the next id.
//! [`Sampler`] draws a continuation one token at a time from an eval plan of batch 1.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::{Graph, Init, Mode, ParamStore, Plan, PlanSpec, Var};
use crate::tensor::DType;

use super::TransformerOptions;
use super::{Embedding, EncoderLayer, LayerNorm, Linear, PositionalEncoding, ResidualNorm};

/// Sizes and options of a [`LanguageModel`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LmConfig {
    /// Vocabulary size V.
    pub vocab: usize,
    /// Model width D.
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// Layers.
    pub layers: usize,
    /// Feed-forward width.
    pub d_ff: usize,
    /// Dropout on embeddings and sub-layer outputs (training plans only).
    pub dropout: f32,
    /// Pre-norm (with a final layer norm) or post-norm.
    pub norm: ResidualNorm,
    /// Window T: the context the model sees.
    pub window: usize,
}

/// The model's layers, as declared in one graph.
pub struct LanguageModel {
    /// The configuration.
    pub cfg: LmConfig,
    embed: Embedding,
    layers: Vec<EncoderLayer>,
    norm: Option<LayerNorm>,
    out: Linear,
}

impl LanguageModel {
    /// Declares the parameters (`embed`, `layers.<i>`, `norm`, `generator`) in `g`.
    pub fn new(g: &mut Graph, cfg: LmConfig) -> Result<LanguageModel> {
        let opts = TransformerOptions {
            norm: cfg.norm,
            dropout: cfg.dropout,
            ..Default::default()
        };
        let d = cfg.d_model;
        let init = Init::normal(1.0 / (d as f32).sqrt());
        let layers = (0..cfg.layers)
            .map(|i| EncoderLayer::new(g, &format!("layers.{i}"), d, cfg.heads, cfg.d_ff, opts))
            .collect::<Result<Vec<_>>>()?;
        Ok(LanguageModel {
            cfg,
            embed: Embedding::with_init(g, "embed", cfg.vocab, d, init)?,
            layers,
            norm: match cfg.norm {
                ResidualNorm::Pre => Some(LayerNorm::new(g, "norm", d)?),
                ResidualNorm::Post => None,
            },
            out: Linear::new(g, "generator", d, cfg.vocab)?,
        })
    }

    /// `ids [B, T]` → logits `[B, T, V]`.
    pub fn forward(&self, g: &mut Graph, ids: Var) -> Result<Var> {
        let x = self.embed.forward(g, ids)?;
        let x = g.scale(x, (self.cfg.d_model as f32).sqrt(), 0.0)?;
        let mut x = PositionalEncoding::new().forward(g, x)?;
        x = g.dropout(x, self.cfg.dropout)?;
        for layer in &self.layers {
            x = layer.forward(g, x, None, true)?;
        }
        if let Some(norm) = &self.norm {
            x = norm.forward(g, x)?;
        }
        self.out.forward(g, x)
    }

    /// The training graph for batches of `batch` windows: inputs `input` and `target`
    /// (`[B, T]` u32, the target shifted by one), and the mean cross-entropy loss.
    pub fn training_graph(cfg: LmConfig, batch: usize) -> Result<(Graph, Var)> {
        let mut g = Graph::new();
        let model = LanguageModel::new(&mut g, cfg)?;
        let input = g.input("input", &[batch, cfg.window], DType::U32)?;
        let target = g.input("target", &[batch, cfg.window], DType::U32)?;
        let logits = model.forward(&mut g, input)?;
        let loss = g.cross_entropy(logits, target, Default::default())?;
        Ok((g, loss))
    }
}

/// Draws continuations from a trained [`LanguageModel`]: an eval plan of one window over the
/// store's weights, fed the last T tokens, sampling each next token from the softmax of its
/// logits at a temperature.
pub struct Sampler {
    plan: Plan,
    logits: Var,
    cfg: LmConfig,
}

impl Sampler {
    /// Compiles the sampler over `store`'s weights (created there if missing).
    pub fn new(ctx: &Context, cfg: LmConfig, store: &mut ParamStore) -> Result<Sampler> {
        let mut g = Graph::new();
        let model = LanguageModel::new(&mut g, cfg)?;
        let window = g.input("input", &[1, cfg.window], DType::U32)?;
        let logits = model.forward(&mut g, window)?;
        let spec = PlanSpec {
            outputs: vec![logits],
            mode: Mode::Eval,
            ..Default::default()
        };
        Ok(Sampler {
            plan: Plan::compile(ctx, &g, store, &spec)?,
            logits,
            cfg,
        })
    }

    /// `count` tokens after `prompt` (at least one token), sampled at `temperature` (> 0)
    /// with a generator seeded by `seed`. Each token costs one step and one readback.
    pub fn generate(
        &mut self,
        ctx: &Context,
        prompt: &[u32],
        count: usize,
        temperature: f32,
        seed: u64,
    ) -> Result<Vec<u32>> {
        if prompt.is_empty() || !(temperature > 0.0 && temperature.is_finite()) {
            return Err(Error::Unsupported(format!(
                "sampling needs a prompt and a positive temperature (got {} tokens, {temperature})",
                prompt.len()
            )));
        }
        let (t, v) = (self.cfg.window, self.cfg.vocab);
        let mut tokens = prompt.to_vec();
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..count {
            let context: Vec<u32> = tokens[tokens.len().saturating_sub(t)..].to_vec();
            let mut window = context.clone();
            window.resize(t, crate::data::vocab::PAD);
            self.plan.set_input_u32(ctx, "input", &window)?;
            self.plan.step(ctx)?;
            let logits = self.plan.read_f32(ctx, self.logits)?;
            let row = &logits[(context.len() - 1) * v..context.len() * v];
            let top = row.iter().cloned().fold(f32::MIN, f32::max);
            let weights: Vec<f64> = row
                .iter()
                .map(|&x| (((x - top) / temperature) as f64).exp())
                .collect();
            // xorshift64: a fixed, dependency-free stream so a seed gives the same text.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut u = (rng >> 11) as f64 / (1u64 << 53) as f64 * weights.iter().sum::<f64>();
            let mut pick = weights.len() - 1;
            for (i, w) in weights.iter().enumerate() {
                u -= w;
                if u <= 0.0 {
                    pick = i;
                    break;
                }
            }
            tokens.push(pick as u32);
        }
        Ok(tokens.split_off(prompt.len()))
    }
}
