//! Every loader of the user's files against systematically corrupted copies of a valid file
//! (a checkpoint, a vector index, a pair file, an IDX file, an image): truncated at every k-th
//! byte, header bytes flipped, length prefixes that lie, overlapping or duplicated offsets,
//! shapes whose product overflows, wrong dtypes. Each case must return (an `Err` naming the
//! file, or `Ok` where the corruption left a valid file), within a second, holding at most
//! [`memory_bound`] bytes (measured by the test binary's allocator), and never panic.
//! The cases come from a seeded loop, so a failure names the case that reproduces it.

use super::*;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use kiln::data::{load_image_dir, read_idx_images, read_pairs, PairOptions};
use kiln::index::{Meta, VectorIndex};
use kiln::io::{checkpoint, CHECKPOINT_FILE};
use kiln::ParamStore;

/// A fresh, empty directory for one test under the system temp dir.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-corrupt-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One corrupted copy of a file and what it did to it.
struct Case {
    what: String,
    bytes: Vec<u8>,
}

/// Corruptions of `good` that any loader must survive: truncation at every `len/steps`-th
/// byte, single bytes of the first `header` bytes set to random values, and random bytes
/// anywhere, `flips` of each.
fn corruptions(good: &[u8], header: usize, steps: usize, flips: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let mut cases = Vec::new();
    let stride = (good.len() / steps).max(1);
    for at in (0..good.len()).step_by(stride) {
        cases.push(Case {
            what: format!("truncated to {at} bytes"),
            bytes: good[..at].to_vec(),
        });
    }
    for (region, span) in [("header", header.min(good.len())), ("anywhere", good.len())] {
        for _ in 0..flips {
            let mut bytes = good.to_vec();
            let at = rng.below(span);
            // Never the byte it was, so every case changes the file.
            let value = good[at] ^ (1 + rng.below(255)) as u8;
            bytes[at] = value;
            cases.push(Case {
                what: format!("byte {at} ({region}) set to {value:#04x}"),
                bytes,
            });
        }
    }
    cases
}

/// Runs `load` on every case written to `path`: a panic, a case over a second, or a case
/// `must_fail` that loads fails the test naming the case; an `Err` must name `path`.
/// Returns (cases, errors).
fn survive<T>(
    path: &Path,
    cases: &[Case],
    must_fail: impl Fn(&Case) -> bool,
    load: impl Fn(&Path) -> kiln::Result<T>,
) -> (usize, usize) {
    let name = path.display().to_string();
    let mut errors = 0;
    let mut worst = (0usize, String::new(), 0usize);
    for case in cases {
        std::fs::write(path, &case.bytes).unwrap();
        let start = Instant::now();
        let (result, peak) = meter::peak_during(|| catch_unwind(AssertUnwindSafe(|| load(path))));
        let took = start.elapsed().as_secs_f64();
        let what = &case.what;
        let result = result.unwrap_or_else(|_| panic!("{name}: {what}: the loader panicked"));
        assert!(took < 1.0, "{name}: {what}: took {took:.2} s");
        let bound = memory_bound(case.bytes.len());
        assert!(
            peak <= bound,
            "{name}: {what}: held {peak} bytes at most, over the {bound}-byte bound"
        );
        if peak > worst.0 {
            worst = (peak, what.clone(), case.bytes.len());
        }
        match result {
            Err(e) => {
                errors += 1;
                let shown = e.to_string();
                assert!(
                    shown.contains(&name),
                    "{what}: the error does not name the file: {shown}"
                );
            }
            Ok(_) => assert!(!must_fail(case), "{name}: {what}: loaded a corrupt file"),
        }
    }
    eprintln!(
        "{name}: at most {} bytes held by one load ({}, a {}-byte file)",
        worst.0, worst.1, worst.2
    );
    (cases.len(), errors)
}

/// What one load of a `len`-byte file may hold at its peak: the file read whole, the values
/// decoded from it and their copies, a few times over, plus a fixed allowance for
/// bookkeeping (paths, the JSON header, error messages). A lying header asking for more must
/// be refused before anything that size is reserved.
fn memory_bound(len: usize) -> usize {
    (1 << 20) + 8 * len
}

#[test]
fn the_memory_meter_sees_what_a_call_holds() {
    // The bound above is only as good as the meter: a 5 MiB buffer held inside the call is
    // counted, one freed before it is not held after, and other threads' allocations are not
    // this thread's.
    let (len, peak) = meter::peak_during(|| vec![1u8; 5 << 20].len());
    assert!(peak >= len && peak < len + (64 << 10), "{peak}");
    let (_, peak) = meter::peak_during(|| {
        std::thread::spawn(|| vec![1u8; 8 << 20].len())
            .join()
            .unwrap()
    });
    assert!(peak < 1 << 20, "{peak}");
}

#[test]
fn corrupt_checkpoints_give_errors_naming_the_file() {
    let dir = scratch("checkpoint");
    let mut store = ParamStore::new(1);
    store
        .write(ctx(), "enc.w", &[4, 6], &Rng::new(2).vec(24))
        .unwrap();
    store
        .write(ctx(), "enc.b", &[6], &Rng::new(3).vec(6))
        .unwrap();
    let mut meta = BTreeMap::new();
    meta.insert("config".to_string(), r#"{"width":6}"#.to_string());
    checkpoint::save(ctx(), &dir, &store, &[], 9, &meta).unwrap();
    let good = std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap();
    let header = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut cases = corruptions(&good, header, 200, 150, 11);
    // The length prefix lies: zero, one short, past the file, huge.
    for prefix in [
        0u64,
        header as u64 - 9,
        header as u64 + 1,
        good.len() as u64,
        u64::MAX / 2,
    ] {
        let mut bytes = good.clone();
        bytes[..8].copy_from_slice(&prefix.to_le_bytes());
        cases.push(Case {
            what: format!("length prefix {prefix}"),
            bytes,
        });
    }
    // Headers that lie about the data.
    let data = [0u8; 32];
    for (what, header) in [
        (
            "overlapping offsets",
            r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#,
        ),
        (
            "duplicated offsets",
            r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
        ),
        (
            "offsets past the data",
            r#"{"a":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}}"#,
        ),
        (
            "reversed offsets",
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[16,8]}}"#,
        ),
        (
            "shape product overflows",
            r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,32]}}"#,
        ),
        (
            "shape disagrees with the bytes",
            r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,32]}}"#,
        ),
        (
            "dtype width disagrees",
            r#"{"a":{"dtype":"F64","shape":[8],"data_offsets":[0,32]}}"#,
        ),
        (
            "unknown dtype",
            r#"{"a":{"dtype":"Q4","shape":[8],"data_offsets":[0,32]}}"#,
        ),
        (
            "header not JSON",
            r#"{"a":{"dtype":"F32","shape":[8],"data_off"#,
        ),
        (
            "metadata not strings",
            r#"{"__metadata__":{"step":7},"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#,
        ),
    ] {
        cases.push(Case {
            what: what.to_string(),
            bytes: safetensors_bytes(header, &data),
        });
    }
    let lies = 15;
    let path = dir.join("corrupt.safetensors");
    let n = cases.len();
    let (tried, errors) = survive(
        &path,
        &cases,
        |c| c.what.starts_with("truncated") || cases[n - lies..].iter().any(|l| l.what == c.what),
        |p: &Path| checkpoint::load(p),
    );
    assert!(
        tried >= 500 && errors >= lies,
        "{errors} errors in {tried} cases"
    );
    eprintln!("checkpoint: {tried} corrupted files, {errors} errors, no panic");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_vector_indexes_give_errors_naming_the_file() {
    let dir = scratch("index");
    let mut index = VectorIndex::new(ctx(), 5).unwrap();
    let vectors = Rng::new(4).vec(7 * 5);
    let metas = (0..7)
        .map(|i| Meta {
            text: format!("passage {i} with \"quotes\" and ünïcode"),
            source: "corpus.jsonl".into(),
            position: i,
            user_id: Some(serde_json::json!(format!("doc-{i}"))),
        })
        .collect();
    index.add(ctx(), &vectors, metas).unwrap();
    index.save(ctx(), &dir).unwrap();
    let names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut tried = 0;
    for file in names {
        let good = std::fs::read(&file).unwrap();
        let header = if file.extension().is_some_and(|e| e == "safetensors") {
            8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize
        } else {
            good.len()
        };
        let cases = corruptions(&good, header, 100, 60, 5);
        // Every byte of meta.jsonl is hashed, so any change to it is an error; a vectors file
        // whose data bytes changed can still load (the values are floats either way).
        let is_meta = header == good.len();
        let (n, _) = survive(
            &file,
            &cases,
            |c| is_meta || c.what.starts_with("truncated"),
            |_| VectorIndex::load(ctx(), &dir),
        );
        tried += n;
        std::fs::write(&file, &good).unwrap();
    }
    assert!(tried >= 400, "{tried} cases");
    eprintln!("vector index: {tried} corrupted files, no panic");
    VectorIndex::load(ctx(), &dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_pair_files_never_panic() {
    let dir = scratch("pairs");
    let good = "Go.\tVa !\nHi.\tSalut !\r\nRun!\tCours !\ncafé\tcoffee ☕\n"
        .repeat(5)
        .into_bytes();
    let cases = corruptions(&good, good.len(), 100, 150, 6);
    let path = dir.join("pairs.txt");
    // A truncation to 0 bytes is an error (no usable pair); the rest may load what is left.
    let (tried, _) = survive(
        &path,
        &cases,
        |c| c.bytes.is_empty(),
        |p| read_pairs(p, &PairOptions::default()),
    );
    assert!(tried >= 350, "{tried} cases");
    eprintln!("pair file: {tried} corrupted files, no panic");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_idx_files_give_errors_naming_the_file() {
    let dir = scratch("idx");
    let (n, rows, cols) = (3u32, 5u32, 4u32);
    let mut good = 0x0000_0803u32.to_be_bytes().to_vec();
    for d in [n, rows, cols] {
        good.extend(d.to_be_bytes());
    }
    good.extend((0..n * rows * cols).map(|i| (i * 7) as u8));
    let mut cases = corruptions(&good, 16, 80, 100, 7);
    // Sizes whose product overflows, or promises more than the file holds.
    for dims in [[u32::MAX; 3], [65536, 65536, 65536], [4, 5, 4], [0, 5, 4]] {
        let mut bytes = good.clone();
        for (i, d) in dims.iter().enumerate() {
            bytes[4 + 4 * i..8 + 4 * i].copy_from_slice(&d.to_be_bytes());
        }
        cases.push(Case {
            what: format!("sizes {dims:?}"),
            bytes,
        });
    }
    let path = dir.join("images.idx");
    let (tried, errors) = survive(
        &path,
        &cases,
        |c| c.what.starts_with("truncated") || c.what.starts_with("sizes"),
        read_idx_images,
    );
    assert!(
        tried >= 250 && errors >= 80,
        "{errors} errors in {tried} cases"
    );
    eprintln!("IDX: {tried} corrupted files, {errors} errors, no panic");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_images_are_skipped_and_named() {
    let dir = scratch("image");
    let img = image::RgbImage::from_fn(9, 7, |x, y| {
        image::Rgb([(x * 25) as u8, (y * 30) as u8, 90])
    });
    let good_path = dir.join("good.png");
    img.save(&good_path).unwrap();
    let good = std::fs::read(&good_path).unwrap();
    let folder = dir.join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a-good.png"), &good).unwrap();
    let cases = corruptions(&good, 33, 60, 60, 8);
    let bad = folder.join("b-bad.png");
    let (mut skipped, mut most) = (0, 0);
    for case in &cases {
        std::fs::write(&bad, &case.bytes).unwrap();
        let start = Instant::now();
        let (set, peak) =
            meter::peak_during(|| catch_unwind(AssertUnwindSafe(|| load_image_dir(&folder, 8, 3))));
        let set = set
            .unwrap_or_else(|_| panic!("{}: the image loader panicked", case.what))
            .unwrap_or_else(|e| panic!("{}: {e}", case.what));
        assert!(start.elapsed().as_secs_f64() < 1.0, "{}", case.what);
        // Both files together, decoded to at most 8x8 RGB floats, stay far under the bound;
        // a header that lies about its size must not be decoded at the size it claims.
        let bound = memory_bound(2 * good.len());
        assert!(
            peak <= bound,
            "{}: held {peak} bytes, over {bound}",
            case.what
        );
        most = most.max(peak);
        // The good image always loads; the bad one loads or is skipped with its name.
        assert!(set.count >= 1, "{}", case.what);
        if let Some((path, _)) = set.skipped.first() {
            assert_eq!(path, &bad, "{}", case.what);
            assert!(set.summary().contains("b-bad.png"), "{}", case.what);
            skipped += 1;
        }
    }
    assert!(cases.len() >= 150, "{} cases", cases.len());
    assert!(skipped >= 60, "{skipped} of {} skipped", cases.len());
    eprintln!(
        "image: {} corrupted files, {skipped} skipped and named, no panic, at most {most} bytes held",
        cases.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
