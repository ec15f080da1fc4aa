//! `FeedForward`: the Transformer's position-wise two-layer MLP.

use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::ops::elementwise::Activation;

use super::{Dropout, Linear, LinearOptions};

/// How a [`FeedForward`] is made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeedForwardOptions {
    /// The hidden activation: ReLU by default ("Attention Is All You Need"); GPT and BERT use
    /// GELU ([`Activation::GeluErf`] or [`Activation::GeluTanh`]).
    pub activation: Activation,
    /// Dropout on the hidden activations (0 by default).
    pub dropout: f32,
    /// Both projections' options.
    pub linear: LinearOptions,
}

impl Default for FeedForwardOptions {
    fn default() -> Self {
        FeedForwardOptions {
            activation: Activation::Relu,
            dropout: 0.0,
            linear: LinearOptions::default(),
        }
    }
}

/// `x [.., D] -> linear2(dropout(act(linear1(x)))) [.., D]`, with `linear1: D -> D_ff` and
/// `linear2: D_ff -> D`, named `"{name}.linear1"` and `"{name}.linear2"` as in PyTorch's
/// Transformer layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeedForward {
    /// `D -> D_ff`.
    pub linear1: Linear,
    /// `D_ff -> D`.
    pub linear2: Linear,
    /// The hidden activation.
    pub activation: Activation,
    /// Dropout on the hidden activations.
    pub dropout: Dropout,
}

impl FeedForward {
    /// A ReLU feed-forward block `d -> d_ff -> d` without dropout.
    #[track_caller]
    pub fn new(g: &mut Graph, name: &str, d: usize, d_ff: usize) -> Result<Self> {
        FeedForward::with(g, name, d, d_ff, FeedForwardOptions::default())
    }

    /// A feed-forward block `d -> d_ff -> d` made as `opts` says.
    #[track_caller]
    pub fn with(
        g: &mut Graph,
        name: &str,
        d: usize,
        d_ff: usize,
        opts: FeedForwardOptions,
    ) -> Result<Self> {
        Ok(FeedForward {
            linear1: Linear::with(g, &format!("{name}.linear1"), d, d_ff, opts.linear)?,
            linear2: Linear::with(g, &format!("{name}.linear2"), d_ff, d, opts.linear)?,
            activation: opts.activation,
            dropout: Dropout::new(opts.dropout)?,
        })
    }

    /// `x [.., D] -> [.., D]`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let h = self.linear1.forward(g, x)?;
        let h = g.activation(h, self.activation)?;
        let h = self.dropout.forward(g, h)?;
        self.linear2.forward(g, h)
    }
}
