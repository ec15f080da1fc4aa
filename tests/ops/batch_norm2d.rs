//! batch_norm2d: forward (train and eval) against an f64 reference, running statistics against
//! PyTorch's update rule, backward (train and eval) against finite differences, on awkward
//! shapes, the degenerate M = 1 batch, C = 1 and 3, odd H and W; both kernel variants.

use super::*;
use kiln::kernels::run;
use kiln::ops::batch_norm2d::{self as bn, BatchNormOptions, BatchNormVariant};
use kiln::DType;

const VARIANTS: [BatchNormVariant; 2] = [BatchNormVariant::Workgroup, BatchNormVariant::Channels];

/// f64 reference in train mode over x [N, C, H, W] (`hw` = H·W): returns (y, mean, biased var).
fn reference(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    c: usize,
    hw: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = x.len() / (c * hw);
    let m = (n * hw) as f64;
    let mut y = vec![0.0; x.len()];
    let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
    for ch in 0..c {
        let idx: Vec<usize> = (0..n)
            .flat_map(|b| (0..hw).map(move |s| (b * c + ch) * hw + s))
            .collect();
        let mu = idx.iter().map(|&i| x[i]).sum::<f64>() / m;
        let v = idx.iter().map(|&i| (x[i] - mu) * (x[i] - mu)).sum::<f64>() / m;
        let r = 1.0 / (v + eps).sqrt();
        for &i in &idx {
            y[i] = (x[i] - mu) * r * gamma[ch] + beta[ch];
        }
        mean[ch] = mu;
        var[ch] = v;
    }
    (y, mean, var)
}

/// f64 reference of the train backward for dy = `w`, as the module doc's formula reads:
/// `dβ = Σ dy`, `dγ = Σ dy·x̂`, `dx = γ·rstd·(dy − dβ/M − x̂·dγ/M)`; returns (dx, dγ, dβ). For
/// shapes too large for finite differences (which check this formula on the small ones).
fn reference_backward(
    x: &[f64],
    gamma: &[f64],
    w: &[f64],
    c: usize,
    hw: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = x.len() / (c * hw);
    let m = (n * hw) as f64;
    let (mut dx, mut dg, mut db) = (vec![0.0; x.len()], vec![0.0; c], vec![0.0; c]);
    for ch in 0..c {
        let idx: Vec<usize> = (0..n)
            .flat_map(|b| (0..hw).map(move |s| (b * c + ch) * hw + s))
            .collect();
        let mu = idx.iter().map(|&i| x[i]).sum::<f64>() / m;
        let v = idx.iter().map(|&i| (x[i] - mu) * (x[i] - mu)).sum::<f64>() / m;
        let r = 1.0 / (v + eps).sqrt();
        db[ch] = idx.iter().map(|&i| w[i]).sum::<f64>();
        dg[ch] = idx.iter().map(|&i| w[i] * (x[i] - mu) * r).sum::<f64>();
        for &i in &idx {
            let xh = (x[i] - mu) * r;
            dx[i] = gamma[ch] * r * (w[i] - db[ch] / m - xh * dg[ch] / m);
        }
    }
    (dx, dg, db)
}

/// f64 reference in eval mode: normalises with the given statistics.
fn reference_eval(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    (rm, rv): (&[f64], &[f64]),
    c: usize,
    hw: usize,
    eps: f64,
) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let ch = (i / hw) % c;
            (x[i] - rm[ch]) / (rv[ch] + eps).sqrt() * gamma[ch] + beta[ch]
        })
        .collect()
}

struct Case {
    shape: [usize; 4],
    x: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Case {
    fn c(&self) -> usize {
        self.shape[1]
    }
    fn hw(&self) -> usize {
        self.shape[2] * self.shape[3]
    }
    fn m(&self) -> usize {
        self.shape[0] * self.hw()
    }
}

fn case(rng: &mut Rng, shape: [usize; 4]) -> Case {
    let n: usize = shape.iter().product();
    // An offset of 2 makes |mean| comparable to the spread, which a one-pass E[x²] - m²
    // variance would get wrong.
    Case {
        shape,
        x: rng.vec(n).iter().map(|v| v + 2.0).collect(),
        gamma: rng.vec(shape[1]).iter().map(|v| v + 1.0).collect(),
        beta: rng.vec(shape[1]),
    }
}

/// Error budget of one channel's statistics, from the f32 kernel's operations (as layer_norm's):
/// the mean of M terms is off by at most em = (M + 4)·2⁻²⁴·mean|x| (M additions, the 1/M);
/// rstd by a relative er = (M + 16)·2⁻²⁴ (M squares summed, sqrt, division, eps added); x̂ is
/// then off by |x̂|·er + rstd·em.
fn budget(k: &Case, x: &[f64], ch: usize) -> (f64, f64) {
    let (c, hw) = (k.c(), k.hw());
    let m = k.m() as f64;
    let u = 2f64.powi(-24);
    let abs_sum: f64 = (0..k.shape[0])
        .flat_map(|b| (0..hw).map(move |s| (b * c + ch) * hw + s))
        .map(|i| x[i].abs())
        .sum();
    ((m + 4.0) * u * abs_sum / m, (m + 16.0) * u)
}

/// Tolerances of the train forward's (y, mean, rstd) from [`budget`], given the reference
/// statistics.
fn forward_tolerances(k: &Case, mean: &[f64], rstd: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (c, hw) = (k.c(), k.hw());
    let u = 2f64.powi(-24);
    let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
    let (mut ty, mut tm, mut tr) = (vec![0.0; x.len()], vec![0.0; c], vec![0.0; c]);
    for ch in 0..c {
        let (em, er) = budget(k, &x, ch);
        tm[ch] = em;
        tr[ch] = er * rstd[ch];
        for i in (0..x.len()).filter(|i| (i / hw) % c == ch) {
            let xhat = (x[i] - mean[ch]) * rstd[ch];
            let dxhat = xhat.abs() * er + rstd[ch] * em;
            // y = x̂·γ + β: x̂'s error times |γ|, plus the roundings of the product and sum.
            ty[i] = g[ch].abs() * dxhat + 2.0 * u * ((xhat * g[ch]).abs() + b[ch].abs());
        }
    }
    (ty, tm, tr)
}

const SHAPES: &[[usize; 4]] = &[
    [1, 1, 1, 1],
    [1, 3, 1, 1],
    [2, 1, 3, 7],
    [3, 3, 5, 7],
    [7, 3, 1, 1],
    [1, 7, 33, 1],
    [2, 33, 3, 5],
    [4, 65, 1, 3],
    [16, 8, 16, 16],
];

fn uploads(k: &Case) -> (Tensor, Tensor, Tensor) {
    (
        upload(&k.shape, &k.x),
        upload(&[k.c()], &k.gamma),
        upload(&[k.c()], &k.beta),
    )
}

fn zeros(shape: &[usize]) -> Tensor {
    Tensor::zeros(ctx(), shape, DType::F32).unwrap()
}

/// (y, mean, rstd, running_mean, running_var) after a train forward.
type TrainOut = (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>);

/// Runs the train forward with `variant`.
fn train_forward(k: &Case, variant: BatchNormVariant, rm: &[f32], rv: &[f32]) -> TrainOut {
    let (xt, gt, bt) = uploads(k);
    let (rmt, rvt) = (upload(&[k.c()], rm), upload(&[k.c()], rv));
    let (y, mean, rstd) = (zeros(&k.shape), zeros(&[k.c()]), zeros(&[k.c()]));
    let d = bn::forward_with(
        ctx(),
        variant,
        &xt,
        &gt,
        &bt,
        &rmt,
        &rvt,
        BatchNormOptions::default(),
        &y,
        &mean,
        &rstd,
    )
    .unwrap();
    run(ctx(), &[d]).unwrap();
    (
        download(&y),
        download(&mean),
        download(&rstd),
        download(&rmt),
        download(&rvt),
    )
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(41);
    let eps = BatchNormOptions::default().eps as f64;
    for &shape in SHAPES {
        let k = case(&mut rng, shape);
        let (c, hw) = (k.c(), k.hw());
        let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
        let (y, mean, var) = reference(&x, &g, &b, c, hw, eps);
        let rstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
        let (ty, tm, tr) = forward_tolerances(&k, &mean, &rstd);
        for variant in VARIANTS {
            let what = format!("batch_norm2d {shape:?} {variant:?}");
            let rm = vec![0.0; c];
            let rv = vec![1.0; c];
            let (gy, gm, gr, _, _) = train_forward(&k, variant, &rm, &rv);
            assert_close_each(&gy, &y, &ty, &format!("{what} y"));
            assert_close_each(&gm, &mean, &tm, &format!("{what} mean"));
            assert_close_each(&gr, &rstd, &tr, &format!("{what} rstd"));
        }
    }
}

#[test]
fn degenerate_batch_is_finite() {
    // N = 1, H = W = 1: one element per channel, zero variance. y = beta exactly (x - mean is
    // exactly 0 with one term), rstd = 1/sqrt(eps), the running variance only decays.
    let mut rng = Rng::new(42);
    let k = case(&mut rng, [1, 3, 1, 1]);
    for variant in VARIANTS {
        let (y, _, rstd, rm, rv) = train_forward(&k, variant, &[0.5; 3], &[2.0; 3]);
        assert_eq!(y, k.beta, "{variant:?} y");
        let want = 1.0 / (1e-5f64).sqrt();
        for &r in &rstd {
            assert!(
                ((r as f64 - want) / want).abs() < 1e-5,
                "{variant:?} rstd {r}"
            );
        }
        for ch in 0..3 {
            let want_rm = 0.9 * 0.5 + 0.1 * k.x[ch] as f64;
            assert!(
                (rm[ch] as f64 - want_rm).abs() < 1e-6,
                "{variant:?} rm {rm:?}"
            );
            assert!((rv[ch] as f64 - 1.8).abs() < 1e-6, "{variant:?} rv {rv:?}");
        }
        let (dx, dg, db) = backward(&k, variant, &[0.3, -0.7, 1.1]);
        assert!(dx.iter().chain(&dg).chain(&db).all(|v| v.is_finite()));
        assert_eq!(dx, vec![0.0; 3], "{variant:?} dx: y does not depend on x");
    }
}

#[test]
fn running_statistics_follow_pytorch_after_two_steps() {
    // PyTorch: running = (1 - momentum)·running + momentum·stat, with the unbiased variance
    // var·M/(M - 1). Two steps on different batches, from random starting statistics.
    let mut rng = Rng::new(43);
    let eps = 1e-5;
    for variant in VARIANTS {
        for shape in [[3, 3, 5, 7], [2, 1, 1, 3], [4, 7, 3, 3]] {
            let c = shape[1];
            let mut rm: Vec<f32> = rng.vec(c);
            let mut rv: Vec<f32> = rng.vec(c).iter().map(|v| v + 1.5).collect();
            let (mut want_m, mut want_v) = (f64s(&rm), f64s(&rv));
            for _ in 0..2 {
                let k = case(&mut rng, shape);
                let x = f64s(&k.x);
                let (_, mean, var) = reference(&x, &f64s(&k.gamma), &f64s(&k.beta), c, k.hw(), eps);
                let m = k.m() as f64;
                for ch in 0..c {
                    want_m[ch] = 0.9 * want_m[ch] + 0.1 * mean[ch];
                    want_v[ch] = 0.9 * want_v[ch] + 0.1 * var[ch] * m / (m - 1.0);
                }
                let out = train_forward(&k, variant, &rm, &rv);
                (rm, rv) = (out.3, out.4);
            }
            // Each update adds a few roundings (relative 4·2⁻²⁴) to the statistics' own error
            // (M + 16)·2⁻²⁴ ≤ 2⁻¹⁶ relative here; values are O(1), so 1e-5 absolute covers both.
            let what = format!("{shape:?} {variant:?}");
            assert_close(&rm, &want_m, 1e-5, 1e-5, &format!("{what} running_mean"));
            assert_close(&rv, &want_v, 1e-5, 1e-5, &format!("{what} running_var"));
        }
    }
}

#[test]
fn eval_mode_uses_running_statistics() {
    let mut rng = Rng::new(44);
    let eps = 1e-5f32;
    for shape in [[2, 3, 5, 7], [1, 1, 1, 1], [3, 65, 1, 3]] {
        let k = case(&mut rng, shape);
        let c = k.c();
        let rm: Vec<f32> = rng.vec(c).iter().map(|v| v + 2.0).collect();
        let rv: Vec<f32> = rng.vec(c).iter().map(|v| v * 0.5 + 0.7).collect();
        let (xt, gt, bt) = uploads(&k);
        let (rmt, rvt) = (upload(&[c], &rm), upload(&[c], &rv));
        let out = bn::batch_norm2d_eval(ctx(), &xt, &gt, &bt, &rmt, &rvt, eps).unwrap();
        let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
        let want = reference_eval(&x, &g, &b, (&f64s(&rm), &f64s(&rv)), c, k.hw(), eps as f64);
        // A handful of f32 operations per element on O(1) values: 1e-5 absolute and relative.
        assert_close(
            &download(&out.y),
            &want,
            1e-5,
            1e-5,
            &format!("{shape:?} eval y"),
        );
        assert_close(&download(&out.mean), &f64s(&rm), 0.0, 0.0, "eval mean");
        // Eval leaves the running statistics alone.
        assert_eq!(download(&rmt), rm);
        assert_eq!(download(&rvt), rv);
        // Eval backward: the statistics are constants; check against FD of the eval reference.
        let w = f64s(&rng.vec(x.len()));
        let wf: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let (dx, dg, db) = (zeros(&k.shape), zeros(&[c]), zeros(&[c]));
        let d = bn::backward(
            ctx(),
            &xt,
            &gt,
            &out.mean,
            &out.rstd,
            &upload(&k.shape, &wf),
            false,
            &dx,
            &dg,
            &db,
        )
        .unwrap();
        run(ctx(), &[d]).unwrap();
        let (rm64, rv64) = (f64s(&rm), f64s(&rv));
        let f = |xs: &[f64], gs: &[f64], bs: &[f64]| {
            dot(
                &reference_eval(xs, gs, bs, (&rm64, &rv64), c, k.hw(), eps as f64),
                &w,
            )
        };
        // dx is one product per element; dγ, dβ are sums of M·(few) terms of O(1): (M + 8)·2⁻²⁴
        // of Σ|terms|, under 1e-4 here; FD error ~1e-9.
        assert_close(
            &download(&dx),
            &numeric_grad(&x, |v| f(v, &g, &b)),
            1e-5,
            1e-5,
            "eval dx",
        );
        assert_close(
            &download(&dg),
            &numeric_grad(&g, |v| f(&x, v, &b)),
            1e-4,
            1e-5,
            "eval dgamma",
        );
        assert_close(
            &download(&db),
            &numeric_grad(&b, |v| f(&x, &g, v)),
            1e-4,
            1e-5,
            "eval dbeta",
        );
    }
}

/// The train backward with `variant` for dy = `w`; returns (dx, dgamma, dbeta).
fn backward(k: &Case, variant: BatchNormVariant, w: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (xt, gt, bt) = uploads(k);
    let c = k.c();
    let (rmt, rvt) = (zeros(&[c]), zeros(&[c]));
    let (y, mean, rstd) = (zeros(&k.shape), zeros(&[c]), zeros(&[c]));
    let (dx, dg, db) = (zeros(&k.shape), zeros(&[c]), zeros(&[c]));
    let opts = BatchNormOptions::default();
    let f = bn::forward_with(
        ctx(),
        variant,
        &xt,
        &gt,
        &bt,
        &rmt,
        &rvt,
        opts,
        &y,
        &mean,
        &rstd,
    );
    let b = bn::backward_with(
        ctx(),
        variant,
        &xt,
        &gt,
        &mean,
        &rstd,
        &upload(&k.shape, w),
        true,
        &dx,
        &dg,
        &db,
    );
    run(ctx(), &[f.unwrap(), b.unwrap()]).unwrap();
    (download(&dx), download(&dg), download(&db))
}

/// Tolerances of the train backward's (dx, dgamma, dbeta) for dy = `w`, from the forward's
/// budget. dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)): each term carries x̂'s error where x̂
/// enters and the f32 error of an M-term mean, (M + 8)·2⁻²⁴ of its magnitude; rstd adds er
/// relative. dγ = Σ dy·x̂, dβ = Σ dy: M terms, (M + 8)·2⁻²⁴ of Σ|terms|, plus Σ dx̂·|dy|. Plus
/// 1e-7 absolute for sums that cancel to ~0.
fn backward_tolerances(k: &Case, w: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let eps = BatchNormOptions::default().eps as f64;
    let (c, hw, m) = (k.c(), k.hw(), k.m() as f64);
    let u = 2f64.powi(-24);
    let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
    let (_, mean, var) = reference(&x, &g, &b, c, hw, eps);
    let mut tdx = vec![0.0; x.len()];
    let (mut tdg, mut tdb) = (vec![1e-7; c], vec![1e-7; c]);
    for ch in 0..c {
        let (em, er) = budget(k, &x, ch);
        let s = 1.0 / (var[ch] + eps).sqrt();
        let idx: Vec<usize> = (0..x.len()).filter(|i| (i / hw) % c == ch).collect();
        let xh = |i: usize| (x[i] - mean[ch]) * s;
        let dxh = |i: usize| xh(i).abs() * er + s * em;
        let mean_w = idx.iter().map(|&i| w[i].abs()).sum::<f64>() / m;
        let mean_wx = idx.iter().map(|&i| (w[i] * xh(i)).abs()).sum::<f64>() / m;
        let mean_wdx = idx.iter().map(|&i| w[i].abs() * dxh(i)).sum::<f64>() / m;
        let rel = (m + 8.0) * u + er;
        for &i in &idx {
            let mag = w[i].abs() + mean_w + xh(i).abs() * mean_wx;
            tdx[i] =
                1e-7 + g[ch].abs() * s * (rel * mag + dxh(i) * mean_wx + xh(i).abs() * mean_wdx);
        }
        tdg[ch] += (m + 8.0) * u * m * mean_wx + m * mean_wdx;
        tdb[ch] += (m + 8.0) * u * m * mean_w;
    }
    (tdx, tdg, tdb)
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(45);
    let eps = 1e-5;
    for shape in [
        [2, 3, 3, 5],
        [3, 1, 1, 1],
        [1, 3, 7, 1],
        [2, 7, 1, 3],
        [4, 1, 5, 5],
    ] {
        let k = case(&mut rng, shape);
        let (c, hw) = (k.c(), k.hw());
        let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
        let w = f64s(&rng.vec(x.len()));
        let wf: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let want_dx = numeric_grad(&x, |xs| dot(&reference(xs, &g, &b, c, hw, eps).0, &w));
        let want_dg = numeric_grad(&g, |gs| dot(&reference(&x, gs, &b, c, hw, eps).0, &w));
        let want_db = numeric_grad(&b, |bs| dot(&reference(&x, &g, bs, c, hw, eps).0, &w));

        // Finite differences add ~1e-9 at most (h = 1e-6, |f| = O(M)), covered by the 1e-7
        // absolute of backward_tolerances.
        let (tdx, tdg, tdb) = backward_tolerances(&k, &w);
        for variant in VARIANTS {
            let what = format!("batch_norm2d {shape:?} {variant:?}");
            let (dx, dg, db) = backward(&k, variant, &wf);
            assert_close_each(&dx, &want_dx, &tdx, &format!("{what} dx"));
            assert_close_each(&dg, &want_dg, &tdg, &format!("{what} dgamma"));
            assert_close_each(&db, &want_db, &tdb, &format!("{what} dbeta"));
        }
    }
}

#[test]
fn bad_shapes_are_errors_naming_the_op() {
    let x = upload(&[2, 3, 4], &[0.0; 24]);
    let p3 = upload(&[3], &[0.0; 3]);
    let err = bn::batch_norm2d(ctx(), &x, &p3, &p3, &p3, &p3, BatchNormOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("batch_norm2d") && err.contains("[2, 3, 4]") && err.contains("[3]"),
        "{err}"
    );
    let x = upload(&[2, 3, 2, 2], &[0.0; 24]);
    let p4 = upload(&[4], &[0.0; 4]);
    let err = bn::batch_norm2d(ctx(), &x, &p4, &p3, &p3, &p3, BatchNormOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("batch_norm2d") && err.contains("[2, 3, 2, 2]") && err.contains("[4]"),
        "{err}"
    );
    let err = bn::batch_norm2d_eval(ctx(), &x, &p3, &p3, &p4, &p3, 1e-5)
        .unwrap_err()
        .to_string();
    assert!(err.contains("batch_norm2d") && err.contains("[4]"), "{err}");
}

/// The loop-limit regression: llvmpipe ends all loops of an invocation after 65,535 iterations
/// (`kernels::CPU_LOOP_LIMIT`), and the per-channel kernel loops ~3·M times forward, so a DCGAN
/// generator's `[128, 32, 16, 16]` (M = 32,768) came back with most of y unwritten (errors
/// ~4 against values of ~2) and its samples gray. Here: that shape, and the shapes on both
/// sides of the per-channel kernel's limit (forward 1×1×1×21842 = 65,535 trips, exact, and
/// 21843; backward 32764 and 32765), through the default path (which must pick a kernel that
/// runs to the end) and through each explicit variant (which must be right or, only where its
/// loops would pass the limit on this adapter, an error). Tolerances: the forward's and
/// backward's error budgets as in the tests above (worst-case f32 summation over M terms).
#[test]
fn shapes_past_the_cpu_loop_limit_match_reference() {
    use kiln::kernels::{loops_fit, loops_limited};
    let mut rng = Rng::new(46);
    let eps = BatchNormOptions::default().eps as f64;
    let opts = BatchNormOptions::default();
    let mut refused = 0;
    for shape in [
        [128, 32, 16, 16],
        [1, 1, 1, 21842],
        [1, 1, 1, 21843],
        [1, 1, 1, 32764],
        [1, 1, 1, 32765],
    ] {
        let k = case(&mut rng, shape);
        let (c, hw) = (k.c(), k.hw());
        let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
        let (y, mean, var) = reference(&x, &g, &b, c, hw, eps);
        let rstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
        let (ty, tm, tr) = forward_tolerances(&k, &mean, &rstd);
        let w32 = rng.vec(x.len());
        let w = f64s(&w32);
        let (want_dx, want_dg, want_db) = reference_backward(&x, &g, &w, c, hw, eps);
        let (tdx, tdg, tdb) = backward_tolerances(&k, &w);
        let (xt, gt, bt) = uploads(&k);
        let dy = upload(&k.shape, &w32);

        // Default path: bn::forward then bn::backward, each with variant_for's choice.
        let chosen = bn::variant_for(ctx(), &shape);
        let (rmt, rvt) = (zeros(&[c]), zeros(&[c]));
        let (yt, mt, st) = (zeros(&shape), zeros(&[c]), zeros(&[c]));
        let f = bn::forward(ctx(), &xt, &gt, &bt, &rmt, &rvt, opts, &yt, &mt, &st).unwrap();
        let (dxt, dgt, dbt) = (zeros(&shape), zeros(&[c]), zeros(&[c]));
        let bk = bn::backward(ctx(), &xt, &gt, &mt, &st, &dy, true, &dxt, &dgt, &dbt).unwrap();
        run(ctx(), &[f, bk]).unwrap();
        let what = format!("batch_norm2d {shape:?} default ({chosen:?})");
        assert_close_each(&download(&yt), &y, &ty, &format!("{what} y"));
        assert_close_each(&download(&mt), &mean, &tm, &format!("{what} mean"));
        assert_close_each(&download(&st), &rstd, &tr, &format!("{what} rstd"));
        assert_close_each(&download(&dxt), &want_dx, &tdx, &format!("{what} dx"));
        assert_close_each(&download(&dgt), &want_dg, &tdg, &format!("{what} dgamma"));
        assert_close_each(&download(&dbt), &want_db, &tdb, &format!("{what} dbeta"));

        // Each variant explicitly; the backward reads the default forward's statistics.
        for variant in VARIANTS {
            let what = format!("batch_norm2d {shape:?} {variant:?}");
            for backward in [false, true] {
                let trips = bn::loop_trips(variant, shape[0], hw, backward);
                let (y2, m2, s2) = (zeros(&shape), zeros(&[c]), zeros(&[c]));
                let (dx2, dg2, db2) = (zeros(&shape), zeros(&[c]), zeros(&[c]));
                let d = if backward {
                    bn::backward_with(
                        ctx(),
                        variant,
                        &xt,
                        &gt,
                        &mt,
                        &st,
                        &dy,
                        true,
                        &dx2,
                        &dg2,
                        &db2,
                    )
                } else {
                    let (rm2, rv2) = (zeros(&[c]), zeros(&[c]));
                    bn::forward_with(
                        ctx(),
                        variant,
                        &xt,
                        &gt,
                        &bt,
                        &rm2,
                        &rv2,
                        opts,
                        &y2,
                        &m2,
                        &s2,
                    )
                };
                match d {
                    Ok(d) => {
                        assert!(loops_fit(ctx(), trips), "{what}: {trips} trips accepted");
                        run(ctx(), &[d]).unwrap();
                        if backward {
                            assert_close_each(
                                &download(&dx2),
                                &want_dx,
                                &tdx,
                                &format!("{what} dx"),
                            );
                            assert_close_each(
                                &download(&dg2),
                                &want_dg,
                                &tdg,
                                &format!("{what} dgamma"),
                            );
                            assert_close_each(
                                &download(&db2),
                                &want_db,
                                &tdb,
                                &format!("{what} dbeta"),
                            );
                        } else {
                            assert_close_each(&download(&y2), &y, &ty, &format!("{what} y"));
                            assert_close_each(&download(&m2), &mean, &tm, &format!("{what} mean"));
                            assert_close_each(&download(&s2), &rstd, &tr, &format!("{what} rstd"));
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        assert!(
                            matches!(e, kiln::Error::Unsupported(_))
                                && !loops_fit(ctx(), trips)
                                && msg.contains("batch_norm2d")
                                && msg.contains(&format!("{shape:?}")),
                            "{what} backward {backward}: {msg}"
                        );
                        refused += 1;
                    }
                }
            }
        }
    }
    // On llvmpipe the guard is exercised: Channels is refused at [128, 32, 16, 16] (forward and
    // backward), 1×1×1×21843 (forward) and 32764 (forward) and 32765 (both).
    if loops_limited(ctx()) {
        assert_eq!(refused, 6, "refused explicit variants");
    }
}
