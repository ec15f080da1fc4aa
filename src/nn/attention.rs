//! `MultiHeadAttention`: projections, head split, fused attention, head merge.

use std::panic::Location;

use crate::error::{shape_error, Result};
use crate::graph::{Graph, Var};
use crate::ops::attention::AttentionOptions;
use crate::tensor::DType;

use super::{Linear, LinearOptions};

/// One self-attention layer's cached keys and values for decoding a position per step: plan
/// inputs `"{name}.keys"` and `"{name}.values"` `[B, H, T, Dh]`, zeros when the plan is made,
/// written in place by [`Graph::kv_append`] as each position is decoded. Nothing is ever read
/// past the position being decoded, so a cache is reused from position 0 without clearing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvCache {
    /// `[B, H, T, Dh]`.
    pub keys: Var,
    /// `[B, H, T, Dh]`.
    pub values: Var,
}

impl KvCache {
    /// A cache of `window` positions for `batch` rows of `heads` heads of width `head_dim`.
    #[track_caller]
    pub fn new(
        g: &mut Graph,
        name: &str,
        batch: usize,
        heads: usize,
        window: usize,
        head_dim: usize,
    ) -> Result<KvCache> {
        let shape = [batch, heads, window, head_dim];
        Ok(KvCache {
            keys: g.input(&format!("{name}.keys"), &shape, DType::F32)?,
            values: g.input(&format!("{name}.values"), &shape, DType::F32)?,
        })
    }
}

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
        self.attend(g, q, k, v, key_padding_mask, causal, b, tq)
    }

    /// One decoding step of causal self-attention: `x [B, 1, D]` is the position
    /// `position [B]` (u32) of each row; its key and value are appended to `cache`, and its
    /// query attends to every cached position up to and including itself. The result equals
    /// row `position` of [`forward`](Self::forward) over the whole prefix with `causal`.
    #[track_caller]
    pub fn forward_cached(
        &self,
        g: &mut Graph,
        x: Var,
        cache: KvCache,
        position: Var,
    ) -> Result<Var> {
        let at = Location::caller();
        let xs = g.shape(x)?.to_vec();
        let &[b, 1, d] = xs.as_slice() else {
            return Err(self.step_error(&xs).at(at));
        };
        if d != self.d_model {
            return Err(self.step_error(&xs).at(at));
        }
        let q = self.q_proj.forward(g, x)?;
        let k = self.k_proj.forward(g, x)?;
        let v = self.v_proj.forward(g, x)?;
        let mask = g.kv_append(cache.keys, cache.values, k, v, position)?;
        let q = self.split_heads(g, q, b, 1)?;
        self.attend(g, q, cache.keys, cache.values, Some(mask), false, b, 1)
    }

    /// `key_value [B, Tk, D]` projected and split into heads once, `(K, V)` `[B, H, Tk, Dh]`:
    /// what [`forward_projected`](Self::forward_projected) reuses for every decoding step
    /// (the encoder's output in a decoder's cross-attention).
    #[track_caller]
    pub fn project_key_value(&self, g: &mut Graph, key_value: Var) -> Result<(Var, Var)> {
        let at = Location::caller();
        let ks = g.shape(key_value)?.to_vec();
        let &[b, tk, d] = ks.as_slice() else {
            return Err(self.shape_error(&ks, &ks).at(at));
        };
        if d != self.d_model {
            return Err(self.shape_error(&ks, &ks).at(at));
        }
        let k = self.k_proj.forward(g, key_value)?;
        let v = self.v_proj.forward(g, key_value)?;
        Ok((
            self.split_heads(g, k, b, tk)?,
            self.split_heads(g, v, b, tk)?,
        ))
    }

    /// `query [B, Tq, D]` attending (without a causal mask) to keys and values already made by
    /// [`project_key_value`](Self::project_key_value), `[B, H, Tk, Dh]`, under
    /// `key_padding_mask [B, Tk]` -> `[B, Tq, D]`.
    #[track_caller]
    pub fn forward_projected(
        &self,
        g: &mut Graph,
        query: Var,
        keys: Var,
        values: Var,
        key_padding_mask: Option<Var>,
    ) -> Result<Var> {
        let at = Location::caller();
        let qs = g.shape(query)?.to_vec();
        let &[b, tq, d] = qs.as_slice() else {
            return Err(self.step_error(&qs).at(at));
        };
        if d != self.d_model {
            return Err(self.step_error(&qs).at(at));
        }
        let q = self.q_proj.forward(g, query)?;
        let q = self.split_heads(g, q, b, tq)?;
        self.attend(g, q, keys, values, key_padding_mask, false, b, tq)
    }

    /// Fused attention of split heads, merged and projected: `[B, H, Tq, Dh]` -> `[B, Tq, D]`.
    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        g: &mut Graph,
        q: Var,
        k: Var,
        v: Var,
        mask: Option<Var>,
        causal: bool,
        b: usize,
        tq: usize,
    ) -> Result<Var> {
        let opts = AttentionOptions {
            causal,
            scale: None,
        };
        let o = g.attention(q, k, v, mask, opts)?;
        let o = g.transpose12(o)?;
        let o = g.reshape(o, &[b, tq, self.d_model])?;
        self.out_proj.forward(g, o)
    }

    fn step_error(&self, x: &[usize]) -> crate::Error {
        shape_error(
            "multi_head_attention",
            format!("x [B, Tq, {}] (Tq = 1 for a cached step)", self.d_model),
            &[x],
        )
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
