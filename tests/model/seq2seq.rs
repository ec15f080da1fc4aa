//! The encoder-decoder Transformer end to end, at CI size: it learns to reverse sequences, and
//! greedy decoding on the GPU reads back only the final ids.

use kiln::nn::{ResidualNorm, Seq2Seq, Seq2SeqConfig, Translator, BOS, EOS, PAD};
use kiln::optim::AdamConfig;
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
        tie_embeddings: false,
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
    learns_to_reverse(config());
}

/// With the output projection tied to the embedding (one `[V, D]` matrix read by the lookup
/// and, transposed, by the logits; its gradient the sum of both uses), the same task is
/// learned to the same bars, and no separate projection exists.
#[test]
fn a_transformer_with_tied_embeddings_learns_to_reverse() {
    let cfg = Seq2SeqConfig {
        tie_embeddings: true,
        ..config()
    };
    let (g, _, _) = Seq2Seq::training_graph(cfg, 4).unwrap();
    let names: Vec<String> = g.params().iter().map(|(n, _)| n.clone()).collect();
    assert!(names.iter().any(|n| n == "generator.bias"), "{names:?}");
    assert!(!names.iter().any(|n| n == "generator.weight"), "{names:?}");
    learns_to_reverse(cfg);
}

fn learns_to_reverse(cfg: Seq2SeqConfig) {
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

    // The key-value-cached decoder gives exactly what re-running the whole decoder gives.
    let mut full = Translator::full_window(ctx(), cfg, 64, &mut store).unwrap();
    assert_eq!(full.translate(ctx(), &src, &mask).unwrap(), out);
    // Beam search (4 beams, batch 4) on the first rows: at least as right as greedy here,
    // where greedy is already right, so the same answers.
    let mut beam = Translator::new(ctx(), cfg, 4, &mut store).unwrap();
    for row in 0..6 {
        let real = mask[row * LEN..(row + 1) * LEN]
            .iter()
            .filter(|&&m| m != 0)
            .count();
        let source = &src[row * LEN..row * LEN + real];
        let got = beam.translate_beam(ctx(), source, 1.0).unwrap();
        assert_eq!(got, out[row], "beam vs greedy, row {row}");
    }
}

/// Runs `steps` reverse-task steps on `plan` with batches from `rng`; returns the losses' bits.
fn run_steps(plan: &mut Plan, rng: &mut Rng, steps: usize) -> Vec<u32> {
    for _ in 0..steps {
        let (src, mask, tgt_in, tgt_out) = batch(rng, 8);
        plan.set_input_u32(ctx(), "src", &src).unwrap();
        plan.set_input_u32(ctx(), "src_mask", &mask).unwrap();
        plan.set_input_u32(ctx(), "tgt_in", &tgt_in).unwrap();
        plan.set_input_u32(ctx(), "tgt_out", &tgt_out).unwrap();
        plan.step(ctx()).unwrap();
    }
    plan.flush_readings(ctx())
        .unwrap()
        .iter()
        .map(|r| r.values[0][0].to_bits())
        .collect()
}

#[test]
fn resuming_from_a_checkpoint_continues_the_run_exactly() {
    let cfg = Seq2SeqConfig {
        dropout: 0.1,
        ..config()
    };
    let (g, _, vars) = Seq2Seq::training_graph(cfg, 8).unwrap();
    let spec = PlanSpec {
        watch: vec![vars.loss],
        training: Some(Training {
            schedule: Schedule::noam(cfg.d_model, 10).1,
            ..Training::new(vars.loss, Optimizer::Adam(AdamConfig::adam(1e-2)))
        }),
        seed: 3,
        ..Default::default()
    };
    // Straight through: 6 steps.
    let mut store = ParamStore::new(4);
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let straight = run_steps(&mut plan, &mut Rng::new(5), 6);

    // 3 steps, a checkpoint, a fresh store and plan restored from it, 3 more steps.
    let dir = std::env::temp_dir().join(format!("kiln-resume-{}", std::process::id()));
    let mut store = ParamStore::new(4);
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let mut rng = Rng::new(5);
    let mut resumed = run_steps(&mut plan, &mut rng, 3);
    kiln::io::checkpoint::save(
        ctx(),
        &dir,
        &store,
        &plan.optimizer_state(),
        plan.step_count(),
        &Default::default(),
    )
    .unwrap();
    let ck = kiln::io::checkpoint::load(&dir).unwrap();
    let mut fresh_store = ParamStore::new(999);
    let mut fresh = Plan::compile(ctx(), &g, &mut fresh_store, &spec).unwrap();
    let unused =
        kiln::io::checkpoint::restore(ctx(), &ck, &mut fresh_store, &fresh.optimizer_state())
            .unwrap();
    assert!(unused.is_empty(), "{unused:?}");
    fresh.set_step_count(ck.step().unwrap());
    resumed.extend(run_steps(&mut fresh, &mut rng, 3));
    let _ = std::fs::remove_dir_all(&dir);
    // Parameters, Adam's moments, the schedule's step and dropout's step-keyed masks all carry
    // over, so the losses match bit for bit.
    assert_eq!(straight, resumed);
}
