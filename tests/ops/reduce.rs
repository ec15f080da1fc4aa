//! reduce: sum and mean over one axis and over everything, against f64 loops; backward
//! against finite differences.

use super::*;
use kiln::ops::reduce;

/// f64 reference: reduces `x` (shape `shape`) over `axis`, scaled by `scale`. Also returns, per
/// output, `scale · Σ|x|`, which bounds the rounding error of any f32 summation order.
fn reference(x: &[f64], shape: &[usize], axis: usize, scale: f64) -> (Vec<f64>, Vec<f64>) {
    let outer: usize = shape[..axis].iter().product();
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let mut y = vec![0.0; outer * inner];
    let mut mag = vec![0.0; outer * inner];
    for o in 0..outer {
        for a in 0..n {
            for i in 0..inner {
                let v = x[(o * n + a) * inner + i];
                y[o * inner + i] += scale * v;
                mag[o * inner + i] += scale * v.abs();
            }
        }
    }
    (y, mag)
}

// Tolerance: a sum of n f32 terms in any order is within (n - 1)·2⁻²⁴·Σ|x| of the exact sum
// (the textbook bound for recursive summation; a tree only lowers it). The kernels add at most n
// terms in sequence per lane plus log2(64) = 6 tree levels, and the mean's scale adds one more
// rounding: (n + 8)·2⁻²⁴·Σ|x| per output covers all of it.
fn tol(n: usize, mag: &[f64]) -> Vec<f64> {
    mag.iter()
        .map(|m| (n as f64 + 8.0) * 2f64.powi(-24) * m + 1e-30)
        .collect()
}

const SHAPES: &[&[usize]] = &[
    &[1],
    &[129],
    &[7, 33],
    &[65, 3],
    &[1, 129],
    &[3, 7, 33],
    &[33, 1, 65],
    &[7, 129, 3],
    &[2, 3, 5, 7],
];

#[test]
fn sum_and_mean_match_reference_on_every_axis() {
    let mut rng = Rng::new(11);
    for shape in SHAPES {
        let n: usize = shape.iter().product();
        let x = rng.vec(n);
        let xt = upload(shape, &x);
        for axis in 0..shape.len() {
            let len = shape[axis];
            let (want, mag) = reference(&f64s(&x), shape, axis, 1.0);
            let got = reduce::sum(ctx(), &xt, axis).unwrap();
            let mut out_shape = shape.to_vec();
            out_shape.remove(axis);
            assert_eq!(got.shape(), out_shape.as_slice());
            assert_close_each(
                &download(&got),
                &want,
                &tol(len, &mag),
                &format!("sum {shape:?} axis {axis}"),
            );
            let (want, mag) = reference(&f64s(&x), shape, axis, 1.0 / len as f64);
            let got = reduce::mean(ctx(), &xt, axis).unwrap();
            assert_close_each(
                &download(&got),
                &want,
                &tol(len, &mag),
                &format!("mean {shape:?} axis {axis}"),
            );
        }
    }
}

#[test]
fn long_axes_with_few_outputs_take_two_passes() {
    // The bias-gradient case, [R, C] over axis 0 with R large and C awkward, and a middle axis:
    // both longer than 2·COL_CHUNK with few outputs, so the axis is cut into slices (the last
    // one short) and summed again. The n-term bound still holds for any summation order.
    let mut rng = Rng::new(12);
    assert!(reduce::col_slices(65, 4099) > 1 && reduce::col_slices(15, 1000) > 1);
    for (shape, axis) in [(&[4099usize, 65][..], 0), (&[3, 1000, 5], 1)] {
        let n: usize = shape.iter().product();
        let len = shape[axis];
        let x = rng.vec(n);
        let xt = upload(shape, &x);
        let (want, mag) = reference(&f64s(&x), shape, axis, 1.0);
        let got = reduce::sum(ctx(), &xt, axis).unwrap();
        assert_close_each(
            &download(&got),
            &want,
            &tol(len, &mag),
            &format!("sum {shape:?}"),
        );
        let (want, mag) = reference(&f64s(&x), shape, axis, 1.0 / len as f64);
        let got = reduce::mean(ctx(), &xt, axis).unwrap();
        assert_close_each(
            &download(&got),
            &want,
            &tol(len, &mag),
            &format!("mean {shape:?}"),
        );
    }
}

#[test]
fn sum_all_and_mean_all_across_chunk_boundaries() {
    let mut rng = Rng::new(13);
    let chunk = reduce::SUM_ALL_CHUNK;
    for &n in &[1, 7, chunk, chunk + 1, 3 * chunk + 129, 100_003] {
        let x = rng.vec(n);
        let (want, mag) = reference(&f64s(&x), &[n], 0, 1.0);
        let got = reduce::sum_all(ctx(), &upload(&[n], &x)).unwrap();
        assert_eq!(got.shape(), &[] as &[usize]);
        // Two stages: at most chunk/64 + 6 sequential additions, then partials/64 + 6; the
        // general n-term bound covers both.
        assert_close_each(
            &download(&got),
            &want,
            &tol(n, &mag),
            &format!("sum_all {n}"),
        );
        let (want, mag) = reference(&f64s(&x), &[n], 0, 1.0 / n as f64);
        let got = reduce::mean_all(ctx(), &upload(&[3, n], &[x.clone(), x.clone(), x].concat()));
        let got = got.unwrap();
        let mag3: Vec<f64> = mag.iter().map(|m| m * 3.0).collect();
        assert_close_each(
            &download(&got),
            &want,
            &tol(3 * n, &mag3),
            &format!("mean_all [3, {n}]"),
        );
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(14);
    for shape in &[&[3usize, 7, 5][..], &[1, 33], &[65]] {
        let n: usize = shape.iter().product();
        let x = rng.vec(n);
        for axis in 0..shape.len() {
            let len = shape[axis];
            let mut out_shape = shape.to_vec();
            out_shape.remove(axis);
            let m: usize = out_shape.iter().product();
            let w = f64s(&rng.vec(m));
            let dy = upload(&out_shape, &w.iter().map(|&v| v as f32).collect::<Vec<_>>());
            for (mean, scale) in [(false, 1.0), (true, 1.0 / len as f64)] {
                let want = numeric_grad(&f64s(&x), |xs| {
                    dot(&reference(xs, shape, axis, scale).0, &w)
                });
                let dx = if mean {
                    reduce::mean_backward(ctx(), &dy, shape, axis).unwrap()
                } else {
                    reduce::sum_backward(ctx(), &dy, shape, axis).unwrap()
                };
                // dx = scale·w: one or two f32 roundings (2⁻²³ relative); finite differences
                // of a linear function are exact to ~1e-10.
                assert_close(
                    &download(&dx),
                    &want,
                    1e-9,
                    2f64.powi(-22),
                    &format!("reduce dx {shape:?} axis {axis} mean {mean}"),
                );
            }
        }
    }
}

#[test]
fn sum_all_backward_matches_finite_differences() {
    let mut rng = Rng::new(15);
    let x = rng.vec(3 * 33);
    let w = 0.37;
    let dy = upload(&[], &[w as f32]);
    let sum_ref = |xs: &[f64]| w as f32 as f64 * xs.iter().sum::<f64>();
    let want = numeric_grad(&f64s(&x), sum_ref);
    let dx = reduce::sum_all_backward(ctx(), &dy, &[3, 33]).unwrap();
    assert_close(&download(&dx), &want, 1e-9, 2f64.powi(-22), "sum_all dx");
    let mean_ref = |xs: &[f64]| w as f32 as f64 * xs.iter().sum::<f64>() / xs.len() as f64;
    let want = numeric_grad(&f64s(&x), mean_ref);
    let dx = reduce::mean_all_backward(ctx(), &dy, &[3, 33]).unwrap();
    assert_close(&download(&dx), &want, 1e-9, 2f64.powi(-22), "mean_all dx");
}

#[test]
fn shape_errors_name_the_op() {
    let x = upload(&[2, 3], &[0.0; 6]);
    let msg = reduce::sum(ctx(), &x, 2).unwrap_err().to_string();
    assert!(msg.contains("reduce") && msg.contains("[2, 3]"), "{msg}");
    let y = kiln::Tensor::zeros(ctx(), &[3], kiln::DType::F32).unwrap();
    let msg = reduce::prepare_reduce(ctx(), &x, 1, reduce::Reduction::Sum, &y)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("reduce") && msg.contains("[2, 3]") && msg.contains("[3]"),
        "{msg}"
    );
    let dy = upload(&[2], &[0.0; 2]);
    let msg = reduce::sum_backward(ctx(), &dy, &[3, 2], 1)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("reduce_backward") && msg.contains("[2]") && msg.contains("[3, 2]"),
        "{msg}"
    );
}
