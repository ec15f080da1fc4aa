//! conv2d: forward against an f64 plain-loop reference, every backward (input, weight, bias)
//! against central finite differences of that reference.

use super::*;
use kiln::kernels::run;
use kiln::ops::conv2d::{self, Conv2dOptions, Conv2dVariant};
use kiln::DType;
use kiln::Tensor;

/// One test shape: x [B, CI, H, W], w [CO, CI, KH, KW], stride, padding.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub b: usize,
    pub ci: usize,
    pub h: usize,
    pub w: usize,
    pub co: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    pub pad: [usize; 2],
}

#[allow(clippy::too_many_arguments)]
pub const fn case(
    b: usize,
    ci: usize,
    h: usize,
    w: usize,
    co: usize,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Case {
    Case {
        b,
        ci,
        h,
        w,
        co,
        kh: k[0],
        kw: k[1],
        stride,
        pad,
    }
}

impl Case {
    fn opts(&self) -> Conv2dOptions {
        Conv2dOptions {
            stride: self.stride,
            padding: self.pad,
        }
    }
    fn out(&self) -> (usize, usize) {
        (
            (self.h + 2 * self.pad[0] - self.kh) / self.stride[0] + 1,
            (self.w + 2 * self.pad[1] - self.kw) / self.stride[1] + 1,
        )
    }
    fn x_len(&self) -> usize {
        self.b * self.ci * self.h * self.w
    }
    fn w_len(&self) -> usize {
        self.co * self.ci * self.kh * self.kw
    }
    fn y_len(&self) -> usize {
        let (oh, ow) = self.out();
        self.b * self.co * oh * ow
    }
}

/// f64 reference, plain loops: `(y, Σ|terms|)` per output element, the second for tolerances.
fn reference(c: &Case, x: &[f64], w: &[f64], bias: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let (oh, ow) = c.out();
    let mut y = vec![0.0; c.y_len()];
    let mut abs = vec![0.0; c.y_len()];
    for b in 0..c.b {
        for o in 0..c.co {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (mut s, mut a) = match bias {
                        Some(bs) => (bs[o], bs[o].abs()),
                        None => (0.0, 0.0),
                    };
                    for ci in 0..c.ci {
                        for i in 0..c.kh {
                            for j in 0..c.kw {
                                let iy = (oy * c.stride[0] + i) as isize - c.pad[0] as isize;
                                let ix = (ox * c.stride[1] + j) as isize - c.pad[1] as isize;
                                if iy < 0 || ix < 0 || iy >= c.h as isize || ix >= c.w as isize {
                                    continue;
                                }
                                let xv =
                                    x[((b * c.ci + ci) * c.h + iy as usize) * c.w + ix as usize];
                                let wv = w[((o * c.ci + ci) * c.kh + i) * c.kw + j];
                                s += xv * wv;
                                a += (xv * wv).abs();
                            }
                        }
                    }
                    let at = ((b * c.co + o) * oh + oy) * ow + ox;
                    y[at] = s;
                    abs[at] = a;
                }
            }
        }
    }
    (y, abs)
}

// Tolerance: each output is an f32 sum of n = CI·KH·KW products (+ the bias), whose rounding
// error is at most about (n + 2)·2⁻²⁴·Σ|terms| whatever the summation order; Σ|terms| comes
// from the same f64 pass. atol 1e-7 covers outputs whose terms cancel to ~0.
fn tol(n: usize, abs: &[f64]) -> Vec<f64> {
    abs.iter()
        .map(|a| (n as f64 + 2.0) * 2f64.powi(-24) * a + 1e-7)
        .collect()
}

/// Odd and even sizes, batch 1, 1 and 3 channels, strides 1 and 2, padding 0/1/2, kernels
/// 1/3/4, non-square inputs, kernels and strides, and DCGAN's 4/2/1 and 4/1/0 on 4x4.
pub const FORWARD_CASES: &[Case] = &[
    case(1, 1, 5, 7, 1, [3, 3], [1, 1], [0, 0]),
    case(2, 3, 7, 9, 4, [3, 3], [2, 2], [1, 1]),
    case(3, 3, 9, 5, 5, [4, 4], [2, 2], [1, 1]),
    case(1, 2, 5, 5, 3, [1, 1], [1, 1], [0, 0]),
    case(2, 3, 7, 5, 2, [4, 4], [1, 1], [2, 2]),
    case(2, 1, 8, 8, 6, [4, 4], [2, 2], [1, 1]),
    case(2, 4, 4, 4, 1, [4, 4], [1, 1], [0, 0]),
    case(1, 3, 9, 7, 2, [3, 1], [2, 1], [1, 0]),
    case(3, 5, 33, 17, 7, [3, 3], [1, 1], [1, 1]),
    case(2, 33, 6, 6, 65, [4, 4], [2, 2], [1, 1]),
];

/// Small enough for finite differences (a few hundred elements per input).
pub const GRAD_CASES: &[Case] = &[
    case(1, 1, 5, 7, 1, [3, 3], [1, 1], [0, 0]),
    case(2, 3, 7, 5, 2, [3, 3], [2, 2], [1, 1]),
    case(2, 2, 5, 9, 3, [4, 4], [2, 2], [1, 1]),
    case(1, 3, 5, 5, 2, [1, 1], [1, 1], [0, 0]),
    case(1, 2, 5, 7, 2, [4, 4], [1, 1], [2, 2]),
    case(2, 3, 4, 4, 2, [4, 4], [1, 1], [0, 0]),
    case(1, 2, 9, 7, 3, [3, 1], [2, 1], [1, 0]),
];

const VARIANTS: [Conv2dVariant; 2] = [Conv2dVariant::Im2col, Conv2dVariant::Direct];

/// Runs the prepared forward with `v`, scratch allocated here.
fn forward(
    v: Conv2dVariant,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    opts: Conv2dOptions,
) -> Tensor {
    let shape = conv2d::shape(x.shape(), w.shape(), bias.map(|b| b.shape()), opts).unwrap();
    let y = Tensor::zeros(ctx(), &shape, DType::F32).unwrap();
    let [cs, ns] = conv2d::scratch_shapes(x.shape(), w.shape(), opts).unwrap();
    let col = Tensor::zeros(ctx(), &cs, DType::F32).unwrap();
    let cnhw = Tensor::zeros(ctx(), &ns, DType::F32).unwrap();
    let ds = conv2d::forward_with(ctx(), v, x, w, bias, &y, &col, &cnhw, opts).unwrap();
    run(ctx(), &ds).unwrap();
    y
}

#[test]
fn forward_matches_reference() {
    let mut rng = Rng::new(11);
    for (n, c) in FORWARD_CASES.iter().enumerate() {
        let x = rng.vec(c.x_len());
        let w = rng.vec(c.w_len());
        let bias = rng.vec(c.co);
        let with_bias = n % 2 == 1;
        let xt = upload(&[c.b, c.ci, c.h, c.w], &x);
        let wt = upload(&[c.co, c.ci, c.kh, c.kw], &w);
        let bt = upload(&[c.co], &bias);
        let (oh, ow) = c.out();
        let bias64 = f64s(&bias);
        let (want, abs) = reference(c, &f64s(&x), &f64s(&w), with_bias.then_some(&bias64[..]));
        for v in VARIANTS {
            let y = forward(v, &xt, &wt, with_bias.then_some(&bt), c.opts());
            assert_eq!(y.shape(), &[c.b, c.co, oh, ow]);
            assert_close_each(
                &download(&y),
                &want,
                &tol(c.ci * c.kh * c.kw, &abs),
                &format!("conv2d {v:?} {c:?} bias {with_bias}"),
            );
        }
    }
}

#[test]
fn eager_forward_matches_prepared() {
    let c = case(2, 3, 7, 9, 4, [3, 3], [2, 2], [1, 1]);
    let mut rng = Rng::new(14);
    let xt = upload(&[c.b, c.ci, c.h, c.w], &rng.vec(c.x_len()));
    let wt = upload(&[c.co, c.ci, c.kh, c.kw], &rng.vec(c.w_len()));
    let bt = upload(&[c.co], &rng.vec(c.co));
    let eager = conv2d::conv2d(ctx(), &xt, &wt, Some(&bt), c.opts()).unwrap();
    let prepared = forward(conv2d::variant(c.co), &xt, &wt, Some(&bt), c.opts());
    assert_eq!(download(&eager), download(&prepared));
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(12);
    for c in GRAD_CASES {
        let (oh, ow) = c.out();
        let x = f64s(&rng.vec(c.x_len()));
        let w = f64s(&rng.vec(c.w_len()));
        let bias = f64s(&rng.vec(c.co));
        // Loss ⟨y, g⟩ with a random g, so that every output's gradient path is weighted
        // differently and a misplaced term cannot cancel.
        let g32 = rng.vec(c.y_len());
        let g = f64s(&g32);
        let abs_w: Vec<f64> = w.iter().map(|v| v.abs()).collect();
        let abs_x: Vec<f64> = x.iter().map(|v| v.abs()).collect();
        let abs_g: Vec<f64> = g.iter().map(|v| v.abs()).collect();
        let loss = |x: &[f64], w: &[f64], b: &[f64]| dot(&reference(c, x, w, Some(b)).0, &g);
        let want_dx = numeric_grad(&x, |v| loss(v, &w, &bias));
        let want_dw = numeric_grad(&w, |v| loss(&x, v, &bias));
        let want_db = numeric_grad(&bias, |v| loss(&x, &w, v));
        // The loss is linear in each argument, so the gradient of ⟨conv(|x|, |w|), |g|⟩ is
        // exactly Σ|terms| of each gradient element: its f32 error budget, as in `tol`.
        let abs_dx = numeric_grad(&x, |v| dot(&reference(c, v, &abs_w, None).0, &abs_g));
        let abs_dw = numeric_grad(&w, |v| dot(&reference(c, &abs_x, v, None).0, &abs_g));
        let abs_db: Vec<f64> = (0..c.co)
            .map(|o| {
                (0..c.b)
                    .flat_map(|b| (0..oh * ow).map(move |p| ((b * c.co + o) * oh * ow) + p))
                    .map(|i| abs_g[i])
                    .sum()
            })
            .collect();
        let to32 = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<_>>();
        let xt = upload(&[c.b, c.ci, c.h, c.w], &to32(&x));
        let wt = upload(&[c.co, c.ci, c.kh, c.kw], &to32(&w));
        let dy = upload(&[c.b, c.co, oh, ow], &g32);
        let (dx, dw, db) = conv2d::conv2d_backward(ctx(), &xt, &wt, &dy, c.opts(), true).unwrap();
        // Each dx sums at most CO·KH·KW products, each dw and dbias B·OH·OW; the central
        // differences add about 1e-9 (h = 1e-6 on an O(1) loss), covered by atol 1e-7.
        let n_dx = c.co * c.kh * c.kw;
        let n_dw = c.b * oh * ow;
        assert_close_each(
            &download(&dx),
            &want_dx,
            &tol(n_dx, &abs_dx),
            &format!("conv2d dx {c:?}"),
        );
        assert_close_each(
            &download(&dw),
            &want_dw,
            &tol(n_dw, &abs_dw),
            &format!("conv2d dw {c:?}"),
        );
        assert_close_each(
            &download(&db.unwrap()),
            &want_db,
            &tol(n_dw, &abs_db),
            &format!("conv2d dbias {c:?}"),
        );
    }
}

#[test]
fn prepared_backward_pieces_match_the_eager_backward() {
    // The prepare functions on their own (separate submissions, scratch shaped as returned by
    // scratch_shapes) give the same bits as the eager backward that shares one scratch.
    let c = case(2, 3, 7, 9, 4, [4, 4], [2, 2], [1, 1]);
    let mut rng = Rng::new(13);
    let (oh, ow) = c.out();
    let xt = upload(&[c.b, c.ci, c.h, c.w], &rng.vec(c.x_len()));
    let wt = upload(&[c.co, c.ci, c.kh, c.kw], &rng.vec(c.w_len()));
    let dy = upload(&[c.b, c.co, oh, ow], &rng.vec(c.y_len()));
    let [cs, ns] = conv2d::scratch_shapes(xt.shape(), wt.shape(), c.opts()).unwrap();
    let col = Tensor::zeros(ctx(), &cs, DType::F32).unwrap();
    let cnhw = Tensor::zeros(ctx(), &ns, DType::F32).unwrap();
    let dx = Tensor::zeros(ctx(), xt.shape(), DType::F32).unwrap();
    let dw = Tensor::zeros(ctx(), wt.shape(), DType::F32).unwrap();
    let db = Tensor::zeros(ctx(), &[c.co], DType::F32).unwrap();
    let ds = conv2d::backward_input(ctx(), &wt, &dy, &dx, &col, &cnhw, c.opts()).unwrap();
    run(ctx(), &ds).unwrap();
    let ds = conv2d::backward_weight(ctx(), &xt, &dy, &dw, &col, &cnhw, c.opts()).unwrap();
    run(ctx(), &ds).unwrap();
    run(ctx(), &[conv2d::backward_bias(ctx(), &dy, &db).unwrap()]).unwrap();
    let (ex, ew, eb) = conv2d::conv2d_backward(ctx(), &xt, &wt, &dy, c.opts(), true).unwrap();
    assert_eq!(download(&dx), download(&ex));
    assert_eq!(download(&dw), download(&ew));
    assert_eq!(download(&db), download(&eb.unwrap()));
}

#[test]
fn texture_matmul_packs_col_and_cnhw_straight_and_matches_the_unfused_path() {
    // With the texture matmul, im2col and the cnhw permute write the matmul's packed operands
    // themselves (conv2d_pack); with the register matmul they go through the col and cnhw
    // scratch (conv2d_im2col, conv2d_to_cnhw). Forward, input and weight gradients of both
    // agree: each is an f32 sum of n products of values in [-1, 1], so each is within
    // n·ε·n of the exact sum, and the two within twice that (ε = 2^-24, n = the longest sum).
    use kiln::kernels::Dispatch;
    use kiln::kernels::MatmulVariant;
    use kiln::{Context, ContextOptions};
    let open = |v| Context::with_options(ContextOptions::default().matmul(v)).unwrap();
    let (fused, unfused) = (open(MatmulVariant::Texture), open(MatmulVariant::Register));
    let labels = |ds: &[Dispatch]| ds.iter().map(|d| d.label().to_string()).collect::<Vec<_>>();
    let mut rng = Rng::new(15);
    for c in [
        case(2, 3, 7, 9, 5, [3, 3], [2, 2], [1, 1]),
        case(1, 6, 8, 8, 8, [4, 4], [2, 2], [1, 1]),
        case(3, 2, 5, 6, 3, [2, 3], [1, 2], [0, 1]),
    ] {
        let (oh, ow) = c.out();
        let (x, w) = (rng.vec(c.x_len()), rng.vec(c.w_len()));
        let dy = rng.vec(c.y_len());
        let run_on = |ctx: &Context| {
            let t = |shape: &[usize], v: &[f32]| Tensor::from_f32(ctx, shape, v).unwrap();
            let zeros = |shape: &[usize]| Tensor::zeros(ctx, shape, DType::F32).unwrap();
            let (xt, wt) = (
                t(&[c.b, c.ci, c.h, c.w], &x),
                t(&[c.co, c.ci, c.kh, c.kw], &w),
            );
            let dyt = t(&[c.b, c.co, oh, ow], &dy);
            let [cs, ns] = conv2d::scratch_shapes(xt.shape(), wt.shape(), c.opts()).unwrap();
            let (col, cnhw) = (zeros(&cs), zeros(&ns));
            let (y, dx, dw) = (zeros(dyt.shape()), zeros(xt.shape()), zeros(wt.shape()));
            let v = Conv2dVariant::Im2col;
            let mut all = Vec::new();
            for ds in [
                conv2d::forward_with(ctx, v, &xt, &wt, None, &y, &col, &cnhw, c.opts()).unwrap(),
                conv2d::backward_input(ctx, &wt, &dyt, &dx, &col, &cnhw, c.opts()).unwrap(),
                conv2d::backward_weight(ctx, &xt, &dyt, &dw, &col, &cnhw, c.opts()).unwrap(),
            ] {
                run(ctx, &ds).unwrap();
                all.extend(labels(&ds));
            }
            let get = |t: &Tensor| t.to_vec_f32(ctx).unwrap();
            (all, [get(&y), get(&dx), get(&dw)])
        };
        let (fused_labels, got) = run_on(&fused);
        let (unfused_labels, want) = run_on(&unfused);
        let has = |l: &[String], k: &str| l.iter().any(|x| x.ends_with(k));
        assert!(has(&fused_labels, "conv2d_pack"), "{fused_labels:?}");
        assert!(!has(&fused_labels, "conv2d_im2col"), "{fused_labels:?}");
        assert!(!has(&fused_labels, "conv2d_to_cnhw"), "{fused_labels:?}");
        assert!(has(&unfused_labels, "conv2d_im2col"), "{unfused_labels:?}");
        let n = (c.ci * c.kh * c.kw)
            .max(c.b * oh * ow)
            .max(c.co * c.kh * c.kw) as f64;
        let tol = 2.0 * n * n * f64::from(f32::EPSILON) / 2.0;
        for (what, (g, u)) in ["y", "dx", "dw"].iter().zip(got.iter().zip(&want)) {
            let u64s: Vec<f64> = u.iter().map(|&v| f64::from(v)).collect();
            assert_close_each(g, &u64s, &vec![tol; u.len()], &format!("{what} {c:?}"));
        }
    }
}

#[test]
fn shape_errors_name_the_op() {
    let x = upload(&[2, 3, 5, 5], &[0.0; 150]);
    let w = upload(&[4, 2, 3, 3], &[0.0; 72]);
    let msg = conv2d::conv2d(ctx(), &x, &w, None, Conv2dOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("conv2d") && msg.contains("[2, 3, 5, 5]") && msg.contains("[4, 2, 3, 3]"),
        "{msg}"
    );
    // A kernel larger than the padded input.
    let w = upload(&[4, 3, 7, 7], &[0.0; 588]);
    let msg = conv2d::conv2d(ctx(), &x, &w, None, Conv2dOptions::new(1, 0))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("conv2d") && msg.contains("[4, 3, 7, 7]"),
        "{msg}"
    );
}

/// Median wall time of `reps` runs of `ds`, each submitted and waited for.
pub fn time(ds: &[kiln::kernels::Dispatch], reps: usize) -> f64 {
    let idx = run(ctx(), ds).unwrap();
    ctx().wait(Some(idx)).unwrap();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let start = std::time::Instant::now();
            let idx = run(ctx(), ds).unwrap();
            ctx().wait(Some(idx)).unwrap();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[reps / 2]
}

/// Times at DCGAN sizes (batch 64): `cargo test --test ops conv2d::timing --
/// --ignored --nocapture`. Prints milliseconds; asserts only that the runs succeed.
#[test]
#[ignore]
fn timing() {
    println!("adapter: {}", ctx().adapter_summary());
    let sizes = [
        (
            "1x32x32 -> 64x16x16",
            case(64, 1, 32, 32, 64, [4, 4], [2, 2], [1, 1]),
        ),
        (
            "64x16x16 -> 128x8x8",
            case(64, 64, 16, 16, 128, [4, 4], [2, 2], [1, 1]),
        ),
        (
            "128x8x8 -> 256x4x4",
            case(64, 128, 8, 8, 256, [4, 4], [2, 2], [1, 1]),
        ),
        (
            "256x4x4 -> 1x1x1",
            case(64, 256, 4, 4, 1, [4, 4], [1, 1], [0, 0]),
        ),
    ];
    let mut rng = Rng::new(99);
    for (name, c) in sizes {
        let (oh, ow) = c.out();
        let x = upload(&[c.b, c.ci, c.h, c.w], &rng.vec(c.x_len()));
        let w = upload(&[c.co, c.ci, c.kh, c.kw], &rng.vec(c.w_len()));
        let bias = upload(&[c.co], &rng.vec(c.co));
        let dy = upload(&[c.b, c.co, oh, ow], &rng.vec(c.y_len()));
        let y = Tensor::zeros(ctx(), dy.shape(), DType::F32).unwrap();
        let [cs, ns] = conv2d::scratch_shapes(x.shape(), w.shape(), c.opts()).unwrap();
        let col = Tensor::zeros(ctx(), &cs, DType::F32).unwrap();
        let cnhw = Tensor::zeros(ctx(), &ns, DType::F32).unwrap();
        let dx = Tensor::zeros(ctx(), x.shape(), DType::F32).unwrap();
        let dw = Tensor::zeros(ctx(), w.shape(), DType::F32).unwrap();
        let db = Tensor::zeros(ctx(), &[c.co], DType::F32).unwrap();
        let mut line = format!("conv2d {name}:");
        for v in VARIANTS {
            let ds = conv2d::forward_with(ctx(), v, &x, &w, Some(&bias), &y, &col, &cnhw, c.opts())
                .unwrap();
            line += &format!(" forward {v:?} {:.1} ms,", time(&ds, 5));
        }
        let ds = conv2d::backward_input(ctx(), &w, &dy, &dx, &col, &cnhw, c.opts()).unwrap();
        line += &format!(" dx {:.1} ms,", time(&ds, 5));
        let ds = conv2d::backward_weight(ctx(), &x, &dy, &dw, &col, &cnhw, c.opts()).unwrap();
        line += &format!(" dw {:.1} ms,", time(&ds, 5));
        let ds = [conv2d::backward_bias(ctx(), &dy, &db).unwrap()];
        line += &format!(" dbias {:.1} ms", time(&ds, 5));
        println!("{line}");
        assert!(download(&y).iter().all(|v| v.is_finite()));
    }
}

/// Where the im2col forward's time goes, per dispatch (im2col, matmul, permute + bias):
/// `cargo test --test ops conv2d::timing_breakdown -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_breakdown() {
    println!("adapter: {}", ctx().adapter_summary());
    let mut rng = Rng::new(98);
    for c in [
        case(64, 1, 32, 32, 64, [4, 4], [2, 2], [1, 1]),
        case(64, 64, 16, 16, 128, [4, 4], [2, 2], [1, 1]),
        case(64, 128, 8, 8, 256, [4, 4], [2, 2], [1, 1]),
    ] {
        let x = upload(&[c.b, c.ci, c.h, c.w], &rng.vec(c.x_len()));
        let w = upload(&[c.co, c.ci, c.kh, c.kw], &rng.vec(c.w_len()));
        let bias = upload(&[c.co], &rng.vec(c.co));
        let (oh, ow) = c.out();
        let y = Tensor::zeros(ctx(), &[c.b, c.co, oh, ow], DType::F32).unwrap();
        let [cs, ns] = conv2d::scratch_shapes(x.shape(), w.shape(), c.opts()).unwrap();
        let col = Tensor::zeros(ctx(), &cs, DType::F32).unwrap();
        let cnhw = Tensor::zeros(ctx(), &ns, DType::F32).unwrap();
        let ds = conv2d::forward_with(
            ctx(),
            Conv2dVariant::Im2col,
            &x,
            &w,
            Some(&bias),
            &y,
            &col,
            &cnhw,
            c.opts(),
        )
        .unwrap();
        let parts: Vec<String> = ds
            .iter()
            .map(|d| format!("{} {:.1} ms", d.label(), time(std::slice::from_ref(d), 5)))
            .collect();
        println!("conv2d {c:?}: {}", parts.join(", "));
        assert_eq!(parts.len(), 3);
    }
}
