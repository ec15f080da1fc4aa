//! Optimizers: the update rules (SGD with momentum, Adam, AdamW: PyTorch's `torch.optim`
//! formulas), their hyper-parameters and the learning-rate schedules. A [`Plan`](crate::Plan)
//! trained with an [`Optimizer`] runs the updates as kernels (`shaders/optim.wgsl`, prepared by
//! [`crate::ops::optim`]); their state (moments, momentum) lives on the GPU inside the plan.
//!
//! Every config derives serde's `Serialize`/`Deserialize`, so a run's checkpoint can carry it.
//!
//! The values that change per step (the learning rate under a schedule, Adam's bias
//! corrections, SGD's first-step flag) travel in a small `hyper` tensor `[HYPER_LEN]`, written
//! once per step; only the static choice (Nesterov, decoupled decay) is baked into a kernel.

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::ops::check_f32;
use crate::tensor::Tensor;

/// Length of the `hyper` tensor both optimizers read.
pub const HYPER_LEN: usize = 8;

/// The `hyper` slot holding the weight average's decay for the step (neither optimizer uses
/// it); see [`average_decay`].
pub const AVERAGE_SLOT: usize = 7;

/// The decay of an exponential moving average of weights at step `step` (from 1):
/// `min(decay, (1 + t) / (10 + t))`, TensorFlow's `ExponentialMovingAverage` with
/// `num_updates`. The warm-up matters in short runs: with a fixed 0.999 the average of a
/// 1,000-step run would still be a third made of the random initial weights.
pub fn average_decay(decay: f32, step: u64) -> f32 {
    let t = step as f64;
    (decay as f64).min((1.0 + t) / (10.0 + t)) as f32
}

/// The update rule, with PyTorch's formulas (the kernels: [`crate::ops::optim`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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

/// SGD hyper-parameters, PyTorch's `torch.optim.SGD`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f32,
    /// Momentum μ (0 for plain SGD; the momentum buffer is then left untouched).
    pub momentum: f32,
    /// Dampening τ of the momentum update (not applied on the first step, as PyTorch).
    pub dampening: f32,
    /// L2 weight decay λ, added to the gradient.
    pub weight_decay: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
}

impl SgdConfig {
    /// Plain SGD with momentum and PyTorch's other defaults.
    pub fn new(lr: f32, momentum: f32) -> SgdConfig {
        SgdConfig {
            lr,
            momentum,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }

    /// The `hyper` values for step `step` (counted from 1).
    pub fn hyper(&self, step: u64) -> Result<[f32; HYPER_LEN]> {
        check_step("sgd", step)?;
        let first = if step == 1 { 1.0 } else { 0.0 };
        Ok([
            self.lr,
            self.momentum,
            self.dampening,
            self.weight_decay,
            first,
            0.0,
            0.0,
            0.0,
        ])
    }

    /// Writes the `hyper` tensor for step `step` (one `queue.write_buffer`).
    pub fn write_hyper(&self, ctx: &Context, hyper: &Tensor, step: u64) -> Result<()> {
        check_hyper("sgd", hyper)?;
        hyper.write_f32(ctx, &self.hyper(step)?)
    }
}

/// Adam / AdamW hyper-parameters, PyTorch's `torch.optim.Adam` and `AdamW`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the bias-corrected root of the second moment.
    pub eps: f32,
    /// Weight decay λ: L2 (added to the gradient) for Adam, decoupled for AdamW.
    pub weight_decay: f32,
    /// AdamW: decay the parameter directly, `p ← p(1 - lr·λ)`, instead of the gradient.
    pub decoupled: bool,
}

impl AdamConfig {
    /// Adam with PyTorch's defaults: β = (0.9, 0.999), eps 1e-8, no weight decay.
    pub fn adam(lr: f32) -> AdamConfig {
        AdamConfig {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }

    /// The Transformer paper's Adam (β = (0.9, 0.98), eps 1e-9) at the peak rate of
    /// [`Schedule::noam`] for `d_model` and `warmup`, and that schedule.
    pub fn noam(d_model: usize, warmup: u64) -> (AdamConfig, Schedule) {
        let (peak, schedule) = Schedule::noam(d_model, warmup);
        let adam = AdamConfig {
            beta2: 0.98,
            eps: 1e-9,
            ..AdamConfig::adam(peak)
        };
        (adam, schedule)
    }

    /// AdamW with PyTorch's defaults and weight decay `weight_decay` (PyTorch's default 0.01).
    pub fn adamw(lr: f32, weight_decay: f32) -> AdamConfig {
        AdamConfig {
            weight_decay,
            decoupled: true,
            ..AdamConfig::adam(lr)
        }
    }

    /// The `hyper` values for step `step` (counted from 1); the bias corrections `1 - β^t` are
    /// computed in f64 and rounded once.
    pub fn hyper(&self, step: u64) -> Result<[f32; HYPER_LEN]> {
        check_step("adam", step)?;
        let t = step as f64;
        let bc1 = 1.0 - (self.beta1 as f64).powf(t);
        let bc2 = 1.0 - (self.beta2 as f64).powf(t);
        Ok([
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            bc1 as f32,
            bc2 as f32,
            0.0,
        ])
    }

    /// Writes the `hyper` tensor for step `step` (one `queue.write_buffer`).
    pub fn write_hyper(&self, ctx: &Context, hyper: &Tensor, step: u64) -> Result<()> {
        check_hyper("adam", hyper)?;
        hyper.write_f32(ctx, &self.hyper(step)?)
    }
}

fn check_step(op: &str, step: u64) -> Result<()> {
    if step == 0 {
        return Err(Error::Unsupported(format!(
            "{op}: steps count from 1 (PyTorch's state['step'] after its increment), got 0"
        )));
    }
    Ok(())
}

pub(crate) fn check_hyper(op: &'static str, hyper: &Tensor) -> Result<()> {
    if hyper.shape() != [HYPER_LEN] {
        return Err(shape_error(
            op,
            format!("a hyper tensor shaped [{HYPER_LEN}]"),
            &[hyper.shape()],
        ));
    }
    check_f32(op, &[hyper])
}
