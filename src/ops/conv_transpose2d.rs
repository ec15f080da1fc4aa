//! `conv_transpose2d`: the transposed 2-D convolution (PyTorch's, no output padding or
//! dilation), NCHW, and its backward for the input, the weight and the bias.
//!
//! Dimension letters: B batch, CI input channels, CO output channels, H×W input, OH×OW output,
//! KH×KW kernel, stride SH/SW, padding PH/PW.
//! - `x [B, CI, H, W]`, `w [CI, CO, KH, KW]` (PyTorch's layout), optional `bias [CO]` →
//!   `y [B, CO, OH, OW]`, `OH = (H - 1)·SH - 2·PH + KH`, likewise OW.
//! - forward: `y[b,o,oy,ox] = bias[o] + Σ_{c,i,j,iy,ix: oy = iy·SH+i-PH, ox = ix·SW+j-PW}
//!   w[c,o,i,j] · x[b,c,iy,ix]`: the input gradient of the conv2d with weight `w` that maps
//!   `[B, CO, OH, OW]` to `[B, CI, H, W]`.
//! - backward: `dx = conv2d(dy, w)` (stride and padding as given, no bias),
//!   `dw[c,o,i,j] = Σ_{b,iy,ix} x[b,c,iy,ix] · dy[b, o, iy·SH+i-PH, ix·SW+j-PW]` (that conv2d's
//!   weight gradient with the roles of x and dy swapped), `dbias[o] = Σ_{b,oy,ox} dy[b,o,oy,ox]`.
//!
//! Implementation: [`crate::ops::conv2d`]'s im2col kernels and matmuls with the roles swapped
//! (see there for the layout and the measurements): the forward is `col2im(wᵀ·to_cnhw(x))`
//! with the bias added in the col2im gather, so every output element has one owner and the
//! result is deterministic. Scratch: `col [CO·KH·KW, B·H·W]` and `cnhw [CI, B·H·W]`
//! ([`scratch_shapes`]).

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{run, Dispatch};
use crate::tensor::{DType, Tensor};

use super::conv2d::{self, Conv2dOptions, ConvDims};
use super::{check_f32, io_tensors, GradArgs, Lowering, Op};

/// Resolves and checks the shapes of `conv_transpose2d(x, w, bias)`, as the dims of the conv2d
/// whose input gradient it is (that conv2d's `x` is this op's output, its `y` this op's input).
pub fn dims(
    x: &[usize],
    w: &[usize],
    bias: Option<&[usize]>,
    opts: Conv2dOptions,
) -> Result<ConvDims> {
    let all: Vec<&[usize]> = [Some(x), Some(w), bias].into_iter().flatten().collect();
    let fail = |why: String| Err(shape_error("conv_transpose2d", why, &all));
    if x.len() != 4 || w.len() != 4 || x.iter().chain(w).any(|&d| d == 0) {
        return fail("x [B, CI, H, W] and w [CI, CO, KH, KW], non-empty".into());
    }
    if opts.stride.contains(&0) {
        return fail(format!("a stride of at least 1, got {:?}", opts.stride));
    }
    if w[0] != x[1] {
        return fail(format!(
            "w's CI ({}) to equal x's channels ({})",
            w[0], x[1]
        ));
    }
    let [sh, sw] = opts.stride;
    let [ph, pw] = opts.padding;
    let (full_h, full_w) = ((x[2] - 1) * sh + w[2], (x[3] - 1) * sw + w[3]);
    if full_h <= 2 * ph || full_w <= 2 * pw {
        return fail(format!(
            "an output of at least 1x1 ((H-1)·stride + K = {full_h}x{full_w} minus twice the padding {:?})",
            opts.padding
        ));
    }
    if let Some(b) = bias {
        if b != [w[1]] {
            return fail(format!("bias of shape [{}]", w[1]));
        }
    }
    Ok(ConvDims {
        batch: x[0],
        c_in: w[1],
        h: full_h - 2 * ph,
        w: full_w - 2 * pw,
        c_out: x[1],
        kh: w[2],
        kw: w[3],
        oh: x[2],
        ow: x[3],
        opts,
    })
}

/// Output shape `[B, CO, OH, OW]`.
pub fn shape(
    x: &[usize],
    w: &[usize],
    bias: Option<&[usize]>,
    opts: Conv2dOptions,
) -> Result<Vec<usize>> {
    Ok(dims(x, w, bias, opts)?.x_shape())
}

/// Shapes of the two scratch tensors every conv_transpose2d prepare function takes: `col`
/// `[CO·KH·KW, B·H·W]` and `cnhw` `[CI, B·H·W]`.
pub fn scratch_shapes(x: &[usize], w: &[usize], opts: Conv2dOptions) -> Result<[Vec<usize>; 2]> {
    Ok(dims(x, w, None, opts)?.scratch_shapes())
}

fn check(op: &'static str, d: &ConvDims, y: &Tensor, col: &Tensor, cnhw: &Tensor) -> Result<()> {
    let [c, n] = d.scratch_shapes();
    let ok = y.shape() == d.x_shape()
        && col.numel() == crate::tensor::numel(&c)
        && cnhw.numel() == crate::tensor::numel(&n);
    if !ok {
        return Err(shape_error(
            op,
            format!("output {:?}, scratch col {c:?} and cnhw {n:?}", d.x_shape()),
            &[y.shape(), col.shape(), cnhw.shape()],
        ));
    }
    check_f32(op, &[y, col, cnhw])
}

/// Prepares `y = conv_transpose2d(x, w) (+ bias)` into `y`, with scratch from
/// [`scratch_shapes`].
#[allow(clippy::too_many_arguments)]
pub fn forward(
    ctx: &Context,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
    opts: Conv2dOptions,
) -> Result<Vec<Dispatch>> {
    let d = dims(x.shape(), w.shape(), bias.map(|b| b.shape()), opts)?;
    check_f32("conv_transpose2d", &[x, w])?;
    if let Some(b) = bias {
        check_f32("conv_transpose2d", &[b])?;
    }
    check("conv_transpose2d", &d, y, col, cnhw)?;
    conv2d::scatter(ctx, &d, x, w, bias, y, col, cnhw)
}

/// Prepares the input gradient `dx` (shaped like x) from `w` and `dy`: a conv2d.
#[allow(clippy::too_many_arguments)]
pub fn backward_input(
    ctx: &Context,
    w: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
    opts: Conv2dOptions,
) -> Result<Vec<Dispatch>> {
    let d = dims(dx.shape(), w.shape(), None, opts)?;
    check_f32("conv_transpose2d_backward_input", &[w, dx])?;
    check("conv_transpose2d_backward_input", &d, dy, col, cnhw)?;
    conv2d::gather(ctx, &d, dy, w, None, dx, col, cnhw)
}

/// Prepares the weight gradient `dw` (shaped like w) from `x` and `dy`.
pub fn backward_weight(
    ctx: &Context,
    x: &Tensor,
    dy: &Tensor,
    dw: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
    opts: Conv2dOptions,
) -> Result<Vec<Dispatch>> {
    let d = dims(x.shape(), dw.shape(), None, opts)?;
    check_f32("conv_transpose2d_backward_weight", &[x, dw])?;
    check("conv_transpose2d_backward_weight", &d, dy, col, cnhw)?;
    conv2d::weight_grad(ctx, &d, dy, x, dw, col, cnhw)
}

/// Prepares the bias gradient `dbias [CO]` from `dy [B, CO, OH, OW]`.
pub fn backward_bias(ctx: &Context, dy: &Tensor, dbias: &Tensor) -> Result<Dispatch> {
    conv2d::backward_bias(ctx, dy, dbias)
}

/// Runs `conv_transpose2d(x, w) (+ bias)` now.
pub fn conv_transpose2d(
    ctx: &Context,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    opts: Conv2dOptions,
) -> Result<Tensor> {
    let d = dims(x.shape(), w.shape(), bias.map(|b| b.shape()), opts)?;
    let y = Tensor::zeros(ctx, &d.x_shape(), DType::F32)?;
    let [col, cnhw] = conv2d::scratch(ctx, &d)?;
    run(ctx, &forward(ctx, x, w, bias, &y, &col, &cnhw, opts)?)?;
    Ok(y)
}

/// Runs the backward now: `(dx, dw, dbias)`, `dbias` only when `with_bias`.
pub fn conv_transpose2d_backward(
    ctx: &Context,
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    opts: Conv2dOptions,
    with_bias: bool,
) -> Result<(Tensor, Tensor, Option<Tensor>)> {
    let d = dims(x.shape(), w.shape(), None, opts)?;
    let dx = Tensor::zeros(ctx, x.shape(), DType::F32)?;
    let dw = Tensor::zeros(ctx, w.shape(), DType::F32)?;
    let [col, cnhw] = conv2d::scratch(ctx, &d)?;
    let mut ds = backward_input(ctx, w, dy, &dx, &col, &cnhw, opts)?;
    ds.extend(backward_weight(ctx, x, dy, &dw, &col, &cnhw, opts)?);
    let dbias = if with_bias {
        let t = Tensor::zeros(ctx, &[d.c_in], DType::F32)?;
        ds.push(backward_bias(ctx, dy, &t)?);
        Some(t)
    } else {
        None
    };
    run(ctx, &ds)?;
    Ok((dx, dw, dbias))
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// `conv_transpose2d(x, w) (+ bias)`: `x [B, CI, H, W]`, `w [CI, CO, KH, KW]`, `bias [CO]`.
    /// The node's two extra outputs are its scratch, so the plan owns their memory.
    #[track_caller]
    pub fn conv_transpose2d(
        &mut self,
        x: Var,
        w: Var,
        bias: Option<Var>,
        opts: Conv2dOptions,
    ) -> Result<Var> {
        let mut inputs = vec![x, w];
        inputs.extend(bias);
        let op = Op::ConvTranspose2d {
            opts,
            bias: bias.is_some(),
        };
        Ok(self.push(op, &inputs)?[0])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    conv2d::infer_node(op, x, dims, true)
}

/// `dx` = conv2d of dy, `dw`, `dbias`: one backward node.
pub(crate) fn grad(
    g: &mut Graph,
    opts: Conv2dOptions,
    bias: bool,
    a: &GradArgs,
) -> Result<Vec<Option<Var>>> {
    conv2d::grad_node(g, a, bias, |dx, dw, dbias| Op::ConvTranspose2dBackward {
        opts,
        dx,
        dw,
        dbias,
    })
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::ConvTranspose2d { opts, bias } => {
            let (i, o) = io_tensors("conv_transpose2d", io, 2 + *bias as usize, 3)?;
            forward(ctx, i[0], i[1], i.get(2).copied(), o[0], o[1], o[2], *opts)
        }
        Op::ConvTranspose2dBackward {
            opts,
            dx,
            dw,
            dbias,
        } => {
            let count = [*dx, *dw, *dbias].iter().filter(|w| **w).count();
            let (i, o) = io_tensors("conv_transpose2d_backward", io, 3, count + 2)?;
            let (x, w, dy) = (i[0], i[1], i[2]);
            let (col, cnhw) = (o[count], o[count + 1]);
            let mut outs = o.iter().copied();
            let mut ds = Vec::new();
            if *dx {
                if let Some(t) = outs.next() {
                    ds.extend(backward_input(ctx, w, dy, t, col, cnhw, *opts)?);
                }
            }
            if *dw {
                if let Some(t) = outs.next() {
                    ds.extend(backward_weight(ctx, x, dy, t, col, cnhw, *opts)?);
                }
            }
            if *dbias {
                if let Some(t) = outs.next() {
                    ds.push(backward_bias(ctx, dy, t)?);
                }
            }
            Ok(ds)
        }
        _ => Err(Error::Graph(format!(
            "{} is not a conv_transpose2d",
            op.name()
        ))),
    }
}
