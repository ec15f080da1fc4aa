//! Trains a language model (a decoder-only Transformer: causal self-attention) on a text
//! file through kiln's `Trainer`, over characters or a BPE/WordPiece vocabulary trained on
//! the text. Each epoch scores the held-out last 5 % of the text: loss per token and bits per
//! character (the text's total bits over its characters, so runs with different tokenizers
//! compare). At the end it samples a continuation over the model's key-value caches.
//!
//! ```sh
//! cargo run --release --example train_lm -- --data book.txt
//! cargo run --release --example train_lm -- --data book.txt --tokenizer bpe --vocab-size 1024
//! cargo run --release --example train_lm -- --data book.txt --resume runs/lm --epochs 12
//! cargo run --release --example train_lm -- --checkpoint runs/lm --prompt "The " --top-p 0.9
//! ```
//! Writes `metrics.csv`, `eval.csv`, `summary.json` (`heldout_bits_per_char`, `heldout_loss`,
//! the sample), `loss.png`, `checkpoint.safetensors` and, for BPE/WordPiece,
//! `tokenizer.json` into `--out`.

use std::path::PathBuf;

use clap::Parser;
use kiln::data::{self, Tokenizer, TokenizerKind};
use kiln::io::checkpoint;
use kiln::nn::{LanguageModel, LmConfig, ResidualNorm, Sampler, Sampling};
use kiln::train::{Scores, TrainOptions};
use kiln::{AdamConfig, Context, Error, Optimizer, ParamStore, Plan, PlanSpec, Result, Trainer};
use serde_json::json;

#[path = "common/device.rs"]
mod device;

/// Train a language model on a text file, score it on held-out text, and sample from it.
#[derive(Parser, Debug)]
struct Args {
    /// A UTF-8 text file (its last 5 % is held out).
    #[arg(long, required_unless_present = "checkpoint")]
    data: Option<PathBuf>,
    /// The run's folder (default: the --resume folder, else runs/lm).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run saved in this folder (its model and tokenizer are used, not the flags).
    #[arg(long, conflicts_with = "checkpoint")]
    resume: Option<PathBuf>,
    /// Only sample from the run saved in this folder (no training, no --data needed).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Epochs of the whole run (an epoch: as many windows as the training text has tokens).
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Windows per step.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch: u32,
    /// Window: the tokens the model sees.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(2..=4096))]
    window: u32,
    /// `char`, `bpe` (byte-level, exact round trip) or `wordpiece`, trained on the text.
    #[arg(long, default_value_t = TokenizerKind::Char)]
    tokenizer: TokenizerKind,
    /// Vocabulary size of a trained tokenizer (specials included).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(5..=65536))]
    vocab_size: u32,
    /// Model width D.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=8192))]
    d_model: u32,
    /// Attention heads (dividing D).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    heads: u32,
    /// Layers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    layers: u32,
    /// Feed-forward width.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65536))]
    d_ff: u32,
    /// Dropout probability in [0, 1).
    #[arg(long, default_value_t = 0.0, value_parser = kiln::train::flags::probability)]
    dropout: f32,
    /// Where residual blocks normalise: `post` or `pre`.
    #[arg(long, default_value_t = ResidualNorm::Pre)]
    norm: ResidualNorm,
    /// Steps of learning-rate warm-up.
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    /// At most this many batches of held-out windows are scored each epoch.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    eval_batches: u32,
    /// Text the sample continues (default: the start of a held-out line).
    #[arg(long)]
    prompt: Option<String>,
    /// Tokens sampled at the end.
    #[arg(long, default_value_t = 300)]
    max_new: usize,
    /// Sampling temperature (> 0).
    #[arg(long, default_value_t = 0.8, value_parser = kiln::train::flags::temperature)]
    temperature: f32,
    /// Sample among the k most likely tokens only.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    top_k: Option<u32>,
    /// Sample among the fewest tokens whose probability reaches p, in (0, 1].
    #[arg(long, value_parser = kiln::train::flags::fraction)]
    top_p: Option<f32>,
    /// Seeds weights, windows and sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    device: device::DeviceArgs,
}

impl Args {
    fn out(&self) -> PathBuf {
        kiln::train::run_dir(self.out.as_deref(), self.resume.as_deref(), "runs/lm")
    }
}

/// What a checkpoint carries besides the weights: the model and its tokenizer, whole.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    model: LmConfig,
    tokenizer: Tokenizer,
}

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("error: {e}");
        if let kiln::Error::Interrupted { dir, .. } = &e {
            eprintln!("continue with the same command and --resume {dir}");
            std::process::exit(130);
        }
        std::process::exit(1);
    }
}

fn sampling(args: &Args) -> Sampling {
    Sampling {
        temperature: args.temperature,
        top_k: args.top_k.map(|k| k as usize),
        top_p: args.top_p,
        seed: args.seed,
    }
}

fn run(args: &Args) -> Result<()> {
    let ctx = &args.device.context()?;
    println!("adapter: {}", ctx.adapter_summary());
    if let Some(dir) = &args.checkpoint {
        return sample_only(ctx, args, dir);
    }
    let path = args.data.as_ref().ok_or_else(|| {
        Error::Unsupported("--data FILE is needed to train (or --checkpoint DIR)".into())
    })?;
    let file = data::read_text(path)?;
    println!("{}", file.summary());
    let text = file.text;
    // The held-out tail is cut from the text, not the ids, so every tokenizer scores the
    // same characters, and a trained tokenizer never sees them.
    let cut = text
        .char_indices()
        .nth(text.chars().count() * 95 / 100)
        .map_or(text.len(), |(i, _)| i);
    let (train_text, heldout_text) = text.split_at(cut);
    let resumed = args.resume.as_ref().map(checkpoint::load).transpose()?;
    let saved: Saved = match &resumed {
        Some(ck) => ck.config()?,
        None => {
            let kind = args.tokenizer;
            let tokenizer = Tokenizer::train(kind, &[train_text], args.vocab_size as usize)?;
            let model = LmConfig {
                vocab: tokenizer.len(),
                d_model: args.d_model as usize,
                heads: args.heads as usize,
                layers: args.layers as usize,
                d_ff: args.d_ff as usize,
                dropout: args.dropout,
                norm: args.norm,
                window: args.window as usize,
            };
            Saved { model, tokenizer }
        }
    };
    let (cfg, tokenizer) = (saved.model, &saved.tokenizer);
    cfg.check()?;
    tokenizer.check_fits(cfg.vocab)?;
    let train = tokenizer.encode(train_text)?;
    let (heldout, ends) = tokenizer.encode_with_ends(heldout_text)?;
    if resumed.is_some() {
        // The saved vocabulary meets this text for the first time.
        let name = path.display().to_string();
        if let Some(warning) = tokenizer.check_coverage(&name, [&train[..], &heldout[..]])? {
            println!("{warning}");
        }
    }
    let (b, t) = (args.batch as usize, cfg.window);
    if train.len() <= t {
        return Err(Error::Data {
            path: path.display().to_string(),
            line: 0,
            message: format!(
                "{} training tokens, and a window of {t} needs at least {}: lower --window or add text",
                train.len(),
                t + 1
            ),
        });
    }
    println!(
        "data: {} ({} characters; {} tokenizer, {} ids): {} training tokens, {} held out",
        path.display(),
        text.chars().count(),
        tokenizer.kind(),
        tokenizer.len(),
        train.len(),
        heldout.len()
    );
    let scored = data::heldout_windows(&heldout, &ends, t, b, args.eval_batches as usize).ok();
    if let Some(s) = &scored {
        println!(
            "held out: {} windows, {} tokens over {} characters scored each epoch",
            s.batches.len() * b,
            s.tokens,
            s.chars
        );
    }

    let (graph, loss) = LanguageModel::training_graph(cfg, b)?;
    let mut store = ParamStore::new(args.seed);
    let (adam, schedule) = AdamConfig::noam(cfg.d_model, args.warmup);
    let spec = PlanSpec::training(loss, Optimizer::Adam(adam))
        .with_schedule(schedule)
        .with_seed(args.seed);
    let mut plan = Plan::compile(ctx, &graph, &mut store, &spec)?;
    // The same graph in eval mode (dropout off) scores the held-out windows.
    let mut eval = Plan::compile(ctx, &graph, &mut store, &PlanSpec::eval(vec![loss]))?;
    let options = TrainOptions::new(args.epochs)
        .show_progress()
        .stop_on_ctrl_c()
        .counting("tokens");
    let mut run = Trainer::new(ctx, args.out(), options, &saved)?;
    if let Some(ck) = &resumed {
        run.resume(ctx, ck, &mut store, &mut plan)?;
    }
    tokenizer.save(&run.dir().join("tokenizer.json"))?;
    let per_epoch = (train.len() / (b * t)).max(1) as u64;
    let report = run.fit(
        ctx,
        &mut plan,
        &store,
        |epoch| epoch as u64 * per_epoch..(epoch as u64 + 1) * per_epoch,
        |ctx, plan, step| {
            let batch = data::lm_windows(&train, t, b, args.seed ^ step)?;
            plan.set_input_u32(ctx, "input", &batch.input)?;
            plan.set_input_u32(ctx, "target", &batch.target)?;
            plan.step(ctx)?;
            Ok(b * t)
        },
        |ctx, _, _| {
            let Some(scored) = &scored else {
                return Ok(Scores::new()); // too little held-out text for one window
            };
            // The loss is the mean over a batch's B·T targets: summed back to nats.
            let mut nats = 0.0;
            for batch in &scored.batches {
                eval.set_input_u32(ctx, "input", &batch.input)?;
                eval.set_input_u32(ctx, "target", &batch.target)?;
                eval.step(ctx)?;
                nats += eval.read_f32(ctx, loss)?[0] as f64 * (b * t) as f64;
            }
            let bits_per_char = nats / std::f64::consts::LN_2 / scored.chars.max(1) as f64;
            Ok(Scores::from([
                ("heldout_loss".to_string(), nats / scored.tokens as f64),
                ("heldout_bits_per_char".to_string(), bits_per_char),
            ]))
        },
    )?;
    report.plot(
        args.out().join("loss.png"),
        &["loss", "heldout_loss"],
        "train_lm: training and held-out loss (nats per token)",
        true,
    )?;
    let prompt = match &args.prompt {
        Some(p) => p.clone(),
        None => default_prompt(heldout_text, train_text),
    };
    let mut sampler = Sampler::new(ctx, cfg, &mut store)?;
    let sample = sample(ctx, args, &mut sampler, tokenizer, &prompt)?;
    if let Some(bpc) = report.score("heldout_bits_per_char") {
        println!("held-out: {bpc:.3} bits per character");
    }
    run.write_summary(
        &report,
        json!({
            "task": "lm",
            "tokenizer": tokenizer.kind().to_string(),
            "vocab": tokenizer.len(),
            "prompt": prompt,
            "sample": sample,
        }),
    )
}

/// The first held-out line's opening words (or the text's), so the sample continues real
/// text the model has not trained on.
fn default_prompt(heldout: &str, train: &str) -> String {
    let source = if heldout.trim().is_empty() {
        train
    } else {
        heldout
    };
    let line = source
        .lines()
        .skip(1) // the first is likely cut mid-line
        .find(|l| l.split_whitespace().count() >= 3)
        .or_else(|| source.lines().next())
        .unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().take(4).collect();
    let prompt = words.join(" ");
    if prompt.is_empty() {
        "The ".into()
    } else {
        prompt + " "
    }
}

/// Samples `--max-new` tokens after `prompt` and prints both.
fn sample(
    ctx: &Context,
    args: &Args,
    sampler: &mut Sampler,
    tokenizer: &Tokenizer,
    prompt: &str,
) -> Result<String> {
    let ids = tokenizer.encode(prompt)?;
    if ids.is_empty() {
        return Err(Error::Unsupported(format!(
            "the prompt {prompt:?} encodes to no tokens"
        )));
    }
    let unknown = ids.iter().filter(|&&id| id == data::vocab::UNK).count();
    if unknown > 0 {
        println!(
            "warning: {unknown} of the prompt's {} tokens are not in the vocabulary (they read as <unk>)",
            ids.len()
        );
    }
    let start = std::time::Instant::now();
    let out = sampler.generate(ctx, &ids, args.max_new, &sampling(args))?;
    let secs = start.elapsed().as_secs_f64();
    let text = tokenizer.decode(&out);
    println!("--- prompt ---\n{prompt}\n--- sample ---\n{prompt}{text}\n---");
    println!(
        "sampled {} tokens in {secs:.2} s ({:.0} tokens/s, key-value cache)",
        out.len(),
        out.len() as f64 / secs.max(1e-9)
    );
    Ok(text)
}

fn sample_only(ctx: &Context, args: &Args, dir: &std::path::Path) -> Result<()> {
    let ck = checkpoint::load(dir)?;
    let saved: Saved = ck.config()?;
    saved.model.check()?;
    saved.tokenizer.check_fits(saved.model.vocab)?;
    // The model first, then the checkpoint into it: every weight it declares must be there.
    let mut store = ParamStore::new(args.seed);
    let mut sampler = Sampler::new(ctx, saved.model, &mut store)?;
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    let prompt = args.prompt.clone().unwrap_or_else(|| "The ".into());
    sample(ctx, args, &mut sampler, &saved.tokenizer, &prompt)?;
    Ok(())
}
