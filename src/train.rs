//! What a training plan needs beyond the graph: the optimizer, the learning-rate schedule and
//! gradient clipping. The updates themselves are kernels (`shaders/optim.wgsl`, `clip.wgsl`);
//! their state (moments, momentum) lives on the GPU inside the [`Plan`](crate::graph::Plan).

use crate::error::{Error, Result};
use crate::graph::Var;
use crate::ops::optim::{AdamConfig, SgdConfig, HYPER_LEN};

/// The update rule, with PyTorch's formulas (see [`crate::ops::optim`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// SGD with momentum, dampening, weight decay, optional Nesterov.
    Sgd(SgdConfig),
    /// Adam or AdamW.
    Adam(AdamConfig),
}

impl Optimizer {
    /// The configured base learning rate.
    pub fn lr(&self) -> f32 {
        match self {
            Optimizer::Sgd(c) => c.lr,
            Optimizer::Adam(c) => c.lr,
        }
    }

    /// The `hyper` values of step `step` (from 1) with the learning rate `lr`.
    pub fn hyper(&self, step: u64, lr: f32) -> Result<[f32; HYPER_LEN]> {
        match self {
            Optimizer::Sgd(c) => SgdConfig { lr, ..*c }.hyper(step),
            Optimizer::Adam(c) => AdamConfig { lr, ..*c }.hyper(step),
        }
    }

    /// State tensors per parameter: SGD's momentum buffer, Adam's two moments.
    pub fn state_count(&self) -> usize {
        match self {
            Optimizer::Sgd(_) => 1,
            Optimizer::Adam(_) => 2,
        }
    }
}

/// A learning-rate schedule: the factor applied to the optimizer's base rate at each step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// Factor 1.
    Constant,
    /// Linear warm-up to 1 over `warmup` steps, then `√(warmup / t)`: "Attention Is All You
    /// Need"'s `d^-0.5 · min(t^-0.5, t · warmup^-1.5)` up to the constant (see [`Schedule::noam`]).
    WarmupInverseSqrt {
        /// Steps of linear warm-up.
        warmup: u64,
    },
    /// Linear warm-up, then a cosine from 1 down to `min_factor` at step `total`, then flat.
    WarmupCosine {
        /// Steps of linear warm-up.
        warmup: u64,
        /// Step at which the cosine reaches its floor.
        total: u64,
        /// The floor, as a fraction of the base rate.
        min_factor: f32,
    },
}

impl Schedule {
    /// The paper's schedule for model width `d_model`: returns the base learning rate
    /// `d_model^-0.5 · warmup^-0.5` (its peak, at step `warmup`) and the schedule.
    pub fn noam(d_model: usize, warmup: u64) -> (f32, Schedule) {
        let peak = (d_model as f64).powf(-0.5) * (warmup.max(1) as f64).powf(-0.5);
        (peak as f32, Schedule::WarmupInverseSqrt { warmup })
    }

    /// The factor at step `step` (counted from 1).
    pub fn factor(&self, step: u64) -> f32 {
        let t = step.max(1) as f64;
        let f = match *self {
            Schedule::Constant => 1.0,
            Schedule::WarmupInverseSqrt { warmup } => {
                let w = warmup.max(1) as f64;
                (t / w).min((w / t).sqrt())
            }
            Schedule::WarmupCosine {
                warmup,
                total,
                min_factor,
            } => {
                let w = warmup as f64;
                if t <= w {
                    t / w.max(1.0)
                } else {
                    let span = (total as f64 - w).max(1.0);
                    let progress = ((t - w) / span).min(1.0);
                    let cos = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                    min_factor as f64 + (1.0 - min_factor as f64) * cos
                }
            }
        };
        f as f32
    }
}

/// How a plan trains: which loss, which parameters, how.
#[derive(Clone, Debug)]
pub struct Training {
    /// The scalar loss.
    pub loss: Var,
    /// Names of the parameters this plan updates; `None` updates every parameter of the graph
    /// except state that an op writes in place (batch norm's running statistics).
    /// A GAN's two plans name disjoint sets over shared weights.
    pub params: Option<Vec<String>>,
    /// The update rule.
    pub optimizer: Optimizer,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// Clip the gradients to this global L2 norm (PyTorch's `clip_grad_norm_`), on the GPU.
    pub clip_norm: Option<f32>,
}

impl Training {
    /// Training of every parameter with `optimizer`, constant rate, no clipping.
    pub fn new(loss: Var, optimizer: Optimizer) -> Training {
        Training {
            loss,
            params: None,
            optimizer,
            schedule: Schedule::Constant,
            clip_norm: None,
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if let Some(c) = self.clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::Unsupported(format!(
                    "clip_norm must be positive and finite, got {c}"
                )));
            }
        }
        Ok(())
    }
}
