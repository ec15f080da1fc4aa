//! clip: global-norm gradient clipping against an f64 reference, the unclipped case bit for
//! bit, the stats, determinism, and bad arguments.

use super::*;
use kiln::kernels::run;
use kiln::ops::clip;
use kiln::{DType, Tensor};

/// f64 reference: (clipped gradients, coef, total).
fn reference(grads: &[Vec<f32>], max_norm: f64) -> (Vec<Vec<f64>>, f64, f64) {
    let mut ss = 0.0;
    for g in grads {
        for &v in g {
            ss += v as f64 * v as f64;
        }
    }
    let total = ss.sqrt();
    let coef = (max_norm / (total + 1e-6)).min(1.0);
    let clipped = grads
        .iter()
        .map(|g| g.iter().map(|&v| v as f64 * coef).collect())
        .collect();
    (clipped, coef, total)
}

// Lengths that are multiples of 4 take the vec4 kernels, the others the scalar ones; 70_001 and
// 70_004 give over 256 partials, so every lane of the norm kernel sums several.
const SIZES: &[usize] = &[1, 3, 129, 4099, 65, 70_001, 4, 36, 4100, 70_004];

// Tolerance on the norm: every square is rounded once (2^-24 relative), a chunk sums at most
// CHUNK positive terms serially, the norm kernel's lanes sum ceil(P/256) partials and its tree
// adds 8 levels, each step at most 2^-24 relative of the running (positive) sum; the sqrt
// halves the relative error and adds one rounding. rtol = (CHUNK + P/256 + 16)·2^-24 bounds
// the sum of squares, hence the norm and coef too; clipped values add one rounding more.
fn rtol(partials: usize) -> f64 {
    (clip::CHUNK as f64 + partials.div_ceil(256) as f64 + 16.0) * 2f64.powi(-24)
}

fn make(rng: &mut Rng, sizes: &[usize]) -> Vec<Vec<f32>> {
    sizes.iter().map(|&n| rng.vec(n)).collect()
}

fn upload_all(grads: &[Vec<f32>]) -> Vec<Tensor> {
    grads.iter().map(|g| upload(&[g.len()], g)).collect()
}

/// Runs the prepared dispatches; returns (clipped gradients, stats).
fn run_clip(grads: &[Vec<f32>], max_norm: f32) -> (Vec<Vec<f32>>, Vec<f32>) {
    let ts = upload_all(grads);
    let refs: Vec<&Tensor> = ts.iter().collect();
    let numels: Vec<usize> = grads.iter().map(|g| g.len()).collect();
    let partials = Tensor::zeros(ctx(), &[clip::scratch_len(&numels)], DType::F32).unwrap();
    let stats = Tensor::zeros(ctx(), &[2], DType::F32).unwrap();
    let ds = clip::prepare(ctx(), &refs, max_norm, &partials, &stats).unwrap();
    assert_eq!(ds.len(), 2 * grads.len() + 1);
    run(ctx(), &ds).unwrap();
    (ts.iter().map(download).collect(), download(&stats))
}

#[test]
fn scratch_len_is_one_slot_per_chunk() {
    let c = clip::CHUNK;
    assert_eq!(clip::scratch_len(&[1, c, c + 1, 3 * c]), 1 + 1 + 2 + 3);
    assert_eq!(clip::scratch_len(&[]), 0);
}

#[test]
fn clipping_matches_reference() {
    let mut rng = Rng::new(51);
    let grads = make(&mut rng, SIZES);
    let (_, _, total) = reference(&grads, 1.0);
    let max_norm = (0.3 * total) as f32;
    let (want, coef, total) = reference(&grads, max_norm as f64);
    assert!(coef < 0.5);
    let (got, stats) = run_clip(&grads, max_norm);
    let numels: Vec<usize> = SIZES.to_vec();
    let tol = rtol(clip::scratch_len(&numels));
    assert_close(&stats[1..], &[total], 0.0, tol, "total norm");
    assert_close(&stats[..1], &[coef], 0.0, tol, "coef");
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(
            g,
            w,
            0.0,
            tol + 2f64.powi(-24),
            &format!("grad {k} ({})", g.len()),
        );
    }
}

#[test]
fn below_max_norm_leaves_gradients_bitwise() {
    let mut rng = Rng::new(52);
    let grads = make(&mut rng, SIZES);
    let (_, _, total) = reference(&grads, 1.0);
    let (got, stats) = run_clip(&grads, (2.0 * total) as f32);
    assert_eq!(stats[0], 1.0, "coef");
    let tol = rtol(clip::scratch_len(SIZES));
    assert_close(&stats[1..], &[total], 0.0, tol, "total norm");
    for (g, w) in got.iter().zip(&grads) {
        assert_eq!(
            g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            w.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn eager_returns_norm_and_clips() {
    let mut rng = Rng::new(53);
    let grads = make(&mut rng, &[3, 129, 4099, 256, 4100]);
    let ts = upload_all(&grads);
    let refs: Vec<&Tensor> = ts.iter().collect();
    let (want, _, total) = reference(&grads, 0.5);
    let got = clip::clip_grad_norm(ctx(), &refs, 0.5).unwrap();
    let tol = rtol(clip::scratch_len(&[3, 129, 4099, 256, 4100]));
    assert_close(&[got], &[total], 0.0, tol, "returned norm");
    for (t, w) in ts.iter().zip(&want) {
        assert_close(&download(t), w, 0.0, tol + 2f64.powi(-24), "clipped");
    }
    // The clipped set now has norm max_norm / (total + 1e-6) · total ≈ 0.5.
    let again = clip::clip_grad_norm(ctx(), &refs, 1.0).unwrap();
    assert!(
        (again as f64 - 0.5).abs() <= 1e-5,
        "norm after clipping {again}"
    );
}

#[test]
fn is_deterministic() {
    let mut rng = Rng::new(54);
    let grads = make(&mut rng, &[70_001, 33, 4099, 70_004]);
    let (a, sa) = run_clip(&grads, 0.25);
    let (b, sb) = run_clip(&grads, 0.25);
    assert_eq!(sa[1].to_bits(), sb[1].to_bits());
    assert_eq!(sa[0].to_bits(), sb[0].to_bits());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn bad_arguments_are_errors() {
    let g = upload(&[3, 7], &[1.0; 21]);
    for m in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let err = clip::clip_grad_norm(ctx(), &[&g], m).unwrap_err();
        assert!(matches!(err, kiln::Error::Unsupported(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("clip") && msg.contains("max_norm"), "{msg}");
    }
    let err = clip::clip_grad_norm(ctx(), &[], 1.0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("clip"), "{err}");
    let short = Tensor::zeros(ctx(), &[1], DType::F32).unwrap();
    let stats = Tensor::zeros(ctx(), &[2], DType::F32).unwrap();
    let big = upload(&[300], &[1.0; 300]);
    let err = clip::prepare(ctx(), &[&big], 1.0, &short, &stats)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("clip") && err.contains("[1]") && err.contains("[2]"),
        "{err}"
    );
    let bad_stats = Tensor::zeros(ctx(), &[3], DType::F32).unwrap();
    let partials = Tensor::zeros(ctx(), &[2], DType::F32).unwrap();
    let err = clip::prepare(ctx(), &[&big], 1.0, &partials, &bad_stats)
        .unwrap_err()
        .to_string();
    assert!(err.contains("clip") && err.contains("[3]"), "{err}");
}

#[test]
fn partial_slots_are_exactly_covered() {
    // Garbage in every slot and a sentinel past the end: a slot left unwritten would spoil the
    // norm, and a write past scratch_len would change the sentinel.
    let mut rng = Rng::new(55);
    let grads = make(&mut rng, SIZES);
    let ts = upload_all(&grads);
    let refs: Vec<&Tensor> = ts.iter().collect();
    let len = clip::scratch_len(SIZES);
    let partials = upload(&[len + 8], &vec![1.0e6; len + 8]);
    let stats = Tensor::zeros(ctx(), &[2], DType::F32).unwrap();
    run(
        ctx(),
        &clip::prepare(ctx(), &refs, 1e9, &partials, &stats).unwrap(),
    )
    .unwrap();
    let (_, _, total) = reference(&grads, 1e9);
    assert_close(
        &download(&stats)[1..],
        &[total],
        0.0,
        rtol(len),
        "total norm",
    );
    assert_eq!(&download(&partials)[len..], &[1.0e6; 8]);
}
