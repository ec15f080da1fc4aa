//! Trains a character language model (a decoder-only Transformer: causal self-attention over
//! characters) on a text file through kiln's `Trainer`, scores held-out bits per character each
//! epoch on the text's last 5 %, and samples a continuation of a held-out prompt.
//!
//! ```sh
//! cargo run --release --example train_lm -- --data book.txt
//! cargo run --release --example train_lm -- --data book.txt --resume runs/lm --epochs 8
//! ```
//! Writes `metrics.csv`, `eval.csv`, `summary.json` (`heldout_bits_per_char`, the sample),
//! `loss.png` and `checkpoint.safetensors` into `--out`.

use std::path::PathBuf;

use clap::Parser;
use kiln::data::{self, Vocab};
use kiln::io::checkpoint;
use kiln::nn::{LanguageModel, LmConfig, ResidualNorm, Sampler};
use kiln::train::{Scores, TrainOptions};
use kiln::{AdamConfig, Context, Optimizer, ParamStore, Plan, PlanSpec, Result, Trainer};
use serde_json::json;

/// Train a character language model on a text file.
#[derive(Parser, Debug)]
struct Args {
    /// A UTF-8 text file.
    #[arg(long)]
    data: PathBuf,
    /// The run's folder.
    #[arg(long, default_value = "runs/lm")]
    out: PathBuf,
    /// Continue the run saved in this folder (its model config is used, not the size flags).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Epochs of the whole run (an epoch: as many windows as the text has characters).
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// Windows per step.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch: u32,
    /// Window: the characters the model sees.
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(2..=4096))]
    window: u32,
    /// Model width D.
    #[arg(long, default_value_t = 64)]
    d_model: usize,
    /// Attention heads (dividing D).
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Feed-forward width.
    #[arg(long, default_value_t = 256)]
    d_ff: usize,
    /// Dropout probability in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// Where residual blocks normalise: `post` or `pre`.
    #[arg(long, default_value_t = ResidualNorm::Post)]
    norm: ResidualNorm,
    /// Steps of learning-rate warm-up.
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    /// Characters sampled at the end.
    #[arg(long, default_value_t = 200)]
    sample: usize,
    /// Sampling temperature (> 0).
    #[arg(long, default_value_t = 0.8)]
    temperature: f32,
    /// Seeds weights, windows and sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// What a checkpoint carries besides the weights.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    model: LmConfig,
    vocab: Vocab,
}

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<()> {
    let ctx = &Context::new()?;
    println!("adapter: {}", ctx.adapter_summary());
    let text = data::read_text(&args.data)?;
    let resumed = args.resume.as_ref().map(checkpoint::load).transpose()?;
    let saved: Saved = match &resumed {
        Some(ck) => ck.config()?,
        None => {
            let vocab = Vocab::from_texts([text.as_str()]);
            let model = LmConfig {
                vocab: vocab.len(),
                d_model: args.d_model,
                heads: args.heads,
                layers: args.layers,
                d_ff: args.d_ff,
                dropout: args.dropout,
                norm: args.norm,
                window: args.window as usize,
            };
            Saved { model, vocab }
        }
    };
    let (cfg, vocab) = (saved.model, &saved.vocab);
    let ids = vocab.encode(&text);
    let (train, heldout) = data::split_tail(&ids, 0.05);
    let (b, t) = (args.batch as usize, cfg.window);
    let (n, v) = (ids.len(), vocab.len());
    println!(
        "data: {} ({n} characters, vocabulary {v}), windows of {t}",
        args.data.display()
    );

    let (graph, loss) = LanguageModel::training_graph(cfg, b)?;
    let mut store = ParamStore::new(args.seed);
    let (adam, schedule) = AdamConfig::noam(cfg.d_model, args.warmup);
    let mut spec = PlanSpec {
        seed: args.seed,
        ..PlanSpec::training(loss, Optimizer::Adam(adam))
    };
    spec.training.iter_mut().for_each(|t| t.schedule = schedule);
    let mut plan = Plan::compile(ctx, &graph, &mut store, &spec)?;
    // The same graph in eval mode (dropout off) scores held-out windows.
    let mut eval = Plan::compile(ctx, &graph, &mut store, &PlanSpec::eval(vec![loss]))?;
    let options = TrainOptions::new(args.epochs)
        .show_progress()
        .counting("tokens");
    let mut run = Trainer::new(ctx, &args.out, options, &saved)?;
    if let Some(ck) = &resumed {
        run.resume(ctx, ck, &mut store, &mut plan)?;
    }
    let per_epoch = (train.len() / (b * t)).max(1) as u64;
    let report = run.fit(
        ctx,
        &mut plan,
        &store,
        |epoch| epoch as u64 * per_epoch..(epoch as u64 + 1) * per_epoch,
        |ctx, plan, step| {
            let batch = data::lm_windows(train, t, b, args.seed ^ step)?;
            plan.set_input_u32(ctx, "input", &batch.input)?;
            plan.set_input_u32(ctx, "target", &batch.target)?;
            plan.step(ctx)?;
            Ok(b * t)
        },
        |ctx, _, _| {
            if heldout.len() <= t {
                return Ok(Scores::new()); // too little held-out text for one window
            }
            // Mean cross-entropy (nats) over 8 fixed batches of held-out windows, in bits.
            let mut nats = 0.0;
            for k in 0..8 {
                let batch = data::lm_windows(heldout, t, b, args.seed ^ 0xe7a1 ^ k)?;
                eval.set_input_u32(ctx, "input", &batch.input)?;
                eval.set_input_u32(ctx, "target", &batch.target)?;
                eval.step(ctx)?;
                nats += eval.read_f32(ctx, loss)?[0] as f64 / 8.0;
            }
            let bits = nats / std::f64::consts::LN_2;
            Ok(Scores::from([("heldout_bits_per_char".to_string(), bits)]))
        },
    )?;
    report.plot(args.out.join("loss.png"), &["loss"], "train_lm: loss", true)?;
    let source = if heldout.is_empty() { train } else { heldout };
    let prompt = &source[..(t / 2).max(1).min(source.len())];
    let mut sampler = Sampler::new(ctx, cfg, &mut store)?;
    let sample = sampler.generate(ctx, prompt, args.sample, args.temperature, args.seed)?;
    let (prompt, sample) = (vocab.decode(prompt), vocab.decode(&sample));
    println!("--- prompt ---\n{prompt}\n--- sample ---\n{sample}");
    run.write_summary(&report, json!({ "task": "lm", "sample": sample }))
}
