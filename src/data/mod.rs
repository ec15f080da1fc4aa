//! Data for training sequence and image models, on the CPU: no GPU needed.
//!
//! - [`dates`]: the built-in task, dates written the many ways people write them → ISO 8601,
//!   generated from a seed, with a held-out split by date.
//! - [`pairs`]: the user's own `source<TAB>target` file (the Tatoeba/Anki format), with every
//!   skipped line counted and reported.
//! - [`vocab`]: a character vocabulary with the specials PAD, BOS, EOS, UNK and a one-line text
//!   form for checkpoint metadata.
//! - [`batch`]: fixed-shape encoder-decoder batches for static graphs and a shuffling epoch
//!   iterator.
//! - [`text`]: a text file for a language model, sampled as shifted windows.
//! - [`tokenizer`]: characters, or a BPE or WordPiece vocabulary trained on the user's text
//!   (feature `text`).
//! - [`digits`]: the built-in image task, handwritten-looking digits drawn from a seed.
//! - [`images`]: the user's own folder of PNG/JPEG/BMP images, cropped and resized, with every
//!   unreadable file counted and named; fixed-batch gathering.
//! - [`idx`]: MNIST's IDX image and label files.
//!
//! Everything random here is deterministic from a `u64` seed (SplitMix64), so a run repeats.

pub mod batch;
pub mod dates;
pub mod digits;
pub mod facts;
pub mod idx;
pub mod images;
pub mod pairs;
pub mod text;
#[cfg(feature = "text")]
pub mod tokenizer;
pub mod vocab;

pub use batch::{BatchShape, Batches, Seq2SeqBatch};
pub use dates::{date_examples, date_pairs, Case, Date, DateExample, DateFormat, Split};
pub use digits::digit_images;
pub use facts::{KnowledgeBase, Pieces, Question};
pub use idx::{idx_to_images, read_idx_images, read_idx_labels};
pub use images::{image_batch, ImageSet, LabelledImages};
#[cfg(feature = "images")]
pub use images::{load_image_classes, load_image_dir};
pub use pairs::{read_pairs, split_pairs, PairFile, PairOptions, PairSets, SkipReason, Skipped};
pub use text::{
    heldout_windows, lm_windows, read_text, split_tail, HeldoutWindows, LmBatch, TextFile,
};
#[cfg(feature = "text")]
pub use tokenizer::{Tokenizer, TokenizerKind};
pub use vocab::Vocab;

use crate::Error;

/// SplitMix64: small, fast and good enough to shuffle data; the same stream on every platform.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `[0, n)`; `n` must be positive. The modulo bias is below 2^-40 for the sizes
    /// used here, far under anything a training run could notice.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fisher-Yates, in place.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// `n` draws from the standard normal distribution (Box-Muller), the same for the same `seed` on
/// every platform: a GAN's noise batches and fixed sample grids.
pub fn normal_noise(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Rng::new(mix(seed));
    let mut unit = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (0..n)
        .map(|_| {
            let (u1, u2) = (unit(), unit());
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
        })
        .collect()
}

/// SplitMix64's finaliser: a fixed, well-mixed hash of one `u64`.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Shorthand for an [`Error::Data`].
pub(crate) fn data_error(
    path: impl Into<String>,
    line: usize,
    message: impl Into<String>,
) -> Error {
    Error::Data {
        path: path.into(),
        line,
        message: message.into(),
    }
}

/// An [`Error::Data`] naming `path` when `bytes` open with a UTF-16 or UTF-32 byte-order mark:
/// such a file's lines are mostly valid UTF-8 full of NULs, so no line-by-line check would
/// catch it (Windows PowerShell 5's `>` writes UTF-16).
pub(crate) fn refuse_utf16(path: &str, bytes: &[u8]) -> crate::Result<()> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(data_error(
            path,
            1,
            "the file is UTF-16 or UTF-32 (its byte-order mark says so): save it as UTF-8",
        ));
    }
    Ok(())
}

/// Reads a whole file, turning an I/O failure into an [`Error::Data`] naming it.
pub(crate) fn read_file(path: &std::path::Path) -> crate::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| data_error(path.display().to_string(), 0, format!("cannot read: {e}")))
}
