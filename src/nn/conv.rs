//! `Conv2d` and `ConvTranspose2d` layers (NCHW, PyTorch's weight layouts), initialised as
//! DCGAN does: weights `N(0, 0.02)`, biases zero.

use crate::error::Result;
use crate::graph::{Graph, Init, Var};
use crate::ops::conv2d::Conv2dOptions;

/// A 2-D convolution: `x [B, in, H, W] -> [B, out, OH, OW]`, `weight [out, in, K, K]`,
/// optional `bias [out]`, square kernel, stride and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2d {
    /// `[out, in, K, K]`, named `"{name}.weight"`.
    pub weight: Var,
    /// `[out]`, named `"{name}.bias"`, if the layer has one.
    pub bias: Option<Var>,
    /// Stride and padding.
    pub opts: Conv2dOptions,
}

impl Conv2d {
    /// A `c_in -> c_out` convolution with a `kernel`² window.
    #[allow(clippy::too_many_arguments)]
    #[track_caller]
    pub fn new(
        g: &mut Graph,
        name: &str,
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
    ) -> Result<Self> {
        let weight = g.param(
            &format!("{name}.weight"),
            &[c_out, c_in, kernel, kernel],
            Init::normal(0.02),
        )?;
        let bias = if bias {
            Some(g.param(&format!("{name}.bias"), &[c_out], Init::Zeros)?)
        } else {
            None
        };
        Ok(Conv2d {
            weight,
            bias,
            opts: Conv2dOptions::new(stride, padding),
        })
    }

    /// `x [B, in, H, W] -> [B, out, OH, OW]`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        g.conv2d(x, self.weight, self.bias, self.opts)
    }
}

/// A 2-D transposed convolution: `x [B, in, H, W] -> [B, out, OH, OW]`, `weight [in, out, K, K]`
/// (PyTorch's layout), optional `bias [out]`, square kernel, stride and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2d {
    /// `[in, out, K, K]`, named `"{name}.weight"`.
    pub weight: Var,
    /// `[out]`, named `"{name}.bias"`, if the layer has one.
    pub bias: Option<Var>,
    /// Stride and padding.
    pub opts: Conv2dOptions,
}

impl ConvTranspose2d {
    /// A `c_in -> c_out` transposed convolution with a `kernel`² window.
    #[allow(clippy::too_many_arguments)]
    #[track_caller]
    pub fn new(
        g: &mut Graph,
        name: &str,
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
    ) -> Result<Self> {
        let weight = g.param(
            &format!("{name}.weight"),
            &[c_in, c_out, kernel, kernel],
            Init::normal(0.02),
        )?;
        let bias = if bias {
            Some(g.param(&format!("{name}.bias"), &[c_out], Init::Zeros)?)
        } else {
            None
        };
        Ok(ConvTranspose2d {
            weight,
            bias,
            opts: Conv2dOptions::new(stride, padding),
        })
    }

    /// `x [B, in, H, W] -> [B, out, OH, OW]`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        g.conv_transpose2d(x, self.weight, self.bias, self.opts)
    }
}
