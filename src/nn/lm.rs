//! A decoder-only language model: token embeddings scaled by √D, sinusoidal positions, causal
//! self-attention layers (pre- or post-norm) and an output projection to next-token logits.
//!
//! Dimension letters: B batch, T window, D model width, V vocabulary.
//! `ids [B, T]` → logits `[B, T, V]`, position t seeing positions 0..=t; the training loss is
//! the mean cross-entropy of each position's logits against the next id.
//! [`Sampler`] draws a continuation one token at a time: a decoding plan of batch 1 that
//! appends each position to per-layer key-value caches, so a token costs one position's work
//! (or, for comparison, a plan that re-runs the whole window per token).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::{Graph, Init, ParamStore, Plan, PlanSpec, Var};
use crate::tensor::DType;

use super::TransformerOptions;
use super::{
    Embedding, EncoderLayer, KvCache, LayerNorm, Linear, PositionalEncoding, ResidualNorm,
};

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

impl LmConfig {
    /// Every size within [`super::limits`] (and each table within 2³⁰ values), `heads`
    /// dividing `d_model`, dropout in [0, 1); else an error naming the field. A config read
    /// from a checkpoint is the user's file.
    pub fn check(&self) -> Result<()> {
        use super::limits::*;
        let c = self;
        super::check_config(
            "language model",
            &[
                ("vocab", c.vocab, 1, MAX_VOCAB),
                ("d_model", c.d_model, 1, MAX_WIDTH),
                ("layers", c.layers, 1, MAX_LAYERS),
                ("d_ff", c.d_ff, 1, 16 * MAX_WIDTH),
                ("window", c.window, 2, MAX_LENGTH),
            ],
            (c.heads, c.d_model),
            &[
                ("window x d_model", c.window.saturating_mul(c.d_model)),
                ("vocab x d_model", c.vocab.saturating_mul(c.d_model)),
                ("d_model x d_model", c.d_model.saturating_mul(c.d_model)),
                ("d_model x d_ff", c.d_model.saturating_mul(c.d_ff)),
            ],
            &[("dropout", c.dropout)],
        )
    }
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
        cfg.check()?;
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

    /// One decoding step: `token [B, 1]` (u32) at `position [B]` (u32) over per-layer
    /// `caches` -> logits `[B, 1, V]`, equal to row `position` of [`forward`](Self::forward)
    /// over the prefix. Eval plans only.
    pub fn forward_step(
        &self,
        g: &mut Graph,
        token: Var,
        position: Var,
        caches: &[KvCache],
    ) -> Result<Var> {
        if caches.len() != self.layers.len() {
            return Err(Error::Graph(format!(
                "forward_step: {} caches for {} layers",
                caches.len(),
                self.layers.len()
            )));
        }
        let x = self.embed.forward(g, token)?;
        let x = g.scale(x, (self.cfg.d_model as f32).sqrt(), 0.0)?;
        let mut x = PositionalEncoding::new().forward_at(g, x, position, self.cfg.window)?;
        for (layer, cache) in self.layers.iter().zip(caches) {
            x = layer.forward_cached(g, x, *cache, position)?;
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

/// How [`Sampler::generate`] picks each token from the model's distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits (> 0): below 1 sharpens, above 1 flattens.
    pub temperature: f32,
    /// Keep only the k most likely tokens (None or 0: all).
    pub top_k: Option<usize>,
    /// Keep the fewest most likely tokens whose probability sums to at least p (nucleus
    /// sampling; None or 1: all).
    pub top_p: Option<f32>,
    /// Seeds the generator: the same seed gives the same text.
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: 1,
        }
    }
}

impl Sampling {
    fn check(&self) -> Result<()> {
        let t = self.temperature;
        let p_ok = self.top_p.is_none_or(|p| p > 0.0 && p <= 1.0);
        if !(t > 0.0 && t.is_finite() && p_ok) {
            return Err(Error::Unsupported(format!(
                "sampling needs a positive temperature and top_p in (0, 1] (got {t}, {:?})",
                self.top_p
            )));
        }
        Ok(())
    }
}

/// Picks a token from one row of log-probabilities (or logits) under `sampling`, with
/// `uniform` a draw from [0, 1): temperature, then top-k, then top-p, then the inverse CDF.
/// Ties keep the lower id first, so a run is reproducible.
pub fn pick_token(logprobs: &[f32], sampling: &Sampling, uniform: f64) -> u32 {
    let t = sampling.temperature as f64;
    let mut order: Vec<usize> = (0..logprobs.len()).collect();
    order.sort_by(|&a, &b| logprobs[b].total_cmp(&logprobs[a]).then(a.cmp(&b)));
    if let Some(k) = sampling.top_k.filter(|&k| k > 0) {
        order.truncate(k);
    }
    let top = order.first().map_or(0.0, |&i| logprobs[i] as f64);
    let mut weights: Vec<f64> = order
        .iter()
        .map(|&i| ((logprobs[i] as f64 - top) / t).exp())
        .collect();
    if let Some(p) = sampling.top_p.filter(|&p| p < 1.0) {
        let total: f64 = weights.iter().sum();
        let mut run = 0.0;
        let keep = weights
            .iter()
            .position(|w| {
                run += w;
                run >= p as f64 * total
            })
            .map_or(weights.len(), |i| i + 1);
        weights.truncate(keep);
    }
    let mut u = uniform * weights.iter().sum::<f64>();
    for (w, &i) in weights.iter().zip(&order) {
        u -= w;
        if u <= 0.0 {
            return i as u32;
        }
    }
    order
        .get(weights.len().saturating_sub(1))
        .map_or(0, |&i| i as u32)
}

/// Draws continuations from a trained [`LanguageModel`] at batch 1. The default plan decodes
/// one position per step over key-value caches and outputs `log_softmax` of that position's
/// logits (V floats read back per token); when the window fills, the cache restarts from the
/// last half window (those tokens are re-fed), so a long text costs about twice one pass per
/// token instead of a window's. [`Sampler::full_window`] re-runs the whole window per token,
/// the reference the cached plan is tested and benchmarked against.
pub struct Sampler {
    plan: Plan,
    logprobs: Var,
    cfg: LmConfig,
    cached: bool,
    /// Tokens in the cache (the next position).
    filled: usize,
    /// The context index of cache position 0.
    offset: usize,
}

impl Sampler {
    /// The cached sampler over `store`'s weights (created there if missing).
    pub fn new(ctx: &Context, cfg: LmConfig, store: &mut ParamStore) -> Result<Sampler> {
        let mut g = Graph::new();
        let model = LanguageModel::new(&mut g, cfg)?;
        let token = g.input("token", &[1, 1], DType::U32)?;
        let position = g.input("position", &[1], DType::U32)?;
        let dh = cfg.d_model / cfg.heads.max(1);
        let caches = (0..cfg.layers)
            .map(|i| KvCache::new(&mut g, &format!("cache.{i}"), 1, cfg.heads, cfg.window, dh))
            .collect::<Result<Vec<_>>>()?;
        let logits = model.forward_step(&mut g, token, position, &caches)?;
        let logits = g.reshape(logits, &[1, cfg.vocab])?;
        let logprobs = g.log_softmax(logits)?;
        Ok(Sampler {
            plan: Plan::compile(ctx, &g, store, &PlanSpec::eval(vec![logprobs]))?,
            logprobs,
            cfg,
            cached: true,
            filled: 0,
            offset: 0,
        })
    }

    /// The uncached sampler: one plan over the whole window, re-run for every token.
    pub fn full_window(ctx: &Context, cfg: LmConfig, store: &mut ParamStore) -> Result<Sampler> {
        let mut g = Graph::new();
        let model = LanguageModel::new(&mut g, cfg)?;
        let window = g.input("input", &[1, cfg.window], DType::U32)?;
        let logits = model.forward(&mut g, window)?;
        let logits = g.reshape(logits, &[cfg.window, cfg.vocab])?;
        let logprobs = g.log_softmax(logits)?;
        Ok(Sampler {
            plan: Plan::compile(ctx, &g, store, &PlanSpec::eval(vec![logprobs]))?,
            logprobs,
            cfg,
            cached: false,
            filled: 0,
            offset: 0,
        })
    }

    /// The next-token log-probabilities `[V]` after `context` (non-empty, extending the last
    /// call's context or after a reset). The cached plan feeds only the tokens it does not
    /// hold yet.
    fn next_logprobs(&mut self, ctx: &Context, context: &[u32]) -> Result<Vec<f32>> {
        let (t, v) = (self.cfg.window, self.cfg.vocab);
        if !self.cached {
            let context = &context[context.len().saturating_sub(t)..];
            let mut window = context.to_vec();
            window.resize(t, crate::data::vocab::PAD);
            self.plan.set_input_u32(ctx, "input", &window)?;
            self.plan.step(ctx)?;
            let all = self.plan.read_f32(ctx, self.logprobs)?;
            return Ok(all[(context.len() - 1) * v..context.len() * v].to_vec());
        }
        // Cache position p holds context[offset + p]; positions are absolute, so a full cache
        // cannot slide: it restarts from the last half window.
        if self.offset + self.filled > context.len() || context.len() - self.offset > t {
            let keep = (t / 2).max(1).min(context.len());
            self.offset = context.len() - keep;
            self.filled = 0;
        }
        for &token in &context[self.offset + self.filled..] {
            self.plan.set_input_u32(ctx, "token", &[token])?;
            self.plan
                .set_input_u32(ctx, "position", &[self.filled as u32])?;
            self.plan.step(ctx)?;
            self.filled += 1;
        }
        self.plan.read_f32(ctx, self.logprobs)
    }

    /// `count` tokens after `prompt` (at least one token), each drawn as `sampling` says.
    pub fn generate(
        &mut self,
        ctx: &Context,
        prompt: &[u32],
        count: usize,
        sampling: &Sampling,
    ) -> Result<Vec<u32>> {
        sampling.check()?;
        if prompt.is_empty() {
            return Err(Error::Unsupported(
                "sampling needs a prompt of at least one token".into(),
            ));
        }
        if let Some(&bad) = prompt.iter().find(|&&id| id as usize >= self.cfg.vocab) {
            return Err(Error::Unsupported(format!(
                "prompt token {bad} is outside the model's vocabulary of {}",
                self.cfg.vocab
            )));
        }
        self.reset();
        let mut tokens = prompt.to_vec();
        let mut rng = sampling.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..count {
            let row = self.next_logprobs(ctx, &tokens)?;
            // xorshift64: a fixed, dependency-free stream so a seed gives the same text.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let uniform = (rng >> 11) as f64 / (1u64 << 53) as f64;
            tokens.push(pick_token(&row, sampling, uniform));
        }
        Ok(tokens.split_off(prompt.len()))
    }

    /// The log-probabilities `[V]` the model gives the token after `context` (for tests and
    /// for scoring): the same plan [`generate`](Self::generate) steps.
    pub fn logprobs_after(&mut self, ctx: &Context, context: &[u32]) -> Result<Vec<f32>> {
        if context.is_empty() {
            return Err(Error::Unsupported(
                "an empty context has no next token".into(),
            ));
        }
        self.reset();
        self.next_logprobs(ctx, context)
    }

    fn reset(&mut self) {
        self.filled = 0;
        self.offset = 0;
    }
}
