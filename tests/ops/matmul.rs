//! matmul tests (the faster variants and the backward are added with them).

use super::*;
use kiln::ops::matmul::{self, MatmulOptions};

/// f64 reference: c[b,i,j] = Σ_k op(a)[b,i,k]·op(b)[b,k,j] (+ bias[j]), with a or b broadcast
/// over the batch when `batch_a`/`batch_b` is 1.
#[allow(clippy::too_many_arguments)]
pub fn reference(
    a: &[f64],
    b: &[f64],
    bias: Option<&[f64]>,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    opts: MatmulOptions,
) -> Vec<f64> {
    let a_batched = a.len() == batch * m * k && batch > 1;
    let b_batched = b.len() == batch * k * n && batch > 1;
    let mut c = vec![0.0; batch * m * n];
    for bi in 0..batch {
        let ao = if a_batched { bi * m * k } else { 0 };
        let bo = if b_batched { bi * k * n } else { 0 };
        for i in 0..m {
            for j in 0..n {
                let mut acc = bias.map_or(0.0, |bs| bs[j]);
                for kk in 0..k {
                    let av = if opts.trans_a {
                        a[ao + kk * m + i]
                    } else {
                        a[ao + i * k + kk]
                    };
                    let bv = if opts.trans_b {
                        b[bo + j * k + kk]
                    } else {
                        b[bo + kk * n + j]
                    };
                    acc += av * bv;
                }
                c[(bi * m + i) * n + j] = acc;
            }
        }
    }
    c
}

#[test]
fn naive_matches_reference() {
    let mut rng = Rng::new(10);
    for &(m, k, n) in &[(1, 1, 1), (3, 7, 33), (65, 3, 7), (33, 129, 1)] {
        let a = rng.vec(m * k);
        let b = rng.vec(k * n);
        let c = matmul::matmul(
            ctx(),
            &upload(&[m, k], &a),
            &upload(&[k, n], &b),
            None,
            MatmulOptions::default(),
        )
        .unwrap();
        let want = reference(
            &f64s(&a),
            &f64s(&b),
            None,
            1,
            m,
            k,
            n,
            MatmulOptions::default(),
        );
        // Inputs in [-1, 1): |error| <= K·2⁻²⁴·Σ|a·b| <= K²·2⁻²⁴ (the textbook dot-product bound).
        let atol = (k * k) as f64 * 2f64.powi(-24) + 1e-7;
        assert_close(
            &download(&c),
            &want,
            atol,
            0.0,
            &format!("matmul {m}x{k}x{n}"),
        );
    }
}
