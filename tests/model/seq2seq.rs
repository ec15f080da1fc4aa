//! The encoder-decoder Transformer end to end, at CI size: it learns to reverse sequences, and
//! greedy decoding on the GPU reads back only the final ids.

use kiln::nn::{ResidualNorm, Seq2Seq, Seq2SeqConfig, Translator, BOS, EOS, PAD};
use kiln::ops::optim::AdamConfig;
use kiln::{Optimizer, ParamStore, Plan, PlanSpec, Schedule, Training};

use super::*;

const SYMBOLS: u32 = 8;
const LEN: usize = 6;

fn config() -> Seq2SeqConfig {
    Seq2SeqConfig {
        vocab: 3 + SYMBOLS as usize,
        d_model: 32,
        heads: 2,
        encoder_layers: 1,
        decoder_layers: 1,
        d_ff: 64,
        dropout: 0.0,
        norm: ResidualNorm::Pre,
        max_src: LEN,
        max_tgt: LEN + 1,
        label_smoothing: 0.0,
    }
}

/// Random sequences of LEN symbols (ids 3..) and their reverses, as padded model inputs.
fn batch(rng: &mut Rng, b: usize) -> (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>) {
    let (mut src, mut tgt_in, mut tgt_out) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..b {
        let seq: Vec<u32> = (0..LEN)
            .map(|_| 3 + rng.below(SYMBOLS as usize) as u32)
            .collect();
        let rev: Vec<u32> = seq.iter().rev().copied().collect();
        src.extend(&seq);
        tgt_in.push(BOS);
        tgt_in.extend(&rev);
        tgt_out.extend(&rev);
        tgt_out.push(EOS);
    }
    let mask = vec![1; src.len()];
    (src, mask, tgt_in, tgt_out)
}

#[test]
fn a_tiny_transformer_learns_to_reverse_and_decodes_greedily() {
    let cfg = config();
    let b = 32;
    let (g, _, vars) = Seq2Seq::training_graph(cfg, b).unwrap();
    let mut store = ParamStore::new(1);
    let spec = PlanSpec {
        watch: vec![vars.loss],
        training: Some(Training {
            schedule: Schedule::WarmupCosine {
                warmup: 20,
                total: 300,
                min_factor: 0.1,
            },
            ..Training::new(vars.loss, Optimizer::Adam(AdamConfig::adam(3e-3)))
        }),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let mut rng = Rng::new(7);
    for _ in 0..300 {
        let (src, mask, tgt_in, tgt_out) = batch(&mut rng, b);
        plan.set_input_u32(ctx(), "src", &src).unwrap();
        plan.set_input_u32(ctx(), "src_mask", &mask).unwrap();
        plan.set_input_u32(ctx(), "tgt_in", &tgt_in).unwrap();
        plan.set_input_u32(ctx(), "tgt_out", &tgt_out).unwrap();
        plan.step(ctx()).unwrap();
    }
    let losses = plan.flush_readings(ctx()).unwrap();
    let last = losses.last().unwrap().values[0][0];
    assert!(last < 0.05, "reverse loss after 300 steps: {last}");

    let mut translator = Translator::new(ctx(), cfg, 64, &mut store).unwrap();
    let (src, mask, _, tgt_out) = batch(&mut Rng::new(99), 64);
    let out = translator.translate(ctx(), &src, &mask).unwrap();
    let (mut right, mut total) = (0, 0);
    for (row, got) in out.iter().enumerate() {
        let want = &tgt_out[row * (LEN + 1)..row * (LEN + 1) + LEN];
        for (i, &w) in want.iter().enumerate() {
            total += 1;
            right += (got.get(i) == Some(&w)) as usize;
        }
        assert!(
            got.iter().all(|&t| t != PAD && t != BOS),
            "row {row}: {got:?}"
        );
    }
    let accuracy = right as f64 / total as f64;
    assert!(accuracy >= 0.99, "held-out token accuracy {accuracy}");
}
