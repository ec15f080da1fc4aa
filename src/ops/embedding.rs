//! `embedding`: row lookup in a table by integer ids, and its backward (a scatter-add).
//!
//! Dimension letters: N ids (any shape `[..]`, flattened), V vocabulary rows, C channels.
//! - `ids` `[..]` u32, `table` `[V, C]` f32, `out` `[.., C]` f32.
//! - forward: `out[n, :] = table[ids[n], :]`. An id `>= V` reads nothing and gives a row of
//!   zeros (the kernel never reads out of bounds); [`check_ids`] finds such ids on the host.
//! - backward: `dtable[v, :] = Σ_{n: ids[n] = v} dout[n, :]`; out-of-range ids contribute
//!   nothing. The kernel overwrites `dtable` and is deterministic: each row of `dtable` is summed
//!   by one workgroup in increasing n (see `shaders/embedding.wgsl` for why and the cost,
//!   V·N id compares plus N·C adds). There is no gradient with respect to the ids.
//!
//! Kernel: `shaders/embedding.wgsl`.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_1d, grid_for, run, Dispatch, Kernel};
use crate::tensor::{numel, DType, Tensor};

use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Invocations per workgroup in `shaders/embedding.wgsl`.
const WG: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    vocab: u32,
    channels: u32,
    _pad0: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Output shape `[.., C]` for ids `[..]` and a table `[V, C]`.
pub fn shape(ids: &[usize], table: &[usize]) -> Result<Vec<usize>> {
    if table.len() != 2 || table.contains(&0) || ids.contains(&0) {
        return Err(shape_error(
            "embedding",
            "ids [..] (no empty axis) and a table [V, C] with V, C > 0",
            &[ids, table],
        ));
    }
    let mut out = ids.to_vec();
    out.push(table[1]);
    if numel(&out) > u32::MAX as usize || numel(table) > u32::MAX as usize {
        return Err(shape_error(
            "embedding",
            "fewer than 2^32 elements in the table and in the output",
            &[ids, table],
        ));
    }
    Ok(out)
}

fn params(ids: &Tensor, vocab: usize, channels: usize) -> Params {
    Params {
        n: ids.numel() as u32,
        vocab: vocab as u32,
        channels: channels as u32,
        _pad0: 0,
    }
}

fn check_ids_dtype(op: &'static str, ids: &Tensor) -> Result<()> {
    if ids.dtype() != DType::U32 {
        return Err(Error::DType {
            op,
            message: format!("ids must be u32, got {:?}", ids.dtype()),
        });
    }
    Ok(())
}

/// Prepares `out = table[ids]` into an existing `[.., C]` tensor.
pub fn forward(ctx: &Context, ids: &Tensor, table: &Tensor, out: &Tensor) -> Result<Dispatch> {
    let want = shape(ids.shape(), table.shape())?;
    if out.shape() != want.as_slice() {
        return Err(shape_error(
            "embedding",
            format!("output shaped {want:?}"),
            &[ids.shape(), table.shape(), out.shape()],
        ));
    }
    check_ids_dtype("embedding", ids)?;
    check_f32("embedding", &[table, out])?;
    let p = params(ids, table.shape()[0], table.shape()[1]);
    Kernel::new("embedding", "embedding_forward").dispatch(
        ctx,
        &p,
        &[ids, table, out],
        grid_for(out.numel(), WG),
    )
}

/// Prepares `dtable` (`[V, C]`, overwritten) from the ids and the output gradient `dout`.
pub fn backward_table(
    ctx: &Context,
    ids: &Tensor,
    dout: &Tensor,
    dtable: &Tensor,
) -> Result<Dispatch> {
    let want = shape(ids.shape(), dtable.shape())?;
    if dout.shape() != want.as_slice() {
        return Err(shape_error(
            "embedding_backward",
            format!("dout shaped {want:?} for these ids and dtable"),
            &[ids.shape(), dout.shape(), dtable.shape()],
        ));
    }
    check_ids_dtype("embedding_backward", ids)?;
    check_f32("embedding_backward", &[dout, dtable])?;
    let vocab = dtable.shape()[0];
    let p = params(ids, vocab, dtable.shape()[1]);
    Kernel::new("embedding", "embedding_backward_table").dispatch(
        ctx,
        &p,
        &[ids, dout, dtable],
        grid_1d(vocab as u32),
    )
}

/// Host-side check that every id is below `vocab`: the kernel maps an out-of-range id to a
/// zero row silently, so a data pipeline can call this on the ids before uploading them.
pub fn check_ids(ids: &[u32], vocab: usize) -> Result<()> {
    match ids.iter().position(|&id| id as usize >= vocab) {
        None => Ok(()),
        Some(i) => Err(Error::Unsupported(format!(
            "embedding: id {} at position {i} is out of range for a vocabulary of {vocab}",
            ids[i]
        ))),
    }
}

/// Runs the lookup now and returns `[.., C]`.
pub fn embedding(ctx: &Context, ids: &Tensor, table: &Tensor) -> Result<Tensor> {
    let out = Tensor::zeros(ctx, &shape(ids.shape(), table.shape())?, DType::F32)?;
    run(ctx, &[forward(ctx, ids, table, &out)?])?;
    Ok(out)
}

/// Runs the backward now: `dtable` `[vocab, C]` from the ids and `dout` `[.., C]`.
pub fn embedding_backward(
    ctx: &Context,
    ids: &Tensor,
    dout: &Tensor,
    vocab: usize,
) -> Result<Tensor> {
    let channels = dout.shape().last().copied().unwrap_or(0);
    let dtable = Tensor::zeros(ctx, &[vocab, channels], DType::F32)?;
    run(ctx, &[backward_table(ctx, ids, dout, &dtable)?])?;
    Ok(dtable)
}

// ---- graph: builder, shape rule, chain rule, lowering ----

impl Graph {
    /// `table[ids]`: `ids [..]` u32, `table [V, C]`, out `[.., C]`.
    #[track_caller]
    pub fn embedding(&mut self, ids: Var, table: Var) -> Result<Var> {
        self.push1(Op::Embedding, &[ids, table])
    }
}

fn ids_meta(op: &'static str, ids: &Meta) -> Result<()> {
    if ids.dtype != DType::U32 {
        return Err(Error::DType {
            op,
            message: format!("ids must be u32, got {:?}", ids.dtype),
        });
    }
    Ok(())
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    check_arity(name, x, 2)?;
    ids_meta(name, x[0])?;
    check_f32_meta(name, &x[1..])?;
    match op {
        Op::Embedding => Ok(vec![Meta::f32(&shape(&x[0].shape, &x[1].shape)?)]),
        Op::EmbeddingBackward { vocab } => {
            let c = x[1].shape.last().copied().unwrap_or(0);
            let want = shape(&x[0].shape, &[*vocab, c])?;
            if x[1].shape != want {
                return Err(shape_error(
                    name,
                    format!("dout shaped {want:?}"),
                    &[&x[0].shape, &x[1].shape],
                ));
            }
            Ok(vec![Meta::f32(&[*vocab, c])])
        }
        _ => Err(Error::Graph(format!("{name} is not an embedding"))),
    }
}

/// `dtable` by a deterministic scatter-add; ids get no gradient.
pub(crate) fn grad(g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    let Some(dout) = a.douts[0] else {
        return Ok(vec![None, None]);
    };
    let vocab = g.shape(a.inputs[1])?[0];
    let dtable = g.push1(Op::EmbeddingBackward { vocab }, &[a.inputs[0], dout])?;
    Ok(vec![None, Some(dtable)])
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let (i, o) = io_tensors(op.name(), io, 2, 1)?;
    Ok(vec![match op {
        Op::Embedding => forward(ctx, i[0], i[1], o[0])?,
        _ => backward_table(ctx, i[0], i[1], o[0])?,
    }])
}
