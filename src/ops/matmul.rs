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

use crate::context::Context;
use crate::error::{shape_error, Result};
use crate::kernels::{run, Dispatch, Kernel, MatmulVariant};
use crate::tensor::{DType, Tensor};

use super::check_f32;

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
const _: () = assert!(std::mem::size_of::<Params>() % 16 == 0);

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

/// The variant this context uses for matmuls.
pub fn variant(_ctx: &Context) -> MatmulVariant {
    MatmulVariant::Naive
}

/// Prepares `c = op(a)·op(b) (+ bias)` into `c`, with the context's variant.
pub fn forward(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    opts: MatmulOptions,
) -> Result<Dispatch> {
    forward_with(ctx, variant(ctx), a, b, bias, c, opts)
}

/// Prepares a matmul with an explicit variant (for tests and benchmarks).
pub fn forward_with(
    ctx: &Context,
    variant: MatmulVariant,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    opts: MatmulOptions,
) -> Result<Dispatch> {
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
            dummy = Tensor::zeros(ctx, &[1], DType::F32)?;
            &dummy
        }
    };
    let p = Params {
        batch: d.batch as u32,
        m: d.m as u32,
        n: d.n as u32,
        k: d.k as u32,
        a_batch_stride: if d.a_batched { (d.m * d.k) as u32 } else { 0 },
        b_batch_stride: if d.b_batched { (d.k * d.n) as u32 } else { 0 },
        trans_a: opts.trans_a as u32,
        trans_b: opts.trans_b as u32,
        has_bias: bias.is_some() as u32,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    let (kernel, grid) = launch(variant, &d);
    kernel.dispatch(ctx, &p, &[a, b, bias_t, c], grid)
}

/// Rows and columns of C one workgroup of `register.wgsl` covers (its TM, and WG·TN).
const REGISTER_TILE: (usize, usize) = (16, 64);
/// Rows and columns of C one workgroup of `workgroup.wgsl` covers.
const WORKGROUP_TILE: (usize, usize) = (64, 64);

/// The kernel and grid of a forward matmul of `d` with `variant`.
fn launch(variant: MatmulVariant, d: &MatmulDims) -> (Kernel, [u32; 3]) {
    let (shader, (tm, tn)) = match variant {
        MatmulVariant::Naive => ("matmul_naive", (16, 16)),
        MatmulVariant::Register => ("matmul_register", REGISTER_TILE),
        MatmulVariant::Workgroup => ("matmul_workgroup", WORKGROUP_TILE),
    };
    let grid = [
        d.n.div_ceil(tn) as u32,
        d.m.div_ceil(tm) as u32,
        d.batch as u32,
    ];
    (Kernel::new(shader, "matmul_forward"), grid)
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
    run(ctx, &[forward(ctx, a, b, bias, &c, opts)?])?;
    Ok(c)
}
