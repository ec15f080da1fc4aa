//! Text for a character language model: read a file, hold out its tail, sample windows.
//!
//! A window is `T` consecutive ids as input and the same `T` shifted by one as target, so the
//! model predicts each next character: `target[i] = ids[start + i + 1]`.

use std::path::{Path, PathBuf};

use super::pairs::{describe, SkipReason, Skipped};
use super::{data_error, read_file, refuse_utf16, Rng};
use crate::{Error, Result};

/// A text file as [`read_text`] reads it: its text, and the lines it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextFile {
    /// The file, as given.
    pub path: PathBuf,
    /// The text, `\r\n` turned into `\n`, a byte-order mark dropped, bad lines left out.
    pub text: String,
    /// The lines left out for not being UTF-8 (a count of 0 when none were).
    pub not_utf8: Skipped,
}

impl TextFile {
    /// One line for a CLI: `read 14123 characters from book.txt; skipped 1 not UTF-8 (line
    /// 108)`, as [`super::PairFile::summary`] words it.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "read {} characters from {}",
            self.text.chars().count(),
            self.path.display()
        );
        if self.not_utf8.count > 0 {
            s += &format!("; skipped {}", describe(&self.not_utf8, 0));
        }
        s
    }
}

/// Reads a UTF-8 text file whole, with `\r\n` turned into `\n` and a byte-order mark dropped.
/// A line that is not UTF-8 is left out and counted ([`TextFile::summary`] names it), so one
/// bad line does not cost the rest. An [`Error::Data`] naming the file (and the first bad
/// line): an unreadable or empty file, a UTF-16 or UTF-32 one (by its byte-order mark), or
/// one where more than a tenth of the lines (two at least) are not UTF-8, which reads as
/// another encoding rather than a few damaged lines.
pub fn read_text(path: &Path) -> Result<TextFile> {
    let name = path.display().to_string();
    let bytes = read_file(path)?;
    if bytes.is_empty() {
        return Err(data_error(name, 0, "the file is empty"));
    }
    refuse_utf16(&name, &bytes)?;
    let mut text = String::with_capacity(bytes.len());
    let (mut not_utf8, mut lines) = (Skipped::new(SkipReason::NotUtf8), 0);
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        lines += 1;
        match std::str::from_utf8(line) {
            Ok(line) => text.push_str(line),
            Err(_) => not_utf8.add(i + 1),
        }
    }
    if not_utf8.count >= 2 && not_utf8.count * 10 > lines {
        return Err(data_error(
            name,
            not_utf8.lines[0],
            format!(
                "{} of its {lines} lines are not UTF-8: save the file as UTF-8 (it reads as \
                 another encoding)",
                not_utf8.count
            ),
        ));
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    if text.is_empty() {
        let line = not_utf8.lines.first().copied().unwrap_or(0);
        return Err(data_error(
            name,
            line,
            "no line of the file is UTF-8 (save it as UTF-8)",
        ));
    }
    Ok(TextFile {
        path: path.to_path_buf(),
        text: text.replace("\r\n", "\n"),
        not_utf8,
    })
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
