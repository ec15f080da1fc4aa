//! `conv2d`: 2-D convolution (PyTorch's cross-correlation), NCHW, and its backward for the
//! input, the weight and the bias.
//!
//! Dimension letters: B batch, CI input channels, CO output channels, H×W input, OH×OW output,
//! KH×KW kernel, stride SH/SW, padding PH/PW (zeros).
//! - `x [B, CI, H, W]`, `w [CO, CI, KH, KW]`, optional `bias [CO]` → `y [B, CO, OH, OW]`,
//!   `OH = (H + 2·PH - KH) / SH + 1` (floor), likewise OW.
//! - forward: `y[b,o,oy,ox] = bias[o] + Σ_{c,i,j} w[o,c,i,j] · x[b, c, oy·SH+i-PH, ox·SW+j-PW]`
//! - backward: `dx[b,c,iy,ix] = Σ_{o,i,j: iy = oy·SH+i-PH, ix = ox·SW+j-PW} w[o,c,i,j] · dy[b,o,oy,ox]`
//!   (a transposed convolution of dy), `dw[o,c,i,j] = Σ_{b,oy,ox} dy[b,o,oy,ox] · x[b,c,oy·SH+i-PH,..]`,
//!   `dbias[o] = Σ_{b,oy,ox} dy[b,o,oy,ox]`.
//!
//! Implementation: im2col onto kiln's 2-D matmul, K = CI·KH·KW, BN = B·OH·OW:
//! `col [K, BN] = im2col(x)`, `cnhw [CO, BN] = w·col`, `y = from_cnhw(cnhw) + bias`;
//! `dcol = wᵀ·to_cnhw(dy)`, `dx = col2im(dcol)` (a gather, one owner per dx element, so
//! deterministic); `dw = to_cnhw(dy)·im2col(x)ᵀ`. Laying col out as [K, B·N] rather than per
//! image makes every product one large 2-D matmul (N = B·OH·OW), which suits the register
//! tile even where a 4×4 map gives 16 columns per image; the price is the permutes to and from
//! [CO, B·N] (memory-bound: 1-8% of a forward at the sizes below, except the 1-channel first
//! layer where the matmul is tiny). On the texture matmul (`matmul::texture_forward_from`),
//! `conv2d_pack` writes col and cnhw straight into the matmul's packed operands instead, so
//! the im2col, to_cnhw and pack dispatches and the scratch's round trip are gone (the scratch
//! is still planned: col2im reads dcol from it). The two scratch tensors (`col`, `cnhw`, shapes from
//! [`scratch_shapes`]) are passed in by the caller so that a plan owns their memory.
//!
//! Measured on lavapipe (llvmpipe, LLVM 15, Mesa 22.3.6, 2 shared cores), batch 64, kernel 4,
//! bias, median of 5, `cargo test --test ops conv2d::timing -- --ignored --nocapture`:
//!
//! | layer (DCGAN discriminator)     | im2col + matmul | direct | dx     | dw     | dbias   |
//! |---------------------------------|-----------------|--------|--------|--------|---------|
//! | 1×32×32 → 64×16×16, s2 p1       | 100 ms          | 326 ms | 87 ms  | 204 ms | 16 ms   |
//! | 64×16×16 → 128×8×8, s2 p1       | 879 ms          | 9.06 s | 885 ms | 842 ms | 4 ms    |
//! | 128×8×8 → 256×4×4, s2 p1        | 749 ms          | 7.82 s | 524 ms | 692 ms | 4 ms    |
//! | 256×4×4 → 1×1×1, s1 p0          | 36 ms           | 10 ms  | 40 ms  | 25 ms  | 0.1 ms  |
//!
//! (dx, dw, dbias by the im2col path; repeated runs vary by ±20% on the shared cores.) Split of
//! the im2col forward (`conv2d::timing_breakdown`): im2col / matmul / permute + bias =
//! 12 / 36 / 62 ms, 224 / 604 / 26 ms, 107 / 600 / 8 ms for the first three rows. im2col wins by 3-10× wherever CO fills the matmul's
//! 32-row register tile; with CO = 1 the tile computes 31 discarded rows and the direct kernel
//! (one invocation per output pixel and 4 channels, `conv2d_forward_direct`) wins 3.6×, so
//! [`variant`] picks `Direct` for CO ≤ [`DIRECT_MAX_C_OUT`].
//!
//! The weight gradient of a 1-channel layer (`dw [64, 16]` over 65,536 columns) spends ~160 of
//! its ~220 ms in a matmul with N = 16, where the narrow register tile computes 64 columns and
//! keeps 16. Tried: cutting the contraction into 16 column splits (a batched matmul into
//! partial sums, then their in-order sum) for more workgroups: no gain on lavapipe (matmul
//! 155-162 ms either way), so not kept; computing `dwᵀ` (M = 16, N = 64) and transposing
//! would halve the waste, not tried.
//!
//! Kernels: `shaders/conv2d.wgsl` (im2col, col2im, permutes, bias gradient) and the matmul
//! variants. [`crate::ops::conv_transpose2d`] reuses all of it with the roles swapped.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Binding, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::matmul::{self, MatmulOptions, Operand, Packing};
use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Output channels up to which the forward runs the direct kernel: measured at CO = 1 (a
/// DCGAN discriminator's last layer, 3.6× faster direct); from CO = 64 im2col is 3-10× faster.
pub const DIRECT_MAX_C_OUT: usize = 4;

/// Stride and zero padding of a convolution, per axis (height, width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// Step between output positions, `[SH, SW]`, each at least 1.
    pub stride: [usize; 2],
    /// Zeros added on each side, `[PH, PW]`.
    pub padding: [usize; 2],
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: [0, 0],
        }
    }
}

impl Conv2dOptions {
    /// Square stride and padding.
    pub fn new(stride: usize, padding: usize) -> Conv2dOptions {
        Conv2dOptions {
            stride: [stride, stride],
            padding: [padding, padding],
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    ph: u32,
    pw: u32,
    has_bias: u32,
    total: u32,
    c_out: u32,
    pack_mode: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// The sizes of one convolution, in conv2d's terms (for a transposed convolution, the conv2d
/// whose input gradient it is: its input is this `y`, its output this `x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvDims {
    /// B.
    pub batch: usize,
    /// CI, channels of the image side `x`.
    pub c_in: usize,
    /// H.
    pub h: usize,
    /// W.
    pub w: usize,
    /// CO, channels of the matmul side `y`.
    pub c_out: usize,
    /// KH.
    pub kh: usize,
    /// KW.
    pub kw: usize,
    /// OH.
    pub oh: usize,
    /// OW.
    pub ow: usize,
    /// Stride and padding.
    pub opts: Conv2dOptions,
}

impl ConvDims {
    /// `[B, CI, H, W]`.
    pub fn x_shape(&self) -> Vec<usize> {
        vec![self.batch, self.c_in, self.h, self.w]
    }
    /// `[B, CO, OH, OW]`.
    pub fn y_shape(&self) -> Vec<usize> {
        vec![self.batch, self.c_out, self.oh, self.ow]
    }
    /// `[CI·KH·KW, B·OH·OW]` and `[CO, B·OH·OW]`.
    pub fn scratch_shapes(&self) -> [Vec<usize>; 2] {
        let bn = self.batch * self.oh * self.ow;
        [
            vec![self.c_in * self.kh * self.kw, bn],
            vec![self.c_out, bn],
        ]
    }
    fn params(&self, c: usize, has_bias: bool, total: usize) -> Params {
        let o = self.opts;
        Params {
            batch: self.batch as u32,
            c: c as u32,
            h: self.h as u32,
            w: self.w as u32,
            oh: self.oh as u32,
            ow: self.ow as u32,
            kh: self.kh as u32,
            kw: self.kw as u32,
            sh: o.stride[0] as u32,
            sw: o.stride[1] as u32,
            ph: o.padding[0] as u32,
            pw: o.padding[1] as u32,
            has_bias: has_bias as u32,
            total: total as u32,
            c_out: self.c_out as u32,
            pack_mode: 0,
        }
    }
}

/// Resolves and checks the shapes of `conv2d(x, w, bias)`.
pub fn dims(
    x: &[usize],
    w: &[usize],
    bias: Option<&[usize]>,
    opts: Conv2dOptions,
) -> Result<ConvDims> {
    let all: Vec<&[usize]> = [Some(x), Some(w), bias].into_iter().flatten().collect();
    let fail = |why: String| Err(shape_error("conv2d", why, &all));
    if x.len() != 4 || w.len() != 4 || x.iter().chain(w).any(|&d| d == 0) {
        return fail("x [B, CI, H, W] and w [CO, CI, KH, KW], non-empty".into());
    }
    if opts.stride.contains(&0) {
        return fail(format!("a stride of at least 1, got {:?}", opts.stride));
    }
    if w[1] != x[1] {
        return fail(format!(
            "w's CI ({}) to equal x's channels ({})",
            w[1], x[1]
        ));
    }
    let [sh, sw] = opts.stride;
    let [ph, pw] = opts.padding;
    if x[2] + 2 * ph < w[2] || x[3] + 2 * pw < w[3] {
        return fail(format!(
            "a kernel {}x{} that fits the padded input {}x{}",
            w[2],
            w[3],
            x[2] + 2 * ph,
            x[3] + 2 * pw
        ));
    }
    if let Some(b) = bias {
        if b != [w[0]] {
            return fail(format!("bias of shape [{}]", w[0]));
        }
    }
    Ok(ConvDims {
        batch: x[0],
        c_in: x[1],
        h: x[2],
        w: x[3],
        c_out: w[0],
        kh: w[2],
        kw: w[3],
        oh: (x[2] + 2 * ph - w[2]) / sh + 1,
        ow: (x[3] + 2 * pw - w[3]) / sw + 1,
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
    Ok(dims(x, w, bias, opts)?.y_shape())
}

/// Shapes of the two scratch tensors every conv2d prepare function takes: `col`
/// `[CI·KH·KW, B·OH·OW]` and `cnhw` `[CO, B·OH·OW]`.
pub fn scratch_shapes(x: &[usize], w: &[usize], opts: Conv2dOptions) -> Result<[Vec<usize>; 2]> {
    Ok(dims(x, w, None, opts)?.scratch_shapes())
}

fn check_scratch(op: &'static str, d: &ConvDims, col: &Tensor, cnhw: &Tensor) -> Result<()> {
    let [c, n] = d.scratch_shapes();
    if col.numel() != crate::tensor::numel(&c) || cnhw.numel() != crate::tensor::numel(&n) {
        return Err(shape_error(
            op,
            format!("scratch col {c:?} and cnhw {n:?}"),
            &[col.shape(), cnhw.shape()],
        ));
    }
    check_f32(op, &[col, cnhw])
}

fn check_shape(op: &'static str, t: &Tensor, want: &[usize], what: &str) -> Result<()> {
    if t.shape() != want {
        return Err(shape_error(
            op,
            format!("{what} of shape {want:?}"),
            &[t.shape()],
        ));
    }
    check_f32(op, &[t])
}

fn bias_or_dummy(ctx: &Context, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        Some(t) => Ok(t.clone()),
        None => Tensor::placeholder(ctx, DType::F32),
    }
}

/// `col = im2col(x)` for dims `d`.
fn im2col(ctx: &Context, d: &ConvDims, x: &Tensor, col: &Tensor) -> Result<Dispatch> {
    let total = col.numel();
    Kernel::new("conv2d", "conv2d_im2col").dispatch(
        ctx,
        &d.params(d.c_in, false, total),
        &[x, col],
        grid_for(total, 256),
    )
}

/// What `conv2d_pack` writes: col (im2col of x) or cnhw (the permute of y), with which of its
/// axes along the texels.
#[derive(Clone, Copy)]
enum PackedMatrix {
    /// col [K, BN] with K along texels: the packed rows are BN.
    ColAlongK,
    /// col with BN along texels: the packed rows are K.
    ColAlongBn,
    /// cnhw with BN along texels.
    CnhwAlongBn,
}

/// The dispatch writing `m` of `src` (x for col, y for cnhw) straight into a texture matmul's
/// operand texture `view`, one invocation per texel.
fn pack(
    ctx: &Context,
    d: &ConvDims,
    m: PackedMatrix,
    src: &Tensor,
    view: &wgpu::TextureView,
) -> Result<Dispatch> {
    let bn = d.batch * d.oh * d.ow;
    let k = d.c_in * d.kh * d.kw;
    // pack_mode's bits (conv2d.wgsl): 1 reads cnhw from y instead of col from x, 2 puts BN
    // along the texels; cnhw always goes along BN (3), which the shader relies on.
    let (c, mode, rows, along) = match m {
        PackedMatrix::ColAlongK => (d.c_in, 0, bn, k),
        PackedMatrix::ColAlongBn => (d.c_in, 2, k, bn),
        PackedMatrix::CnhwAlongBn => (d.c_out, 3, d.c_out, bn),
    };
    let texels = rows * along.div_ceil(4);
    let params = Params {
        pack_mode: mode,
        ..d.params(c, false, texels)
    };
    Kernel::new("conv2d", "conv2d_pack").dispatch_bindings(
        ctx,
        &params,
        &[Binding::Tensor(src), Binding::Texture(view)],
        grid_for(texels, 256),
    )
}

/// `x = col2im(col) (+ bias)`: the gather that sums each image element's col entries.
fn col2im(
    ctx: &Context,
    d: &ConvDims,
    col: &Tensor,
    bias: Option<&Tensor>,
    x: &Tensor,
) -> Result<Dispatch> {
    let total = x.numel();
    let b = bias_or_dummy(ctx, bias)?;
    Kernel::new("conv2d", "conv2d_col2im").dispatch(
        ctx,
        &d.params(d.c_in, bias.is_some(), total),
        &[col, &b, x],
        grid_for(total, 256),
    )
}

/// `cnhw [CO, B·N] = y [B, CO, N]` permuted.
fn to_cnhw(ctx: &Context, d: &ConvDims, y: &Tensor, cnhw: &Tensor) -> Result<Dispatch> {
    let total = cnhw.numel();
    Kernel::new("conv2d", "conv2d_to_cnhw").dispatch(
        ctx,
        &d.params(d.c_out, false, total),
        &[y, cnhw],
        grid_for(total, 256),
    )
}

/// `y [B, CO, N] = cnhw [CO, B·N]` permuted, plus the bias.
fn from_cnhw(
    ctx: &Context,
    d: &ConvDims,
    cnhw: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
) -> Result<Dispatch> {
    let total = y.numel();
    let b = bias_or_dummy(ctx, bias)?;
    Kernel::new("conv2d", "conv2d_from_cnhw").dispatch(
        ctx,
        &d.params(d.c_out, bias.is_some(), total),
        &[cnhw, &b, y],
        grid_for(total, 256),
    )
}

/// The conv2d forward for dims `d`: `y = w ⋆ x (+ bias)` via im2col and one matmul. Shared
/// with conv_transpose2d's input gradient.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gather(
    ctx: &Context,
    d: &ConvDims,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
) -> Result<Vec<Dispatch>> {
    let [cs, ns] = d.scratch_shapes();
    let col2 = col.reshape(&cs)?;
    let cnhw2 = cnhw.reshape(&ns)?;
    let w2 = w.reshape(&[d.c_out, cs[0]])?;
    // On the texture matmul, col goes straight into its packed operand.
    let col_packed = |view: &wgpu::TextureView| pack(ctx, d, PackedMatrix::ColAlongBn, x, view);
    let fused = matmul::texture_forward_from(
        ctx,
        (d.c_out, cs[0], cs[1]),
        Operand::Stored(Packing::new(d.c_out, cs[0], false), &w2),
        Operand::Produced(&col_packed),
        &cnhw2,
    )?;
    if let Some(mut out) = fused {
        out.push(from_cnhw(ctx, d, &cnhw2, bias, y)?);
        return Ok(out);
    }
    let mut out = vec![im2col(ctx, d, x, &col2)?];
    out.extend(matmul::forward(
        ctx,
        &w2,
        &col2,
        None,
        &cnhw2,
        MatmulOptions::default(),
    )?);
    out.push(from_cnhw(ctx, d, &cnhw2, bias, y)?);
    Ok(out)
}

/// The conv2d input gradient for dims `d`: `x = col2im(wᵀ · to_cnhw(y)) (+ bias)`. Shared with
/// conv_transpose2d's forward (which is where a bias appears).
#[allow(clippy::too_many_arguments)]
pub(crate) fn scatter(
    ctx: &Context,
    d: &ConvDims,
    y: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    x: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
) -> Result<Vec<Dispatch>> {
    let [cs, ns] = d.scratch_shapes();
    let col2 = col.reshape(&cs)?;
    let cnhw2 = cnhw.reshape(&ns)?;
    let w2 = w.reshape(&[d.c_out, cs[0]])?;
    let cnhw_packed = |view: &wgpu::TextureView| pack(ctx, d, PackedMatrix::CnhwAlongBn, y, view);
    let fused = matmul::texture_forward_from(
        ctx,
        (cs[0], d.c_out, cs[1]),
        Operand::Stored(Packing::new(d.c_out, cs[0], true), &w2),
        Operand::Produced(&cnhw_packed),
        &col2,
    )?;
    if let Some(mut out) = fused {
        out.push(col2im(ctx, d, &col2, bias, x)?);
        return Ok(out);
    }
    let t = MatmulOptions {
        trans_a: true,
        trans_b: false,
    };
    let mut out = vec![to_cnhw(ctx, d, y, &cnhw2)?];
    out.extend(matmul::forward(ctx, &w2, &cnhw2, None, &col2, t)?);
    out.push(col2im(ctx, d, &col2, bias, x)?);
    Ok(out)
}

/// The conv2d weight gradient for dims `d`: `dw = to_cnhw(dy) · im2col(x)ᵀ`, in `w`'s layout.
pub(crate) fn weight_grad(
    ctx: &Context,
    d: &ConvDims,
    x: &Tensor,
    dy: &Tensor,
    dw: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
) -> Result<Vec<Dispatch>> {
    let [cs, ns] = d.scratch_shapes();
    let col2 = col.reshape(&cs)?;
    let cnhw2 = cnhw.reshape(&ns)?;
    let dw2 = dw.reshape(&[d.c_out, cs[0]])?;
    let cnhw_packed = |view: &wgpu::TextureView| pack(ctx, d, PackedMatrix::CnhwAlongBn, dy, view);
    let col_packed = |view: &wgpu::TextureView| pack(ctx, d, PackedMatrix::ColAlongK, x, view);
    let fused = matmul::texture_forward_from(
        ctx,
        (d.c_out, cs[1], cs[0]),
        Operand::Produced(&cnhw_packed),
        Operand::Produced(&col_packed),
        &dw2,
    )?;
    if let Some(out) = fused {
        return Ok(out);
    }
    let t = MatmulOptions {
        trans_a: false,
        trans_b: true,
    };
    let mut out = vec![im2col(ctx, d, x, &col2)?, to_cnhw(ctx, d, dy, &cnhw2)?];
    out.extend(matmul::forward(ctx, &cnhw2, &col2, None, &dw2, t)?);
    Ok(out)
}

/// `dbias[o] = Σ_{b,n} dy[b,o,n]` for `dy [B, CO, OH, OW]` (one invocation per channel).
pub(crate) fn bias_grad(
    ctx: &Context,
    d: &ConvDims,
    dy: &Tensor,
    dbias: &Tensor,
) -> Result<Dispatch> {
    Kernel::new("conv2d", "conv2d_backward_bias").dispatch(
        ctx,
        &d.params(d.c_out, false, d.c_out),
        &[dy, dbias],
        grid_for(d.c_out, 256),
    )
}

/// How a conv2d forward is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv2dVariant {
    /// im2col into the `col` scratch, one 2-D matmul (the context's matmul variant), a
    /// permute with the bias: the default (see the module doc for the measurements).
    Im2col,
    /// One kernel, one invocation per output pixel and 4 output channels, no scratch.
    Direct,
}

/// The `conv2d_forward_direct` launch.
fn direct(
    ctx: &Context,
    d: &ConvDims,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
) -> Result<Dispatch> {
    let total = d.batch * d.c_out.div_ceil(4) * d.oh * d.ow;
    let p = d.params(d.c_in, bias.is_some(), total);
    let b = bias_or_dummy(ctx, bias)?;
    Kernel::new("conv2d", "conv2d_forward_direct").dispatch(
        ctx,
        &p,
        &[x, w, &b, y],
        grid_for(total, 256),
    )
}

/// Prepares `y = conv2d(x, w) (+ bias)` into `y`, with the scratch tensors `col` and `cnhw`
/// shaped by [`scratch_shapes`] (any shapes with those element counts).
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
    let v = variant(w.shape().first().copied().unwrap_or(0));
    forward_with(ctx, v, x, w, bias, y, col, cnhw, opts)
}

/// The forward variant for `c_out` output channels (see the module doc's measurements).
pub fn variant(c_out: usize) -> Conv2dVariant {
    if c_out <= DIRECT_MAX_C_OUT {
        Conv2dVariant::Direct
    } else {
        Conv2dVariant::Im2col
    }
}

/// [`forward`] with an explicit variant (tests and timings run both; `Direct` ignores the
/// scratch but checks it all the same, so that callers need not care which runs).
#[allow(clippy::too_many_arguments)]
pub fn forward_with(
    ctx: &Context,
    variant: Conv2dVariant,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
    col: &Tensor,
    cnhw: &Tensor,
    opts: Conv2dOptions,
) -> Result<Vec<Dispatch>> {
    let d = dims(x.shape(), w.shape(), bias.map(|b| b.shape()), opts)?;
    check_f32("conv2d", &[x, w])?;
    if let Some(b) = bias {
        check_f32("conv2d", &[b])?;
    }
    check_shape("conv2d", y, &d.y_shape(), "y")?;
    check_scratch("conv2d", &d, col, cnhw)?;
    match variant {
        Conv2dVariant::Im2col => gather(ctx, &d, x, w, bias, y, col, cnhw),
        Conv2dVariant::Direct => Ok(vec![direct(ctx, &d, x, w, bias, y)?]),
    }
}

/// Prepares the input gradient `dx` (shaped like x, which fixes H and W) from `w` and `dy`.
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
    check_f32("conv2d_backward_input", &[w, dx])?;
    check_shape("conv2d_backward_input", dy, &d.y_shape(), "dy")?;
    check_scratch("conv2d_backward_input", &d, col, cnhw)?;
    scatter(ctx, &d, dy, w, None, dx, col, cnhw)
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
    check_f32("conv2d_backward_weight", &[x, dw])?;
    check_shape("conv2d_backward_weight", dy, &d.y_shape(), "dy")?;
    check_scratch("conv2d_backward_weight", &d, col, cnhw)?;
    weight_grad(ctx, &d, x, dy, dw, col, cnhw)
}

/// Prepares the bias gradient `dbias [CO]` from `dy [B, CO, OH, OW]`.
pub fn backward_bias(ctx: &Context, dy: &Tensor, dbias: &Tensor) -> Result<Dispatch> {
    let s = dy.shape();
    if s.len() != 4 || dbias.shape() != [s[1]] {
        return Err(shape_error(
            "conv2d_backward_bias",
            "dy [B, CO, OH, OW] and dbias [CO]",
            &[s, dbias.shape()],
        ));
    }
    check_f32("conv2d_backward_bias", &[dy, dbias])?;
    let d = ConvDims {
        batch: s[0],
        c_in: 0,
        h: 0,
        w: 0,
        c_out: s[1],
        kh: 1,
        kw: 1,
        oh: s[2],
        ow: s[3],
        opts: Conv2dOptions::default(),
    };
    bias_grad(ctx, &d, dy, dbias)
}

/// The im2col scratch of `d` (`col`, `cnhw`) for the eager entry points (a graph's plan owns
/// its own as the node's extra outputs).
pub(crate) fn scratch(ctx: &Context, d: &ConvDims) -> Result<[Tensor; 2]> {
    let [c, n] = d.scratch_shapes();
    Ok([
        Tensor::zeros(ctx, &c, DType::F32)?,
        Tensor::zeros(ctx, &n, DType::F32)?,
    ])
}

/// Runs `conv2d(x, w) (+ bias)` now.
pub fn conv2d(
    ctx: &Context,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    opts: Conv2dOptions,
) -> Result<Tensor> {
    let d = dims(x.shape(), w.shape(), bias.map(|b| b.shape()), opts)?;
    let y = Tensor::zeros(ctx, &d.y_shape(), DType::F32)?;
    let [col, cnhw] = scratch(ctx, &d)?;
    run(ctx, &forward(ctx, x, w, bias, &y, &col, &cnhw, opts)?)?;
    Ok(y)
}

/// Runs the backward now: `(dx, dw, dbias)`, `dbias` only when `with_bias`.
pub fn conv2d_backward(
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
    let [col, cnhw] = scratch(ctx, &d)?;
    let mut ds = backward_input(ctx, w, dy, &dx, &col, &cnhw, opts)?;
    ds.extend(backward_weight(ctx, x, dy, &dw, &col, &cnhw, opts)?);
    let dbias = if with_bias {
        let t = Tensor::zeros(ctx, &[d.c_out], DType::F32)?;
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
    /// `conv2d(x, w) (+ bias)`: `x [B, CI, H, W]`, `w [CO, CI, KH, KW]`, `bias [CO]`.
    /// The node's two extra outputs are its im2col scratch, so the plan owns their memory.
    #[track_caller]
    pub fn conv2d(
        &mut self,
        x: Var,
        w: Var,
        bias: Option<Var>,
        opts: Conv2dOptions,
    ) -> Result<Var> {
        let mut inputs = vec![x, w];
        inputs.extend(bias);
        let op = Op::Conv2d {
            opts,
            bias: bias.is_some(),
        };
        Ok(self.push(op, &inputs)?[0])
    }
}

/// A shape resolver: [`dims`] or [`crate::ops::conv_transpose2d::dims`].
pub(crate) type DimsFn =
    fn(&[usize], &[usize], Option<&[usize]>, Conv2dOptions) -> Result<ConvDims>;

/// Metas of a conv forward or backward node (conv2d and conv_transpose2d): `dims_of` resolves
/// the shapes as conv2d dims, `transposed` says the op's output is those dims' image side.
pub(crate) fn infer_node(
    op: &Op,
    x: &[&Meta],
    dims_of: DimsFn,
    transposed: bool,
) -> Result<Vec<Meta>> {
    let name = op.name();
    let scratch = |d: &ConvDims| d.scratch_shapes().map(|s| Meta::f32(&s));
    let out_shape = |d: &ConvDims| if transposed { d.x_shape() } else { d.y_shape() };
    match *op {
        Op::Conv2d { opts, bias } | Op::ConvTranspose2d { opts, bias } => {
            check_arity(name, x, 2 + bias as usize)?;
            check_f32_meta(name, x)?;
            let b = x.get(2).map(|m| m.shape.as_slice());
            let d = dims_of(&x[0].shape, &x[1].shape, b, opts)?;
            let mut out = vec![Meta::f32(&out_shape(&d))];
            out.extend(scratch(&d));
            Ok(out)
        }
        Op::Conv2dBackward {
            opts,
            dx,
            dw,
            dbias,
        }
        | Op::ConvTranspose2dBackward {
            opts,
            dx,
            dw,
            dbias,
        } => {
            // (x, w, dy) -> wanted of (dx, dw, dbias), then the scratch (col, cnhw).
            check_arity(name, x, 3)?;
            check_f32_meta(name, x)?;
            let d = dims_of(&x[0].shape, &x[1].shape, None, opts)?;
            let want_dy = out_shape(&d);
            if x[2].shape != want_dy {
                return Err(shape_error(
                    name,
                    format!("dy of shape {want_dy:?}"),
                    &[&x[0].shape, &x[1].shape, &x[2].shape],
                ));
            }
            let bias_len = if transposed { d.c_in } else { d.c_out };
            let shapes = [x[0].shape.clone(), x[1].shape.clone(), vec![bias_len]];
            let mut out: Vec<Meta> = shapes
                .iter()
                .zip([dx, dw, dbias])
                .filter(|(_, w)| *w)
                .map(|(s, _)| Meta::f32(s))
                .collect();
            out.extend(scratch(&d));
            Ok(out)
        }
        _ => Err(Error::Graph(format!("{name} is not a convolution"))),
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    infer_node(op, x, dims, false)
}

/// One backward node producing the wanted gradients of a conv (either kind): `make` builds
/// the backward op from the wanted flags.
pub(crate) fn grad_node(
    g: &mut Graph,
    a: &GradArgs,
    bias: bool,
    make: impl Fn(bool, bool, bool) -> Op,
) -> Result<Vec<Option<Var>>> {
    let Some(dy) = a.douts[0] else {
        return Ok(vec![None; a.inputs.len()]);
    };
    let wants = [
        a.wants[0],
        a.wants[1],
        bias && a.wants.get(2) == Some(&true),
    ];
    if !wants.iter().any(|w| *w) {
        return Ok(vec![None; a.inputs.len()]);
    }
    let op = make(wants[0], wants[1], wants[2]);
    let mut made = g.push(op, &[a.inputs[0], a.inputs[1], dy])?.into_iter();
    let mut grads: Vec<Option<Var>> = wants
        .iter()
        .map(|&w| if w { made.next() } else { None })
        .collect();
    grads.truncate(a.inputs.len());
    Ok(grads)
}

/// `dx` = the transposed convolution of dy, `dw`, `dbias`: one backward node.
pub(crate) fn grad(
    g: &mut Graph,
    opts: Conv2dOptions,
    bias: bool,
    a: &GradArgs,
) -> Result<Vec<Option<Var>>> {
    grad_node(g, a, bias, |dx, dw, dbias| Op::Conv2dBackward {
        opts,
        dx,
        dw,
        dbias,
    })
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::Conv2d { opts, bias } => {
            let (i, o) = io_tensors("conv2d", io, 2 + *bias as usize, 3)?;
            forward(ctx, i[0], i[1], i.get(2).copied(), o[0], o[1], o[2], *opts)
        }
        Op::Conv2dBackward {
            opts,
            dx,
            dw,
            dbias,
        } => {
            let count = [*dx, *dw, *dbias].iter().filter(|w| **w).count();
            let (i, o) = io_tensors("conv2d_backward", io, 3, count + 2)?;
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
        _ => Err(Error::Graph(format!("{} is not a conv2d", op.name()))),
    }
}
