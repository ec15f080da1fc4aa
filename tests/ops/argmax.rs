//! argmax and the greedy-decoding step against a plain CPU reference. Indices are exact, so
//! every comparison is equality.

use kiln::kernels::run;
use kiln::ops::argmax;
use kiln::{DType, Error, Tensor};

use super::*;

/// First index of the maximum of each row.
fn reference(x: &[f32], cols: usize) -> Vec<u32> {
    x.chunks(cols)
        .map(|row| {
            let mut best = 0;
            for (c, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = c;
                }
            }
            best as u32
        })
        .collect()
}

fn download_u32(t: &Tensor) -> Vec<u32> {
    t.to_vec_u32(ctx()).unwrap()
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(1);
    for &rows in AWKWARD {
        for &cols in &[1usize, 3, 7, 33, 129] {
            let x = rng.vec(rows * cols);
            let got = download_u32(&argmax::argmax(ctx(), &upload(&[rows, cols], &x)).unwrap());
            assert_eq!(got, reference(&x, cols), "rows {rows} cols {cols}");
        }
    }
}

#[test]
fn ties_take_the_first_index() {
    let x = [1.0, 3.0, 3.0, -1.0, 2.0, 2.0, 2.0, 2.0];
    let got = download_u32(&argmax::argmax(ctx(), &upload(&[2, 4], &x)).unwrap());
    assert_eq!(got, [1, 0]);
}

#[test]
fn greedy_steps_feed_each_prediction_to_the_next_position() {
    // logits [B=3, T=4, V=5]; tokens start as BOS (7) then junk; after steps t = 0..T the ids
    // are the row argmaxes and tokens[b, t+1] = ids[b, t].
    let (b, t, v) = (3, 4, 5);
    let x = Rng::new(2).vec(b * t * v);
    let logits = upload(&[b, t, v], &x);
    let ids = Tensor::zeros(ctx(), &[b, t], DType::U32).unwrap();
    let start: Vec<u32> = (0..b * t)
        .map(|i| if i % t == 0 { 7 } else { 99 })
        .collect();
    let tokens = upload_u32(&[b, t], &start);
    let steps: Vec<_> = (0..t)
        .map(|s| argmax::greedy_step(ctx(), &logits, s, &ids, &tokens).unwrap())
        .collect();
    run(ctx(), &steps).unwrap();
    let want = reference(&x, v);
    assert_eq!(download_u32(&ids), want);
    let mut want_tokens = start.clone();
    for r in 0..b {
        for s in 0..t - 1 {
            want_tokens[r * t + s + 1] = want[r * t + s];
        }
    }
    assert_eq!(download_u32(&tokens), want_tokens);
}

#[test]
fn bad_shapes_are_errors() {
    let x = upload(&[2, 3], &[0.0; 6]);
    let wrong = Tensor::zeros(ctx(), &[3], DType::U32).unwrap();
    let e = argmax::forward(ctx(), &x, &wrong).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "argmax", .. }), "{e}");
    assert!(
        e.to_string().contains("[2, 3]") && e.to_string().contains("[3]"),
        "{e}"
    );
    let logits = upload(&[2, 3, 4], &[0.0; 24]);
    let ids = Tensor::zeros(ctx(), &[2, 3], DType::U32).unwrap();
    let e = argmax::greedy_step(ctx(), &logits, 3, &ids, &ids).unwrap_err();
    assert!(e.to_string().contains("t = 3"), "{e}");
}

#[test]
fn rows_past_the_loop_limit_are_exact_or_refused() {
    // One invocation scans a row. At the limit the scan is exact (maximum in the last
    // column); one past it, llvmpipe would end the loop early and return a wrong index, so
    // kiln refuses there with a clear error, and adapters without the limit answer exactly.
    let limit = kiln::kernels::CPU_LOOP_LIMIT as usize;
    for cols in [limit, limit + 1] {
        let mut x = vec![0.0f32; 2 * cols];
        x[cols - 1] = 1.0;
        x[cols + cols / 2] = 1.0;
        let t = upload(&[2, cols], &x);
        match argmax::argmax(ctx(), &t) {
            Ok(out) => assert_eq!(download_u32(&out), reference(&x, cols), "cols {cols}"),
            Err(Error::Unsupported(m)) => {
                assert!(
                    kiln::kernels::loops_limited(ctx()) && cols > limit,
                    "cols {cols}: {m}"
                );
                assert!(m.contains("loop limit"), "{m}");
            }
            Err(e) => panic!("cols {cols}: {e}"),
        }
    }
}
