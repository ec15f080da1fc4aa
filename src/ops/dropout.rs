//! `dropout`: inverted dropout (PyTorch's `F.dropout` in training mode) with a counter-based
//! random mask, so the backward recomputes the mask from the seed instead of storing it.
//!
//! Dimension letters: N elements (any shape; x, y, dy, dx share it).
//! - forward: `y[i] = keep(i) ? x[i] / (1 - p) : 0`
//! - backward: `dx[i] = keep(i) ? dy[i] / (1 - p) : 0`, the same mask
//! - `keep(i) = hash(seed_lo, seed_hi, step, salt, i) >= p·2^32` with the hash uniform on u32,
//!   so `P(keep) = 1 - p`. The hash is described in the shader's header.
//!
//! `seed` is a u32 tensor `[4]` = `[seed_lo, seed_hi, step, 0]` that the caller owns and
//! rewrites each step (one `queue.write_buffer`), so a prepared [`Dispatch`] stays valid; `salt`
//! tells dropout sites apart and is baked into the dispatch. `1/(1-p)` is rounded to f32 once
//! on the host and applied as a multiply, so a kept value is within one f32 rounding of
//! `x / (1 - p)`; with `p = 0` every element is kept and multiplied by exactly 1.
//!
//! Kernel: `shaders/dropout.wgsl`; the backward runs the forward's entry point on `dy`.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Invocations per workgroup in `shaders/dropout.wgsl`.
const WG: usize = 256;

/// Elements (or vec4s) per invocation (`PER_LANE` in the shader).
const PER_LANE: usize = 4;

/// Length of the `seed` tensor: `[seed_lo, seed_hi, step, 0]`.
pub const SEED_LEN: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    threshold: u32,
    salt: u32,
    scale: f32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Output shape: the input's (any non-empty shape under 2^32 elements).
pub fn shape(x: &[usize]) -> Result<Vec<usize>> {
    shape_named("dropout", x)
}

fn shape_named(op: &'static str, x: &[usize]) -> Result<Vec<usize>> {
    if x.contains(&0) || x.iter().product::<usize>() > u32::MAX as usize {
        return Err(shape_error(
            op,
            "a non-empty tensor (under 2^32 elements)",
            &[x],
        ));
    }
    Ok(x.to_vec())
}

/// The `seed` tensor's words for a seed and a step.
pub fn seed_words(seed: u64, step: u32) -> [u32; SEED_LEN] {
    [seed as u32, (seed >> 32) as u32, step, 0]
}

fn params(op: &'static str, n: usize, p: f32, salt: u32) -> Result<Params> {
    if !(0.0..1.0).contains(&p) {
        return Err(Error::Unsupported(format!(
            "{op}: drop probability p must lie in [0, 1), got {p}"
        )));
    }
    let p = p as f64;
    // p < 1 in f32 means p <= 1 - 2^-24, so p·2^32 <= 2^32 - 2^8 fits a u32 after rounding.
    let threshold = (p * 4294967296.0).round().min(u32::MAX as f64) as u32;
    Ok(Params {
        n: n as u32,
        threshold,
        salt,
        scale: (1.0 / (1.0 - p)) as f32,
    })
}

fn prepare(
    ctx: &Context,
    op: &'static str,
    x: &Tensor,
    seed: &Tensor,
    p: f32,
    salt: u32,
    y: &Tensor,
) -> Result<Dispatch> {
    shape_named(op, x.shape())?;
    if x.shape() != y.shape() || seed.shape() != [SEED_LEN] {
        return Err(shape_error(
            op,
            format!("output shaped like the input and a seed tensor [{SEED_LEN}]"),
            &[x.shape(), seed.shape(), y.shape()],
        ));
    }
    check_f32(op, &[x, y])?;
    if seed.dtype() != DType::U32 {
        return Err(Error::DType {
            op,
            message: format!("expects a u32 seed tensor, got {:?}", seed.dtype()),
        });
    }
    let prm = params(op, x.numel(), p, salt)?;
    let n = x.numel();
    let (entry, items) = if n.is_multiple_of(4) {
        ("dropout_forward4", n / 4)
    } else {
        ("dropout_forward", n)
    };
    Kernel::new("dropout", entry).dispatch(ctx, &prm, &[seed, x, y], grid_for(items, WG * PER_LANE))
}

/// Prepares `y = dropout(x)` into an existing tensor of the same shape, with drop probability
/// `p` in [0, 1), the mask drawn from `seed` (u32 `[4]`, see [`seed_words`]) and `salt`.
pub fn forward(
    ctx: &Context,
    x: &Tensor,
    seed: &Tensor,
    p: f32,
    salt: u32,
    y: &Tensor,
) -> Result<Dispatch> {
    prepare(ctx, "dropout", x, seed, p, salt, y)
}

/// Prepares `dx` from `dy` with the forward's mask: the same kernel on `dy`, so the same
/// `seed` contents, `p` and `salt` give the identical mask.
pub fn backward(
    ctx: &Context,
    dy: &Tensor,
    seed: &Tensor,
    p: f32,
    salt: u32,
    dx: &Tensor,
) -> Result<Dispatch> {
    prepare(ctx, "dropout_backward", dy, seed, p, salt, dx)
}

/// Runs `dropout(x)` now and returns the result.
pub fn dropout(ctx: &Context, x: &Tensor, seed: &Tensor, p: f32, salt: u32) -> Result<Tensor> {
    let y = Tensor::zeros(ctx, &shape(x.shape())?, DType::F32)?;
    run(ctx, &[forward(ctx, x, seed, p, salt, &y)?])?;
    Ok(y)
}

/// Runs the backward now: `dx` from `dy` with the forward's mask.
pub fn dropout_backward(
    ctx: &Context,
    dy: &Tensor,
    seed: &Tensor,
    p: f32,
    salt: u32,
) -> Result<Tensor> {
    let dx = Tensor::zeros(
        ctx,
        &shape_named("dropout_backward", dy.shape())?,
        DType::F32,
    )?;
    run(ctx, &[backward(ctx, dy, seed, p, salt, &dx)?])?;
    Ok(dx)
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Inverted dropout with drop probability `p` in a [`Mode::Train`](crate::Mode) plan; the
    /// identity (a free view) in `Eval`. Each call site draws its own mask stream.
    #[track_caller]
    pub fn dropout(&mut self, x: Var, p: f32) -> Result<Var> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::Unsupported(format!(
                "dropout: drop probability p must lie in [0, 1), got {p}"
            )));
        }
        if p == 0.0 {
            return Ok(x);
        }
        let salt = self.next_salt();
        self.push1(Op::Dropout { p, salt }, &[x])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    check_arity(op.name(), x, 1)?;
    check_f32_meta(op.name(), x)?;
    Ok(vec![Meta::f32(&shape(&x[0].shape)?)])
}

/// The backward applies the same mask (recomputed from the seed) to `dy`.
pub(crate) fn grad(g: &mut Graph, p: f32, salt: u32, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    Ok(vec![a.douts[0]
        .map(|d| g.push1(Op::DropoutBackward { p, salt }, &[d]))
        .transpose()?])
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let (i, o) = io_tensors(op.name(), io, 1, 1)?;
    Ok(vec![match op {
        Op::Dropout { p, salt } => forward(ctx, i[0], io.seed, *p, *salt, o[0])?,
        Op::DropoutBackward { p, salt } => backward(ctx, i[0], io.seed, *p, *salt, o[0])?,
        _ => return Err(Error::Graph(format!("{} is not dropout", op.name()))),
    }])
}
