//! embedding: forward against an f64 gather, backward against an f64 scatter-add and finite
//! differences, out-of-range ids, repeated ids, shape errors.

use super::*;
use kiln::ops::embedding;

/// f64 reference lookup: `[n, C]` rows, zeros for ids >= V.
fn reference(ids: &[u32], table: &[f64], vocab: usize, channels: usize) -> Vec<f64> {
    let mut out = vec![0.0; ids.len() * channels];
    for (n, &id) in ids.iter().enumerate() {
        if (id as usize) < vocab {
            for c in 0..channels {
                out[n * channels + c] = table[id as usize * channels + c];
            }
        }
    }
    out
}

/// f64 reference scatter-add.
fn reference_backward(ids: &[u32], dout: &[f64], vocab: usize, channels: usize) -> Vec<f64> {
    let mut dtable = vec![0.0; vocab * channels];
    for (n, &id) in ids.iter().enumerate() {
        if (id as usize) < vocab {
            for c in 0..channels {
                dtable[id as usize * channels + c] += dout[n * channels + c];
            }
        }
    }
    dtable
}

// Tolerance of the backward: each dtable element is an f32 sum of k = (count of its id) terms
// of |dout| <= 1, added in order; the rounding error is at most k·2⁻²⁴·Σ|terms|, so
// tol = (k + 1)·2⁻²⁴·Σ|dout| per element (computed in the reference's pass), plus 1e-30 for
// the exact zeros of unused rows.
fn backward_tol(ids: &[u32], dout: &[f64], vocab: usize, channels: usize) -> Vec<f64> {
    let mut count = vec![0usize; vocab];
    let mut abs = vec![0.0; vocab * channels];
    for (n, &id) in ids.iter().enumerate() {
        if (id as usize) < vocab {
            count[id as usize] += 1;
            for c in 0..channels {
                abs[id as usize * channels + c] += dout[n * channels + c].abs();
            }
        }
    }
    (0..vocab * channels)
        .map(|i| (count[i / channels] + 1) as f64 * 2f64.powi(-24) * abs[i] + 1e-30)
        .collect()
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(11);
    for &vocab in &[1, 7, 65] {
        for &channels in AWKWARD {
            for ids_shape in [vec![1], vec![3, 7], vec![2, 3, 11], vec![129]] {
                let n: usize = ids_shape.iter().product();
                let ids: Vec<u32> = (0..n).map(|_| rng.below(vocab) as u32).collect();
                let table = rng.vec(vocab * channels);
                let out = embedding::embedding(
                    ctx(),
                    &upload_u32(&ids_shape, &ids),
                    &upload(&[vocab, channels], &table),
                )
                .unwrap();
                let mut want_shape = ids_shape.clone();
                want_shape.push(channels);
                assert_eq!(out.shape(), want_shape.as_slice());
                // A gather copies f32 values: exact.
                assert_close(
                    &download(&out),
                    &reference(&ids, &f64s(&table), vocab, channels),
                    0.0,
                    0.0,
                    &format!("embedding {ids_shape:?} V={vocab} C={channels}"),
                );
            }
        }
    }
}

#[test]
fn out_of_range_ids_give_zeros_and_no_gradient() {
    let mut rng = Rng::new(12);
    let (vocab, channels) = (5, 33);
    let ids = [0u32, 5, 4, 1_000_000, u32::MAX, 2];
    let table = rng.vec(vocab * channels);
    let t_ids = upload_u32(&[ids.len()], &ids);
    let out = download(
        &embedding::embedding(ctx(), &t_ids, &upload(&[vocab, channels], &table)).unwrap(),
    );
    let want = reference(&ids, &f64s(&table), vocab, channels);
    assert_close(&out, &want, 0.0, 0.0, "embedding out-of-range");
    assert!(out[channels..2 * channels].iter().all(|&v| v == 0.0));
    let dout = rng.vec(ids.len() * channels);
    let dtable =
        embedding::embedding_backward(ctx(), &t_ids, &upload(&[ids.len(), channels], &dout), vocab)
            .unwrap();
    let dref = reference_backward(&ids, &f64s(&dout), vocab, channels);
    assert_close_each(
        &download(&dtable),
        &dref,
        &backward_tol(&ids, &f64s(&dout), vocab, channels),
        "embedding dtable out-of-range",
    );
    assert!(embedding::check_ids(&ids, vocab)
        .unwrap_err()
        .to_string()
        .contains("id 5 at position 1"));
    assert!(embedding::check_ids(&[0, 4], vocab).is_ok());
}

#[test]
fn backward_accumulates_repeated_ids() {
    let mut rng = Rng::new(13);
    let mut cases: Vec<(Vec<u32>, usize, usize)> = vec![
        // All ids equal: one row takes every contribution.
        (vec![2; 129], 3, 7),
        (vec![0; 200], 1, 65),
    ];
    // Random ids over a tiny vocabulary: about 43 repeats per row.
    cases.push(((0..129).map(|_| rng.below(3) as u32).collect(), 3, 33));
    cases.push(((0..129).map(|_| rng.below(3) as u32).collect(), 3, 1));
    // More rows than ids, and C beyond one workgroup's 64 columns.
    cases.push(((0..65).map(|_| rng.below(129) as u32).collect(), 129, 129));
    for (ids, vocab, channels) in cases {
        let dout = rng.vec(ids.len() * channels);
        let dtable = embedding::embedding_backward(
            ctx(),
            &upload_u32(&[ids.len()], &ids),
            &upload(&[ids.len(), channels], &dout),
            vocab,
        )
        .unwrap();
        assert_close_each(
            &download(&dtable),
            &reference_backward(&ids, &f64s(&dout), vocab, channels),
            &backward_tol(&ids, &f64s(&dout), vocab, channels),
            &format!("embedding dtable N={} V={vocab} C={channels}", ids.len()),
        );
    }
}

#[test]
fn backward_is_deterministic() {
    let mut rng = Rng::new(14);
    let ids: Vec<u32> = (0..1000).map(|_| rng.below(3) as u32).collect();
    let dout = rng.vec(1000 * 7);
    let t_ids = upload_u32(&[1000], &ids);
    let t_dout = upload(&[1000, 7], &dout);
    let first = download(&embedding::embedding_backward(ctx(), &t_ids, &t_dout, 3).unwrap());
    for _ in 0..3 {
        let again = download(&embedding::embedding_backward(ctx(), &t_ids, &t_dout, 3).unwrap());
        assert_eq!(
            first.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            again.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(15);
    let (vocab, channels) = (4, 7);
    let ids: Vec<u32> = vec![1, 3, 1, 0, 1, 3, 2, 9, 1, 0, 3];
    let table = rng.vec(vocab * channels);
    // Loss ⟨out, w⟩ with a random w, so dout = w.
    let w = f64s(&rng.vec(ids.len() * channels));
    let want = numeric_grad(&f64s(&table), |t| {
        dot(&reference(&ids, t, vocab, channels), &w)
    });
    let dout: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let dtable = embedding::embedding_backward(
        ctx(),
        &upload_u32(&[ids.len()], &ids),
        &upload(&[ids.len(), channels], &dout),
        vocab,
    )
    .unwrap();
    // The FD gradient is exact to ~1e-9 (see numeric_grad); add the scatter-add bound above.
    let tol: Vec<f64> = backward_tol(&ids, &w, vocab, channels)
        .iter()
        .map(|t| t + 1e-8)
        .collect();
    assert_close_each(&download(&dtable), &want, &tol, "embedding dtable vs FD");
}

#[test]
fn shape_errors_name_the_op() {
    let ids = upload_u32(&[3], &[0, 1, 2]);
    let table = upload(&[4, 2, 1], &[0.0; 8]);
    let out = kiln::Tensor::zeros(ctx(), &[3, 1], kiln::DType::F32).unwrap();
    let msg = embedding::forward(ctx(), &ids, &table, &out)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("embedding") && msg.contains("[3]") && msg.contains("[4, 2, 1]"),
        "{msg}"
    );
    let table = upload(&[4, 2], &[0.0; 8]);
    let out = kiln::Tensor::zeros(ctx(), &[3, 3], kiln::DType::F32).unwrap();
    let msg = embedding::forward(ctx(), &ids, &table, &out)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("embedding") && msg.contains("[4, 2]") && msg.contains("[3, 3]"),
        "{msg}"
    );
    let dout = upload(&[2, 2], &[0.0; 4]);
    let dtable = kiln::Tensor::zeros(ctx(), &[4, 2], kiln::DType::F32).unwrap();
    let msg = embedding::backward_table(ctx(), &ids, &dout, &dtable)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("embedding_backward") && msg.contains("[3]") && msg.contains("[2, 2]"),
        "{msg}"
    );
    // Float ids are a dtype error.
    let fids = upload(&[3], &[0.0; 3]);
    let out = kiln::Tensor::zeros(ctx(), &[3, 2], kiln::DType::F32).unwrap();
    assert!(embedding::forward(ctx(), &fids, &table, &out).is_err());
}
