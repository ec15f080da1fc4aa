//! `batch_norm2d`: per-channel normalisation of images over the batch and both spatial axes,
//! as PyTorch's `BatchNorm2d`, and its backward from the saved statistics.
//!
//! Dimension letters: N batch, C channels, H height, W width; M = N·H·W elements per channel.
//! `x`, `y`, `dy`, `dx` are `[N, C, H, W]`; `gamma`, `beta`, `running_mean`, `running_var`,
//! `mean`, `rstd`, `dgamma`, `dbeta` are `[C]`.
//! - forward, train mode: `mean = (1/M) Σ x`, `var = (1/M) Σ (x − mean)²` (biased),
//!   `rstd = 1/√(var + eps)`, `x̂ = (x − mean)·rstd`, `y = gamma·x̂ + beta`; `mean` and `rstd`
//!   are saved, and the running statistics are updated in place with the unbiased variance:
//!   `running_mean ← (1 − momentum)·running_mean + momentum·mean`,
//!   `running_var ← (1 − momentum)·running_var + momentum·var·M/(M − 1)`.
//!   With M = 1 (PyTorch refuses such a batch) the variance is 0, `y = beta` and the running
//!   variance decays by `1 − momentum`: finite.
//! - forward, eval mode: the same `y` with `running_mean` and `running_var` as the statistics,
//!   which are also written to `mean` and `rstd`; nothing is updated.
//! - backward, train mode (`dbeta = Σ dy`, `dgamma = Σ dy·x̂`, sums over the M elements):
//!   `dx = gamma·rstd·(dy − dbeta/M − x̂·dgamma/M)`, i.e.
//!   `rstd/M·(M·dy·gamma − Σ dy·gamma − x̂·Σ dy·gamma·x̂)`.
//!   Eval mode: the statistics are constants, `dx = gamma·rstd·dy`.
//!
//! Kernels: `shaders/batch_norm2d.wgsl`, in two variants ([`BatchNormVariant`]): a workgroup per
//! channel (GPUs) or an invocation per channel (CPU drivers). Both reduce in a fixed order, so
//! results are deterministic.
//!
//! Loop limit: llvmpipe ends every loop of an invocation after 65,535 iterations in all
//! ([`crate::kernels::CPU_LOOP_LIMIT`]), silently. An invocation of the per-channel kernel loops
//! about 3·M times (forward) over its channel, so from M ≈ 21,800 (a DCGAN generator's
//! `[128, 32, 16, 16]`) it left the variance partial and most of y unwritten. [`variant_for`]
//! therefore takes the per-channel kernel only where its loops fit ([`loop_trips`]) and the
//! workgroup kernel (about 3·M/64 per lane) elsewhere; an explicit variant whose loops do not fit
//! is an error rather than a wrong result.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Mode, Var};
use crate::kernels::{grid_1d, grid_for, loops_fit, run, Dispatch, Kernel, CPU_LOOP_LIMIT};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Channels per workgroup of the `Channels` variant (`CH_WG` in the shader).
const CH_WG: usize = 8;
/// Elements per workgroup of the eval forward (`EVAL_WG` in the shader).
const EVAL_WG: usize = 256;
/// Invocations per channel of the `Workgroup` variant (`WG` in the shader).
const WG: u64 = 64;

/// `eps` and `momentum`, PyTorch's defaults 1e-5 and 0.1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormOptions {
    /// Added to the variance.
    pub eps: f32,
    /// Weight of the batch statistic in the running averages' update.
    pub momentum: f32,
}

impl Default for BatchNormOptions {
    fn default() -> Self {
        BatchNormOptions {
            eps: 1e-5,
            momentum: 0.1,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    c: u32,
    hw: u32,
    eps: f32,
    momentum: f32,
    train: u32,
    _pad0: u32,
    _pad1: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Checks `x` `[N, C, H, W]` against the per-channel tensors (each `[C]`); returns
/// `(N, C, H·W)`.
pub fn shape(x: &[usize], per_channel: &[&[usize]]) -> Result<(usize, usize, usize)> {
    let n: usize = x.iter().product();
    if let &[b, c, h, w] = x {
        if n > 0 && n <= u32::MAX as usize && per_channel.iter().all(|s| *s == [c]) {
            return Ok((b, c, h * w));
        }
    }
    let mut all = vec![x];
    all.extend_from_slice(per_channel);
    Err(shape_error(
        "batch_norm2d",
        "x [N, C, H, W] (non-empty) with gamma, beta, running_mean, running_var [C]",
        &all,
    ))
}

/// How a batch-norm kernel maps channels onto invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchNormVariant {
    /// One workgroup per channel, reducing in workgroup memory: coalesced loads on a GPU.
    Workgroup,
    /// One invocation per channel, no barriers: for CPU drivers such as lavapipe.
    Channels,
}

/// The variant this context's adapter prefers: `Channels` on CPU drivers, `Workgroup`
/// elsewhere. [`variant_for`] is what runs: it also checks the shape against the loop limit.
///
/// Measured on lavapipe (llvmpipe, LLVM 15, 2 shared cores, `cargo run --example bench --
/// --only batch_norm`), forward + backward at DCGAN's shapes, batch 64: `Channels` 54 / 121 /
/// 258 ms against `Workgroup` 116 / 177 / 337 ms for C×H×W = 512×4×4, 256×8×8, 128×16×16
/// (noisy machine; the order held in every run). The same bench's 64×32×32 row (`Channels`
/// 178 ms against 756) is void: its M = 65,536 is past llvmpipe's loop limit, so `Channels`
/// stopped early there and computed wrong results; `variant_for` runs `Workgroup` at that shape.
/// A vec4 form of `Channels` gained ~10% at small H·W and lost 3× at 32×32, so it was not kept.
pub fn variant(ctx: &Context) -> BatchNormVariant {
    match ctx.adapter_info().device_type {
        wgpu::DeviceType::Cpu => BatchNormVariant::Channels,
        _ => BatchNormVariant::Workgroup,
    }
}

/// The variant [`forward`] and [`backward`] run for `x [N, C, H, W]`: the adapter's
/// [`variant`], unless that is `Channels` and its loops would pass the adapter's loop limit
/// ([`crate::kernels::CPU_LOOP_LIMIT`]), then `Workgroup`. One choice per shape for both passes
/// (the forward's count, the larger).
pub fn variant_for(ctx: &Context, x: &[usize]) -> BatchNormVariant {
    let preferred = variant(ctx);
    let (n, hw) = match x {
        &[n, _, h, w] => (n, h * w),
        _ => return preferred,
    };
    match preferred {
        BatchNormVariant::Channels
            if !loops_fit(ctx, loop_trips(BatchNormVariant::Channels, n, hw, false)) =>
        {
            BatchNormVariant::Workgroup
        }
        v => v,
    }
}

/// Loop iterations one invocation of `variant` runs over `x [N, C, H, W]` (`hw` = H·W), counted
/// as llvmpipe counts them (each loop's trips + 1), for the train forward or the backward.
/// - `Channels`: per pass an outer loop of N trips around inner loops of H·W, so
///   `N·(H·W + 2) + 1`; three passes forward (mean, variance, y), two backward (sums, dx).
/// - `Workgroup`: per pass `⌈M/64⌉ + 1` for the lane with most elements, three forward and two
///   backward, plus the tree reductions' log2(64) + 1 = 7 each (two forward, one backward).
///
/// Checked at the limit in `tests/ops/batch_norm2d.rs` (1×1×1×21842 is exactly 65,535 forward).
pub fn loop_trips(variant: BatchNormVariant, n: usize, hw: usize, backward: bool) -> u64 {
    let (n, hw) = (n as u64, hw as u64);
    let passes = if backward { 2 } else { 3 };
    match variant {
        BatchNormVariant::Channels => passes * (n * (hw + 2) + 1),
        BatchNormVariant::Workgroup => {
            let reductions = if backward { 1 } else { 2 };
            passes * ((n * hw).div_ceil(WG) + 1) + reductions * (WG.ilog2() as u64 + 1)
        }
    }
}

/// An error when `variant`'s loops over `x` would not run to the end on this adapter.
fn check_loops(
    ctx: &Context,
    op: &'static str,
    variant: BatchNormVariant,
    x: &[usize],
    (n, hw): (usize, usize),
    backward: bool,
) -> Result<()> {
    let trips = loop_trips(variant, n, hw, backward);
    if loops_fit(ctx, trips) {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "{op}: the {variant:?} kernel would loop {trips} times per invocation over x {x:?}, past \
         this adapter's limit of {CPU_LOOP_LIMIT} (llvmpipe ends every loop there, silently)"
    )))
}

fn params(n: usize, c: usize, hw: usize, opts: BatchNormOptions, train: bool) -> Params {
    Params {
        n: n as u32,
        c: c as u32,
        hw: hw as u32,
        eps: opts.eps,
        momentum: opts.momentum,
        train: train as u32,
        _pad0: 0,
        _pad1: 0,
    }
}

fn grid(variant: BatchNormVariant, c: usize) -> [u32; 3] {
    match variant {
        BatchNormVariant::Workgroup => grid_1d(c as u32),
        BatchNormVariant::Channels => grid_for(c, CH_WG),
    }
}

fn check_outputs(
    op: &'static str,
    c: usize,
    x: &Tensor,
    y: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
) -> Result<()> {
    if y.shape() != x.shape() || mean.shape() != [c] || rstd.shape() != [c] {
        return Err(shape_error(
            op,
            format!("y shaped like x, mean and rstd [{c}]"),
            &[x.shape(), y.shape(), mean.shape(), rstd.shape()],
        ));
    }
    Ok(())
}

/// Prepares the train-mode forward into `y` (`x`'s shape), `mean` and `rstd` (`[C]`); the
/// dispatch also updates `running_mean` and `running_var` in place, each time it runs.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    opts: BatchNormOptions,
    y: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
) -> Result<Dispatch> {
    forward_with(
        ctx,
        variant_for(ctx, x.shape()),
        x,
        gamma,
        beta,
        running_mean,
        running_var,
        opts,
        y,
        mean,
        rstd,
    )
}

/// [`forward`] with an explicit variant (tests and measurements run both). An
/// [`Error::Unsupported`] where that variant's loops would pass the adapter's loop limit
/// ([`loop_trips`]), instead of a wrong result.
#[allow(clippy::too_many_arguments)]
pub fn forward_with(
    ctx: &Context,
    variant: BatchNormVariant,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    opts: BatchNormOptions,
    y: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
) -> Result<Dispatch> {
    let (n, c, hw) = shape(
        x.shape(),
        &[
            gamma.shape(),
            beta.shape(),
            running_mean.shape(),
            running_var.shape(),
        ],
    )?;
    check_outputs("batch_norm2d", c, x, y, mean, rstd)?;
    let all = [x, gamma, beta, running_mean, running_var, y, mean, rstd];
    check_f32("batch_norm2d", &all)?;
    check_loops(ctx, "batch_norm2d", variant, x.shape(), (n, hw), false)?;
    let entry = match variant {
        BatchNormVariant::Workgroup => "batch_norm2d_forward",
        BatchNormVariant::Channels => "batch_norm2d_forward_channels",
    };
    Kernel::new("batch_norm2d", entry).dispatch(
        ctx,
        &params(n, c, hw, opts, true),
        &all,
        grid(variant, c),
    )
}

/// Prepares the eval-mode forward: `y` from the running statistics, which are only read;
/// `mean` and `rstd` receive `running_mean` and `1/√(running_var + eps)`.
#[allow(clippy::too_many_arguments)]
pub fn forward_eval(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    eps: f32,
    y: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
) -> Result<Dispatch> {
    let (n, c, hw) = shape(
        x.shape(),
        &[
            gamma.shape(),
            beta.shape(),
            running_mean.shape(),
            running_var.shape(),
        ],
    )?;
    check_outputs("batch_norm2d", c, x, y, mean, rstd)?;
    let all = [x, gamma, beta, running_mean, running_var, y, mean, rstd];
    check_f32("batch_norm2d", &all)?;
    let opts = BatchNormOptions { eps, momentum: 0.0 };
    Kernel::new("batch_norm2d", "batch_norm2d_forward_eval").dispatch(
        ctx,
        &params(n, c, hw, opts, false),
        &all,
        grid_for(x.numel(), EVAL_WG),
    )
}

/// Prepares the backward into `dx`, `dgamma`, `dbeta`, from the forward's `x`, `gamma` and saved
/// `mean`, `rstd`. `train` says whether those were batch statistics (train mode: the gradient
/// flows through them) or the running ones (eval mode: constants).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    dy: &Tensor,
    train: bool,
    dx: &Tensor,
    dgamma: &Tensor,
    dbeta: &Tensor,
) -> Result<Dispatch> {
    backward_with(
        ctx,
        variant_for(ctx, x.shape()),
        x,
        gamma,
        mean,
        rstd,
        dy,
        train,
        dx,
        dgamma,
        dbeta,
    )
}

/// [`backward`] with an explicit variant; an [`Error::Unsupported`] as [`forward_with`]'s.
#[allow(clippy::too_many_arguments)]
pub fn backward_with(
    ctx: &Context,
    variant: BatchNormVariant,
    x: &Tensor,
    gamma: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    dy: &Tensor,
    train: bool,
    dx: &Tensor,
    dgamma: &Tensor,
    dbeta: &Tensor,
) -> Result<Dispatch> {
    let per_channel = [
        gamma.shape(),
        mean.shape(),
        rstd.shape(),
        dgamma.shape(),
        dbeta.shape(),
    ];
    let ok = shape(x.shape(), &per_channel).is_ok()
        && dy.shape() == x.shape()
        && dx.shape() == x.shape();
    if !ok {
        return Err(shape_error(
            "batch_norm2d_backward",
            "x, dy, dx [N, C, H, W] with gamma, mean, rstd, dgamma, dbeta [C]",
            &[
                x.shape(),
                gamma.shape(),
                mean.shape(),
                rstd.shape(),
                dy.shape(),
                dx.shape(),
                dgamma.shape(),
                dbeta.shape(),
            ],
        ));
    }
    let (n, c, hw) = shape(x.shape(), &per_channel)?;
    let all = [x, gamma, mean, rstd, dy, dx, dgamma, dbeta];
    check_f32("batch_norm2d_backward", &all)?;
    check_loops(
        ctx,
        "batch_norm2d_backward",
        variant,
        x.shape(),
        (n, hw),
        true,
    )?;
    let entry = match variant {
        BatchNormVariant::Workgroup => "batch_norm2d_backward",
        BatchNormVariant::Channels => "batch_norm2d_backward_channels",
    };
    Kernel::new("batch_norm2d", entry).dispatch(
        ctx,
        &params(n, c, hw, BatchNormOptions::default(), train),
        &all,
        grid(variant, c),
    )
}

/// The saved outputs of the forward.
#[derive(Clone, Debug)]
pub struct BatchNormOutput {
    /// `[N, C, H, W]`, shaped like the input.
    pub y: Tensor,
    /// `[C]`, the statistic's mean (the batch's in train mode, the running one in eval).
    pub mean: Tensor,
    /// `[C]`, `1/√(var + eps)` of that statistic.
    pub rstd: Tensor,
}

fn outputs(ctx: &Context, x: &Tensor) -> Result<BatchNormOutput> {
    let c = x.shape().get(1).copied().unwrap_or(0);
    Ok(BatchNormOutput {
        y: Tensor::zeros(ctx, x.shape(), DType::F32)?,
        mean: Tensor::zeros(ctx, &[c], DType::F32)?,
        rstd: Tensor::zeros(ctx, &[c], DType::F32)?,
    })
}

/// Runs the train-mode forward now (updating the running statistics).
pub fn batch_norm2d(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    opts: BatchNormOptions,
) -> Result<BatchNormOutput> {
    shape(x.shape(), &[gamma.shape(), beta.shape()])?;
    let out = outputs(ctx, x)?;
    let d = forward(
        ctx,
        x,
        gamma,
        beta,
        running_mean,
        running_var,
        opts,
        &out.y,
        &out.mean,
        &out.rstd,
    )?;
    run(ctx, &[d])?;
    Ok(out)
}

/// Runs the eval-mode forward now (from the running statistics).
pub fn batch_norm2d_eval(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    eps: f32,
) -> Result<BatchNormOutput> {
    shape(x.shape(), &[gamma.shape(), beta.shape()])?;
    let out = outputs(ctx, x)?;
    let d = forward_eval(
        ctx,
        x,
        gamma,
        beta,
        running_mean,
        running_var,
        eps,
        &out.y,
        &out.mean,
        &out.rstd,
    )?;
    run(ctx, &[d])?;
    Ok(out)
}

/// Runs the train-mode backward now; returns `(dx, dgamma, dbeta)`.
pub fn batch_norm2d_backward(
    ctx: &Context,
    x: &Tensor,
    gamma: &Tensor,
    saved: &BatchNormOutput,
    dy: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let dx = Tensor::zeros(ctx, x.shape(), DType::F32)?;
    let dgamma = Tensor::zeros(ctx, gamma.shape(), DType::F32)?;
    let dbeta = Tensor::zeros(ctx, gamma.shape(), DType::F32)?;
    let d = backward(
        ctx,
        x,
        gamma,
        &saved.mean,
        &saved.rstd,
        dy,
        true,
        &dx,
        &dgamma,
        &dbeta,
    )?;
    run(ctx, &[d])?;
    Ok((dx, dgamma, dbeta))
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Batch norm over `x [N, C, H, W]` with `gamma`, `beta` `[C]` and the running statistics
    /// `running_mean`, `running_var` `[C]`. A [`Mode::Train`] plan normalises with the batch's
    /// statistics and updates the running ones in place each step; a [`Mode::Eval`] plan
    /// normalises with the running ones. The running statistics are meant to be parameters
    /// (they live in the [`ParamStore`](crate::ParamStore), shared between plans) that the
    /// training spec does not list: they get no gradient and no optimizer step.
    #[track_caller]
    pub fn batch_norm2d(
        &mut self,
        x: Var,
        gamma: Var,
        beta: Var,
        running_mean: Var,
        running_var: Var,
        opts: BatchNormOptions,
    ) -> Result<Var> {
        let inputs = [x, gamma, beta, running_mean, running_var];
        Ok(self.push(Op::BatchNorm2d(opts), &inputs)?[0])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    match op {
        Op::BatchNorm2d(_) => {
            check_arity(name, x, 5)?;
            check_f32_meta(name, x)?;
            let per: Vec<&[usize]> = x[1..].iter().map(|m| m.shape.as_slice()).collect();
            let (_, c, _) = shape(&x[0].shape, &per)?;
            Ok(vec![
                Meta::f32(&x[0].shape),
                Meta::f32(&[c]),
                Meta::f32(&[c]),
            ])
        }
        _ => {
            // (x, gamma, mean, rstd, dy) -> (dx, dgamma, dbeta)
            check_arity(name, x, 5)?;
            check_f32_meta(name, x)?;
            let per: Vec<&[usize]> = x[1..4].iter().map(|m| m.shape.as_slice()).collect();
            if shape(&x[0].shape, &per).is_err() || x[4].shape != x[0].shape {
                let all: Vec<&[usize]> = x.iter().map(|m| m.shape.as_slice()).collect();
                return Err(shape_error(name, "x, gamma, mean, rstd, dy", &all));
            }
            Ok(vec![
                Meta::f32(&x[0].shape),
                Meta::f32(&x[1].shape),
                Meta::f32(&x[1].shape),
            ])
        }
    }
}

/// One backward node from the saved statistics; the running statistics, `mean` and `rstd`
/// carry no gradient.
pub(crate) fn grad(g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    if a.douts[1].is_some() || a.douts[2].is_some() {
        return Err(Error::Graph(
            "batch_norm2d: gradients flow only through y, not the saved statistics".into(),
        ));
    }
    let Some(dy) = a.douts[0] else {
        return Ok(vec![None; 5]);
    };
    let (x, gamma) = (a.inputs[0], a.inputs[1]);
    let (mean, rstd) = (a.outputs[1], a.outputs[2]);
    let d = g.push(Op::BatchNorm2dBackward, &[x, gamma, mean, rstd, dy])?;
    Ok(vec![Some(d[0]), Some(d[1]), Some(d[2]), None, None])
}

/// Train mode normalises with batch statistics and writes the running statistics (inputs 3
/// and 4) in place; eval mode only reads them. The backward follows the same mode.
pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let train = io.mode == Mode::Train;
    match op {
        Op::BatchNorm2d(opts) => {
            let (i, o) = io_tensors("batch_norm2d", io, 5, 3)?;
            let d = if train {
                forward(ctx, i[0], i[1], i[2], i[3], i[4], *opts, o[0], o[1], o[2])?
            } else {
                forward_eval(
                    ctx, i[0], i[1], i[2], i[3], i[4], opts.eps, o[0], o[1], o[2],
                )?
            };
            Ok(vec![d])
        }
        _ => {
            let (i, o) = io_tensors("batch_norm2d_backward", io, 5, 3)?;
            Ok(vec![backward(
                ctx, i[0], i[1], i[2], i[3], i[4], train, o[0], o[1], o[2],
            )?])
        }
    }
}
