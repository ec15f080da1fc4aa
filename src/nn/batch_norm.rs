//! `BatchNorm2d`: per-channel batch normalisation of images, as PyTorch's, with DCGAN's
//! initialisation.

use crate::error::Result;
use crate::graph::{Graph, Init, Var};
use crate::ops::batch_norm2d::BatchNormOptions;

/// Batch norm over `x [N, C, H, W]` (see [`Graph::batch_norm2d`]): a train plan normalises with
/// the batch's statistics and updates the running ones in place; an eval plan uses the running
/// ones. The running statistics are parameters in the store (shared by every plan over it)
/// but not trainable: list [`BatchNorm2d::trainable_names`] in a training spec, or leave the
/// spec's `params` as `None`, which skips them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm2d {
    /// gamma `[C]`, N(1, 0.02²) at first as in DCGAN, named `"{name}.weight"`.
    pub weight: Var,
    /// beta `[C]`, zeros at first, named `"{name}.bias"`.
    pub bias: Var,
    /// `[C]`, zeros at first, named `"{name}.running_mean"`.
    pub running_mean: Var,
    /// `[C]`, ones at first, named `"{name}.running_var"`.
    pub running_var: Var,
    /// eps and momentum (PyTorch's 1e-5 and 0.1 by default).
    pub opts: BatchNormOptions,
}

impl BatchNorm2d {
    /// A batch norm over `channels` with PyTorch's eps and momentum.
    #[track_caller]
    pub fn new(g: &mut Graph, name: &str, channels: usize) -> Result<Self> {
        BatchNorm2d::with(g, name, channels, BatchNormOptions::default())
    }

    /// A batch norm over `channels` with the given options.
    #[track_caller]
    pub fn with(
        g: &mut Graph,
        name: &str,
        channels: usize,
        opts: BatchNormOptions,
    ) -> Result<Self> {
        let c = [channels];
        let weight_init = Init::Normal {
            mean: 1.0,
            std: 0.02,
        };
        Ok(BatchNorm2d {
            weight: g.param(&format!("{name}.weight"), &c, weight_init)?,
            bias: g.param(&format!("{name}.bias"), &c, Init::Zeros)?,
            running_mean: g.param(&format!("{name}.running_mean"), &c, Init::Zeros)?,
            running_var: g.param(&format!("{name}.running_var"), &c, Init::Ones)?,
            opts,
        })
    }

    /// The names a training spec should list for this layer: weight and bias only.
    pub fn trainable_names(name: &str) -> Vec<String> {
        vec![format!("{name}.weight"), format!("{name}.bias")]
    }

    /// `x [N, C, H, W] -> [N, C, H, W]`.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        g.batch_norm2d(
            x,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            self.opts,
        )
    }
}
