//! `optim`: in-place optimizer updates on the GPU, following PyTorch's `torch.optim` formulas:
//! SGD with momentum (dampening, weight decay, optional Nesterov), Adam (L2 weight decay folded
//! into the gradient) and AdamW (decoupled weight decay), both with bias correction.
//!
//! Dimension letters: P parameter elements (any shape; param, grad and state share it).
//! - SGD: `d = g + λp`; with momentum μ, `b = d` on step 1, else `b = μb + (1-τ)d`, then
//!   `d = d + μb` (Nesterov) or `d = b`; `p ← p - lr·d`.
//! - Adam: `g ← g + λp`; AdamW: `p ← p(1 - lr·λ)`; then `m ← β1 m + (1-β1) g`,
//!   `v ← β2 v + (1-β2) g²`, `p ← p - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)`.
//! - Steps count from t = 1, as PyTorch's `state['step']` after its increment.
//! - Weight averaging (after an update): `a ← δa + (1-δ)p`, δ from
//!   [`crate::optim::average_decay`] in `hyper[AVERAGE_SLOT]`: the exponential moving average
//!   a plan keeps of its trained parameters when [`crate::train::Training::ema_decay`] is set.
//!
//! The values that change per step (lr under a schedule, the bias corrections, SGD's
//! first-step flag) live in a `hyper` tensor `[HYPER_LEN]` f32 that the caller owns: prepare
//! the step's [`Dispatch`] once, then per step call [`SgdConfig::write_hyper`] or
//! [`AdamConfig::write_hyper`] (the configs live in [`crate::optim`]; one `queue.write_buffer`)
//! and record it again. Only the static choice (Nesterov, decoupled decay) is baked into the
//! dispatch. There is no backward: an update is not differentiated through.
//!
//! Kernel: `shaders/optim.wgsl`.

use crate::context::Context;
use crate::error::{shape_error, Result};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::Tensor;

use super::check_f32;
use crate::optim::check_hyper;
use crate::optim::{average_decay, AdamConfig, SgdConfig, AVERAGE_SLOT, HYPER_LEN};

/// Invocations per workgroup in `shaders/optim.wgsl`.
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    flag: u32,
    _pad0: u32,
    _pad1: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Checks that param, grad and every state tensor share one shape.
pub fn shape(op: &'static str, param: &[usize], others: &[&[usize]]) -> Result<()> {
    if others.iter().any(|s| *s != param) || param.iter().product::<usize>() > u32::MAX as usize {
        let mut got = vec![param];
        got.extend_from_slice(others);
        return Err(shape_error(
            op,
            "param, grad and optimizer state of one shape (under 2^32 elements)",
            &got,
        ));
    }
    Ok(())
}

/// Prepares one SGD step, in place on `param` and `momentum_buf`, reading the step's values
/// from `hyper` (write it with [`SgdConfig::write_hyper`] before each submission).
pub fn sgd_step(
    ctx: &Context,
    cfg: &SgdConfig,
    param: &Tensor,
    grad: &Tensor,
    momentum_buf: &Tensor,
    hyper: &Tensor,
) -> Result<Dispatch> {
    shape("sgd", param.shape(), &[grad.shape(), momentum_buf.shape()])?;
    check_hyper("sgd", hyper)?;
    check_f32("sgd", &[param, grad, momentum_buf])?;
    let p = Params {
        n: param.numel() as u32,
        flag: cfg.nesterov as u32,
        _pad0: 0,
        _pad1: 0,
    };
    Kernel::new("optim", "optim_sgd").dispatch(
        ctx,
        &p,
        &[hyper, grad, param, momentum_buf],
        grid_for(param.numel(), WG),
    )
}

/// Prepares one Adam or AdamW step (per `cfg.decoupled`), in place on `param`, `exp_avg` (m)
/// and `exp_avg_sq` (v), reading the step's values from `hyper` (write it with
/// [`AdamConfig::write_hyper`] before each submission).
pub fn adam_step(
    ctx: &Context,
    cfg: &AdamConfig,
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    hyper: &Tensor,
) -> Result<Dispatch> {
    let op = if cfg.decoupled { "adamw" } else { "adam" };
    shape(
        op,
        param.shape(),
        &[grad.shape(), exp_avg.shape(), exp_avg_sq.shape()],
    )?;
    check_hyper(op, hyper)?;
    check_f32(op, &[param, grad, exp_avg, exp_avg_sq])?;
    let p = Params {
        n: param.numel() as u32,
        flag: cfg.decoupled as u32,
        _pad0: 0,
        _pad1: 0,
    };
    Kernel::new("optim", "optim_adam").dispatch(
        ctx,
        &p,
        &[hyper, grad, param, exp_avg, exp_avg_sq],
        grid_for(param.numel(), WG),
    )
}

/// Prepares one step of a weight average: `average ← δ·average + (1-δ)·param`, in place on
/// `average`, δ read from `hyper[AVERAGE_SLOT]`.
pub fn average_step(
    ctx: &Context,
    param: &Tensor,
    average: &Tensor,
    hyper: &Tensor,
) -> Result<Dispatch> {
    shape("average", param.shape(), &[average.shape()])?;
    check_hyper("average", hyper)?;
    check_f32("average", &[param, average])?;
    let p = Params {
        n: param.numel() as u32,
        flag: 0,
        _pad0: 0,
        _pad1: 0,
    };
    Kernel::new("optim", "optim_average").dispatch(
        ctx,
        &p,
        &[hyper, param, average],
        grid_for(param.numel(), WG),
    )
}

/// Runs one step of a weight average now, with the decay `decay` warmed up for step `step`.
pub fn average(
    ctx: &Context,
    decay: f32,
    step: u64,
    param: &Tensor,
    average: &Tensor,
) -> Result<()> {
    let mut values = [0.0; HYPER_LEN];
    values[AVERAGE_SLOT] = average_decay(decay, step);
    let hyper = Tensor::from_f32(ctx, &[HYPER_LEN], &values)?;
    run(ctx, &[average_step(ctx, param, average, &hyper)?])?;
    Ok(())
}

/// Runs one SGD step now (allocating a `hyper` tensor for it).
pub fn sgd(
    ctx: &Context,
    cfg: &SgdConfig,
    step: u64,
    param: &Tensor,
    grad: &Tensor,
    momentum_buf: &Tensor,
) -> Result<()> {
    let hyper = Tensor::from_f32(ctx, &[HYPER_LEN], &cfg.hyper(step)?)?;
    run(
        ctx,
        &[sgd_step(ctx, cfg, param, grad, momentum_buf, &hyper)?],
    )?;
    Ok(())
}

/// Runs one Adam or AdamW step now (allocating a `hyper` tensor for it).
pub fn adam(
    ctx: &Context,
    cfg: &AdamConfig,
    step: u64,
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
) -> Result<()> {
    let hyper = Tensor::from_f32(ctx, &[HYPER_LEN], &cfg.hyper(step)?)?;
    run(
        ctx,
        &[adam_step(
            ctx, cfg, param, grad, exp_avg, exp_avg_sq, &hyper,
        )?],
    )?;
    Ok(())
}
