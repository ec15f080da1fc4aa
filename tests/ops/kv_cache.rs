//! kv_append: the new keys and values land at each row's position, nothing else changes, and
//! the mask shows exactly the positions up to it. A copy, so everything is compared exactly.

use super::*;
use kiln::ops::kv_cache;

#[test]
fn appends_at_each_rows_position_and_masks_the_rest() {
    let mut rng = Rng::new(21);
    // T = 7 and D = 12 (3 heads of 4): the grid spans max(T, D), so both branches are tested
    // on rows where the other one is shorter; a second case has T > D.
    for &(b, h, t, dh) in &[(3, 3, 7, 4), (2, 1, 33, 3)] {
        let d = h * dh;
        let old_k = rng.vec(b * h * t * dh);
        let old_v = rng.vec(b * h * t * dh);
        let (k, v) = (rng.vec(b * d), rng.vec(b * d));
        // Row 0 at the start, the last row at the end, the others in between.
        let pos: Vec<u32> = (0..b)
            .map(|r| ((t - 1) * r / (b - 1).max(1)) as u32)
            .collect();
        let keys = upload(&[b, h, t, dh], &old_k);
        let values = upload(&[b, h, t, dh], &old_v);
        let mask = kv_cache::kv_append(
            ctx(),
            [&keys, &values],
            [&upload(&[b, 1, d], &k), &upload(&[b, 1, d], &v)],
            &upload_u32(&[b], &pos),
        )
        .unwrap();
        let (mut want_k, mut want_v) = (old_k.clone(), old_v.clone());
        let mut want_mask = vec![0u32; b * t];
        for r in 0..b {
            let p = pos[r] as usize;
            for e in 0..d {
                let at = ((r * h + e / dh) * t + p) * dh + e % dh;
                want_k[at] = k[r * d + e];
                want_v[at] = v[r * d + e];
            }
            for (s, m) in want_mask[r * t..(r + 1) * t].iter_mut().enumerate() {
                *m = (s <= p) as u32;
            }
        }
        assert_eq!(download(&keys), want_k, "keys {b}x{h}x{t}x{dh}");
        assert_eq!(download(&values), want_v, "values {b}x{h}x{t}x{dh}");
        assert_eq!(mask.to_vec_u32(ctx()).unwrap(), want_mask, "mask");
    }
}

#[test]
fn a_mismatched_cache_is_named_with_its_shapes() {
    let keys = upload(&[1, 2, 4, 3], &[0.0; 24]);
    let new = upload(&[1, 1, 5], &[0.0; 5]);
    let err = kv_cache::kv_append(ctx(), [&keys, &keys], [&new, &new], &upload_u32(&[1], &[0]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("kv_append") && err.contains("[1, 2, 4, 3]") && err.contains("[1, 1, 5]"),
        "{err}"
    );
}
