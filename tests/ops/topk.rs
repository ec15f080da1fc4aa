//! topk against a plain f64 CPU reference: every score of every query, sorted by (score
//! descending, id ascending), cut at k.
//!
//! Tolerance: a score is an f32 dot product of length D, whose textbook error bound is
//! D·2⁻²⁴·Σ|q_d·v_d| (computed per pair in the reference pass); scores are checked against it.
//! Ids are exact wherever the reference's scores are separated by more than twice that bound;
//! within it two f32 roundings may legitimately swap neighbours, so there the test checks that
//! the returned id's own reference score matches instead. Duplicate vectors give bit-equal
//! scores, so their order (by id) is checked exactly.

use kiln::kernels::run;
use kiln::ops::topk::{self, ListShard, Shard, TopkOptions, KMAX, NONE};
use kiln::{DType, Error, Tensor};

use super::*;

/// (score, bound) of every (query, vector) pair, f64.
fn scores(queries: &[f32], vectors: &[f32], d: usize) -> Vec<Vec<(f64, f64)>> {
    queries
        .chunks(d)
        .map(|q| {
            vectors
                .chunks(d)
                .map(|v| {
                    let mut s = 0.0;
                    let mut a = 0.0;
                    for i in 0..d {
                        s += q[i] as f64 * v[i] as f64;
                        a += (q[i] as f64 * v[i] as f64).abs();
                    }
                    (s, d as f64 * 2f64.powi(-24) * a + 1e-30)
                })
                .collect()
        })
        .collect()
}

/// Reference top-k ids of one query over `live` ids: sort by (-score, id).
fn reference(row: &[(f64, f64)], live: &[bool], k: usize) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..row.len()).filter(|&i| live[i]).collect();
    ids.sort_by(|&a, &b| row[b].0.total_cmp(&row[a].0).then(a.cmp(&b)));
    ids.truncate(k);
    ids
}

/// Checks one query's result against the reference (see the module doc for the rules).
fn check_row(got_s: &[f32], got_i: &[u32], row: &[(f64, f64)], live: &[bool], what: &str) {
    let k = got_s.len();
    let want = reference(row, live, k);
    for j in 0..k {
        if j >= want.len() {
            assert_eq!(got_i[j], NONE, "{what}: slot {j} beyond the live vectors");
            continue;
        }
        let id = got_i[j] as usize;
        assert!(
            id < row.len() && live[id],
            "{what}: slot {j} id {id} not live"
        );
        let (s, bound) = row[id];
        assert!(
            (got_s[j] as f64 - s).abs() <= bound,
            "{what}: slot {j} id {id} score {} vs {s}",
            got_s[j]
        );
        let (ws, wb) = row[want[j]];
        assert!(
            (got_s[j] as f64 - ws).abs() <= bound + wb,
            "{what}: slot {j} score {} but the reference's {j}th is {ws}",
            got_s[j]
        );
        let separated = |i: usize| (row[i].0 - ws).abs() > 2.0 * (row[i].1 + wb);
        let near_tie = (0..row.len()).any(|i| live[i] && i != want[j] && !separated(i));
        if !near_tie {
            assert_eq!(id, want[j], "{what}: slot {j}");
        }
    }
    let mut seen = got_i.to_vec();
    seen.retain(|&i| i != NONE);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), k.min(want.len()), "{what}: repeated ids");
}

fn run_topk(queries: &[f32], vectors: &[f32], d: usize, k: usize) -> (Vec<f32>, Vec<u32>) {
    let q = queries.len() / d;
    let n = vectors.len() / d;
    let (s, i) = topk::topk(
        ctx(),
        &upload(&[q, d], queries),
        &upload(&[n, d], vectors),
        k,
    )
    .unwrap();
    (download(&s), i.to_vec_u32(ctx()).unwrap())
}

#[test]
fn matches_reference_on_awkward_sizes() {
    let mut rng = Rng::new(1);
    for &n in &[1usize, 3, 7, 33, 65, 129, 1031] {
        for &q in &[1usize, 3] {
            for &(d, k) in &[(12usize, 1usize), (12, 5), (64, 10)] {
                let queries = rng.vec(q * d);
                let vectors = rng.vec(n * d);
                let (s, i) = run_topk(&queries, &vectors, d, k);
                let all = scores(&queries, &vectors, d);
                let live = vec![true; n];
                for r in 0..q {
                    check_row(
                        &s[r * k..(r + 1) * k],
                        &i[r * k..(r + 1) * k],
                        &all[r],
                        &live,
                        &format!("n {n} q {q} d {d} k {k} row {r}"),
                    );
                }
            }
        }
    }
}

#[test]
fn k_larger_than_the_vectors_returns_all_then_empty_slots() {
    let mut rng = Rng::new(2);
    let (d, n, k) = (8, 3, 7);
    let queries = rng.vec(2 * d);
    let vectors = rng.vec(n * d);
    let (s, i) = run_topk(&queries, &vectors, d, k);
    for r in 0..2 {
        assert!(i[r * k..r * k + n].iter().all(|&x| (x as usize) < n));
        assert!(i[r * k + n..(r + 1) * k].iter().all(|&x| x == NONE));
        assert!(s[r * k + n..(r + 1) * k].iter().all(|&x| x == f32::MIN));
    }
}

#[test]
fn ties_go_to_the_smaller_id_across_chunks_and_merges() {
    // 70 vectors, copies of 5 distinct ones: each score appears 14 times. Chunks of 4 make 18
    // candidate groups, so ties are settled in the first pass and in two merge levels.
    let mut rng = Rng::new(3);
    let d = 16;
    let distinct = rng.vec(5 * d);
    let order: Vec<usize> = (0..70).map(|_| rng.below(5)).collect();
    let vectors: Vec<f32> = order
        .iter()
        .flat_map(|&o| distinct[o * d..(o + 1) * d].to_vec())
        .collect();
    let queries = rng.vec(3 * d);
    let all = scores(&queries, &vectors, d);
    let live = vec![true; 70];
    for chunk in [1usize, 4, 70] {
        let k = 20;
        let s = Tensor::zeros(ctx(), &[3, k], DType::F32).unwrap();
        let i = Tensor::zeros(ctx(), &[3, k], DType::U32).unwrap();
        let shard = Shard {
            vectors: &upload(&[70, d], &vectors),
            rows: 70,
            live: None,
            slot_base: 0,
        };
        let opts = TopkOptions { chunk: Some(chunk) };
        let qt = upload(&[3, d], &queries);
        run(
            ctx(),
            &topk::forward_with(ctx(), &qt, &[shard], k, opts, &s, &i).unwrap(),
        )
        .unwrap();
        let got = i.to_vec_u32(ctx()).unwrap();
        for r in 0..3 {
            let want: Vec<u32> = reference(&all[r], &live, k)
                .iter()
                .map(|&x| x as u32)
                .collect();
            assert_eq!(
                &got[r * k..(r + 1) * k],
                want.as_slice(),
                "chunk {chunk} row {r}"
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_the_chunk_size() {
    let mut rng = Rng::new(4);
    let (q, n, d, k) = (3, 1031, 32, 10);
    let qt = upload(&[q, d], &rng.vec(q * d));
    let vt = upload(&[n, d], &rng.vec(n * d));
    let mut first: Option<(Vec<f32>, Vec<u32>)> = None;
    for chunk in [1usize, 7, 64, 2000] {
        let s = Tensor::zeros(ctx(), &[q, k], DType::F32).unwrap();
        let i = Tensor::zeros(ctx(), &[q, k], DType::U32).unwrap();
        let shard = Shard {
            vectors: &vt,
            rows: n,
            live: None,
            slot_base: 0,
        };
        let opts = TopkOptions { chunk: Some(chunk) };
        run(
            ctx(),
            &topk::forward_with(ctx(), &qt, &[shard], k, opts, &s, &i).unwrap(),
        )
        .unwrap();
        let got = (download(&s), i.to_vec_u32(ctx()).unwrap());
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!(&got, f, "chunk {chunk}"),
        }
    }
}

#[test]
fn shards_with_removed_rows_and_ties_across_a_boundary() {
    // Three shards (10, 1 and 22 rows in use, buffers larger), ids contiguous; some rows
    // removed; shard 2 repeats two of shard 0's vectors, so ties straddle the boundary.
    let mut rng = Rng::new(5);
    let d = 8;
    let rows = [10usize, 1, 22];
    let caps = [16usize, 4, 30];
    let n: usize = rows.iter().sum();
    let mut vectors = rng.vec(n * d);
    for (dst, src) in [(11 + 3, 2), (11 + 20, 7)] {
        let copy = vectors[src * d..(src + 1) * d].to_vec();
        vectors[dst * d..(dst + 1) * d].copy_from_slice(&copy);
    }
    let mut live = vec![true; n];
    for r in [0, 9, 10, 15] {
        live[r] = false;
    }
    let queries = rng.vec(3 * d);
    let mut tensors = Vec::new();
    let mut base = 0;
    for (&r, &cap) in rows.iter().zip(&caps) {
        let mut v = vectors[base * d..(base + r) * d].to_vec();
        v.resize(cap * d, 9.0);
        let mut m: Vec<u32> = live[base..base + r].iter().map(|&l| l as u32).collect();
        m.resize(cap, 1);
        tensors.push((upload(&[cap, d], &v), upload_u32(&[cap], &m), r, base));
        base += r;
    }
    let shards: Vec<Shard> = tensors
        .iter()
        .map(|(v, m, r, b)| Shard {
            vectors: v,
            rows: *r,
            live: Some(m),
            slot_base: *b as u32,
        })
        .collect();
    let all = scores(&queries, &vectors, d);
    for k in [1usize, 5, 33] {
        let (s, i) = topk::topk_shards(ctx(), &upload(&[3, d], &queries), &shards, k).unwrap();
        let (s, i) = (download(&s), i.to_vec_u32(ctx()).unwrap());
        for r in 0..3 {
            check_row(
                &s[r * k..(r + 1) * k],
                &i[r * k..(r + 1) * k],
                &all[r],
                &live,
                &format!("k {k} row {r}"),
            );
        }
    }
    // With every vector wanted, the duplicated pairs come out adjacent, smaller id first.
    let k = 33;
    let (_, i) = topk::topk_shards(ctx(), &upload(&[3, d], &queries), &shards, k).unwrap();
    let i = i.to_vec_u32(ctx()).unwrap();
    for r in 0..3 {
        let row = &i[r * k..(r + 1) * k];
        for (a, b) in [(2u32, 14u32), (7, 31)] {
            let pa = row.iter().position(|&x| x == a).unwrap();
            assert_eq!(row[pa + 1], b, "row {r}: {a} then {b}");
        }
    }
}

#[test]
fn lists_scan_only_the_probed_lists() {
    // 4 lists over two shards (lists 0, 1 in shard 0; 2, 3 in shard 1); each query probes two.
    let mut rng = Rng::new(6);
    let d = 8;
    let lens = [5usize, 9, 1, 12];
    let n: usize = lens.iter().sum();
    let vectors = rng.vec(n * d);
    let list_of: Vec<usize> = (0..4).flat_map(|l| vec![l; lens[l]]).collect();
    let split = lens[0] + lens[1];
    let keys: Vec<u32> = (0..n as u32)
        .map(|i| if i == 3 { NONE } else { i })
        .collect();
    let v0 = upload(&[split, d], &vectors[..split * d]);
    let v1 = upload(&[n - split, d], &vectors[split * d..]);
    let k0 = upload_u32(&[split], &keys[..split]);
    let k1 = upload_u32(&[n - split], &keys[split..]);
    let o0 = upload_u32(&[5], &[0, 5, 14, 14, 14]);
    let o1 = upload_u32(&[5], &[0, 0, 0, 1, 13]);
    let shards = [
        ListShard {
            vectors: &v0,
            keys: &k0,
            offsets: &o0,
            longest: 9,
        },
        ListShard {
            vectors: &v1,
            keys: &k1,
            offsets: &o1,
            longest: 12,
        },
    ];
    let probes: Vec<u32> = vec![0, 3, 2, 1, 3, 2];
    let queries = rng.vec(3 * d);
    let k = 8;
    let s = Tensor::zeros(ctx(), &[3, k], DType::F32).unwrap();
    let i = Tensor::zeros(ctx(), &[3, k], DType::U32).unwrap();
    let qt = upload(&[3, d], &queries);
    let pt = upload_u32(&[3, 2], &probes);
    run(
        ctx(),
        &topk::forward_lists(ctx(), &qt, &shards, &pt, k, &s, &i).unwrap(),
    )
    .unwrap();
    let (s, i) = (download(&s), i.to_vec_u32(ctx()).unwrap());
    let all = scores(&queries, &vectors, d);
    for r in 0..3 {
        let live: Vec<bool> = (0..n)
            .map(|x| x != 3 && probes[r * 2..r * 2 + 2].contains(&(list_of[x] as u32)))
            .collect();
        check_row(
            &s[r * k..(r + 1) * k],
            &i[r * k..(r + 1) * k],
            &all[r],
            &live,
            &format!("row {r}"),
        );
    }
}

#[test]
fn bad_shapes_and_k_are_errors_naming_the_op_and_shapes() {
    let q = upload(&[2, 8], &[0.5; 16]);
    let v = upload(&[5, 8], &[0.5; 40]);
    for k in [0, KMAX + 1] {
        let err = topk::topk(ctx(), &q, &v, k).unwrap_err();
        assert!(matches!(err, Error::Shape { op: "topk", .. }), "{err}");
        assert!(err.to_string().contains(&format!("k = {k}")), "{err}");
    }
    let other = upload(&[5, 12], &[0.5; 60]);
    let err = topk::topk(ctx(), &q, &other, 3).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("topk") && msg.contains("[2, 8]") && msg.contains("[5, 12]"),
        "{msg}"
    );
    let odd = upload(&[2, 6], &[0.5; 12]);
    let odd_v = upload(&[5, 6], &[0.5; 30]);
    let err = topk::topk(ctx(), &odd, &odd_v, 3).unwrap_err();
    assert!(err.to_string().contains("multiple of 4"), "{err}");
}
