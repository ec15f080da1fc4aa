//! bce_with_logits: the mean loss against an f64 reference, extreme logits (|x| up to 1e4),
//! the logits' gradient against finite differences, and shape errors.

use super::*;
use kiln::ops::bce;

/// f64 reference: mean of −t·log σ(x) − (1 − t)·log(1 − σ(x)), written with the stable
/// log σ(x) = −log(1 + e^{−x}) (and log(1 − σ(x)) = log σ(−x)) through ln_1p.
fn reference(x: &[f64], t: &[f64]) -> f64 {
    let log_sigmoid = |v: f64| {
        if v >= 0.0 {
            -(-v).exp().ln_1p()
        } else {
            v - v.exp().ln_1p()
        }
    };
    let total: f64 = x
        .iter()
        .zip(t)
        .map(|(&v, &tt)| -tt * log_sigmoid(v) - (1.0 - tt) * log_sigmoid(-v))
        .sum();
    total / x.len() as f64
}

fn run_loss(shape: &[usize], x: &[f32], t: &[f32]) -> f32 {
    download(&bce::bce_with_logits(ctx(), &upload(shape, x), &upload(shape, t)).unwrap())[0]
}

/// Per element the kernel makes a few roundings of terms bounded by |x|·|t| + |x| + 1, and the
/// mean adds N roundings of partial sums: (N + 8)·2⁻²⁴ of the mean of those magnitudes.
fn tolerance(x: &[f64], t: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mag: f64 = x
        .iter()
        .zip(t)
        .map(|(v, tt)| v.abs() * (1.0 + tt.abs()) + 1.0)
        .sum();
    (n + 8.0) * 2f64.powi(-24) * mag / n
}

#[test]
fn loss_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(51);
    for &n in AWKWARD.iter().chain(&[1000, 70000]) {
        for shape in [vec![n], vec![n, 3]] {
            let len: usize = shape.iter().product();
            let x: Vec<f32> = rng.vec(len).iter().map(|v| v * 6.0).collect();
            let t: Vec<f32> = (0..len).map(|_| rng.unit() as f32).collect();
            let (xd, td) = (f64s(&x), f64s(&t));
            let got = run_loss(&shape, &x, &t);
            let tol = tolerance(&xd, &td);
            assert_close(
                &[got],
                &[reference(&xd, &td)],
                tol,
                0.0,
                &format!("bce {shape:?}"),
            );
        }
    }
}

#[test]
fn extreme_logits_are_finite_and_exact() {
    // |x| up to 1e4 with hard and soft targets: exp(−|x|) underflows to 0, so the loss is
    // max(x, 0) − x·t (exact in f32 up to its roundings), and tiny losses such as
    // log(1 + e^{−20}) ≈ 2e-9 keep their digits through the log1p series.
    let x = [
        1e4f32, -1e4, 1e4, -1e4, 20.0, -20.0, 88.0, -104.0, 0.0, 1e-30, 3e3, -3e3,
    ];
    let t = [
        1.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 0.25, 0.75, 0.5, 1.0, 0.5, 0.5,
    ];
    let (xd, td) = (f64s(&x), f64s(&t));
    for i in 0..x.len() {
        let got = run_loss(&[1], &x[i..=i], &t[i..=i]);
        let want = reference(&xd[i..=i], &td[i..=i]);
        assert!(got.is_finite(), "x = {} gives {got}", x[i]);
        // A few roundings relative to the terms, |x|·(1 + t): 4·2⁻²⁴ of that, and for the
        // tiny losses a relative 1e-6 (the series is exact to f32 precision).
        let tol = 4.0 * 2f64.powi(-24) * (xd[i].abs() * (1.0 + td[i])) + 1e-6 * want.abs();
        assert_close(
            &[got],
            &[want],
            tol,
            0.0,
            &format!("bce x = {}, t = {}", x[i], t[i]),
        );
        let dx = download(
            &bce::bce_with_logits_backward(
                ctx(),
                &upload(&[1], &x[i..=i]),
                &upload(&[1], &t[i..=i]),
                &upload(&[1], &[1.0]),
            )
            .unwrap(),
        )[0];
        let s = 1.0 / (1.0 + (-xd[i]).exp());
        // σ(x) − t with σ within a few roundings: 4·2⁻²⁴ absolute.
        assert_close(
            &[dx],
            &[s - td[i]],
            4.0 * 2f64.powi(-24),
            0.0,
            "bce dx extreme",
        );
    }
    // x = −20, t = 0 and x = 20, t = 1: max(x, 0) − x·t is exactly 0, the loss is
    // log(1 + e^{−20}) ≈ 2.06e-9 alone; log(1 + e) in f32 would give 0.
    for (xs, ts) in [(-20.0f32, 0.0f32), (20.0, 1.0)] {
        let got = run_loss(&[1], &[xs], &[ts]);
        let want = reference(&[xs as f64], &[ts as f64]);
        assert_close(&[got], &[want], 0.0, 1e-5, "bce tiny loss");
    }
    let got = run_loss(&[12], &x, &t);
    assert!(got.is_finite());
    assert_close(
        &[got],
        &[reference(&xd, &td)],
        tolerance(&xd, &td),
        0.0,
        "bce extreme mean",
    );
}

#[test]
fn gradient_matches_finite_differences() {
    let mut rng = Rng::new(52);
    for shape in [vec![1], vec![7], vec![3, 33], vec![2, 5, 13]] {
        let len: usize = shape.iter().product();
        let x: Vec<f32> = rng.vec(len).iter().map(|v| v * 5.0).collect();
        let t: Vec<f32> = (0..len).map(|_| rng.unit() as f32).collect();
        let dloss = rng.uniform(0.5, 2.0) as f32;
        let (xd, td) = (f64s(&x), f64s(&t));
        let dx = bce::bce_with_logits_backward(
            ctx(),
            &upload(&shape, &x),
            &upload(&shape, &t),
            &upload(&[1], &[dloss]),
        )
        .unwrap();
        let want = numeric_grad(&xd, |xs| dloss as f64 * reference(xs, &td));
        // dx = (σ(x) − t)·dloss/N: σ within a few roundings, then two products: 8·2⁻²⁴ of
        // |dloss|/N relative to O(1) terms; FD error ~1e-10.
        let tol = 8.0 * 2f64.powi(-24) * dloss as f64 * 2.0 / len as f64 + 1e-9;
        assert_close(
            &download(&dx),
            &want,
            tol,
            1e-6,
            &format!("bce dx {shape:?}"),
        );
    }
}

#[test]
fn bad_shapes_are_errors_naming_the_op() {
    let err = bce::bce_with_logits(
        ctx(),
        &upload(&[2, 3], &[0.0; 6]),
        &upload(&[3, 2], &[0.0; 6]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("bce_with_logits") && err.contains("[2, 3]") && err.contains("[3, 2]"),
        "{err}"
    );
    let err = bce::bce_with_logits_backward(
        ctx(),
        &upload(&[4], &[0.0; 4]),
        &upload(&[4], &[0.0; 4]),
        &upload(&[2], &[0.0; 2]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("bce_with_logits_backward") && err.contains("[2]"),
        "{err}"
    );
}
