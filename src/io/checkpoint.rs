//! Checkpoints: one safetensors file, `DIR/checkpoint.safetensors`, holding every parameter of
//! a [`ParamStore`] under its own name, optimizer state under `"optim/<name>"` (the names of
//! [`Plan::optimizer_state`](crate::Plan::optimizer_state)), and string metadata in the
//! format's `__metadata__` map: `step` plus whatever the caller adds. A
//! [`Trainer`](crate::train::Trainer) adds `epoch` and `config`, the model's config as JSON
//! (serde), which [`Checkpoint::config`] turns back into the config type, so a program can
//! rebuild exactly the model that was saved from the checkpoint alone.
//!
//! [`save`] and [`load`] both take the run's directory (`load` also takes the path of any
//! safetensors file).
//!
//! Saving is atomic: the bytes go to `checkpoint.safetensors.tmp` in the same directory, the
//! file is synced, renamed over the final name and the directory synced, so a crash at any
//! point leaves either the previous checkpoint or the new one, never a torn file. A leftover
//! `.tmp` from such a crash is ignored by [`load`] and overwritten by the next [`save`].
//!
//! Any safetensors file with f32, f16 or bf16 tensors loads (the last two widened to f32), so
//! weights written by other tools can be restored when their names and shapes match.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::ParamStore;
use crate::tensor::{DType, Tensor};

/// The checkpoint's file name inside its directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";

/// Prefix of optimizer state tensors in the file.
const OPTIM_PREFIX: &str = "optim/";

/// Metadata key of the step counter.
const STEP_KEY: &str = "step";

/// Metadata key of the model's config, serialised as JSON.
pub const CONFIG_KEY: &str = "config";

/// Metadata key of the count of completed epochs.
pub const EPOCH_KEY: &str = "epoch";

/// Metadata key of a run stopped mid-epoch: `k/n`, `k` batches taken of the `n` in the epoch
/// after the completed ones; absent at an epoch's end.
pub const BATCH_KEY: &str = "batch";

/// A checkpoint read into host memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    /// The file it was read from (empty for one built in memory); errors name it.
    pub path: PathBuf,
    /// `(name, shape, values)` of every floating-point tensor, in name order.
    pub tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
    /// `(name, shape, values)` of every integer or boolean tensor whose values all fit in a
    /// u32 (PyTorch's `position_ids`, `num_batches_tracked`), in name order.
    pub integers: Vec<(String, Vec<usize>, Vec<u32>)>,
    /// `(name, why)` of each tensor that did not load (an integer out of u32's range, a dtype
    /// kiln has no use for such as f64 or f8), in name order: a caller that needs one of them
    /// gets the reason, and every other tensor still loads.
    pub skipped: Vec<(String, String)>,
    /// The string metadata, `step` included.
    pub metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// The step counter saved with it, if the file has a readable one.
    pub fn step(&self) -> Option<u64> {
        self.metadata.get(STEP_KEY)?.parse().ok()
    }

    /// Completed epochs saved with it, if the file has a readable count.
    pub fn epoch(&self) -> Option<usize> {
        self.metadata.get(EPOCH_KEY)?.parse().ok()
    }

    /// For a run saved mid-epoch, `(taken, of)`: batches taken of those in the epoch after the
    /// completed ones; `None` at an epoch's end (or when the value does not parse).
    pub fn batch(&self) -> Option<(usize, usize)> {
        let (taken, of) = self.metadata.get(BATCH_KEY)?.split_once('/')?;
        Some((taken.parse().ok()?, of.parse().ok()?))
    }

    /// The model's config saved with it (by a [`Trainer`](crate::train::Trainer), or under
    /// [`CONFIG_KEY`] by the caller), deserialised with serde. A missing or mismatched config
    /// is an error naming the file and what is wrong (a field missing, of the wrong type).
    pub fn config<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let text = self.metadata.get(CONFIG_KEY).ok_or_else(|| {
            self.error(format!(
                "has no '{CONFIG_KEY}' in its metadata (not written by kiln's Trainer?)"
            ))
        })?;
        serde_json::from_str(text)
            .map_err(|e| self.error(format!("its config does not fit this program: {e}")))
    }

    /// An integer tensor's shape and values by its name in the file.
    pub fn get_u32(&self, name: &str) -> Option<(&[usize], &[u32])> {
        self.integers
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, v)| (s.as_slice(), v.as_slice()))
    }

    /// A float tensor's shape and values by its name in the file.
    pub fn get(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, v)| (s.as_slice(), v.as_slice()))
    }

    fn error(&self, message: String) -> Error {
        Error::Io {
            path: self.path.display().to_string(),
            message,
        }
    }
}

fn io_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Downloads every parameter of `store` and the `optimizer_state` tensors and writes them,
/// with `step` and `metadata`, atomically to `dir/checkpoint.safetensors` (creating `dir`).
///
/// `metadata` may not use the key `step`; a parameter may not be named so that it collides
/// with an optimizer tensor's `"optim/<name>"`. Every tensor must be f32.
pub fn save(
    ctx: &Context,
    dir: impl AsRef<Path>,
    store: &ParamStore,
    optimizer_state: &[(String, &Tensor)],
    step: u64,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let dir = dir.as_ref();
    // `Path::new("")` (a bare file name's parent) means the current directory.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let final_path = dir.join(CHECKPOINT_FILE);
    if metadata.contains_key(STEP_KEY) {
        return Err(io_error(
            &final_path,
            "the metadata key 'step' is reserved for the step counter",
        ));
    }
    let mut named: Vec<(String, &Tensor)> = store.iter().map(|(n, t)| (n.clone(), t)).collect();
    named.extend(
        optimizer_state
            .iter()
            .map(|(n, t)| (format!("{OPTIM_PREFIX}{n}"), *t)),
    );
    let mut seen = BTreeSet::new();
    let mut host: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(named.len());
    for (name, t) in named {
        if !seen.insert(name.clone()) {
            return Err(io_error(
                &final_path,
                format!("two tensors would be saved under the name '{name}'"),
            ));
        }
        if t.dtype() != DType::F32 {
            return Err(io_error(
                &final_path,
                format!("tensor '{name}' is {:?}; checkpoints hold f32", t.dtype()),
            ));
        }
        let values = t.to_vec_f32(ctx)?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        host.push((name, t.shape().to_vec(), bytes));
    }
    let mut views = Vec::with_capacity(host.len());
    for (name, shape, bytes) in &host {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|e| io_error(&final_path, format!("tensor '{name}': {e}")))?;
        views.push((name.as_str(), view));
    }
    // The map's type is left to inference: safetensors uses std's HashMap or hashbrown's
    // depending on its features, and kiln builds it without std (std would pull in tempfile).
    let info = metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain([(STEP_KEY.to_string(), step.to_string())])
        .collect();
    let bytes = safetensors::serialize(views, Some(info))
        .map_err(|e| io_error(&final_path, format!("cannot serialise: {e}")))?;
    write_atomically(dir, &final_path, &bytes)
}

/// Writes `bytes` to `final_path` (a file in `dir`) through a synced temporary file
/// `<name>.tmp` in `dir` and a rename, creating `dir`.
pub fn write_atomically(dir: &Path, final_path: &Path, bytes: &[u8]) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, format!("cannot create: {e}")))?;
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| CHECKPOINT_FILE.to_string());
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut file =
            fs::File::create(&tmp).map_err(|e| io_error(&tmp, format!("cannot create: {e}")))?;
        file.write_all(bytes)
            .map_err(|e| io_error(&tmp, format!("cannot write: {e}")))?;
        // Without this the rename may reach the disk before the data, and a power cut would
        // leave the final name pointing at an empty or partial file.
        file.sync_all()
            .map_err(|e| io_error(&tmp, format!("cannot sync: {e}")))?;
    }
    fs::rename(&tmp, final_path).map_err(|e| {
        io_error(
            final_path,
            format!("cannot rename {} over it: {e}", tmp.display()),
        )
    })?;
    sync_dir(dir)
}

/// Makes the rename itself durable: the directory entry lives in the directory's own data.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    let handle = fs::File::open(dir).map_err(|e| io_error(dir, format!("cannot open: {e}")))?;
    handle
        .sync_all()
        .map_err(|e| io_error(dir, format!("cannot sync the directory: {e}")))
}

/// Directories cannot be opened as files here (Windows needs backup semantics for that);
/// the rename is as durable as the platform makes it.
#[cfg(not(unix))]
fn sync_dir(dir: &Path) -> Result<()> {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}

/// Reads a checkpoint: `path` is a run directory (holding `checkpoint.safetensors`, as
/// [`save`] writes it) or any safetensors file. Float tensors (f32, or f16/bf16 widened to
/// f32) and integer tensors (as u32) come in name order, with the metadata; a tensor that
/// cannot load is listed in [`Checkpoint::skipped`] with the reason, and the rest still load.
/// A missing, truncated or malformed file gives [`Error::Io`] naming the path.
pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
    let path = path.as_ref();
    let joined;
    let path = if path.is_dir() {
        joined = path.join(CHECKPOINT_FILE);
        joined.as_path()
    } else {
        path
    };
    let bytes = fs::read(path).map_err(|e| io_error(path, format!("cannot read: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| io_error(path, format!("not a valid safetensors file: {e:?}")))?;
    let metadata: BTreeMap<String, String> = header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| io_error(path, format!("not a valid safetensors file: {e:?}")))?;
    let (mut tensors, mut integers, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (name, view) in file.tensors() {
        let shape = view.shape().to_vec();
        if let Some(values) = widen(view.dtype(), view.data()) {
            tensors.push((name, shape, values));
            continue;
        }
        match narrow(view.dtype(), view.data()) {
            Some(Ok(values)) => integers.push((name, shape, values)),
            Some(Err(why)) => skipped.push((name, why)),
            None => skipped.push((
                name,
                format!("{:?} is not a dtype kiln loads", view.dtype()),
            )),
        }
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    integers.sort_by(|a, b| a.0.cmp(&b.0));
    skipped.sort();
    Ok(Checkpoint {
        path: path.to_path_buf(),
        tensors,
        integers,
        skipped,
        metadata,
    })
}

/// Little-endian integer or boolean `data` of `dtype` as u32: `None` for a dtype that is
/// neither, `Err` naming the first value out of u32's range.
fn narrow(dtype: Dtype, data: &[u8]) -> Option<std::result::Result<Vec<u32>, String>> {
    fn fit<const N: usize>(
        data: &[u8],
        value: impl Fn([u8; N]) -> i128,
    ) -> std::result::Result<Vec<u32>, String> {
        data.chunks_exact(N)
            .enumerate()
            .map(|(i, b)| {
                let mut word = [0u8; N];
                word.copy_from_slice(b);
                let v = value(word);
                u32::try_from(v)
                    .map_err(|_| format!("value {v} at element {i} does not fit in a u32"))
            })
            .collect()
    }
    Some(match dtype {
        Dtype::BOOL | Dtype::U8 => fit::<1>(data, |b| b[0] as i128),
        Dtype::I8 => fit::<1>(data, |b| i8::from_le_bytes(b) as i128),
        Dtype::I16 => fit::<2>(data, |b| i16::from_le_bytes(b) as i128),
        Dtype::U16 => fit::<2>(data, |b| u16::from_le_bytes(b) as i128),
        Dtype::I32 => fit::<4>(data, |b| i32::from_le_bytes(b) as i128),
        Dtype::U32 => fit::<4>(data, |b| u32::from_le_bytes(b) as i128),
        Dtype::I64 => fit::<8>(data, |b| i64::from_le_bytes(b) as i128),
        Dtype::U64 => fit::<8>(data, |b| u64::from_le_bytes(b) as i128),
        _ => return None,
    })
}

/// Little-endian `data` of `dtype` as f32, or `None` for a dtype kiln does not load.
pub(crate) fn widen(dtype: Dtype, data: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        Dtype::F32 => Some(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        Dtype::F16 => Some(
            data.chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        ),
        Dtype::BF16 => Some(
            data.chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        ),
        _ => None,
    }
}

/// Writes a checkpoint's values into `store` and the `optimizer_state` tensors (those of a
/// plan compiled against `store`, by the names [`save`] was given).
///
/// Every parameter the store holds and every optimizer tensor asked for must be in the
/// checkpoint with the same shape; otherwise nothing more is written and the error names the
/// tensor and both shapes. Parameters in the file that the store lacks are created in it, so a
/// fresh store can be filled before plans are compiled against it.
///
/// Returns the names of the optimizer tensors in the file that nothing asked for (restoring
/// an inference plan from a training checkpoint is normal, so this is not an error; a caller
/// resuming training may insist the list is empty).
pub fn restore(
    ctx: &Context,
    ckpt: &Checkpoint,
    store: &mut ParamStore,
    optimizer_state: &[(String, &Tensor)],
) -> Result<Vec<String>> {
    let mut wanted: Vec<(String, Vec<usize>, Option<&Tensor>)> = store
        .iter()
        .map(|(n, t)| (n.clone(), t.shape().to_vec(), None))
        .collect();
    wanted.extend(
        optimizer_state
            .iter()
            .map(|(n, t)| (format!("{OPTIM_PREFIX}{n}"), t.shape().to_vec(), Some(*t))),
    );
    // Check everything first so that a bad checkpoint leaves the store untouched.
    for (name, shape, _) in &wanted {
        match ckpt.get(name) {
            None => {
                let why = match ckpt.skipped.iter().find(|(n, _)| n == name) {
                    Some((_, why)) => format!(": it did not load ({why})"),
                    None => String::new(),
                };
                return Err(ckpt.error(format!(
                    "has no tensor '{name}' (wanted with shape {shape:?}){why}"
                )));
            }
            Some((file_shape, _)) if file_shape != shape.as_slice() => {
                return Err(ckpt.error(format!(
                    "tensor '{name}' has shape {file_shape:?} in the checkpoint but {shape:?} here"
                )))
            }
            Some(_) => {}
        }
    }
    let taken: BTreeSet<&str> = wanted.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut unused = Vec::new();
    for (name, shape, values) in &ckpt.tensors {
        if taken.contains(name.as_str()) {
            continue;
        }
        if name.starts_with(OPTIM_PREFIX) {
            unused.push(name.clone());
        } else {
            store.write(ctx, name, shape, values)?;
        }
    }
    for (name, shape, target) in &wanted {
        let Some((_, values)) = ckpt.get(name) else {
            continue;
        };
        match target {
            Some(t) => t.write_f32(ctx, values)?,
            None => store.write(ctx, name, shape, values)?,
        }
    }
    Ok(unused)
}
