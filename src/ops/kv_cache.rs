//! `kv_append`: one decoding step's keys and values written into a self-attention cache in
//! place, so that generating N tokens costs N one-position steps instead of N full windows.
//!
//! Dimension letters: B batch, H heads, T the cache's window, Dh head width, D = H·Dh.
//! - `keys`, `values` `[B, H, T, Dh]` f32: the cache, head-split as [`attention`] reads its
//!   keys; plan inputs or parameters that the op writes in place (never trained).
//! - `k`, `v` `[B, 1, D]`: the new position's projections, heads side by side.
//! - `position` `[B]` u32: where each row's new entry goes.
//! - output `mask` `[B, T]` u32: 1 where `t <= position[b]`, the key-padding mask under which
//!   attention over the cache sees exactly the positions written so far. Taking the mask as
//!   attention's input is also what orders the append before the read in a plan.
//!
//! No gradient: a cache belongs to an eval plan. Kernel: `shaders/kv_cache.wgsl`.
//!
//! [`attention`]: super::attention

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::{check_arity, check_f32, io_tensors, Lowering, Op};

/// Invocations per workgroup in `shaders/kv_cache.wgsl`.
const WG: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    heads: u32,
    window: u32,
    head_dim: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// The mask's shape `[B, T]` for a cache `[B, H, T, Dh]`, new rows `[B, 1, H·Dh]` (both `k` and
/// `v`) and positions `[B]`.
pub fn shape(cache: &[usize], new: &[usize], position: &[usize]) -> Result<Vec<usize>> {
    let ok = match (cache, new, position) {
        (&[b, h, t, dh], &[bn, 1, d], &[bp]) => {
            b > 0 && h > 0 && t > 0 && dh > 0 && bn == b && bp == b && d == h * dh
        }
        _ => false,
    };
    if !ok {
        return Err(shape_error(
            "kv_append",
            "a cache [B, H, T, Dh], new keys and values [B, 1, H·Dh] and positions [B], all > 0",
            &[cache, new, position],
        ));
    }
    if crate::tensor::numel(cache) > u32::MAX as usize {
        return Err(shape_error(
            "kv_append",
            "a cache of fewer than 2^32 elements",
            &[cache],
        ));
    }
    Ok(vec![cache[0], cache[2]])
}

/// Prepares the append: `k`, `v` into `keys`, `values` at `position`, and the visibility `mask`.
pub fn append(
    ctx: &Context,
    caches: [&Tensor; 2],
    new: [&Tensor; 2],
    position: &Tensor,
    mask: &Tensor,
) -> Result<Dispatch> {
    let [keys, values] = caches;
    let [k, v] = new;
    let want = shape(keys.shape(), k.shape(), position.shape())?;
    if values.shape() != keys.shape() || v.shape() != k.shape() || mask.shape() != want {
        return Err(shape_error(
            "kv_append",
            format!("keys and values of one shape, k and v of one shape, and a mask {want:?}"),
            &[
                keys.shape(),
                values.shape(),
                k.shape(),
                v.shape(),
                mask.shape(),
            ],
        ));
    }
    check_f32("kv_append", &[keys, values, k, v])?;
    for (what, t) in [("position", position), ("mask", mask)] {
        if t.dtype() != DType::U32 {
            return Err(Error::DType {
                op: "kv_append",
                message: format!("{what} must be u32, got {:?}", t.dtype()),
            });
        }
    }
    let s = keys.shape();
    let p = Params {
        batch: s[0] as u32,
        heads: s[1] as u32,
        window: s[2] as u32,
        head_dim: s[3] as u32,
    };
    let span = s[2].max(s[1] * s[3]);
    Kernel::new("kv_cache", "kv_append").dispatch(
        ctx,
        &p,
        &[keys, values, k, v, position, mask],
        grid_for(s[0] * span, WG),
    )
}

/// Runs the append now and returns the mask.
pub fn kv_append(
    ctx: &Context,
    caches: [&Tensor; 2],
    new: [&Tensor; 2],
    position: &Tensor,
) -> Result<Tensor> {
    let want = shape(caches[0].shape(), new[0].shape(), position.shape())?;
    let mask = Tensor::zeros(ctx, &want, DType::U32)?;
    run(ctx, &[append(ctx, caches, new, position, &mask)?])?;
    Ok(mask)
}

// ---- graph: builder, shape rule, lowering ----

impl Graph {
    /// Writes `k`, `v` `[B, 1, H·Dh]` into the caches `keys`, `values` `[B, H, T, Dh]` (inputs
    /// or parameters, updated in place each step) at `position [B]` (u32), and returns the
    /// mask `[B, T]` of the positions written so far, for [`Graph::attention`] over the cache.
    #[track_caller]
    pub fn kv_append(
        &mut self,
        keys: Var,
        values: Var,
        k: Var,
        v: Var,
        position: Var,
    ) -> Result<Var> {
        self.push1(Op::KvAppend, &[keys, values, k, v, position])
    }
}

pub(crate) fn infer(x: &[&Meta]) -> Result<Vec<Meta>> {
    check_arity("kv_append", x, 5)?;
    let want = shape(&x[0].shape, &x[2].shape, &x[4].shape)?;
    if x[1].shape != x[0].shape || x[3].shape != x[2].shape {
        return Err(shape_error(
            "kv_append",
            "keys and values of one shape, k and v of one shape",
            &[&x[0].shape, &x[1].shape, &x[2].shape, &x[3].shape],
        ));
    }
    let dtypes = [DType::F32, DType::F32, DType::F32, DType::F32, DType::U32];
    for (m, want) in x.iter().zip(dtypes) {
        if m.dtype != want {
            return Err(Error::DType {
                op: "kv_append",
                message: format!(
                    "expects f32 caches, keys and values and u32 positions, got {:?} of shape {:?}",
                    m.dtype, m.shape
                ),
            });
        }
    }
    Ok(vec![Meta {
        shape: want,
        dtype: DType::U32,
    }])
}

pub(crate) fn lower(ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let (i, o) = io_tensors("kv_append", io, 5, 1)?;
    Ok(vec![append(ctx, [i[0], i[1]], [i[2], i[3]], i[4], o[0])?])
}
