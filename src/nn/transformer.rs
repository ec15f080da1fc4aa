//! Transformer encoder and decoder layers ("Attention Is All You Need", section 3.1), built
//! from [`MultiHeadAttention`], [`FeedForward`], [`LayerNorm`] and [`residual`].

use std::panic::Location;

use crate::error::{shape_error, Result};
use crate::graph::{Graph, Var};
use crate::ops::elementwise::Activation;

use super::{
    residual, Dropout, FeedForward, FeedForwardOptions, KvCache, LayerNorm, LinearOptions,
    MultiHeadAttention, MultiHeadAttentionOptions, ResidualNorm,
};

/// How a Transformer layer is made. The defaults are PyTorch's `nn.TransformerEncoderLayer`'s:
/// post-norm, ReLU, and (unlike PyTorch's 0.1) no dropout, which is opt-in here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformerOptions {
    /// Pre-norm or post-norm residual blocks.
    pub norm: ResidualNorm,
    /// The feed-forward block's activation.
    pub activation: Activation,
    /// Dropout on each sub-layer's output (before the residual add) and on the feed-forward's
    /// hidden activations.
    pub dropout: f32,
    /// Every projection's options.
    pub linear: LinearOptions,
}

impl Default for TransformerOptions {
    fn default() -> Self {
        TransformerOptions {
            norm: ResidualNorm::Post,
            activation: Activation::Relu,
            dropout: 0.0,
            linear: LinearOptions::default(),
        }
    }
}

impl TransformerOptions {
    fn feed_forward(&self) -> FeedForwardOptions {
        FeedForwardOptions {
            activation: self.activation,
            dropout: self.dropout,
            linear: self.linear,
        }
    }

    fn attention(&self) -> MultiHeadAttentionOptions {
        MultiHeadAttentionOptions {
            linear: self.linear,
        }
    }
}

/// One encoder layer: self-attention then a feed-forward block, each inside a residual block.
/// `x [B, T, D] -> [B, T, D]`. Parameters, as in PyTorch: `"{name}.self_attn.*"`,
/// `"{name}.linear1.*"`, `"{name}.linear2.*"`, `"{name}.norm1.*"`, `"{name}.norm2.*"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncoderLayer {
    /// Self-attention.
    pub self_attn: MultiHeadAttention,
    /// The position-wise feed-forward block.
    pub feed_forward: FeedForward,
    /// Around the attention.
    pub norm1: LayerNorm,
    /// Around the feed-forward block.
    pub norm2: LayerNorm,
    /// On each sub-layer's output.
    pub dropout: Dropout,
    /// Pre- or post-norm.
    pub norm: ResidualNorm,
}

impl EncoderLayer {
    /// An encoder layer of width `d_model`, `heads` heads and feed-forward width `d_ff`.
    #[track_caller]
    pub fn new(
        g: &mut Graph,
        name: &str,
        d_model: usize,
        heads: usize,
        d_ff: usize,
        opts: TransformerOptions,
    ) -> Result<Self> {
        Ok(EncoderLayer {
            self_attn: MultiHeadAttention::with(
                g,
                &format!("{name}.self_attn"),
                d_model,
                heads,
                opts.attention(),
            )?,
            feed_forward: FeedForward::with(g, name, d_model, d_ff, opts.feed_forward())?,
            norm1: LayerNorm::new(g, &format!("{name}.norm1"), d_model)?,
            norm2: LayerNorm::new(g, &format!("{name}.norm2"), d_model)?,
            dropout: Dropout::new(opts.dropout)?,
            norm: opts.norm,
        })
    }

    /// `x [B, T, D] -> [B, T, D]`; `key_padding_mask [B, T]` (0 hides a position) and `causal`
    /// as in [`MultiHeadAttention::forward`] (a causal encoder is a decoder-only model's block).
    #[track_caller]
    pub fn forward(
        &self,
        g: &mut Graph,
        x: Var,
        key_padding_mask: Option<Var>,
        causal: bool,
    ) -> Result<Var> {
        // The sub-layers run inside closures, which cannot carry the caller's location: check
        // here so that a bad shape points at the user's line.
        let d = self.self_attn.d_model;
        let xs = g.shape(x)?.to_vec();
        let ok = matches!(xs.as_slice(), &[b, t, c] if c == d
            && mask_fits(g, key_padding_mask, b, t));
        if !ok {
            let mut got = vec![xs];
            got.extend(mask_shape(g, key_padding_mask));
            let got: Vec<&[usize]> = got.iter().map(Vec::as_slice).collect();
            let expected = format!("x [B, T, {d}] and key_padding_mask [B, T]");
            return Err(shape_error("encoder_layer", expected, &got).at(Location::caller()));
        }
        let x = residual(g, x, &self.norm1, self.norm, |g, h| {
            let a = self.self_attn.forward(g, h, h, key_padding_mask, causal)?;
            self.dropout.forward(g, a)
        })?;
        residual(g, x, &self.norm2, self.norm, |g, h| {
            let f = self.feed_forward.forward(g, h)?;
            self.dropout.forward(g, f)
        })
    }

    /// One causal decoding step, `x [B, 1, D]` at `position [B]` over `cache` (see
    /// [`MultiHeadAttention::forward_cached`]): row `position` of
    /// [`forward`](Self::forward)`(prefix, None, true)`. Eval plans only (no dropout).
    #[track_caller]
    pub fn forward_cached(
        &self,
        g: &mut Graph,
        x: Var,
        cache: KvCache,
        position: Var,
    ) -> Result<Var> {
        let x = residual(g, x, &self.norm1, self.norm, |g, h| {
            self.self_attn.forward_cached(g, h, cache, position)
        })?;
        residual(g, x, &self.norm2, self.norm, |g, h| {
            self.feed_forward.forward(g, h)
        })
    }
}

/// One decoder layer: causal self-attention, cross-attention to the encoder's output, then a
/// feed-forward block, each inside a residual block. `x [B, Tq, D]`, `memory [B, Tk, D] ->
/// [B, Tq, D]`. Parameters, as in PyTorch: `"{name}.self_attn.*"`, `"{name}.multihead_attn.*"`
/// (the cross-attention), `"{name}.linear1.*"`, `"{name}.linear2.*"`, `"{name}.norm1.*"` to
/// `"{name}.norm3.*"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecoderLayer {
    /// Causal self-attention.
    pub self_attn: MultiHeadAttention,
    /// Attention from the decoder's states to the encoder's output.
    pub cross_attn: MultiHeadAttention,
    /// The position-wise feed-forward block.
    pub feed_forward: FeedForward,
    /// Around the self-attention.
    pub norm1: LayerNorm,
    /// Around the cross-attention.
    pub norm2: LayerNorm,
    /// Around the feed-forward block.
    pub norm3: LayerNorm,
    /// On each sub-layer's output.
    pub dropout: Dropout,
    /// Pre- or post-norm.
    pub norm: ResidualNorm,
}

impl DecoderLayer {
    /// A decoder layer of width `d_model`, `heads` heads and feed-forward width `d_ff`.
    #[track_caller]
    pub fn new(
        g: &mut Graph,
        name: &str,
        d_model: usize,
        heads: usize,
        d_ff: usize,
        opts: TransformerOptions,
    ) -> Result<Self> {
        let attn = |g: &mut Graph, part: &str| {
            MultiHeadAttention::with(
                g,
                &format!("{name}.{part}"),
                d_model,
                heads,
                opts.attention(),
            )
        };
        Ok(DecoderLayer {
            self_attn: attn(g, "self_attn")?,
            cross_attn: attn(g, "multihead_attn")?,
            feed_forward: FeedForward::with(g, name, d_model, d_ff, opts.feed_forward())?,
            norm1: LayerNorm::new(g, &format!("{name}.norm1"), d_model)?,
            norm2: LayerNorm::new(g, &format!("{name}.norm2"), d_model)?,
            norm3: LayerNorm::new(g, &format!("{name}.norm3"), d_model)?,
            dropout: Dropout::new(opts.dropout)?,
            norm: opts.norm,
        })
    }

    /// The cross-attention probabilities `[B, H, Tq, Tk]` this layer computes for `x` and
    /// `memory` (unmasked, materialised; for pictures): the query is what the cross-attention
    /// sub-layer sees, i.e. after the self-attention block (and after `norm2` in pre-norm).
    #[track_caller]
    pub fn cross_attention_weights(&self, g: &mut Graph, x: Var, memory: Var) -> Result<Var> {
        let x = residual(g, x, &self.norm1, self.norm, |g, h| {
            let a = self.self_attn.forward(g, h, h, None, true)?;
            self.dropout.forward(g, a)
        })?;
        let query = match self.norm {
            ResidualNorm::Pre => self.norm2.forward(g, x)?,
            ResidualNorm::Post => x,
        };
        self.cross_attn.weights(g, query, memory)
    }

    /// `x [B, Tq, D]` (causal self-attention over itself, `target_padding_mask [B, Tq]`) and
    /// `memory [B, Tk, D]` (attended without a causal mask, `memory_padding_mask [B, Tk]`) ->
    /// `[B, Tq, D]`.
    #[track_caller]
    pub fn forward(
        &self,
        g: &mut Graph,
        x: Var,
        memory: Var,
        target_padding_mask: Option<Var>,
        memory_padding_mask: Option<Var>,
    ) -> Result<Var> {
        // As in the encoder: check here, where the caller's location is known.
        let d = self.self_attn.d_model;
        let (xs, ms) = (g.shape(x)?.to_vec(), g.shape(memory)?.to_vec());
        let ok = match (xs.as_slice(), ms.as_slice()) {
            (&[b, tq, c], &[bm, tk, cm]) => {
                c == d
                    && cm == d
                    && bm == b
                    && mask_fits(g, target_padding_mask, b, tq)
                    && mask_fits(g, memory_padding_mask, b, tk)
            }
            _ => false,
        };
        if !ok {
            let mut got = vec![xs, ms];
            got.extend(mask_shape(g, target_padding_mask));
            got.extend(mask_shape(g, memory_padding_mask));
            let got: Vec<&[usize]> = got.iter().map(Vec::as_slice).collect();
            let expected = format!(
                "x [B, Tq, {d}], memory [B, Tk, {d}], target_padding_mask [B, Tq] and \
                 memory_padding_mask [B, Tk]"
            );
            return Err(shape_error("decoder_layer", expected, &got).at(Location::caller()));
        }
        let x = residual(g, x, &self.norm1, self.norm, |g, h| {
            let a = self.self_attn.forward(g, h, h, target_padding_mask, true)?;
            self.dropout.forward(g, a)
        })?;
        let x = residual(g, x, &self.norm2, self.norm, |g, h| {
            let a = self
                .cross_attn
                .forward(g, h, memory, memory_padding_mask, false)?;
            self.dropout.forward(g, a)
        })?;
        residual(g, x, &self.norm3, self.norm, |g, h| {
            let f = self.feed_forward.forward(g, h)?;
            self.dropout.forward(g, f)
        })
    }

    /// One decoding step, `x [B, 1, D]` at `position [B]`: causal self-attention over `cache`,
    /// then cross-attention to the encoder's keys and values `memory_kv` (each `[B, H, Tk,
    /// Dh]`, made once per source by [`MultiHeadAttention::project_key_value`] of
    /// `cross_attn`) under `memory_padding_mask [B, Tk]`. Eval plans only (no dropout).
    #[track_caller]
    pub fn forward_cached(
        &self,
        g: &mut Graph,
        x: Var,
        cache: KvCache,
        position: Var,
        memory_kv: (Var, Var),
        memory_padding_mask: Option<Var>,
    ) -> Result<Var> {
        let x = residual(g, x, &self.norm1, self.norm, |g, h| {
            self.self_attn.forward_cached(g, h, cache, position)
        })?;
        let x = residual(g, x, &self.norm2, self.norm, |g, h| {
            let (k, v) = memory_kv;
            self.cross_attn
                .forward_projected(g, h, k, v, memory_padding_mask)
        })?;
        residual(g, x, &self.norm3, self.norm, |g, h| {
            self.feed_forward.forward(g, h)
        })
    }
}

/// Whether an optional mask is `[b, t]`.
fn mask_fits(g: &Graph, mask: Option<Var>, b: usize, t: usize) -> bool {
    mask.is_none_or(|m| g.shape(m).is_ok_and(|s| s == [b, t]))
}

/// The shape of an optional mask, for an error message.
fn mask_shape(g: &Graph, mask: Option<Var>) -> Option<Vec<usize>> {
    mask.and_then(|m| g.shape(m).ok().map(<[usize]>::to_vec))
}
