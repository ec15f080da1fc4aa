//! `sum` and `mean` over one axis, `sum_all`/`mean_all` to a scalar, and their backward.
//!
//! Dimension letters: the input is viewed as `[O, N, I]`: O the axes before the reduced one
//! (flattened), N the reduced axis, I the axes after it. The output drops the axis (no keepdim):
//! `[d0, .., d(axis-1), d(axis+1), ..]`, and a full reduction is a scalar of shape `[]`.
//! - forward: `y[o,i] = s · Σ_a x[o,a,i]`, with `s = 1` (sum) or `1/N` (mean)
//! - backward: `dx[o,a,i] = s · dy[o,i]` (the output gradient broadcast back along the axis)
//!
//! The reduced axis picks the kernel: the last axis (I = 1) takes one workgroup per output with
//! a tree reduction; any other (the column sums of a bias gradient, say) one invocation per
//! output looping down the axis, so lanes read contiguous floats; a long axis with few outputs
//! is first cut into slices of [`COL_CHUNK`] rows, one partial each. `sum_all` runs two stages:
//! chunks of [`SUM_ALL_CHUNK`] floats into partial sums, then one workgroup over the partials.
//!
//! Kernel: `shaders/reduce.wgsl`.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_1d, grid_for, run, Dispatch, Kernel};
use crate::tensor::{numel, DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Invocations per workgroup in `reduce.wgsl`.
const WG: usize = 64;

/// Floats each first-stage workgroup of `sum_all` reduces (64 per invocation).
pub const SUM_ALL_CHUNK: usize = 64 * WG;

/// Rows of the reduced axis per slice when the column kernel splits it (see [`col_slices`]).
pub const COL_CHUNK: usize = 256;

/// Output counts from which the column kernel has parallelism enough in one pass: 64K
/// invocations fill a large GPU several times over.
pub const SPLIT_BELOW_OUTPUTS: usize = 1 << 16;

/// Sum or mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// `Σ_a x[.., a, ..]`.
    Sum,
    /// `Σ_a x[.., a, ..] / N`.
    Mean,
}

impl Reduction {
    fn scale(self, n: usize) -> f32 {
        match self {
            Reduction::Sum => 1.0,
            Reduction::Mean => (1.0 / n as f64) as f32,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    outer: u32,
    n: u32,
    inner: u32,
    total: u32,
    scale: f32,
    chunk: u32,
    _pad0: u32,
    _pad1: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// `[O, N, I]` of a reduction of `x` over `axis`.
fn view(x: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = x[..axis].iter().product();
    let inner = x[axis + 1..].iter().product();
    (outer, x[axis], inner)
}

/// Output shape of a reduction of `x` over `axis`: `x` without that axis.
pub fn shape(x: &[usize], axis: usize) -> Result<Vec<usize>> {
    if axis >= x.len() || x.contains(&0) || x.iter().product::<usize>() > u32::MAX as usize {
        return Err(shape_error(
            "reduce",
            format!("a non-empty tensor with an axis {axis} (and under 2^32 elements)"),
            &[x],
        ));
    }
    let mut out = x.to_vec();
    out.remove(axis);
    Ok(out)
}

fn params(outer: usize, n: usize, inner: usize, total: usize, scale: f32) -> Params {
    Params {
        outer: outer as u32,
        n: n as u32,
        inner: inner as u32,
        total: total as u32,
        scale,
        chunk: n.max(1) as u32,
        _pad0: 0,
        _pad1: 0,
    }
}

/// Slices of the reduced axis for the column kernel: one, unless there are few outputs (under
/// [`SPLIT_BELOW_OUTPUTS`]) and the axis is longer than two [`COL_CHUNK`]s, when one pass of
/// one invocation per output would leave most of a GPU idle.
pub fn col_slices(outputs: usize, n: usize) -> usize {
    if outputs < SPLIT_BELOW_OUTPUTS && n > 2 * COL_CHUNK {
        n.div_ceil(COL_CHUNK)
    } else {
        1
    }
}

/// Prepares `y = sum (or mean) of x over axis` into `y`, shaped `x` without the axis.
///
/// A long axis with few outputs is reduced in two passes (see [`col_slices`]); the first
/// pass's partials live in a small scratch tensor allocated here, once, and kept alive by the
/// returned dispatches.
pub fn prepare_reduce(
    ctx: &Context,
    x: &Tensor,
    axis: usize,
    kind: Reduction,
    y: &Tensor,
) -> Result<Vec<Dispatch>> {
    let want = shape(x.shape(), axis)?;
    if y.shape() != want.as_slice() {
        return Err(shape_error(
            "reduce",
            format!("an output shaped {want:?} (the input without axis {axis})"),
            &[x.shape(), y.shape()],
        ));
    }
    check_f32("reduce", &[x, y])?;
    let (outer, n, inner) = view(x.shape(), axis);
    let p = params(outer, n, inner, x.numel(), kind.scale(n));
    if inner == 1 {
        return Ok(vec![Kernel::new("reduce", "reduce_forward_rows")
            .dispatch(ctx, &p, &[x, y], grid_1d(outer as u32))?]);
    }
    let cols = Kernel::new("reduce", "reduce_forward_cols");
    let slices = col_slices(outer * inner, n);
    if slices == 1 {
        return Ok(vec![cols.dispatch(
            ctx,
            &p,
            &[x, y],
            grid_for(outer * inner, WG),
        )?]);
    }
    let partials = Tensor::zeros(ctx, &[outer, slices, inner], DType::F32)?;
    let split = Params {
        chunk: COL_CHUNK as u32,
        scale: 1.0,
        ..p
    };
    let gather = params(outer, slices, inner, partials.numel(), kind.scale(n));
    Ok(vec![
        cols.dispatch(ctx, &split, &[x, &partials], grid_for(partials.numel(), WG))?,
        cols.dispatch(ctx, &gather, &[&partials, y], grid_for(outer * inner, WG))?,
    ])
}

/// Prepares `dx` (shaped like the forward's input) from `dy` (shaped like its output):
/// `dy` broadcast back along `axis`, times 1/N for a mean.
pub fn prepare_reduce_backward(
    ctx: &Context,
    dy: &Tensor,
    axis: usize,
    kind: Reduction,
    dx: &Tensor,
) -> Result<Dispatch> {
    let want = shape(dx.shape(), axis)?;
    if dy.shape() != want.as_slice() {
        return Err(shape_error(
            "reduce_backward",
            format!("dy shaped like dx without axis {axis}"),
            &[dy.shape(), dx.shape()],
        ));
    }
    check_f32("reduce_backward", &[dy, dx])?;
    let (outer, n, inner) = view(dx.shape(), axis);
    let p = params(outer, n, inner, dx.numel(), kind.scale(n));
    Kernel::new("reduce", "reduce_backward_x").dispatch(
        ctx,
        &p,
        &[dy, dx],
        grid_for(dx.numel(), WG),
    )
}

/// Length of the scratch tensor `sum_all` needs for `n` inputs: one partial per chunk.
pub fn sum_all_partials(n: usize) -> usize {
    n.div_ceil(SUM_ALL_CHUNK).max(1)
}

/// Prepares the two stages of a full reduction of `x` into the scalar `y` (shape `[]` or
/// `[1]`), through `partials` (shape `[sum_all_partials(x.numel())]`).
pub fn prepare_reduce_all(
    ctx: &Context,
    x: &Tensor,
    kind: Reduction,
    partials: &Tensor,
    y: &Tensor,
) -> Result<Vec<Dispatch>> {
    let n = x.numel();
    let groups = sum_all_partials(n);
    if n == 0 || n > u32::MAX as usize || y.numel() != 1 || partials.shape() != [groups] {
        return Err(shape_error(
            "sum_all",
            format!("a non-empty input, a scalar output and [{groups}] partials"),
            &[x.shape(), partials.shape(), y.shape()],
        ));
    }
    check_f32("sum_all", &[x, partials, y])?;
    let stage1 = params(groups, SUM_ALL_CHUNK, 1, n, 1.0);
    let stage2 = params(1, groups, 1, groups, kind.scale(n));
    Ok(vec![
        Kernel::new("reduce", "reduce_forward_rows").dispatch(
            ctx,
            &stage1,
            &[x, partials],
            grid_1d(groups as u32),
        )?,
        Kernel::new("reduce", "reduce_forward_rows").dispatch(
            ctx,
            &stage2,
            &[partials, y],
            grid_1d(1),
        )?,
    ])
}

/// Prepares the backward of a full reduction: `dx[..] = s · dy` for the scalar `dy`.
pub fn prepare_reduce_all_backward(
    ctx: &Context,
    dy: &Tensor,
    kind: Reduction,
    dx: &Tensor,
) -> Result<Dispatch> {
    let n = dx.numel();
    if n == 0 || n > u32::MAX as usize || dy.numel() != 1 {
        return Err(shape_error(
            "sum_all_backward",
            "a scalar dy and a non-empty dx",
            &[dy.shape(), dx.shape()],
        ));
    }
    check_f32("sum_all_backward", &[dy, dx])?;
    let p = params(1, n, 1, n, kind.scale(n));
    Kernel::new("reduce", "reduce_backward_x").dispatch(ctx, &p, &[dy, dx], grid_for(n, WG))
}

fn reduce_now(ctx: &Context, x: &Tensor, axis: usize, kind: Reduction) -> Result<Tensor> {
    let y = Tensor::zeros(ctx, &shape(x.shape(), axis)?, DType::F32)?;
    run(ctx, &prepare_reduce(ctx, x, axis, kind, &y)?)?;
    Ok(y)
}

fn reduce_backward_now(
    ctx: &Context,
    dy: &Tensor,
    x_shape: &[usize],
    axis: usize,
    kind: Reduction,
) -> Result<Tensor> {
    let dx = Tensor::zeros(ctx, x_shape, DType::F32)?;
    run(ctx, &[prepare_reduce_backward(ctx, dy, axis, kind, &dx)?])?;
    Ok(dx)
}

fn reduce_all_now(ctx: &Context, x: &Tensor, kind: Reduction) -> Result<Tensor> {
    let partials = Tensor::zeros(ctx, &[sum_all_partials(x.numel())], DType::F32)?;
    let y = Tensor::zeros(ctx, &[], DType::F32)?;
    run(ctx, &prepare_reduce_all(ctx, x, kind, &partials, &y)?)?;
    Ok(y)
}

fn reduce_all_backward_now(
    ctx: &Context,
    dy: &Tensor,
    x_shape: &[usize],
    kind: Reduction,
) -> Result<Tensor> {
    let dx = Tensor::zeros(ctx, x_shape, DType::F32)?;
    run(ctx, &[prepare_reduce_all_backward(ctx, dy, kind, &dx)?])?;
    Ok(dx)
}

/// Runs `Σ_a x[.., a, ..]` over `axis` now.
pub fn sum(ctx: &Context, x: &Tensor, axis: usize) -> Result<Tensor> {
    reduce_now(ctx, x, axis, Reduction::Sum)
}

/// Runs the mean over `axis` now.
pub fn mean(ctx: &Context, x: &Tensor, axis: usize) -> Result<Tensor> {
    reduce_now(ctx, x, axis, Reduction::Mean)
}

/// Runs the backward of [`sum`] now: `dy` broadcast to `x_shape` along `axis`.
pub fn sum_backward(ctx: &Context, dy: &Tensor, x_shape: &[usize], axis: usize) -> Result<Tensor> {
    reduce_backward_now(ctx, dy, x_shape, axis, Reduction::Sum)
}

/// Runs the backward of [`mean`] now: `dy / N` broadcast to `x_shape` along `axis`.
pub fn mean_backward(ctx: &Context, dy: &Tensor, x_shape: &[usize], axis: usize) -> Result<Tensor> {
    reduce_backward_now(ctx, dy, x_shape, axis, Reduction::Mean)
}

/// Runs the sum of every element now; the result has shape `[]`.
pub fn sum_all(ctx: &Context, x: &Tensor) -> Result<Tensor> {
    reduce_all_now(ctx, x, Reduction::Sum)
}

/// Runs the mean of every element now (a loss mean); the result has shape `[]`.
pub fn mean_all(ctx: &Context, x: &Tensor) -> Result<Tensor> {
    reduce_all_now(ctx, x, Reduction::Mean)
}

/// Runs the backward of [`sum_all`] now: the scalar `dy` in every element of `x_shape`.
pub fn sum_all_backward(ctx: &Context, dy: &Tensor, x_shape: &[usize]) -> Result<Tensor> {
    reduce_all_backward_now(ctx, dy, x_shape, Reduction::Sum)
}

/// Runs the backward of [`mean_all`] now: `dy / N` in every element of `x_shape`.
pub fn mean_all_backward(ctx: &Context, dy: &Tensor, x_shape: &[usize]) -> Result<Tensor> {
    reduce_all_backward_now(ctx, dy, x_shape, Reduction::Mean)
}

// ---- graph: builders, shape rules, chain rules, lowering ----

impl Graph {
    /// `Σ` over `axis` (the axis is dropped).
    #[track_caller]
    pub fn sum(&mut self, x: Var, axis: usize) -> Result<Var> {
        let kind = Reduction::Sum;
        self.push1(Op::Reduce { axis, kind }, &[x])
    }

    /// Mean over `axis` (the axis is dropped).
    #[track_caller]
    pub fn mean(&mut self, x: Var, axis: usize) -> Result<Var> {
        let kind = Reduction::Mean;
        self.push1(Op::Reduce { axis, kind }, &[x])
    }

    /// Sum of every element, shape `[1]`.
    #[track_caller]
    pub fn sum_all(&mut self, x: Var) -> Result<Var> {
        self.push1(Op::ReduceAll(Reduction::Sum), &[x])
    }

    /// Mean of every element, shape `[1]`.
    #[track_caller]
    pub fn mean_all(&mut self, x: Var) -> Result<Var> {
        self.push1(Op::ReduceAll(Reduction::Mean), &[x])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    check_arity(name, x, 1)?;
    check_f32_meta(name, x)?;
    let s = &x[0].shape;
    match op {
        Op::Reduce { axis, .. } => Ok(vec![Meta::f32(&shape(s, *axis)?)]),
        Op::ReduceBackward { axis, n, .. } => {
            if *axis > s.len() {
                return Err(shape_error(
                    name,
                    format!("an axis {axis} to restore"),
                    &[s],
                ));
            }
            let mut dx = s.clone();
            dx.insert(*axis, *n);
            Ok(vec![Meta::f32(&dx)])
        }
        Op::ReduceAll(_) => {
            let n = numel(s);
            if n == 0 || n > u32::MAX as usize {
                return Err(shape_error(name, "a non-empty input under 2^32", &[s]));
            }
            Ok(vec![Meta::f32(&[1]), Meta::f32(&[sum_all_partials(n)])])
        }
        Op::ReduceAllBackward { shape: xs, .. } => {
            if numel(s) != 1 {
                return Err(shape_error(name, "a one-element dy", &[s]));
            }
            Ok(vec![Meta::f32(xs)])
        }
        _ => Err(Error::Graph(format!("{name} is not a reduction"))),
    }
}

pub(crate) fn grad(op: &Op, g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    let Some(dy) = a.douts[0] else {
        return Ok(vec![None]);
    };
    let xs = g.shape(a.inputs[0])?.to_vec();
    let back = match op {
        Op::Reduce { axis, kind } => Op::ReduceBackward {
            axis: *axis,
            kind: *kind,
            n: xs[*axis],
        },
        Op::ReduceAll(kind) => Op::ReduceAllBackward {
            kind: *kind,
            shape: xs,
        },
        _ => return Err(Error::Graph(format!("{} has no gradient rule", op.name()))),
    };
    Ok(vec![Some(g.push1(back, &[dy])?)])
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let name = op.name();
    match op {
        Op::Reduce { axis, kind } => {
            let (i, o) = io_tensors(name, io, 1, 1)?;
            prepare_reduce(ctx, i[0], *axis, *kind, o[0])
        }
        Op::ReduceBackward { axis, kind, .. } => {
            let (i, o) = io_tensors(name, io, 1, 1)?;
            Ok(vec![prepare_reduce_backward(
                ctx, i[0], *axis, *kind, o[0],
            )?])
        }
        Op::ReduceAll(kind) => {
            let (i, o) = io_tensors(name, io, 1, 2)?;
            prepare_reduce_all(ctx, i[0], *kind, o[1], o[0])
        }
        Op::ReduceAllBackward { kind, .. } => {
            let (i, o) = io_tensors(name, io, 1, 1)?;
            Ok(vec![prepare_reduce_all_backward(ctx, i[0], *kind, o[0])?])
        }
        _ => Err(Error::Graph(format!("{name} is not a reduction"))),
    }
}
