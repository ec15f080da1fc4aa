//! `MultiHeadAttention`: projections, head split, fused attention, head merge.

use std::panic::Location;

use crate::error::{shape_error, Result};
use crate::graph::{Graph, Var};
use crate::ops::attention::AttentionOptions;

use super::{Linear, LinearOptions};

/// How a [`MultiHeadAttention`] is made.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MultiHeadAttentionOptions {
    /// The four projections' options (bias and weight initialisation).
    pub linear: LinearOptions,
}

/// Multi-head attention with separate query, key, value and output projections, each
/// `D -> D`, named `"{name}.q_proj"`, `"{name}.k_proj"`, `"{name}.v_proj"`, `"{name}.out_proj"`.
///
/// `query [B, Tq, D]`, `key_value [B, Tk, D] -> [B, Tq, D]`: every projection is split into H
/// heads of width Dh = D / H (columns `h·Dh .. (h+1)·Dh` are head h), each head attends with
/// scale `1/sqrt(Dh)`, and the heads are concatenated back before the output projection.
/// Self-attention passes one `Var` as both; cross-attention passes the decoder's states as
/// `query` and the encoder's output as `key_value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiHeadAttention {
    /// `query -> Q`.
    pub q_proj: Linear,
    /// `key_value -> K`.
    pub k_proj: Linear,
    /// `key_value -> V`.
    pub v_proj: Linear,
    /// Concatenated heads -> output.
    pub out_proj: Linear,
    /// D.
    pub d_model: usize,
    /// H.
    pub heads: usize,
}

impl MultiHeadAttention {
    /// Attention of width `d_model` split into `heads` heads; `d_model` must be a multiple of
    /// `heads`.
    #[track_caller]
    pub fn new(g: &mut Graph, name: &str, d_model: usize, heads: usize) -> Result<Self> {
        MultiHeadAttention::with(
            g,
            name,
            d_model,
            heads,
            MultiHeadAttentionOptions::default(),
        )
    }

    /// As [`MultiHeadAttention::new`], made as `opts` says.
    #[track_caller]
    pub fn with(
        g: &mut Graph,
        name: &str,
        d_model: usize,
        heads: usize,
        opts: MultiHeadAttentionOptions,
    ) -> Result<Self> {
        let at = Location::caller();
        if heads == 0 || d_model == 0 || !d_model.is_multiple_of(heads) {
            return Err(shape_error(
                "multi_head_attention",
                format!("d_model ({d_model}) divisible by the number of heads ({heads}), both > 0"),
                &[&[d_model], &[heads]],
            )
            .at(at));
        }
        let proj = |g: &mut Graph, part: &str| {
            Linear::with(g, &format!("{name}.{part}"), d_model, d_model, opts.linear)
        };
        Ok(MultiHeadAttention {
            q_proj: proj(g, "q_proj")?,
            k_proj: proj(g, "k_proj")?,
            v_proj: proj(g, "v_proj")?,
            out_proj: proj(g, "out_proj")?,
            d_model,
            heads,
        })
    }

    /// `query [B, Tq, D]` attending to `key_value [B, Tk, D]` -> `[B, Tq, D]`.
    ///
    /// `key_padding_mask [B, Tk]` (u32 or f32): a 0 hides that key from every query of its
    /// batch row. `causal`: query i sees keys `j <= i + (Tk - Tq)` (the usual `j <= i` for
    /// self-attention). A query that sees no key gets zeros.
    #[track_caller]
    pub fn forward(
        &self,
        g: &mut Graph,
        query: Var,
        key_value: Var,
        key_padding_mask: Option<Var>,
        causal: bool,
    ) -> Result<Var> {
        let at = Location::caller();
        let (qs, ks) = (g.shape(query)?.to_vec(), g.shape(key_value)?.to_vec());
        let (&[b, tq, dq], &[bk, tk, dk]) = (qs.as_slice(), ks.as_slice()) else {
            return Err(self.shape_error(&qs, &ks).at(at));
        };
        if bk != b || dq != self.d_model || dk != self.d_model {
            return Err(self.shape_error(&qs, &ks).at(at));
        }
        let q = self.q_proj.forward(g, query)?;
        let k = self.k_proj.forward(g, key_value)?;
        let v = self.v_proj.forward(g, key_value)?;
        let q = self.split_heads(g, q, b, tq)?;
        let k = self.split_heads(g, k, b, tk)?;
        let v = self.split_heads(g, v, b, tk)?;
        let opts = AttentionOptions {
            causal,
            scale: None,
        };
        let o = g.attention(q, k, v, key_padding_mask, opts)?;
        let o = g.transpose12(o)?;
        let o = g.reshape(o, &[b, tq, self.d_model])?;
        self.out_proj.forward(g, o)
    }

    /// The attention probabilities `softmax(scale · q kᵀ)` per head, `[B, H, Tq, Tk]`, computed
    /// unfused (materialised) for pictures and inspection: the fused kernel never writes them.
    /// No masks: build the probe graph at the sequences' true lengths.
    #[track_caller]
    pub fn weights(&self, g: &mut Graph, query: Var, key_value: Var) -> Result<Var> {
        let at = Location::caller();
        let (qs, ks) = (g.shape(query)?.to_vec(), g.shape(key_value)?.to_vec());
        let (&[b, tq, dq], &[bk, tk, dk]) = (qs.as_slice(), ks.as_slice()) else {
            return Err(self.shape_error(&qs, &ks).at(at));
        };
        if bk != b || dq != self.d_model || dk != self.d_model {
            return Err(self.shape_error(&qs, &ks).at(at));
        }
        let q = self.q_proj.forward(g, query)?;
        let k = self.k_proj.forward(g, key_value)?;
        let q = self.split_heads(g, q, b, tq)?;
        let k = self.split_heads(g, k, b, tk)?;
        let dh = self.d_model / self.heads;
        let opts = crate::ops::matmul::MatmulOptions {
            trans_a: false,
            trans_b: true,
        };
        let scores = g.matmul_with(q, k, None, opts)?;
        let scores = g.scale(scores, 1.0 / (dh as f32).sqrt(), 0.0)?;
        g.softmax(scores)
    }

    /// `[B, T, D] -> [B, H, T, Dh]`.
    #[track_caller]
    fn split_heads(&self, g: &mut Graph, x: Var, b: usize, t: usize) -> Result<Var> {
        let x = g.reshape(x, &[b, t, self.heads, self.d_model / self.heads])?;
        g.transpose12(x)
    }

    fn shape_error(&self, query: &[usize], key_value: &[usize]) -> crate::Error {
        let d = self.d_model;
        shape_error(
            "multi_head_attention",
            format!("query [B, Tq, {d}] and key_value [B, Tk, {d}]"),
            &[query, key_value],
        )
    }
}
