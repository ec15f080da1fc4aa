//! `softmax` and `log_softmax` over the last axis, numerically stable, and their backwards.
//!
//! Dimension letters: R rows (every axis but the last, flattened), C the last axis.
//! - forward: `y[r,c] = exp(x[r,c] - max_c x[r,:]) / sum_c exp(x[r,c] - max_c x[r,:])`
//! - backward: `dx[r,c] = y[r,c] * (dy[r,c] - sum_c' dy[r,c'] y[r,c'])`, from the saved output,
//!   so the forward's statistics need not be kept.
//! - log forward: `y[r,c] = x[r,c] - max_c x[r,:] - log sum_c exp(x[r,c] - max_c x[r,:])`,
//!   finite wherever `x` is (a softmax that underflows to 0 would give `log 0`)
//! - log backward: `dx[r,c] = dy[r,c] - exp(y[r,c]) * sum_c' dy[r,c']`, from the saved output.
//!
//! Kernel: `shaders/softmax.wgsl`, in two variants ([`SoftmaxVariant`]): a workgroup per row
//! (GPUs) or an invocation per row (CPU drivers, where barriers are expensive).

use crate::context::Context;
use crate::error::{shape_error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_1d, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Output shape: the input's. Needs at least one axis.
pub fn shape(x: &[usize]) -> Result<Vec<usize>> {
    if x.is_empty() || x.contains(&0) {
        return Err(shape_error(
            "softmax",
            "a non-empty tensor with at least one axis",
            &[x],
        ));
    }
    Ok(x.to_vec())
}

/// How a softmax kernel maps rows onto invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoftmaxVariant {
    /// One workgroup per row, reducing in workgroup memory: coalesced loads on a GPU.
    Workgroup,
    /// One invocation per row, no barriers, vec4 accesses when the row length is a multiple of
    /// 4: faster on CPU drivers such as lavapipe (see the bench's softmax figures).
    Rows,
}

/// Longest row the cached forward keeps in private memory (`CACHED_QUADS * 4` in the shader).
const CACHED_COLS: u32 = 512;

/// Rows handled by one workgroup of the `Rows` variant (`ROWS_WG` in the shader).
const ROWS_WG: usize = 64;

/// The variant for this context's adapter: `Rows` on CPU drivers, `Workgroup` elsewhere.
pub fn variant(ctx: &Context) -> SoftmaxVariant {
    match ctx.adapter_info().device_type {
        wgpu::DeviceType::Cpu => SoftmaxVariant::Rows,
        _ => SoftmaxVariant::Workgroup,
    }
}

/// [`variant`] for rows of `cols`: a row per invocation walks the row twice, and llvmpipe stops
/// an invocation's loops after [`kernels::CPU_LOOP_LIMIT`] passes, so rows too long for that
/// (a vocabulary past ~32k) take the workgroup kernel, whose invocations walk C / 64 each.
///
/// [`kernels::CPU_LOOP_LIMIT`]: crate::kernels::CPU_LOOP_LIMIT
fn variant_for(ctx: &Context, cols: usize) -> SoftmaxVariant {
    match variant(ctx) {
        SoftmaxVariant::Rows if !crate::kernels::loops_fit(ctx, 2 * cols as u64 + 2) => {
            SoftmaxVariant::Workgroup
        }
        v => v,
    }
}

fn params(shape: &[usize], variant: SoftmaxVariant) -> (Params, [u32; 3]) {
    let cols = shape.last().copied().unwrap_or(1);
    let rows = shape.iter().product::<usize>() / cols.max(1);
    let p = Params {
        rows: rows as u32,
        cols: cols as u32,
        _pad0: 0,
        _pad1: 0,
    };
    let grid = match variant {
        SoftmaxVariant::Workgroup => grid_1d(rows as u32),
        SoftmaxVariant::Rows => grid_1d(rows.div_ceil(ROWS_WG) as u32),
    };
    (p, grid)
}

/// Prepares `y = softmax(x)` into an existing tensor of the same shape.
pub fn forward(ctx: &Context, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_with(ctx, variant_for(ctx, cols(x)), x, y)
}

fn cols(x: &Tensor) -> usize {
    x.shape().last().copied().unwrap_or(1)
}

/// [`forward`] with an explicit variant (tests and the benchmark run both).
pub fn forward_with(
    ctx: &Context,
    variant: SoftmaxVariant,
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch> {
    prepare_forward(
        ctx,
        "softmax",
        variant,
        x,
        y,
        |variant, cols| match variant {
            SoftmaxVariant::Workgroup => "softmax_forward",
            SoftmaxVariant::Rows if cols % 4 == 0 && cols <= CACHED_COLS => {
                "softmax_forward_rows4_cached"
            }
            SoftmaxVariant::Rows if cols % 4 == 0 => "softmax_forward_rows4",
            SoftmaxVariant::Rows => "softmax_forward_rows",
        },
    )
}

/// Prepares `dx` from the forward output `y` and the output gradient `dy`.
pub fn backward(ctx: &Context, y: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    backward_with(ctx, variant_for(ctx, cols(y)), y, dy, dx)
}

/// [`backward`] with an explicit variant.
pub fn backward_with(
    ctx: &Context,
    variant: SoftmaxVariant,
    y: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch> {
    let op = "softmax_backward";
    prepare_backward(
        ctx,
        op,
        variant,
        [y, dy, dx],
        |variant, cols| match variant {
            SoftmaxVariant::Workgroup => "softmax_backward",
            SoftmaxVariant::Rows if cols % 4 == 0 => "softmax_backward_rows4",
            SoftmaxVariant::Rows => "softmax_backward_rows",
        },
    )
}

/// The checks and dispatch every forward shares; `entry` names the kernel for a variant and
/// row length.
fn prepare_forward(
    ctx: &Context,
    op: &'static str,
    variant: SoftmaxVariant,
    x: &Tensor,
    y: &Tensor,
    entry: impl Fn(SoftmaxVariant, u32) -> &'static str,
) -> Result<Dispatch> {
    shape(x.shape())?;
    if x.shape() != y.shape() {
        return Err(shape_error(
            op,
            "output shaped like the input",
            &[x.shape(), y.shape()],
        ));
    }
    check_f32(op, &[x, y])?;
    let (p, grid) = params(x.shape(), variant);
    Kernel::new("softmax", entry(variant, p.cols)).dispatch(ctx, &p, &[x, y], grid)
}

/// The checks and dispatch every backward shares (`[y, dy, dx]`), as [`prepare_forward`].
fn prepare_backward(
    ctx: &Context,
    op: &'static str,
    variant: SoftmaxVariant,
    [y, dy, dx]: [&Tensor; 3],
    entry: impl Fn(SoftmaxVariant, u32) -> &'static str,
) -> Result<Dispatch> {
    shape(y.shape())?;
    if y.shape() != dy.shape() || y.shape() != dx.shape() {
        return Err(shape_error(
            op,
            "y, dy and dx of one shape",
            &[y.shape(), dy.shape(), dx.shape()],
        ));
    }
    check_f32(op, &[y, dy, dx])?;
    let (p, grid) = params(y.shape(), variant);
    Kernel::new("softmax", entry(variant, p.cols)).dispatch(ctx, &p, &[y, dy, dx], grid)
}

/// Runs `softmax(x)` now and returns the result.
pub fn softmax(ctx: &Context, x: &Tensor) -> Result<Tensor> {
    let y = Tensor::zeros(ctx, &shape(x.shape())?, DType::F32)?;
    run(ctx, &[forward(ctx, x, &y)?])?;
    Ok(y)
}

/// Runs the backward now: `dx` from the output `y` and its gradient `dy`.
pub fn softmax_backward(ctx: &Context, y: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let dx = Tensor::zeros(ctx, y.shape(), DType::F32)?;
    run(ctx, &[backward(ctx, y, dy, &dx)?])?;
    Ok(dx)
}

/// Prepares `y = log_softmax(x)` into an existing tensor of the same shape.
pub fn log_forward(ctx: &Context, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    log_forward_with(ctx, variant_for(ctx, cols(x)), x, y)
}

/// [`log_forward`] with an explicit variant.
pub fn log_forward_with(
    ctx: &Context,
    variant: SoftmaxVariant,
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch> {
    prepare_forward(
        ctx,
        "log_softmax",
        variant,
        x,
        y,
        |variant, _| match variant {
            SoftmaxVariant::Workgroup => "log_softmax_forward",
            SoftmaxVariant::Rows => "log_softmax_forward_rows",
        },
    )
}

/// Prepares the log-softmax backward: `dx` from the forward output `y` and `dy`.
pub fn log_backward(ctx: &Context, y: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    log_backward_with(ctx, variant_for(ctx, cols(y)), y, dy, dx)
}

/// [`log_backward`] with an explicit variant.
pub fn log_backward_with(
    ctx: &Context,
    variant: SoftmaxVariant,
    y: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch> {
    let op = "log_softmax_backward";
    prepare_backward(ctx, op, variant, [y, dy, dx], |variant, _| match variant {
        SoftmaxVariant::Workgroup => "log_softmax_backward",
        SoftmaxVariant::Rows => "log_softmax_backward_rows",
    })
}

/// Runs `log_softmax(x)` now and returns the result.
pub fn log_softmax(ctx: &Context, x: &Tensor) -> Result<Tensor> {
    let y = Tensor::zeros(ctx, &shape(x.shape())?, DType::F32)?;
    run(ctx, &[log_forward(ctx, x, &y)?])?;
    Ok(y)
}

/// Runs the log-softmax backward now: `dx` from the output `y` and its gradient `dy`.
pub fn log_softmax_backward(ctx: &Context, y: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let dx = Tensor::zeros(ctx, y.shape(), DType::F32)?;
    run(ctx, &[log_backward(ctx, y, dy, &dx)?])?;
    Ok(dx)
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Softmax over the last axis.
    #[track_caller]
    pub fn softmax(&mut self, x: Var) -> Result<Var> {
        self.push1(Op::Softmax, &[x])
    }

    /// Log-softmax over the last axis: `x - logsumexp(x)`, finite wherever `x` is.
    #[track_caller]
    pub fn log_softmax(&mut self, x: Var) -> Result<Var> {
        self.push1(Op::LogSoftmax, &[x])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let (name, count) = match op {
        Op::Softmax => ("softmax", 1),
        Op::LogSoftmax => ("log_softmax", 1),
        Op::LogSoftmaxBackward => ("log_softmax_backward", 2),
        _ => ("softmax_backward", 2),
    };
    check_arity(name, x, count)?;
    check_f32_meta(name, x)?;
    if count == 2 && x[0].shape != x[1].shape {
        return Err(shape_error(
            name,
            "y and dy of one shape",
            &[&x[0].shape, &x[1].shape],
        ));
    }
    Ok(vec![Meta::f32(&shape(&x[0].shape)?)])
}

/// `dx` from the saved output `y` and `dy`, for `op` (softmax or log_softmax).
pub(crate) fn grad(op: &Op, g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    let backward = match op {
        Op::LogSoftmax => Op::LogSoftmaxBackward,
        _ => Op::SoftmaxBackward,
    };
    match a.douts[0] {
        Some(dy) => Ok(vec![Some(g.push1(backward, &[a.outputs[0], dy])?)]),
        None => Ok(vec![None]),
    }
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    Ok(vec![match op {
        Op::Softmax => {
            let (i, o) = io_tensors("softmax", io, 1, 1)?;
            forward(ctx, i[0], o[0])?
        }
        Op::LogSoftmax => {
            let (i, o) = io_tensors("log_softmax", io, 1, 1)?;
            log_forward(ctx, i[0], o[0])?
        }
        Op::LogSoftmaxBackward => {
            let (i, o) = io_tensors("log_softmax_backward", io, 2, 1)?;
            log_backward(ctx, i[0], i[1], o[0])?
        }
        _ => {
            let (i, o) = io_tensors("softmax_backward", io, 2, 1)?;
            backward(ctx, i[0], i[1], o[0])?
        }
    }])
}
