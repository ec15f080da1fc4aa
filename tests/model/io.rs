//! Checkpoints (round trips, atomic replacement, corrupt files, restore errors), pictures
//! (sizes, colours, tile placement, text) read back with the image crate.

use super::*;

use std::collections::BTreeMap;
use std::path::PathBuf;

use kiln::io::{checkpoint, CHECKPOINT_FILE};
use kiln::{ParamStore, Tensor};

/// A fresh, empty directory for one test under the system temp dir.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-io-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A store with awkward shapes (a scalar, a vector, a 3-D weight) and values that include
/// subnormals, negative zero and extremes, so "bitwise" means something.
fn store(seed: u64) -> (ParamStore, Vec<(String, Vec<usize>, Vec<f32>)>) {
    let mut rng = Rng::new(seed);
    let mut store = ParamStore::new(seed);
    let mut want = Vec::new();
    for (name, shape) in [
        ("dec.out.b", vec![7]),
        ("enc.w", vec![3, 5, 2]),
        ("scale", vec![]),
    ] {
        let n: usize = shape.iter().product();
        let mut v = rng.vec(n);
        if n > 3 {
            v[0] = -0.0;
            v[1] = f32::MIN_POSITIVE / 3.0;
            v[2] = f32::MAX;
        }
        store.write(ctx(), name, &shape, &v).unwrap();
        want.push((name.to_string(), shape, v));
    }
    (store, want)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn checkpoint_round_trip_is_bitwise() {
    let dir = scratch("round-trip");
    let (src, want) = store(1);
    let m = Tensor::from_f32(ctx(), &[3, 5, 2], &Rng::new(9).vec(30)).unwrap();
    let optim = vec![("enc.w.0".to_string(), &m)];
    checkpoint::save(ctx(), &dir, &src, &optim, 42, &BTreeMap::new()).unwrap();

    let ckpt = checkpoint::load(&dir.join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(ckpt.step(), Some(42));
    assert_eq!(ckpt.tensors.len(), 4);
    let (shape, values) = ckpt.get("optim/enc.w.0").unwrap();
    assert_eq!(shape, &[3, 5, 2]);
    assert_eq!(bits(values), bits(&m.to_vec_f32(ctx()).unwrap()));

    // Into a store whose values differ, and into an empty store that must gain the parameters.
    let (mut other, _) = store(2);
    let m2 = Tensor::from_f32(ctx(), &[3, 5, 2], &[0.0; 30]).unwrap();
    let unused =
        checkpoint::restore(ctx(), &ckpt, &mut other, &[("enc.w.0".to_string(), &m2)]).unwrap();
    assert!(unused.is_empty(), "{unused:?}");
    assert_eq!(
        bits(&m2.to_vec_f32(ctx()).unwrap()),
        bits(&m.to_vec_f32(ctx()).unwrap())
    );
    let mut empty = ParamStore::new(3);
    let unused = checkpoint::restore(ctx(), &ckpt, &mut empty, &[]).unwrap();
    assert_eq!(unused, vec!["optim/enc.w.0".to_string()]);
    for target in [&other, &empty] {
        assert_eq!(target.len(), want.len());
        for (name, shape, v) in &want {
            let t = target.get(name).unwrap();
            assert_eq!(t.shape(), shape.as_slice(), "{name}");
            assert_eq!(bits(&t.to_vec_f32(ctx()).unwrap()), bits(v), "{name}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_metadata_round_trips() {
    let dir = scratch("metadata");
    let (src, _) = store(4);
    let mut meta = BTreeMap::new();
    meta.insert("vocab".to_string(), "abc \"quoted\"\n\\ é→中".to_string());
    meta.insert("flags".to_string(), "--layers 2 --heads 4".to_string());
    meta.insert("empty".to_string(), String::new());
    checkpoint::save(ctx(), &dir, &src, &[], 7, &meta).unwrap();
    let ckpt = checkpoint::load(&dir.join(CHECKPOINT_FILE)).unwrap();
    let mut want = meta.clone();
    want.insert("step".to_string(), "7".to_string());
    assert_eq!(ckpt.metadata, want);

    meta.insert("step".to_string(), "1".to_string());
    let err = checkpoint::save(ctx(), &dir, &src, &[], 7, &meta).unwrap_err();
    assert!(err.to_string().contains("'step' is reserved"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_save_is_atomic_and_replaces() {
    let dir = scratch("atomic");
    let (first, want_first) = store(5);
    checkpoint::save(ctx(), &dir, &first, &[], 1, &BTreeMap::new()).unwrap();

    // A crash mid-save leaves a torn .tmp beside the good checkpoint: loading ignores it.
    let tmp = dir.join(format!("{CHECKPOINT_FILE}.tmp"));
    std::fs::write(&tmp, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":").unwrap();
    let ckpt = checkpoint::load(&dir.join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(ckpt.step(), Some(1));
    assert_eq!(bits(ckpt.get("enc.w").unwrap().1), bits(&want_first[1].2));

    // The next save goes through the stale .tmp and replaces the checkpoint.
    let (second, want_second) = store(6);
    checkpoint::save(ctx(), &dir, &second, &[], 2, &BTreeMap::new()).unwrap();
    assert!(!tmp.exists(), "the temporary file must be renamed away");
    let ckpt = checkpoint::load(&dir.join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(ckpt.step(), Some(2));
    assert_eq!(bits(ckpt.get("enc.w").unwrap().1), bits(&want_second[1].2));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec![CHECKPOINT_FILE.to_string()]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_bad_files_name_the_path() {
    let dir = scratch("corrupt");
    let (src, _) = store(7);
    checkpoint::save(ctx(), &dir, &src, &[], 3, &BTreeMap::new()).unwrap();
    let good = std::fs::read(dir.join(CHECKPOINT_FILE)).unwrap();

    let missing = dir.join("nope.safetensors");
    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &good[..good.len() - 5]).unwrap();
    let header_cut = dir.join("header-cut.safetensors");
    std::fs::write(&header_cut, &good[..20]).unwrap();
    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a safetensors file at all").unwrap();
    let empty = dir.join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();

    for path in [&missing, &truncated, &header_cut, &garbage, &empty] {
        let err = checkpoint::load(path).unwrap_err();
        assert!(matches!(err, kiln::Error::Io { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_restore_errors_name_tensor_and_shapes() {
    let dir = scratch("mismatch");
    let (src, _) = store(8);
    checkpoint::save(ctx(), &dir, &src, &[], 3, &BTreeMap::new()).unwrap();
    let ckpt = checkpoint::load(&dir.join(CHECKPOINT_FILE)).unwrap();

    let mut wrong = ParamStore::new(0);
    wrong.write(ctx(), "enc.w", &[5, 3, 2], &[0.5; 30]).unwrap();
    let err = checkpoint::restore(ctx(), &ckpt, &mut wrong, &[]).unwrap_err();
    let text = err.to_string();
    for part in ["enc.w", "[3, 5, 2]", "[5, 3, 2]", CHECKPOINT_FILE] {
        assert!(text.contains(part), "missing {part:?} in: {text}");
    }
    // Nothing was written: the store still holds its own values and no new parameters.
    assert_eq!(wrong.len(), 1);
    assert_eq!(
        wrong.get("enc.w").unwrap().to_vec_f32(ctx()).unwrap(),
        vec![0.5; 30]
    );

    let mut extra = ParamStore::new(0);
    extra.write(ctx(), "dec.embed", &[4, 2], &[0.0; 8]).unwrap();
    let err = checkpoint::restore(ctx(), &ckpt, &mut extra, &[]).unwrap_err();
    assert!(err.to_string().contains("no tensor 'dec.embed'"), "{err}");

    let m = Tensor::from_f32(ctx(), &[2], &[0.0; 2]).unwrap();
    let err = checkpoint::restore(
        ctx(),
        &ckpt,
        &mut ParamStore::new(0),
        &[("enc.w.1".to_string(), &m)],
    )
    .unwrap_err();
    assert!(err.to_string().contains("optim/enc.w.1"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_loads_half_precision() {
    // A hand-built safetensors file: 8-byte header length, JSON header, f16 then bf16 data.
    let dir = scratch("half");
    let header = r#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"c":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    // f16 1.5 = 0x3E00, -2 = 0xC000; bf16 1.5 = 0x3FC0, -2 = 0xC000.
    bytes.extend_from_slice(&[0x00, 0x3E, 0x00, 0xC0, 0xC0, 0x3F, 0x00, 0xC0]);
    bytes.extend_from_slice(&[0; 8]);
    let path = dir.join("half.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    let err = checkpoint::load(&path).unwrap_err().to_string();
    assert!(err.contains("'c'") && err.contains("I64"), "{err}");

    let header = r#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0x00, 0x3E, 0x00, 0xC0, 0xC0, 0x3F, 0x00, 0xC0]);
    std::fs::write(&path, &bytes).unwrap();
    let ckpt = checkpoint::load(&path).unwrap();
    assert_eq!(ckpt.get("a").unwrap().1, &[1.5, -2.0]);
    assert_eq!(ckpt.get("b").unwrap().1, &[1.5, -2.0]);
    std::fs::remove_dir_all(&dir).unwrap();
}
