//! `layer_norm`: affine normalisation over the last axis, and its backward from the saved
//! statistics.
//!
//! Dimension letters: R rows (every axis but the last, flattened), C the last axis.
//! `x`, `y`, `dy`, `dx` are `[.., C]`; `gamma`, `beta`, `dgamma`, `dbeta` are `[C]`;
//! `mean`, `rstd` are `[R]`.
//! - forward: `mean = (1/C) Σ_c x`, `rstd = 1/√((1/C) Σ_c (x − mean)² + eps)`,
//!   `x̂ = (x − mean)·rstd`, `y = x̂·gamma + beta`; `mean` and `rstd` are saved for the backward.
//! - backward: with `g = dy·gamma`,
//!   `dx = rstd·(g − mean_c(g) − x̂·mean_c(g·x̂))`, `dgamma = Σ_r dy·x̂`, `dbeta = Σ_r dy`.
//!
//! A constant row has zero variance: `rstd = 1/√eps`, `x̂ = 0`, `y = beta`, all finite.
//!
//! Kernels: `shaders/layer_norm.wgsl`; forward and `dx` in two variants ([`LayerNormVariant`]):
//! one workgroup per row (GPUs) or one invocation per row (CPU drivers); `dgamma`/`dbeta`
//! one invocation per column looping over the rows (no float atomics exist in WGSL). With many
//! rows and few columns the rows are cut into slices, one partial each, which
//! [`super::reduce`] then sums (the same rule as its column sums, [`col_slices`]).

use crate::context::Context;
use crate::error::{shape_error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_1d, grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::reduce::{col_slices, prepare_reduce, Reduction, COL_CHUNK};
use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// The usual `eps`, PyTorch's default.
pub const DEFAULT_EPS: f32 = 1e-5;

/// Invocations per workgroup in `layer_norm.wgsl`.
const WG: usize = 64;

/// Rows handled by one workgroup of the `Rows` variant (`ROWS_WG` in the shader).
const ROWS_WG: usize = 64;

/// How the forward and `dx` kernels map rows onto invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerNormVariant {
    /// One workgroup per row, reducing in workgroup memory: coalesced loads on a GPU.
    Workgroup,
    /// One invocation per row, no barriers, vec4 accesses when C is a multiple of 4: faster on
    /// CPU drivers. Measured on lavapipe (2 cores), forward / `dx` in ms, Workgroup -> Rows:
    /// `[1856, 64]` 42 / 39 -> 1.5-2.8 / 1.6-4.3; `[704, 64]` 15 / 14 -> 1.1 / 1.2;
    /// `[2048, 128]` 52 / 52 -> 10 / 9 (figures in `shaders/layer_norm.wgsl`).
    Rows,
}

/// The variant for this context's adapter: `Rows` on CPU drivers, `Workgroup` elsewhere.
pub fn variant(ctx: &Context) -> LayerNormVariant {
    match ctx.adapter_info().device_type {
        wgpu::DeviceType::Cpu => LayerNormVariant::Rows,
        _ => LayerNormVariant::Workgroup,
    }
}

fn row_grid(variant: LayerNormVariant, rows: usize) -> [u32; 3] {
    match variant {
        LayerNormVariant::Workgroup => grid_1d(rows as u32),
        LayerNormVariant::Rows => grid_1d(rows.div_ceil(ROWS_WG) as u32),
    }
}

/// Entry points `[workgroup, rows, rows4]` of one kernel.
type Entries = [&'static str; 3];

const FORWARD: Entries = [
    "layer_norm_forward",
    "layer_norm_forward_rows",
    "layer_norm_forward_rows4",
];
const BACKWARD_X: Entries = [
    "layer_norm_backward_x",
    "layer_norm_backward_x_rows",
    "layer_norm_backward_x_rows4",
];

fn row_entry(variant: LayerNormVariant, cols: usize, e: Entries) -> &'static str {
    match variant {
        LayerNormVariant::Workgroup => e[0],
        LayerNormVariant::Rows if cols.is_multiple_of(4) => e[2],
        LayerNormVariant::Rows => e[1],
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    chunk: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Checks `x` `[.., C]` against `gamma` and `beta` `[C]`; returns `(R, C)`.
pub fn shape(x: &[usize], gamma: &[usize], beta: &[usize]) -> Result<(usize, usize)> {
    let n: usize = x.iter().product();
    match (x.last(), gamma, beta) {
        (Some(&c), &[g], &[b]) if c == g && c == b && n > 0 && n <= u32::MAX as usize => {
            Ok((n / c, c))
        }
        _ => Err(shape_error(
            "layer_norm",
            "x [.., C] (non-empty) with gamma [C] and beta [C]",
            &[x, gamma, beta],
        )),
    }
}

fn params(rows: usize, cols: usize, eps: f32) -> Params {
    Params {
        rows: rows as u32,
        cols: cols as u32,
        eps,
        chunk: rows.max(1) as u32,
    }
}

/// The saved outputs of the forward.
#[derive(Clone, Debug)]
pub struct LayerNormOutput {
    /// `[.., C]`, shaped like the input.
    pub y: Tensor,
    /// `[R]`, each row's mean.
    pub mean: Tensor,
    /// `[R]`, each row's `1/√(var + eps)`.
    pub rstd: Tensor,
}

/// Prepares the forward into `y` (`x`'s shape), `mean` and `rstd` (`[R]`).
#[allow(clippy::too_many_arguments)]
pub fn forward(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f32,
    y: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
) -> Result<Dispatch> {
    forward_with(ctx, variant(ctx), x, gamma, beta, eps, y, mean, rstd)
}

/// [`forward`] with an explicit variant (tests and benchmarks run both).
#[allow(clippy::too_many_arguments)]
pub fn forward_with(
    ctx: &Context,
    variant: LayerNormVariant,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f32,
    y: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
) -> Result<Dispatch> {
    let (rows, cols) = shape(x.shape(), gamma.shape(), beta.shape())?;
    if y.shape() != x.shape() || mean.shape() != [rows] || rstd.shape() != [rows] {
        return Err(shape_error(
            "layer_norm",
            format!("y shaped like x, mean and rstd [{rows}]"),
            &[x.shape(), y.shape(), mean.shape(), rstd.shape()],
        ));
    }
    check_f32("layer_norm", &[x, gamma, beta, y, mean, rstd])?;
    let entry = row_entry(variant, cols, FORWARD);
    Kernel::new("layer_norm", entry).dispatch(
        ctx,
        &params(rows, cols, eps),
        &[x, gamma, beta, y, mean, rstd],
        row_grid(variant, rows),
    )
}

/// Prepares the backward: `dx` (one kernel, per row) then `dgamma` and `dbeta` (one kernel,
/// per column), from the forward's `x`, `gamma` and saved `mean`, `rstd`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    dgamma: &Tensor,
    dbeta: &Tensor,
) -> Result<Vec<Dispatch>> {
    backward_with(
        ctx,
        variant(ctx),
        x,
        gamma,
        mean,
        rstd,
        dy,
        dx,
        dgamma,
        dbeta,
    )
}

/// [`backward`] with an explicit variant for the `dx` kernel.
#[allow(clippy::too_many_arguments)]
pub fn backward_with(
    ctx: &Context,
    variant: LayerNormVariant,
    x: &Tensor,
    gamma: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    dgamma: &Tensor,
    dbeta: &Tensor,
) -> Result<Vec<Dispatch>> {
    let (rows, cols) = shape(x.shape(), gamma.shape(), dgamma.shape())?;
    if dy.shape() != x.shape()
        || dx.shape() != x.shape()
        || dbeta.shape() != [cols]
        || mean.shape() != [rows]
        || rstd.shape() != [rows]
    {
        return Err(shape_error(
            "layer_norm_backward",
            format!("x, dy, dx of one shape, gamma, dgamma, dbeta [{cols}], mean, rstd [{rows}]"),
            &[
                x.shape(),
                dy.shape(),
                dx.shape(),
                mean.shape(),
                rstd.shape(),
            ],
        ));
    }
    check_f32(
        "layer_norm_backward",
        &[x, gamma, mean, rstd, dy, dx, dgamma, dbeta],
    )?;
    let p = params(rows, cols, 0.0);
    let entry = row_entry(variant, cols, BACKWARD_X);
    let mut dispatches = vec![Kernel::new("layer_norm", entry).dispatch(
        ctx,
        &p,
        &[x, gamma, mean, rstd, dy, dx],
        row_grid(variant, rows),
    )?];
    let gamma_beta = Kernel::new("layer_norm", "layer_norm_backward_gamma_beta");
    let slices = col_slices(cols, rows);
    if slices == 1 {
        dispatches.push(gamma_beta.dispatch(
            ctx,
            &p,
            &[x, mean, rstd, dy, dgamma, dbeta],
            grid_for(cols, WG),
        )?);
        return Ok(dispatches);
    }
    // Partials per slice of rows, summed by the reduce op; allocated once here and kept alive
    // by the dispatches that bind them.
    let partial_g = Tensor::zeros(ctx, &[slices, cols], DType::F32)?;
    let partial_b = Tensor::zeros(ctx, &[slices, cols], DType::F32)?;
    let split = Params {
        chunk: COL_CHUNK as u32,
        ..p
    };
    dispatches.push(gamma_beta.dispatch(
        ctx,
        &split,
        &[x, mean, rstd, dy, &partial_g, &partial_b],
        grid_for(slices * cols, WG),
    )?);
    dispatches.extend(prepare_reduce(ctx, &partial_g, 0, Reduction::Sum, dgamma)?);
    dispatches.extend(prepare_reduce(ctx, &partial_b, 0, Reduction::Sum, dbeta)?);
    Ok(dispatches)
}

/// Runs the forward now.
pub fn layer_norm(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f32,
) -> Result<LayerNormOutput> {
    let (rows, _) = shape(x.shape(), gamma.shape(), beta.shape())?;
    let out = LayerNormOutput {
        y: Tensor::zeros(ctx, x.shape(), DType::F32)?,
        mean: Tensor::zeros(ctx, &[rows], DType::F32)?,
        rstd: Tensor::zeros(ctx, &[rows], DType::F32)?,
    };
    run(
        ctx,
        &[forward(
            ctx, x, gamma, beta, eps, &out.y, &out.mean, &out.rstd,
        )?],
    )?;
    Ok(out)
}

/// Runs the backward now; returns `(dx, dgamma, dbeta)`.
pub fn layer_norm_backward(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    saved: &LayerNormOutput,
    dy: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let dx = Tensor::zeros(ctx, x.shape(), DType::F32)?;
    let dgamma = Tensor::zeros(ctx, gamma.shape(), DType::F32)?;
    let dbeta = Tensor::zeros(ctx, gamma.shape(), DType::F32)?;
    run(
        ctx,
        &backward(
            ctx,
            x,
            gamma,
            &saved.mean,
            &saved.rstd,
            dy,
            &dx,
            &dgamma,
            &dbeta,
        )?,
    )?;
    Ok((dx, dgamma, dbeta))
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Layer norm over the last axis of `x [.., C]` with `gamma`, `beta` `[C]`.
    #[track_caller]
    pub fn layer_norm(&mut self, x: Var, gamma: Var, beta: Var, eps: f32) -> Result<Var> {
        Ok(self.push(Op::LayerNorm { eps }, &[x, gamma, beta])?[0])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    match op {
        Op::LayerNorm { .. } => {
            check_arity(name, x, 3)?;
            check_f32_meta(name, x)?;
            let (rows, _) = shape(&x[0].shape, &x[1].shape, &x[2].shape)?;
            Ok(vec![
                Meta::f32(&x[0].shape),
                Meta::f32(&[rows]),
                Meta::f32(&[rows]),
            ])
        }
        _ => {
            // (x, gamma, mean, rstd, dy) -> (dx, dgamma, dbeta)
            check_arity(name, x, 5)?;
            check_f32_meta(name, x)?;
            let (rows, cols) = shape(&x[0].shape, &x[1].shape, &x[1].shape)?;
            let ok = x[2].shape == [rows] && x[3].shape == [rows] && x[4].shape == x[0].shape;
            if !ok {
                let all: Vec<&[usize]> = x.iter().map(|m| m.shape.as_slice()).collect();
                return Err(shape_error(name, "x, gamma, mean, rstd, dy", &all));
            }
            Ok(vec![
                Meta::f32(&x[0].shape),
                Meta::f32(&[cols]),
                Meta::f32(&[cols]),
            ])
        }
    }
}

/// One backward node from the saved statistics; the mean and rstd outputs carry no gradient.
pub(crate) fn grad(g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    let Some(dy) = a.douts[0] else {
        return Ok(vec![None; 3]);
    };
    let (x, gamma) = (a.inputs[0], a.inputs[1]);
    let (mean, rstd) = (a.outputs[1], a.outputs[2]);
    let d = g.push(Op::LayerNormBackward, &[x, gamma, mean, rstd, dy])?;
    Ok(d.into_iter().map(Some).collect())
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::LayerNorm { eps } => {
            let (i, o) = io_tensors("layer_norm", io, 3, 3)?;
            Ok(vec![forward(
                ctx, i[0], i[1], i[2], *eps, o[0], o[1], o[2],
            )?])
        }
        _ => {
            let (i, o) = io_tensors("layer_norm_backward", io, 5, 3)?;
            backward(ctx, i[0], i[1], i[2], i[3], i[4], o[0], o[1], o[2])
        }
    }
}
