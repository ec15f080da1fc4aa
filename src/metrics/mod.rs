//! Measures of a model's output: [`accuracy`], [`retrieval_recall`] and [`frechet_distance`]
//! on the host in f64, and [`ImageScorer`], a small classifier kiln trains on labelled images
//! whose features give a generator's Fréchet distance to the real data.
//!
//! [`frechet_distance`]: the Fréchet distance between two Gaussians fitted to two sets of
//! feature vectors (the "FID" when the features come from an Inception network; kiln's GAN
//! example uses a small classifier it trains itself):
//! `d² = |μ_a − μ_b|² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})`.
//! The matrix square roots come from symmetric eigen-decompositions (cyclic Jacobi), which is
//! exact to f64 rounding for the small feature widths used here (tens to a few hundred).

use crate::error::{Error, Result};

mod scorer;

pub use scorer::{ImageScorer, QualityProbe, SampleQuality};

/// The fraction of rows of `logits` (`[n, classes]`, row-major) whose largest entry is at the
/// row's label; only the first `labels.len()` rows count (a padded last batch has more rows).
/// Ties go to the first class, as an argmax does. 0 for no labels.
pub fn accuracy(logits: &[f32], classes: usize, labels: &[u32]) -> f64 {
    let right = logits
        .chunks(classes.max(1))
        .zip(labels)
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                );
            best.0 == label as usize
        })
        .count();
    right as f64 / labels.len().max(1) as f64
}

/// Recall@k of a retrieval with one relevant item per query: the fraction of queries whose
/// wanted item (`wanted[i]`, a passage's position) is among the first `k` of `found[i]`
/// (ranked best first). Only queries with both a ranking and a wanted item count; 0 for none.
/// (For an approximate index against the exact one, see
/// [`ivf::recall_at`](crate::index::ivf::recall_at).)
pub fn retrieval_recall(found: &[Vec<usize>], wanted: &[usize], k: usize) -> f64 {
    let hits = found
        .iter()
        .zip(wanted)
        .filter(|(ranked, want)| ranked.iter().take(k).any(|r| r == *want))
        .count();
    hits as f64 / found.len().min(wanted.len()).max(1) as f64
}

/// Mean `[d]` and covariance `[d·d]` (divided by n − 1) of `n` feature rows of width `d`.
pub fn mean_and_covariance(features: &[f32], d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if d == 0 || !features.len().is_multiple_of(d) || features.len() / d < 2 {
        return Err(Error::Unsupported(format!(
            "frechet_distance: needs at least 2 rows of width {d}, got {} values",
            features.len()
        )));
    }
    let n = features.len() / d;
    let mut mean = vec![0.0f64; d];
    for row in features.chunks(d) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += x as f64;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    let mut cov = vec![0.0f64; d * d];
    for row in features.chunks(d) {
        for i in 0..d {
            let a = row[i] as f64 - mean[i];
            for j in i..d {
                cov[i * d + j] += a * (row[j] as f64 - mean[j]);
            }
        }
    }
    for i in 0..d {
        for j in i..d {
            let v = cov[i * d + j] / (n - 1) as f64;
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    Ok((mean, cov))
}

/// Eigenvalues and eigenvectors (columns of `v`, row-major `[d·d]`) of a symmetric matrix, by
/// cyclic Jacobi rotations until the off-diagonal mass is negligible.
pub fn symmetric_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0f64; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    let scale: f64 = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j] * a[i * d + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                // The smaller root of t² + 2θt − 1 = 0: the rotation angle below π/4.
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let akp = a[k * d + p];
                    let akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let apk = a[p * d + k];
                    let aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let vkp = v[k * d + p];
                    let vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

/// The principal square root of a symmetric positive semi-definite matrix (negative
/// eigenvalues from rounding are clamped to 0).
fn sqrt_psd(a: &[f64], d: usize) -> Vec<f64> {
    let (w, v) = symmetric_eigen(a, d);
    let mut out = vec![0.0f64; d * d];
    for (k, &lambda) in w.iter().enumerate() {
        let s = lambda.max(0.0).sqrt();
        for i in 0..d {
            let vik = v[i * d + k] * s;
            for j in 0..d {
                out[i * d + j] += vik * v[j * d + k];
            }
        }
    }
    out
}

fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0f64; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            for j in 0..d {
                c[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    c
}

/// The Fréchet distance (squared, as FID reports it) between Gaussians fitted to feature rows
/// `a` and `b`, each `[n, d]` row-major.
pub fn frechet_distance(a: &[f32], b: &[f32], d: usize) -> Result<f64> {
    let (mu_a, cov_a) = mean_and_covariance(a, d)?;
    let (mu_b, cov_b) = mean_and_covariance(b, d)?;
    let mean_term: f64 = mu_a.iter().zip(&mu_b).map(|(x, y)| (x - y) * (x - y)).sum();
    let root_a = sqrt_psd(&cov_a, d);
    // Σ_a^{1/2} Σ_b Σ_a^{1/2} is symmetric PSD, so its square root's trace is the sum of the
    // square roots of its eigenvalues.
    let middle = matmul(&matmul(&root_a, &cov_b, d), &root_a, d);
    let sym: Vec<f64> = (0..d * d)
        .map(|k| 0.5 * (middle[k] + middle[(k % d) * d + k / d]))
        .collect();
    let (eig, _) = symmetric_eigen(&sym, d);
    let cross: f64 = eig.iter().map(|&l| l.max(0.0).sqrt()).sum();
    let trace_a: f64 = (0..d).map(|i| cov_a[i * d + i]).sum();
    let trace_b: f64 = (0..d).map(|i| cov_b[i * d + i]).sum();
    Ok((mean_term + trace_a + trace_b - 2.0 * cross).max(0.0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*state >> 11) as f64) / (1u64 << 53) as f64
    }

    #[test]
    fn accuracy_counts_argmax_hits_on_labelled_rows_only() {
        // Rows: argmax 1, argmax 0 (tie broken to the first), argmax 2; a fourth padded row.
        let logits = [0.0, 2.0, 1.0, 5.0, 5.0, 0.0, -1.0, -2.0, 3.0, 9.0, 0.0, 0.0];
        assert_eq!(accuracy(&logits, 3, &[1, 0, 0]), 2.0 / 3.0);
        assert_eq!(accuracy(&logits, 3, &[1, 1, 2]), 2.0 / 3.0);
        assert_eq!(accuracy(&logits, 3, &[]), 0.0);
    }

    #[test]
    fn retrieval_recall_counts_queries_whose_item_is_in_the_top_k() {
        let found = vec![vec![3, 1, 4], vec![1, 5], vec![], vec![9, 2, 6]];
        let wanted = [3, 5, 7, 6];
        assert_eq!(retrieval_recall(&found, &wanted, 1), 0.25);
        assert_eq!(retrieval_recall(&found, &wanted, 2), 0.5);
        assert_eq!(retrieval_recall(&found, &wanted, 3), 0.75);
        // A k beyond the ranking is the whole ranking; nothing to score is 0.
        assert_eq!(retrieval_recall(&found, &wanted, 50), 0.75);
        assert_eq!(retrieval_recall(&[], &[], 5), 0.0);
    }

    #[test]
    fn eigen_decomposition_reconstructs_the_matrix() {
        let d = 5;
        let mut s = 3u64;
        let m: Vec<f64> = (0..d * d).map(|_| lcg(&mut s) - 0.5).collect();
        let a: Vec<f64> = (0..d * d).map(|k| m[k] + m[(k % d) * d + k / d]).collect();
        let (w, v) = symmetric_eigen(&a, d);
        for i in 0..d {
            for j in 0..d {
                let r: f64 = (0..d).map(|k| v[i * d + k] * w[k] * v[j * d + k]).sum();
                assert!(
                    (r - a[i * d + j]).abs() < 1e-12,
                    "({i},{j}): {r} vs {}",
                    a[i * d + j]
                );
            }
        }
    }

    #[test]
    fn frechet_distance_has_its_closed_forms() {
        // Same set: 0. Shifted by c in every coordinate: d·c². Independent coordinates scaled
        // by k: Σ (σ - kσ)² = (1 - k)² Σ σ².
        let (n, d) = (4000, 3);
        let mut s = 9u64;
        let a: Vec<f32> = (0..n * d)
            .map(|_| (lcg(&mut s) * 2.0 - 1.0) as f32)
            .collect();
        assert!(frechet_distance(&a, &a, d).unwrap() < 1e-9);
        let shifted: Vec<f32> = a.iter().map(|x| x + 0.5).collect();
        let got = frechet_distance(&a, &shifted, d).unwrap();
        assert!((got - 0.75).abs() < 1e-6, "{got}");
        let scaled: Vec<f32> = a.iter().map(|x| x * 3.0).collect();
        let (_, cov) = mean_and_covariance(&a, d).unwrap();
        let var_sum: f64 = (0..d).map(|i| cov[i * d + i]).sum();
        let got = frechet_distance(&a, &scaled, d).unwrap();
        // The sample mean is ~0 but not exactly: allow its 9x-scaled square in the bound.
        assert!(
            (got - 4.0 * var_sum).abs() < 1e-3,
            "{got} vs {}",
            4.0 * var_sum
        );
        assert!(frechet_distance(&a[..d], &a, d).is_err());
    }
}
