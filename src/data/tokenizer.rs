//! Tokenizers for text models: characters (kiln's [`Vocab`]), or a byte-level BPE or a
//! WordPiece vocabulary trained on the user's text with Hugging Face's `tokenizers` crate.
//!
//! Every kind reserves the same specials at ids 0–3 ([`PAD`], [`BOS`], [`EOS`], [`UNK`]), so
//! a sequence model pads, starts and stops the same way whatever it reads. A [`Tokenizer`]
//! serialises whole (serde: a character vocabulary as its one-line form, a trained one as
//! Hugging Face's `tokenizer.json` object), so a checkpoint's config rebuilds it exactly;
//! [`Tokenizer::save`] also writes the `tokenizer.json` file other tools read.
//!
//! - `char`: one id per character; round-trips any text whose characters it has seen.
//! - `bpe`: byte-level BPE (GPT-2's scheme): every text encodes, and decoding gives back the
//!   exact text, whitespace and all.
//! - `wordpiece`: BERT's scheme, words split on whitespace and punctuation then into pieces;
//!   decoding joins words with single spaces, so it does not round-trip whitespace exactly.
//!
//! [`PAD`]: super::vocab::PAD
//! [`BOS`]: super::vocab::BOS
//! [`EOS`]: super::vocab::EOS
//! [`UNK`]: super::vocab::UNK

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::AddedToken;

use super::Vocab;
use crate::{Error, Result};

/// The specials, in id order, as trained tokenizers spell them.
const SPECIALS: [&str; 4] = ["<pad>", "<s>", "</s>", "<unk>"];

/// The largest share of unknown tokens [`Tokenizer::check_coverage`] lets through.
pub const MAX_UNKNOWN_SHARE: f64 = 0.01;

/// Which tokenizer a run trains (`--tokenizer char|bpe|wordpiece`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    /// One id per character.
    Char,
    /// Byte-level byte-pair encoding.
    Bpe,
    /// WordPiece.
    WordPiece,
}

impl fmt::Display for TokenizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenizerKind::Char => "char",
            TokenizerKind::Bpe => "bpe",
            TokenizerKind::WordPiece => "wordpiece",
        })
    }
}

impl FromStr for TokenizerKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "char" | "chars" => Ok(TokenizerKind::Char),
            "bpe" => Ok(TokenizerKind::Bpe),
            "wordpiece" => Ok(TokenizerKind::WordPiece),
            _ => Err(format!(
                "unknown tokenizer '{s}': expected char, bpe or wordpiece"
            )),
        }
    }
}

/// Text ↔ ids; see the module doc.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tokenizer {
    /// Characters.
    Char(Vocab),
    /// Byte-level BPE.
    Bpe(Box<tokenizers::Tokenizer>),
    /// WordPiece.
    WordPiece(Box<tokenizers::Tokenizer>),
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tokenizer({}, {} ids)", self.kind(), self.len())
    }
}

fn hf_error(what: &str, e: impl fmt::Display) -> Error {
    Error::Unsupported(format!("tokenizer {what}: {e}"))
}

impl Tokenizer {
    /// A tokenizer of `kind` learned from both sides of `pairs` (see [`train`](Self::train)).
    pub fn train_on_pairs(
        kind: TokenizerKind,
        pairs: &[(String, String)],
        vocab_size: usize,
    ) -> Result<Tokenizer> {
        let sides: Vec<&str> = pairs
            .iter()
            .flat_map(|(s, t)| [s.as_str(), t.as_str()])
            .collect();
        Tokenizer::train(kind, &sides, vocab_size)
    }

    /// Each pair's (source ids, target ids), without BOS/EOS.
    pub fn encode_pairs(&self, pairs: &[(String, String)]) -> Result<Vec<(Vec<u32>, Vec<u32>)>> {
        pairs
            .iter()
            .map(|(s, t)| Ok((self.encode(s)?, self.encode(t)?)))
            .collect()
    }

    /// A tokenizer of `kind` learned from `texts`: every character seen (`char`, where
    /// `vocab_size` is ignored), or a vocabulary of at most `vocab_size` ids, specials
    /// included (`bpe` needs at least 4 + 256 for its byte alphabet).
    pub fn train(kind: TokenizerKind, texts: &[&str], vocab_size: usize) -> Result<Tokenizer> {
        let specials: Vec<AddedToken> = SPECIALS
            .iter()
            .map(|s| AddedToken::from(*s, true))
            .collect();
        match kind {
            TokenizerKind::Char => Ok(Tokenizer::Char(Vocab::from_texts(texts))),
            TokenizerKind::Bpe => {
                let alphabet = ByteLevel::alphabet();
                if vocab_size < SPECIALS.len() + alphabet.len() {
                    return Err(Error::Unsupported(format!(
                        "a byte-level BPE vocabulary needs at least {} ids (4 specials and 256 \
                         bytes), got --vocab-size {vocab_size}",
                        SPECIALS.len() + alphabet.len()
                    )));
                }
                let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
                    .vocab_size(vocab_size)
                    .min_frequency(2)
                    .show_progress(false)
                    .special_tokens(specials)
                    .initial_alphabet(alphabet.into_iter().collect())
                    .build()
                    .into();
                let mut t = tokenizers::Tokenizer::new(BPE::default());
                let byte_level = ByteLevel::new(false, false, true);
                t.with_pre_tokenizer(Some(byte_level));
                t.with_decoder(Some(byte_level));
                t.train(&mut trainer, texts.iter())
                    .map_err(|e| hf_error("training", e))?;
                Ok(Tokenizer::Bpe(Box::new(t)))
            }
            TokenizerKind::WordPiece => {
                if vocab_size <= SPECIALS.len() {
                    return Err(Error::Unsupported(format!(
                        "a WordPiece vocabulary needs more than the 4 specials, got \
                         --vocab-size {vocab_size}"
                    )));
                }
                let mut trainer: TrainerWrapper = WordPieceTrainerBuilder::new()
                    .vocab_size(vocab_size)
                    .min_frequency(2)
                    .show_progress(false)
                    .special_tokens(specials)
                    .build()
                    .into();
                let model = WordPiece::builder()
                    .unk_token(SPECIALS[3].to_string())
                    .build()
                    .map_err(|e| hf_error("setup", e))?;
                let mut t = tokenizers::Tokenizer::new(model);
                t.with_pre_tokenizer(Some(BertPreTokenizer));
                t.with_decoder(Some(tokenizers::decoders::wordpiece::WordPiece::default()));
                t.train(&mut trainer, texts.iter())
                    .map_err(|e| hf_error("training", e))?;
                Ok(Tokenizer::WordPiece(Box::new(t)))
            }
        }
    }

    /// Reads a `tokenizer.json` written by [`save`](Self::save) (or by Hugging Face, for a
    /// BPE or WordPiece model whose specials are kiln's).
    pub fn from_file(path: &Path) -> Result<Tokenizer> {
        let io = |message: String| Error::Io {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| io(e.to_string()))?;
        let t = tokenizers::Tokenizer::from_bytes(&bytes).map_err(|e| io(e.to_string()))?;
        for (id, s) in SPECIALS.iter().enumerate() {
            if t.token_to_id(s) != Some(id as u32) {
                return Err(io(format!(
                    "kiln needs the special '{s}' at id {id} (padding, begin, end, unknown)"
                )));
            }
        }
        match t.get_model() {
            tokenizers::ModelWrapper::BPE(_) => Ok(Tokenizer::Bpe(Box::new(t))),
            tokenizers::ModelWrapper::WordPiece(_) => Ok(Tokenizer::WordPiece(Box::new(t))),
            _ => Err(io("only BPE and WordPiece tokenizers are supported".into())),
        }
    }

    /// Writes Hugging Face's `tokenizer.json` for a trained tokenizer (a character vocabulary
    /// has no such form and writes nothing: it lives in the checkpoint's config).
    pub fn save(&self, path: &Path) -> Result<()> {
        let hf = match self {
            Tokenizer::Char(_) => return Ok(()),
            Tokenizer::Bpe(t) | Tokenizer::WordPiece(t) => t,
        };
        let text = hf.to_string(true).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::io::checkpoint::write_atomically(dir, path, text.as_bytes())
    }

    /// Which kind this is.
    pub fn kind(&self) -> TokenizerKind {
        match self {
            Tokenizer::Char(_) => TokenizerKind::Char,
            Tokenizer::Bpe(_) => TokenizerKind::Bpe,
            Tokenizer::WordPiece(_) => TokenizerKind::WordPiece,
        }
    }

    /// Ids in all, specials included: a model's vocabulary size.
    pub fn len(&self) -> usize {
        match self {
            Tokenizer::Char(v) => v.len(),
            Tokenizer::Bpe(t) | Tokenizer::WordPiece(t) => t.get_vocab_size(true),
        }
    }

    /// Whether there are no ids (never, for a tokenizer made here).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An error unless this tokenizer has exactly the `model_vocab` ids a model was built
    /// for: a checkpoint whose tokenizer and model disagree would decode the wrong text.
    pub fn check_fits(&self, model_vocab: usize) -> Result<()> {
        if self.len() == model_vocab {
            return Ok(());
        }
        Err(Error::Unsupported(format!(
            "the {} tokenizer has {} ids but the model's vocabulary is {model_vocab}: \
             they were not saved together",
            self.kind(),
            self.len()
        )))
    }

    /// How well this vocabulary covers text encoded as `ids` (read from `source`, a file
    /// name or "the prompt"): an error when more than [`MAX_UNKNOWN_SHARE`] of the tokens are
    /// [`UNK`](super::vocab::UNK), so a run resumed on text its vocabulary never saw stops
    /// instead of training on unknown-for-unknown; otherwise a warning line when any are.
    pub fn check_coverage<'a>(
        &self,
        source: &str,
        ids: impl IntoIterator<Item = &'a [u32]>,
    ) -> Result<Option<String>> {
        let (mut unknown, mut total) = (0usize, 0usize);
        for seq in ids {
            total += seq.len();
            unknown += seq.iter().filter(|&&id| id == super::vocab::UNK).count();
        }
        if unknown == 0 {
            return Ok(None);
        }
        let share = unknown as f64 / total.max(1) as f64;
        let what = format!(
            "{unknown} of {total} tokens of {source} ({:.2} %) are not in this {}-id {} vocabulary",
            100.0 * share,
            self.len(),
            self.kind()
        );
        if share > MAX_UNKNOWN_SHARE {
            return Err(Error::Unsupported(format!(
                "{what}: the text is not what the vocabulary was built from (a new run, \
                 without --resume, builds one for it)"
            )));
        }
        Ok(Some(format!("warning: {what}; they read as <unk>")))
    }

    /// The ids of `text` (no specials added).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.encode_with_ends(text)?.0)
    }

    /// The ids of `text` and, for each, the number of characters of `text` up to the end of
    /// that token: what a score per character divides by (a span of tokens `i..=j` covers
    /// `ends[j] - ends[i - 1]` characters, the spaces between WordPiece words included).
    pub fn encode_with_ends(&self, text: &str) -> Result<(Vec<u32>, Vec<usize>)> {
        match self {
            Tokenizer::Char(v) => {
                let ids = v.encode(text);
                let ends = (1..=ids.len()).collect();
                Ok((ids, ends))
            }
            Tokenizer::Bpe(t) | Tokenizer::WordPiece(t) => {
                let enc = t
                    .encode_char_offsets(text, false)
                    .map_err(|e| hf_error("encoding", e))?;
                let ends = enc.get_offsets().iter().map(|&(_, end)| end).collect();
                Ok((enc.get_ids().to_vec(), ends))
            }
        }
    }

    /// The text of `ids`, specials left out.
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Tokenizer::Char(v) => v.decode(ids),
            Tokenizer::Bpe(t) | Tokenizer::WordPiece(t) => {
                t.decode(ids, true).unwrap_or_else(|_| {
                    // An id out of range decodes as the replacement character, as Vocab does.
                    ids.iter()
                        .map(|&id| t.decode(&[id], true).unwrap_or_else(|_| "\u{FFFD}".into()))
                        .collect()
                })
            }
        }
    }
}
