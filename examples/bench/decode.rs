//! Decoding a language model token by token: the key-value-cached plan (one position per
//! token) against the full-window plan (the whole window re-run per token), both through
//! `Sampler` with greedy picks, at a few generation lengths. The window is the longest
//! length, so the full plan always runs T positions; the figures are tokens/s, each the best
//! of two runs after a warm-up run (driver-side compilation stays out).
//!
//! Model: 2 layers, D 128, 4 heads, FFN 512, vocabulary 128, window 256, batch 1.

use std::time::Instant;

use kiln::nn::{LmConfig, ResidualNorm, Sampler, Sampling};
use kiln::{Context, ParamStore, Result};

use crate::figure::Figure;

const LENGTHS: [usize; 3] = [16, 64, 255];

fn tokens_per_s(ctx: &Context, sampler: &mut Sampler, count: usize) -> Result<f64> {
    let greedy = Sampling {
        top_k: Some(1),
        ..Default::default()
    };
    let mut best = f64::MAX;
    for _ in 0..2 {
        let t = Instant::now();
        let out = sampler.generate(ctx, &[1], count, &greedy)?;
        best = best.min(t.elapsed().as_secs_f64() / out.len().max(1) as f64);
    }
    Ok(1.0 / best)
}

/// Runs the decoding cases.
pub fn run(ctx: &Context) -> Result<Vec<Figure>> {
    let cfg = LmConfig {
        vocab: 128,
        d_model: 128,
        heads: 4,
        layers: 2,
        d_ff: 512,
        dropout: 0.0,
        norm: ResidualNorm::Pre,
        window: 256,
    };
    let mut store = ParamStore::new(3);
    let mut cached = Sampler::new(ctx, cfg, &mut store)?;
    let mut full = Sampler::full_window(ctx, cfg, &mut store)?;
    let greedy = Sampling {
        top_k: Some(1),
        ..Default::default()
    };
    cached.generate(ctx, &[1], 4, &greedy)?;
    full.generate(ctx, &[1], 4, &greedy)?;
    let mut figures = Vec::new();
    for count in LENGTHS {
        let with = tokens_per_s(ctx, &mut cached, count)?;
        let without = tokens_per_s(ctx, &mut full, count)?;
        figures.push(Figure {
            name: "lm_decode".into(),
            shape: format!("{count} new, T256 D128 L2"),
            kiln: with,
            unit: "tokens/s",
            baseline: Some(without),
            baseline_name: "re-running the full window".into(),
            higher_is_better: true,
        });
    }
    Ok(figures)
}
