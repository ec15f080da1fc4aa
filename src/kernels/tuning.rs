//! The on-disk record of measured kernel choices, one entry per adapter.
//!
//! A variant race decided by a few milliseconds on a busy machine made the same command 2x
//! slower in some runs than in others; remembering the decision on disk makes every run on a
//! machine use the same kernels and pays the race once. The file is a cache: one that is
//! missing, unreadable or from another format is ignored and rewritten, never an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variable naming kiln's cache folder; empty or `none` keeps choices in memory.
pub const ENV_CACHE_DIR: &str = "KILN_CACHE_DIR";

/// The file inside the cache folder.
const FILE_NAME: &str = "tuning.json";

/// Bumped when the file's layout changes; a file of another format is ignored.
const FORMAT: u32 = 1;

/// kiln's cache folder: [`ENV_CACHE_DIR`] if set, else the platform's per-user cache folder
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%`
/// on Windows) with `kiln` appended; `None` when there is none or it was switched off.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = std::env::var_os(ENV_CACHE_DIR) {
        let off = dir.is_empty() || dir.eq_ignore_ascii_case("none");
        return (!off).then(|| PathBuf::from(dir));
    }
    let base = if cfg!(target_os = "windows") {
        var("LOCALAPPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| PathBuf::from(h).join("Library").join("Caches"))
    } else {
        var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
    };
    base.map(|b| b.join("kiln"))
}

/// One adapter's measured choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunedChoice {
    /// The variant's name ([`crate::kernels::MatmulVariant::name`]).
    pub matmul: String,
    /// The kernels it was measured with ([`kernels_version`]); another version re-measures,
    /// with this choice as the incumbent.
    pub kernels: String,
    /// Milliseconds for the race's shapes, per variant that was still in it at the end.
    pub ms: BTreeMap<String, f64>,
    /// Rounds the race ran.
    pub rounds: u32,
}

#[derive(Default, Serialize, Deserialize)]
struct TuningFile {
    format: u32,
    adapters: BTreeMap<String, TunedChoice>,
}

/// The tuning file in `dir`.
pub fn tuning_file(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Every entry of the tuning file in `dir`; empty when the file is missing or unreadable.
fn read_all(dir: &Path) -> BTreeMap<String, TunedChoice> {
    std::fs::read(tuning_file(dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<TuningFile>(&bytes).ok())
        .filter(|f| f.format == FORMAT)
        .map(|f| f.adapters)
        .unwrap_or_default()
}

/// The entry for `adapter` in the tuning file in `dir`, if there is a readable one.
pub fn load(dir: &Path, adapter: &str) -> Option<TunedChoice> {
    read_all(dir).remove(adapter)
}

/// Records `choice` for `adapter` in the tuning file in `dir`, keeping the other adapters'
/// entries. Written to a temporary file and renamed over the old one, so a reader (another
/// process) never sees half a file.
pub fn store(dir: &Path, adapter: &str, choice: &TunedChoice) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut adapters = read_all(dir);
    adapters.insert(adapter.to_string(), choice.clone());
    let text = serde_json::to_string_pretty(&TuningFile {
        format: FORMAT,
        adapters,
    })
    .map_err(std::io::Error::other)?;
    let tmp = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, tuning_file(dir)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The key of an adapter in the tuning file: everything that identifies the hardware and the
/// driver that runs the kernels.
pub fn adapter_key(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} | {:?} | {:04x}:{:04x} | {} {}",
        info.name, info.backend, info.vendor, info.device, info.driver, info.driver_info
    )
}

/// A fingerprint of the kernels a choice was measured with: kiln's version and an FNV-1a hash
/// of the texts in `sources`, so that a changed kernel is measured again.
pub fn kernels_version<'a>(sources: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for text in sources {
        for byte in text.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{}-{hash:016x}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn choice(name: &str) -> TunedChoice {
        TunedChoice {
            matmul: name.into(),
            kernels: "v".into(),
            ms: BTreeMap::from([("texture".into(), 12.5), ("register".into(), 31.0)]),
            rounds: 4,
        }
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-tuning-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_stored_choice_loads_back_beside_other_adapters() {
        let dir = scratch("roundtrip");
        assert_eq!(load(&dir, "a"), None, "no file yet");
        store(&dir, "a", &choice("texture")).unwrap();
        store(&dir, "b", &choice("register")).unwrap();
        assert_eq!(load(&dir, "a"), Some(choice("texture")));
        assert_eq!(load(&dir, "b"), Some(choice("register")));
        store(&dir, "a", &choice("workgroup")).unwrap();
        assert_eq!(load(&dir, "a").unwrap().matmul, "workgroup");
        assert_eq!(load(&dir, "b").unwrap().matmul, "register");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != FILE_NAME)
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_ignored_and_then_replaced() {
        let dir = scratch("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        for bad in [
            &b"{\"format\": 1, \"adapters\": {\"a\": {\"matm"[..],
            b"\xff\xfe not json",
            b"{\"format\": 99, \"adapters\": {}}",
            b"[]",
        ] {
            std::fs::write(tuning_file(&dir), bad).unwrap();
            assert_eq!(load(&dir, "a"), None);
        }
        store(&dir, "a", &choice("texture")).unwrap();
        assert_eq!(load(&dir, "a"), Some(choice("texture")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_kernels_version_changes_with_any_source_text() {
        let base = kernels_version(["fn a() {}", "fn b() {}"]);
        assert_eq!(base, kernels_version(["fn a() {}", "fn b() {}"]));
        assert_ne!(base, kernels_version(["fn a() {} ", "fn b() {}"]));
        // The separator keeps a boundary moved between two texts from hashing the same.
        assert_ne!(base, kernels_version(["fn a() {}fn", " b() {}"]));
        assert!(base.starts_with(env!("CARGO_PKG_VERSION")));
    }
}
