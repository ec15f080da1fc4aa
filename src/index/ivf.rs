//! The approximate mode of [`VectorIndex`]: an inverted-file (IVF) quantiser.
//!
//! [`VectorIndex::build_ivf`] trains `nlist` unit-length centroids by spherical k-means on the
//! GPU (Lloyd's iterations: assignment by [`topk`] with k = 1, update by
//! [`crate::ops::kmeans`]) over a seeded sample of the live vectors, assigns every live
//! vector to its best centroid, and stores a second copy of the vectors list by list (lists
//! packed whole into shards of the index's shard size, ids ascending within a list).
//! [`VectorIndex::search_approx`] finds each query's `nprobe` best centroids with [`topk`] and
//! scans only those lists with `topk_forward_lists`, in one submission. With `nprobe = nlist`
//! every live vector is scanned and the result equals [`VectorIndex::search`]'s.
//!
//! Removing a vector clears its key in the lists too. Adding vectors marks the quantiser stale:
//! `search_approx` then fails until `build_ivf` runs again ([`VectorIndex::search`] is always
//! current).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::kernels::run;
use crate::ops::kmeans;
use crate::ops::topk::{self, ListShard, KMAX, NONE};
use crate::tensor::{DType, Tensor};

use super::{Hit, VectorIndex};

/// How [`VectorIndex::build_ivf`] trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IvfOptions {
    /// Lists (centroids). `None`: about √N, at least 1.
    pub nlist: Option<usize>,
    /// Lloyd iterations.
    pub iterations: usize,
    /// Training sample per list (the sample is at most this times nlist vectors).
    pub points_per_list: usize,
    /// Seed of the sample and of the initial centroids.
    pub seed: u64,
}

impl Default for IvfOptions {
    fn default() -> IvfOptions {
        IvfOptions {
            nlist: None,
            iterations: 10,
            points_per_list: 64,
            seed: 0,
        }
    }
}

/// One buffer of list-ordered vectors.
#[derive(Debug)]
struct IvfShard {
    vectors: Tensor,
    keys: Tensor,
    offsets: Tensor,
    longest: usize,
}

/// A trained quantiser and its lists.
#[derive(Debug)]
pub(crate) struct Ivf {
    centroids: Tensor,
    nlist: usize,
    shards: Vec<IvfShard>,
    /// For each slot of the index, its (shard, row) in the lists, or `None`.
    pos: Vec<Option<(usize, usize)>>,
    /// Vectors were added after training.
    pub(crate) stale: bool,
}

impl Ivf {
    /// Clears slot `slot`'s key, so the list scan skips it. Queued; no wait.
    pub(crate) fn remove(&self, ctx: &Context, slot: usize) {
        if let Some(Some((s, r))) = self.pos.get(slot) {
            if let Some(shard) = self.shards.get(*s) {
                ctx.write_buffer(
                    shard.keys.buffer(),
                    (*r * 4) as u64,
                    bytemuck::bytes_of(&NONE),
                );
            }
        }
    }
}

/// SplitMix64, for a reproducible sample.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Rows of host vectors assigned per submission (bounds the query buffer).
const ASSIGN_BATCH: usize = 16384;

/// Best centroid of every `padded`-long row of `rows`, by inner product.
fn assign(ctx: &Context, rows: &[f32], padded: usize, centroids: &Tensor) -> Result<Vec<u32>> {
    let mut out = Vec::with_capacity(rows.len() / padded);
    for batch in rows.chunks(ASSIGN_BATCH * padded) {
        let q = Tensor::from_f32(ctx, &[batch.len() / padded, padded], batch)?;
        let (_, ids) = topk::topk(ctx, &q, centroids, 1)?;
        out.extend(ids.to_vec_u32(ctx)?);
    }
    Ok(out)
}

/// recall@k of `approx` against `exact`: the share of the exact lists' ids (each cut at `k`)
/// that the approximate lists (cut at `k`) contain, over all queries.
pub fn recall_at(k: usize, exact: &[Vec<Hit>], approx: &[Vec<Hit>]) -> f64 {
    let mut found = 0usize;
    let mut total = 0usize;
    for (e, a) in exact.iter().zip(approx) {
        let got: Vec<u64> = a.iter().take(k).map(|h| h.id).collect();
        for h in e.iter().take(k) {
            total += 1;
            found += got.contains(&h.id) as usize;
        }
    }
    if total == 0 {
        1.0
    } else {
        found as f64 / total as f64
    }
}

impl VectorIndex {
    /// Trains the IVF quantiser over the live vectors and builds its lists (see [`ivf`](self)).
    /// Replaces an earlier one. Needs at least one live vector; `nlist` is capped at the live
    /// count.
    pub fn build_ivf(&mut self, ctx: &Context, opts: IvfOptions) -> Result<()> {
        if self.live == 0 {
            return Err(Error::Unsupported(
                "vector_index: build_ivf needs at least one live vector".into(),
            ));
        }
        let padded = self.padded;
        // Live rows, padded and normalised as stored, with their slots (ascending).
        let mut rows = Vec::with_capacity(self.live * padded);
        let mut slots = Vec::with_capacity(self.live);
        for (i, shard) in self.shards.iter().enumerate() {
            let data = shard.vectors.to_vec_f32(ctx)?;
            for r in 0..shard.rows {
                let slot = i * self.shard_rows + r;
                if self.slots[slot].live {
                    rows.extend_from_slice(&data[r * padded..(r + 1) * padded]);
                    slots.push(slot);
                }
            }
        }
        let n = slots.len();
        let nlist = opts
            .nlist
            .unwrap_or_else(|| (n as f64).sqrt().round() as usize)
            .clamp(1, n);
        // A seeded partial shuffle picks the training sample; its first nlist rows seed the
        // centroids (distinct vectors, unless the data repeats itself).
        let s = (nlist * opts.points_per_list.max(1)).min(n);
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = opts.seed;
        for i in 0..s {
            let j = i + (splitmix(&mut state) % (n - i) as u64) as usize;
            order.swap(i, j);
        }
        let mut sample = Vec::with_capacity(s * padded);
        for &o in &order[..s] {
            sample.extend_from_slice(&rows[o * padded..(o + 1) * padded]);
        }
        let points = Tensor::from_f32(ctx, &[s, padded], &sample)?;
        let centroids = Tensor::from_f32(ctx, &[nlist, padded], &sample[..nlist * padded])?;
        for _ in 0..opts.iterations {
            let (_, ids) = topk::topk(ctx, &points, &centroids, 1)?;
            kmeans::update(ctx, &points, &ids.to_vec_u32(ctx)?, &centroids)?;
        }
        let list_of = assign(ctx, &rows, padded, &centroids)?;
        // Members of each list, in ascending slot order (rows are in slot order).
        let mut lists: Vec<Vec<usize>> = vec![Vec::new(); nlist];
        for (row, &l) in list_of.iter().enumerate() {
            lists
                .get_mut(l as usize)
                .ok_or_else(|| {
                    Error::Unsupported(format!("vector_index: assignment {l} >= nlist {nlist}"))
                })?
                .push(row);
        }
        // Pack whole lists into shards.
        let mut groups: Vec<Vec<usize>> = vec![Vec::new()];
        let mut used = 0;
        for (l, members) in lists.iter().enumerate() {
            if members.len() > self.shard_rows {
                return Err(Error::Unsupported(format!(
                    "vector_index: IVF list {l} has {} vectors, more than a buffer holds ({}); \
                     use more lists",
                    members.len(),
                    self.shard_rows
                )));
            }
            if used + members.len() > self.shard_rows {
                groups.push(Vec::new());
                used = 0;
            }
            used += members.len();
            if let Some(g) = groups.last_mut() {
                g.push(l);
            }
        }
        let mut pos = vec![None; self.slots.len()];
        let mut shards = Vec::with_capacity(groups.len());
        for (si, group) in groups.iter().enumerate() {
            let mut data = Vec::new();
            let mut keys = Vec::new();
            let mut offsets = vec![0u32; nlist + 1];
            let mut longest = 0;
            for l in 0..nlist {
                let mine = group.contains(&l);
                let len = if mine { lists[l].len() } else { 0 };
                if mine {
                    for &row in &lists[l] {
                        pos[slots[row]] = Some((si, keys.len()));
                        keys.push(slots[row] as u32);
                        data.extend_from_slice(&rows[row * padded..(row + 1) * padded]);
                    }
                }
                longest = longest.max(len);
                offsets[l + 1] = offsets[l] + len as u32;
            }
            if keys.is_empty() {
                keys.push(NONE);
                data.resize(padded, 0.0);
            }
            shards.push(IvfShard {
                vectors: Tensor::from_f32(ctx, &[keys.len(), padded], &data)?,
                keys: Tensor::from_u32(ctx, &[keys.len()], &keys)?,
                offsets: Tensor::from_u32(ctx, &[nlist + 1], &offsets)?,
                longest,
            });
        }
        self.ivf = Some(Ivf {
            centroids,
            nlist,
            shards,
            pos,
            stale: false,
        });
        Ok(())
    }

    /// Lists of the trained quantiser, if any.
    pub fn ivf_lists(&self) -> Option<usize> {
        self.ivf.as_ref().map(|i| i.nlist)
    }

    /// Approximate top-k (as [`VectorIndex::search`]) scanning the `nprobe` lists whose
    /// centroids best match each query. Needs [`VectorIndex::build_ivf`] since the last add;
    /// `1 <= nprobe <= min(nlist, KMAX)`.
    pub fn search_approx(
        &self,
        ctx: &Context,
        queries: &[f32],
        k: usize,
        nprobe: usize,
    ) -> Result<Vec<Vec<Hit>>> {
        let (data, q) = self.prepare_queries(queries, k)?;
        let ivf = match &self.ivf {
            None => {
                return Err(Error::Unsupported(
                    "vector_index: search_approx needs build_ivf first".into(),
                ))
            }
            Some(i) if i.stale => {
                return Err(Error::Unsupported(
                    "vector_index: vectors were added since build_ivf; call it again".into(),
                ))
            }
            Some(i) => i,
        };
        if nprobe == 0 || nprobe > ivf.nlist.min(KMAX) {
            return Err(Error::Unsupported(format!(
                "vector_index: nprobe must be in 1..={} (nlist {}, at most {KMAX}), got {nprobe}",
                ivf.nlist.min(KMAX),
                ivf.nlist
            )));
        }
        if self.live == 0 {
            return Ok(vec![Vec::new(); q]);
        }
        let qt = Tensor::from_f32(ctx, &[q, self.padded], &data)?;
        let probe_scores = Tensor::zeros(ctx, &[q, nprobe], DType::F32)?;
        let probes = Tensor::zeros(ctx, &[q, nprobe], DType::U32)?;
        let coarse = topk::Shard {
            vectors: &ivf.centroids,
            rows: ivf.nlist,
            live: None,
            slot_base: 0,
        };
        let mut dispatches = topk::forward(ctx, &qt, &[coarse], nprobe, &probe_scores, &probes)?;
        let shards: Vec<ListShard> = ivf
            .shards
            .iter()
            .map(|s| ListShard {
                vectors: &s.vectors,
                keys: &s.keys,
                offsets: &s.offsets,
                longest: s.longest,
            })
            .collect();
        let scores = Tensor::zeros(ctx, &[q, k], DType::F32)?;
        let slots = Tensor::zeros(ctx, &[q, k], DType::U32)?;
        dispatches.extend(topk::forward_lists(
            ctx, &qt, &shards, &probes, k, &scores, &slots,
        )?);
        run(ctx, &dispatches)?;
        self.hits(q, k, &scores.to_vec_f32(ctx)?, &slots.to_vec_u32(ctx)?)
    }
}
