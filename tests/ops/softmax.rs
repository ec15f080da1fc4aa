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
