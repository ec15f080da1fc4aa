//! Saving and loading a [`VectorIndex`]: a directory with two files.
//!
//! - `vectors.safetensors`: one f32 tensor `vectors [N, dim]` (the live vectors, unit length,
//!   unpadded, in id order) and string metadata: `format` (`kiln.vector_index`), `version`,
//!   `dim`, `count`, `next_id`, and `meta_fnv1a64`, a hash of the whole `meta.jsonl`.
//! - `meta.jsonl`: one JSON object per vector, in the same order:
//!   `{"id": 7, "text": "...", "source": "notes.md", "position": 120}`, plus
//!   `"user_id": <any JSON value>` when the [`Meta`] has one (a line without it, as files
//!   written before the field existed have, loads with `user_id: None`).
//!
//! Each file is written atomically (a synced temporary file renamed over the final name, as
//! checkpoints are). `meta.jsonl` is written first and `vectors.safetensors` last, carrying
//! the hash of the metadata it belongs with, so a crash between the two renames, a truncated
//! or edited metadata file, or files from two different saves are detected at load, never
//! silently mixed. Every problem is an error naming the file (and the line, for
//! `meta.jsonl`).

use std::path::Path;

use serde_json::Value;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::io::checkpoint::{self, write_atomically};

use super::{IndexOptions, Meta, VectorIndex};

/// The vectors' file name inside an index directory.
pub const VECTORS_FILE: &str = "vectors.safetensors";
/// The metadata file name inside an index directory.
pub const META_FILE: &str = "meta.jsonl";
/// The `format` metadata value of the vectors file.
const FORMAT: &str = "kiln.vector_index";
/// The file layout's version.
const VERSION: &str = "1";

/// 64-bit FNV-1a: a small, dependency-free hash to tie the two files together (not a defence
/// against deliberate tampering).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn io_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn data_error(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Data {
        path: path.display().to_string(),
        line,
        message: message.into(),
    }
}

impl VectorIndex {
    /// Writes the live vectors and their ids and metadata to `dir` (created if missing); see
    /// [`file`](self). Removed vectors are not written.
    pub fn save(&self, ctx: &Context, dir: &Path) -> Result<()> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let (vectors, metas, ids) = self.live_data(ctx)?;
        let mut jsonl = String::new();
        for (m, id) in metas.iter().zip(&ids) {
            let mut line = serde_json::json!({
                "id": id,
                "text": m.text,
                "source": m.source,
                "position": m.position,
            });
            if let Some(user_id) = &m.user_id {
                line["user_id"] = user_id.clone();
            }
            jsonl += &serde_json::to_string(&line)
                .map_err(|e| io_error(&dir.join(META_FILE), format!("cannot encode: {e}")))?;
            jsonl.push('\n');
        }
        let vectors_path = dir.join(VECTORS_FILE);
        let bytes: Vec<u8> = vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(
            safetensors::tensor::Dtype::F32,
            vec![ids.len(), self.dim],
            &bytes,
        )
        .map_err(|e| io_error(&vectors_path, format!("cannot serialise: {e}")))?;
        let info = [
            ("format", FORMAT.to_string()),
            ("version", VERSION.to_string()),
            ("dim", self.dim.to_string()),
            ("count", ids.len().to_string()),
            ("next_id", self.next_id.to_string()),
            (
                "meta_fnv1a64",
                format!("{:016x}", fnv1a64(jsonl.as_bytes())),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let st = safetensors::serialize([("vectors", view)], Some(info))
            .map_err(|e| io_error(&vectors_path, format!("cannot serialise: {e}")))?;
        write_atomically(dir, &dir.join(META_FILE), jsonl.as_bytes())?;
        write_atomically(dir, &vectors_path, &st)
    }

    /// Reads an index saved by [`VectorIndex::save`] into GPU memory.
    pub fn load(ctx: &Context, dir: &Path) -> Result<VectorIndex> {
        VectorIndex::load_with_options(ctx, dir, IndexOptions::default())
    }

    /// [`VectorIndex::load`] with explicit options (the shard size).
    pub fn load_with_options(ctx: &Context, dir: &Path, opts: IndexOptions) -> Result<VectorIndex> {
        let vectors_path = dir.join(VECTORS_FILE);
        let meta_path = dir.join(META_FILE);
        let ckpt = checkpoint::load(&vectors_path)?;
        let field = |key: &str| -> Result<&str> {
            ckpt.metadata.get(key).map(|s| s.as_str()).ok_or_else(|| {
                io_error(
                    &vectors_path,
                    format!("no '{key}' in the metadata: not a kiln vector index file"),
                )
            })
        };
        if field("format")? != FORMAT || field("version")? != VERSION {
            return Err(io_error(
                &vectors_path,
                format!(
                    "format '{}' version '{}'; this kiln reads '{FORMAT}' version '{VERSION}'",
                    field("format")?,
                    field("version")?
                ),
            ));
        }
        let number = |key: &str| -> Result<u64> {
            field(key)?
                .parse()
                .map_err(|_| io_error(&vectors_path, format!("metadata '{key}' is not a number")))
        };
        let (dim, count, next_id) = (
            number("dim")? as usize,
            number("count")? as usize,
            number("next_id")?,
        );
        let (shape, values) = ckpt
            .get("vectors")
            .ok_or_else(|| io_error(&vectors_path, "no tensor named 'vectors'"))?;
        if shape != [count, dim] {
            return Err(io_error(
                &vectors_path,
                format!("tensor 'vectors' is {shape:?}, the metadata says [{count}, {dim}]"),
            ));
        }
        let bytes = std::fs::read(&meta_path)
            .map_err(|e| io_error(&meta_path, format!("cannot read: {e}")))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| data_error(&meta_path, 0, format!("not UTF-8: {e}")))?;
        let mut metas = Vec::with_capacity(count);
        let mut ids = Vec::with_capacity(count);
        for (i, line) in text.lines().enumerate() {
            let (id, meta) = parse_line(line).map_err(|m| data_error(&meta_path, i + 1, m))?;
            if ids.last().is_some_and(|&last| id <= last) || id >= next_id {
                return Err(data_error(
                    &meta_path,
                    i + 1,
                    format!("id {id} out of order or not below next_id {next_id}"),
                ));
            }
            ids.push(id);
            metas.push(meta);
        }
        if ids.len() != count {
            return Err(data_error(
                &meta_path,
                0,
                format!(
                    "{} lines, but {VECTORS_FILE} holds {count} vectors (a truncated file, or \
                     files from two saves)",
                    ids.len()
                ),
            ));
        }
        let want = field("meta_fnv1a64")?;
        let got = format!("{:016x}", fnv1a64(&bytes));
        if got != want {
            return Err(data_error(
                &meta_path,
                0,
                format!(
                    "hash {got} does not match the {want} recorded in {}: one of the two \
                     files was changed, truncated or comes from another save",
                    vectors_path.display()
                ),
            ));
        }
        let mut index = VectorIndex::with_options(ctx, dim, opts)?;
        index.next_id = next_id;
        index
            .insert_with_ids(ctx, values, metas, &ids)
            .map_err(|e| io_error(&vectors_path, e.to_string()))?;
        Ok(index)
    }
}

/// One `meta.jsonl` line: `(id, meta)`, or what is wrong with it.
fn parse_line(line: &str) -> std::result::Result<(u64, Meta), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| "not a JSON object".to_string())?;
    let num = |k: &str| {
        obj.get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("'{k}' is missing or not a non-negative integer"))
    };
    let string = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("'{k}' is missing or not a string"))
    };
    Ok((
        num("id")?,
        Meta {
            text: string("text")?,
            source: string("source")?,
            position: num("position")?,
            user_id: obj.get("user_id").filter(|v| !v.is_null()).cloned(),
        },
    ))
}
