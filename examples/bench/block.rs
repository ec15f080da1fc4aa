//! A training step of one pre-norm Transformer block through the graph and planner:
//! `x [32, 64, 128] -> x + MHA(LN(x), causal, 4 heads) -> + FFN(LN(.), 512) -> MSE to a target`,
//! Adam on every parameter.
//!
//! Figures: steps/s; dispatches per step; the CPU time of recording one step against the whole
//! step (the planner's promise: recording is a small share); the plan's pooled bytes against one
//! buffer per intermediate; the one-off compile time.

use std::time::Instant;

use kiln::nn::{residual, FeedForward, LayerNorm, MultiHeadAttention, ResidualNorm};
use kiln::optim::AdamConfig;
use kiln::{Context, DType, Graph, Optimizer, ParamStore, Plan, PlanSpec, Result, Training};

use crate::figure::{print_by_kernel, Figure};

const B: usize = 32;
const T: usize = 64;
const D: usize = 128;
const HEADS: usize = 4;
const D_FF: usize = 512;
const STEPS: usize = 5;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs the block case.
pub fn run(ctx: &Context) -> Result<Vec<Figure>> {
    let mut g = Graph::new();
    let x = g.input("x", &[B, T, D], DType::F32)?;
    let target = g.input("target", &[B, T, D], DType::F32)?;
    let attn = MultiHeadAttention::new(&mut g, "block.attn", D, HEADS)?;
    let ln1 = LayerNorm::new(&mut g, "block.ln1", D)?;
    let ff = FeedForward::new(&mut g, "block.ff", D, D_FF)?;
    let ln2 = LayerNorm::new(&mut g, "block.ln2", D)?;
    let h = residual(&mut g, x, &ln1, ResidualNorm::Pre, |g, n| {
        attn.forward(g, n, n, None, true)
    })?;
    let y = residual(&mut g, h, &ln2, ResidualNorm::Pre, |g, n| ff.forward(g, n))?;
    let neg = g.scale(target, -1.0, 0.0)?;
    let diff = g.add(y, neg)?;
    let sq = g.mul(diff, diff)?;
    let loss = g.mean_all(sq)?;

    let mut store = ParamStore::new(0);
    let spec = PlanSpec {
        watch: vec![loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-3)))),
        ..Default::default()
    };
    let t = Instant::now();
    let mut plan = Plan::compile(ctx, &g, &mut store, &spec)?;
    let compile_s = t.elapsed().as_secs_f64();
    let mut state = 1u64;
    let mut noise = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    };
    plan.set_input_f32(ctx, "x", &noise(B * T * D))?;
    plan.set_input_f32(ctx, "target", &noise(B * T * D))?;
    // Warm-up: first-use costs (driver-side shader compilation) stay out of the figures.
    plan.step(ctx)?;
    ctx.wait(None)?;

    let t = Instant::now();
    for _ in 0..STEPS {
        plan.step(ctx)?;
    }
    ctx.wait(None)?;
    let step_s = t.elapsed().as_secs_f64() / STEPS as f64;
    let losses = plan.flush_readings(ctx)?;

    // Recording alone: the CPU cost of one step's encoder, never submitted.
    let mut record_s = f64::MAX;
    for _ in 0..5 {
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        let t = Instant::now();
        plan.record(ctx, &mut encoder)?;
        let _commands = encoder.finish();
        record_s = record_s.min(t.elapsed().as_secs_f64());
    }
    // Where the step's time goes, by kernel.
    print_by_kernel("block: one step", &plan.profile(ctx)?, 8);
    let s = plan.stats();
    let shape = format!("B{B} T{T} D{D} H{HEADS}");
    println!(
        "block: {} dispatches/step, loss {:.4} -> {:.4} over {} steps",
        s.dispatches,
        losses.first().map_or(f32::NAN, |r| r.values[0][0]),
        losses.last().map_or(f32::NAN, |r| r.values[0][0]),
        losses.len()
    );
    Ok(vec![
        Figure {
            name: "block_train_steps".into(),
            shape: shape.clone(),
            kiln: 1.0 / step_s,
            unit: "steps/s",
            baseline: None,
            baseline_name: String::new(),
            higher_is_better: true,
        },
        Figure {
            name: "block_dispatches".into(),
            shape: shape.clone(),
            kiln: s.dispatches as f64,
            unit: "per step",
            baseline: None,
            baseline_name: String::new(),
            higher_is_better: false,
        },
        Figure {
            name: "block_record_cpu".into(),
            shape: shape.clone(),
            kiln: record_s * 1e3,
            unit: "ms",
            baseline: Some(step_s * 1e3),
            baseline_name: "the whole step (ratio = step / record)".into(),
            higher_is_better: false,
        },
        Figure {
            name: "block_memory".into(),
            shape: shape.clone(),
            kiln: mib(s.peak_bytes),
            unit: "MiB",
            baseline: Some(mib(s.naive_bytes)),
            baseline_name: "one buffer per intermediate".into(),
            higher_is_better: false,
        },
        Figure {
            name: "block_compile".into(),
            shape,
            kiln: compile_s * 1e3,
            unit: "ms",
            baseline: None,
            baseline_name: String::new(),
            higher_is_better: false,
        },
    ])
}
