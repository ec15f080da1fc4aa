//! layer_norm: forward against an f64 reference, backward (dx, dgamma, dbeta) against finite
//! differences, on awkward shapes, constant rows and C = 1; every case in both variants.

use super::*;
use kiln::kernels::run;
use kiln::ops::layer_norm::{self, LayerNormOutput, LayerNormVariant, DEFAULT_EPS};
use kiln::{DType, Tensor};

const VARIANTS: [LayerNormVariant; 2] = [LayerNormVariant::Workgroup, LayerNormVariant::Rows];

fn ln_forward(v: LayerNormVariant, x: &Tensor, gamma: &Tensor, beta: &Tensor) -> LayerNormOutput {
    let rows = x.shape().iter().product::<usize>() / gamma.shape()[0];
    let out = LayerNormOutput {
        y: Tensor::zeros(ctx(), x.shape(), DType::F32).unwrap(),
        mean: Tensor::zeros(ctx(), &[rows], DType::F32).unwrap(),
        rstd: Tensor::zeros(ctx(), &[rows], DType::F32).unwrap(),
    };
    let d = layer_norm::forward_with(
        ctx(),
        v,
        x,
        gamma,
        beta,
        DEFAULT_EPS,
        &out.y,
        &out.mean,
        &out.rstd,
    )
    .unwrap();
    run(ctx(), &[d]).unwrap();
    out
}

/// Returns `(dx, dgamma, dbeta)`.
fn ln_backward(
    v: LayerNormVariant,
    x: &Tensor,
    gamma: &Tensor,
    saved: &LayerNormOutput,
    dy: &Tensor,
) -> (Tensor, Tensor, Tensor) {
    let dx = Tensor::zeros(ctx(), x.shape(), DType::F32).unwrap();
    let dgamma = Tensor::zeros(ctx(), gamma.shape(), DType::F32).unwrap();
    let dbeta = Tensor::zeros(ctx(), gamma.shape(), DType::F32).unwrap();
    let d = layer_norm::backward_with(
        ctx(),
        v,
        x,
        gamma,
        &saved.mean,
        &saved.rstd,
        dy,
        &dx,
        &dgamma,
        &dbeta,
    )
    .unwrap();
    run(ctx(), &d).unwrap();
    (dx, dgamma, dbeta)
}

/// f64 reference over rows of `cols`: returns (y, mean, rstd).
fn reference(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    cols: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let rows = x.len() / cols;
    let mut y = vec![0.0; x.len()];
    let (mut mean, mut rstd) = (vec![0.0; rows], vec![0.0; rows]);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().sum::<f64>() / cols as f64;
        let var = row.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / cols as f64;
        let s = 1.0 / (var + eps).sqrt();
        for c in 0..cols {
            y[r * cols + c] = (row[c] - m) * s * gamma[c] + beta[c];
        }
        mean[r] = m;
        rstd[r] = s;
    }
    (y, mean, rstd)
}

/// Error budget of one row, from the f32 kernel's operations:
/// - the mean of C terms is off by at most em = (C + 4)·2⁻²⁴·mean|x| (C additions, the 1/C);
/// - rstd by a relative er = (C + 16)·2⁻²⁴ (C squares summed, sqrt, division, eps added);
/// - so x̂ = (x - m)·rstd is off by |x̂|·er + rstd·em. In a constant row x̂ is 0 in f64 but
///   rstd·em ≈ 316·em in f32 (rstd = 1/√eps): that is the honest error of a constant row.
struct Budget {
    em: f64,
    er: f64,
}

fn budget(row: &[f64]) -> Budget {
    let c = row.len() as f64;
    let u = 2f64.powi(-24);
    Budget {
        em: (c + 4.0) * u * row.iter().map(|v| v.abs()).sum::<f64>() / c,
        er: (c + 16.0) * u,
    }
}

struct Case {
    rows: usize,
    cols: usize,
    x: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

fn case(rng: &mut Rng, rows: usize, cols: usize, constant_row: Option<usize>) -> Case {
    // An offset of 2 makes |mean| comparable to the spread, which a one-pass E[x²] - m²
    // variance would get wrong.
    let mut x: Vec<f32> = rng.vec(rows * cols).iter().map(|v| v + 2.0).collect();
    if let Some(r) = constant_row {
        for v in &mut x[r * cols..(r + 1) * cols] {
            *v = 3.7;
        }
    }
    Case {
        rows,
        cols,
        x,
        gamma: rng.vec(cols).iter().map(|v| v + 1.0).collect(),
        beta: rng.vec(cols),
    }
}

fn check_forward(k: &Case, what: &str) {
    for v in VARIANTS {
        check_forward_with(v, k, &format!("{what} {v:?}"));
    }
}

fn check_forward_with(v: LayerNormVariant, k: &Case, what: &str) {
    let (xt, gt, bt) = (
        upload(&[k.rows, k.cols], &k.x),
        upload(&[k.cols], &k.gamma),
        upload(&[k.cols], &k.beta),
    );
    let out = ln_forward(v, &xt, &gt, &bt);
    let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
    let (y, mean, rstd) = reference(&x, &g, &b, k.cols, DEFAULT_EPS as f64);
    let u = 2f64.powi(-24);
    let (mut ty, mut tm, mut tr) = (vec![], vec![], vec![]);
    for r in 0..k.rows {
        let bud = budget(&x[r * k.cols..(r + 1) * k.cols]);
        tm.push(bud.em);
        tr.push(bud.er * rstd[r]);
        for c in 0..k.cols {
            let xhat = (x[r * k.cols + c] - mean[r]) * rstd[r];
            let dxhat = xhat.abs() * bud.er + rstd[r] * bud.em;
            // y = x̂·γ + β: x̂'s error times |γ|, plus the two roundings of the product and sum.
            ty.push(g[c].abs() * dxhat + 2.0 * u * ((xhat * g[c]).abs() + b[c].abs()));
        }
    }
    assert_close_each(&download(&out.y), &y, &ty, &format!("{what} y"));
    assert_close_each(&download(&out.mean), &mean, &tm, &format!("{what} mean"));
    assert_close_each(&download(&out.rstd), &rstd, &tr, &format!("{what} rstd"));
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(31);
    for &rows in AWKWARD {
        // 4, 64, 132 and 768 take the Rows variant's vec4 kernels.
        for &cols in &[1, 3, 4, 7, 33, 64, 65, 129, 132, 768] {
            let k = case(&mut rng, rows, cols, None);
            check_forward(&k, &format!("layer_norm [{rows},{cols}]"));
        }
    }
}

#[test]
fn constant_rows_and_one_column_are_finite() {
    let mut rng = Rng::new(32);
    let k = case(&mut rng, 5, 33, Some(2));
    check_forward(&k, "layer_norm constant row");
    // C = 36: the same through the Rows variant's vec4 kernel.
    let k4 = case(&mut rng, 5, 36, Some(2));
    check_forward(&k4, "layer_norm constant row, C = 36");
    for k in [&k, &k4] {
        for v in VARIANTS {
            let out = ln_forward(
                v,
                &upload(&[5, k.cols], &k.x),
                &upload(&[k.cols], &k.gamma),
                &upload(&[k.cols], &k.beta),
            );
            let rstd = download(&out.rstd);
            let want = 1.0 / (DEFAULT_EPS as f64).sqrt();
            assert!(
                ((rstd[2] as f64 - want) / want).abs() < 1e-5,
                "{v:?} C = {}: constant row rstd {} want 1/sqrt(eps) = {want}",
                k.cols,
                rstd[2]
            );
        }
    }
    // C = 1: every row is constant; y = beta exactly (x - mean is exactly 0 with one term).
    let k = case(&mut rng, 7, 1, None);
    check_forward(&k, "layer_norm C = 1");
    for v in VARIANTS {
        let out = ln_forward(
            v,
            &upload(&[7, 1], &k.x),
            &upload(&[1], &k.gamma),
            &upload(&[1], &k.beta),
        );
        let y = download(&out.y);
        assert!(
            y.iter().all(|&y| y == k.beta[0]),
            "{v:?}: {y:?} vs beta {}",
            k.beta[0]
        );
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(33);
    let cases = [
        case(&mut rng, 1, 1, None),
        case(&mut rng, 3, 7, None),
        case(&mut rng, 4, 33, Some(1)),
        case(&mut rng, 2, 65, None),
        case(&mut rng, 5, 1, None),
        // Multiples of 4 for the Rows variant's vec4 kernels, short and long rows.
        case(&mut rng, 3, 12, Some(2)),
        case(&mut rng, 1, 260, None),
    ];
    let eps = DEFAULT_EPS as f64;
    let u = 2f64.powi(-24);
    for k in &cases {
        let (rows, cols) = (k.rows, k.cols);
        let what = format!("layer_norm [{rows},{cols}]");
        let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
        let w = f64s(&rng.vec(rows * cols));
        let wf: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let (xt, gt, bt) = (
            upload(&[rows, cols], &k.x),
            upload(&[cols], &k.gamma),
            upload(&[cols], &k.beta),
        );
        let dyt = upload(&[rows, cols], &wf);
        let results: Vec<_> = VARIANTS
            .iter()
            .map(|&v| {
                (
                    v,
                    ln_backward(v, &xt, &gt, &ln_forward(v, &xt, &gt, &bt), &dyt),
                )
            })
            .collect();

        let want_dx = numeric_grad(&x, |xs| dot(&reference(xs, &g, &b, cols, eps).0, &w));
        let want_dg = numeric_grad(&g, |gs| dot(&reference(&x, gs, &b, cols, eps).0, &w));
        let want_db = numeric_grad(&b, |bs| dot(&reference(&x, &g, bs, cols, eps).0, &w));

        // Tolerances from the same budget as the forward. dx = rstd·(g - mean(g) - x̂·mean(g x̂))
        // with g = dy·γ: each of the three terms carries x̂'s error (dx̂) where x̂ enters and the
        // f32 error of a C-term mean, (C + 8)·2⁻²⁴ of its magnitude; rstd adds er relative.
        // dγ = Σ_r dy·x̂ and dβ = Σ_r dy: R terms, (R + 8)·2⁻²⁴ of Σ|terms|, plus dx̂·|dy|.
        // Finite differences add ~1e-10·rstd² at most (h = 1e-6), covered by 1e-7 absolute.
        let (_, mean, rstd) = reference(&x, &g, &b, cols, eps);
        let mut tdx = vec![0.0; rows * cols];
        let mut tdg = vec![1e-7; cols];
        let mut tdb = vec![1e-7; cols];
        for r in 0..rows {
            let bud = budget(&x[r * cols..(r + 1) * cols]);
            let s = rstd[r];
            let xh: Vec<f64> = (0..cols).map(|c| (x[r * cols + c] - mean[r]) * s).collect();
            let dxh: Vec<f64> = xh.iter().map(|v| v.abs() * bud.er + s * bud.em).collect();
            let gg: Vec<f64> = (0..cols).map(|c| w[r * cols + c] * g[c]).collect();
            let mean_g = gg.iter().map(|v| v.abs()).sum::<f64>() / cols as f64;
            let mean_gx = (0..cols)
                .map(|c| gg[c].abs() * (xh[c].abs() + dxh[c]))
                .sum::<f64>()
                / cols as f64;
            let mean_gdx = (0..cols).map(|c| gg[c].abs() * dxh[c]).sum::<f64>() / cols as f64;
            let cu = (cols as f64 + 8.0) * u;
            for c in 0..cols {
                let terms = gg[c].abs() + mean_g + xh[c].abs() * mean_gx;
                tdx[r * cols + c] =
                    s * (terms * (cu + bud.er) + dxh[c] * mean_gx + xh[c].abs() * mean_gdx) + 1e-7;
                let i = r * cols + c;
                tdg[c] += w[i].abs() * (xh[c].abs() * (rows as f64 + 8.0) * u + dxh[c]);
                tdb[c] += w[i].abs() * (rows as f64 + 8.0) * u;
            }
        }
        for (v, (dx, dgamma, dbeta)) in &results {
            assert_close_each(&download(dx), &want_dx, &tdx, &format!("{what} {v:?} dx"));
            assert_close_each(
                &download(dgamma),
                &want_dg,
                &tdg,
                &format!("{what} {v:?} dgamma"),
            );
            assert_close_each(
                &download(dbeta),
                &want_db,
                &tdb,
                &format!("{what} {v:?} dbeta"),
            );
        }
    }
}

#[test]
fn backward_with_many_rows() {
    // dgamma/dbeta loop over rows per column; a tall case takes the sliced two-pass path
    // (5 slices of 256 rows, the last one row long). Checked against the f64 sums.
    assert!(kiln::ops::reduce::col_slices(65, 1025) == 5);
    let mut rng = Rng::new(34);
    let k = case(&mut rng, 1025, 65, Some(7));
    let (x, g, b) = (f64s(&k.x), f64s(&k.gamma), f64s(&k.beta));
    let w = rng.vec(k.rows * k.cols);
    let xt = upload(&[k.rows, k.cols], &k.x);
    let gt = upload(&[k.cols], &k.gamma);
    let saved =
        layer_norm::layer_norm(ctx(), &xt, &gt, &upload(&[k.cols], &k.beta), DEFAULT_EPS).unwrap();
    let (_, dgamma, dbeta) =
        layer_norm::layer_norm_backward(ctx(), &xt, &gt, &saved, &upload(&[k.rows, k.cols], &w))
            .unwrap();
    let (_, mean, rstd) = reference(&x, &g, &b, k.cols, DEFAULT_EPS as f64);
    let u = 2f64.powi(-24);
    let (mut wg, mut wb, mut tg, mut tb) = (
        vec![0.0; k.cols],
        vec![0.0; k.cols],
        vec![0.0; k.cols],
        vec![0.0; k.cols],
    );
    for r in 0..k.rows {
        let bud = budget(&x[r * k.cols..(r + 1) * k.cols]);
        for c in 0..k.cols {
            let i = r * k.cols + c;
            let xh = (x[i] - mean[r]) * rstd[r];
            let dy = w[i] as f64;
            wg[c] += dy * xh;
            wb[c] += dy;
            // Same budget as in the finite-difference test, with R = 1025 terms.
            tg[c] += dy.abs()
                * (xh.abs() * (k.rows as f64 + 8.0) * u + xh.abs() * bud.er + rstd[r] * bud.em);
            tb[c] += dy.abs() * (k.rows as f64 + 8.0) * u;
        }
    }
    assert_close_each(&download(&dgamma), &wg, &tg, "dgamma [1025, 65]");
    assert_close_each(&download(&dbeta), &wb, &tb, "dbeta [1025, 65]");
}

#[test]
fn shape_errors_name_the_op() {
    let x = upload(&[2, 3], &[0.0; 6]);
    let gamma = upload(&[4], &[1.0; 4]);
    let beta = upload(&[3], &[0.0; 3]);
    let msg = layer_norm::layer_norm(ctx(), &x, &gamma, &beta, DEFAULT_EPS)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("layer_norm") && msg.contains("[2, 3]") && msg.contains("[4]"),
        "{msg}"
    );
}
