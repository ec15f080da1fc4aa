//! `matmul`: batched `C = op(A)·op(B) (+ bias)`, either operand transposed, and its backward,
//! which is matmuls.
//!
//! Dimension letters: B batch (any leading axes, flattened), M×K · K×N.
//! - `a` is `[.., M, K]`, or `[.., K, M]` with `trans_a`; `b` is `[.., K, N]`, or `[.., N, K]`
//!   with `trans_b`. A 2-D operand is broadcast over the other's batch (a shared weight).
//! - `bias`, optional, is `[N]` and added to every row.
//! - backward: `dA = dC·op(B)ᵀ`, `dB = op(A)ᵀ·dC` (each summed over the batch when its operand
//!   was broadcast), `dbias = Σ_rows dC`; written as matmuls, stored in each operand's layout.
//!
//! Kernels: `shaders/matmul/` holds the variants (see [`MatmulVariant`]).

use crate::context::{Context, PackedSlot};
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{
    grid_1d, matmul_choice, run, Binding, Dispatch, Generated, Kernel, MatmulChoice, MatmulTile,
    MatmulVariant,
};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Transposition flags of a matmul.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatmulOptions {
    /// `a` is stored `[.., K, M]`.
    pub trans_a: bool,
    /// `b` is stored `[.., N, K]`.
    pub trans_b: bool,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    pub batch: u32,
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub a_batch_stride: u32,
    pub b_batch_stride: u32,
    pub trans_a: u32,
    pub trans_b: u32,
    pub has_bias: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// The sizes of one matmul, resolved from shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatmulDims {
    /// Output batch axes.
    pub batch_shape: Vec<usize>,
    /// Product of the batch axes.
    pub batch: usize,
    /// Rows of op(A) and C.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of op(B) and C.
    pub n: usize,
    /// `a` has batch axes (else it is broadcast).
    pub a_batched: bool,
    /// `b` has batch axes (else it is broadcast).
    pub b_batched: bool,
}

impl MatmulDims {
    /// The output shape `[batch.., M, N]`.
    pub fn out_shape(&self) -> Vec<usize> {
        let mut s = self.batch_shape.clone();
        s.extend([self.m, self.n]);
        s
    }
}

/// Resolves and checks the shapes of `op(a)·op(b) (+ bias)`.
pub fn dims(
    a: &[usize],
    b: &[usize],
    bias: Option<&[usize]>,
    opts: MatmulOptions,
) -> Result<MatmulDims> {
    let all: Vec<&[usize]> = [Some(a), Some(b), bias].into_iter().flatten().collect();
    if a.len() < 2 || b.len() < 2 || a.iter().chain(b).any(|&d| d == 0) {
        return Err(shape_error(
            "matmul",
            "two non-empty operands with at least 2 axes",
            &all,
        ));
    }
    let (a_rows, a_cols) = (a[a.len() - 2], a[a.len() - 1]);
    let (b_rows, b_cols) = (b[b.len() - 2], b[b.len() - 1]);
    let (m, k) = if opts.trans_a {
        (a_cols, a_rows)
    } else {
        (a_rows, a_cols)
    };
    let (kb, n) = if opts.trans_b {
        (b_cols, b_rows)
    } else {
        (b_rows, b_cols)
    };
    if k != kb {
        let expected = format!(
            "inner dimensions to agree (op(a) is {m}x{k}, op(b) is {kb}x{n}; trans_a {}, trans_b {})",
            opts.trans_a, opts.trans_b
        );
        return Err(shape_error("matmul", expected, &all));
    }
    let a_batch = &a[..a.len() - 2];
    let b_batch = &b[..b.len() - 2];
    let batch_shape = match (a_batch.is_empty(), b_batch.is_empty()) {
        (_, true) => a_batch.to_vec(),
        (true, false) => b_batch.to_vec(),
        (false, false) if a_batch == b_batch => a_batch.to_vec(),
        _ => {
            return Err(shape_error(
                "matmul",
                "equal batch axes, or one operand 2-D (broadcast)",
                &all,
            ))
        }
    };
    if let Some(bs) = bias {
        if bs != [n] {
            return Err(shape_error("matmul", format!("bias of shape [{n}]"), &all));
        }
    }
    Ok(MatmulDims {
        batch: batch_shape.iter().product(),
        batch_shape,
        m,
        k,
        n,
        a_batched: !a_batch.is_empty(),
        b_batched: !b_batch.is_empty(),
    })
}

/// The variant this context uses for matmuls: measured once per adapter and remembered on
/// disk (see [`crate::kernels::matmul_choice`]); `KILN_MATMUL=naive|register|workgroup|texture`
/// pins it.
pub fn variant(ctx: &Context) -> MatmulVariant {
    choice(ctx).variant
}

/// The variant this context uses for matmuls and how it was decided, for reports.
pub fn choice(ctx: &Context) -> &MatmulChoice {
    ctx.matmul_choice.get_or_init(|| matmul_choice(ctx))
}

/// Prepares `c = op(a)·op(b) (+ bias)` into `c`, with the context's variant: one dispatch, or
/// three for [`MatmulVariant::Texture`] (pack A, pack B, multiply).
pub fn forward(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    opts: MatmulOptions,
) -> Result<Vec<Dispatch>> {
    forward_with(ctx, variant(ctx), a, b, bias, c, opts)
}

/// The texture kernel's tile on this context: the one its options pin or its matmul choice
/// measured ([`choice`]).
pub fn tile(ctx: &Context) -> MatmulTile {
    choice(ctx).tile
}

/// Prepares a matmul with an explicit variant (for tests and benchmarks); a texture matmul
/// uses the context's [`tile`].
pub fn forward_with(
    ctx: &Context,
    variant: MatmulVariant,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    opts: MatmulOptions,
) -> Result<Vec<Dispatch>> {
    let tile = match variant {
        MatmulVariant::Texture => tile(ctx),
        _ => MatmulTile::ALL[0],
    };
    forward_with_tile(ctx, variant, tile, a, b, bias, c, opts)
}

/// Prepares a matmul with an explicit variant and, for the texture variant, tile (for tests,
/// benchmarks and the variant race). A tile with broadcast needs subgroups
/// ([`Context::subgroups`]): without them it is an error.
#[allow(clippy::too_many_arguments)]
pub fn forward_with_tile(
    ctx: &Context,
    variant: MatmulVariant,
    tile: MatmulTile,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    opts: MatmulOptions,
) -> Result<Vec<Dispatch>> {
    let d = dims(a.shape(), b.shape(), bias.map(|t| t.shape()), opts)?;
    if c.shape() != d.out_shape() {
        return Err(shape_error(
            "matmul",
            format!("output of shape {:?}", d.out_shape()),
            &[a.shape(), b.shape(), c.shape()],
        ));
    }
    check_f32("matmul", &[a, b, c])?;
    let dummy;
    let bias_t = match bias {
        Some(t) => {
            check_f32("matmul", &[t])?;
            t
        }
        None => {
            dummy = Tensor::placeholder(ctx, DType::F32)?;
            &dummy
        }
    };
    // A kernel whose loop over K would outrun the driver's loop budget gives a wrong C without
    // a word; the texture kernel (4 K per pass) may still fit where the others do not.
    let fits = |v| crate::kernels::loops_fit(ctx, loop_trips(v, d.k));
    let variant = if fits(variant) || !fits(MatmulVariant::Texture) {
        variant
    } else {
        MatmulVariant::Texture
    };
    if variant == MatmulVariant::Texture && fits(MatmulVariant::Texture) {
        let texture = texture_forward(ctx, tile, &d, opts, a, b, bias_t, c, bias.is_some())?;
        if let Some(dispatches) = texture {
            return Ok(dispatches);
        }
    }
    // The texture variant gets here for operands its textures cannot hold: `launch` gives it
    // the register kernel.
    let fallback = match variant {
        MatmulVariant::Texture => MatmulVariant::Register,
        v => v,
    };
    if !fits(fallback) {
        return Err(Error::Unsupported(format!(
            "matmul: the contraction over K = {} ({:?} by {:?}) would need more than {} loop \
             passes in one invocation, where this driver ({}) stops loops without an error, so \
             the result would be wrong; use smaller operands (a smaller batch for a weight \
             gradient) or a GPU",
            d.k,
            a.shape(),
            b.shape(),
            crate::kernels::CPU_LOOP_LIMIT,
            ctx.adapter_info().name
        )));
    }
    let p = params(&d, opts, bias.is_some());
    let (kernel, grid) = launch(variant, &d);
    Ok(vec![kernel.dispatch(ctx, &p, &[a, b, bias_t, c], grid)?])
}

/// Parameters of `texture.wgsl`'s packs.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PackParams {
    rows: u32,
    cols: u32,
    row_texels: u32,
    src_batch_stride: u32,
    texels: u32,
    transpose: u32,
    _pad: [u32; 2],
}

/// Parameters of `texture.wgsl`'s `matmul_forward`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct TextureParams {
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
    a_batch_texels: u32,
    b_batch_texels: u32,
    a_row_texels: u32,
    b_row_texels: u32,
    k_steps: u32,
    has_bias: u32,
    lanes_n: u32,
    _pad1: u32,
}

/// Width in texels of the packed-operand textures (`texel_at` in `texture.wgsl`).
pub(crate) const PACKED_WIDTH: u32 = 4096;

/// One operand as stored, `rows` of `cols` contiguous values per batch, and how it is packed:
/// as op(A) or op(B) row-major, 4 values a texel, so that the pack copies an operand stored as
/// it is used and transposes one stored transposed (`transpose`).
pub(crate) struct Packing {
    rows: usize,
    cols: usize,
    batches: usize,
    transpose: bool,
}

impl Packing {
    /// `rows` x `cols` as stored, one batch; `transpose` when it is stored transposed.
    pub(crate) fn new(rows: usize, cols: usize, transpose: bool) -> Packing {
        Packing {
            rows,
            cols,
            batches: 1,
            transpose,
        }
    }

    /// Texels per packed row, in fours: K for A, N for B.
    fn row_texels(&self) -> usize {
        if self.transpose {
            self.rows.div_ceil(4)
        } else {
            self.cols.div_ceil(4)
        }
    }
    /// Packed rows per batch: M of A, K of B.
    fn packed_rows(&self) -> usize {
        if self.transpose {
            self.cols
        } else {
            self.rows
        }
    }
    fn batch_texels(&self) -> usize {
        self.packed_rows() * self.row_texels()
    }
    fn texels(&self) -> usize {
        self.batches * self.batch_texels()
    }
    /// The pack's entry point, its invocations and its workgroups (of 64). A contiguous axis in
    /// whole texels is read with vec4 loads: one per texel copying, four per 4x4 block
    /// transposing, whose workgroups each cover 4 x 16 blocks.
    fn entry(&self) -> (&'static str, usize, usize) {
        let whole = self.cols.is_multiple_of(4);
        let copy_groups = |invocations: usize| invocations.div_ceil(64);
        match (self.transpose, whole) {
            (false, true) => ("matmul_pack4", self.texels(), copy_groups(self.texels())),
            (false, false) | (true, false) => {
                ("matmul_pack", self.texels(), copy_groups(self.texels()))
            }
            (true, true) => {
                let tiles = (self.cols / 4).div_ceil(4) * self.row_texels().div_ceil(16);
                ("matmul_pack_t4", self.texels() / 4, self.batches * tiles)
            }
        }
    }
}

/// Where one operand of the texture multiply comes from.
pub(crate) enum Operand<'a> {
    /// A tensor as stored, which matmul's own pack copies or transposes.
    Stored(Packing, &'a Tensor),
    /// A producer that writes the operand's texels itself, in the packed layout (op(A) or op(B)
    /// row-major: A's M rows of K, B's K rows of N, in texels of 4 with zeros past the row's
    /// end; no batch), into the texture it is given: conv2d's im2col, which so needs neither
    /// its scratch matrix nor a pack of it.
    Produced(&'a dyn Fn(&wgpu::TextureView) -> Result<Dispatch>),
}

impl Operand<'_> {
    /// Texels per batch and in all, for an operand packed as `rows` rows of `cols`.
    fn layout(&self, rows: usize, cols: usize) -> (usize, usize) {
        match self {
            Operand::Stored(p, _) => (p.batch_texels(), p.texels()),
            Operand::Produced(_) => (rows * cols.div_ceil(4), rows * cols.div_ceil(4)),
        }
    }
}

/// The pack, pack, multiply dispatches of the texture variant, or `None` when an operand does
/// not fit the device's textures (the caller then uses the register kernel).
#[allow(clippy::too_many_arguments)]
fn texture_forward(
    ctx: &Context,
    tile: MatmulTile,
    d: &MatmulDims,
    opts: MatmulOptions,
    a: &Tensor,
    b: &Tensor,
    bias: &Tensor,
    c: &Tensor,
    has_bias: bool,
) -> Result<Option<Vec<Dispatch>>> {
    let batches = |batched: bool| if batched { d.batch } else { 1 };
    // A is stored [M, K], or [K, M] transposed; B [K, N], or [N, K] transposed. Each is packed
    // as op(A), op(B) row-major.
    let (rows, cols) = if opts.trans_a { (d.k, d.m) } else { (d.m, d.k) };
    let pa = Packing {
        rows,
        cols,
        batches: batches(d.a_batched),
        transpose: opts.trans_a,
    };
    let (rows, cols) = if opts.trans_b { (d.n, d.k) } else { (d.k, d.n) };
    let pb = Packing {
        rows,
        cols,
        batches: batches(d.b_batched),
        transpose: opts.trans_b,
    };
    texture_multiply(
        ctx,
        tile,
        d,
        Operand::Stored(pa, a),
        Operand::Stored(pb, b),
        bias,
        c,
        has_bias,
    )
}

/// `c [M, N] = a · b` on the texture kernel with operands a producer may pack itself (see
/// [`Operand::Produced`]), no bias, no batch; `None` when the context's matmul is not the
/// texture variant there (its choice, the driver's loop budget, the operands' size), and the
/// caller then takes its unfused path.
pub(crate) fn texture_forward_from(
    ctx: &Context,
    (m, k, n): (usize, usize, usize),
    a: Operand,
    b: Operand,
    c: &Tensor,
) -> Result<Option<Vec<Dispatch>>> {
    let texture = MatmulVariant::Texture;
    if variant(ctx) != texture || !crate::kernels::loops_fit(ctx, loop_trips(texture, k)) {
        return Ok(None);
    }
    let d = MatmulDims {
        batch: 1,
        batch_shape: Vec::new(),
        m,
        k,
        n,
        a_batched: false,
        b_batched: false,
    };
    let bias = Tensor::placeholder(ctx, DType::F32)?;
    texture_multiply(ctx, tile(ctx), &d, a, b, &bias, c, false)
}

/// The texture variant's dispatches: each operand packed (by matmul's packs or its producer),
/// then the multiply; `None` when an operand does not fit the device's textures.
#[allow(clippy::too_many_arguments)]
fn texture_multiply(
    ctx: &Context,
    tile: MatmulTile,
    d: &MatmulDims,
    a: Operand,
    b: Operand,
    bias: &Tensor,
    c: &Tensor,
    has_bias: bool,
) -> Result<Option<Vec<Dispatch>>> {
    if tile.broadcast && !ctx.subgroups() {
        return Err(Error::Unsupported(format!(
            "matmul: the texture tile {} hands operands round with subgroup broadcasts, and \
             this device ({}) has no subgroups of 8 lanes; use a tile without broadcast ({})",
            tile.name(),
            ctx.adapter_info().name,
            MatmulTile::ALL[0].name()
        )));
    }
    let module = Generated::MatmulTexture(tile);
    let (a_batch_texels, a_texels) = a.layout(d.m, d.k);
    let (b_batch_texels, b_texels) = b.layout(d.k, d.n);
    if a_texels.max(b_texels) > u32::MAX as usize {
        return Ok(None);
    }
    let Some(ta) = ctx.packed_texture(PackedSlot::MatmulA, a_texels as u64, PACKED_WIDTH)? else {
        return Ok(None);
    };
    let Some(tb) = ctx.packed_texture(PackedSlot::MatmulB, b_texels as u64, PACKED_WIDTH)? else {
        return Ok(None);
    };
    let pack = |operand: &Operand, view: &wgpu::TextureView| match operand {
        Operand::Produced(produce) => produce(view),
        Operand::Stored(p, src) => {
            let (entry, invocations, groups) = p.entry();
            // Copying whole texels keeps the stored layout: the queue's copy, not a kernel.
            if entry == "matmul_pack4" {
                let copy = Dispatch::copy_to_texture(
                    ctx,
                    "matmul_texture.pack_copy",
                    src,
                    view,
                    invocations as u32,
                );
                if let Some(copy) = copy {
                    return Ok(copy);
                }
            }
            let params = PackParams {
                rows: p.rows as u32,
                cols: p.cols as u32,
                row_texels: p.row_texels() as u32,
                src_batch_stride: (p.rows * p.cols) as u32,
                texels: invocations as u32,
                transpose: p.transpose as u32,
                _pad: [0; 2],
            };
            Kernel::generated(module, entry).dispatch_bindings(
                ctx,
                &params,
                &[Binding::Tensor(src), Binding::Texture(view)],
                grid_1d(groups as u32),
            )
        }
    };
    let (tm, tn) = (tile.rows, tile.cols);
    // Lanes along N: as many as N has column blocks for, the rest of the 8 along M.
    let lanes_n = match d.n.div_ceil(tn) {
        1 => 1,
        2 => 2,
        3 | 4 => 4,
        _ => 8,
    };
    let lanes_m = 8 / lanes_n;
    let row_texels = d.k.div_ceil(4) as u32;
    let params = TextureParams {
        batch: d.batch as u32,
        m: d.m as u32,
        n: d.n as u32,
        k: d.k as u32,
        a_batch_texels: if d.a_batched {
            a_batch_texels as u32
        } else {
            0
        },
        b_batch_texels: if d.b_batched {
            b_batch_texels as u32
        } else {
            0
        },
        a_row_texels: row_texels,
        b_row_texels: d.n.div_ceil(4) as u32,
        k_steps: row_texels,
        has_bias: has_bias as u32,
        lanes_n: lanes_n as u32,
        _pad1: 0,
    };
    let grid = [
        d.n.div_ceil(lanes_n * tn) as u32,
        d.m.div_ceil(lanes_m * tm) as u32,
        d.batch as u32,
    ];
    // Rows of C in whole vec4s take the vec4 stores (same bindings, binding 4 read as vec4s).
    // With broadcast, lanes that all share A's rows (or all B's columns) fetch them once
    // between them; the lanes of a split layout fetch their own.
    let entry = match (d.n.is_multiple_of(4), tile.broadcast, lanes_n) {
        (true, true, 8) => "matmul_forward4_share_a",
        (true, true, 1) => "matmul_forward4_share_b",
        (false, true, 8) => "matmul_forward_share_a",
        (false, true, 1) => "matmul_forward_share_b",
        (true, _, _) => "matmul_forward4",
        (false, _, _) => "matmul_forward",
    };
    let multiply = Kernel::generated(module, entry).dispatch_bindings(
        ctx,
        &params,
        &[
            Binding::Texture(&ta),
            Binding::Texture(&tb),
            Binding::Tensor(bias),
            Binding::Tensor(c),
        ],
        grid,
    )?;
    Ok(Some(vec![pack(&a, &ta)?, pack(&b, &tb)?, multiply]))
}

/// Rows and columns of C one workgroup of `register.wgsl`'s `matmul_forward` covers.
const REGISTER_TILE: (usize, usize) = (32, 256);
/// The same for its `matmul_forward_narrow`, used when N is at most [`NARROW_N`].
const REGISTER_NARROW_TILE: (usize, usize) = (128, 64);
/// Up to this N the wide register tile would mostly compute columns it then discards.
const NARROW_N: usize = 128;
/// Rows and columns of C one workgroup of `workgroup.wgsl` covers.
const WORKGROUP_TILE: (usize, usize) = (64, 64);

/// Loop passes one invocation of `variant` makes over an inner dimension `k` (each loop's
/// trips + 1): the naive and register kernels step K one at a time, the texture kernel four
/// (a texel), the workgroup kernel through 16-wide tiles with an inner loop each (measured on
/// llvmpipe at M = N = 4: naive and register exact to K = 65,535, texture at 70,000 and wrong
/// at 300,000, workgroup already wrong at 65,530).
fn loop_trips(variant: MatmulVariant, k: usize) -> u64 {
    let k = k as u64;
    match variant {
        MatmulVariant::Naive | MatmulVariant::Register => k + 1,
        MatmulVariant::Texture => k.div_ceil(4) + 1,
        MatmulVariant::Workgroup => k + k.div_ceil(16) + 2,
    }
}

/// The kernel and grid of a forward matmul of `d` with `variant`.
fn launch(variant: MatmulVariant, d: &MatmulDims) -> (Kernel, [u32; 3]) {
    let (shader, entry, (tm, tn)) = match variant {
        MatmulVariant::Naive => ("matmul_naive", "matmul_forward", (16, 16)),
        // Texture gets here only for operands that do not fit a texture.
        MatmulVariant::Register | MatmulVariant::Texture if d.n <= NARROW_N => (
            "matmul_register",
            "matmul_forward_narrow",
            REGISTER_NARROW_TILE,
        ),
        MatmulVariant::Register | MatmulVariant::Texture => {
            ("matmul_register", "matmul_forward", REGISTER_TILE)
        }
        MatmulVariant::Workgroup => ("matmul_workgroup", "matmul_forward", WORKGROUP_TILE),
    };
    let grid = [
        d.n.div_ceil(tn) as u32,
        d.m.div_ceil(tm) as u32,
        d.batch as u32,
    ];
    (Kernel::new(shader, entry), grid)
}

/// Runs `op(a)·op(b) (+ bias)` now.
pub fn matmul(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    opts: MatmulOptions,
) -> Result<Tensor> {
    let d = dims(a.shape(), b.shape(), bias.map(|t| t.shape()), opts)?;
    let c = Tensor::zeros(ctx, &d.out_shape(), DType::F32)?;
    run(ctx, &forward(ctx, a, b, bias, &c, opts)?)?;
    Ok(c)
}

/// Forward parameters of `op(a)·op(b)` for dims `d`.
fn params(d: &MatmulDims, opts: MatmulOptions, has_bias: bool) -> Params {
    Params {
        batch: d.batch as u32,
        m: d.m as u32,
        n: d.n as u32,
        k: d.k as u32,
        a_batch_stride: if d.a_batched { (d.m * d.k) as u32 } else { 0 },
        b_batch_stride: if d.b_batched { (d.k * d.n) as u32 } else { 0 },
        trans_a: opts.trans_a as u32,
        trans_b: opts.trans_b as u32,
        has_bias: has_bias as u32,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    }
}

/// Prepares `out = Σ_batch op(x)·op(y)`: the gradient of an operand broadcast over the batch.
fn batch_sum(
    ctx: &Context,
    x: &Tensor,
    y: &Tensor,
    out: &Tensor,
    opts: MatmulOptions,
) -> Result<Dispatch> {
    let d = dims(x.shape(), y.shape(), None, opts)?;
    if out.shape() != [d.m, d.n] {
        return Err(shape_error(
            "matmul_backward",
            format!("a broadcast operand's gradient of shape [{}, {}]", d.m, d.n),
            &[x.shape(), y.shape(), out.shape()],
        ));
    }
    let grid = [d.n.div_ceil(16) as u32, d.m.div_ceil(16) as u32, 1];
    Kernel::new("matmul_naive", "matmul_backward_batch_sum").dispatch(
        ctx,
        &params(&d, opts, false),
        &[x, y, out],
        grid,
    )
}

/// Prepares the gradients of `c = op(a)·op(b) (+ bias)` from `dc` into whichever of `da`, `db`,
/// `dbias` are given (each shaped like its input). Each gradient is a matmul laid out so that it
/// comes out in its operand's stored layout; an operand broadcast over the batch gets the sum
/// over the batch, folded into the contraction where the layout allows.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    dc: &Tensor,
    opts: MatmulOptions,
    da: Option<&Tensor>,
    db: Option<&Tensor>,
    dbias: Option<&Tensor>,
) -> Result<Vec<Dispatch>> {
    let d = dims(a.shape(), b.shape(), None, opts)?;
    let mut shapes_ok = dc.shape() == d.out_shape();
    shapes_ok &= da.is_none_or(|t| t.shape() == a.shape());
    shapes_ok &= db.is_none_or(|t| t.shape() == b.shape());
    shapes_ok &= dbias.is_none_or(|t| t.shape() == [d.n]);
    if !shapes_ok {
        let mut got = vec![a.shape(), b.shape(), dc.shape()];
        got.extend([da, db, dbias].into_iter().flatten().map(|t| t.shape()));
        return Err(shape_error(
            "matmul_backward",
            format!(
                "dc of shape {:?} and da, db, dbias shaped like a, b and [{}]",
                d.out_shape(),
                d.n
            ),
            &got,
        ));
    }
    let v = variant(ctx);
    let mut out = Vec::new();
    if let Some(da) = da {
        // dA = dC·op(B)ᵀ, or stored transposed: dAᵀ = op(B)·dCᵀ.
        let (x, y, o) = if opts.trans_a {
            (
                b,
                dc,
                MatmulOptions {
                    trans_a: opts.trans_b,
                    trans_b: true,
                },
            )
        } else {
            (
                dc,
                b,
                MatmulOptions {
                    trans_a: false,
                    trans_b: !opts.trans_b,
                },
            )
        };
        if !d.a_batched && d.b_batched {
            out.push(batch_sum(ctx, x, y, da, o)?);
        } else {
            out.extend(forward_with(ctx, v, x, y, None, da, o)?);
        }
    }
    if let Some(db) = db {
        // dB = op(A)ᵀ·dC, or stored transposed: dBᵀ = dCᵀ·op(A).
        let (x, y, o) = if opts.trans_b {
            (
                dc,
                a,
                MatmulOptions {
                    trans_a: true,
                    trans_b: opts.trans_a,
                },
            )
        } else {
            (
                a,
                dc,
                MatmulOptions {
                    trans_a: !opts.trans_a,
                    trans_b: false,
                },
            )
        };
        if !d.b_batched && d.a_batched {
            if opts.trans_a {
                out.push(batch_sum(ctx, x, y, db, o)?);
            } else {
                // A is [B·M, K] and dC is [B·M, N] in memory: the batch folds into the rows
                // the product contracts over, which sums it for free.
                let rows = d.batch * d.m;
                let a2 = a.reshape(&[rows, d.k])?;
                let dc2 = dc.reshape(&[rows, d.n])?;
                let (x, y) = if opts.trans_b {
                    (&dc2, &a2)
                } else {
                    (&a2, &dc2)
                };
                out.extend(forward_with(ctx, v, x, y, None, db, o)?);
            }
        } else {
            out.extend(forward_with(ctx, v, x, y, None, db, o)?);
        }
    }
    if let Some(dbias) = dbias {
        check_f32("matmul_backward", &[dc, dbias])?;
        // dbias = Σ_rows dC over all batch·M rows: reduce's column sums, which cut B·T rows
        // into slices (one invocation per column looped 2,048 rows on one core).
        let rows = dc.reshape(&[d.batch * d.m, d.n])?;
        out.extend(super::reduce::prepare_reduce(
            ctx,
            &rows,
            0,
            super::reduce::Reduction::Sum,
            dbias,
        )?);
    }
    Ok(out)
}

/// Runs the backward now: `(da, db, dbias)`, `dbias` only when `with_bias`.
pub fn matmul_backward(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    dc: &Tensor,
    opts: MatmulOptions,
    with_bias: bool,
) -> Result<(Tensor, Tensor, Option<Tensor>)> {
    let d = dims(a.shape(), b.shape(), None, opts)?;
    let da = Tensor::zeros(ctx, a.shape(), DType::F32)?;
    let db = Tensor::zeros(ctx, b.shape(), DType::F32)?;
    let dbias = if with_bias {
        Some(Tensor::zeros(ctx, &[d.n], DType::F32)?)
    } else {
        None
    };
    let dispatches = backward(ctx, a, b, dc, opts, Some(&da), Some(&db), dbias.as_ref())?;
    run(ctx, &dispatches)?;
    Ok((da, db, dbias))
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// `a·b`: `a [.., M, K]`, `b [.., K, N]` (a 2-D operand is broadcast over the other's batch).
    #[track_caller]
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_with(a, b, None, MatmulOptions::default())
    }

    /// `op(a)·op(b) (+ bias)` with the given transpositions and an optional bias `[N]`.
    #[track_caller]
    pub fn matmul_with(
        &mut self,
        a: Var,
        b: Var,
        bias: Option<Var>,
        opts: MatmulOptions,
    ) -> Result<Var> {
        let mut inputs = vec![a, b];
        inputs.extend(bias);
        self.push1(
            Op::Matmul {
                opts,
                bias: bias.is_some(),
            },
            &inputs,
        )
    }
}

pub(crate) fn infer(opts: MatmulOptions, bias: bool, x: &[&Meta]) -> Result<Vec<Meta>> {
    check_arity("matmul", x, 2 + bias as usize)?;
    check_f32_meta("matmul", x)?;
    let bias_shape = x.get(2).map(|m| m.shape.as_slice());
    let d = dims(&x[0].shape, &x[1].shape, bias_shape, opts)?;
    Ok(vec![Meta::f32(&d.out_shape())])
}

/// `x = (a, b, dc)`; outputs are the wanted gradients, each shaped like its operand.
pub(crate) fn infer_backward(op: &Op, wants: [bool; 3], x: &[&Meta]) -> Result<Vec<Meta>> {
    check_arity(op.name(), x, 3)?;
    check_f32_meta(op.name(), x)?;
    let Op::MatmulBackward { opts, .. } = op else {
        return Err(Error::Graph(format!(
            "{} is not a matmul backward",
            op.name()
        )));
    };
    let d = dims(&x[0].shape, &x[1].shape, None, *opts)?;
    if x[2].shape != d.out_shape() {
        return Err(shape_error(
            "matmul_backward",
            format!("dc shaped like the product, {:?}", d.out_shape()),
            &[&x[0].shape, &x[1].shape, &x[2].shape],
        ));
    }
    let shapes = [x[0].shape.clone(), x[1].shape.clone(), vec![d.n]];
    Ok(shapes
        .iter()
        .zip(wants)
        .filter(|(_, w)| *w)
        .map(|(s, _)| Meta::f32(s))
        .collect())
}

/// `dA = dC·op(B)ᵀ`, `dB = op(A)ᵀ·dC`, `dbias = Σ_rows dC`: one backward node producing the
/// wanted ones.
pub(crate) fn grad(
    g: &mut Graph,
    opts: MatmulOptions,
    bias: bool,
    a: &GradArgs,
) -> Result<Vec<Option<Var>>> {
    let Some(dc) = a.douts[0] else {
        return Ok(vec![None; a.inputs.len()]);
    };
    let wants = [a.wants[0], a.wants[1], bias && a.wants[2]];
    let op = Op::MatmulBackward {
        opts,
        da: wants[0],
        db: wants[1],
        dbias: wants[2],
    };
    let mut made = g.push(op, &[a.inputs[0], a.inputs[1], dc])?.into_iter();
    let mut grads: Vec<Option<Var>> = wants
        .iter()
        .map(|&w| if w { made.next() } else { None })
        .collect();
    grads.truncate(a.inputs.len());
    Ok(grads)
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    match op {
        Op::Matmul { opts, bias } => {
            let (i, o) = io_tensors("matmul", io, 2 + *bias as usize, 1)?;
            forward(ctx, i[0], i[1], i.get(2).copied(), o[0], *opts)
        }
        Op::MatmulBackward {
            opts,
            da,
            db,
            dbias,
        } => {
            let count = [*da, *db, *dbias].iter().filter(|w| **w).count();
            let (i, o) = io_tensors("matmul_backward", io, 3, count)?;
            let mut outs = o.iter().copied();
            let da = if *da { outs.next() } else { None };
            let db = if *db { outs.next() } else { None };
            let dbias = if *dbias { outs.next() } else { None };
            backward(ctx, i[0], i[1], i[2], *opts, da, db, dbias)
        }
        _ => Err(Error::Graph(format!("{} is not a matmul", op.name()))),
    }
}
