//! Pretrained models loaded from Hugging Face folders.
//!
//! [`SentenceEncoder`] runs a BERT-family sentence encoder (the reference is
//! sentence-transformers' all-MiniLM-L6-v2) from its folder: `config.json` ([`BertConfig`]),
//! `model.safetensors` (tensors by their Hugging Face names, f32/f16/bf16, each checked for
//! name, shape and dtype before anything runs), `tokenizer.json` (WordPiece, through the
//! `tokenizers` crate) and sentence-transformers' `modules.json`, `1_Pooling/config.json` and
//! `sentence_bert_config.json` ([`SentenceConfig`]). Nothing is downloaded at run time:
//! `.ci/fetch_minilm.sh DIR` fetches the reference model once.
//!
//! ```no_run
//! # fn main() -> kiln::Result<()> {
//! let ctx = kiln::Context::new()?;
//! let mut encoder = kiln::pretrained::SentenceEncoder::load(&ctx, "models/all-MiniLM-L6-v2")?;
//! let vectors = encoder.embed(&ctx, &["A man is eating food.", "A monkey plays drums."])?;
//! assert_eq!(vectors[0].len(), 384);
//! # Ok(()) }
//! ```

mod config;
mod encoder;
mod weights;

use std::path::Path;

use crate::error::{Error, Result};

pub use config::{BertConfig, Pooling, SentenceConfig};
pub use encoder::{SentenceEncoder, DEFAULT_BATCH};

/// The lines of a UTF-8 text file, one text each (a trailing `\r` dropped), for
/// [`SentenceEncoder::embed`]. A file that is not UTF-8 is an [`Error::Data`] naming the file
/// and the first bad line.
pub fn read_texts(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("cannot read: {e}"),
    })?;
    let mut texts = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|e| Error::Data {
            path: path.display().to_string(),
            line: i + 1,
            message: format!(
                "not UTF-8 (byte {} of the line); texts must be UTF-8",
                e.valid_up_to() + 1
            ),
        })?;
        texts.push(text.to_string());
    }
    // A final newline ends the last line rather than starting an empty one.
    if bytes.ends_with(b"\n") {
        texts.pop();
    }
    Ok(texts)
}
