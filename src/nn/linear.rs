//! `Linear`: `y = x·W + b` over the last axis.

use std::panic::Location;

use crate::error::{shape_error, Result};
use crate::graph::{Graph, Init, Var};
use crate::ops::matmul::MatmulOptions;

/// How a [`Linear`] is made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearOptions {
    /// Whether it has a bias (initialised to zeros).
    pub bias: bool,
    /// The weight's initialisation; `XavierUniform` by default, `Init::normal(0.02)` for
    /// GPT-style models.
    pub init: Init,
}

impl Default for LinearOptions {
    fn default() -> Self {
        LinearOptions {
            bias: true,
            init: Init::XavierUniform,
        }
    }
}

/// A fully connected layer: `x [.., in] -> x·W + b [.., out]`, with `weight [in, out]` (kiln's
/// `x·W` layout, the transpose of PyTorch's `[out, in]`) and an optional `bias [out]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linear {
    /// `[in, out]`, named `"{name}.weight"`.
    pub weight: Var,
    /// `[out]`, named `"{name}.bias"`, if the layer has one.
    pub bias: Option<Var>,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
}

impl Linear {
    /// A layer `in -> out` with a bias and a Xavier-uniform weight.
    #[track_caller]
    pub fn new(g: &mut Graph, name: &str, in_features: usize, out_features: usize) -> Result<Self> {
        Linear::with(g, name, in_features, out_features, LinearOptions::default())
    }

    /// A layer `in -> out` made as `opts` says.
    #[track_caller]
    pub fn with(
        g: &mut Graph,
        name: &str,
        in_features: usize,
        out_features: usize,
        opts: LinearOptions,
    ) -> Result<Self> {
        let weight = g.param(
            &format!("{name}.weight"),
            &[in_features, out_features],
            opts.init,
        )?;
        let bias = if opts.bias {
            Some(g.param(&format!("{name}.bias"), &[out_features], Init::Zeros)?)
        } else {
            None
        };
        Ok(Linear {
            weight,
            bias,
            in_features,
            out_features,
        })
    }

    /// `x [.., in] -> [.., out]`. The leading axes are flattened so that the whole layer is one
    /// matmul with its bias fused, whatever the rank of `x`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let at = Location::caller();
        let shape = g.shape(x)?.to_vec();
        let Some((&last, lead)) = shape.split_last().filter(|(&c, _)| c == self.in_features) else {
            return Err(shape_error(
                "linear",
                format!(
                    "x [.., {}] for a {} -> {} layer",
                    self.in_features, self.in_features, self.out_features
                ),
                &[&shape, &[self.in_features, self.out_features]],
            )
            .at(at));
        };
        let rows: usize = lead.iter().product();
        let flat = if shape.len() == 2 {
            x
        } else {
            g.reshape(x, &[rows, last])?
        };
        let y = g.matmul_with(flat, self.weight, self.bias, MatmulOptions::default())?;
        if shape.len() == 2 {
            return Ok(y);
        }
        let mut out = lead.to_vec();
        out.push(self.out_features);
        g.reshape(y, &out)
    }
}
