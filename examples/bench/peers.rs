//! The peer's workloads: the two training steps `../shared/peers/burn-bench` runs on Burn's
//! wgpu backend, built the same way in kiln, so that one sitting can alternate the two.
//!
//! - `peers_lm`: a causal LM, token + learned position embeddings (vocab 64, width 128), two
//!   post-norm encoder layers (4 heads, feed-forward 512, GELU, no dropout), a linear head,
//!   mean cross-entropy, Adam 1e-3; batch 32 x 64 tokens.
//! - `peers_dcgan`: one discriminator step and one generator step of the DCGAN in
//!   [`kiln::nn::dcgan`] at 3x32x32, latent 100, widths 64 (G 100-256-128-64-3,
//!   D 3-64-128-256-1), BCE with logits, Adam 2e-4 β1 0.5; batch 64.
//!
//! Each is timed as Burn's loop runs it, with the loss read back after every step (a sync
//! point, `synced`), and also pipelined as kiln's trainer runs it (`pipelined`: readings
//! arrive through the plan's ring, the CPU never waits). Also printed: the first step from
//! process start (cold: shader compilation, the matmul race unless its result is in the tuning
//! file), and the process's peak resident memory. Figures are medians over the timed steps.

use std::time::Instant;

use kiln::gan::{Gan, GanConfig, GanLoss};
use kiln::nn::{DcganConfig, Embedding, EncoderLayer, Linear, ResidualNorm, TransformerOptions};
use kiln::ops::elementwise::Activation;
use kiln::{
    AdamConfig, Context, DType, Graph, Optimizer, ParamStore, Plan, PlanSpec, Result, Training,
};

use crate::figure::{print_by_kernel, Figure};

/// Steps before timing (after the first), and steps timed, per workload.
const WARM_STEPS: usize = 3;
const LM_STEPS: usize = 20;
const DCGAN_STEPS: usize = 8;

/// A deterministic stream of values in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The process's peak resident memory in MiB (Linux: `VmHWM`), if the system says.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn figure(
    name: &str,
    shape: &str,
    kiln: f64,
    unit: &'static str,
    higher_is_better: bool,
) -> Figure {
    Figure {
        name: name.into(),
        shape: shape.into(),
        kiln,
        unit,
        baseline: None,
        baseline_name: String::new(),
        higher_is_better,
    }
}

/// What [`time_steps`] reports on.
struct Workload {
    /// Figure names start with this.
    prefix: &'static str,
    shape: String,
    /// Items per step (tokens, images) and the rate's unit.
    items: f64,
    rate_unit: &'static str,
    /// Steps timed.
    steps: usize,
    /// Seconds from process start to the compiled plan (pipelines made, nothing run yet).
    ready: f64,
}

/// Times a workload as the peer does: the first `synced` step from process start, warm-up
/// steps, then the median of timed ones; then as many `pipelined` steps, whose losses `drain`
/// returns at the end. Returns the figures, printing each.
fn time_steps(
    w: &Workload,
    process_start: Instant,
    mut synced: impl FnMut() -> Result<f32>,
    mut pipelined: impl FnMut() -> Result<()>,
    mut drain: impl FnMut() -> Result<Vec<f32>>,
) -> Result<Vec<Figure>> {
    let first_loss = synced()?;
    let first_step = process_start.elapsed().as_secs_f64();
    for _ in 0..WARM_STEPS {
        synced()?;
    }
    let (prefix, shape, steps) = (w.prefix, w.shape.as_str(), w.steps);
    let mut times = Vec::with_capacity(steps);
    let mut last_loss = first_loss;
    for _ in 0..steps {
        let t = Instant::now();
        last_loss = synced()?;
        times.push(t.elapsed().as_secs_f64());
    }
    let synced_ms = median(times) * 1e3;
    let t = Instant::now();
    for _ in 0..steps {
        pipelined()?;
    }
    let losses = drain()?;
    let pipelined_ms = t.elapsed().as_secs_f64() * 1e3 / steps as f64;
    if losses.len() != steps || losses.iter().any(|l| !l.is_finite()) {
        return Err(kiln::Error::Unsupported(format!(
            "{prefix}: {} of {steps} pipelined losses came back, finite: {}",
            losses.len(),
            losses.iter().all(|l| l.is_finite())
        )));
    }
    println!(
        "{prefix}: loss {first_loss:.4} -> {last_loss:.4} -> {:.4} (pipelined)",
        losses.last().copied().unwrap_or(f32::NAN)
    );
    let mut figures = vec![
        figure(
            &format!("{prefix}_step_synced"),
            shape,
            synced_ms,
            "ms",
            false,
        ),
        figure(
            &format!("{prefix}_step_pipelined"),
            shape,
            pipelined_ms,
            "ms",
            false,
        ),
        figure(
            &format!("{prefix}_rate_synced"),
            shape,
            w.items * 1e3 / synced_ms,
            w.rate_unit,
            true,
        ),
        figure(&format!("{prefix}_plan_ready"), shape, w.ready, "s", false),
        figure(
            &format!("{prefix}_first_step"),
            shape,
            first_step,
            "s",
            false,
        ),
    ];
    if let Some(mib) = peak_rss_mib() {
        figures.push(figure(
            &format!("{prefix}_peak_rss"),
            shape,
            mib,
            "MiB",
            false,
        ));
    }
    for f in &figures {
        println!("{}", f.line());
    }
    Ok(figures)
}

/// The LM step.
/// With `profile_first`, the first two steps run one dispatch at a time and print where their
/// time went by kernel: on a CPU driver that compiles each pipeline at its first dispatch, the
/// first is the cold start's breakdown, the second a warm step's.
pub fn run_lm(ctx: &Context, process_start: Instant, profile_first: bool) -> Result<Vec<Figure>> {
    let (batch, seq, vocab, d, heads, layers, d_ff) = (32, 64, 64, 128, 4, 2, 512);
    let mut g = Graph::new();
    let tokens = g.input("tokens", &[batch, seq], DType::U32)?;
    let positions = g.input("positions", &[batch, seq], DType::U32)?;
    let targets = g.input("targets", &[batch, seq], DType::U32)?;
    let opts = TransformerOptions {
        norm: ResidualNorm::Post,
        activation: Activation::GeluErf,
        dropout: 0.0,
        ..Default::default()
    };
    let token_embedding = Embedding::new(&mut g, "tok", vocab, d)?;
    let position_embedding = Embedding::new(&mut g, "pos", seq, d)?;
    let blocks = (0..layers)
        .map(|i| EncoderLayer::new(&mut g, &format!("layers.{i}"), d, heads, d_ff, opts))
        .collect::<Result<Vec<_>>>()?;
    let head = Linear::new(&mut g, "head", d, vocab)?;
    let t = token_embedding.forward(&mut g, tokens)?;
    let p = position_embedding.forward(&mut g, positions)?;
    let mut x = g.add(t, p)?;
    for block in &blocks {
        x = block.forward(&mut g, x, None, true)?;
    }
    let logits = head.forward(&mut g, x)?;
    let loss = g.cross_entropy(logits, targets, Default::default())?;

    let mut store = ParamStore::new(0);
    let spec = PlanSpec {
        watch: vec![loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-3)))),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx, &g, &mut store, &spec)?;
    let ready = process_start.elapsed().as_secs_f64();
    let mut rng = Lcg(7);
    let mut ids = |n: usize| -> Vec<u32> {
        (0..n)
            .map(|_| ((rng.next() * vocab as f32) as u32).min(vocab as u32 - 1))
            .collect()
    };
    plan.set_input_u32(ctx, "tokens", &ids(batch * seq))?;
    plan.set_input_u32(ctx, "targets", &ids(batch * seq))?;
    let pos: Vec<u32> = (0..batch * seq).map(|i| (i % seq) as u32).collect();
    plan.set_input_u32(ctx, "positions", &pos)?;

    if profile_first {
        print_by_kernel("peers_lm first step", &plan.profile(ctx)?, 16);
        print_by_kernel("peers_lm second step", &plan.profile(ctx)?, 16);
    }
    let plan = std::cell::RefCell::new(plan);
    let first_value = |r: &[kiln::Reading]| -> Vec<f32> {
        r.iter()
            .map(|r| r.values[0].first().copied().unwrap_or(f32::NAN))
            .collect()
    };
    let workload = Workload {
        prefix: "peers_lm",
        shape: format!("B{batch} T{seq} D{d} L{layers}"),
        items: (batch * seq) as f64,
        rate_unit: "tokens/s",
        steps: LM_STEPS,
        ready,
    };
    time_steps(
        &workload,
        process_start,
        || {
            let mut p = plan.borrow_mut();
            p.step(ctx)?;
            let r = p.flush_readings(ctx)?;
            Ok(first_value(&r).last().copied().unwrap_or(f32::NAN))
        },
        || plan.borrow_mut().step(ctx),
        || Ok(first_value(&plan.borrow_mut().flush_readings(ctx)?)),
    )
}

/// The DCGAN step pair.
pub fn run_dcgan(
    ctx: &Context,
    process_start: Instant,
    profile_first: bool,
) -> Result<Vec<Figure>> {
    let batch = 64;
    let cfg = DcganConfig {
        size: 32,
        channels: 3,
        latent: 100,
        g_width: 64,
        d_width: 64,
    };
    let adam = Optimizer::Adam(AdamConfig {
        beta1: 0.5,
        ..AdamConfig::adam(2e-4)
    });
    let mut store = ParamStore::new(0);
    let mut gan = Gan::new(
        ctx,
        &cfg,
        &mut store,
        &GanConfig {
            batch,
            d_optimizer: adam,
            g_optimizer: adam,
            schedule: kiln::optim::Schedule::Constant,
            seed: 3,
            real_label: 1.0,
            loss: GanLoss::NonSaturating,
            ema_decay: None,
        },
    )?;
    let ready = process_start.elapsed().as_secs_f64();
    let mut rng = Lcg(11);
    let real: Vec<f32> = (0..batch * 3 * 32 * 32)
        .map(|_| rng.next() * 2.0 - 1.0)
        .collect();
    if profile_first {
        print_by_kernel("peers_dcgan first step pair", &gan.profile(ctx, &real)?, 16);
        print_by_kernel(
            "peers_dcgan second step pair",
            &gan.profile(ctx, &real)?,
            16,
        );
    }
    let gan = std::cell::RefCell::new(gan);
    let workload = Workload {
        prefix: "peers_dcgan",
        shape: format!("B{batch} 3x32x32 Z100 W64"),
        items: batch as f64,
        rate_unit: "images/s",
        steps: DCGAN_STEPS,
        ready,
    };
    time_steps(
        &workload,
        process_start,
        || {
            let mut g = gan.borrow_mut();
            g.step(ctx, &real)?;
            let r = g.flush_readings(ctx)?;
            Ok(r.last().map_or(f32::NAN, |r| r.d_loss))
        },
        || gan.borrow_mut().step(ctx, &real),
        || {
            Ok(gan
                .borrow_mut()
                .flush_readings(ctx)?
                .iter()
                .map(|r| r.d_loss)
                .collect())
        },
    )
}
