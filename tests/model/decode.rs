//! Incremental decoding: a plan that appends one position per step to key-value caches must
//! give what the full-window plan gives, position by position, for both residual orders.

use kiln::nn::{pick_token, LmConfig, ResidualNorm, Sampler, Sampling};
use kiln::ParamStore;

use super::*;

fn config(norm: ResidualNorm) -> LmConfig {
    LmConfig {
        vocab: 13,
        d_model: 16,
        heads: 2,
        layers: 2,
        d_ff: 24,
        dropout: 0.0,
        norm,
        window: 12,
    }
}

fn assert_rows_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    // Both plans compute the same sums, but a one-row matmul may take another kernel than a
    // twelve-row one (other summation orders): each stage adds ~1e-7 relative on O(1)
    // values, a dozen stages ~1e-6; log-probabilities are O(3). 2e-5 is ten times that.
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 2e-5, "{what}: [{i}] {g} vs {w}");
    }
}

#[test]
fn cached_decoding_matches_the_full_window_at_every_position() {
    for norm in [ResidualNorm::Post, ResidualNorm::Pre] {
        let cfg = config(norm);
        let mut store = ParamStore::new(5);
        let mut full = Sampler::full_window(ctx(), cfg, &mut store).unwrap();
        let mut cached = Sampler::new(ctx(), cfg, &mut store).unwrap();
        let mut rng = Rng::new(9);
        let text: Vec<u32> = (0..cfg.window).map(|_| rng.below(13) as u32).collect();
        for len in 1..=cfg.window {
            let context = &text[..len];
            let want = full.logprobs_after(ctx(), context).unwrap();
            let got = cached.logprobs_after(ctx(), context).unwrap();
            assert_rows_close(&got, &want, &format!("{norm:?} after {len} tokens"));
            let total: f64 = got.iter().map(|&l| (l as f64).exp()).sum();
            assert!((total - 1.0).abs() < 1e-5, "probabilities sum to {total}");
        }
        // Past the window the cache restarts from the last half window, which is what the
        // full plan sees when given exactly those tokens.
        let long: Vec<u32> = (0..20).map(|i| (i * 7 % 13) as u32).collect();
        let want = full
            .logprobs_after(ctx(), &long[long.len() - cfg.window / 2..])
            .unwrap();
        let got = cached.logprobs_after(ctx(), &long).unwrap();
        assert_rows_close(&got, &want, &format!("{norm:?} restarted cache"));
    }
}

#[test]
fn greedy_generation_is_the_same_with_and_without_the_cache() {
    let cfg = config(ResidualNorm::Pre);
    let mut store = ParamStore::new(6);
    let greedy = Sampling {
        top_k: Some(1),
        ..Default::default()
    };
    let prompt = [3, 1, 4];
    let count = cfg.window - prompt.len();
    let mut full = Sampler::full_window(ctx(), cfg, &mut store).unwrap();
    let want = full.generate(ctx(), &prompt, count, &greedy).unwrap();
    let mut cached = Sampler::new(ctx(), cfg, &mut store).unwrap();
    let got = cached.generate(ctx(), &prompt, count, &greedy).unwrap();
    assert_eq!(got, want);
    assert_eq!(got.len(), count);
    // Sampling is seeded: the same seed, the same text; past the window it goes on.
    let warm = Sampling {
        temperature: 0.9,
        top_p: Some(0.9),
        seed: 4,
        ..Default::default()
    };
    let a = cached.generate(ctx(), &prompt, 30, &warm).unwrap();
    let b = cached.generate(ctx(), &prompt, 30, &warm).unwrap();
    assert_eq!(a, b);
    assert!(a.iter().all(|&t| (t as usize) < cfg.vocab));
}

#[test]
fn bad_sampling_requests_are_errors() {
    let cfg = config(ResidualNorm::Post);
    let mut store = ParamStore::new(7);
    let mut s = Sampler::new(ctx(), cfg, &mut store).unwrap();
    let cold = Sampling {
        temperature: 0.0,
        ..Default::default()
    };
    assert!(s.generate(ctx(), &[1], 3, &cold).is_err());
    assert!(s.generate(ctx(), &[], 3, &Sampling::default()).is_err());
    let err = s
        .generate(ctx(), &[99], 3, &Sampling::default())
        .unwrap_err();
    assert!(err.to_string().contains("99"), "{err}");
}

#[test]
fn top_k_and_top_p_keep_only_the_likely_tokens() {
    // log-probabilities of 0.5, 0.3, 0.15, 0.05.
    let lp: Vec<f32> = [0.5f32, 0.3, 0.15, 0.05].iter().map(|p| p.ln()).collect();
    let picks = |s: &Sampling| -> Vec<u32> {
        (0..200)
            .map(|i| pick_token(&lp, s, (i as f64 + 0.5) / 200.0))
            .collect()
    };
    let seen = |v: &[u32]| {
        let mut ids: Vec<u32> = v.to_vec();
        ids.sort();
        ids.dedup();
        ids
    };
    assert_eq!(seen(&picks(&Sampling::default())), [0, 1, 2, 3]);
    let k2 = Sampling {
        top_k: Some(2),
        ..Default::default()
    };
    assert_eq!(seen(&picks(&k2)), [0, 1]);
    // p = 0.79 keeps 0.5 + 0.3; p = 0.81 needs the third (0.8 itself would be decided by the
    // rounding of exp(ln 0.3)).
    let p8 = Sampling {
        top_p: Some(0.79),
        ..Default::default()
    };
    assert_eq!(seen(&picks(&p8)), [0, 1]);
    let p81 = Sampling {
        top_p: Some(0.81),
        ..Default::default()
    };
    assert_eq!(seen(&picks(&p81)), [0, 1, 2]);
    // Evenly spread draws at temperature 1 land in proportion: 100 of 200 on token 0.
    let zeros = picks(&Sampling::default())
        .iter()
        .filter(|&&t| t == 0)
        .count();
    assert_eq!(zeros, 100);
}
