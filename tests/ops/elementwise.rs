//! elementwise: add, mul, add_row, scale and the activations against f64 references; every
//! backward against finite differences; GELU's erf against an f64 erf; large |x|.

use super::*;
use kiln::ops::elementwise::{self as ew, Activation};

const ACTS: &[Activation] = &[
    Activation::Relu,
    Activation::LeakyRelu(0.01),
    Activation::GeluTanh,
    Activation::GeluErf,
    Activation::Tanh,
    Activation::Sigmoid,
];

/// erf by its Maclaurin series, for |z| < 2 (terms peak near 2^4/2! and the sum converges to
/// ~1e-16 absolute).
fn erf_series(z: f64) -> f64 {
    let mut term = z;
    let mut sum = z;
    let mut n = 0.0;
    while term.abs() > 1e-18 {
        n += 1.0;
        term *= -z * z / n;
        sum += term / (2.0 * n + 1.0);
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

/// erfc in f64, with relative accuracy in the tail: 1 - series below 2 (erfc(2) ≈ 4.7e-3, so the
/// series' 1e-16 absolute error is 2e-14 relative), the Laplace continued fraction
/// erfc z = e^{-z²}/√π · 1/(z + ½/(z + 1/(z + 3/2/(z + ...)))) from 2 on, evaluated bottom-up
/// with 300 terms (converged to ~1e-15 at z = 2, faster beyond).
fn erfc_ref(z: f64) -> f64 {
    if z < 0.0 {
        2.0 - erfc_ref(-z)
    } else if z < 2.0 {
        1.0 - erf_series(z)
    } else {
        let mut t = z;
        for k in (1..=300).rev() {
            t = z + (k as f64 / 2.0) / t;
        }
        (-z * z).exp() / (std::f64::consts::PI.sqrt() * t)
    }
}

/// Standard normal CDF.
fn phi_ref(x: f64) -> f64 {
    0.5 * erfc_ref(-x / std::f64::consts::SQRT_2)
}

/// f64 reference of each activation.
fn act_ref(x: f64, act: Activation) -> f64 {
    match act {
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu(s) => {
            if x > 0.0 {
                x
            } else {
                s as f64 * x
            }
        }
        Activation::GeluTanh => {
            let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
            0.5 * x * (1.0 + u.tanh())
        }
        Activation::GeluErf => x * phi_ref(x),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
    }
}

// Forward tolerance per element, from the f32 operations of each kernel. Vulkan lets exp(a) be
// off by (3 + 2|a|) ulp; with the divisions and products around it, (16 + 2|a|)·2⁻²⁴ relative
// covers sigmoid (a = |x|), tanh (built from exp(2x)), and GELU-tanh (a = 2|u|; an f32 u carries
// ~3 roundings, which moves sigmoid(2u) by another 6|u|·2⁻²⁴ relative, so (16 + 10|u|)).
// tanh near 0 may be formed as (e^{2x} - 1)/(e^{2x} + 1): an absolute 2⁻²³ covers the cancellation.
// GELU-erf: the erfc fit has relative error < 1.2e-7; the kernel splits -z² so that its own
// rounding adds nothing, but the driver's exp(a) may be off by (3 + 2|a|) ulp (Vulkan's bound;
// lavapipe's exp2(a·log2 e) loses about |a|·2⁻²⁴), with |a| up to z² + 1.3, and the polynomial
// and t = 1/(1 + z/2) cost ~20 ulp: tail·(1.2e-7 + (24 + 6z²)·2⁻²⁴); for x > 0, where
// Φ = 1 - tail, one more rounding of Φ. Everything is multiplied by |x|.
fn act_tol(x: f64, act: Activation) -> f64 {
    let ulp = 2f64.powi(-24);
    let y = act_ref(x, act).abs();
    match act {
        Activation::Relu => 0.0,
        Activation::LeakyRelu(_) => ulp * y,
        Activation::Sigmoid => (16.0 + 2.0 * x.abs()) * ulp * y + 1e-37,
        Activation::Tanh => (16.0 + 4.0 * x.abs()) * ulp * y + 2.0 * ulp,
        Activation::GeluTanh => {
            let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
            (16.0 + 10.0 * u.abs()) * ulp * y + 1e-37
        }
        Activation::GeluErf => {
            let z2 = x * x / 2.0;
            let tail = phi_ref(-x.abs());
            let phi = phi_ref(x);
            x.abs() * (2.0 * ulp * phi + tail * (1.2e-7 + (24.0 + 6.0 * z2) * ulp)) + 1e-37
        }
    }
}

#[test]
fn erf_reference_matches_known_values() {
    // Tabulated values (Abramowitz & Stegun table 7.1 and higher-precision sources).
    let cases = [
        (0.5, 1.0 - 0.520_499_877_813_046_5),
        (1.0, 1.0 - 0.842_700_792_949_714_9),
        (2.0, 0.004_677_734_981_047_266),
        (3.0, 2.209_049_699_858_544e-5),
        (5.0, 1.537_459_794_428_035e-12),
    ];
    for (z, want) in cases {
        let got = erfc_ref(z);
        assert!(
            ((got - want) / want).abs() < 1e-13,
            "erfc({z}) = {got}, want {want}"
        );
    }
    // The two branches agree where they meet.
    let (below, above) = (1.0 - erf_series(2.0), erfc_ref(2.0));
    assert!(((below - above) / above).abs() < 1e-12, "{below} {above}");
}

#[test]
fn gelu_erf_is_accurate_against_f64_erf() {
    // x over [-12, 12] in steps of 1/128: Φ from 1e-33 to 1, both erfc branches.
    let x: Vec<f32> = (-1536..=1536).map(|i| i as f32 / 128.0).collect();
    let y = ew::activation(ctx(), &upload(&[x.len()], &x), Activation::GeluErf).unwrap();
    let xs = f64s(&x);
    let want: Vec<f64> = xs
        .iter()
        .map(|&v| act_ref(v, Activation::GeluErf))
        .collect();
    let tol: Vec<f64> = xs
        .iter()
        .map(|&v| act_tol(v, Activation::GeluErf))
        .collect();
    let got = download(&y);
    assert_close_each(&got, &want, &tol, "gelu_erf vs f64 erf");
    // Measured relative accuracy of y = x·Φ(x), over the whole range and over |x| <= 5.
    let worst = |limit: f64| {
        got.iter()
            .zip(&want)
            .zip(&xs)
            .filter(|((_, w), x)| w.abs() > 1e-30 && x.abs() <= limit)
            .map(|((g, w), _)| ((*g as f64 - w) / w).abs())
            .fold(0.0, f64::max)
    };
    let (all, near) = (worst(12.0), worst(5.0));
    assert!(
        all < 2e-5 && near < 2e-6,
        "worst relative error {all:e}, {near:e} on |x| <= 5"
    );
    eprintln!("gelu_erf: worst relative error {all:.2e} on [-12, 12], {near:.2e} on [-5, 5]");
}

#[test]
/// Rows of 7 take the scalar entries; rows of 8 (whole vec4s) their `4` twins.
fn activations_match_reference_on_awkward_sizes() {
    let mut rng = Rng::new(21);
    for &act in ACTS {
        for &n in AWKWARD {
            for c in [7, 8] {
                let x: Vec<f32> = rng.vec(n * c).iter().map(|v| v * 6.0).collect();
                let y = ew::activation(ctx(), &upload(&[n, c], &x), act).unwrap();
                let xs = f64s(&x);
                let want: Vec<f64> = xs.iter().map(|&v| act_ref(v, act)).collect();
                let tol: Vec<f64> = xs.iter().map(|&v| act_tol(v, act)).collect();
                assert_close_each(&download(&y), &want, &tol, &format!("{act:?} [{n}, {c}]"));
            }
        }
    }
}

#[test]
fn activations_are_finite_with_right_limits_at_large_inputs() {
    let x: Vec<f32> = vec![50.0, -50.0, 1000.0, -1000.0, 1e30, -1e30];
    let xt = upload(&[6], &x);
    let dy = upload(&[6], &[1.0; 6]);
    for &act in ACTS {
        let y = ew::activation(ctx(), &xt, act).unwrap();
        let dx = download(&ew::activation_backward(ctx(), &xt, &y, &dy, act).unwrap());
        let y = download(&y);
        assert!(
            y.iter().chain(&dx).all(|v| v.is_finite()),
            "{act:?}: y {y:?} dx {dx:?}"
        );
        for i in 0..6 {
            let v = x[i] as f64;
            // Derivative limits: 1 or 0 (slope for leaky) on the far side of each saturation.
            let want_d = match act {
                Activation::Relu | Activation::GeluTanh | Activation::GeluErf => {
                    if v > 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                }
                Activation::LeakyRelu(s) => {
                    if v > 0.0 {
                        1.0
                    } else {
                        s as f64
                    }
                }
                Activation::Tanh | Activation::Sigmoid => 0.0,
            };
            // Values against the f64 reference with the forward tolerance (at these inputs
            // each is a limit up to far less than an ulp, or sigmoid(-50) ≈ 2e-22 exactly);
            // derivatives against their limit: the true derivative at |x| = 50 is within
            // 1e-20 of it, so 2⁻²³ relative plus 1e-20 absolute.
            let want_y = act_ref(v, act);
            assert!(
                (y[i] as f64 - want_y).abs() <= act_tol(v, act),
                "{act:?}({v}) = {} want {want_y}",
                y[i]
            );
            assert!(
                (dx[i] as f64 - want_d).abs() <= 2f64.powi(-23) * want_d.abs() + 1e-20,
                "{act:?}'({v}) = {} want {want_d}",
                dx[i]
            );
        }
    }
}

#[test]
fn activation_backward_matches_finite_differences() {
    let mut rng = Rng::new(22);
    for &act in ACTS {
        // (3, 8) and (1, 64) are whole vec4s: the `4` entries.
        for &(r, c) in &[(1, 1), (3, 7), (1, 65), (3, 8), (1, 64)] {
            let x: Vec<f32> = rng.vec(r * c).iter().map(|v| v * 4.0).collect();
            let w = f64s(&rng.vec(r * c));
            let xt = upload(&[r, c], &x);
            let y = ew::activation(ctx(), &xt, act).unwrap();
            let dy = upload(&[r, c], &w.iter().map(|&v| v as f32).collect::<Vec<_>>());
            let dx = ew::activation_backward(ctx(), &xt, &y, &dy, act).unwrap();
            let want = numeric_grad(&f64s(&x), |xs| {
                xs.iter().zip(&w).map(|(&v, wi)| act_ref(v, act) * wi).sum()
            });
            // Each derivative is a sum of O(1) terms (|f'| ≤ 1.13 on [-4, 4]) computed with
            // the same exp-based errors as the forward, at most (16 + 10·5.5)·2⁻²⁴ ≈ 4.2e-6 for
            // |u| ≤ 5.5; tanh and sigmoid also inherit the saved y's error through 1 - y² and
            // y(1 - y). 8e-6·|w| absolute covers it (terms may cancel, so no relative part).
            let tol: Vec<f64> = w.iter().map(|wi| 8e-6 * wi.abs() + 1e-9).collect();
            assert_close_each(
                &download(&dx),
                &want,
                &tol,
                &format!("{act:?} dx [{r}, {c}]"),
            );
        }
    }
}

#[test]
/// AWKWARD's odd sizes take the scalar entries; with 4 and 12 the element count, and for
/// add_row the row, come in whole vec4s ([4, 3]: a whole count over a ragged row, scalar).
fn binary_ops_match_reference() {
    let mut rng = Rng::new(23);
    let with_whole = |extra: &[usize]| [AWKWARD, extra].concat();
    for &r in &with_whole(&[4]) {
        for &c in &with_whole(&[4, 12]) {
            let a = rng.vec(r * c);
            let b = rng.vec(r * c);
            let bias = rng.vec(c);
            let (at, bt) = (upload(&[r, c], &a), upload(&[r, c], &b));
            let (a64, b64) = (f64s(&a), f64s(&b));
            // Each result is one correctly rounded f32 operation: within 2⁻²⁴ relative.
            let rtol = 2f64.powi(-24);
            let sum: Vec<f64> = a64.iter().zip(&b64).map(|(x, y)| x + y).collect();
            let got = ew::add(ctx(), &at, &bt).unwrap();
            assert_close(&download(&got), &sum, 0.0, rtol, &format!("add [{r},{c}]"));
            let prod: Vec<f64> = a64.iter().zip(&b64).map(|(x, y)| x * y).collect();
            let got = ew::mul(ctx(), &at, &bt).unwrap();
            assert_close(&download(&got), &prod, 0.0, rtol, &format!("mul [{r},{c}]"));
            let row: Vec<f64> = (0..r * c).map(|i| a64[i] + bias[i % c] as f64).collect();
            let got = ew::add_row(ctx(), &at, &upload(&[c], &bias)).unwrap();
            assert_close(
                &download(&got),
                &row,
                0.0,
                rtol,
                &format!("add_row [{r},{c}]"),
            );
            // alpha·x + beta: two roundings (or one, fused).
            let sc: Vec<f64> = a64.iter().map(|x| -1.5 * x + 0.25).collect();
            let got = ew::scale(ctx(), &at, -1.5, 0.25).unwrap();
            let tol: Vec<f64> = a64
                .iter()
                .map(|x| 2.0 * rtol * (1.5 * x.abs() + 0.25))
                .collect();
            assert_close_each(&download(&got), &sc, &tol, &format!("scale [{r},{c}]"));
        }
    }
}

#[test]
fn add_row_broadcasts_over_leading_axes() {
    let mut rng = Rng::new(24);
    let x = rng.vec(3 * 5 * 33);
    let bias = rng.vec(33);
    let y = ew::add_row(ctx(), &upload(&[3, 5, 33], &x), &upload(&[33], &bias)).unwrap();
    assert_eq!(y.shape(), &[3, 5, 33]);
    let want: Vec<f64> = (0..x.len())
        .map(|i| x[i] as f64 + bias[i % 33] as f64)
        .collect();
    assert_close(
        &download(&y),
        &want,
        0.0,
        2f64.powi(-24),
        "add_row [3,5,33]",
    );
}

#[test]
fn binary_backwards_match_finite_differences() {
    let mut rng = Rng::new(25);
    // [7, 33] takes the scalar entries, [4, 12] the vec4 ones.
    for (r, c) in [(7, 33), (4, 12)] {
        check_binary_backwards(&mut rng, r, c);
    }
}

fn check_binary_backwards(rng: &mut Rng, r: usize, c: usize) {
    let a = rng.vec(r * c);
    let b = rng.vec(r * c);
    let bias = rng.vec(c);
    let w = f64s(&rng.vec(r * c));
    let wf: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let (at, bt, dy) = (
        upload(&[r, c], &a),
        upload(&[r, c], &b),
        upload(&[r, c], &wf),
    );
    let (a64, b64) = (f64s(&a), f64s(&b));
    // Gradients here are single products or copies of w (or sums of r of them for dbias):
    // one rounding, or r·2⁻²⁴·Σ|w| for the sum; finite differences of these bilinear losses are
    // exact to ~1e-10. atol 1e-9 absorbs that.
    let rtol = 2f64.powi(-23);

    let loss_mul_a = |xs: &[f64]| {
        dot(
            &xs.iter().zip(&b64).map(|(x, y)| x * y).collect::<Vec<_>>(),
            &w,
        )
    };
    let loss_mul_b = |xs: &[f64]| {
        dot(
            &xs.iter().zip(&a64).map(|(x, y)| x * y).collect::<Vec<_>>(),
            &w,
        )
    };
    let (da, db) = ew::mul_backward(ctx(), &at, &bt, &dy).unwrap();
    assert_close(
        &download(&da),
        &numeric_grad(&a64, loss_mul_a),
        1e-9,
        rtol,
        "mul da",
    );
    assert_close(
        &download(&db),
        &numeric_grad(&b64, loss_mul_b),
        1e-9,
        rtol,
        "mul db",
    );

    let loss_add = |xs: &[f64]| {
        dot(
            &xs.iter().zip(&b64).map(|(x, y)| x + y).collect::<Vec<_>>(),
            &w,
        )
    };
    let (da, db) = ew::add_backward(ctx(), &dy).unwrap();
    let want = numeric_grad(&a64, loss_add);
    assert_close(&download(&da), &want, 1e-9, rtol, "add da");
    assert_close(&download(&db), &want, 1e-9, rtol, "add db");

    let loss_row_bias = |bs: &[f64]| {
        let y: Vec<f64> = (0..r * c).map(|i| a64[i] + bs[i % c]).collect();
        dot(&y, &w)
    };
    let (dx, dbias) = ew::add_row_backward(ctx(), &dy).unwrap();
    assert_eq!(dbias.shape(), &[c]);
    assert_close(
        &download(&dx),
        &numeric_grad(&a64, loss_add),
        1e-9,
        rtol,
        "add_row dx",
    );
    let mag: Vec<f64> = (0..c)
        .map(|j| (0..r).map(|i| w[i * c + j].abs()).sum::<f64>())
        .collect();
    let tol: Vec<f64> = mag
        .iter()
        .map(|m| 8.0 * 2f64.powi(-24) * m + 1e-9)
        .collect();
    assert_close_each(
        &download(&dbias),
        &numeric_grad(&f64s(&bias), loss_row_bias),
        &tol,
        "add_row dbias",
    );

    let loss_scale = |xs: &[f64]| dot(&xs.iter().map(|x| 0.75 * x + 2.0).collect::<Vec<_>>(), &w);
    let dx = ew::scale_backward(ctx(), &dy, 0.75).unwrap();
    assert_close(
        &download(&dx),
        &numeric_grad(&a64, loss_scale),
        1e-9,
        rtol,
        "scale dx",
    );
}

#[test]
fn folded_grid_covers_more_than_65535_workgroups() {
    // 65535·64 + 3 elements need 65,536 workgroups of 64: the grid must fold into y. So do
    // 4·(65535·64 + 1) elements four to an invocation (the vec4 entry).
    for n in [65535 * 64 + 3, 4 * (65535 * 64 + 1)] {
        let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32).collect();
        let y = download(&ew::scale(ctx(), &upload(&[n], &x), 2.0, 1.0).unwrap());
        // Small integers: 2x + 1 is exact in f32.
        let bad = (0..n).find(|&i| y[i] != 2.0 * x[i] + 1.0);
        assert_eq!(bad, None, "first wrong element {bad:?} of {n}");
    }
}

#[test]
fn shape_errors_name_the_op() {
    let a = upload(&[2, 3], &[0.0; 6]);
    let b = upload(&[3, 2], &[0.0; 6]);
    let msg = ew::add(ctx(), &a, &b).unwrap_err().to_string();
    assert!(
        msg.contains("add") && msg.contains("[2, 3]") && msg.contains("[3, 2]"),
        "{msg}"
    );
    let msg = ew::mul(ctx(), &a, &b).unwrap_err().to_string();
    assert!(msg.contains("mul") && msg.contains("[3, 2]"), "{msg}");
    let bias = upload(&[2], &[0.0; 2]);
    let msg = ew::add_row(ctx(), &a, &bias).unwrap_err().to_string();
    assert!(
        msg.contains("add_row") && msg.contains("[2, 3]") && msg.contains("[2]"),
        "{msg}"
    );
    let msg = ew::activation_backward(ctx(), &a, &a, &b, Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("activation_backward") && msg.contains("[2, 3]") && msg.contains("[3, 2]"),
        "{msg}"
    );
}
