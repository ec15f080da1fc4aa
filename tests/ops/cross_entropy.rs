//! cross_entropy: per-row losses and their mean against an f64 reference, the backward against
//! the f64 analytic gradient and finite differences of the mean, ignored rows, label
//! smoothing, ±1000 logits, all rows ignored, shape errors.

use super::*;
use kiln::kernels::run;
use kiln::ops::cross_entropy::{self, CrossEntropy, CrossEntropyOptions, CrossEntropyVariant};
use kiln::{DType, Tensor};

/// Both row mappings, whichever the adapter would pick: each is checked on every case.
const VARIANTS: [CrossEntropyVariant; 2] =
    [CrossEntropyVariant::Workgroup, CrossEntropyVariant::Rows];

/// Does row target `t` count (not ignored, in range)?
fn counts(t: u32, vocab: usize, ignore: Option<u32>) -> bool {
    Some(t) != ignore && (t as usize) < vocab
}

/// f64 reference: per-row losses and the mean over counted rows (0 when none count).
fn reference(
    x: &[f64],
    targets: &[u32],
    vocab: usize,
    ignore: Option<u32>,
    eps: f64,
) -> (Vec<f64>, f64) {
    let mut losses = vec![0.0; targets.len()];
    let mut total = 0.0;
    let mut count = 0usize;
    for (n, &t) in targets.iter().enumerate() {
        if !counts(t, vocab, ignore) {
            continue;
        }
        let row = &x[n * vocab..(n + 1) * vocab];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let mut loss = 0.0;
        for (j, &v) in row.iter().enumerate() {
            let q = eps / vocab as f64 + if j == t as usize { 1.0 - eps } else { 0.0 };
            loss -= q * (v - lse);
        }
        losses[n] = loss;
        total += loss;
        count += 1;
    }
    let mean = if count == 0 {
        0.0
    } else {
        total / count as f64
    };
    (losses, mean)
}

/// f64 analytic gradient of `dmean · mean` with respect to the logits.
fn reference_backward(
    x: &[f64],
    targets: &[u32],
    vocab: usize,
    ignore: Option<u32>,
    eps: f64,
    dmean: f64,
) -> Vec<f64> {
    let count = targets
        .iter()
        .filter(|&&t| counts(t, vocab, ignore))
        .count();
    let mut dx = vec![0.0; x.len()];
    for (n, &t) in targets.iter().enumerate() {
        if !counts(t, vocab, ignore) {
            continue;
        }
        let row = &x[n * vocab..(n + 1) * vocab];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for (j, &v) in row.iter().enumerate() {
            let q = eps / vocab as f64 + if j == t as usize { 1.0 - eps } else { 0.0 };
            dx[n * vocab + j] = ((v - m).exp() / s - q) * dmean / count as f64;
        }
    }
    dx
}

const U: f64 = 1.0 / (1u64 << 24) as f64; // f32 unit roundoff 2⁻²⁴

// Per-row loss tolerance. The kernel computes log s - (1-ε)(x_t - m) - ε/V·(Σx - V·m):
// s sums V terms <= 1 with s >= 1, so log s is off by about (V + 64)·u (64 for exp's few-ulp
// error and the tree); x_t - m rounds once, by u·|x_t - m|; the f32 Σx of V terms is off by at
// most V·u·Σ|x|, which ε/V scales to ε·u·Σ|x| (plus ε·u·|m| for V·m); the final adds round by
// u·|loss|. A factor 4 covers constants.
fn loss_tol(x: &[f64], targets: &[u32], vocab: usize, ignore: Option<u32>, eps: f64) -> Vec<f64> {
    let (losses, _) = reference(x, targets, vocab, ignore, eps);
    targets
        .iter()
        .enumerate()
        .map(|(n, &t)| {
            if !counts(t, vocab, ignore) {
                return 0.0;
            }
            let row = &x[n * vocab..(n + 1) * vocab];
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let abs_sum: f64 = row.iter().map(|v| v.abs()).sum();
            4.0 * U
                * ((vocab + 64) as f64
                    + (row[t as usize] - m).abs()
                    + eps * (abs_sum + m.abs())
                    + losses[n].abs())
        })
        .collect()
}

// Mean tolerance: the row errors averaged, plus an f32 sum of N terms (N·u·Σ|loss|) and the
// division, over count.
fn mean_tol(row_tol: &[f64], losses: &[f64], count: usize) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let abs: f64 = losses.iter().map(|l| l.abs()).sum();
    (row_tol.iter().sum::<f64>() + (losses.len() + 4) as f64 * U * abs) / count as f64
}

// Gradient tolerance per element: (p_j - q_j)·scale with p_j = exp(x_j - m)/s. p_j is off
// relatively by the sum's (V + 64)·u plus the rounded argument's u·|x_j - m|; the subtraction
// and the scaling round by u·|p_j - q_j| and u·|scale|. A factor 4 covers constants, 1e-12
// the exact zeros.
fn grad_tol(
    x: &[f64],
    targets: &[u32],
    vocab: usize,
    ignore: Option<u32>,
    eps: f64,
    dmean: f64,
) -> Vec<f64> {
    let count = targets
        .iter()
        .filter(|&&t| counts(t, vocab, ignore))
        .count()
        .max(1);
    let scale = (dmean / count as f64).abs();
    let mut tol = vec![1e-12; x.len()];
    for (n, &t) in targets.iter().enumerate() {
        if !counts(t, vocab, ignore) {
            continue;
        }
        let row = &x[n * vocab..(n + 1) * vocab];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for (j, &v) in row.iter().enumerate() {
            let p = (v - m).exp() / s;
            let q = eps / vocab as f64 + if j == t as usize { 1.0 - eps } else { 0.0 };
            tol[n * vocab + j] +=
                4.0 * U * scale * (p * ((vocab + 64) as f64 + (v - m).abs()) + (p - q).abs() + 1.0);
        }
    }
    tol
}

/// Runs forward and backward on the GPU, in both variants, and checks each against the
/// references.
fn check_case(
    x: &[f32],
    targets: &[u32],
    rows_shape: &[usize],
    vocab: usize,
    opts: CrossEntropyOptions,
    dmean: f32,
    what: &str,
) {
    let mut lshape = rows_shape.to_vec();
    lshape.push(vocab);
    let t_x = upload(&lshape, x);
    let t_t = upload_u32(rows_shape, targets);
    for variant in VARIANTS {
        let what = format!("{what} {variant:?}");
        let zeros = |shape: &[usize]| Tensor::zeros(ctx(), shape, DType::F32).unwrap();
        let out = CrossEntropy {
            losses: zeros(rows_shape),
            mean: zeros(&[1]),
            count: zeros(&[1]),
        };
        let forward = cross_entropy::forward_with(ctx(), variant, &t_x, &t_t, &opts, &out);
        run(ctx(), &forward.unwrap()).unwrap();
        let xs = f64s(x);
        let eps = opts.label_smoothing as f64;
        let ig = opts.ignore_index;
        let (losses, mean) = reference(&xs, targets, vocab, ig, eps);
        let count = targets.iter().filter(|&&t| counts(t, vocab, ig)).count();
        let rt = loss_tol(&xs, targets, vocab, ig, eps);
        assert_close_each(
            &download(&out.losses),
            &losses,
            &rt,
            &format!("{what} losses"),
        );
        let got_mean = download(&out.mean);
        assert_close(
            &got_mean,
            &[mean],
            mean_tol(&rt, &losses, count),
            0.0,
            &format!("{what} mean"),
        );
        assert_eq!(download(&out.count), vec![count as f32], "{what} count");
        let dx = zeros(&lshape);
        let backward = cross_entropy::backward_logits_with(
            ctx(),
            variant,
            &t_x,
            &t_t,
            &out.count,
            &upload(&[1], &[dmean]),
            &opts,
            &dx,
        );
        run(ctx(), &[backward.unwrap()]).unwrap();
        let dx = download(&dx);
        assert!(
            dx.iter().all(|v| v.is_finite()),
            "{what}: non-finite gradient"
        );
        assert_close_each(
            &dx,
            &reference_backward(&xs, targets, vocab, ig, eps, dmean as f64),
            &grad_tol(&xs, targets, vocab, ig, eps, dmean as f64),
            &format!("{what} dlogits"),
        );
    }
}

#[test]
fn forward_and_backward_match_reference_on_awkward_shapes() {
    let mut rng = Rng::new(21);
    for &vocab in AWKWARD {
        for &rows in &[1, 7, 33] {
            for &eps in &[0.0f32, 0.1] {
                // Ignore a real class (1) when V > 1: those rows must drop out of the mean.
                let ignore = if vocab > 1 { Some(1) } else { Some(7) };
                let targets: Vec<u32> = (0..rows)
                    .map(|i| {
                        if i % 3 == 2 {
                            7
                        } else {
                            rng.below(vocab) as u32
                        }
                    })
                    .collect();
                let x: Vec<f32> = rng.vec(rows * vocab).iter().map(|v| v * 4.0).collect();
                let opts = CrossEntropyOptions {
                    ignore_index: ignore,
                    label_smoothing: eps,
                };
                check_case(
                    &x,
                    &targets,
                    &[rows],
                    vocab,
                    opts,
                    0.73,
                    &format!("ce N={rows} V={vocab} ε={eps}"),
                );
            }
        }
    }
}

/// The row-per-invocation kernels loop 2·(V + 1) times; past llvmpipe's loop budget they would
/// stop short without a word, so asking for them there is an error and the choice avoids them.
#[test]
fn rows_variant_is_refused_past_the_loop_budget() {
    let vocab = 40_000;
    let logits = upload(&[1, vocab], &vec![0.5; vocab]);
    let targets = upload_u32(&[1], &[3]);
    let zeros = |shape: &[usize]| Tensor::zeros(ctx(), shape, DType::F32).unwrap();
    let out = CrossEntropy {
        losses: zeros(&[1]),
        mean: zeros(&[1]),
        count: zeros(&[1]),
    };
    let opts = CrossEntropyOptions::default();
    let rows = CrossEntropyVariant::Rows;
    let forward = cross_entropy::forward_with(ctx(), rows, &logits, &targets, &opts, &out);
    if kiln::kernels::loops_limited(ctx()) {
        let err = forward
            .expect_err("Rows past the loop budget must be refused")
            .to_string();
        assert!(
            err.contains("cross_entropy") && err.contains("loop"),
            "{err}"
        );
        assert_eq!(
            cross_entropy::variant(ctx(), vocab),
            CrossEntropyVariant::Workgroup
        );
    } else {
        assert!(forward.is_ok(), "no loop budget on this adapter");
    }
}

#[test]
fn multi_axis_targets_and_large_vocab() {
    let mut rng = Rng::new(22);
    let vocab = 1000;
    let targets: Vec<u32> = (0..6).map(|_| rng.below(vocab) as u32).collect();
    let x: Vec<f32> = rng.vec(6 * vocab).iter().map(|v| v * 3.0).collect();
    let opts = CrossEntropyOptions {
        ignore_index: Some(targets[4]),
        label_smoothing: 0.1,
    };
    check_case(&x, &targets, &[2, 3], vocab, opts, -1.3, "ce [2,3,1000]");
}

#[test]
fn stable_for_logits_near_1000() {
    let mut rng = Rng::new(23);
    for &vocab in &[3, 7, 129] {
        let rows = 5;
        let x: Vec<f32> = (0..rows * vocab)
            .map(|i| if i % 2 == 0 { 1000.0 } else { -1000.0 } + rng.uniform(-1.0, 1.0) as f32)
            .collect();
        let targets: Vec<u32> = (0..rows).map(|_| rng.below(vocab) as u32).collect();
        for &eps in &[0.0f32, 0.1] {
            let opts = CrossEntropyOptions {
                ignore_index: None,
                label_smoothing: eps,
            };
            check_case(
                &x,
                &targets,
                &[rows],
                vocab,
                opts,
                0.5,
                &format!("ce ±1000 V={vocab} ε={eps}"),
            );
        }
    }
}

#[test]
fn all_rows_ignored_give_zero_not_nan() {
    let mut rng = Rng::new(24);
    let (rows, vocab) = (7, 33);
    let x = rng.vec(rows * vocab);
    let targets = vec![5u32; rows];
    let opts = CrossEntropyOptions {
        ignore_index: Some(5),
        label_smoothing: 0.1,
    };
    let t_x = upload(&[rows, vocab], &x);
    let t_t = upload_u32(&[rows], &targets);
    let out = cross_entropy::cross_entropy(ctx(), &t_x, &t_t, &opts).unwrap();
    assert_eq!(download(&out.mean), vec![0.0]);
    assert_eq!(download(&out.count), vec![0.0]);
    assert!(download(&out.losses).iter().all(|&v| v == 0.0));
    let dx = cross_entropy::cross_entropy_backward(
        ctx(),
        &t_x,
        &t_t,
        &out.count,
        &upload(&[1], &[1.0]),
        &opts,
    )
    .unwrap();
    assert!(download(&dx).iter().all(|&v| v == 0.0));
}

#[test]
fn out_of_range_targets_are_ignored_and_reported_on_the_host() {
    let mut rng = Rng::new(25);
    let (rows, vocab) = (5, 7);
    let x = rng.vec(rows * vocab);
    let targets = [0u32, 7, 3, 1000, 6];
    let opts = CrossEntropyOptions::default();
    check_case(
        &x,
        &targets,
        &[rows],
        vocab,
        opts,
        0.9,
        "ce out-of-range targets",
    );
    let (losses, _) = reference(&f64s(&x), &targets, vocab, None, 0.0);
    assert_eq!(losses[1], 0.0);
    let err = cross_entropy::check_targets(&targets, vocab, &opts).unwrap_err();
    assert!(err.to_string().contains("target 7 at position 1"), "{err}");
    let with_ignore = CrossEntropyOptions {
        ignore_index: Some(7),
        ..opts
    };
    assert!(cross_entropy::check_targets(&[0, 7, 6], vocab, &with_ignore).is_ok());
}

#[test]
fn backward_matches_finite_differences_of_the_mean() {
    let mut rng = Rng::new(26);
    for &(rows, vocab, eps) in &[
        (1, 1, 0.0),
        (3, 7, 0.0),
        (7, 3, 0.1),
        (5, 33, 0.1),
        (2, 65, 0.0),
        (1, 129, 0.1),
    ] {
        let targets: Vec<u32> = (0..rows)
            .map(|i| if i == 1 { 2 } else { rng.below(vocab) as u32 })
            .collect();
        let ignore = Some(2);
        let x: Vec<f32> = rng.vec(rows * vocab).iter().map(|v| v * 3.0).collect();
        // The loss is w·mean for a random scalar w (the mean is the op's one output).
        let w = rng.uniform(0.5, 1.5);
        let want = numeric_grad(&f64s(&x), |xs| {
            w * reference(xs, &targets, vocab, ignore, eps).1
        });
        let opts = CrossEntropyOptions {
            ignore_index: ignore,
            label_smoothing: eps as f32,
        };
        let t_x = upload(&[rows, vocab], &x);
        let t_t = upload_u32(&[rows], &targets);
        let out = cross_entropy::cross_entropy(ctx(), &t_x, &t_t, &opts).unwrap();
        let dx = cross_entropy::cross_entropy_backward(
            ctx(),
            &t_x,
            &t_t,
            &out.count,
            &upload(&[1], &[w as f32]),
            &opts,
        )
        .unwrap();
        // FD is exact to ~1e-9 here (|mean| ~ 10, see numeric_grad); the rest is grad_tol, with
        // dmean rounded to f32 (relative u) folded into its constant.
        let tol: Vec<f64> = grad_tol(&f64s(&x), &targets, vocab, ignore, eps, w)
            .iter()
            .map(|t| t + 1e-8)
            .collect();
        assert_close_each(
            &download(&dx),
            &want,
            &tol,
            &format!("ce dlogits vs FD N={rows} V={vocab}"),
        );
    }
}

#[test]
fn shape_errors_name_the_op() {
    let x = upload(&[2, 3], &[0.0; 6]);
    let t = upload_u32(&[3], &[0, 1, 2]);
    let opts = CrossEntropyOptions::default();
    let msg = cross_entropy::cross_entropy(ctx(), &x, &t, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("cross_entropy") && msg.contains("[2, 3]") && msg.contains("[3]"),
        "{msg}"
    );
    let t = upload_u32(&[2], &[0, 1]);
    let count = upload(&[1], &[2.0]);
    let dmean = upload(&[2], &[1.0, 1.0]);
    let msg = cross_entropy::cross_entropy_backward(ctx(), &x, &t, &count, &dmean, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("cross_entropy_backward") && msg.contains("[2, 3]") && msg.contains("[2]"),
        "{msg}"
    );
    let bad = CrossEntropyOptions {
        label_smoothing: 1.5,
        ..opts
    };
    assert!(cross_entropy::cross_entropy(ctx(), &x, &t, &bad).is_err());
}
