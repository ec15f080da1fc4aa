//! Text for a character language model: read a file, hold out its tail, sample windows.
//!
//! A window is `T` consecutive ids as input and the same `T` shifted by one as target, so the
//! model predicts each next character: `target[i] = ids[start + i + 1]`.

use std::path::Path;

use super::{data_error, line_of, read_file, Rng};
use crate::{Error, Result};

/// Reads a UTF-8 text file whole, with `\r\n` turned into `\n` and a byte-order mark dropped.
/// An unreadable file, invalid UTF-8 (naming the line) or an empty file is an
/// [`Error::Data`].
pub fn read_text(path: &Path) -> Result<String> {
    let name = path.display().to_string();
    let bytes = read_file(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        data_error(
            &name,
            line_of(&bytes, e.valid_up_to()),
            format!(
                "invalid UTF-8 at byte {} (save the file as UTF-8)",
                e.valid_up_to()
            ),
        )
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.is_empty() {
        return Err(data_error(name, 0, "the file is empty"));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Splits `ids` into (train, held-out): the last `round(heldout_fraction · n)` ids (fraction
/// clamped to [0, 1]) are held out. A tail rather than a random sample keeps held-out text
/// contiguous, so no training window overlaps it (except across the one boundary).
pub fn split_tail(ids: &[u32], heldout_fraction: f64) -> (&[u32], &[u32]) {
    let fraction = if heldout_fraction.is_nan() {
        0.0
    } else {
        heldout_fraction.clamp(0.0, 1.0)
    };
    let held = ((fraction * ids.len() as f64).round() as usize).min(ids.len());
    ids.split_at(ids.len() - held)
}

/// `B` windows of `T`, flattened row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmBatch {
    /// Windows `B`.
    pub batch: usize,
    /// Positions `T`.
    pub len: usize,
    /// `[B·T]` ids.
    pub input: Vec<u32>,
    /// `[B·T]` the next id after each input position.
    pub target: Vec<u32>,
}

/// `batch` windows of `t` ids sampled uniformly from `ids` (start positions deterministic from
/// `seed`; every start in `0 ..= n − t − 1` is equally likely). Needs `n ≥ t + 1` and
/// positive `t`, `batch`, else an [`Error::Length`].
pub fn lm_windows(ids: &[u32], t: usize, batch: usize, seed: u64) -> Result<LmBatch> {
    if t == 0 || batch == 0 || ids.len() < t + 1 {
        return Err(Error::Length {
            during: format!(
                "sampling {batch} language-model windows of {t} (need t, batch > 0 and t + 1 ids)"
            ),
            expected: t + 1,
            got: ids.len(),
        });
    }
    let starts = ids.len() - t;
    let mut rng = Rng::new(seed);
    let mut input = Vec::with_capacity(batch * t);
    let mut target = Vec::with_capacity(batch * t);
    for _ in 0..batch {
        let s = rng.below(starts);
        input.extend_from_slice(&ids[s..s + t]);
        target.extend_from_slice(&ids[s + 1..s + t + 1]);
    }
    Ok(LmBatch {
        batch,
        len: t,
        input,
        target,
    })
}

/// Fixed windows over a held-out token stream, for a score that means the same every epoch:
/// [`heldout_windows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldoutWindows {
    /// Full batches of `B` windows of `T`.
    pub batches: Vec<LmBatch>,
    /// Characters of the text the targets cover, in all (a window at `s` scores tokens
    /// `s+1 ..= s+T`, which cover `ends[s+T] − ends[s]` characters).
    pub chars: usize,
    /// Targets scored, in all (`batches · B · T`).
    pub tokens: usize,
}

/// Up to `max_batches` batches of `batch` windows of `t` over held-out `ids`, where `ends[i]`
/// is the character count of the text up to the end of token `i` (see
/// [`Tokenizer::encode_with_ends`](super::Tokenizer)): consecutive, non-overlapping windows
/// from the start when the text holds at least one batch of them (so the score is the
/// text's own bits per character), else `batch` windows spread evenly, overlapping. Needs
/// `t + 1` ids and `ends` as long as `ids`.
pub fn heldout_windows(
    ids: &[u32],
    ends: &[usize],
    t: usize,
    batch: usize,
    max_batches: usize,
) -> Result<HeldoutWindows> {
    if t == 0 || batch == 0 || ids.len() < t + 1 || ends.len() != ids.len() {
        return Err(Error::Length {
            during: format!(
                "scoring held-out windows of {t} (need t, batch > 0, t + 1 ids and one end per id)"
            ),
            expected: t + 1,
            got: ids.len().min(ends.len()),
        });
    }
    let whole = (ids.len() - 1) / t;
    let starts: Vec<usize> = if whole >= batch {
        let n = (whole / batch).min(max_batches.max(1)) * batch;
        (0..n).map(|w| w * t).collect()
    } else {
        let last = ids.len() - t - 1;
        (0..batch).map(|w| w * last / (batch - 1).max(1)).collect()
    };
    let mut chars = 0;
    let batches = starts
        .chunks(batch)
        .map(|chunk| {
            let mut input = Vec::with_capacity(batch * t);
            let mut target = Vec::with_capacity(batch * t);
            for &s in chunk {
                input.extend_from_slice(&ids[s..s + t]);
                target.extend_from_slice(&ids[s + 1..s + t + 1]);
                chars += ends[s + t] - ends[s];
            }
            LmBatch {
                batch,
                len: t,
                input,
                target,
            }
        })
        .collect::<Vec<_>>();
    Ok(HeldoutWindows {
        tokens: batches.len() * batch * t,
        batches,
        chars,
    })
}
