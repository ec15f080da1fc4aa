//! Trains the encoder-decoder Transformer of "Attention Is All You Need" (post-norm, label
//! smoothing, Adam after the paper's warm-up, then a cosine decay) through kiln's `Trainer`,
//! then decodes greedily on the GPU.
//!
//! Built-in task (the default): dates written the many ways people write them ("Tuesday,
//! 24 November 2026", "11/24/26", "nov 24th 2026", ...) to ISO 8601 ("2026-11-24"); held-out
//! dates are never seen in training. Your own data: `--data FILE` with one `source<TAB>target`
//! pair per line (Tatoeba/Anki files such as `eng-fra.txt`). Character LM: `train_lm`.
//!
//! ```sh
//! cargo run --release --example train_transformer                       # dates, to runs/transformer
//! cargo run --release --example train_transformer -- --data eng-fra.txt --epochs 10
//! cargo run --release --example train_transformer -- --data train.tsv --test test.tsv
//! cargo run --release --example train_transformer -- --resume runs/transformer --epochs 6
//! cargo run --release --example train_transformer -- --checkpoint runs/transformer --translate "nov 24th 2026"
//! ```
//! Writes `metrics.csv`, `eval.csv` (held-out exact match per epoch), `summary.json`, `loss.png`,
//! `cross_attention.png` and `checkpoint.safetensors` (atomically, every epoch) into `--out`.

use std::path::{Path, PathBuf};

use clap::Parser;
use kiln::data::{Batches, PairOptions, PairSets, Seq2SeqBatch};
use kiln::data::{Tokenizer, TokenizerKind};
use kiln::io::checkpoint;
use kiln::nn::{ResidualNorm, Seq2Seq, Seq2SeqConfig, Translator};
use kiln::train::{Scores, TrainOptions};
use kiln::{AdamConfig, Context, Optimizer, ParamStore, Plan, PlanSpec, Result, Schedule};
use kiln::{Trainer, Var};
use serde_json::json;

#[path = "common/device.rs"]
mod device;

/// The built-in task's name in a run's config and summary.
const DATES: &str = "dates";

/// Train a Transformer on dates or on your own sentence pairs.
#[derive(Parser, Debug)]
struct Args {
    /// `source<TAB>target` lines (a tenth held out unless --test); none: the built-in dates.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Held-out `source<TAB>target` lines, scored each epoch instead of a split of --data.
    #[arg(long)]
    test: Option<PathBuf>,
    /// The run's folder (default: the --resume folder, else runs/transformer).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run saved in this folder (its model config is used, not the size flags).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// A trained run's folder, with --translate.
    #[arg(long, requires = "translate")]
    checkpoint: Option<PathBuf>,
    /// A source text to translate with --checkpoint's model.
    #[arg(long, requires = "checkpoint")]
    translate: Option<String>,
    /// Epochs of the whole run.
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// Examples per step.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch: u32,
    /// Model width D.
    #[arg(long, default_value_t = 64)]
    d_model: usize,
    /// Attention heads (dividing D).
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Encoder and decoder layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Feed-forward width.
    #[arg(long, default_value_t = 256)]
    d_ff: usize,
    /// Dropout probability in [0, 1).
    #[arg(long, default_value_t = 0.0, value_parser = kiln::train::flags::probability)]
    dropout: f32,
    /// Label smoothing ε in [0, 1).
    #[arg(long, default_value_t = 0.1, value_parser = kiln::train::flags::probability)]
    label_smoothing: f32,
    /// Steps of learning-rate warm-up.
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    /// Multiplies the paper's peak learning rate.
    #[arg(long, default_value_t = 1.0, value_parser = kiln::train::flags::multiplier)]
    lr_scale: f32,
    /// Where residual blocks normalise: `post` (the paper) or `pre`.
    #[arg(long, default_value_t = ResidualNorm::Post)]
    norm: ResidualNorm,
    /// Generated training dates.
    #[arg(long, default_value_t = 28_000)]
    train: usize,
    /// Held-out examples scored each epoch.
    #[arg(long, default_value_t = 1000)]
    heldout: usize,
    /// Longest source or target kept from --data, in characters.
    #[arg(long, default_value_t = 48)]
    max_len: usize,
    /// `char` (the default), `bpe` or `wordpiece`, trained on the training pairs.
    #[arg(long, default_value_t = TokenizerKind::Char)]
    tokenizer: TokenizerKind,
    /// Vocabulary size of a trained tokenizer (specials included).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(5..=65536))]
    vocab_size: u32,
    /// After training, also score the held-out set with beam search of this width (1: greedy
    /// only); with --translate, decode with it.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    beam: u32,
    /// Beam search's length normalisation: score / length^alpha.
    #[arg(long, default_value_t = 1.0, value_parser = kiln::train::flags::exponent)]
    length_penalty: f32,
    /// Seeds data, weights, batches and dropout.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    device: device::DeviceArgs,
}

impl Args {
    fn out(&self) -> PathBuf {
        kiln::train::run_dir(
            self.out.as_deref(),
            self.resume.as_deref(),
            "runs/transformer",
        )
    }
}

/// What a checkpoint carries besides the weights: the model's config, its tokenizer and the
/// data it was trained on (`dates` or the --data file; absent in older runs).
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    model: Seq2SeqConfig,
    tokenizer: Tokenizer,
    #[serde(default)]
    data: Option<String>,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        if let kiln::Error::Interrupted { dir, .. } = &e {
            eprintln!("continue with the same command and --resume {dir}");
            std::process::exit(130);
        }
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<()> {
    let ctx = args.device.context()?;
    println!("adapter: {}", ctx.adapter_summary());
    match (&args.checkpoint, &args.translate) {
        (Some(dir), Some(text)) => {
            translate(&ctx, dir, text, args.beam as usize, args.length_penalty)
        }
        _ => train(&ctx, args),
    }
}

/// The paper's Adam (β2 0.98, eps 1e-9) and peak after warm-up, then a cosine to a tenth over
/// the run: its 1/√step left the last epoch noisy (dates: 96.7 % after 98.1 % an epoch before).
fn training_spec(loss: Var, d_model: usize, total: u64, args: &Args) -> PlanSpec {
    let (adam, _) = AdamConfig::noam(d_model, args.warmup);
    let lr = adam.lr * args.lr_scale;
    let (warmup, min_factor) = (args.warmup, 0.1);
    let schedule = Schedule::WarmupCosine {
        warmup,
        total,
        min_factor,
    };
    PlanSpec::training(loss, Optimizer::Adam(AdamConfig { lr, ..adam }))
        .with_schedule(schedule)
        .with_seed(args.seed)
}

fn train(ctx: &Context, args: &Args) -> Result<()> {
    // A resumed run rebuilds the saved model, vocabulary included, from its checkpoint alone.
    let resumed = args.resume.as_ref().map(checkpoint::load).transpose()?;
    let saved: Option<Saved> = resumed.as_ref().map(|ck| ck.config()).transpose()?;
    if let (
        Some(Saved {
            data: Some(file), ..
        }),
        None,
    ) = (&saved, &args.data)
    {
        if file != DATES {
            return Err(kiln::Error::Unsupported(format!(
                "the run in {} was trained on {file}: pass --data {file} to continue it",
                args.resume.as_deref().unwrap_or(Path::new("")).display()
            )));
        }
    }
    let (name, sets) = match &args.data {
        None => (
            DATES.to_string(),
            PairSets::dates(args.seed, args.train, args.heldout),
        ),
        Some(path) => {
            let opts = PairOptions {
                max_len: args.max_len,
            };
            let test = args.test.as_deref();
            let sets = PairSets::read(path, test, &opts, 0.1, args.heldout, args.seed)?;
            sets.reports.iter().for_each(|r| println!("{r}"));
            (path.display().to_string(), sets)
        }
    };
    let saved: Saved = match saved {
        Some(saved) => Saved {
            data: Some(name.clone()),
            ..saved
        },
        None => {
            let size = args.vocab_size as usize;
            let vocab = Tokenizer::train_on_pairs(args.tokenizer, &sets.train, size)?;
            let (v, a) = (vocab.len(), args);
            let model = Seq2SeqConfig {
                dropout: a.dropout,
                norm: a.norm,
                label_smoothing: a.label_smoothing,
                ..Seq2SeqConfig::new(v, a.d_model, a.heads, a.layers, a.d_ff)
            };
            let all = vocab.encode_pairs(&[&sets.train[..], &sets.heldout[..]].concat())?;
            let model = model.fit_lengths(&all, args.max_len);
            Saved {
                model,
                tokenizer: vocab,
                data: Some(name.clone()),
            }
        }
    };
    let (cfg, vocab) = (saved.model, &saved.tokenizer);
    vocab.check_fits(cfg.vocab)?;
    let train_ids = vocab.encode_pairs(&sets.train)?;
    let heldout_ids = vocab.encode_pairs(&sets.heldout)?;
    if resumed.is_some() {
        // The saved vocabulary meets this data for the first time.
        let seqs = train_ids.iter().chain(&heldout_ids);
        let ids = seqs.flat_map(|(s, t)| [s.as_slice(), t.as_slice()]);
        if let Some(warning) = vocab.check_coverage(&name, ids)? {
            println!("{warning}");
        }
    }
    let (b, (ts, tt)) = (args.batch as usize, (cfg.max_src, cfg.max_tgt));
    let shape = cfg.batch_shape(b);
    let (n, h, v) = (sets.train.len(), sets.heldout.len(), vocab.len());
    let source = &sets.heldout_source;
    println!("data: {name} ({n} training pairs, {h} held out: {source}), vocabulary {v}, Ts {ts} Tt {tt}");

    let (graph, _, vars) = Seq2Seq::training_graph(cfg, b)?;
    let mut store = ParamStore::new(args.seed);
    let total = (n.div_ceil(b) * args.epochs) as u64;
    let spec = training_spec(vars.loss, cfg.d_model, total, args);
    let mut plan = Plan::compile(ctx, &graph, &mut store, &spec)?;
    let mut translator = Translator::new(ctx, cfg, 250.min(h.max(1)), &mut store)?;
    let options = TrainOptions::new(args.epochs)
        .show_progress()
        .stop_on_ctrl_c()
        .counting("tokens");
    let mut run = Trainer::new(ctx, args.out(), options, &saved)?;
    if let Some(ck) = &resumed {
        run.resume(ctx, ck, &mut store, &mut plan)?;
    }
    vocab.save(&run.dir().join("tokenizer.json"))?;
    if h == 0 {
        println!("warning: no held-out pairs to score (too few lines for a tenth; --test FILE names some)");
    }
    println!("plan: {:?}, {} parameters", plan.stats(), store.numel());
    let report = run.fit(
        ctx,
        &mut plan,
        &store,
        |epoch| Batches::new(n, b, args.seed, epoch as u64),
        |ctx, plan, chunk| {
            let batch = Seq2SeqBatch::gather(&train_ids, &chunk, shape)?;
            let tokens = Seq2Seq::feed(ctx, plan, &batch)?;
            plan.step(ctx)?;
            Ok(tokens)
        },
        |ctx, _, _| {
            if heldout_ids.is_empty() {
                return Ok(Scores::new());
            }
            let (exact, outputs) = translator.exact_match(ctx, &heldout_ids)?;
            for ((src, want), got) in heldout_ids.iter().zip(&outputs).take(3) {
                let (s, g, w) = (vocab.decode(src), vocab.decode(got), vocab.decode(want));
                eprintln!("  {s:<32} -> {g:<24} (want {w})");
            }
            Ok(Scores::from([("exact_match".to_string(), exact)]))
        },
    )?;
    report.plot(
        args.out().join("loss.png"),
        &["loss"],
        "train_transformer: loss",
        true,
    )?;
    // A source with a written month makes the picture tell: "nov" lighting up for "11".
    let words = sets
        .heldout
        .iter()
        .position(|(s, _)| s.chars().filter(|c| c.is_alphabetic()).count() >= 3);
    if let Some((src, _)) = heldout_ids.get(words.unwrap_or(0)) {
        let path = args.out().join("cross_attention.png");
        translator.cross_attention_png(ctx, &mut store, src, |ids| vocab.decode(ids), &path)?;
    }
    let beam_exact = if args.beam > 1 && h > 0 {
        let mut beam = Translator::new(ctx, cfg, args.beam as usize, &mut store)?;
        let exact = beam.beam_exact_match(ctx, &heldout_ids, args.length_penalty)?;
        println!(
            "held-out exact match with beam {}: {:.2}%",
            args.beam,
            100.0 * exact
        );
        Some(exact)
    } else {
        None
    };
    let summary = json!({
        "task": name,
        "heldout": h,
        "heldout_source": source,
        "beam": args.beam,
        "beam_exact_match": beam_exact,
    });
    run.write_summary(&report, summary)?;
    if h == 0 {
        return Ok(());
    }
    // A run resumed at its last epoch trained nothing and so scored nothing: score it now.
    let exact = match report.score("exact_match") {
        Some(exact) => exact,
        None => translator.exact_match(ctx, &heldout_ids)?.0,
    };
    println!("held-out exact match {:.2}% on {h} examples", 100.0 * exact);
    Ok(())
}

/// Translates `text` with the model saved in `dir`, rebuilt from the checkpoint alone.
fn translate(ctx: &Context, dir: &Path, text: &str, beam: usize, alpha: f32) -> Result<()> {
    let ck = checkpoint::load(dir)?;
    let Saved {
        model, tokenizer, ..
    } = ck.config()?;
    tokenizer.check_fits(model.vocab)?;
    let mut store = ParamStore::new(0);
    let mut translator = Translator::new(ctx, model, beam, &mut store)?;
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    let src = tokenizer.encode(text)?;
    if src.len() > model.max_src {
        eprintln!("note: the input was cut to {} tokens", model.max_src);
    }
    let out = match beam {
        1 => translator.translate_all(ctx, &[src])?.concat(),
        _ => translator.translate_beam(ctx, &src, alpha)?,
    };
    println!("{}", tokenizer.decode(&out));
    Ok(())
}
