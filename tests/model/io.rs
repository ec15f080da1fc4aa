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
/// `(name, shape, values)` of each parameter put in a store.
type Written = Vec<(String, Vec<usize>, Vec<f32>)>;

fn store(seed: u64) -> (ParamStore, Written) {
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

    let ckpt = checkpoint::load(dir.join(CHECKPOINT_FILE)).unwrap();
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
    let ckpt = checkpoint::load(dir.join(CHECKPOINT_FILE)).unwrap();
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
    let ckpt = checkpoint::load(dir.join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(ckpt.step(), Some(1));
    assert_eq!(bits(ckpt.get("enc.w").unwrap().1), bits(&want_first[1].2));

    // The next save goes through the stale .tmp and replaces the checkpoint.
    let (second, want_second) = store(6);
    checkpoint::save(ctx(), &dir, &second, &[], 2, &BTreeMap::new()).unwrap();
    assert!(!tmp.exists(), "the temporary file must be renamed away");
    let ckpt = checkpoint::load(dir.join(CHECKPOINT_FILE)).unwrap();
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
    let ckpt = checkpoint::load(dir.join(CHECKPOINT_FILE)).unwrap();

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
    let dir = scratch("half");
    let header = r#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}"#;
    // f16 1.5 = 0x3E00, -2 = 0xC000; bf16 1.5 = 0x3FC0, -2 = 0xC000.
    let data = [0x00, 0x3E, 0x00, 0xC0, 0xC0, 0x3F, 0x00, 0xC0];
    let path = dir.join("half.safetensors");
    std::fs::write(&path, safetensors_bytes(header, &data)).unwrap();
    let ckpt = checkpoint::load(&path).unwrap();
    assert_eq!(ckpt.get("a").unwrap().1, &[1.5, -2.0]);
    assert_eq!(ckpt.get("b").unwrap().1, &[1.5, -2.0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_integer_tensors_load_beside_the_float_ones() {
    // A PyTorch state dict's shape: float weights, an I64 `position_ids` and an I64
    // `num_batches_tracked`, plus an I64 below zero and an F64 that kiln cannot use. The
    // floats load, the integers that fit load as u32, the other two are named with a reason.
    let dir = scratch("integers");
    let header = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"position_ids":{"dtype":"I64","shape":[1,3],"data_offsets":[8,32]},"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[32,40]},"negative":{"dtype":"I64","shape":[2],"data_offsets":[40,56]},"double":{"dtype":"F64","shape":[1],"data_offsets":[56,64]},"flags":{"dtype":"BOOL","shape":[2],"data_offsets":[64,66]}}"#;
    let mut data = Vec::new();
    data.extend([0.5f32, -3.0].iter().flat_map(|v| v.to_le_bytes()));
    data.extend([0i64, 1, 2].iter().flat_map(|v| v.to_le_bytes()));
    data.extend(4_000_000_000i64.to_le_bytes());
    data.extend([7i64, -1].iter().flat_map(|v| v.to_le_bytes()));
    data.extend(1.25f64.to_le_bytes());
    data.extend([1u8, 0]);
    let path = dir.join("state_dict.safetensors");
    std::fs::write(&path, safetensors_bytes(header, &data)).unwrap();
    let ckpt = checkpoint::load(&path).unwrap();
    assert_eq!(ckpt.get("w").unwrap(), (&[2usize][..], &[0.5f32, -3.0][..]));
    assert_eq!(
        ckpt.get_u32("position_ids").unwrap(),
        (&[1usize, 3][..], &[0u32, 1, 2][..])
    );
    assert_eq!(
        ckpt.get_u32("bn.num_batches_tracked").unwrap().1,
        &[4_000_000_000u32]
    );
    assert_eq!(ckpt.get_u32("flags").unwrap().1, &[1u32, 0]);
    let skipped: Vec<&str> = ckpt.skipped.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(skipped, ["double", "negative"]);
    assert!(ckpt.skipped[0].1.contains("F64"), "{:?}", ckpt.skipped);
    assert!(
        ckpt.skipped[1].1.contains("-1 at element 1"),
        "{:?}",
        ckpt.skipped
    );
    // A model that wants a tensor that did not load is told why.
    let mut want = ParamStore::new(1);
    want.write(ctx(), "negative", &[2], &[0.0, 0.0]).unwrap();
    let err = checkpoint::restore(ctx(), &ckpt, &mut want, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'negative'") && err.contains("does not fit in a u32"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn zero_element_tensors_read_back_and_checkpoint() {
    // A [0, 3] tensor is valid safetensors; reading one back cast an empty byte vector, whose
    // pointer need not be 4-aligned, and panicked.
    let empty = Tensor::from_f32(ctx(), &[0, 3], &[]).unwrap();
    assert_eq!(empty.to_vec_f32(ctx()).unwrap(), Vec::<f32>::new());
    let ids = Tensor::from_u32(ctx(), &[2, 0], &[]).unwrap();
    assert_eq!(ids.to_vec_u32(ctx()).unwrap(), Vec::<u32>::new());

    let dir = scratch("zero-element");
    let mut store = ParamStore::new(1);
    store.write(ctx(), "none", &[0, 3], &[]).unwrap();
    store.write(ctx(), "some", &[2], &[1.0, 2.0]).unwrap();
    checkpoint::save(ctx(), &dir, &store, &[], 5, &BTreeMap::new()).unwrap();
    let ckpt = checkpoint::load(&dir).unwrap();
    assert_eq!(ckpt.get("none").unwrap(), (&[0usize, 3][..], &[][..]));
    let mut back = ParamStore::new(2);
    checkpoint::restore(ctx(), &ckpt, &mut back, &[]).unwrap();
    assert_eq!(back.get("none").unwrap().shape(), &[0, 3]);
    assert_eq!(
        back.get("some").unwrap().to_vec_f32(ctx()).unwrap(),
        [1.0, 2.0]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A linear regression trained with Adam; returns its graph pieces for resuming.
fn regression_plan(store: &mut ParamStore) -> (kiln::Plan, kiln::Var) {
    use kiln::optim::AdamConfig;
    use kiln::{DType, Graph, Init, Optimizer, Plan, PlanSpec, Schedule, Training};
    let n = 16;
    let mut g = Graph::new();
    let x = g.input("x", &[n, 3], DType::F32).unwrap();
    let y = g.input("y", &[n, 1], DType::F32).unwrap();
    let w = g.param("w", &[3, 1], Init::normal(0.5)).unwrap();
    let b = g.param("b", &[1], Init::Zeros).unwrap();
    let pred = g.matmul_with(x, w, Some(b), Default::default()).unwrap();
    let neg = g.scale(y, -1.0, 0.0).unwrap();
    let diff = g.add(pred, neg).unwrap();
    let sq = g.mul(diff, diff).unwrap();
    let loss = g.mean_all(sq).unwrap();
    let spec = PlanSpec {
        outputs: vec![loss],
        training: Some(Training {
            schedule: Schedule::WarmupCosine {
                warmup: 5,
                total: 20,
                min_factor: 0.1,
            },
            ..Training::new(loss, Optimizer::Adam(AdamConfig::adam(0.05)))
        }),
        ..Default::default()
    };
    let plan = Plan::compile(ctx(), &g, store, &spec).unwrap();
    let mut rng = Rng::new(11);
    let xs = rng.vec(n * 3);
    let ys: Vec<f32> = xs.chunks(3).map(|r| 2.0 * r[0] - r[1] + 0.5).collect();
    plan.set_input_f32(ctx(), "x", &xs).unwrap();
    plan.set_input_f32(ctx(), "y", &ys).unwrap();
    (plan, loss)
}

#[test]
fn checkpoint_resume_continues_training_exactly() {
    // Ten steps, a checkpoint, ten more; then a fresh store and plan restored from the
    // checkpoint run the last ten. Same kernels on the same inputs from the same state (Adam
    // moments and the step, which drives the schedule and bias correction, included): the
    // weights must agree bitwise.
    let dir = scratch("resume");
    let mut store = ParamStore::new(5);
    let (mut plan, loss) = regression_plan(&mut store);
    for _ in 0..10 {
        plan.step(ctx()).unwrap();
    }
    let mut meta = BTreeMap::new();
    meta.insert("task".to_string(), "regression".to_string());
    let state = plan.optimizer_state();
    assert_eq!(state.len(), 4, "Adam keeps two moments for w and b");
    checkpoint::save(ctx(), &dir, &store, &state, plan.step_count(), &meta).unwrap();
    for _ in 0..10 {
        plan.step(ctx()).unwrap();
    }
    let want_loss = plan.read_f32(ctx(), loss).unwrap();

    let mut fresh = ParamStore::new(99);
    let (mut resumed, loss2) = regression_plan(&mut fresh);
    let ckpt = checkpoint::load(dir.join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(
        ckpt.metadata.get("task").map(String::as_str),
        Some("regression")
    );
    let unused = checkpoint::restore(ctx(), &ckpt, &mut fresh, &resumed.optimizer_state()).unwrap();
    assert!(unused.is_empty(), "{unused:?}");
    resumed.set_step_count(ckpt.step().unwrap());
    for _ in 0..10 {
        resumed.step(ctx()).unwrap();
    }
    assert_eq!(
        bits(&resumed.read_f32(ctx(), loss2).unwrap()),
        bits(&want_loss)
    );
    for name in ["w", "b"] {
        let a = store.get(name).unwrap().to_vec_f32(ctx()).unwrap();
        let b = fresh.get(name).unwrap().to_vec_f32(ctx()).unwrap();
        assert_eq!(bits(&a), bits(&b), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn read_png(path: &std::path::Path) -> image::RgbImage {
    image::open(path).unwrap().to_rgb8()
}

fn luminance(p: &image::Rgb<u8>) -> f64 {
    0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64
}

#[test]
fn viz_line_plot_has_its_size_and_draws_series() {
    let dir = scratch("plot");
    let loss: Vec<(f64, f64)> = (0..200)
        .map(|i| (i as f64, 3.0 * (-(i as f64) / 50.0).exp() + 0.1))
        .collect();
    let mut val: Vec<(f64, f64)> = loss.iter().map(|&(x, y)| (x, y * 1.2)).collect();
    val[10].1 = f64::NAN;
    val[20].1 = f64::INFINITY;
    for (log, name) in [(false, "linear.png"), (true, "log.png")] {
        let path = dir.join(name);
        kiln::viz::line_plot(
            &path,
            &[("train", &loss), ("valid", &val)],
            "loss",
            "step",
            "loss",
            log,
        )
        .unwrap();
        let img = read_png(&path);
        assert_eq!(img.dimensions(), (800, 500), "{name}");
        // The first series' colour appears (the line was drawn), and so does the second's.
        for color in [[31, 119, 180], [255, 127, 14]] {
            assert!(img.pixels().any(|p| p.0 == color), "{name}: {color:?}");
        }
    }
    // Nothing drawable at all still gives a picture (empty axes), not an error.
    let path = dir.join("empty.png");
    let nan = [(f64::NAN, 1.0)];
    kiln::viz::line_plot(&path, &[("x", &nan)], "t", "x", "y", false).unwrap();
    assert_eq!(read_png(&path).dimensions(), (800, 500));
    // An unwritable path is an Io error naming it.
    let bad = dir.join("no-such-dir").join("p.png");
    let err = kiln::viz::line_plot(&bad, &[], "t", "x", "y", false).unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn viz_bar_chart_bar_heights_follow_values() {
    let dir = scratch("bars");
    let path = dir.join("bars.png");
    let bars = [("a", 0.9), ("b", 0.1), ("c", 0.45)];
    kiln::viz::bar_chart(&path, &bars, "accuracy", "fraction", Some(1.0)).unwrap();
    let img = read_png(&path);
    assert_eq!(img.dimensions(), (800, 500));
    // Each bar is drawn in its palette colour; its height in pixels is proportional to its value.
    let height = |color: [u8; 3]| {
        let rows: Vec<u32> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 == color)
            .map(|(_, y, _)| y)
            .collect();
        (rows.iter().max().unwrap() - rows.iter().min().unwrap() + 1) as f64
    };
    let (a, b, c) = (
        height([31, 119, 180]),
        height([255, 127, 14]),
        height([44, 160, 44]),
    );
    assert!(
        (a / b - 9.0).abs() < 0.6 && (c / b - 4.5).abs() < 0.4,
        "{a} {b} {c}"
    );
    let err = kiln::viz::bar_chart(&path, &[("x", f64::NAN)], "t", "y", None).unwrap_err();
    assert!(err.to_string().contains("\"x\""), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn viz_heatmap_colour_is_monotone_in_value() {
    let dir = scratch("heatmap");
    let (rows, cols) = (3, 7);
    let values: Vec<f32> = (0..rows * cols).map(|i| i as f32 / 20.0).collect();
    let row_labels: Vec<String> = "abc".chars().map(String::from).collect();
    let col_labels: Vec<String> = "hello, é".chars().take(cols).map(String::from).collect();
    let path = dir.join("attn.png");
    kiln::viz::heatmap(
        &path,
        &values,
        rows,
        cols,
        &row_labels,
        &col_labels,
        "attention",
    )
    .unwrap();
    let img = read_png(&path);
    // Find the cells by scanning the middle row of cell (0, c): the first non-white, non-black
    // run after the labels. Simpler: every colour of the colormap is off-white, so locate
    // cell (0,0) as the first pixel equal to colormap(0).
    let dark = kiln::viz::heatmap::colormap(0.0);
    let (x0, y0) = img
        .enumerate_pixels()
        .find(|(_, _, p)| **p == dark)
        .map(|(x, y, _)| (x, y))
        .unwrap();
    let cell = 32u32; // 640 / max(3, 7) = 91, clamped to 32.
    let mut last = -1.0;
    for i in 0..rows * cols {
        let (r, c) = ((i / cols) as u32, (i % cols) as u32);
        let p = img.get_pixel(x0 + c * cell + cell / 2, y0 + r * cell + cell / 2);
        let l = luminance(p);
        assert!(l > last, "cell {i}: luminance {l} not above {last}");
        last = l;
    }
    let err = kiln::viz::heatmap(&path, &values, rows, cols + 1, &[], &[], "t").unwrap_err();
    assert!(matches!(err, kiln::Error::Length { .. }), "{err:?}");
    let err =
        kiln::viz::heatmap(&path, &values, rows, cols, &row_labels[..2], &[], "t").unwrap_err();
    assert!(err.to_string().contains("row labels"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn viz_image_grid_places_each_image_in_its_tile() {
    let dir = scratch("grid");
    let (n, h, w, cols) = (5, 7, 3, 2);
    for c in [1usize, 3] {
        // Image k, channel ch, pixel (y, x) holds a value that identifies all four.
        let mut images = vec![0.0f32; n * c * h * w];
        for k in 0..n {
            for ch in 0..c {
                for y in 0..h {
                    for x in 0..w {
                        images[((k * c + ch) * h + y) * w + x] =
                            -1.0 + (k * 40 + ch * 10 + y + x) as f32 / 127.5;
                    }
                }
            }
        }
        let path = dir.join(format!("grid{c}.png"));
        kiln::viz::image_grid(&path, &images, n, c, h, w, cols).unwrap();
        let img = read_png(&path);
        // 2 tiles of 3 pixels are scaled up to at least 512 pixels wide, 1-pixel borders.
        let s = kiln::viz::grid::scale_for(cols, w);
        assert_eq!(s, 85);
        let (sw, sh) = (s * w, s * h);
        assert_eq!(
            img.dimensions(),
            ((2 * (sw + 1) + 1) as u32, (3 * (sh + 1) + 1) as u32)
        );
        assert!(img.width() >= 512);
        for (k, y, x) in [(0, 0, 0), (1, 6, 2), (2, 3, 1), (4, 0, 2), (4, 6, 0)] {
            let want: Vec<u8> = (0..3)
                .map(|ch| (k * 40 + if c == 3 { ch * 10 } else { 0 } + y + x) as u8)
                .collect();
            // Every pixel of the s x s block, corners enough.
            for (dy, dx) in [(0, 0), (s - 1, s - 1), (0, s - 1)] {
                let px = 1 + (k % cols) * (sw + 1) + x * s + dx;
                let py = 1 + (k / cols) * (sh + 1) + y * s + dy;
                let got = img.get_pixel(px as u32, py as u32).0;
                assert_eq!(got.to_vec(), want, "C={c} image {k} at ({y}, {x})");
            }
        }
        // Borders and the empty sixth tile.
        assert_eq!(img.get_pixel(0, 0).0, [64, 64, 64]);
        assert_eq!(img.get_pixel(sw as u32 + 1, 5).0, [64, 64, 64]);
        assert_eq!(
            img.get_pixel(1 + sw as u32 + 1, 1 + 2 * (sh as u32 + 1)).0,
            [64, 64, 64]
        );
    }
    let err = kiln::viz::image_grid(&dir.join("x.png"), &[0.0; 8], 2, 2, 2, 1, 1).unwrap_err();
    assert!(err.to_string().contains("image_grid"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn viz_text_draws_and_survives_any_character() {
    use kiln::viz::font;
    let white = image::Rgb([255, 255, 255]);
    let black = image::Rgb([0, 0, 0]);
    let count = |img: &image::RgbImage| img.pixels().filter(|p| **p == black).count();
    let mut img = image::RgbImage::from_pixel(120, 40, white);
    font::draw_text(&mut img, 2, 2, "kiln 0.1", black, 1);
    let once = count(&img);
    assert!(once > 20, "{once} pixels drawn");
    // Scale 2 covers four times as many pixels.
    let mut big = image::RgbImage::from_pixel(240, 40, white);
    font::draw_text(&mut big, 2, 2, "kiln 0.1", black, 2);
    assert_eq!(count(&big), 4 * once);
    // Every printable character has a glyph distinct from the unknown-character box.
    for c in '!'..='~' {
        assert_ne!(font::glyph(c), font::glyph('\u{2603}'), "{c:?}");
        assert!(font::glyph(c).iter().any(|r| *r != 0), "{c:?} is blank");
    }
    // Unknown characters, control characters and text running off every edge do not panic.
    let mut img = image::RgbImage::from_pixel(30, 10, white);
    font::draw_text(
        &mut img,
        -7,
        -3,
        "é中\n\t\u{0}~ long text off the edge",
        black,
        3,
    );
    font::draw_text_vertical(&mut img, 25, -40, "vertical ☃ text", black, 2);
    assert!(count(&img) > 0);
    assert_eq!(font::glyph('é'), font::glyph('\u{7f}'));
}

/// The child side of `checkpoint_survives_kill_9_during_writes`: saves checkpoints of a
/// store whose every value is the step number, step after step, into `KILN_KILL_DIR`, until
/// it is killed. Ignored (and a no-op) unless that variable is set.
#[test]
#[ignore = "run by checkpoint_survives_kill_9_during_writes as a child process"]
fn checkpoint_writer_child() {
    let Some(dir) = std::env::var_os("KILN_KILL_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let mut store = ParamStore::new(1);
    // Big enough (about 1 MiB) that a kill often lands inside a write.
    let n = 256 * 1024;
    for step in 1u64.. {
        store
            .write(ctx(), "w", &[n], &vec![step as f32; n])
            .unwrap();
        store.write(ctx(), "b", &[3], &[step as f32; 3]).unwrap();
        checkpoint::save(ctx(), &dir, &store, &[], step, &BTreeMap::new()).unwrap();
        // Tell the parent a checkpoint exists (atomically too, so a kill never leaves the
        // report half written).
        let report = dir.join("progress");
        checkpoint::write_atomically(&dir, &report, step.to_string().as_bytes()).unwrap();
    }
}

#[test]
fn checkpoint_survives_kill_9_during_writes() {
    // A child process saves checkpoints in a loop; it is killed (SIGKILL on unix) at random
    // moments, again and again on the same folder. After every kill the folder must hold a
    // checkpoint that loads, whose values all equal its own step (never a torn or mixed
    // file), no older than the last step the child reported, and that restores into a store.
    let dir = scratch("kill-9");
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(99);
    let kills = 12;
    for round in 0..kills {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "io::checkpoint_writer_child",
                "--ignored",
                "--test-threads",
                "1",
            ])
            .env("KILN_KILL_DIR", &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the child's first checkpoint of this round, then a random while.
        let start = std::time::Instant::now();
        let reported = || -> u64 {
            std::fs::read_to_string(dir.join("progress"))
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        };
        let before = reported();
        while reported() == before && start.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            reported() != before,
            "round {round}: the child saved nothing in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(rng.below(300) as u64));
        child.kill().unwrap();
        child.wait().unwrap();
        let seen = reported();
        let ckpt = checkpoint::load(&dir).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let step = ckpt.step().unwrap();
        // The child reports a step after its save returned: the file is at least that new,
        // at most one save newer (killed between the rename and the report).
        assert!(
            step == seen || step == seen + 1,
            "round {round}: file step {step}, reported {seen}"
        );
        for name in ["w", "b"] {
            let (_, values) = ckpt.get(name).unwrap();
            assert!(
                values.iter().all(|&v| v == step as f32),
                "round {round}: '{name}' is torn"
            );
        }
        let mut back = ParamStore::new(2);
        checkpoint::restore(ctx(), &ckpt, &mut back, &[]).unwrap();
        // The next child starts over at step 1 in the same folder.
        std::fs::remove_file(dir.join("progress")).unwrap();
    }
    eprintln!("checkpoint: {kills} kill -9s during writes, a whole checkpoint after each");
    std::fs::remove_dir_all(&dir).unwrap();
}
