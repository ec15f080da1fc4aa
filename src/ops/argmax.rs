//! `argmax` over the last axis (u32 indices), and one step of greedy decoding on the GPU.
//!
//! Dimension letters: R rows (every axis but the last), C the last axis; for decoding B batch,
//! T sequence length, V vocabulary.
//! - forward: `out[r] = argmax_c x[r,c]`, the first index among ties; a NaN is never chosen
//!   over a number.
//! - greedy step `t`: `id[b] = argmax_v logits[b,t,v]`; `ids[b,t] = id[b]` and, for `t + 1 < T`,
//!   `tokens[b,t+1] = id[b]`: the next decoder input is written without leaving the GPU, so a
//!   decode of T steps (T decoder runs and T greedy steps) records into one submission.
//! - Not differentiable: the graph refuses a gradient through it.
//!
//! Kernel: `shaders/argmax.wgsl`.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, Lowering};

/// Invocations per workgroup in `shaders/argmax.wgsl`.
const WG: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    t: u32,
    seq: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Output shape: the input without its last axis (`[1]` for a 1-D input).
pub fn shape(x: &[usize]) -> Result<Vec<usize>> {
    if x.is_empty() || x.contains(&0) || x.iter().product::<usize>() > u32::MAX as usize {
        return Err(shape_error(
            "argmax",
            "a non-empty tensor with a last axis",
            &[x],
        ));
    }
    let out = x[..x.len() - 1].to_vec();
    Ok(if out.is_empty() { vec![1] } else { out })
}

/// One invocation scans a row: llvmpipe would stop it silently past its loop limit.
fn check_row_fits(ctx: &Context, op: &str, cols: usize) -> Result<()> {
    if crate::kernels::loops_fit(ctx, cols as u64) {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "{op}: rows of {cols} values pass this adapter's loop limit of {} per invocation \
         (llvmpipe ends longer loops silently)",
        crate::kernels::CPU_LOOP_LIMIT
    )))
}

fn check_u32(op: &'static str, t: &Tensor) -> Result<()> {
    if t.dtype() != DType::U32 {
        return Err(Error::DType {
            op,
            message: format!("indices are u32, got {:?}", t.dtype()),
        });
    }
    Ok(())
}

/// Prepares `out = argmax(x, last axis)` into a u32 tensor shaped by [`shape`].
pub fn forward(ctx: &Context, x: &Tensor, out: &Tensor) -> Result<Dispatch> {
    let want = shape(x.shape())?;
    if out.shape() != want.as_slice() {
        return Err(shape_error(
            "argmax",
            format!("an output shaped {want:?}"),
            &[x.shape(), out.shape()],
        ));
    }
    check_f32("argmax", &[x])?;
    check_u32("argmax", out)?;
    let cols = *x.shape().last().unwrap_or(&1);
    check_row_fits(ctx, "argmax", cols)?;
    let rows = x.numel() / cols;
    let p = Params {
        rows: rows as u32,
        cols: cols as u32,
        t: 0,
        seq: 0,
    };
    Kernel::new("argmax", "argmax_forward").dispatch(ctx, &p, &[x, out], grid_for(rows, WG))
}

/// Prepares greedy step `t` over `logits [B, T, V]`: writes `ids [B, T]` at `t` and, for
/// `t + 1 < T`, `tokens [B, T]` (the decoder's input) at `t + 1`. Prepare one per `t` once and
/// record them between decoder runs.
pub fn greedy_step(
    ctx: &Context,
    logits: &Tensor,
    t: usize,
    ids: &Tensor,
    tokens: &Tensor,
) -> Result<Dispatch> {
    let s = logits.shape();
    let ok = s.len() == 3 && ids.shape() == &s[..2] && tokens.shape() == &s[..2] && t < s[1];
    if !ok {
        return Err(shape_error(
            "argmax_greedy_step",
            format!("logits [B, T, V], ids and tokens [B, T], and t = {t} < T"),
            &[s, ids.shape(), tokens.shape()],
        ));
    }
    check_f32("argmax_greedy_step", &[logits])?;
    check_u32("argmax_greedy_step", ids)?;
    check_u32("argmax_greedy_step", tokens)?;
    check_row_fits(ctx, "argmax_greedy_step", s[2])?;
    let p = Params {
        rows: s[0] as u32,
        cols: s[2] as u32,
        t: t as u32,
        seq: s[1] as u32,
    };
    Kernel::new("argmax", "argmax_greedy_step").dispatch(
        ctx,
        &p,
        &[logits, ids, tokens],
        grid_for(s[0], WG),
    )
}

/// Runs `argmax(x, last axis)` now.
pub fn argmax(ctx: &Context, x: &Tensor) -> Result<Tensor> {
    let out = Tensor::zeros(ctx, &shape(x.shape())?, DType::U32)?;
    run(ctx, &[forward(ctx, x, &out)?])?;
    Ok(out)
}

// ---- graph: builder, shape rule, lowering (no gradient) ----

impl Graph {
    /// Indices of the largest values along the last axis (u32). Not differentiable.
    #[track_caller]
    pub fn argmax(&mut self, x: Var) -> Result<Var> {
        self.push1(super::Op::Argmax, &[x])
    }
}

pub(crate) fn infer(x: &[&Meta]) -> Result<Vec<Meta>> {
    check_arity("argmax", x, 1)?;
    check_f32_meta("argmax", x)?;
    Ok(vec![Meta {
        shape: shape(&x[0].shape)?,
        dtype: DType::U32,
    }])
}

pub(crate) fn lower(ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let (i, o) = io_tensors("argmax", io, 1, 1)?;
    Ok(vec![forward(ctx, i[0], o[0])?])
}
