//! Fixed-shape encoder-decoder batches, so a static graph compiled once takes every batch.
//!
//! For `B` rows, source length `Ts` and target length `Tt` (all row-major, row `b` at
//! `b·T .. (b+1)·T`):
//!
//! - `src [B·Ts]`: the source ids, then [`PAD`]. No BOS or EOS: the encoder reads the source
//!   as it is.
//! - `src_mask [B·Ts]`: 1 where `src` is real, 0 where it is padding.
//! - `tgt_in [B·Tt]`: [`BOS`], the target, then [`PAD`] (the decoder's input, teacher forcing).
//! - `tgt_out [B·Tt]`: the target, [`EOS`], then [`PAD`] (what the decoder must predict at each
//!   position): `tgt_out[t] = tgt_in[t + 1]` up to the EOS.
//!
//! A source longer than `Ts` keeps its first `Ts` ids. A target of up to `Tt − 1` ids fits with
//! its BOS and EOS; a longer one keeps its first `Tt` ids in `tgt_out` (and BOS + the first
//! `Tt − 1` in `tgt_in`) with no EOS, so the model is never taught to stop where the text does
//! not. Every cut example is counted in [`Seq2SeqBatch::truncated`]; nothing is cut silently.
//!
//! A batch of fewer than `B` examples (the last of an epoch) is filled up with all-PAD rows:
//! `src_mask` all 0 and `tgt_out` all PAD, so a loss with `ignore_index = PAD` ignores them,
//! and attention over a fully masked row must give zeros (kiln's does). Divide a summed loss by
//! [`Seq2SeqBatch::tokens`], not by `B·Tt`.

use super::vocab::{BOS, EOS, PAD};
use super::Rng;
use crate::{Error, Result};

/// The fixed shape of every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShape {
    /// Rows `B`.
    pub batch: usize,
    /// Source positions `Ts`.
    pub src_len: usize,
    /// Target positions `Tt` (BOS + target or target + EOS).
    pub tgt_len: usize,
}

/// One batch; see the module doc for the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seq2SeqBatch {
    /// The shape it was built with.
    pub shape: BatchShape,
    /// `[B·Ts]` source ids, PAD after.
    pub src: Vec<u32>,
    /// `[B·Ts]` 1 for a real source position, 0 for padding.
    pub src_mask: Vec<u32>,
    /// `[B·Tt]` BOS + target, PAD after.
    pub tgt_in: Vec<u32>,
    /// `[B·Tt]` target + EOS, PAD after.
    pub tgt_out: Vec<u32>,
    /// Real target tokens: the non-PAD entries of `tgt_out` (targets plus their EOS).
    pub tokens: usize,
    /// Rows holding an example; rows from here to `B` are all-PAD filler.
    pub rows: usize,
    /// Examples whose source or target was cut to fit.
    pub truncated: usize,
}

impl Seq2SeqBatch {
    /// Builds a batch from up to `shape.batch` encoded (source, target) examples (ids without
    /// BOS/EOS, as [`Vocab::encode`](super::Vocab::encode) gives them).
    ///
    /// Errors ([`Error::Length`]) when there are more examples than rows, or a length is 0
    /// (`Tt` must be at least 1 to hold BOS).
    pub fn new(examples: &[(&[u32], &[u32])], shape: BatchShape) -> Result<Seq2SeqBatch> {
        let BatchShape {
            batch,
            src_len,
            tgt_len,
        } = shape;
        if examples.len() > batch || batch == 0 || src_len == 0 || tgt_len == 0 {
            return Err(Error::Length {
                during: format!(
                    "building a Seq2SeqBatch of shape {shape:?} (every size must be positive, \
                     at most `batch` examples)"
                ),
                expected: batch,
                got: examples.len(),
            });
        }
        let mut b = Seq2SeqBatch {
            shape,
            src: vec![PAD; batch * src_len],
            src_mask: vec![0; batch * src_len],
            tgt_in: vec![PAD; batch * tgt_len],
            tgt_out: vec![PAD; batch * tgt_len],
            tokens: 0,
            rows: examples.len(),
            truncated: 0,
        };
        for (row, &(source, target)) in examples.iter().enumerate() {
            let s = source.len().min(src_len);
            let base = row * src_len;
            b.src[base..base + s].copy_from_slice(&source[..s]);
            b.src_mask[base..base + s].fill(1);

            let base = row * tgt_len;
            let cut = target.len() >= tgt_len;
            let t = target.len().min(tgt_len);
            b.tgt_out[base..base + t].copy_from_slice(&target[..t]);
            if !cut {
                b.tgt_out[base + t] = EOS;
            }
            let t_in = target.len().min(tgt_len - 1);
            b.tgt_in[base] = BOS;
            b.tgt_in[base + 1..base + 1 + t_in].copy_from_slice(&target[..t_in]);
            b.tokens += if cut { t } else { t + 1 };
            if cut || source.len() > src_len {
                b.truncated += 1;
            }
        }
        Ok(b)
    }

    /// [`Seq2SeqBatch::new`] for the examples of `encoded` at `indices` (an epoch chunk from
    /// [`Batches`]). An index out of range is an [`Error::Length`].
    pub fn gather(
        encoded: &[(Vec<u32>, Vec<u32>)],
        indices: &[usize],
        shape: BatchShape,
    ) -> Result<Seq2SeqBatch> {
        let mut examples = Vec::with_capacity(indices.len());
        for &i in indices {
            let (s, t) = encoded.get(i).ok_or_else(|| Error::Length {
                during: format!("gathering example {i} into a batch"),
                expected: encoded.len(),
                got: i + 1,
            })?;
            examples.push((s.as_slice(), t.as_slice()));
        }
        Seq2SeqBatch::new(&examples, shape)
    }
}

/// One epoch's shuffled index chunks: a permutation of `0..n_examples` (deterministic from
/// `seed` and `epoch`, different for each epoch) cut into chunks of `batch`; the last chunk
/// is shorter when `batch` does not divide `n_examples`. A `batch` of 0 is taken as 1.
#[derive(Debug, Clone)]
pub struct Batches {
    order: Vec<usize>,
    batch: usize,
    next: usize,
}

impl Batches {
    /// The chunks of epoch `epoch`.
    pub fn new(n_examples: usize, batch: usize, seed: u64, epoch: u64) -> Batches {
        let mut order: Vec<usize> = (0..n_examples).collect();
        let mut rng = Rng::new(super::mix(seed ^ super::mix(epoch.wrapping_add(1))));
        rng.shuffle(&mut order);
        Batches {
            order,
            batch: batch.max(1),
            next: 0,
        }
    }

    /// The items of `indices` (a training split's example numbers) in chunks of `batch`,
    /// shuffled for epoch `epoch` (seeded by it alone): each chunk holds items, not positions.
    pub fn over(indices: &[usize], batch: usize, epoch: u64) -> Batches {
        let mut b = Batches::new(indices.len(), batch, 0, epoch);
        b.order.iter_mut().for_each(|k| *k = indices[*k]);
        b
    }

    /// Drops the last chunk when it is short (PyTorch's `drop_last`): a static graph takes
    /// full batches, and the examples left out come first in another epoch's order.
    pub fn full(mut self) -> Batches {
        let whole = self.order.len() / self.batch * self.batch;
        self.order.truncate(whole);
        self
    }
}

impl Iterator for Batches {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch).min(self.order.len());
        let chunk = self.order[self.next..end].to_vec();
        self.next = end;
        Some(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch);
        (left, Some(left))
    }
}

/// `len()` is the number of chunks left (`ceil(n / batch)` for a fresh epoch).
impl ExactSizeIterator for Batches {}
