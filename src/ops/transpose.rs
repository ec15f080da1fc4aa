//! `transpose` of axes 1 and 2 of a 4-D tensor: splits and merges attention heads,
//! `[batch, seq, heads, head_dim] <-> [batch, heads, seq, head_dim]`.
//!
//! Dimension letters: x is `[A, B, C, D]`, y is `[A, C, B, D]`.
//! - forward: `y[a,c,b,d] = x[a,b,c,d]`
//! - backward: `dx[a,b,c,d] = dy[a,c,b,d]`: the same swap applied to `dy` (a permutation's
//!   Jacobian is its own transpose), so [`backward`] reuses the forward kernel.
//!
//! Kernel: `shaders/transpose.wgsl`, in two variants ([`TransposeVariant`]): an invocation per
//! output element (GPUs) or per output row of D (CPU drivers), each with vec4 accesses when D
//! is a multiple of 4.

use crate::context::Context;
use crate::error::{shape_error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Invocations per workgroup in `shaders/transpose.wgsl`.
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Output shape `[A, C, B, D]` of an input `[A, B, C, D]`.
pub fn shape(x: &[usize]) -> Result<Vec<usize>> {
    shape_named("transpose", x)
}

fn shape_named(op: &'static str, x: &[usize]) -> Result<Vec<usize>> {
    if x.len() != 4 || x.contains(&0) || x.iter().product::<usize>() > u32::MAX as usize {
        return Err(shape_error(
            op,
            "a non-empty 4-D tensor [A, B, C, D] (under 2^32 elements)",
            &[x],
        ));
    }
    Ok(vec![x[0], x[2], x[1], x[3]])
}

/// How a transpose kernel maps work onto invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransposeVariant {
    /// One invocation per output element (per vec4 when D is a multiple of 4): neighbouring
    /// lanes touch neighbouring addresses, which GPUs coalesce.
    Elements,
    /// One invocation per output row of D (copied as vec4s when D is a multiple of 4): the
    /// index arithmetic runs once per row instead of once per element or vec4. On lavapipe
    /// (copying `[8,256,8,64]`) 4.4-5.0 ms against 5.3-6.3 ms for `Elements` with vec4, and
    /// about half the time of `Elements` without vec4 at any D.
    Rows,
}

/// The variant for this context's adapter: `Rows` on CPU drivers, `Elements` elsewhere.
pub fn variant(ctx: &Context) -> TransposeVariant {
    match ctx.adapter_info().device_type {
        wgpu::DeviceType::Cpu => TransposeVariant::Rows,
        _ => TransposeVariant::Elements,
    }
}

fn prepare(
    ctx: &Context,
    variant: TransposeVariant,
    op: &'static str,
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch> {
    let want = shape_named(op, x.shape())?;
    if y.shape() != want.as_slice() {
        return Err(shape_error(
            op,
            format!("output shaped {want:?} (axes 1 and 2 of the input swapped)"),
            &[x.shape(), y.shape()],
        ));
    }
    check_f32(op, &[x, y])?;
    let s = x.shape();
    let vec4 = s[3].is_multiple_of(4);
    let d = if vec4 { s[3] / 4 } else { s[3] };
    let rows = s[0] * s[1] * s[2];
    let (entry, items) = match (variant, vec4) {
        (TransposeVariant::Elements, true) => ("transpose_forward4", rows * d),
        (TransposeVariant::Elements, false) => ("transpose_forward", rows * d),
        (TransposeVariant::Rows, true) => ("transpose_forward_rows4", rows),
        (TransposeVariant::Rows, false) => ("transpose_forward_rows", rows),
    };
    let p = Params {
        a: s[0] as u32,
        b: s[1] as u32,
        c: s[2] as u32,
        d: d as u32,
    };
    Kernel::new("transpose", entry).dispatch(ctx, &p, &[x, y], grid_for(items, WG))
}

/// Prepares `y = transpose(x)`, x `[A, B, C, D]` into an existing y `[A, C, B, D]`.
pub fn forward(ctx: &Context, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    prepare(ctx, variant(ctx), "transpose", x, y)
}

/// [`forward`] with an explicit variant (tests and benchmarks run both).
pub fn forward_with(
    ctx: &Context,
    variant: TransposeVariant,
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch> {
    prepare(ctx, variant, "transpose", x, y)
}

/// Prepares `dx [A, B, C, D]` from `dy [A, C, B, D]`: the same axis swap applied to `dy`, so it
/// runs the forward kernel (with `dy`'s B and C, which are the forward's C and B).
pub fn backward(ctx: &Context, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    prepare(ctx, variant(ctx), "transpose_backward", dy, dx)
}

/// [`backward`] with an explicit variant.
pub fn backward_with(
    ctx: &Context,
    variant: TransposeVariant,
    dy: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch> {
    prepare(ctx, variant, "transpose_backward", dy, dx)
}

/// Runs `transpose(x)` now and returns the result.
pub fn transpose(ctx: &Context, x: &Tensor) -> Result<Tensor> {
    let y = Tensor::zeros(ctx, &shape(x.shape())?, DType::F32)?;
    run(ctx, &[forward(ctx, x, &y)?])?;
    Ok(y)
}

/// Runs the backward now: `dx` from `dy`.
pub fn transpose_backward(ctx: &Context, dy: &Tensor) -> Result<Tensor> {
    let dx = Tensor::zeros(
        ctx,
        &shape_named("transpose_backward", dy.shape())?,
        DType::F32,
    )?;
    run(ctx, &[backward(ctx, dy, &dx)?])?;
    Ok(dx)
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Swaps axes 1 and 2 of `x [A, B, C, D]` into `[A, C, B, D]` (attention's head split and
    /// merge).
    #[track_caller]
    pub fn transpose12(&mut self, x: Var) -> Result<Var> {
        self.push1(Op::Transpose12, &[x])
    }
}

pub(crate) fn infer(x: &[&Meta]) -> Result<Vec<Meta>> {
    check_arity("transpose", x, 1)?;
    check_f32_meta("transpose", x)?;
    Ok(vec![Meta::f32(&shape(&x[0].shape)?)])
}

/// A permutation's gradient is the inverse permutation: the same swap.
pub(crate) fn grad(g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    Ok(vec![a.douts[0].map(|d| g.transpose12(d)).transpose()?])
}

pub(crate) fn lower(ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let (i, o) = io_tensors("transpose", io, 1, 1)?;
    Ok(vec![forward(ctx, i[0], o[0])?])
}
