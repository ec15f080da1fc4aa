//! `topk`: exact top-k by inner product of a batch of queries against vectors held in one or
//! more buffers (shards), fused so that the `[Q, N]` score matrix never exists; and the same
//! over the inverted lists of an IVF index ([`forward_lists`]).
//!
//! Dimension letters: Q queries, N vectors (over all shards), D dimension (a multiple of 4),
//! k results per query (1 ≤ k ≤ [`KMAX`]), G candidate groups per query.
//! - forward: `score[q,n] = Σ_d queries[q,d]·vectors[n,d]`; `scores[q,:]`, `ids[q,:]` are the k
//!   largest scores of row q with their ids, sorted by score descending, ties by smaller id.
//!   A vector's id is its shard's `slot_base` plus its row. When fewer than k vectors are
//!   live, the tail is `(f32::MIN, NONE)`.
//! - Removed vectors (`live[n] == 0`) are never scored.
//! - Memory: candidates `[Q, G, k]` with `G ≈ N / chunk`, where a chunk holds several times k
//!   vectors, then a tree of merges by [`FAN_IN`] down to `[Q, k]`: O(Q·N·k/chunk), never Q·N.
//! - Not differentiable.
//!
//! Kernel: `shaders/topk.wgsl` (`topk_forward`, `topk_forward_lists`, `topk_merge`).

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::check_f32;

/// The largest k (the private lists' length in the shader).
pub const KMAX: usize = 64;
/// Id of an empty result slot (fewer than k live vectors).
pub const NONE: u32 = u32::MAX;
/// Candidate groups merged into one per merge pass.
pub const FAN_IN: usize = 8;
/// Invocations per workgroup in `shaders/topk.wgsl`.
const WG: usize = 64;
/// The chunk size aims at about this many (query, chunk) invocations: enough to fill a GPU's
/// or a CPU driver's lanes while each chunk stays several times longer than k.
const TARGET_INVOCATIONS: usize = 16384;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    q: u32,
    d4: u32,
    rows: u32,
    k: u32,
    chunk: u32,
    chunks: u32,
    groups: u32,
    group_offset: u32,
    slot_base: u32,
    has_live: u32,
    fan_in: u32,
    in_groups: u32,
    nprobe: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// One buffer of vectors searched by [`forward`].
#[derive(Clone, Copy, Debug)]
pub struct Shard<'a> {
    /// `[R, D]` f32: rows `0..rows` are searched.
    pub vectors: &'a Tensor,
    /// Rows in use (at most R).
    pub rows: usize,
    /// `[R]` u32, 0 for a removed row; `None` when every row is live.
    pub live: Option<&'a Tensor>,
    /// Id of row 0. Shards must be given in ascending, disjoint id ranges for ties to go to the
    /// smaller id.
    pub slot_base: u32,
}

/// One buffer of an IVF index's vectors, stored list by list, searched by [`forward_lists`].
#[derive(Clone, Copy, Debug)]
pub struct ListShard<'a> {
    /// `[R, D]` f32.
    pub vectors: &'a Tensor,
    /// `[R]` u32: the id of each row, ascending within a list; [`NONE`] for a removed row.
    pub keys: &'a Tensor,
    /// `[L + 1]` u32: list `l` occupies rows `offsets[l] .. offsets[l+1]` of this shard (an
    /// empty range for a list held by another shard).
    pub offsets: &'a Tensor,
    /// The longest list in this shard, in rows.
    pub longest: usize,
}

/// Tuning of [`forward_with`]: `None` picks the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopkOptions {
    /// Vectors per chunk of the first pass.
    pub chunk: Option<usize>,
}

fn check_k(k: usize, shapes: &[&[usize]]) -> Result<()> {
    if k == 0 || k > KMAX {
        return Err(shape_error(
            "topk",
            format!("1 <= k <= {KMAX}, got k = {k}"),
            shapes,
        ));
    }
    Ok(())
}

/// Checks queries `[Q, D]` (D a positive multiple of 4), vectors `[R, D]` each, and k; returns
/// the output shape `[Q, k]`.
pub fn shape(queries: &[usize], vectors: &[&[usize]], k: usize) -> Result<Vec<usize>> {
    let mut all: Vec<&[usize]> = vec![queries];
    all.extend_from_slice(vectors);
    let ok = queries.len() == 2
        && queries[0] > 0
        && queries[1] > 0
        && queries[1].is_multiple_of(4)
        && !vectors.is_empty()
        && vectors.iter().all(|v| v.len() == 2 && v[1] == queries[1]);
    if !ok {
        return Err(shape_error(
            "topk",
            "queries [Q, D] with Q > 0 and D a positive multiple of 4, and one or more vector \
             buffers [R, D] of the same D",
            &all,
        ));
    }
    check_k(k, &all)?;
    Ok(vec![queries[0], k])
}

fn check_outputs(queries: &Tensor, k: usize, scores: &Tensor, ids: &Tensor) -> Result<()> {
    let want = [queries.shape()[0], k];
    if scores.shape() != want || ids.shape() != want {
        return Err(shape_error(
            "topk",
            format!("outputs shaped {want:?}"),
            &[queries.shape(), scores.shape(), ids.shape()],
        ));
    }
    check_f32("topk", &[queries, scores])?;
    check_u32(ids)
}

fn check_u32(t: &Tensor) -> Result<()> {
    if t.dtype() != DType::U32 {
        return Err(Error::DType {
            op: "topk",
            message: format!(
                "ids, live masks, keys and offsets are u32, got {:?}",
                t.dtype()
            ),
        });
    }
    Ok(())
}

/// The default chunk for `rows` vectors and `q` queries (scored in groups of 8).
pub fn default_chunk(rows: usize, q: usize, k: usize) -> usize {
    (rows * q.div_ceil(8))
        .div_ceil(TARGET_INVOCATIONS)
        .max(4 * k)
        .max(16)
}

/// Prepares `(scores, ids) = top-k of queries·vectorsᵀ` over `shards`, into `scores [Q, k]` f32
/// and `ids [Q, k]` u32. Allocates the candidate buffers; record the dispatches in order.
pub fn forward(
    ctx: &Context,
    queries: &Tensor,
    shards: &[Shard],
    k: usize,
    scores: &Tensor,
    ids: &Tensor,
) -> Result<Vec<Dispatch>> {
    forward_with(ctx, queries, shards, k, TopkOptions::default(), scores, ids)
}

/// [`forward`] with explicit tuning (tests and the benchmark).
pub fn forward_with(
    ctx: &Context,
    queries: &Tensor,
    shards: &[Shard],
    k: usize,
    opts: TopkOptions,
    scores: &Tensor,
    ids: &Tensor,
) -> Result<Vec<Dispatch>> {
    let shapes: Vec<&[usize]> = shards.iter().map(|s| s.vectors.shape()).collect();
    shape(queries.shape(), &shapes, k)?;
    check_outputs(queries, k, scores, ids)?;
    let (q, d) = (queries.shape()[0], queries.shape()[1]);
    let mut end = 0u64;
    for s in shards {
        check_f32("topk", &[s.vectors])?;
        if s.rows > s.vectors.shape()[0] {
            return Err(shape_error(
                "topk",
                format!("rows in use ({}) <= the buffer's rows", s.rows),
                &[s.vectors.shape()],
            ));
        }
        if let Some(live) = s.live {
            check_u32(live)?;
            if live.shape() != [s.vectors.shape()[0]] {
                return Err(shape_error(
                    "topk",
                    "a live mask [R] for vectors [R, D]",
                    &[s.vectors.shape(), live.shape()],
                ));
            }
        }
        if (s.slot_base as u64) < end {
            return Err(Error::Unsupported(
                "topk: shards must have ascending, disjoint id ranges".into(),
            ));
        }
        end = s.slot_base as u64 + s.rows as u64;
        if end >= NONE as u64 {
            return Err(Error::Unsupported(format!(
                "topk: ids reach {end}; at most {} vectors can be searched",
                NONE - 1
            )));
        }
    }
    let total: usize = shards.iter().map(|s| s.rows).sum();
    let chunk = opts
        .chunk
        .unwrap_or_else(|| default_chunk(total, q, k))
        .max(1);
    let chunks: Vec<usize> = shards
        .iter()
        .map(|s| s.rows.div_ceil(chunk).max(1))
        .collect();
    let groups: usize = chunks.iter().sum();
    let cand_s = Tensor::zeros(ctx, &[q, groups, k], DType::F32)?;
    let cand_i = Tensor::zeros(ctx, &[q, groups, k], DType::U32)?;
    let placeholder = Tensor::placeholder(ctx, DType::U32)?;
    let mut dispatches = Vec::new();
    let mut offset = 0;
    for (s, &n) in shards.iter().zip(&chunks) {
        let p = Params {
            q: q as u32,
            d4: (d / 4) as u32,
            rows: s.rows as u32,
            k: k as u32,
            chunk: chunk as u32,
            chunks: n as u32,
            groups: groups as u32,
            group_offset: offset as u32,
            slot_base: s.slot_base,
            has_live: s.live.is_some() as u32,
            ..Params::default()
        };
        let live = s.live.unwrap_or(&placeholder);
        dispatches.push(Kernel::new("topk", "topk_forward").dispatch(
            ctx,
            &p,
            &[queries, s.vectors, live, &cand_s, &cand_i],
            grid_for(q.div_ceil(8) * n, WG),
        )?);
        offset += n;
    }
    dispatches.extend(merges(ctx, q, k, cand_s, cand_i, groups, scores, ids)?);
    Ok(dispatches)
}

/// Merge passes from candidates `[Q, groups, k]` down to `scores`, `ids` `[Q, k]`; at least one
/// pass, so the result always lands in the outputs.
#[allow(clippy::too_many_arguments)]
fn merges(
    ctx: &Context,
    q: usize,
    k: usize,
    mut cur_s: Tensor,
    mut cur_i: Tensor,
    mut groups: usize,
    scores: &Tensor,
    ids: &Tensor,
) -> Result<Vec<Dispatch>> {
    let mut dispatches = Vec::new();
    loop {
        let out_groups = groups.div_ceil(FAN_IN);
        let (next_s, next_i) = if out_groups == 1 {
            (scores.clone(), ids.clone())
        } else {
            (
                Tensor::zeros(ctx, &[q, out_groups, k], DType::F32)?,
                Tensor::zeros(ctx, &[q, out_groups, k], DType::U32)?,
            )
        };
        let p = Params {
            q: q as u32,
            k: k as u32,
            groups: out_groups as u32,
            fan_in: FAN_IN as u32,
            in_groups: groups as u32,
            ..Params::default()
        };
        dispatches.push(Kernel::new("topk", "topk_merge").dispatch(
            ctx,
            &p,
            &[&cur_s, &cur_i, &next_s, &next_i],
            grid_for(q * out_groups, WG),
        )?);
        if out_groups == 1 {
            return Ok(dispatches);
        }
        (cur_s, cur_i, groups) = (next_s, next_i, out_groups);
    }
}

/// Prepares the top-k of each query over the IVF lists it probes: `probes [Q, P]` u32 names P
/// lists per query; each list is scanned in every shard of `shards` (where it is empty but in
/// one). Ids come from the shards' `keys`. Outputs as in [`forward`].
pub fn forward_lists(
    ctx: &Context,
    queries: &Tensor,
    shards: &[ListShard],
    probes: &Tensor,
    k: usize,
    scores: &Tensor,
    ids: &Tensor,
) -> Result<Vec<Dispatch>> {
    let shapes: Vec<&[usize]> = shards.iter().map(|s| s.vectors.shape()).collect();
    shape(queries.shape(), &shapes, k)?;
    check_outputs(queries, k, scores, ids)?;
    let (q, d) = (queries.shape()[0], queries.shape()[1]);
    check_u32(probes)?;
    if probes.shape().len() != 2 || probes.shape()[0] != q || probes.shape()[1] == 0 {
        return Err(shape_error(
            "topk",
            "probes [Q, P] with P > 0 for queries [Q, D]",
            &[queries.shape(), probes.shape()],
        ));
    }
    let nprobe = probes.shape()[1];
    for s in shards {
        check_f32("topk", &[s.vectors])?;
        check_u32(s.keys)?;
        check_u32(s.offsets)?;
        if s.keys.shape() != [s.vectors.shape()[0]] || s.offsets.shape().len() != 1 {
            return Err(shape_error(
                "topk",
                "keys [R] and offsets [L + 1] for vectors [R, D]",
                &[s.vectors.shape(), s.keys.shape(), s.offsets.shape()],
            ));
        }
    }
    let longest = shards.iter().map(|s| s.longest).max().unwrap_or(0);
    let chunk = default_chunk(longest * nprobe, q * 8, k);
    let chunks: Vec<usize> = shards
        .iter()
        .map(|s| s.longest.div_ceil(chunk).max(1))
        .collect();
    let groups: usize = chunks.iter().map(|c| c * nprobe).sum();
    let cand_s = Tensor::zeros(ctx, &[q, groups, k], DType::F32)?;
    let cand_i = Tensor::zeros(ctx, &[q, groups, k], DType::U32)?;
    let mut dispatches = Vec::new();
    let mut offset = 0;
    for (s, &n) in shards.iter().zip(&chunks) {
        let p = Params {
            q: q as u32,
            d4: (d / 4) as u32,
            rows: s.vectors.shape()[0] as u32,
            k: k as u32,
            chunk: chunk as u32,
            chunks: n as u32,
            groups: groups as u32,
            group_offset: offset as u32,
            nprobe: nprobe as u32,
            ..Params::default()
        };
        dispatches.push(Kernel::new("topk", "topk_forward_lists").dispatch(
            ctx,
            &p,
            &[
                queries, s.vectors, s.keys, &cand_s, &cand_i, probes, s.offsets,
            ],
            grid_for(q * nprobe * n, WG),
        )?);
        offset += n * nprobe;
    }
    dispatches.extend(merges(ctx, q, k, cand_s, cand_i, groups, scores, ids)?);
    Ok(dispatches)
}

/// Runs [`forward`] over `shards` now and returns `(scores [Q, k], ids [Q, k])`.
pub fn topk_shards(
    ctx: &Context,
    queries: &Tensor,
    shards: &[Shard],
    k: usize,
) -> Result<(Tensor, Tensor)> {
    let shapes: Vec<&[usize]> = shards.iter().map(|s| s.vectors.shape()).collect();
    let out = shape(queries.shape(), &shapes, k)?;
    let scores = Tensor::zeros(ctx, &out, DType::F32)?;
    let ids = Tensor::zeros(ctx, &out, DType::U32)?;
    run(ctx, &forward(ctx, queries, shards, k, &scores, &ids)?)?;
    Ok((scores, ids))
}

/// Runs the top-k of `queries [Q, D]` against every row of `vectors [N, D]` now; ids are rows.
pub fn topk(
    ctx: &Context,
    queries: &Tensor,
    vectors: &Tensor,
    k: usize,
) -> Result<(Tensor, Tensor)> {
    let rows = vectors.shape().first().copied().unwrap_or(0);
    let shard = Shard {
        vectors,
        rows,
        live: None,
        slot_base: 0,
    };
    topk_shards(ctx, queries, &[shard], k)
}
