//! softmax: forward against an f64 reference, backward against finite differences.

use super::*;
use kiln::kernels::run;
use kiln::ops::softmax::{self, SoftmaxVariant};
use kiln::{DType, Tensor};

const VARIANTS: [SoftmaxVariant; 2] = [SoftmaxVariant::Workgroup, SoftmaxVariant::Rows];

fn forward(v: SoftmaxVariant, x: &Tensor) -> Tensor {
    let y = Tensor::zeros(ctx(), x.shape(), DType::F32).unwrap();
    run(ctx(), &[softmax::forward_with(ctx(), v, x, &y).unwrap()]).unwrap();
    y
}

fn backward(v: SoftmaxVariant, y: &Tensor, dy: &Tensor) -> Tensor {
    let dx = Tensor::zeros(ctx(), y.shape(), DType::F32).unwrap();
    run(
        ctx(),
        &[softmax::backward_with(ctx(), v, y, dy, &dx).unwrap()],
    )
    .unwrap();
    dx
}

/// f64 reference, row-wise over the last axis of `cols`.
fn reference(x: &[f64], cols: usize) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for (xr, yr) in x.chunks(cols).zip(y.chunks_mut(cols)) {
        let m = xr.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = xr.iter().map(|v| (v - m).exp()).sum();
        for (o, v) in yr.iter_mut().zip(xr) {
            *o = (v - m).exp() / s;
        }
    }
    y
}

// Tolerance: each output is exp(x - m) / s with f32 exp (a few ulp) and an f32 sum of C terms
// (relative error up to about C·2⁻²⁴); rtol = (C + 16)·2⁻²⁴ covers both, atol 1e-7 covers
// outputs that underflow towards 0.
fn tol(cols: usize) -> f64 {
    (cols as f64 + 16.0) * 2f64.powi(-24) * 2.0
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(1);
    for &rows in AWKWARD {
        for &cols in &[1, 3, 4, 7, 33, 36, 65, 129, 512, 1000] {
            let x = rng
                .vec(rows * cols)
                .iter()
                .map(|v| v * 8.0)
                .collect::<Vec<_>>();
            let y = softmax::softmax(ctx(), &upload(&[rows, cols], &x)).unwrap();
            let want = reference(&f64s(&x), cols);
            assert_close(
                &download(&y),
                &want,
                1e-7,
                tol(cols),
                &format!("softmax [{rows},{cols}]"),
            );
        }
    }
}

#[test]
fn forward_is_stable_for_large_inputs() {
    // Logits near ±1000 overflow a naive exp; the max subtraction must keep them finite.
    let x: Vec<f32> = (0..3 * 7)
        .map(|i| {
            if i % 2 == 0 {
                1000.0 - i as f32
            } else {
                -1000.0 + i as f32
            }
        })
        .collect();
    for v in VARIANTS {
        let y = download(&forward(v, &upload(&[3, 7], &x)));
        assert!(y.iter().all(|v| v.is_finite()), "{y:?}");
        assert_close(&y, &reference(&f64s(&x), 7), 1e-7, tol(7), "softmax ±1000");
    }
}

#[test]
fn forward_over_last_axis_of_3d() {
    let mut rng = Rng::new(2);
    let x = rng.vec(2 * 3 * 33);
    let y = softmax::softmax(ctx(), &upload(&[2, 3, 33], &x)).unwrap();
    assert_eq!(y.shape(), &[2, 3, 33]);
    assert_close(
        &download(&y),
        &reference(&f64s(&x), 33),
        1e-7,
        tol(33),
        "softmax 3-D",
    );
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(3);
    for (v, &(rows, cols)) in VARIANTS.iter().flat_map(|v| {
        [(1, 1), (3, 7), (7, 33), (2, 65), (1, 129), (65, 3)]
            .iter()
            .map(move |s| (*v, s))
    }) {
        let x = rng.vec(rows * cols);
        // Loss ⟨y, w⟩ with a random w: with w = 1 the gradient is identically zero (rows of y
        // sum to one), which would pass a broken kernel.
        let w = f64s(&rng.vec(rows * cols));
        let y = forward(v, &upload(&[rows, cols], &x));
        let dy: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let dx = backward(v, &y, &upload(&[rows, cols], &dy));
        let want = numeric_grad(&f64s(&x), |xs| dot(&reference(xs, cols), &w));
        // dx is a difference of O(|w|·y) terms; same budget as the forward, in absolute terms.
        assert_close(
            &download(&dx),
            &want,
            1e-6,
            tol(cols),
            &format!("softmax {v:?} dx [{rows},{cols}]"),
        );
    }
}

#[test]
fn shape_errors_name_the_op() {
    let x = upload(&[2, 3], &[0.0; 6]);
    let y = Tensor::zeros(ctx(), &[3, 2], DType::F32).unwrap();
    let err = softmax::forward(ctx(), &x, &y).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("softmax") && msg.contains("[2, 3]") && msg.contains("[3, 2]"),
        "{msg}"
    );
}

// ---- log_softmax ----

fn log_forward(v: SoftmaxVariant, x: &Tensor) -> Tensor {
    let y = Tensor::zeros(ctx(), x.shape(), DType::F32).unwrap();
    run(
        ctx(),
        &[softmax::log_forward_with(ctx(), v, x, &y).unwrap()],
    )
    .unwrap();
    y
}

fn log_backward(v: SoftmaxVariant, y: &Tensor, dy: &Tensor) -> Tensor {
    let dx = Tensor::zeros(ctx(), y.shape(), DType::F32).unwrap();
    run(
        ctx(),
        &[softmax::log_backward_with(ctx(), v, y, dy, &dx).unwrap()],
    )
    .unwrap();
    dx
}

/// f64 reference: `x - max - log Σ exp(x - max)`, row-wise.
fn log_reference(x: &[f64], cols: usize) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for (xr, yr) in x.chunks(cols).zip(y.chunks_mut(cols)) {
        let m = xr.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let shift = m + xr.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        for (o, v) in yr.iter_mut().zip(xr) {
            *o = v - shift;
        }
    }
    y
}

// Tolerance: y = x - shift, with shift = m + log s; s is an f32 sum of C terms in [0, 1]
// (relative error ≤ C·2⁻²⁴, so log s is off by as much absolutely), and x - shift rounds at
// |y|·2⁻²⁴. atol (C + 16)·2⁻²³ covers the first, rtol 4·2⁻²⁴ the second.
fn log_tol(cols: usize) -> (f64, f64) {
    ((cols as f64 + 16.0) * 2f64.powi(-23), 4.0 * 2f64.powi(-24))
}

#[test]
fn log_softmax_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(11);
    for v in VARIANTS {
        for &rows in AWKWARD {
            for &cols in &[1, 3, 4, 7, 33, 65, 129, 1000] {
                let x: Vec<f32> = rng.vec(rows * cols).iter().map(|v| v * 8.0).collect();
                let y = log_forward(v, &upload(&[rows, cols], &x));
                let (atol, rtol) = log_tol(cols);
                assert_close(
                    &download(&y),
                    &log_reference(&f64s(&x), cols),
                    atol,
                    rtol,
                    &format!("log_softmax {v:?} [{rows},{cols}]"),
                );
            }
        }
    }
}

#[test]
fn log_softmax_stays_finite_where_softmax_underflows() {
    // exp(-2000) is 0 in f32, so log(softmax(x)) would be -inf; x - logsumexp(x) is -2000.
    let x = [1000.0f32, -1000.0, 0.0, 999.0];
    for v in VARIANTS {
        let y = download(&log_forward(v, &upload(&[1, 4], &x)));
        assert!(y.iter().all(|v| v.is_finite()), "{v:?}: {y:?}");
        // Here every term is exact in f32 but log(1 + e⁻¹), rounded at 2⁻²⁴ relative to 1000.
        assert_close(
            &y,
            &log_reference(&f64s(&x), 4),
            1e-3,
            1e-6,
            "log_softmax ±1000",
        );
    }
}

#[test]
fn log_softmax_backward_matches_finite_differences() {
    let mut rng = Rng::new(12);
    for v in VARIANTS {
        for &(rows, cols) in &[(1, 1), (3, 7), (7, 33), (2, 65), (1, 129), (65, 3)] {
            let x = rng.vec(rows * cols);
            // A random w: with w = 1 the loss Σ y has gradient 1 - C·softmax, which a kernel
            // that ignored dy's values could still match.
            let w = f64s(&rng.vec(rows * cols));
            let y = log_forward(v, &upload(&[rows, cols], &x));
            let dy: Vec<f32> = w.iter().map(|&v| v as f32).collect();
            let dx = log_backward(v, &y, &upload(&[rows, cols], &dy));
            let want = numeric_grad(&f64s(&x), |xs| dot(&log_reference(xs, cols), &w));
            // dx = dy - p·Σdy: an f32 sum of C terms of O(1), so ~C·2⁻²⁴ absolute, plus the
            // finite difference's own ~1e-9.
            let (atol, _) = log_tol(cols);
            assert_close(
                &download(&dx),
                &want,
                atol.max(1e-6),
                1e-5,
                &format!("log_softmax {v:?} dx [{rows},{cols}]"),
            );
        }
    }
}

#[test]
fn log_softmax_graph_rule_matches_finite_differences() {
    // Through the graph: loss = Σ w ⊙ log_softmax(x); the chain rule must route dy through
    // LogSoftmaxBackward, not softmax's.
    use kiln::{Graph, ParamStore, Plan, PlanSpec};
    let (rows, cols) = (5, 9);
    let mut rng = Rng::new(13);
    let x = rng.vec(rows * cols);
    let w = rng.vec(rows * cols);
    let mut g = Graph::new();
    let xv = g.input("x", &[rows, cols], DType::F32).unwrap();
    let wv = g.input("w", &[rows, cols], DType::F32).unwrap();
    let y = g.log_softmax(xv).unwrap();
    let weighted = g.mul(y, wv).unwrap();
    let loss = g.sum_all(weighted).unwrap();
    let dx = g.grad(loss, &[xv]).unwrap()[0];
    let mut store = ParamStore::new(1);
    let spec = PlanSpec::eval(vec![loss, dx]);
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    plan.set_input_f32(ctx(), "x", &x).unwrap();
    plan.set_input_f32(ctx(), "w", &w).unwrap();
    plan.step(ctx()).unwrap();
    let wd = f64s(&w);
    let f = |xs: &[f64]| dot(&log_reference(xs, cols), &wd);
    // The loss sums 45 products of O(1): a few 1e-6 absolute in f32.
    assert_close(
        &plan.read_f32(ctx(), loss).unwrap(),
        &[f(&f64s(&x))],
        2e-5,
        1e-5,
        "log_softmax loss",
    );
    assert_close(
        &plan.read_f32(ctx(), dx).unwrap(),
        &numeric_grad(&f64s(&x), f),
        1e-5,
        1e-5,
        "log_softmax graph dx",
    );
}

#[test]
fn rows_longer_than_the_cpu_loop_limit_are_right() {
    // A row of 40,000 (a word-piece vocabulary) walked twice by one invocation is 80,000 loop
    // passes, past llvmpipe's 65,535: the default variant must still give every element.
    let cols = 40_000;
    let mut rng = Rng::new(14);
    let x: Vec<f32> = rng.vec(2 * cols).iter().map(|v| v * 4.0).collect();
    let xt = upload(&[2, cols], &x);
    let want = reference(&f64s(&x), cols);
    assert_close(
        &download(&softmax::softmax(ctx(), &xt).unwrap()),
        &want,
        1e-9,
        tol(cols),
        "softmax [2, 40000]",
    );
    let (atol, rtol) = log_tol(cols);
    assert_close(
        &download(&softmax::log_softmax(ctx(), &xt).unwrap()),
        &log_reference(&f64s(&x), cols),
        atol,
        rtol,
        "log_softmax [2, 40000]",
    );
}
