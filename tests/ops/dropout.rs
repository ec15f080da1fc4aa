//! dropout: the mask against a plain-Rust rendering of the shader's documented hash, the kept
//! values, statistics of the mask (rate, independence across steps, salts and neighbours), and
//! the backward against finite differences with the mask held fixed.

use super::*;
use kiln::kernels::run;
use kiln::ops::dropout;
use kiln::{DType, Tensor};

/// Wellons' lowbias32, as documented in the shader header.
fn lowbias32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// Reference keep decision: hash(seed_lo, seed_hi, step, salt, i) >= p·2^32.
fn keep(seed: [u32; 4], salt: u32, p: f64, i: usize) -> bool {
    let mut k = lowbias32(seed[0]);
    k = lowbias32(k ^ seed[1]);
    k = lowbias32(k ^ seed[2]);
    k = lowbias32(k ^ salt);
    let k2 = lowbias32(k ^ 0x9e37_79b9);
    let h = lowbias32(lowbias32(i as u32 ^ k) ^ k2);
    h as f64 >= (p * 4294967296.0).round()
}

/// f64 reference forward.
fn reference(x: &[f64], seed: [u32; 4], salt: u32, p: f64) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            if keep(seed, salt, p, i) {
                v / (1.0 - p)
            } else {
                0.0
            }
        })
        .collect()
}

fn seed_tensor(seed: u64, step: u32) -> Tensor {
    upload_u32(&[4], &dropout::seed_words(seed, step))
}

fn run_dropout(x: &Tensor, seed: &Tensor, p: f32, salt: u32) -> Vec<f32> {
    download(&dropout::dropout(ctx(), x, seed, p, salt).unwrap())
}

/// Values in [0.5, 1.5): never zero, so a zero output always means "dropped".
fn nonzero(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform(0.5, 1.5) as f32).collect()
}

/// Five standard deviations of the mean of `n` Bernoulli(q) draws.
fn five_sigma(q: f64, n: usize) -> f64 {
    5.0 * (q * (1.0 - q) / n as f64).sqrt()
}

// Tolerance for kept values: the host rounds 1/(1-p) to f32 (relative error <= 2^-24) and the
// kernel rounds x·scale once more (<= 2^-24), so |y - x/(1-p)| <= 2^-23·|x/(1-p)| (to first
// order); rtol = 2^-23, atol 0 (dropped values must be exactly 0).
const RTOL: f64 = 1.0 / 8388608.0;

#[test]
fn p_zero_is_the_identity() {
    let mut rng = Rng::new(41);
    let x = rng.vec(4099);
    let y = run_dropout(&upload(&[4099], &x), &seed_tensor(7, 1), 0.0, 3);
    assert_eq!(y, x);
    let y = run_dropout(&upload(&[4096], &x[..4096]), &seed_tensor(7, 1), 0.0, 3);
    assert_eq!(y, &x[..4096]);
}

#[test]
fn forward_matches_reference_mask_and_values() {
    let mut rng = Rng::new(42);
    // Lengths that are multiples of 4 take the vec4 kernel, the others the scalar one.
    for &n in &[1usize, 3, 4, 7, 33, 36, 65, 129, 4099, 4100, 65_540] {
        for &p in &[0.1f32, 0.5, 0.9] {
            let x = rng.vec(n);
            let seed = [rng.next_u64() as u32, rng.next_u64() as u32, 5, 0];
            let salt = rng.next_u64() as u32;
            let y = run_dropout(&upload(&[n], &x), &upload_u32(&[4], &seed), p, salt);
            let want = reference(&f64s(&x), seed, salt, p as f64);
            // Every output is either exactly 0 (dropped) or x/(1-p) within RTOL.
            assert_close(&y, &want, 0.0, RTOL, &format!("dropout n={n} p={p}"));
        }
    }
}

#[test]
fn kept_fraction_matches_one_minus_p() {
    let mut rng = Rng::new(43);
    for (n, p) in [
        (100_003, 0.1f32),
        (100_003, 0.5),
        (100_000, 0.1),
        (100_000, 0.5),
    ] {
        let x = upload(&[n], &nonzero(&mut rng, n));
        let y = run_dropout(&x, &seed_tensor(0x1234_5678_9abc, 1), p, 11);
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
        let q = 1.0 - p as f64;
        // Kept flags are Bernoulli(1-p); the mean of n of them is within 5σ except with
        // probability below 1e-6.
        assert!(
            (kept - q).abs() <= five_sigma(q, n),
            "p={p}: kept {kept}, want {q} ± {}",
            five_sigma(q, n)
        );
    }
}

#[test]
fn backward_uses_the_forward_mask() {
    for n in [10_007, 10_008] {
        backward_mask_case(n);
    }
}

fn backward_mask_case(n: usize) {
    let mut rng = Rng::new(44);
    let x = nonzero(&mut rng, n);
    let dy = nonzero(&mut rng, n);
    let seed = seed_tensor(99, 17);
    let p = 0.3;
    let y = run_dropout(&upload(&[n], &x), &seed, p, 5);
    let dx = download(&dropout::dropout_backward(ctx(), &upload(&[n], &dy), &seed, p, 5).unwrap());
    let mut kept = 0;
    for i in 0..n {
        assert_eq!(y[i] == 0.0, dx[i] == 0.0, "mask differs at {i}");
        if y[i] != 0.0 {
            kept += 1;
            // Both are the input times the same f32 scale: y/x and dx/dy agree to 2 roundings.
            let (sy, sdx) = (y[i] as f64 / x[i] as f64, dx[i] as f64 / dy[i] as f64);
            assert!(
                (sy - sdx).abs() <= 4.0 * RTOL * sy,
                "scale at {i}: {sy} vs {sdx}"
            );
        }
    }
    assert!(kept > 0 && kept < n);
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(45);
    let seed = [rng.next_u64() as u32, rng.next_u64() as u32, 3, 0];
    for &(n, p) in &[(1usize, 0.5f32), (33, 0.25), (36, 0.4), (129, 0.6)] {
        let x = rng.vec(n);
        // Loss ⟨y, w⟩ with a random w.
        let w = f64s(&rng.vec(n));
        let dy: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let dx =
            dropout::dropout_backward(ctx(), &upload(&[n], &dy), &upload_u32(&[4], &seed), p, 9)
                .unwrap();
        let want = numeric_grad(&f64s(&x), |xs| dot(&reference(xs, seed, 9, p as f64), &w));
        // The loss is linear, so the FD is exact to ~1e-10; the kernel's dy·scale is within
        // RTOL of w/(1-p); atol 1e-9 absorbs the FD rounding of dropped (zero) entries.
        assert_close(
            &download(&dx),
            &want,
            1e-9,
            RTOL + 1e-9,
            &format!("dx n={n}"),
        );
    }
}

#[test]
fn step_and_salt_change_the_mask() {
    for n in [100_003, 100_000] {
        step_and_salt_case(n);
    }
}

fn step_and_salt_case(n: usize) {
    let mut rng = Rng::new(46);
    let x = upload(&[n], &nonzero(&mut rng, n));
    let p = 0.3f32;
    let seed = seed_tensor(2024, 1);
    // One prepared dispatch, the seed tensor rewritten between submissions, as a trainer does.
    let y = Tensor::zeros(ctx(), &[n], DType::F32).unwrap();
    let d = dropout::forward(ctx(), &x, &seed, p, 1, &y).unwrap();
    run(ctx(), std::slice::from_ref(&d)).unwrap();
    let base = download(&y);
    seed.write_u32(ctx(), &dropout::seed_words(2024, 2))
        .unwrap();
    run(ctx(), &[d]).unwrap();
    let next_step = download(&y);
    let other_salt = run_dropout(&x, &seed_tensor(2024, 1), p, 2);
    let other_seed = run_dropout(&x, &seed_tensor(2025, 1), p, 1);
    let pf = p as f64;
    // Independent masks agree where both keep or both drop: q = p² + (1-p)².
    let q = pf * pf + (1.0 - pf) * (1.0 - pf);
    for (what, other) in [
        ("step", &next_step),
        ("salt", &other_salt),
        ("seed", &other_seed),
    ] {
        let agree = base
            .iter()
            .zip(other.iter())
            .filter(|(a, b)| (**a == 0.0) == (**b == 0.0))
            .count() as f64
            / n as f64;
        assert!(
            (agree - q).abs() <= five_sigma(q, n),
            "{what}: agreement {agree}, want {q} ± {}",
            five_sigma(q, n)
        );
    }
}

#[test]
fn same_seed_is_bitwise_reproducible() {
    let mut rng = Rng::new(47);
    for n in [65_537, 65_540] {
        let x = upload(&[n], &rng.vec(n));
        let a = run_dropout(&x, &seed_tensor(5, 5), 0.5, 0);
        let b = run_dropout(&x, &seed_tensor(5, 5), 0.5, 0);
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn neighbouring_indices_are_uncorrelated() {
    let mut rng = Rng::new(48);
    for (n, p) in [
        (200_003, 0.1f32),
        (200_003, 0.5),
        (200_000, 0.1),
        (200_000, 0.5),
    ] {
        let x = upload(&[n], &nonzero(&mut rng, n));
        let y = run_dropout(&x, &seed_tensor(77, 3), p, 4);
        let kept: Vec<bool> = y.iter().map(|&v| v != 0.0).collect();
        let q = (1.0 - p as f64).powi(2);
        // Disjoint pairs (i, i + lag), i in the even blocks of length lag, so the pair flags
        // are independent Bernoulli((1-p)²) draws if the mask has no lag correlation.
        for &lag in &[1usize, 2, 3, 8, 256, 4096] {
            let pairs: Vec<usize> = (0..n - lag).filter(|i| (i / lag) % 2 == 0).collect();
            let both = pairs.iter().filter(|&&i| kept[i] && kept[i + lag]).count() as f64
                / pairs.len() as f64;
            assert!(
                (both - q).abs() <= five_sigma(q, pairs.len()),
                "p={p} lag {lag}: P(both kept) {both}, want {q} ± {}",
                five_sigma(q, pairs.len())
            );
        }
    }
}

#[test]
fn bad_p_and_shapes_are_errors() {
    let x = upload(&[3, 7], &[1.0; 21]);
    let seed = seed_tensor(1, 1);
    for p in [1.0f32, -0.1, 1.5, f32::NAN] {
        let err = dropout::dropout(ctx(), &x, &seed, p, 0).unwrap_err();
        assert!(matches!(err, kiln::Error::Unsupported(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("dropout") && msg.contains(" p "), "{msg}");
    }
    let y = Tensor::zeros(ctx(), &[7, 3], DType::F32).unwrap();
    let err = dropout::forward(ctx(), &x, &seed, 0.5, 0, &y)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dropout") && err.contains("[3, 7]") && err.contains("[7, 3]"),
        "{err}"
    );
    let bad_seed = upload_u32(&[3], &[1, 2, 3]);
    let y = Tensor::zeros(ctx(), &[3, 7], DType::F32).unwrap();
    let err = dropout::backward(ctx(), &x, &bad_seed, 0.5, 0, &y)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dropout_backward") && err.contains("[3]"),
        "{err}"
    );
    let f32_seed = upload(&[4], &[0.0; 4]);
    let err = dropout::forward(ctx(), &x, &f32_seed, 0.5, 0, &y).unwrap_err();
    assert!(matches!(err, kiln::Error::DType { .. }), "{err}");
}
