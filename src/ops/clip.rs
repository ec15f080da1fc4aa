//! `clip`: clipping a set of gradients by their global L2 norm, PyTorch's
//! `torch.nn.utils.clip_grad_norm_`, entirely on the GPU (no readback).
//!
//! Dimension letters: gradients g_1..g_G of N_1..N_G elements (any shapes).
//! - `total = sqrt(sum_k sum_i g_k[i]^2)`
//! - `coef = min(1, max_norm / (total + 1e-6))`
//! - `g_k[i] <- g_k[i] * coef`, in place; with `coef = 1` the gradients keep their bits.
//!
//! [`prepare`] returns one sum-of-squares dispatch per gradient (each writing its own slots of
//! a `partials` scratch, `ceil(N_k / CHUNK)` of them), one dispatch reducing the partials into
//! `stats = [coef, total]` (kept so a trainer can log the norm later), and one in-place scale
//! dispatch per gradient reading `coef` from `stats`. Every sum runs in a fixed order without
//! atomics, so the result is deterministic. There is no backward: clipping acts on gradients.
//! Gradients must be distinct tensors (one passed twice would be scaled twice). A non-finite
//! gradient makes `total` non-finite and `coef` unspecified (WGSL's `min` with a NaN is
//! implementation-defined); PyTorch's `error_if_nonfinite` check is left to the caller, who can
//! read `total` from `stats`.
//!
//! Kernel: `shaders/clip.wgsl`.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::check_f32;

/// Invocations per workgroup in `shaders/clip.wgsl`.
const WG: usize = 256;

/// Elements (or vec4s) per invocation of the scale kernels (`PER_LANE` in the shader).
const PER_LANE: usize = 4;

/// Gradient elements summed into one partial (`CHUNK` in the shader).
pub const CHUNK: usize = 256;

/// Length of the `stats` tensor: `[coef, total_norm]`.
pub const STATS_LEN: usize = 2;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    offset: u32,
    max_norm: f32,
    _pad0: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Length of the f32 `partials` scratch for gradients of `numels` elements: `ceil(n / CHUNK)`
/// slots per gradient.
pub fn scratch_len(numels: &[usize]) -> usize {
    numels.iter().map(|n| n.div_ceil(CHUNK)).sum()
}

/// Checks the gradients' shapes (non-empty, under 2^32 elements each, at least one gradient).
pub fn shape(grads: &[&[usize]]) -> Result<()> {
    let bad = |s: &&[usize]| s.contains(&0) || s.iter().product::<usize>() > u32::MAX as usize;
    if grads.is_empty() || grads.iter().any(bad) {
        return Err(shape_error(
            "clip",
            "at least one gradient, each non-empty and under 2^32 elements",
            grads,
        ));
    }
    Ok(())
}

fn check_max_norm(max_norm: f32) -> Result<()> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(Error::Unsupported(format!(
            "clip: max_norm must be finite and positive, got {max_norm}"
        )));
    }
    Ok(())
}

/// Prepares clipping `grads` in place to a global L2 norm of at most `max_norm`: the
/// sum-of-squares dispatches (one per gradient), the norm dispatch, then the scale dispatches
/// (one per gradient), to be recorded in this order. `partials` is f32 `[L]` with
/// `L >= scratch_len(numels)`; `stats` is f32 `[2]` and receives `[coef, total_norm]`.
pub fn prepare(
    ctx: &Context,
    grads: &[&Tensor],
    max_norm: f32,
    partials: &Tensor,
    stats: &Tensor,
) -> Result<Vec<Dispatch>> {
    let shapes: Vec<&[usize]> = grads.iter().map(|g| g.shape()).collect();
    shape(&shapes)?;
    check_max_norm(max_norm)?;
    let numels: Vec<usize> = grads.iter().map(|g| g.numel()).collect();
    let need = scratch_len(&numels);
    if partials.shape().len() != 1
        || partials.numel() < need
        || need > u32::MAX as usize
        || stats.shape() != [STATS_LEN]
    {
        return Err(shape_error(
            "clip",
            format!("a partials scratch [L] with L >= {need} and stats [{STATS_LEN}]"),
            &[partials.shape(), stats.shape()],
        ));
    }
    check_f32("clip", grads)?;
    check_f32("clip", &[partials, stats])?;

    let mut dispatches = Vec::with_capacity(2 * grads.len() + 1);
    let mut offset = 0;
    for (g, &n) in grads.iter().zip(&numels) {
        let slots = n.div_ceil(CHUNK);
        let p = Params {
            n: n as u32,
            offset: offset as u32,
            max_norm,
            _pad0: 0,
        };
        let sum = if n.is_multiple_of(4) {
            "clip_sum_squares4"
        } else {
            "clip_sum_squares"
        };
        dispatches.push(Kernel::new("clip", sum).dispatch(
            ctx,
            &p,
            &[g, partials],
            grid_for(n, WG * CHUNK),
        )?);
        offset += slots;
    }
    let p = Params {
        n: need as u32,
        offset: 0,
        max_norm,
        _pad0: 0,
    };
    dispatches.push(Kernel::new("clip", "clip_norm").dispatch(
        ctx,
        &p,
        &[partials, stats],
        [1, 1, 1],
    )?);
    for (g, &n) in grads.iter().zip(&numels) {
        let p = Params {
            n: n as u32,
            offset: 0,
            max_norm,
            _pad0: 0,
        };
        let (scale, items) = if n.is_multiple_of(4) {
            ("clip_scale4", n / 4)
        } else {
            ("clip_scale", n)
        };
        dispatches.push(Kernel::new("clip", scale).dispatch(
            ctx,
            &p,
            &[stats, g],
            grid_for(items, WG * PER_LANE),
        )?);
    }
    Ok(dispatches)
}

/// Clips `grads` in place now and returns their global L2 norm before clipping.
pub fn clip_grad_norm(ctx: &Context, grads: &[&Tensor], max_norm: f32) -> Result<f32> {
    let numels: Vec<usize> = grads.iter().map(|g| g.numel()).collect();
    let shapes: Vec<&[usize]> = grads.iter().map(|g| g.shape()).collect();
    shape(&shapes)?;
    check_max_norm(max_norm)?;
    let partials = Tensor::zeros(ctx, &[scratch_len(&numels)], DType::F32)?;
    let stats = Tensor::zeros(ctx, &[STATS_LEN], DType::F32)?;
    run(ctx, &prepare(ctx, grads, max_norm, &partials, &stats)?)?;
    let s = stats.to_vec_f32(ctx)?;
    s.get(1).copied().ok_or(Error::Length {
        during: "clip: reading stats".into(),
        expected: STATS_LEN,
        got: s.len(),
    })
}
