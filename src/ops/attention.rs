//! `attention`: fused scaled dot-product attention, flash-style forward (online softmax, no
//! score matrix in memory) and a FlashAttention-2 style backward from the saved log-sum-exp.
//!
//! Dimension letters: B batch, H heads, Tq query length, Tk key length, D head dimension.
//! - inputs: `q [B,H,Tq,D]`, `k [B,H,Tk,D]`, `v [B,H,Tk,D]`, optional key-padding `mask [B,Tk]`
//!   (u32 or f32; a 0 masks the key, anything else keeps it).
//! - forward: `s[i,j] = scale · q_i·k_j` over visible keys, `lse_i = log Σ_j exp(s[i,j])`,
//!   `o_i = Σ_j exp(s[i,j] - lse_i) v_j`; outputs `o [B,H,Tq,D]` and `lse [B,H,Tq]`.
//!   `scale` defaults to `1/sqrt(D)`.
//! - causal: query i sees keys `j <= i + (Tk - Tq)`, bottom-right aligned (the last query sees
//!   every key, as when new queries are appended after a cache of keys); with Tq = Tk this is
//!   the usual `j <= i`. With Tq > Tk the first `Tq - Tk` queries see no key.
//! - a query with no visible key gets `o = 0`, `lse = -1e30` (NEG_LARGE, standing in for
//!   log 0) and zero gradients, never NaN.
//! - backward: `P = exp(S - lse)`, `D_i = Σ_d dO[i,d] O[i,d]`, `dP = dO Vᵀ`, `dS = P ∘ (dP - D)`,
//!   `dV = Pᵀ dO`, `dK = scale · dSᵀ Q`, `dQ = scale · dS K` (masked entries of P are 0).
//! - D is at most [`MAX_HEAD_DIM`] (the size of the kernels' private row arrays).
//!
//! Kernels: `shaders/attention.wgsl` (storage buffers, one invocation per output row or two)
//! and `shaders/attention_texture.wgsl` (operands packed into textures first, 8 rows per
//! invocation; see [`AttentionVariant`]). Either way the backward is three passes (preprocess
//! D, then dK/dV per key row, then dQ per query row), so no float atomics.

use crate::context::{Context, PackedSlot};
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{
    grid_1d, grid_for, run, AttentionTile, Binding, Dispatch, Generated, Kernel, MatmulVariant,
};
use crate::ops::matmul::PACKED_WIDTH;
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// The largest head dimension the kernels take (their private arrays are this long).
pub const MAX_HEAD_DIM: usize = 128;

/// Most rows per workgroup (`WG` in the shader).
const WG: usize = 64;

/// Rows per workgroup for `rows` rows per (batch, head): every workgroup holds rows of one
/// (b,h), so short sequences get smaller workgroups instead of idle lanes (T = 29 with 64-row
/// workgroups and 2 rows per invocation left 49 of 64 lanes idle). At least 8, lavapipe's SIMD
/// width and a quarter of a GPU subgroup.
fn rows_per_group(rows: usize) -> usize {
    rows.next_power_of_two().clamp(8, WG)
}

/// Query rows per invocation in the forward (`R` in the shader).
const FORWARD_ROWS: usize = 2;

/// Rows per invocation in the `_hd4` backward dK/dV and dQ passes (`BR` in the shader).
const BACKWARD_ROWS_HD4: usize = 2;

/// Options of an attention call.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AttentionOptions {
    /// Apply the bottom-right aligned causal mask `j <= i + (Tk - Tq)`.
    pub causal: bool,
    /// Score scale; `None` means `1/sqrt(D)`.
    pub scale: Option<f32>,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    bh: u32,
    heads: u32,
    tq: u32,
    tk: u32,
    d: u32,
    scale: f32,
    causal: u32,
    mask_kind: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// The sizes of one attention call, resolved from shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionDims {
    /// Batch.
    pub b: usize,
    /// Heads.
    pub h: usize,
    /// Query length.
    pub tq: usize,
    /// Key (and value) length.
    pub tk: usize,
    /// Head dimension.
    pub d: usize,
}

/// Checks `q [B,H,Tq,D]`, `k [B,H,Tk,D]`, `v [B,H,Tk,D]` and `mask [B,Tk]`, and resolves sizes.
pub fn shape(
    q: &[usize],
    k: &[usize],
    v: &[usize],
    mask: Option<&[usize]>,
) -> Result<AttentionDims> {
    let all: Vec<&[usize]> = [Some(q), Some(k), Some(v), mask]
        .into_iter()
        .flatten()
        .collect();
    let err = |what: String| shape_error("attention", what, &all);
    if q.len() != 4 || k.len() != 4 || v.len() != 4 {
        return Err(err(
            "q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,D] (4 axes each)".into(),
        ));
    }
    if q.iter().chain(k).chain(v).any(|&x| x == 0) {
        return Err(err("non-empty q, k and v".into()));
    }
    let (b, h, tq, d) = (q[0], q[1], q[2], q[3]);
    let tk = k[2];
    if k[0] != b || v[0] != b {
        return Err(err(format!("q, k and v to share the batch B = {b}")));
    }
    if k[1] != h || v[1] != h {
        return Err(err(format!("q, k and v to share the heads H = {h}")));
    }
    if k[3] != d || v[3] != d {
        return Err(err(format!(
            "q, k and v to share the head dimension D = {d}"
        )));
    }
    if v[2] != tk {
        return Err(err(format!("k and v of one length Tk = {tk}")));
    }
    if d > MAX_HEAD_DIM {
        return Err(err(format!(
            "a head dimension D <= {MAX_HEAD_DIM} (the kernels' limit), got {d}"
        )));
    }
    if let Some(m) = mask {
        if m != [b, tk] {
            return Err(err(format!("a key-padding mask of shape [{b}, {tk}]")));
        }
    }
    // Flat indices in the shaders are u32.
    if b * h * tq.max(tk) * d >= u32::MAX as usize {
        return Err(err("fewer than 2^32 elements per tensor".into()));
    }
    Ok(AttentionDims { b, h, tq, tk, d })
}

fn check_out(
    name: &'static str,
    what: &str,
    want: &[usize],
    got: &Tensor,
    all: &[&[usize]],
) -> Result<()> {
    if got.shape() != want {
        let mut shapes = all.to_vec();
        shapes.push(got.shape());
        return Err(shape_error(
            name,
            format!("{what} of shape {want:?}"),
            &shapes,
        ));
    }
    Ok(())
}

fn params(
    ctx: &Context,
    dims: AttentionDims,
    mask: Option<&Tensor>,
    opts: AttentionOptions,
) -> Result<(Params, Option<Tensor>)> {
    let (mask_kind, dummy) = match mask {
        None => (0, Some(Tensor::placeholder(ctx, DType::U32)?)),
        Some(m) => (if m.dtype() == DType::F32 { 2 } else { 1 }, None),
    };
    let p = Params {
        bh: (dims.b * dims.h) as u32,
        heads: dims.h as u32,
        tq: dims.tq as u32,
        tk: dims.tk as u32,
        d: dims.d as u32,
        scale: opts.scale.unwrap_or(1.0 / (dims.d as f32).sqrt()),
        causal: opts.causal as u32,
        mask_kind,
    };
    Ok((p, dummy))
}

fn grid(dims: AttentionDims, rows: usize) -> [u32; 3] {
    grid_1d((dims.b * dims.h * rows.div_ceil(rows_per_group(rows))) as u32)
}

/// The kernel for an entry point that runs `rows` invocations per (b,h).
fn kernel(entry: &'static str, rows: usize) -> Kernel {
    Kernel::new("attention", entry).with("WG", rows_per_group(rows) as f64)
}

/// Largest head dimension given the `_hd4` kernels (D a compile-time constant, vec4 bindings):
/// their d loops unroll fully, which costs pipeline compile time that grows with D.
pub const CONST_HEAD_DIM_MAX: usize = 64;

/// Which kernels an attention call runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttentionVariant {
    /// D read from the params at run time, scalar loads: any D up to [`MAX_HEAD_DIM`].
    Generic,
    /// D an override constant and q, k, v, dout bound as vec4 arrays (the `_hd4` entry points):
    /// needs D % 4 == 0 and D <= [`CONST_HEAD_DIM_MAX`]; faster on lavapipe (MEASURED in the
    /// shader header).
    ConstHeadDim,
    /// q, k, v, dout, the mask and the backward's row statistics packed into textures first
    /// (`shaders/attention_texture.wgsl`): needs D % 4 == 0 and D <= [`TEXTURE_HEAD_DIM_MAX`].
    /// On lavapipe a texel fetch is a vector gather where a storage-buffer load is a loop over
    /// the SIMD lanes, which makes this the fast one there.
    Texture,
}

/// Largest head dimension of the texture kernels (their unrolled row accumulators: the
/// largest of [`AttentionTile::ALL`]).
pub const TEXTURE_HEAD_DIM_MAX: usize = AttentionTile::max_head_dim();

/// The texture kernels' tile for `dims` on `ctx` ([`AttentionTile::for_shape`]), with
/// broadcast where the context has subgroups.
fn texture_tile(ctx: &Context, dims: AttentionDims) -> Result<AttentionTile> {
    let d = dims.d;
    AttentionTile::for_shape(d, dims.tq, dims.tk, ctx.subgroups()).ok_or_else(|| {
        Error::Unsupported(format!(
            "attention: no texture tile holds head size {d} (at most {TEXTURE_HEAD_DIM_MAX})"
        ))
    })
}

/// The variant for head dimension `d` without a context: [`AttentionVariant::ConstHeadDim`]
/// when it applies.
pub fn variant(d: usize) -> AttentionVariant {
    if d.is_multiple_of(4) && d <= CONST_HEAD_DIM_MAX {
        AttentionVariant::ConstHeadDim
    } else {
        AttentionVariant::Generic
    }
}

/// The variant [`forward`] and [`backward`] use on `ctx` for `dims`: the texture kernels where
/// the context's measured matmul choice says textures are the fast path on this adapter (see
/// [`crate::kernels::choose_matmul`]) and the shapes fit them, else [`variant`].
pub fn variant_for(ctx: &Context, dims: AttentionDims) -> AttentionVariant {
    if texture_fits(ctx, dims) && crate::ops::matmul::variant(ctx) == MatmulVariant::Texture {
        AttentionVariant::Texture
    } else {
        variant(dims.d)
    }
}

/// Why `ctx`'s backend does not run the texture kernels, if it does not. Through wgpu's GL
/// backend (naga writes GLSL, Mesa's GL compiler lowers it) the unrolled tiles reach LLVM as
/// functions it spends minutes per pipeline on: on llvmpipe one test of the 128-wide tile ran
/// past ten minutes cold, where Vulkan's lavapipe compiles it in seconds. A first training
/// step must not wait that long, so on GL attention runs the storage-buffer kernels.
pub fn texture_unavailable(ctx: &Context) -> Option<&'static str> {
    (ctx.adapter_info().backend == wgpu::Backend::Gl).then_some(
        "not on the GL backend, where the unrolled texture tiles take minutes per pipeline to compile",
    )
}

/// Whether the texture kernels can run `dims` on `ctx` (backend, head size, grid and texture
/// limits).
pub fn texture_fits(ctx: &Context, dims: AttentionDims) -> bool {
    let max_dim = ctx.device().limits().max_texture_dimension_2d;
    texture_unavailable(ctx).is_none()
        && max_dim >= PACKED_WIDTH
        && dims.d.is_multiple_of(4)
        && dims.d <= TEXTURE_HEAD_DIM_MAX
        && dims.b * dims.h <= 65535
        && (dims.b * dims.h * dims.tq.max(dims.tk) * dims.d / 4) as u64
            <= PACKED_WIDTH as u64 * max_dim as u64
}

/// The kernel `entry` (generic) or `entry_hd4` for `variant`.
fn kernel_for(
    variant: AttentionVariant,
    entries: [&'static str; 2],
    rows: usize,
    d: usize,
) -> Kernel {
    match variant {
        AttentionVariant::Generic => kernel(entries[0], rows),
        // Texture calls never get here (they return before); ConstHeadDim is its nearest kin.
        AttentionVariant::ConstHeadDim | AttentionVariant::Texture => {
            kernel(entries[1], rows).with("HD4", (d / 4) as f64)
        }
    }
}

fn check_variant(
    ctx: &Context,
    op: &'static str,
    variant: AttentionVariant,
    dims: AttentionDims,
) -> Result<()> {
    if let (AttentionVariant::Texture, Some(why)) = (variant, texture_unavailable(ctx)) {
        return Err(Error::Unsupported(format!(
            "{op}: the Texture variant (D = {}) is {why}",
            dims.d
        )));
    }
    if variant == AttentionVariant::Texture
        && (!dims.d.is_multiple_of(4) || dims.d > TEXTURE_HEAD_DIM_MAX || dims.b * dims.h > 65535)
    {
        return Err(Error::Unsupported(format!(
            "{op}: the Texture variant needs D % 4 == 0, D <= {TEXTURE_HEAD_DIM_MAX} and B·H <= 65535, got D = {}, B·H = {}",
            dims.d,
            dims.b * dims.h
        )));
    }
    if variant == AttentionVariant::ConstHeadDim
        && (!dims.d.is_multiple_of(4) || dims.d > CONST_HEAD_DIM_MAX)
    {
        return Err(Error::Unsupported(format!(
            "{op}: the ConstHeadDim variant needs D % 4 == 0 and D <= {CONST_HEAD_DIM_MAX}, got D = {}",
            dims.d
        )));
    }
    Ok(())
}

/// Prepares the forward into `o [B,H,Tq,D]` and `lse [B,H,Tq]`.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    ctx: &Context,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    opts: AttentionOptions,
    o: &Tensor,
    lse: &Tensor,
) -> Result<Vec<Dispatch>> {
    let dims = shape(q.shape(), k.shape(), v.shape(), mask.map(|m| m.shape()))?;
    forward_with(ctx, variant_for(ctx, dims), q, k, v, mask, opts, o, lse)
}

/// [`forward`] with an explicit variant (tests run both).
#[allow(clippy::too_many_arguments)]
pub fn forward_with(
    ctx: &Context,
    variant: AttentionVariant,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    opts: AttentionOptions,
    o: &Tensor,
    lse: &Tensor,
) -> Result<Vec<Dispatch>> {
    let dims = shape(q.shape(), k.shape(), v.shape(), mask.map(|m| m.shape()))?;
    check_variant(ctx, "attention", variant, dims)?;
    let all = [q.shape(), k.shape(), v.shape()];
    check_out("attention", "o", q.shape(), o, &all)?;
    check_out("attention", "lse", &[dims.b, dims.h, dims.tq], lse, &all)?;
    check_f32("attention", &[q, k, v, o, lse])?;
    if variant == AttentionVariant::Texture {
        let mut out = Vec::new();
        let [tq, tk, tv, tmask] = [
            pack(ctx, &mut out, PackedSlot::AttentionQ, q)?,
            pack(ctx, &mut out, PackedSlot::AttentionK, k)?,
            pack(ctx, &mut out, PackedSlot::AttentionV, v)?,
            pack_mask(ctx, &mut out, dims, mask)?,
        ];
        out.push(
            texture_kernel(ctx, "attention_forward_tex", dims, mask)?.dispatch_bindings(
                ctx,
                &texture_params(dims, opts),
                &[
                    Binding::Texture(&tq),
                    Binding::Texture(&tk),
                    Binding::Texture(&tv),
                    Binding::Texture(&tmask),
                    Binding::Tensor(o),
                    Binding::Tensor(lse),
                ],
                texture_grid(ctx, dims, dims.tq)?,
            )?,
        );
        return Ok(out);
    }
    let (p, dummy) = params(ctx, dims, mask, opts)?;
    let mask_t = mask
        .or(dummy.as_ref())
        .ok_or_else(|| Error::Unsupported("attention: no mask binding".into()))?;
    Ok(vec![kernel_for(
        variant,
        ["attention_forward", "attention_forward_hd4"],
        dims.tq.div_ceil(FORWARD_ROWS),
        dims.d,
    )
    .dispatch(
        ctx,
        &p,
        &[q, k, v, mask_t, o, lse],
        grid(dims, dims.tq.div_ceil(FORWARD_ROWS)),
    )?])
}

/// Prepares the backward: `dq`, `dk`, `dv` (shaped like `q`, `k`, `v`) from the forward's
/// inputs, its outputs `o` and `lse`, and the output gradient `do_`. `stats_scratch` is
/// `[B,H,Tq,2]` f32 scratch, written with the pairs `(lse_i, D_i)` by the first pass (packing
/// them keeps the dK/dV pass within 8 storage buffers).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    ctx: &Context,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    o: &Tensor,
    lse: &Tensor,
    do_: &Tensor,
    opts: AttentionOptions,
    stats_scratch: &Tensor,
    dq: &Tensor,
    dk: &Tensor,
    dv: &Tensor,
) -> Result<Vec<Dispatch>> {
    let dims = shape(q.shape(), k.shape(), v.shape(), mask.map(|m| m.shape()))?;
    backward_with(
        ctx,
        variant_for(ctx, dims),
        q,
        k,
        v,
        mask,
        o,
        lse,
        do_,
        opts,
        stats_scratch,
        dq,
        dk,
        dv,
    )
}

/// [`backward`] with an explicit variant (tests run both).
#[allow(clippy::too_many_arguments)]
pub fn backward_with(
    ctx: &Context,
    variant: AttentionVariant,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    o: &Tensor,
    lse: &Tensor,
    do_: &Tensor,
    opts: AttentionOptions,
    stats_scratch: &Tensor,
    dq: &Tensor,
    dk: &Tensor,
    dv: &Tensor,
) -> Result<Vec<Dispatch>> {
    const OP: &str = "attention_backward";
    let dims = shape(q.shape(), k.shape(), v.shape(), mask.map(|m| m.shape()))?;
    check_variant(ctx, OP, variant, dims)?;
    let all = [q.shape(), k.shape(), v.shape()];
    check_out(OP, "o", q.shape(), o, &all)?;
    check_out(OP, "do", q.shape(), do_, &all)?;
    check_out(OP, "lse", &[dims.b, dims.h, dims.tq], lse, &all)?;
    check_out(OP, "the scratch", &stats_shape(dims), stats_scratch, &all)?;
    check_out(OP, "dq", q.shape(), dq, &all)?;
    check_out(OP, "dk", k.shape(), dk, &all)?;
    check_out(OP, "dv", v.shape(), dv, &all)?;
    check_f32(OP, &[q, k, v, o, lse, do_, stats_scratch, dq, dk, dv])?;
    if variant == AttentionVariant::Texture {
        let mut out = Vec::new();
        let [tq, tk, tv, tdo, tmask] = [
            pack(ctx, &mut out, PackedSlot::AttentionQ, q)?,
            pack(ctx, &mut out, PackedSlot::AttentionK, k)?,
            pack(ctx, &mut out, PackedSlot::AttentionV, v)?,
            pack(ctx, &mut out, PackedSlot::AttentionDout, do_)?,
            pack_mask(ctx, &mut out, dims, mask)?,
        ];
        let rows = dims.b * dims.h * dims.tq;
        let tstats = packed(ctx, PackedSlot::AttentionStats, rows)?;
        let p = texture_params(dims, opts);
        out.push(
            texture_kernel(ctx, "attention_backward_preprocess_tex", dims, mask)?
                .dispatch_bindings(
                    ctx,
                    &p,
                    &[
                        Binding::Tensor(o),
                        Binding::Tensor(do_),
                        Binding::Tensor(lse),
                        Binding::Texture(&tstats),
                    ],
                    grid_for(rows, 64),
                )?,
        );
        let inputs = [
            Binding::Texture(&tq),
            Binding::Texture(&tk),
            Binding::Texture(&tv),
            Binding::Texture(&tmask),
            Binding::Texture(&tdo),
            Binding::Texture(&tstats),
        ];
        let dkdv = [&inputs[..], &[Binding::Tensor(dk), Binding::Tensor(dv)]].concat();
        out.push(
            texture_kernel(ctx, "attention_backward_dkdv_tex", dims, mask)?.dispatch_bindings(
                ctx,
                &p,
                &dkdv,
                texture_grid(ctx, dims, dims.tk)?,
            )?,
        );
        let dq_bindings = [&inputs[..], &[Binding::Tensor(dq)]].concat();
        out.push(
            texture_kernel(ctx, "attention_backward_dq_tex", dims, mask)?.dispatch_bindings(
                ctx,
                &p,
                &dq_bindings,
                texture_grid(ctx, dims, dims.tq)?,
            )?,
        );
        return Ok(out);
    }
    let (p, dummy) = params(ctx, dims, mask, opts)?;
    let mask_t = mask
        .or(dummy.as_ref())
        .ok_or_else(|| Error::Unsupported("attention: no mask binding".into()))?;
    // Invocations per (b,h) of the dK/dV and dQ passes.
    let per_inv = match variant {
        AttentionVariant::Generic => 1,
        AttentionVariant::ConstHeadDim | AttentionVariant::Texture => BACKWARD_ROWS_HD4,
    };
    let (rows_k, rows_q) = (dims.tk.div_ceil(per_inv), dims.tq.div_ceil(per_inv));
    Ok(vec![
        kernel("attention_backward_preprocess", dims.tq).dispatch(
            ctx,
            &p,
            &[o, do_, lse, stats_scratch],
            grid(dims, dims.tq),
        )?,
        kernel_for(
            variant,
            ["attention_backward_dkdv", "attention_backward_dkdv_hd4"],
            rows_k,
            dims.d,
        )
        .dispatch(
            ctx,
            &p,
            &[q, k, v, mask_t, do_, stats_scratch, dk, dv],
            grid(dims, rows_k),
        )?,
        kernel_for(
            variant,
            ["attention_backward_dq", "attention_backward_dq_hd4"],
            rows_q,
            dims.d,
        )
        .dispatch(
            ctx,
            &p,
            &[q, k, v, mask_t, do_, stats_scratch, dq],
            grid(dims, rows_q),
        )?,
    ])
}

/// Parameters of `attention_texture.wgsl`'s kernels.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct TextureParams {
    bh: u32,
    heads: u32,
    tq: u32,
    tk: u32,
    scale: f32,
    causal: u32,
    mask_row_texels: u32,
    _pad: u32,
}

/// Parameters of `attention_pack` and `attention_pack_mask`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PackParams {
    texels: u32,
    tk: u32,
    mask_kind: u32,
    _pad: u32,
}

fn texture_params(dims: AttentionDims, opts: AttentionOptions) -> TextureParams {
    TextureParams {
        bh: (dims.b * dims.h) as u32,
        heads: dims.h as u32,
        tq: dims.tq as u32,
        tk: dims.tk as u32,
        scale: opts.scale.unwrap_or(1.0 / (dims.d as f32).sqrt()),
        causal: opts.causal as u32,
        mask_row_texels: dims.tk.div_ceil(4) as u32,
        _pad: 0,
    }
}

fn texture_kernel(
    ctx: &Context,
    entry: &'static str,
    dims: AttentionDims,
    mask: Option<&Tensor>,
) -> Result<Kernel> {
    let tile = texture_tile(ctx, dims)?;
    Ok(Kernel::generated(Generated::AttentionTexture(tile), entry)
        .with("D4", (dims.d / 4) as f64)
        .with("HAS_MASK", mask.is_some() as u8 as f64))
}

/// One workgroup per tile's rows (`8·rows`) of one (b,h): x over the rows, y over B·H.
fn texture_grid(ctx: &Context, dims: AttentionDims, rows: usize) -> Result<[u32; 3]> {
    let per_group = texture_tile(ctx, dims)?.rows_per_group();
    Ok([rows.div_ceil(per_group) as u32, (dims.b * dims.h) as u32, 1])
}

/// The context's texture for `slot`, holding at least `texels`.
fn packed(ctx: &Context, slot: PackedSlot, texels: usize) -> Result<wgpu::TextureView> {
    ctx.packed_texture(slot, texels.max(1) as u64, PACKED_WIDTH)?
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "attention: {texels} texels do not fit one texture on this device"
            ))
        })
}

/// Appends the copy (or, from a host's buffer, the dispatch) packing `src` (`[.., D]`,
/// D % 4 == 0) into `slot`; returns the texture.
fn pack(
    ctx: &Context,
    out: &mut Vec<Dispatch>,
    slot: PackedSlot,
    src: &Tensor,
) -> Result<wgpu::TextureView> {
    let texels = src.numel() / 4;
    let view = packed(ctx, slot, texels)?;
    // The packed layout is the stored one: the queue's copy, where it can (not a host's buffer).
    if let Some(copy) = Dispatch::copy_to_texture(
        ctx,
        "attention_texture.pack_copy",
        src,
        &view,
        texels as u32,
    ) {
        out.push(copy);
        return Ok(view);
    }
    let p = PackParams {
        texels: texels as u32,
        tk: 0,
        mask_kind: 0,
        _pad: 0,
    };
    out.push(
        Kernel::new("attention_texture", "attention_pack").dispatch_bindings(
            ctx,
            &p,
            &[Binding::Tensor(src), Binding::Texture(&view)],
            grid_for(texels, 64),
        )?,
    );
    Ok(view)
}

/// Appends the dispatch packing the key-padding mask as kept flags, if there is one; returns
/// the texture (without a mask, whatever the slot holds: the kernels do not read it then).
fn pack_mask(
    ctx: &Context,
    out: &mut Vec<Dispatch>,
    dims: AttentionDims,
    mask: Option<&Tensor>,
) -> Result<wgpu::TextureView> {
    let texels = dims.b * dims.tk.div_ceil(4);
    let view = packed(ctx, PackedSlot::AttentionMask, texels)?;
    if let Some(m) = mask {
        let p = PackParams {
            texels: texels as u32,
            tk: dims.tk as u32,
            mask_kind: if m.dtype() == DType::F32 { 2 } else { 1 },
            _pad: 0,
        };
        out.push(
            Kernel::new("attention_texture", "attention_pack_mask").dispatch_bindings(
                ctx,
                &p,
                &[Binding::Tensor(m), Binding::Texture(&view)],
                grid_for(texels, 64),
            )?,
        );
    }
    Ok(view)
}

/// Shape of the backward's scratch: `[B,H,Tq,2]`.
pub fn stats_shape(dims: AttentionDims) -> Vec<usize> {
    vec![dims.b, dims.h, dims.tq, 2]
}

/// Runs the forward now and returns `(o, lse)`.
pub fn attention(
    ctx: &Context,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    opts: AttentionOptions,
) -> Result<(Tensor, Tensor)> {
    let dims = shape(q.shape(), k.shape(), v.shape(), mask.map(|m| m.shape()))?;
    let o = Tensor::zeros(ctx, q.shape(), DType::F32)?;
    let lse = Tensor::zeros(ctx, &[dims.b, dims.h, dims.tq], DType::F32)?;
    run(ctx, &forward(ctx, q, k, v, mask, opts, &o, &lse)?)?;
    Ok((o, lse))
}

/// Runs the backward now and returns `(dq, dk, dv)`.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward(
    ctx: &Context,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    o: &Tensor,
    lse: &Tensor,
    do_: &Tensor,
    opts: AttentionOptions,
) -> Result<(Tensor, Tensor, Tensor)> {
    let dims = shape(q.shape(), k.shape(), v.shape(), mask.map(|m| m.shape()))?;
    let stats = Tensor::zeros(ctx, &stats_shape(dims), DType::F32)?;
    let dq = Tensor::zeros(ctx, q.shape(), DType::F32)?;
    let dk = Tensor::zeros(ctx, k.shape(), DType::F32)?;
    let dv = Tensor::zeros(ctx, v.shape(), DType::F32)?;
    run(
        ctx,
        &backward(ctx, q, k, v, mask, o, lse, do_, opts, &stats, &dq, &dk, &dv)?,
    )?;
    Ok((dq, dk, dv))
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// Fused attention `softmax(scale · q kᵀ + masks) v` over `q [B,H,Tq,D]`, `k`, `v`
    /// `[B,H,Tk,D]` and an optional key-padding `mask [B,Tk]` (u32 or f32, 0 masks a key).
    #[track_caller]
    pub fn attention(
        &mut self,
        q: Var,
        k: Var,
        v: Var,
        mask: Option<Var>,
        opts: AttentionOptions,
    ) -> Result<Var> {
        let mut inputs = vec![q, k, v];
        inputs.extend(mask);
        let op = Op::Attention {
            opts,
            mask: mask.is_some(),
        };
        Ok(self.push(op, &inputs)?[0])
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    let mask = match op {
        Op::Attention { mask, .. } | Op::AttentionBackward { mask, .. } => *mask,
        _ => return Err(Error::Graph(format!("{name} is not attention"))),
    };
    let m = mask as usize;
    let forward = matches!(op, Op::Attention { .. });
    check_arity(name, x, if forward { 3 + m } else { 6 + m })?;
    check_f32_meta(name, &x[..3])?;
    let mask_shape = mask.then(|| x[3].shape.as_slice());
    let dims = shape(&x[0].shape, &x[1].shape, &x[2].shape, mask_shape)?;
    let lse = [dims.b, dims.h, dims.tq];
    if forward {
        return Ok(vec![Meta::f32(&x[0].shape), Meta::f32(&lse)]);
    }
    // (q, k, v, [mask], o, lse, do)
    let rest = &x[3 + m..];
    check_f32_meta(name, rest)?;
    if rest[0].shape != x[0].shape || rest[1].shape != lse || rest[2].shape != x[0].shape {
        let all: Vec<&[usize]> = x.iter().map(|m| m.shape.as_slice()).collect();
        return Err(shape_error(
            name,
            "o and do shaped like q, lse [B,H,Tq]",
            &all,
        ));
    }
    Ok(vec![
        Meta::f32(&x[0].shape),
        Meta::f32(&x[1].shape),
        Meta::f32(&x[2].shape),
        Meta::f32(&stats_shape(dims)),
    ])
}

/// FlashAttention-2's backward from the saved log-sum-exp; the mask and lse get no gradient.
pub(crate) fn grad(
    g: &mut Graph,
    opts: AttentionOptions,
    mask: bool,
    a: &GradArgs,
) -> Result<Vec<Option<Var>>> {
    let Some(dout) = a.douts[0] else {
        return Ok(vec![None; a.inputs.len()]);
    };
    let mut inputs = a.inputs.to_vec();
    inputs.extend([a.outputs[0], a.outputs[1], dout]);
    let d = g.push(Op::AttentionBackward { opts, mask }, &inputs)?;
    let mut grads: Vec<Option<Var>> = d[..3].iter().copied().map(Some).collect();
    if mask {
        grads.push(None);
    }
    Ok(grads)
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::Attention { opts, mask } => {
            let m = *mask as usize;
            let (i, o) = io_tensors("attention", io, 3 + m, 2)?;
            let mask_t = mask.then(|| i[3]);
            forward(ctx, i[0], i[1], i[2], mask_t, *opts, o[0], o[1])
        }
        Op::AttentionBackward { opts, mask } => {
            let m = *mask as usize;
            let (i, o) = io_tensors("attention_backward", io, 6 + m, 4)?;
            let mask_t = mask.then(|| i[3]);
            let (out, lse, dout) = (i[3 + m], i[4 + m], i[5 + m]);
            backward(
                ctx, i[0], i[1], i[2], mask_t, out, lse, dout, *opts, o[3], o[0], o[1], o[2],
            )
        }
        _ => Err(Error::Graph(format!("{} is not attention", op.name()))),
    }
}
