//! `LayerNorm` and the residual wiring around a sub-layer, pre- or post-norm.

use crate::error::Result;
use crate::graph::{Graph, Init, Var};
use crate::ops::layer_norm::DEFAULT_EPS;

/// Layer normalisation over the last axis: `x [.., D] -> (x - mean)/sqrt(var + eps)·gamma + beta`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm {
    /// gamma `[D]`, ones at first, named `"{name}.weight"`.
    pub weight: Var,
    /// beta `[D]`, zeros at first, named `"{name}.bias"`.
    pub bias: Var,
    /// Added to the variance (1e-5 by default, as in PyTorch).
    pub eps: f32,
}

impl LayerNorm {
    /// A layer norm over width `d` with eps 1e-5.
    #[track_caller]
    pub fn new(g: &mut Graph, name: &str, d: usize) -> Result<Self> {
        LayerNorm::with_eps(g, name, d, DEFAULT_EPS)
    }

    /// A layer norm over width `d` with the given eps.
    #[track_caller]
    pub fn with_eps(g: &mut Graph, name: &str, d: usize, eps: f32) -> Result<Self> {
        let weight = g.param(&format!("{name}.weight"), &[d], Init::Ones)?;
        let bias = g.param(&format!("{name}.bias"), &[d], Init::Zeros)?;
        Ok(LayerNorm { weight, bias, eps })
    }

    /// `x [.., D] -> [.., D]`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        g.layer_norm(x, self.weight, self.bias, self.eps)
    }
}

impl std::fmt::Display for ResidualNorm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResidualNorm::Pre => "pre",
            ResidualNorm::Post => "post",
        })
    }
}

impl std::str::FromStr for ResidualNorm {
    type Err = String;

    /// `pre` or `post`, as command lines spell it.
    fn from_str(s: &str) -> std::result::Result<ResidualNorm, String> {
        match s {
            "pre" => Ok(ResidualNorm::Pre),
            "post" => Ok(ResidualNorm::Post),
            other => Err(format!("'{other}' is neither 'pre' nor 'post'")),
        }
    }
}

/// Where a residual block normalises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResidualNorm {
    /// `x + f(LN(x))` (GPT-2 and most models since): the residual path stays un-normalised,
    /// which keeps deep stacks trainable without warm-up.
    #[default]
    Pre,
    /// `LN(x + f(x))`, the original Transformer's order.
    Post,
}

/// A residual connection around a sub-layer `f` whose output is shaped like its input
/// (`[B, T, D]` for a Transformer): `LN(x + f(x))` for [`ResidualNorm::Post`], `x + f(LN(x))`
/// for [`ResidualNorm::Pre`].
#[track_caller]
pub fn residual(
    g: &mut Graph,
    x: Var,
    norm: &LayerNorm,
    order: ResidualNorm,
    f: impl FnOnce(&mut Graph, Var) -> Result<Var>,
) -> Result<Var> {
    match order {
        ResidualNorm::Pre => {
            let n = norm.forward(g, x)?;
            let y = f(g, n)?;
            g.add(x, y)
        }
        ResidualNorm::Post => {
            let y = f(g, x)?;
            let s = g.add(x, y)?;
            norm.forward(g, s)
        }
    }
}
