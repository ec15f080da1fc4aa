//! `cross_entropy`: softmax cross-entropy with integer targets (fused with a stable
//! log-softmax), `ignore_index` and label smoothing as in PyTorch, its mean, and its backward.
//!
//! Dimension letters: N rows (every axis of `targets`, flattened), V classes (the last axis of
//! `logits`).
//! - `logits` `[.., V]` f32, `targets` `[..]` u32 (the logits' shape without its last axis).
//! - A row *counts* when `targets[n] != ignore_index` and `targets[n] < V`. Rows that do not
//!   count (ignored, or with an out-of-range target, which is treated as ignored: the kernels
//!   cannot report data errors; [`check_targets`] finds them on the host) have loss 0,
//!   gradient 0, and are left out of the mean.
//! - forward: with `q[n, j] = (1 - ε)·[j = t_n] + ε/V` (label smoothing ε),
//!   `losses[n] = logsumexp(x[n, :]) - Σ_j q[n, j]·x[n, j]`, `mean = Σ_{counted n} losses[n] / count`;
//!   `mean` is 0 (not NaN) when no row counts. `count` is the number of counted rows, as f32
//!   (exact below 2^24), saved for the backward.
//! - backward (of `mean`): `dlogits[n, j] = (softmax(x[n, :])_j - q[n, j]) · dmean / count` for
//!   counted rows, 0 otherwise; `dmean` is a `[1]` tensor so that the op chains.
//!
//! Kernel: `shaders/cross_entropy.wgsl`, one workgroup per row, then a one-workgroup mean.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_1d, run, Dispatch, Kernel};
use crate::tensor::{numel, DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    vocab: u32,
    ignore_index: u32,
    smoothing: f32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Options of the loss, PyTorch's `ignore_index` and `label_smoothing`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CrossEntropyOptions {
    /// Rows whose target equals this contribute nothing and are left out of the mean.
    pub ignore_index: Option<u32>,
    /// ε in [0, 1]: the target distribution is `(1 - ε)·onehot + ε/V`.
    pub label_smoothing: f32,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions {
            ignore_index: None,
            label_smoothing: 0.0,
        }
    }
}

/// The forward's outputs.
#[derive(Clone, Debug)]
pub struct CrossEntropy {
    /// Per-row losses `[..]` (the targets' shape), 0 for rows that do not count.
    pub losses: Tensor,
    /// The mean over counted rows, `[1]`.
    pub mean: Tensor,
    /// The number of counted rows as f32, `[1]`, needed by the backward.
    pub count: Tensor,
}

/// Checks `logits` `[.., V]` against `targets` `[..]`; returns (N, V).
pub fn shape(logits: &[usize], targets: &[usize]) -> Result<(usize, usize)> {
    let ok = !logits.is_empty()
        && logits[..logits.len() - 1] == *targets
        && !logits.contains(&0)
        && numel(logits) <= u32::MAX as usize;
    match (ok, logits.last()) {
        (true, Some(&vocab)) => Ok((numel(targets), vocab)),
        _ => Err(shape_error(
            "cross_entropy",
            "logits [.., V] and targets [..] with the logits' leading axes, no empty axis",
            &[logits, targets],
        )),
    }
}

fn params(rows: usize, vocab: usize, opts: &CrossEntropyOptions) -> Result<Params> {
    let eps = opts.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(Error::Unsupported(format!(
            "cross_entropy: label_smoothing must be in [0, 1], got {eps}"
        )));
    }
    Ok(Params {
        rows: rows as u32,
        vocab: vocab as u32,
        // u32::MAX is >= V for any V kiln can hold, so it is never a counted target anyway.
        ignore_index: opts.ignore_index.unwrap_or(u32::MAX),
        smoothing: eps,
    })
}

fn check_targets_dtype(op: &'static str, targets: &Tensor) -> Result<()> {
    if targets.dtype() != DType::U32 {
        return Err(Error::DType {
            op,
            message: format!("targets must be u32, got {:?}", targets.dtype()),
        });
    }
    Ok(())
}

fn check_scalar(op: &'static str, what: &str, t: &Tensor, others: &[&[usize]]) -> Result<()> {
    if t.shape() != [1] {
        let mut got: Vec<&[usize]> = others.to_vec();
        got.push(t.shape());
        return Err(shape_error(op, format!("{what} shaped [1]"), &got));
    }
    Ok(())
}

/// Prepares the forward: per-row `losses` (the targets' shape), then `mean` and `count` (`[1]`
/// each). Two dispatches, to be recorded in order.
pub fn forward(
    ctx: &Context,
    logits: &Tensor,
    targets: &Tensor,
    opts: &CrossEntropyOptions,
    out: &CrossEntropy,
) -> Result<Vec<Dispatch>> {
    let (_, vocab) = shape(logits.shape(), targets.shape())?;
    forward_with(ctx, variant(ctx, vocab), logits, targets, opts, out)
}

/// [`forward`] with an explicit variant (tests run both).
pub fn forward_with(
    ctx: &Context,
    variant: CrossEntropyVariant,
    logits: &Tensor,
    targets: &Tensor,
    opts: &CrossEntropyOptions,
    out: &CrossEntropy,
) -> Result<Vec<Dispatch>> {
    let (rows, vocab) = shape(logits.shape(), targets.shape())?;
    if out.losses.shape() != targets.shape() {
        return Err(shape_error(
            "cross_entropy",
            "losses shaped like the targets",
            &[logits.shape(), targets.shape(), out.losses.shape()],
        ));
    }
    check_scalar(
        "cross_entropy",
        "mean",
        &out.mean,
        &[logits.shape(), targets.shape()],
    )?;
    check_scalar(
        "cross_entropy",
        "count",
        &out.count,
        &[logits.shape(), targets.shape()],
    )?;
    check_targets_dtype("cross_entropy", targets)?;
    check_f32(
        "cross_entropy",
        &[logits, &out.losses, &out.mean, &out.count],
    )?;
    let p = params(rows, vocab, opts)?;
    let entries = ["cross_entropy_forward", "cross_entropy_forward_rows"];
    let (entry, grid) = launch(ctx, variant, entries, rows, vocab)?;
    Ok(vec![
        Kernel::new("cross_entropy", entry).dispatch(
            ctx,
            &p,
            &[logits, targets, &out.losses],
            grid,
        )?,
        Kernel::new("cross_entropy", "cross_entropy_forward_mean").dispatch(
            ctx,
            &p,
            &[targets, &out.losses, &out.mean, &out.count],
            [1, 1, 1],
        )?,
    ])
}

/// Prepares `dlogits` (shaped like `logits`) from the saved `count` and the gradient `dmean`
/// (`[1]`) of the mean loss.
pub fn backward_logits(
    ctx: &Context,
    logits: &Tensor,
    targets: &Tensor,
    count: &Tensor,
    dmean: &Tensor,
    opts: &CrossEntropyOptions,
    dlogits: &Tensor,
) -> Result<Dispatch> {
    let vocab = logits.shape().last().copied().unwrap_or(0);
    let v = variant(ctx, vocab);
    backward_logits_with(ctx, v, logits, targets, count, dmean, opts, dlogits)
}

/// [`backward_logits`] with an explicit variant (tests run both).
#[allow(clippy::too_many_arguments)]
pub fn backward_logits_with(
    ctx: &Context,
    variant: CrossEntropyVariant,
    logits: &Tensor,
    targets: &Tensor,
    count: &Tensor,
    dmean: &Tensor,
    opts: &CrossEntropyOptions,
    dlogits: &Tensor,
) -> Result<Dispatch> {
    let (rows, vocab) = shape(logits.shape(), targets.shape()).map_err(|_| {
        shape_error(
            "cross_entropy_backward",
            "logits [.., V] and targets [..] with the logits' leading axes, no empty axis",
            &[logits.shape(), targets.shape()],
        )
    })?;
    if dlogits.shape() != logits.shape() {
        return Err(shape_error(
            "cross_entropy_backward",
            "dlogits shaped like the logits",
            &[logits.shape(), dlogits.shape()],
        ));
    }
    check_scalar("cross_entropy_backward", "count", count, &[logits.shape()])?;
    check_scalar("cross_entropy_backward", "dmean", dmean, &[logits.shape()])?;
    check_targets_dtype("cross_entropy_backward", targets)?;
    check_f32("cross_entropy_backward", &[logits, count, dmean, dlogits])?;
    let p = params(rows, vocab, opts)?;
    let entries = [
        "cross_entropy_backward_logits",
        "cross_entropy_backward_logits_rows",
    ];
    let (entry, grid) = launch(ctx, variant, entries, rows, vocab)?;
    Kernel::new("cross_entropy", entry).dispatch(
        ctx,
        &p,
        &[logits, targets, count, dmean, dlogits],
        grid,
    )
}

/// How the forward and backward map rows onto invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossEntropyVariant {
    /// A workgroup per row, reducing in workgroup memory: coalesced loads on a GPU.
    Workgroup,
    /// One invocation per row, looping the classes, no barriers: on a CPU driver the barriers
    /// cost more than the row's arithmetic (lavapipe, [2048, 64]: forward and backward 7.5 and
    /// 8.3 ms with a workgroup per row, 0.6 and 0.8 ms with a row per invocation). Its loops
    /// run 2·(V + 1) passes, which must fit the driver's loop budget.
    Rows,
}

/// Loop passes one invocation of the `Rows` kernels makes over `vocab` classes (the
/// backward's two passes, the larger).
fn rows_trips(vocab: usize) -> u64 {
    2 * (vocab as u64 + 1)
}

/// `Rows` on CPU drivers where its loops fit the driver's loop budget; `Workgroup` elsewhere.
pub fn variant(ctx: &Context, vocab: usize) -> CrossEntropyVariant {
    let cpu = ctx.adapter_info().device_type == wgpu::DeviceType::Cpu;
    if cpu && crate::kernels::loops_fit(ctx, rows_trips(vocab)) {
        CrossEntropyVariant::Rows
    } else {
        CrossEntropyVariant::Workgroup
    }
}

/// Invocations per workgroup in `cross_entropy.wgsl`.
const WG: usize = 64;

/// The entry of `[workgroup, rows]` and the grid for `variant` over `rows` rows of `vocab`;
/// an error where `Rows` would run past the driver's loop budget (its sums would stop short,
/// silently).
fn launch(
    ctx: &Context,
    variant: CrossEntropyVariant,
    entries: [&'static str; 2],
    rows: usize,
    vocab: usize,
) -> Result<(&'static str, [u32; 3])> {
    match variant {
        CrossEntropyVariant::Workgroup => Ok((entries[0], grid_1d(rows as u32))),
        CrossEntropyVariant::Rows if crate::kernels::loops_fit(ctx, rows_trips(vocab)) => {
            Ok((entries[1], grid_1d(rows.div_ceil(WG) as u32)))
        }
        CrossEntropyVariant::Rows => Err(Error::Unsupported(format!(
            "cross_entropy: the row-per-invocation kernels loop {} times over {vocab} classes, \
             past this driver's {} (use the workgroup variant)",
            rows_trips(vocab),
            crate::kernels::CPU_LOOP_LIMIT
        ))),
    }
}

/// Host-side check that every target is below `vocab` or equal to the ignore index: the
/// kernels treat any other out-of-range target as ignored, silently.
pub fn check_targets(targets: &[u32], vocab: usize, opts: &CrossEntropyOptions) -> Result<()> {
    let bad = targets
        .iter()
        .position(|&t| Some(t) != opts.ignore_index && t as usize >= vocab);
    match bad {
        None => Ok(()),
        Some(i) => Err(Error::Unsupported(format!(
            "cross_entropy: target {} at position {i} is out of range for {vocab} classes",
            targets[i]
        ))),
    }
}

/// Runs the forward now: per-row losses, the mean and the count.
pub fn cross_entropy(
    ctx: &Context,
    logits: &Tensor,
    targets: &Tensor,
    opts: &CrossEntropyOptions,
) -> Result<CrossEntropy> {
    shape(logits.shape(), targets.shape())?;
    let out = CrossEntropy {
        losses: Tensor::zeros(ctx, targets.shape(), DType::F32)?,
        mean: Tensor::zeros(ctx, &[1], DType::F32)?,
        count: Tensor::zeros(ctx, &[1], DType::F32)?,
    };
    run(ctx, &forward(ctx, logits, targets, opts, &out)?)?;
    Ok(out)
}

/// Runs the backward now: `dlogits` from the forward's `count` and the mean's gradient `dmean`.
pub fn cross_entropy_backward(
    ctx: &Context,
    logits: &Tensor,
    targets: &Tensor,
    count: &Tensor,
    dmean: &Tensor,
    opts: &CrossEntropyOptions,
) -> Result<Tensor> {
    let dlogits = Tensor::zeros(ctx, logits.shape(), DType::F32)?;
    run(
        ctx,
        &[backward_logits(
            ctx, logits, targets, count, dmean, opts, &dlogits,
        )?],
    )?;
    Ok(dlogits)
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Mean cross-entropy of `logits [.., V]` against u32 `targets [..]`, shape `[1]`.
    #[track_caller]
    pub fn cross_entropy(
        &mut self,
        logits: Var,
        targets: Var,
        opts: CrossEntropyOptions,
    ) -> Result<Var> {
        Ok(self.push(Op::CrossEntropy(opts), &[logits, targets])?[1])
    }
}

fn targets_meta(op: &'static str, t: &Meta) -> Result<()> {
    if t.dtype != DType::U32 {
        return Err(Error::DType {
            op,
            message: format!("targets must be u32, got {:?}", t.dtype),
        });
    }
    Ok(())
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    match op {
        Op::CrossEntropy(_) => {
            check_arity(name, x, 2)?;
            check_f32_meta(name, &x[..1])?;
            targets_meta(name, x[1])?;
            shape(&x[0].shape, &x[1].shape)?;
            Ok(vec![
                Meta::f32(&x[1].shape),
                Meta::f32(&[1]),
                Meta::f32(&[1]),
            ])
        }
        _ => {
            // (logits, targets, count, dmean) -> dlogits
            check_arity(name, x, 4)?;
            targets_meta(name, x[1])?;
            check_f32_meta(name, &[x[0], x[2], x[3]])?;
            shape(&x[0].shape, &x[1].shape)?;
            if x[2].shape != [1] || x[3].shape != [1] {
                let all: Vec<&[usize]> = x.iter().map(|m| m.shape.as_slice()).collect();
                return Err(shape_error(name, "count and dmean shaped [1]", &all));
            }
            Ok(vec![Meta::f32(&x[0].shape)])
        }
    }
}

/// The gradient flows through the mean (output 1); the per-row losses (output 0) are for
/// reading, and a gradient arriving there is refused rather than dropped.
pub(crate) fn grad(
    g: &mut Graph,
    opts: CrossEntropyOptions,
    a: &GradArgs,
) -> Result<Vec<Option<Var>>> {
    if a.douts[0].is_some() {
        return Err(Error::Graph(
            "cross_entropy: gradients flow only through the mean loss, not the per-row losses"
                .into(),
        ));
    }
    let Some(dmean) = a.douts[1] else {
        return Ok(vec![None, None]);
    };
    let (logits, targets, count) = (a.inputs[0], a.inputs[1], a.outputs[2]);
    let d = g.push1(
        Op::CrossEntropyBackward(opts),
        &[logits, targets, count, dmean],
    )?;
    Ok(vec![Some(d), None])
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::CrossEntropy(opts) => {
            let (i, o) = io_tensors("cross_entropy", io, 2, 3)?;
            let out = CrossEntropy {
                losses: o[0].clone(),
                mean: o[1].clone(),
                count: o[2].clone(),
            };
            forward(ctx, i[0], i[1], opts, &out)
        }
        Op::CrossEntropyBackward(opts) => {
            let (i, o) = io_tensors("cross_entropy_backward", io, 4, 1)?;
            Ok(vec![backward_logits(
                ctx, i[0], i[1], i[2], i[3], opts, o[0],
            )?])
        }
        _ => Err(Error::Graph(format!(
            "{} is not a cross-entropy",
            op.name()
        ))),
    }
}
