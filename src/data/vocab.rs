//! A character vocabulary: the specials [`PAD`], [`BOS`], [`EOS`], [`UNK`] (ids 0–3), then
//! every character seen, sorted by code point so the same texts always give the same ids.
//!
//! [`Vocab`]'s `Display` writes a single line that fits a safetensors checkpoint's string
//! metadata: `kiln-chars-v1 ` then the characters in id order, with backslash, tab, newline,
//! carriage return and space written `\\`, `\t`, `\n`, `\r`, `\s`, and quotes (`"`, `'`,
//! `` ` ``), the byte-order mark and every other control character written `\u{hex}`.
//! [`str::parse`] reads it back to the same ids.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use super::data_error;
use crate::Error;

/// Padding: fills unused positions; losses ignore it (`ignore_index = PAD`).
pub const PAD: u32 = 0;
/// Begin of sequence: the decoder's first input.
pub const BOS: u32 = 1;
/// End of sequence: the decoder's last target; decoding stops at it.
pub const EOS: u32 = 2;
/// A character the vocabulary has not seen.
pub const UNK: u32 = 3;
/// How many special ids come before the characters.
pub const SPECIALS: u32 = 4;

/// What [`Vocab::decode`] writes for [`UNK`] or an id out of range.
pub const UNK_CHAR: char = '\u{FFFD}';

const HEADER: &str = "kiln-chars-v1 ";

/// Characters ↔ ids; see the module doc. Serialised (serde) as its [`Display`](fmt::Display)
/// string, the form checkpoints store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Vocab {
    chars: Vec<char>,
    ids: HashMap<char, u32>,
}

impl Vocab {
    /// The vocabulary of every character in `texts`.
    pub fn from_texts<I, S>(texts: I) -> Vocab
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen = BTreeSet::new();
        for t in texts {
            seen.extend(t.as_ref().chars());
        }
        Vocab::from_sorted(seen.into_iter().collect())
    }

    fn from_sorted(chars: Vec<char>) -> Vocab {
        let ids = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i as u32 + SPECIALS))
            .collect();
        Vocab { chars, ids }
    }

    /// Ids including the four specials: the embedding's and the output layer's row count.
    pub fn len(&self) -> usize {
        self.chars.len() + SPECIALS as usize
    }

    /// Always false: the specials are always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The characters, in id order (the first has id [`SPECIALS`]).
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of `c`, if seen.
    pub fn id(&self, c: char) -> Option<u32> {
        self.ids.get(&c).copied()
    }

    /// One id per character of `text`, [`UNK`] for unseen ones; no BOS or EOS is added.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        text.chars().map(|c| self.id(c).unwrap_or(UNK)).collect()
    }

    /// The text of `ids` up to the first [`EOS`], skipping [`PAD`] and [`BOS`]; [`UNK`] and
    /// ids out of range become [`UNK_CHAR`].
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut out = String::new();
        for &id in ids {
            match id {
                EOS => break,
                PAD | BOS => {}
                _ => out.push(
                    id.checked_sub(SPECIALS)
                        .and_then(|i| self.chars.get(i as usize))
                        .copied()
                        .unwrap_or(UNK_CHAR),
                ),
            }
        }
        out
    }
}

impl fmt::Display for Vocab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(HEADER)?;
        for &c in &self.chars {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\t' => f.write_str("\\t")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                // A space at either end of a metadata value is easily trimmed away by tools.
                ' ' => f.write_str("\\s")?,
                // Quotes too, so the line needs no further quoting in JSON, TOML or a shell.
                c if c.is_control() || matches!(c, '"' | '\'' | '`' | '\u{FEFF}') => {
                    write!(f, "\\u{{{:x}}}", c as u32)?
                }
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

impl Vocab {
    /// The vocabulary of every source and target of `pairs`.
    pub fn from_pairs(pairs: &[(String, String)]) -> Vocab {
        Vocab::from_texts(pairs.iter().flat_map(|(s, t)| [s.as_str(), t.as_str()]))
    }

    /// Each (source, target) pair as ids.
    pub fn encode_pairs(&self, pairs: &[(String, String)]) -> Vec<(Vec<u32>, Vec<u32>)> {
        pairs
            .iter()
            .map(|(s, t)| (self.encode(s), self.encode(t)))
            .collect()
    }
}

impl From<Vocab> for String {
    fn from(v: Vocab) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for Vocab {
    type Error = Error;

    fn try_from(s: String) -> Result<Vocab, Error> {
        s.parse()
    }
}

fn parse_error(message: impl Into<String>) -> Error {
    data_error("vocabulary", 0, message)
}

impl FromStr for Vocab {
    type Err = Error;

    /// Reads [`Vocab`]'s `Display` form; the characters must be strictly increasing, as
    /// written, so the ids are the ones the model was trained with.
    fn from_str(s: &str) -> Result<Vocab, Error> {
        let body = s
            .strip_prefix(HEADER)
            .ok_or_else(|| parse_error(format!("expected it to start with {HEADER:?}")))?;
        let mut chars = Vec::new();
        let mut it = body.chars();
        while let Some(c) = it.next() {
            let c = if c != '\\' {
                c
            } else {
                match it.next() {
                    Some('\\') => '\\',
                    Some('t') => '\t',
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('s') => ' ',
                    Some('u') => {
                        if it.next() != Some('{') {
                            return Err(parse_error("expected '{' after \\u"));
                        }
                        let mut hex = String::new();
                        loop {
                            match it.next() {
                                Some('}') => break,
                                Some(h) if hex.len() < 6 => hex.push(h),
                                _ => return Err(parse_error("unterminated \\u{...} escape")),
                            }
                        }
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| parse_error(format!("bad escape \\u{{{hex}}}")))?
                    }
                    other => return Err(parse_error(format!("unknown escape \\{other:?}"))),
                }
            };
            if chars.last().is_some_and(|&last| last >= c) {
                return Err(parse_error(format!(
                    "characters out of order or repeated at {c:?}"
                )));
            }
            chars.push(c);
        }
        Ok(Vocab::from_sorted(chars))
    }
}
