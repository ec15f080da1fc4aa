//! transpose: forward against a plain-loop reference, backward against finite differences and
//! the round trip.

use super::*;
use kiln::kernels::run;
use kiln::ops::transpose::{self, TransposeVariant};
use kiln::{DType, Tensor};

/// f64 reference: y[a,c,b,d] = x[a,b,c,d].
fn reference(x: &[f64], s: [usize; 4]) -> Vec<f64> {
    let [na, nb, nc, nd] = s;
    let mut y = vec![0.0; x.len()];
    for a in 0..na {
        for b in 0..nb {
            for c in 0..nc {
                for d in 0..nd {
                    y[((a * nc + c) * nb + b) * nd + d] = x[((a * nb + b) * nc + c) * nd + d];
                }
            }
        }
    }
    y
}

const VARIANTS: [TransposeVariant; 2] = [TransposeVariant::Elements, TransposeVariant::Rows];

fn forward(v: TransposeVariant, x: &Tensor) -> Tensor {
    let s = x.shape();
    let y = Tensor::zeros(ctx(), &[s[0], s[2], s[1], s[3]], DType::F32).unwrap();
    run(ctx(), &[transpose::forward_with(ctx(), v, x, &y).unwrap()]).unwrap();
    y
}

const SHAPES: &[[usize; 4]] = &[
    [1, 1, 1, 1],
    [1, 3, 7, 1],
    [2, 3, 7, 33],
    [3, 7, 1, 4],
    [1, 33, 3, 8],
    [2, 65, 3, 5],
    [1, 7, 129, 2],
    [3, 1, 5, 12],
    [2, 5, 4, 64],
    [1, 300, 2, 1],
];

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(31);
    for &s in SHAPES {
        let n: usize = s.iter().product();
        let x = rng.vec(n);
        let xt = upload(&s, &x);
        let eager = transpose::transpose(ctx(), &xt).unwrap();
        assert_eq!(eager.shape(), &[s[0], s[2], s[1], s[3]]);
        let want = reference(&f64s(&x), s);
        // A copy: exact, so zero tolerance.
        assert_close(&download(&eager), &want, 0.0, 0.0, &format!("eager {s:?}"));
        for v in VARIANTS {
            let y = forward(v, &xt);
            assert_close(&download(&y), &want, 0.0, 0.0, &format!("{v:?} {s:?}"));
        }
    }
}

#[test]
fn round_trip_is_identity() {
    let mut rng = Rng::new(32);
    for &s in SHAPES {
        let n: usize = s.iter().product();
        let x = rng.vec(n);
        let xt = upload(&s, &x);
        for v in VARIANTS {
            let back = forward(v, &forward(v, &xt));
            assert_eq!(back.shape(), &s);
            assert_eq!(download(&back), x, "round trip {v:?} {s:?}");
        }
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(33);
    for (v, &s) in VARIANTS.iter().flat_map(|v| {
        [[1, 3, 7, 1], [2, 3, 5, 4], [1, 7, 3, 5]]
            .iter()
            .map(move |s| (*v, s))
    }) {
        let n: usize = s.iter().product();
        let x = rng.vec(n);
        // Loss ⟨y, w⟩ with a random w, so a kernel that misplaces elements cannot pass.
        let w = f64s(&rng.vec(n));
        let dy_data: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let dy = upload(&[s[0], s[2], s[1], s[3]], &dy_data);
        let dx = Tensor::zeros(ctx(), &s, DType::F32).unwrap();
        run(
            ctx(),
            &[transpose::backward_with(ctx(), v, &dy, &dx).unwrap()],
        )
        .unwrap();
        let want = numeric_grad(&f64s(&x), |xs| dot(&reference(xs, s), &w));
        // The backward is a copy of dy (exact); the FD of a linear loss is exact up to
        // rounding of order 1e-10, far below the 1e-6 allowed here.
        assert_close(&download(&dx), &want, 1e-6, 0.0, &format!("dx {v:?} {s:?}"));
        let eager = transpose::transpose_backward(ctx(), &dy).unwrap();
        assert_eq!(download(&eager), download(&dx));
    }
}

#[test]
fn bad_shapes_are_errors() {
    let x = upload(&[2, 3, 4], &[0.0; 24]);
    let err = transpose::transpose(ctx(), &x).unwrap_err().to_string();
    assert!(
        err.contains("transpose") && err.contains("[2, 3, 4]"),
        "{err}"
    );
    let x = upload(&[2, 3, 4, 5], &[0.0; 120]);
    let y = Tensor::zeros(ctx(), &[2, 3, 4, 5], DType::F32).unwrap();
    let err = transpose::forward(ctx(), &x, &y).unwrap_err().to_string();
    assert!(
        err.contains("transpose") && err.contains("[2, 3, 4, 5] and [2, 3, 4, 5]"),
        "{err}"
    );
    let err = transpose::backward(ctx(), &x, &y).unwrap_err().to_string();
    assert!(err.contains("transpose_backward"), "{err}");
}
