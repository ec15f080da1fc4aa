//! `bce_with_logits`: binary cross-entropy of logits against probabilities, mean reduction, as
//! PyTorch's `binary_cross_entropy_with_logits`, and its gradient with respect to the logits.
//!
//! Dimension letters: N the number of elements of `x` and `t` (any shape, the same for both).
//! - forward: `loss = (1/N) Σ max(x, 0) − x·t + log(1 + exp(−|x|))`, the stable form of
//!   `−t·log σ(x) − (1 − t)·log(1 − σ(x))`; output `[1]`.
//! - backward: `dx = (σ(x) − t)·dloss/N`. Targets get no gradient (they are labels).
//!
//! Kernels: `shaders/bce.wgsl` writes the per-element losses; their mean is
//! [`super::reduce::prepare_reduce_all`]'s deterministic two-stage reduction.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{numel, DType, Tensor};

use super::reduce::{prepare_reduce_all, sum_all_partials, Reduction};
use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Invocations per workgroup in `bce.wgsl`.
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Checks that logits and targets have one non-empty shape; returns N.
pub fn shape(logits: &[usize], targets: &[usize]) -> Result<usize> {
    let n = numel(logits);
    if logits != targets || n == 0 || n > u32::MAX as usize {
        return Err(shape_error(
            "bce_with_logits",
            "logits and targets of one non-empty shape",
            &[logits, targets],
        ));
    }
    Ok(n)
}

fn params(n: usize) -> Params {
    Params {
        n: n as u32,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    }
}

/// Prepares the forward: per-element `losses` (shaped like `x`), then their mean into `mean`
/// (`[1]`) through `partials` (`[sum_all_partials(N)]`).
pub fn forward(
    ctx: &Context,
    x: &Tensor,
    t: &Tensor,
    losses: &Tensor,
    partials: &Tensor,
    mean: &Tensor,
) -> Result<Vec<Dispatch>> {
    let n = shape(x.shape(), t.shape())?;
    if losses.shape() != x.shape() {
        return Err(shape_error(
            "bce_with_logits",
            "losses shaped like the logits",
            &[x.shape(), t.shape(), losses.shape()],
        ));
    }
    check_f32("bce_with_logits", &[x, t, losses])?;
    let mut d = vec![Kernel::new("bce", "bce_forward").dispatch(
        ctx,
        &params(n),
        &[x, t, losses],
        grid_for(n, WG),
    )?];
    d.extend(prepare_reduce_all(
        ctx,
        losses,
        Reduction::Mean,
        partials,
        mean,
    )?);
    Ok(d)
}

/// Prepares `dx = (σ(x) − t)·dloss/N` for the scalar `dloss` (`[1]`).
pub fn backward_logits(
    ctx: &Context,
    x: &Tensor,
    t: &Tensor,
    dloss: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch> {
    let n = shape(x.shape(), t.shape())?;
    if dx.shape() != x.shape() || dloss.numel() != 1 {
        return Err(shape_error(
            "bce_with_logits_backward",
            "dx shaped like the logits and a one-element dloss",
            &[x.shape(), t.shape(), dloss.shape(), dx.shape()],
        ));
    }
    check_f32("bce_with_logits_backward", &[x, t, dloss, dx])?;
    Kernel::new("bce", "bce_backward_logits").dispatch(
        ctx,
        &params(n),
        &[x, t, dloss, dx],
        grid_for(n, WG),
    )
}

/// Runs the forward now; returns the mean loss `[1]`.
pub fn bce_with_logits(ctx: &Context, x: &Tensor, t: &Tensor) -> Result<Tensor> {
    let n = shape(x.shape(), t.shape())?;
    let losses = Tensor::zeros(ctx, x.shape(), DType::F32)?;
    let partials = Tensor::zeros(ctx, &[sum_all_partials(n)], DType::F32)?;
    let mean = Tensor::zeros(ctx, &[1], DType::F32)?;
    run(ctx, &forward(ctx, x, t, &losses, &partials, &mean)?)?;
    Ok(mean)
}

/// Runs the backward now; returns `dx` for the scalar `dloss` (`[1]`).
pub fn bce_with_logits_backward(
    ctx: &Context,
    x: &Tensor,
    t: &Tensor,
    dloss: &Tensor,
) -> Result<Tensor> {
    let dx = Tensor::zeros(ctx, x.shape(), DType::F32)?;
    run(ctx, &[backward_logits(ctx, x, t, dloss, &dx)?])?;
    Ok(dx)
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Mean binary cross-entropy of `logits` against f32 `targets` in [0, 1] of the same shape,
    /// shape `[1]`. Targets get no gradient.
    #[track_caller]
    pub fn bce_with_logits(&mut self, logits: Var, targets: Var) -> Result<Var> {
        Ok(self.push(Op::BceWithLogits, &[logits, targets])?[0])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    match op {
        Op::BceWithLogits => {
            // (logits, targets) -> (mean, losses, partials)
            check_arity(name, x, 2)?;
            check_f32_meta(name, x)?;
            let n = shape(&x[0].shape, &x[1].shape)?;
            Ok(vec![
                Meta::f32(&[1]),
                Meta::f32(&x[0].shape),
                Meta::f32(&[sum_all_partials(n)]),
            ])
        }
        _ => {
            // (logits, targets, dloss) -> dlogits
            check_arity(name, x, 3)?;
            check_f32_meta(name, x)?;
            shape(&x[0].shape, &x[1].shape)?;
            if x[2].shape != [1] {
                let all: Vec<&[usize]> = x.iter().map(|m| m.shape.as_slice()).collect();
                return Err(shape_error(name, "dloss shaped [1]", &all));
            }
            Ok(vec![Meta::f32(&x[0].shape)])
        }
    }
}

/// The gradient flows through the mean (output 0) to the logits only.
pub(crate) fn grad(g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    if a.douts[1].is_some() || a.douts[2].is_some() {
        return Err(Error::Graph(
            "bce_with_logits: gradients flow only through the mean loss".into(),
        ));
    }
    let Some(dloss) = a.douts[0] else {
        return Ok(vec![None, None]);
    };
    let d = g.push1(
        Op::BceWithLogitsBackward,
        &[a.inputs[0], a.inputs[1], dloss],
    )?;
    Ok(vec![Some(d), None])
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::BceWithLogits => {
            let (i, o) = io_tensors("bce_with_logits", io, 2, 3)?;
            forward(ctx, i[0], i[1], o[1], o[2], o[0])
        }
        _ => {
            let (i, o) = io_tensors("bce_with_logits_backward", io, 3, 1)?;
            Ok(vec![backward_logits(ctx, i[0], i[1], i[2], o[0])?])
        }
    }
}
