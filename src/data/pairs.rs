//! The user's own translation pairs: a `source<TAB>target` text file, one pair a line.
//!
//! This is the Tatoeba/Anki format of PyTorch's seq2seq tutorial (`eng-fra.txt`); the
//! manythings.org files add a third attribution column, and every column after the second is
//! ignored. Lines may end in `\n` or `\r\n`; a UTF-8 byte-order mark is skipped. Fields are
//! trimmed of surrounding whitespace.
//!
//! Nothing is dropped silently: each skipped line is counted under a [`SkipReason`] with its
//! first few line numbers, and [`PairFile::summary`] says it in one line for a CLI to print.
//! Lines are decoded one at a time, so a line that is not UTF-8 costs that line only. An
//! unreadable file or a file without one usable pair is an [`Error::Data`](crate::Error::Data).

use std::path::{Path, PathBuf};

use super::{data_error, read_file, refuse_utf16, Rng};
use crate::Result;

/// How many line numbers each skip reason keeps for the report.
pub const KEPT_LINE_NUMBERS: usize = 5;

/// Options for [`read_pairs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairOptions {
    /// Lines whose source or target is longer than this many characters (after trimming) are
    /// skipped and counted. `usize::MAX` (the default) keeps everything.
    pub max_len: usize,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            max_len: usize::MAX,
        }
    }
}

/// Why a line was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Empty or only whitespace.
    Blank,
    /// Not valid UTF-8.
    NotUtf8,
    /// Text but no tab to separate source from target.
    NoTab,
    /// A tab, but nothing (or only whitespace) before it.
    EmptySource,
    /// A source and a tab, but nothing (or only whitespace) after it.
    EmptyTarget,
    /// The source or the target is longer than [`PairOptions::max_len`].
    TooLong,
}

/// The lines skipped for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The reason.
    pub reason: SkipReason,
    /// How many lines.
    pub count: usize,
    /// The first [`KEPT_LINE_NUMBERS`] of them, 1-based.
    pub lines: Vec<usize>,
}

/// The pairs read from a file and what was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairFile {
    /// The file, as given.
    pub path: PathBuf,
    /// (source, target) in file order.
    pub pairs: Vec<(String, String)>,
    /// One entry per reason that skipped at least one line, in [`SkipReason`] order.
    pub skipped: Vec<Skipped>,
    /// The `max_len` the file was read with, for the report.
    pub max_len: usize,
}

impl PairFile {
    /// Lines skipped for any reason.
    pub fn skipped_lines(&self) -> usize {
        self.skipped.iter().map(|s| s.count).sum()
    }

    /// Lines skipped for `reason`.
    pub fn skipped_for(&self, reason: SkipReason) -> usize {
        self.skipped
            .iter()
            .filter(|s| s.reason == reason)
            .map(|s| s.count)
            .sum()
    }

    /// One line for a CLI: `read 1234 pairs from eng-fra.txt; skipped 3 lines: 2 without a
    /// tab (lines 7, 19), 1 longer than 64 chars (line 40)`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "read {} pair{} from {}",
            self.pairs.len(),
            plural(self.pairs.len()),
            self.path.display()
        );
        if !self.skipped.is_empty() {
            let n = self.skipped_lines();
            s += &format!("; skipped {n} line{}: ", plural(n));
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|k| describe(k, self.max_len))
                .collect();
            s += &parts.join(", ");
        }
        s
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Skipped {
    /// None skipped yet for `reason`.
    pub fn new(reason: SkipReason) -> Skipped {
        Skipped {
            reason,
            count: 0,
            lines: Vec::new(),
        }
    }

    /// Counts 1-based `line`, keeping its number among the first [`KEPT_LINE_NUMBERS`].
    pub fn add(&mut self, line: usize) {
        self.count += 1;
        if self.lines.len() < KEPT_LINE_NUMBERS {
            self.lines.push(line);
        }
    }
}

/// `2 not UTF-8 (lines 7, 19)`: what [`PairFile::summary`] and [`super::TextFile::summary`]
/// say of one reason's lines (`max_len` for [`SkipReason::TooLong`]).
pub(crate) fn describe(k: &Skipped, max_len: usize) -> String {
    let what = match k.reason {
        SkipReason::Blank => "blank or only whitespace".to_string(),
        SkipReason::NotUtf8 => "not UTF-8".to_string(),
        SkipReason::NoTab => "without a tab".to_string(),
        SkipReason::EmptySource => "with an empty source".to_string(),
        SkipReason::EmptyTarget => "with an empty target".to_string(),
        SkipReason::TooLong => format!("longer than {max_len} chars"),
    };
    let numbers: Vec<String> = k.lines.iter().map(|l| l.to_string()).collect();
    let more = if k.count > k.lines.len() { ", …" } else { "" };
    format!(
        "{} {what} (line{} {}{more})",
        k.count,
        plural(k.count),
        numbers.join(", ")
    )
}

/// Reads `source<TAB>target` lines from `path`; see the module doc for the rules.
pub fn read_pairs(path: &Path, opts: &PairOptions) -> Result<PairFile> {
    let name = path.display().to_string();
    let bytes = read_file(path)?;
    refuse_utf16(&name, &bytes)?;
    let bytes = bytes.strip_prefix("\u{FEFF}".as_bytes()).unwrap_or(&bytes);
    let mut pairs = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut skip =
        |reason: SkipReason, line: usize| match skipped.iter_mut().find(|s| s.reason == reason) {
            Some(s) => s.add(line),
            None => {
                let mut s = Skipped::new(reason);
                s.add(line);
                skipped.push(s);
            }
        };
    // Split the bytes, not a decoded string, so one bad line does not fail the file; a
    // trailing `\r` is dropped, so CRLF files read the same.
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for (i, line) in lines.into_iter().enumerate() {
        let number = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            skip(SkipReason::NotUtf8, number);
            continue;
        };
        if line.trim().is_empty() {
            skip(SkipReason::Blank, number);
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(source), Some(target)) = (fields.next(), fields.next()) else {
            skip(SkipReason::NoTab, number);
            continue;
        };
        let (source, target) = (source.trim(), target.trim());
        if source.is_empty() {
            skip(SkipReason::EmptySource, number);
        } else if target.is_empty() {
            skip(SkipReason::EmptyTarget, number);
        } else if source.chars().count() > opts.max_len || target.chars().count() > opts.max_len {
            skip(SkipReason::TooLong, number);
        } else {
            pairs.push((source.to_string(), target.to_string()));
        }
    }
    skipped.sort_by_key(|s| s.reason);
    let file = PairFile {
        path: path.to_path_buf(),
        pairs,
        skipped,
        max_len: opts.max_len,
    };
    if file.pairs.is_empty() {
        return Err(data_error(
            name,
            0,
            format!("no usable source<TAB>target pairs ({})", file.summary()),
        ));
    }
    Ok(file)
}

/// Splits `pairs` into (train, held-out), deterministic from `seed`: a shuffled
/// `round(heldout_fraction · n)` of them are held out (the fraction is clamped to [0, 1]); both
/// parts keep file order. The split is by line, so a source that appears on several lines
/// (one sentence, several translations) may land on both sides.
pub fn split_pairs<T>(pairs: Vec<T>, heldout_fraction: f64, seed: u64) -> (Vec<T>, Vec<T>) {
    let n = pairs.len();
    let fraction = if heldout_fraction.is_nan() {
        0.0
    } else {
        heldout_fraction.clamp(0.0, 1.0)
    };
    let held = ((fraction * n as f64).round() as usize).min(n);
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut is_held = vec![false; n];
    for &i in &order[..held] {
        is_held[i] = true;
    }
    let mut train = Vec::with_capacity(n - held);
    let mut heldout = Vec::with_capacity(held);
    for (pair, held) in pairs.into_iter().zip(is_held) {
        if held {
            heldout.push(pair);
        } else {
            train.push(pair);
        }
    }
    (train, heldout)
}

/// A sequence-to-sequence run's training and held-out pairs, read from the user's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairSets {
    /// The pairs to train on.
    pub train: Vec<(String, String)>,
    /// The pairs to score on.
    pub heldout: Vec<(String, String)>,
    /// Where the held-out pairs came from, for a summary: `--test FILE` or a split of the data.
    pub heldout_source: String,
    /// Each file's [`PairFile::summary`], for a CLI to print.
    pub reports: Vec<String>,
}

impl PairSets {
    /// The built-in dates task ([`date_pairs`](super::date_pairs)): `train` generated
    /// training pairs and `heldout` held-out ones whose dates training never sees.
    pub fn dates(seed: u64, train: usize, heldout: usize) -> PairSets {
        use super::dates::{date_pairs, Split};
        PairSets {
            train: date_pairs(seed, train, Split::Train),
            heldout: date_pairs(seed ^ 0x5eed, heldout, Split::Heldout),
            heldout_source: "generated held-out dates".to_string(),
            reports: Vec::new(),
        }
    }

    /// Reads `data` and holds out `test`'s pairs when it is given, otherwise a seeded
    /// `heldout_fraction` of `data` ([`split_pairs`]); at most `max_heldout` are kept.
    pub fn read(
        data: &Path,
        test: Option<&Path>,
        opts: &PairOptions,
        heldout_fraction: f64,
        max_heldout: usize,
        seed: u64,
    ) -> Result<PairSets> {
        let file = read_pairs(data, opts)?;
        let mut reports = vec![file.summary()];
        let (train, mut heldout, heldout_source) = match test {
            Some(test) => {
                let held = read_pairs(test, opts)?;
                reports.push(held.summary());
                (file.pairs, held.pairs, format!("--test {}", test.display()))
            }
            None => {
                let (train, held) = split_pairs(file.pairs, heldout_fraction, seed);
                let share = format!(
                    "a {:.0} % split of {}",
                    100.0 * heldout_fraction,
                    data.display()
                );
                (train, held, share)
            }
        };
        heldout.truncate(max_heldout);
        Ok(PairSets {
            train,
            heldout,
            heldout_source,
            reports,
        })
    }
}
