//! conv_transpose2d: forward against an f64 plain-loop (scatter) reference, every backward
//! (input, weight, bias) against central finite differences of that reference.

use super::conv2d::{case, Case};
use super::*;
use kiln::ops::conv2d::Conv2dOptions;
use kiln::ops::conv_transpose2d;

// A Case here reads x [B, CI, H, W], w [CI, CO, KH, KW].
fn opts(c: &Case) -> Conv2dOptions {
    Conv2dOptions {
        stride: c.stride,
        padding: c.pad,
    }
}

fn out(c: &Case) -> (usize, usize) {
    (
        (c.h - 1) * c.stride[0] + c.kh - 2 * c.pad[0],
        (c.w - 1) * c.stride[1] + c.kw - 2 * c.pad[1],
    )
}

/// f64 reference as the definition reads, scattering each input into the output: `(y,
/// Σ|terms|)`.
fn reference(c: &Case, x: &[f64], w: &[f64], bias: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let (oh, ow) = out(c);
    let mut y = vec![0.0; c.b * c.co * oh * ow];
    let mut abs = vec![0.0; y.len()];
    for b in 0..c.b {
        for o in 0..c.co {
            for p in 0..oh * ow {
                let at = (b * c.co + o) * oh * ow + p;
                if let Some(bs) = bias {
                    y[at] = bs[o];
                    abs[at] = bs[o].abs();
                }
            }
        }
        for ci in 0..c.ci {
            for iy in 0..c.h {
                for ix in 0..c.w {
                    let xv = x[((b * c.ci + ci) * c.h + iy) * c.w + ix];
                    for o in 0..c.co {
                        for i in 0..c.kh {
                            for j in 0..c.kw {
                                let oy = (iy * c.stride[0] + i) as isize - c.pad[0] as isize;
                                let ox = (ix * c.stride[1] + j) as isize - c.pad[1] as isize;
                                if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                                    continue;
                                }
                                let wv = w[((ci * c.co + o) * c.kh + i) * c.kw + j];
                                let at = ((b * c.co + o) * oh + oy as usize) * ow + ox as usize;
                                y[at] += xv * wv;
                                abs[at] += (xv * wv).abs();
                            }
                        }
                    }
                }
            }
        }
    }
    (y, abs)
}

// Tolerance: each output is an f32 sum of at most n = CI·KH·KW products (+ the bias): error at
// most about (n + 2)·2⁻²⁴·Σ|terms|, with Σ|terms| from the same f64 pass; atol 1e-7 for sums
// that cancel to ~0.
fn tol(n: usize, abs: &[f64]) -> Vec<f64> {
    abs.iter()
        .map(|a| (n as f64 + 2.0) * 2f64.powi(-24) * a + 1e-7)
        .collect()
}

/// DCGAN's generator steps (1x1 -> 4x4 with 4/1/0, 4x4 -> 8x8 with 4/2/1) and awkward sizes.
const FORWARD_CASES: &[Case] = &[
    case(2, 5, 1, 1, 7, [4, 4], [1, 1], [0, 0]),
    case(2, 6, 4, 4, 3, [4, 4], [2, 2], [1, 1]),
    case(1, 1, 5, 7, 1, [3, 3], [1, 1], [0, 0]),
    case(3, 3, 7, 9, 4, [3, 3], [2, 2], [1, 1]),
    case(1, 2, 5, 5, 3, [1, 1], [1, 1], [0, 0]),
    case(2, 3, 7, 5, 2, [4, 4], [1, 1], [2, 2]),
    case(1, 3, 9, 7, 2, [3, 1], [2, 1], [1, 0]),
    case(3, 33, 9, 5, 65, [4, 4], [2, 2], [1, 1]),
    case(2, 7, 17, 33, 5, [3, 3], [1, 1], [1, 1]),
];

const GRAD_CASES: &[Case] = &[
    case(2, 3, 1, 1, 2, [4, 4], [1, 1], [0, 0]),
    case(1, 3, 4, 4, 2, [4, 4], [2, 2], [1, 1]),
    case(1, 1, 5, 7, 1, [3, 3], [1, 1], [0, 0]),
    case(2, 3, 3, 5, 2, [3, 3], [2, 2], [1, 1]),
    case(1, 3, 5, 5, 2, [1, 1], [1, 1], [0, 0]),
    case(1, 2, 5, 3, 2, [4, 4], [1, 1], [2, 2]),
    case(1, 2, 5, 7, 3, [3, 1], [2, 1], [1, 0]),
];

#[test]
fn forward_matches_reference() {
    let mut rng = Rng::new(21);
    for (n, c) in FORWARD_CASES.iter().enumerate() {
        let x = rng.vec(c.b * c.ci * c.h * c.w);
        let w = rng.vec(c.ci * c.co * c.kh * c.kw);
        let bias = rng.vec(c.co);
        let with_bias = n % 2 == 0;
        let xt = upload(&[c.b, c.ci, c.h, c.w], &x);
        let wt = upload(&[c.ci, c.co, c.kh, c.kw], &w);
        let bt = upload(&[c.co], &bias);
        let y =
            conv_transpose2d::conv_transpose2d(ctx(), &xt, &wt, with_bias.then_some(&bt), opts(c))
                .unwrap();
        let (oh, ow) = out(c);
        assert_eq!(y.shape(), &[c.b, c.co, oh, ow]);
        let bias64 = f64s(&bias);
        let (want, abs) = reference(c, &f64s(&x), &f64s(&w), with_bias.then_some(&bias64[..]));
        assert_close_each(
            &download(&y),
            &want,
            &tol(c.ci * c.kh * c.kw, &abs),
            &format!("conv_transpose2d {c:?} bias {with_bias}"),
        );
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(22);
    for c in GRAD_CASES {
        let (oh, ow) = out(c);
        let x = f64s(&rng.vec(c.b * c.ci * c.h * c.w));
        let w = f64s(&rng.vec(c.ci * c.co * c.kh * c.kw));
        let bias = f64s(&rng.vec(c.co));
        // Loss ⟨y, g⟩ with a random g.
        let g32 = rng.vec(c.b * c.co * oh * ow);
        let g = f64s(&g32);
        let abs_w: Vec<f64> = w.iter().map(|v| v.abs()).collect();
        let abs_x: Vec<f64> = x.iter().map(|v| v.abs()).collect();
        let abs_g: Vec<f64> = g.iter().map(|v| v.abs()).collect();
        let loss = |x: &[f64], w: &[f64], b: &[f64]| dot(&reference(c, x, w, Some(b)).0, &g);
        let want_dx = numeric_grad(&x, |v| loss(v, &w, &bias));
        let want_dw = numeric_grad(&w, |v| loss(&x, v, &bias));
        let want_db = numeric_grad(&bias, |v| loss(&x, &w, v));
        // Linear in each argument: these are exactly Σ|terms| of each gradient element.
        let abs_dx = numeric_grad(&x, |v| dot(&reference(c, v, &abs_w, None).0, &abs_g));
        let abs_dw = numeric_grad(&w, |v| dot(&reference(c, &abs_x, v, None).0, &abs_g));
        let abs_db = numeric_grad(&bias, |v| {
            let (y, _) = reference(c, &abs_x, &abs_w, Some(v));
            dot(&y, &abs_g)
        });
        let to32 = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<_>>();
        let xt = upload(&[c.b, c.ci, c.h, c.w], &to32(&x));
        let wt = upload(&[c.ci, c.co, c.kh, c.kw], &to32(&w));
        let dy = upload(&[c.b, c.co, oh, ow], &g32);
        let (dx, dw, db) =
            conv_transpose2d::conv_transpose2d_backward(ctx(), &xt, &wt, &dy, opts(c), true)
                .unwrap();
        // dx sums CO·KH·KW products, dw B·H·W, dbias B·OH·OW; FD error ~1e-9 < atol 1e-7.
        let n_dx = c.co * c.kh * c.kw;
        let n_dw = c.b * c.h * c.w;
        let n_db = c.b * oh * ow;
        assert_close_each(
            &download(&dx),
            &want_dx,
            &tol(n_dx, &abs_dx),
            &format!("conv_transpose2d dx {c:?}"),
        );
        assert_close_each(
            &download(&dw),
            &want_dw,
            &tol(n_dw, &abs_dw),
            &format!("conv_transpose2d dw {c:?}"),
        );
        assert_close_each(
            &download(&db.unwrap()),
            &want_db,
            &tol(n_db, &abs_db),
            &format!("conv_transpose2d dbias {c:?}"),
        );
    }
}

#[test]
fn shape_errors_name_the_op() {
    let x = upload(&[2, 3, 4, 4], &[0.0; 96]);
    let w = upload(&[2, 5, 4, 4], &[0.0; 160]);
    let msg = conv_transpose2d::conv_transpose2d(ctx(), &x, &w, None, Conv2dOptions::new(2, 1))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("conv_transpose2d")
            && msg.contains("[2, 3, 4, 4]")
            && msg.contains("[2, 5, 4, 4]"),
        "{msg}"
    );
    // Padding that leaves no output: (1 - 1)·1 + 2 - 2·1 = 0.
    let x = upload(&[1, 3, 1, 1], &[0.0; 3]);
    let w = upload(&[3, 2, 2, 2], &[0.0; 24]);
    let msg = conv_transpose2d::conv_transpose2d(ctx(), &x, &w, None, Conv2dOptions::new(1, 1))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("conv_transpose2d") && msg.contains("[3, 2, 2, 2]"),
        "{msg}"
    );
}

/// Times at DCGAN generator sizes (batch 64, bias): `cargo test --test ops
/// conv_transpose2d::timing -- --ignored --nocapture`. Prints milliseconds.
#[test]
#[ignore]
fn timing() {
    use kiln::{DType, Tensor};
    println!("adapter: {}", ctx().adapter_summary());
    let mut rng = Rng::new(97);
    for c in [
        case(64, 100, 1, 1, 256, [4, 4], [1, 1], [0, 0]),
        case(64, 256, 4, 4, 128, [4, 4], [2, 2], [1, 1]),
        case(64, 128, 8, 8, 64, [4, 4], [2, 2], [1, 1]),
        case(64, 64, 16, 16, 1, [4, 4], [2, 2], [1, 1]),
    ] {
        let (oh, ow) = out(&c);
        let x = upload(&[c.b, c.ci, c.h, c.w], &rng.vec(c.b * c.ci * c.h * c.w));
        let w = upload(
            &[c.ci, c.co, c.kh, c.kw],
            &rng.vec(c.ci * c.co * c.kh * c.kw),
        );
        let bias = upload(&[c.co], &rng.vec(c.co));
        let dy = upload(&[c.b, c.co, oh, ow], &rng.vec(c.b * c.co * oh * ow));
        let y = Tensor::zeros(ctx(), dy.shape(), DType::F32).unwrap();
        let [cs, ns] = conv_transpose2d::scratch_shapes(x.shape(), w.shape(), opts(&c)).unwrap();
        let col = Tensor::zeros(ctx(), &cs, DType::F32).unwrap();
        let cnhw = Tensor::zeros(ctx(), &ns, DType::F32).unwrap();
        let dx = Tensor::zeros(ctx(), x.shape(), DType::F32).unwrap();
        let dw = Tensor::zeros(ctx(), w.shape(), DType::F32).unwrap();
        let o = opts(&c);
        let f = conv_transpose2d::forward(ctx(), &x, &w, Some(&bias), &y, &col, &cnhw, o).unwrap();
        let bx = conv_transpose2d::backward_input(ctx(), &w, &dy, &dx, &col, &cnhw, o).unwrap();
        let bw = conv_transpose2d::backward_weight(ctx(), &x, &dy, &dw, &col, &cnhw, o).unwrap();
        println!(
            "conv_transpose2d {}x{}x{} -> {}x{}x{}: forward {:.1} ms, dx {:.1} ms, dw {:.1} ms",
            c.ci,
            c.h,
            c.w,
            c.co,
            oh,
            ow,
            super::conv2d::time(&f, 5),
            super::conv2d::time(&bx, 5),
            super::conv2d::time(&bw, 5)
        );
        assert!(download(&y).iter().all(|v| v.is_finite()));
    }
}
