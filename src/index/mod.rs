//! [`VectorIndex`]: unit-length f32 vectors in GPU memory with stable ids and per-vector
//! metadata, searched exactly by inner product (cosine similarity) with the fused
//! [`crate::ops::topk`] kernel, or approximately through an IVF quantiser ([`ivf`]).
//!
//! - **Ids** are `u64`, handed out in ascending order by [`VectorIndex::add`] and never reused.
//!   Slots are append-only and removal only clears a live flag, so slot order is id order: the
//!   kernel breaks ties by slot, which is breaking them by id. [`VectorIndex::compact`] (and
//!   saving) drops removed slots while keeping that order. The caller's own ids (a document's
//!   `"doc-17"`) travel beside them in [`Meta::user_id`].
//! - **Normalisation**: `add` scales every vector to unit length and `search` every query, so
//!   scores are cosine similarities in [-1, 1]. Zero, NaN or infinite vectors are errors.
//! - **Padding**: the kernel reads vec4s, so a dimension that is not a multiple of 4 is padded
//!   with zeros on the GPU (inner products are unchanged); files hold the unpadded vectors.
//! - **Shards**: vectors live in several buffers when one would exceed the device's
//!   `max_storage_buffer_binding_size` (or [`IndexOptions::shard_rows`]); a shard's buffer
//!   grows by doubling up to that size, and every search covers all shards in one submission.
//! - **Bad input**: an empty index gives every query an empty list; k larger than the number of
//!   live vectors returns all of them, best first; k = 0 or k > [`KMAX`] and vectors or queries
//!   of another dimension (an index built with another model) are errors, never panics.
//! - **Files**: [`VectorIndex::save`] writes `vectors.safetensors` and `meta.jsonl` (see
//!   [`file`](mod@file)).

pub mod file;
pub mod ivf;

use std::collections::HashMap;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ops::topk::{self, Shard, NONE};
use crate::tensor::{DType, Tensor};

pub use crate::ops::topk::KMAX;
pub use ivf::IvfOptions;

/// Where a vector came from: its text, the file it was read from and its position there, and
/// the caller's own id for the record it belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// The text that was embedded.
    pub text: String,
    /// The source file (or any name the caller uses).
    pub source: String,
    /// Position in the source (a byte offset, a line or a chunk number: the caller's choice).
    pub position: u64,
    /// The caller's id for the record (a document's `"doc-17"`, a row number: any JSON value),
    /// kept beside the index's own `u64` id and saved with it; several vectors (chunks of one
    /// document) may share it. `None` when the caller has none; a JSON `null` loads as `None`.
    pub user_id: Option<serde_json::Value>,
}

/// A search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The vector's id.
    pub id: u64,
    /// Cosine similarity with the query.
    pub score: f32,
}

/// Tuning of a [`VectorIndex`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexOptions {
    /// The most vectors one buffer holds. `None`: as many as the device's
    /// `max_storage_buffer_binding_size` allows. Smaller values force several shards (tests).
    pub shard_rows: Option<usize>,
}

/// One buffer of vectors and its live flags.
#[derive(Debug)]
struct ShardBuf {
    /// `[capacity, padded dim]`.
    vectors: Tensor,
    /// `[capacity]` u32: 1 live, 0 removed or unused.
    live: Tensor,
    /// Rows written (live or removed).
    rows: usize,
}

/// One slot: its id, metadata, and whether it is live.
#[derive(Clone, Debug)]
struct Slot {
    id: u64,
    meta: Meta,
    live: bool,
}

/// A GPU vector index; see the [module docs](self).
#[derive(Debug)]
pub struct VectorIndex {
    dim: usize,
    padded: usize,
    shard_rows: usize,
    shards: Vec<ShardBuf>,
    slots: Vec<Slot>,
    by_id: HashMap<u64, usize>,
    next_id: u64,
    live: usize,
    ivf: Option<ivf::Ivf>,
}

/// The first shard's first allocation, in rows; it doubles from there.
const INITIAL_ROWS: usize = 1024;

fn dim_error(what: &str, dim: usize, len: usize) -> Error {
    Error::Shape {
        op: "vector_index",
        expected: format!(
            "{what} of dimension {dim} (the index's), as a flat slice whose length is a \
             multiple of {dim}; an index built with another embedding model has another \
             dimension"
        ),
        got: vec![vec![len]],
        at: None,
    }
}

/// Scales each `dim`-long row of `data` to unit length, padded with zeros to `padded`.
fn normalise(data: &[f32], dim: usize, padded: usize, what: &str) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(data.len() / dim * padded);
    for (r, row) in data.chunks_exact(dim).enumerate() {
        let norm = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
        if !norm.is_finite() || norm == 0.0 {
            return Err(Error::Unsupported(format!(
                "vector_index: {what} {r} has norm {norm}; vectors must be finite and non-zero"
            )));
        }
        out.extend(row.iter().map(|&v| (v as f64 / norm) as f32));
        out.extend(std::iter::repeat_n(0.0, padded - dim));
    }
    Ok(out)
}

impl VectorIndex {
    /// An empty index of `dim`-dimensional vectors.
    pub fn new(ctx: &Context, dim: usize) -> Result<VectorIndex> {
        VectorIndex::with_options(ctx, dim, IndexOptions::default())
    }

    /// An empty index with explicit options.
    pub fn with_options(ctx: &Context, dim: usize, opts: IndexOptions) -> Result<VectorIndex> {
        if dim == 0 {
            return Err(dim_error("vectors", dim, 0));
        }
        let padded = dim.next_multiple_of(4);
        let limits = ctx.device().limits();
        let max_bytes = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let fit = (max_bytes / (padded as u64 * 4)) as usize;
        let shard_rows = opts.shard_rows.unwrap_or(fit).min(fit);
        if shard_rows == 0 {
            return Err(Error::Unsupported(format!(
                "vector_index: a buffer holds at most {max_bytes} bytes, less than one vector of \
                 dimension {dim}"
            )));
        }
        Ok(VectorIndex {
            dim,
            padded,
            shard_rows,
            shards: Vec::new(),
            slots: Vec::new(),
            by_id: HashMap::new(),
            next_id: 0,
            live: 0,
            ivf: None,
        })
    }

    /// The dimension of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no vector is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Buffers in use.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The most vectors one buffer holds.
    pub fn shard_rows(&self) -> usize {
        self.shard_rows
    }

    /// A live vector's metadata.
    pub fn meta(&self, id: u64) -> Option<&Meta> {
        let s = &self.slots[*self.by_id.get(&id)?];
        Some(&s.meta)
    }

    /// Ids of the live vectors, ascending.
    pub fn ids(&self) -> Vec<u64> {
        self.slots.iter().filter(|s| s.live).map(|s| s.id).collect()
    }

    /// Adds `vectors` (a flat `[n, dim]` slice) with one metadata each; returns their new ids,
    /// ascending. Vectors are normalised to unit length. On error nothing is added.
    pub fn add(&mut self, ctx: &Context, vectors: &[f32], metas: Vec<Meta>) -> Result<Vec<u64>> {
        if !vectors.len().is_multiple_of(self.dim) || vectors.len() / self.dim != metas.len() {
            return Err(Error::Shape {
                op: "vector_index",
                expected: format!(
                    "one metadata per vector of dimension {} (an index built with another \
                     model has another dimension)",
                    self.dim
                ),
                got: vec![vec![vectors.len()], vec![metas.len()]],
                at: None,
            });
        }
        let n = metas.len();
        if self.slots.len() + n >= NONE as usize {
            return Err(Error::Unsupported(format!(
                "vector_index: at most {} slots (compact to reclaim removed ones)",
                NONE - 1
            )));
        }
        let data = normalise(vectors, self.dim, self.padded, "vector")?;
        self.write_rows(ctx, &data)?;
        let first = self.next_id;
        for (i, meta) in metas.into_iter().enumerate() {
            let id = first + i as u64;
            self.by_id.insert(id, self.slots.len());
            self.slots.push(Slot {
                id,
                meta,
                live: true,
            });
        }
        self.next_id += n as u64;
        self.live += n;
        // The IVF lists are contiguous per list and cannot take new rows in place.
        if let Some(ivf) = &mut self.ivf {
            ivf.stale = true;
        }
        Ok((first..first + n as u64).collect())
    }

    /// Appends padded, normalised rows after the last slot, growing or adding shards.
    fn write_rows(&mut self, ctx: &Context, data: &[f32]) -> Result<()> {
        let mut done = 0;
        let total = data.len() / self.padded;
        while done < total {
            let full = self.shards.last().is_none_or(|s| s.rows == self.shard_rows);
            if full {
                let cap = INITIAL_ROWS.min(self.shard_rows);
                self.shards.push(ShardBuf {
                    vectors: Tensor::zeros(ctx, &[cap, self.padded], DType::F32)?,
                    live: Tensor::zeros(ctx, &[cap], DType::U32)?,
                    rows: 0,
                });
            }
            let shard_rows = self.shard_rows;
            let padded = self.padded;
            let Some(shard) = self.shards.last_mut() else {
                return Err(Error::Unsupported(
                    "vector_index: no shard to write to".into(),
                ));
            };
            let take = (total - done).min(shard_rows - shard.rows);
            let need = shard.rows + take;
            let cap = shard.vectors.shape()[0];
            if need > cap {
                let mut new_cap = cap;
                while new_cap < need {
                    new_cap = (new_cap * 2).min(shard_rows);
                }
                grow(ctx, shard, new_cap, padded)?;
            }
            let bytes: &[u8] = bytemuck::cast_slice(&data[done * padded..(done + take) * padded]);
            ctx.write_buffer(
                shard.vectors.buffer(),
                (shard.rows * padded * 4) as u64,
                bytes,
            );
            let ones = vec![1u32; take];
            ctx.write_buffer(
                shard.live.buffer(),
                (shard.rows * 4) as u64,
                bytemuck::cast_slice(&ones),
            );
            shard.rows += take;
            done += take;
        }
        ctx.check()
    }

    /// Removes vectors by id; returns how many. An unknown or already removed id is an error,
    /// and then nothing is removed. Removed vectors are never returned by a search.
    pub fn remove(&mut self, ctx: &Context, ids: &[u64]) -> Result<usize> {
        let mut slots = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.by_id.get(&id) {
                Some(&s) if !slots.contains(&s) => slots.push(s),
                Some(_) => {}
                None => {
                    return Err(Error::Unsupported(format!(
                        "vector_index: no live vector has id {id}"
                    )))
                }
            }
        }
        for &s in &slots {
            let shard = &self.shards[s / self.shard_rows];
            ctx.write_buffer(
                shard.live.buffer(),
                ((s % self.shard_rows) * 4) as u64,
                bytemuck::bytes_of(&0u32),
            );
            let slot = &mut self.slots[s];
            self.by_id.remove(&slot.id);
            slot.live = false;
            slot.meta = Meta::default();
            if let Some(ivf) = &self.ivf {
                ivf.remove(ctx, s);
            }
        }
        self.live -= slots.len();
        ctx.check()?;
        Ok(slots.len())
    }

    /// Rebuilds the buffers without removed slots (ids and their order are kept). Drops the
    /// IVF quantiser, whose lists point at the old slots.
    pub fn compact(&mut self, ctx: &Context) -> Result<()> {
        let (vectors, metas, ids) = self.live_data(ctx)?;
        let mut fresh = VectorIndex::with_options(
            ctx,
            self.dim,
            IndexOptions {
                shard_rows: Some(self.shard_rows),
            },
        )?;
        fresh.next_id = self.next_id;
        fresh.insert_with_ids(ctx, &vectors, metas, &ids)?;
        *self = fresh;
        Ok(())
    }

    /// Adds vectors under given ids (ascending, at least `next_id` ... checked by the caller).
    fn insert_with_ids(
        &mut self,
        ctx: &Context,
        vectors: &[f32],
        metas: Vec<Meta>,
        ids: &[u64],
    ) -> Result<()> {
        let data = normalise(vectors, self.dim, self.padded, "vector")?;
        self.write_rows(ctx, &data)?;
        for (meta, &id) in metas.into_iter().zip(ids) {
            self.by_id.insert(id, self.slots.len());
            self.slots.push(Slot {
                id,
                meta,
                live: true,
            });
        }
        self.live += ids.len();
        Ok(())
    }

    /// The live vectors (unpadded, flat), their metadata and ids, in slot (id) order.
    fn live_data(&self, ctx: &Context) -> Result<(Vec<f32>, Vec<Meta>, Vec<u64>)> {
        let mut vectors = Vec::with_capacity(self.live * self.dim);
        for (i, shard) in self.shards.iter().enumerate() {
            let data = shard.vectors.to_vec_f32(ctx)?;
            for r in 0..shard.rows {
                if self.slots[i * self.shard_rows + r].live {
                    vectors.extend_from_slice(&data[r * self.padded..r * self.padded + self.dim]);
                }
            }
        }
        let live = self.slots.iter().filter(|s| s.live);
        let metas = live.clone().map(|s| s.meta.clone()).collect();
        let ids = live.map(|s| s.id).collect();
        Ok((vectors, metas, ids))
    }

    /// Checks and normalises queries; returns them padded and their count.
    fn prepare_queries(&self, queries: &[f32], k: usize) -> Result<(Vec<f32>, usize)> {
        if queries.is_empty() || !queries.len().is_multiple_of(self.dim) {
            return Err(dim_error("queries", self.dim, queries.len()));
        }
        if k == 0 || k > KMAX {
            return Err(Error::Shape {
                op: "vector_index",
                expected: format!("1 <= k <= {KMAX}, got k = {k}"),
                got: vec![vec![queries.len() / self.dim, self.dim]],
                at: None,
            });
        }
        let q = queries.len() / self.dim;
        Ok((normalise(queries, self.dim, self.padded, "query")?, q))
    }

    /// Turns downloaded `[Q, k]` slots and scores into hits, dropping empty slots.
    fn hits(&self, q: usize, k: usize, scores: &[f32], slots: &[u32]) -> Result<Vec<Vec<Hit>>> {
        (0..q)
            .map(|r| {
                (r * k..(r + 1) * k)
                    .filter(|&j| slots[j] != NONE)
                    .map(|j| {
                        let slot = self.slots.get(slots[j] as usize).ok_or_else(|| {
                            Error::Unsupported(format!(
                                "vector_index: the kernel returned slot {} of {}",
                                slots[j],
                                self.slots.len()
                            ))
                        })?;
                        Ok(Hit {
                            id: slot.id,
                            score: scores[j],
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Exact top-k by cosine similarity for each query of the flat `[Q, dim]` slice: one list
    /// per query, best first, ties by smaller id, at most `k` (fewer when fewer are live).
    pub fn search(&self, ctx: &Context, queries: &[f32], k: usize) -> Result<Vec<Vec<Hit>>> {
        let (data, q) = self.prepare_queries(queries, k)?;
        if self.live == 0 {
            return Ok(vec![Vec::new(); q]);
        }
        let qt = Tensor::from_f32(ctx, &[q, self.padded], &data)?;
        let shards: Vec<Shard> = self
            .shards
            .iter()
            .enumerate()
            .map(|(i, s)| Shard {
                vectors: &s.vectors,
                rows: s.rows,
                live: Some(&s.live),
                slot_base: (i * self.shard_rows) as u32,
            })
            .collect();
        let (scores, slots) = topk::topk_shards(ctx, &qt, &shards, k)?;
        self.hits(q, k, &scores.to_vec_f32(ctx)?, &slots.to_vec_u32(ctx)?)
    }
}

/// Reallocates `shard` with `cap` rows, copying its rows on the GPU.
fn grow(ctx: &Context, shard: &mut ShardBuf, cap: usize, padded: usize) -> Result<()> {
    let vectors = Tensor::zeros(ctx, &[cap, padded], DType::F32)?;
    let live = Tensor::zeros(ctx, &[cap], DType::U32)?;
    let mut enc = ctx
        .device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("kiln.index.grow"),
        });
    if shard.rows > 0 {
        enc.copy_buffer_to_buffer(
            shard.vectors.buffer(),
            0,
            vectors.buffer(),
            0,
            (shard.rows * padded * 4) as u64,
        );
        enc.copy_buffer_to_buffer(
            shard.live.buffer(),
            0,
            live.buffer(),
            0,
            (shard.rows * 4) as u64,
        );
    }
    ctx.submit(enc.finish())?;
    shard.vectors = vectors;
    shard.live = live;
    Ok(())
}
