//! The k-means centroid update against a plain f64 reference: each centroid becomes the
//! normalised sum of its members; a centroid without members keeps its value.
//!
//! Tolerance: a coordinate of the sum is S_c f32 additions of values in [-1, 1] (error at most
//! S_c·2⁻²⁴·Σ|x|), then a division by the norm; with S_c ≤ 100 the result's error is far
//! below 1e-5 of the unit-length output, which is the atol used.

use kiln::ops::kmeans;

use super::*;

fn reference(points: &[f32], assign: &[u32], old: &[f32], d: usize) -> Vec<f64> {
    let c = old.len() / d;
    let mut out = f64s(old);
    for k in 0..c {
        let mut sum = vec![0.0f64; d];
        let mut any = false;
        for (i, &a) in assign.iter().enumerate() {
            if a as usize == k {
                any = true;
                for j in 0..d {
                    sum[j] += points[i * d + j] as f64;
                }
            }
        }
        if any {
            let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
            for j in 0..d {
                out[k * d + j] = sum[j] / norm;
            }
        }
    }
    out
}

#[test]
fn update_matches_reference_and_keeps_empty_centroids() {
    let mut rng = Rng::new(1);
    for &(s, c, d) in &[
        (1usize, 1usize, 4usize),
        (33, 7, 12),
        (129, 65, 8),
        (300, 3, 36),
    ] {
        let points = rng.vec(s * d);
        // Centroid c - 1 gets no members when c > 1.
        let assign: Vec<u32> = (0..s).map(|_| rng.below(c.max(2) - 1) as u32).collect();
        let old = rng.vec(c * d);
        let centroids = upload(&[c, d], &old);
        kmeans::update(ctx(), &upload(&[s, d], &points), &assign, &centroids).unwrap();
        let want = reference(&points, &assign, &old, d);
        assert_close(
            &download(&centroids),
            &want,
            1e-5,
            0.0,
            &format!("s {s} c {c} d {d}"),
        );
    }
}

#[test]
fn bad_shapes_and_assignments_are_errors() {
    let p = upload(&[3, 8], &[0.5; 24]);
    let c = upload(&[2, 4], &[0.5; 8]);
    let err = kmeans::update(ctx(), &p, &[0, 1, 0], &c).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("kmeans") && msg.contains("[3, 8]") && msg.contains("[2, 4]"),
        "{msg}"
    );
    let c = upload(&[2, 8], &[0.5; 16]);
    let err = kmeans::update(ctx(), &p, &[0, 2, 0], &c).unwrap_err();
    assert!(err.to_string().contains("below C = 2"), "{err}");
}
