//! Trains the encoder-decoder Transformer of "Attention Is All You Need" (post-norm, label
//! smoothing, Adam with the paper's warm-up schedule) on kiln, then decodes greedily on the GPU.
//!
//! Built-in task (the default): dates written the many ways people write them ("Tuesday,
//! 24 November 2026", "11/24/26", "nov 24th 2026", ...) to ISO 8601 ("2026-11-24"), generated
//! from a seed; held-out dates are never seen in training. Your own data: `--data FILE` with one
//! `source<TAB>target` pair per line (Tatoeba/Anki files such as `eng-fra.txt`). A character
//! language model: `--task lm --data FILE.txt`.
//!
//! ```sh
//! cargo run --release --example train_transformer                       # dates, to runs/transformer
//! cargo run --release --example train_transformer -- --data eng-fra.txt --epochs 10
//! cargo run --release --example train_transformer -- --task lm --data book.txt
//! cargo run --release --example train_transformer -- --resume runs/transformer
//! cargo run --release --example train_transformer -- --checkpoint runs/transformer --translate "nov 24th 2026"
//! ```
//! Writes `metrics.csv`, `summary.json`, `loss.png`, `cross_attention.png` and
//! `checkpoint.safetensors` (atomically, every epoch) into `--out`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kiln::data::{self, BatchShape, Batches, Seq2SeqBatch, Split, Vocab};
use kiln::io::checkpoint;
use kiln::nn::{ResidualNorm, Seq2Seq, Seq2SeqConfig, Translator};
use kiln::ops::optim::AdamConfig;
use kiln::progress::Progress;
use kiln::{Context, Error, Optimizer, ParamStore, Plan, PlanSpec, Result, Schedule, Training};

const USAGE: &str = "train_transformer [--task pairs|lm] [--data FILE] [--out DIR] [--resume DIR]
  [--checkpoint DIR --translate TEXT] [--epochs N] [--batch N] [--d-model N] [--heads N]
  [--layers N] [--d-ff N] [--dropout P] [--label-smoothing E] [--warmup STEPS] [--lr-scale X]
  [--norm post|pre] [--train N] [--heldout N] [--max-len N] [--seed N]";

/// Flags, with working defaults.
#[derive(Clone, Debug)]
struct Args {
    /// `pairs` (dates or `--data` pairs) or `lm`.
    task: String,
    /// Sentence pairs or, for `lm`, a text file; none means the built-in dates.
    data: Option<PathBuf>,
    out: PathBuf,
    resume: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    translate: Option<String>,
    epochs: usize,
    batch: usize,
    d_model: usize,
    heads: usize,
    layers: usize,
    d_ff: usize,
    dropout: f32,
    label_smoothing: f32,
    warmup: u64,
    lr_scale: f32,
    norm: ResidualNorm,
    /// Generated training dates.
    train: usize,
    /// Held-out examples evaluated each epoch.
    heldout: usize,
    /// Longest source or target kept from `--data` (characters).
    max_len: usize,
    seed: u64,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            task: "pairs".into(),
            data: None,
            out: PathBuf::from("runs/transformer"),
            resume: None,
            checkpoint: None,
            translate: None,
            epochs: 4,
            batch: 64,
            d_model: 64,
            heads: 4,
            layers: 1,
            d_ff: 256,
            dropout: 0.0,
            label_smoothing: 0.1,
            warmup: 200,
            lr_scale: 1.0,
            norm: ResidualNorm::Post,
            train: 28_000,
            heldout: 1000,
            max_len: 48,
            seed: 1,
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    let bad =
        |flag: &str, v: &str| Error::Unsupported(format!("{flag}: cannot use '{v}'\n{USAGE}"));
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| Error::Unsupported(format!("{flag} needs a value\n{USAGE}")))?;
        let num = |v: &str| v.parse::<usize>().map_err(|_| bad(&flag, v));
        let float = |v: &str| v.parse::<f32>().map_err(|_| bad(&flag, v));
        match flag.as_str() {
            "--task" if value == "pairs" || value == "lm" => a.task = value,
            "--data" => a.data = Some(PathBuf::from(value)),
            "--out" => a.out = PathBuf::from(value),
            "--resume" => a.resume = Some(PathBuf::from(value)),
            "--checkpoint" => a.checkpoint = Some(PathBuf::from(value)),
            "--translate" => a.translate = Some(value),
            "--epochs" => a.epochs = num(&value)?,
            "--batch" => a.batch = num(&value)?.max(1),
            "--d-model" => a.d_model = num(&value)?,
            "--heads" => a.heads = num(&value)?,
            "--layers" => a.layers = num(&value)?,
            "--d-ff" => a.d_ff = num(&value)?,
            "--dropout" => a.dropout = float(&value)?,
            "--label-smoothing" => a.label_smoothing = float(&value)?,
            "--warmup" => a.warmup = num(&value)? as u64,
            "--lr-scale" => a.lr_scale = float(&value)?,
            "--norm" if value == "post" => a.norm = ResidualNorm::Post,
            "--norm" if value == "pre" => a.norm = ResidualNorm::Pre,
            "--train" => a.train = num(&value)?,
            "--heldout" => a.heldout = num(&value)?,
            "--max-len" => a.max_len = num(&value)?,
            "--seed" => a.seed = num(&value)? as u64,
            _ => return Err(bad(&flag, &value)),
        }
    }
    if a.task == "lm" && a.data.is_none() {
        return Err(Error::Unsupported(format!(
            "--task lm needs --data FILE.txt\n{USAGE}"
        )));
    }
    Ok(a)
}

fn main() {
    if let Err(e) = parse_args().and_then(run) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let ctx = Context::new()?;
    println!("adapter: {}", ctx.adapter_summary());
    if let (Some(dir), Some(text)) = (&args.checkpoint, &args.translate) {
        return translate(&ctx, dir, text);
    }
    match args.task.as_str() {
        "lm" => train_lm(&ctx, &args),
        _ => train_pairs(&ctx, &args),
    }
}

// ---- data ----

/// Training and held-out (source, target) text pairs and the vocabulary over both.
struct PairData {
    train: Vec<(String, String)>,
    heldout: Vec<(String, String)>,
    name: String,
}

fn load_pairs(args: &Args) -> Result<PairData> {
    match &args.data {
        None => Ok(PairData {
            train: data::date_pairs(args.seed, args.train, Split::Train),
            heldout: data::date_pairs(args.seed ^ 0x5eed, args.heldout, Split::Heldout),
            name: "dates".into(),
        }),
        Some(path) => {
            let opts = data::PairOptions {
                max_len: args.max_len,
            };
            let file = data::read_pairs(path, &opts)?;
            println!("{}", file.summary());
            let (train, mut heldout) = data::split_pairs(file.pairs, 0.1, args.seed);
            heldout.truncate(args.heldout);
            Ok(PairData {
                train,
                heldout,
                name: path.display().to_string(),
            })
        }
    }
}

fn encode_all(vocab: &Vocab, pairs: &[(String, String)]) -> Vec<(Vec<u32>, Vec<u32>)> {
    pairs
        .iter()
        .map(|(s, t)| (vocab.encode(s), vocab.encode(t)))
        .collect()
}

// ---- the run's files ----

fn config_metadata(cfg: &Seq2SeqConfig, vocab: &Vocab, task: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("task".into(), task.into());
    m.insert("vocab".into(), vocab.to_string());
    for (k, v) in [
        ("d_model", cfg.d_model),
        ("heads", cfg.heads),
        ("encoder_layers", cfg.encoder_layers),
        ("decoder_layers", cfg.decoder_layers),
        ("d_ff", cfg.d_ff),
        ("max_src", cfg.max_src),
        ("max_tgt", cfg.max_tgt),
    ] {
        m.insert(k.into(), v.to_string());
    }
    m.insert("dropout".into(), cfg.dropout.to_string());
    m.insert("label_smoothing".into(), cfg.label_smoothing.to_string());
    let norm = if cfg.norm == ResidualNorm::Pre {
        "pre"
    } else {
        "post"
    };
    m.insert("norm".into(), norm.into());
    m
}

fn config_from(meta: &BTreeMap<String, String>, path: &Path) -> Result<(Seq2SeqConfig, Vocab)> {
    let get = |k: &str| {
        meta.get(k).ok_or_else(|| Error::Data {
            path: path.display().to_string(),
            line: 0,
            message: format!("the checkpoint's metadata has no '{k}'"),
        })
    };
    let num = |k: &str| -> Result<usize> {
        get(k)?.parse().map_err(|_| Error::Data {
            path: path.display().to_string(),
            line: 0,
            message: format!("metadata '{k}' is not a number"),
        })
    };
    let vocab: Vocab = get("vocab")?.parse()?;
    let cfg = Seq2SeqConfig {
        vocab: vocab.len(),
        d_model: num("d_model")?,
        heads: num("heads")?,
        encoder_layers: num("encoder_layers")?,
        decoder_layers: num("decoder_layers")?,
        d_ff: num("d_ff")?,
        dropout: get("dropout")?.parse().unwrap_or(0.0),
        norm: if get("norm")? == "pre" {
            ResidualNorm::Pre
        } else {
            ResidualNorm::Post
        },
        max_src: num("max_src")?,
        max_tgt: num("max_tgt")?,
        label_smoothing: get("label_smoothing")?.parse().unwrap_or(0.0),
        tie_embeddings: false,
    };
    Ok((cfg, vocab))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Appends rows to `metrics.csv`, writing the header when the file is new.
struct Metrics {
    path: PathBuf,
    rows: Vec<String>,
}

impl Metrics {
    fn open(dir: &Path, header: &str, resume: bool) -> Result<Metrics> {
        let path = dir.join("metrics.csv");
        if !resume || !path.exists() {
            std::fs::write(&path, format!("{header}\n")).map_err(|e| io_error(&path, e))?;
        }
        Ok(Metrics {
            path,
            rows: Vec::new(),
        })
    }

    fn push(&mut self, row: String) {
        self.rows.push(row);
    }

    fn flush(&mut self) -> Result<()> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| io_error(&self.path, e))?;
        for row in self.rows.drain(..) {
            writeln!(f, "{row}").map_err(|e| io_error(&self.path, e))?;
        }
        Ok(())
    }
}

// ---- sequence to sequence ----

fn train_pairs(ctx: &Context, args: &Args) -> Result<()> {
    let start = Instant::now();
    std::fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, e))?;
    let pairs = load_pairs(args)?;
    let resumed = match &args.resume {
        Some(dir) => Some(checkpoint::load(&dir.join("checkpoint.safetensors"))?),
        None => None,
    };
    let vocab = match &resumed {
        Some(ck) => ck
            .metadata
            .get("vocab")
            .ok_or_else(|| Error::Unsupported("the checkpoint has no vocabulary".into()))?
            .parse()?,
        None => Vocab::from_texts(
            pairs
                .train
                .iter()
                .flat_map(|(s, t)| [s.as_str(), t.as_str()]),
        ),
    };
    let train = encode_all(&vocab, &pairs.train);
    let heldout = encode_all(&vocab, &pairs.heldout);
    let longest_src = train
        .iter()
        .chain(&heldout)
        .map(|(s, _)| s.len())
        .max()
        .unwrap_or(1);
    let longest_tgt = train
        .iter()
        .chain(&heldout)
        .map(|(_, t)| t.len())
        .max()
        .unwrap_or(1);
    let cfg = Seq2SeqConfig {
        vocab: vocab.len(),
        d_model: args.d_model,
        heads: args.heads,
        encoder_layers: args.layers,
        decoder_layers: args.layers,
        d_ff: args.d_ff,
        dropout: args.dropout,
        norm: args.norm,
        max_src: longest_src.min(args.max_len),
        max_tgt: (longest_tgt + 1).min(args.max_len + 1),
        label_smoothing: args.label_smoothing,
        tie_embeddings: false,
    };
    let shape = BatchShape {
        batch: args.batch,
        src_len: cfg.max_src,
        tgt_len: cfg.max_tgt,
    };
    println!(
        "data: {} ({} training pairs, {} held out), vocabulary {} symbols, Ts {} Tt {}",
        pairs.name,
        train.len(),
        heldout.len(),
        vocab.len(),
        cfg.max_src,
        cfg.max_tgt
    );

    let (graph, _, vars) = Seq2Seq::training_graph(cfg, args.batch)?;
    let mut store = ParamStore::new(args.seed);
    let (peak, schedule) = Schedule::noam(cfg.d_model, args.warmup);
    let adam = AdamConfig {
        beta2: 0.98,
        eps: 1e-9,
        ..AdamConfig::adam(peak * args.lr_scale)
    };
    let spec = PlanSpec {
        watch: vec![vars.loss],
        training: Some(Training {
            schedule,
            ..Training::new(vars.loss, Optimizer::Adam(adam))
        }),
        seed: args.seed,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx, &graph, &mut store, &spec)?;
    let mut first_epoch = 0;
    if let Some(ck) = &resumed {
        let unused = checkpoint::restore(ctx, ck, &mut store, &plan.optimizer_state())?;
        if !unused.is_empty() {
            return Err(Error::Unsupported(format!(
                "the checkpoint holds optimizer state this run does not have: {unused:?}"
            )));
        }
        plan.set_step_count(ck.step().unwrap_or(0));
        first_epoch = ck
            .metadata
            .get("epoch")
            .and_then(|e| e.parse::<usize>().ok())
            .unwrap_or(0);
        println!("resumed at epoch {first_epoch}, step {}", plan.step_count());
    }
    let s = plan.stats();
    println!(
        "plan: {} dispatches per step, {:.1} MiB of intermediates (naive {:.1} MiB), {} parameters",
        s.dispatches,
        s.peak_bytes as f64 / 1048576.0,
        s.naive_bytes as f64 / 1048576.0,
        store.numel()
    );
    let mut translator = Translator::new(ctx, cfg, 250.min(heldout.len().max(1)), &mut store)?;

    let mut metrics = Metrics::open(
        &args.out,
        "step,epoch,loss,lr,tokens_per_s,elapsed_s",
        resumed.is_some(),
    )?;
    let mut curve: Vec<(f64, f64)> = Vec::new();
    let mut exact_match = 0.0;
    let mut tokens_total = 0usize;
    let mut last_loss = f32::NAN;
    let steps_per_epoch = train.len().div_ceil(args.batch);
    let total_steps = steps_per_epoch * args.epochs;
    let mut bar = Progress::new(total_steps as u64, "train");
    let train_start = Instant::now();
    let mut step_tokens: BTreeMap<u64, usize> = BTreeMap::new();
    for epoch in first_epoch..args.epochs {
        for chunk in Batches::new(train.len(), args.batch, args.seed, epoch as u64) {
            let batch = Seq2SeqBatch::gather(&train, &chunk, shape)?;
            plan.set_input_u32(ctx, "src", &batch.src)?;
            plan.set_input_u32(ctx, "src_mask", &batch.src_mask)?;
            plan.set_input_u32(ctx, "tgt_in", &batch.tgt_in)?;
            plan.set_input_u32(ctx, "tgt_out", &batch.tgt_out)?;
            plan.step(ctx)?;
            step_tokens.insert(
                plan.step_count(),
                batch.tokens + batch.src_mask.iter().filter(|&&m| m != 0).count(),
            );
            for r in plan.readings(ctx)? {
                last_loss = r.values[0][0];
                let tokens = step_tokens.remove(&r.step).unwrap_or(0);
                tokens_total += tokens;
                let elapsed = train_start.elapsed().as_secs_f64();
                let lr = adam.lr * schedule.factor(r.step);
                metrics.push(format!(
                    "{},{epoch},{last_loss},{lr},{:.1},{elapsed:.2}",
                    r.step,
                    tokens_total as f64 / elapsed
                ));
                curve.push((r.step as f64, last_loss as f64));
            }
            let done = (epoch - first_epoch) * steps_per_epoch
                + bar_position(&plan, first_epoch, epoch, steps_per_epoch);
            bar.set(
                done.min(total_steps) as u64,
                &format!(
                    "epoch {} loss {last_loss:.3} {:.0} tok/s",
                    epoch + 1,
                    tokens_total as f64 / train_start.elapsed().as_secs_f64().max(1e-9)
                ),
            );
        }
        for r in plan.flush_readings(ctx)? {
            last_loss = r.values[0][0];
            tokens_total += step_tokens.remove(&r.step).unwrap_or(0);
            curve.push((r.step as f64, last_loss as f64));
        }
        metrics.flush()?;
        exact_match = evaluate(ctx, &mut translator, &heldout, shape, &vocab, 3)?;
        bar.println(&format!(
            "epoch {}: loss {last_loss:.4}, held-out exact match {:.2}% ({} examples)",
            epoch + 1,
            100.0 * exact_match,
            heldout.len()
        ));
        let mut meta = config_metadata(&cfg, &vocab, &args.task);
        meta.insert("epoch".into(), (epoch + 1).to_string());
        checkpoint::save(
            ctx,
            &args.out,
            &store,
            &plan.optimizer_state(),
            plan.step_count(),
            &meta,
        )?;
    }
    bar.finish();
    let wall = start.elapsed().as_secs_f64();
    let tokens_per_s = tokens_total as f64 / train_start.elapsed().as_secs_f64().max(1e-9);

    kiln::viz::line_plot(
        &args.out.join("loss.png"),
        &[("training loss", &curve)],
        "train_transformer: loss",
        "step",
        "loss",
        true,
    )?;
    // A source with a written month makes the picture tell: "nov" lighting up for "11".
    let with_words = pairs
        .heldout
        .iter()
        .position(|(s, _)| s.chars().filter(|c| c.is_alphabetic()).count() >= 3);
    if let Some((src, _)) = heldout.get(with_words.unwrap_or(0)) {
        attention_picture(
            ctx,
            &cfg,
            &mut store,
            &mut translator,
            &vocab,
            src,
            shape,
            &args.out,
        )?;
    }
    let summary = format!(
        "{{\n  \"task\": {:?},\n  \"exact_match\": {exact_match},\n  \"heldout\": {},\n  \"final_loss\": {last_loss},\n  \"steps\": {},\n  \"tokens_per_s\": {tokens_per_s:.1},\n  \"wall_s\": {wall:.1},\n  \"adapter\": {:?}\n}}\n",
        pairs.name,
        heldout.len(),
        plan.step_count(),
        ctx.adapter_summary()
    );
    let path = args.out.join("summary.json");
    std::fs::write(&path, &summary).map_err(|e| io_error(&path, e))?;
    println!(
        "held-out exact match {:.2}% on {} examples, {:.0} s wall; wrote {}",
        100.0 * exact_match,
        heldout.len(),
        wall,
        args.out.display()
    );
    Ok(())
}

fn bar_position(plan: &Plan, _first: usize, _epoch: usize, steps_per_epoch: usize) -> usize {
    (plan.step_count() as usize - 1) % steps_per_epoch + 1
}

/// Greedy-decodes every held-out source; returns the fraction decoded exactly, and prints
/// `show` examples.
fn evaluate(
    ctx: &Context,
    translator: &mut Translator,
    heldout: &[(Vec<u32>, Vec<u32>)],
    shape: BatchShape,
    vocab: &Vocab,
    show: usize,
) -> Result<f64> {
    let b = translator.batch();
    let mut right = 0;
    let eval_shape = BatchShape { batch: b, ..shape };
    for (start, chunk) in heldout.chunks(b).enumerate() {
        let idx: Vec<usize> = (0..chunk.len()).collect();
        let batch = Seq2SeqBatch::gather(chunk, &idx, eval_shape)?;
        let out = translator.translate(ctx, &batch.src, &batch.src_mask)?;
        for (k, ((src, tgt), got)) in chunk.iter().zip(&out).enumerate() {
            right += (got == tgt) as usize;
            if start == 0 && k < show {
                println!(
                    "  {:<32} -> {:<24} (want {})",
                    vocab.decode(src),
                    vocab.decode(got),
                    vocab.decode(tgt)
                );
            }
        }
    }
    Ok(right as f64 / heldout.len().max(1) as f64)
}

/// The cross-attention of the last decoder layer for one held-out example, as a labelled PNG.
#[allow(clippy::too_many_arguments)]
fn attention_picture(
    ctx: &Context,
    cfg: &Seq2SeqConfig,
    store: &mut ParamStore,
    translator: &mut Translator,
    vocab: &Vocab,
    src: &[u32],
    shape: BatchShape,
    out: &Path,
) -> Result<()> {
    let b = translator.batch();
    let batch = Seq2SeqBatch::gather(
        &[(src.to_vec(), Vec::new())],
        &[0],
        BatchShape { batch: b, ..shape },
    )?;
    let decoded = translator.translate(ctx, &batch.src, &batch.src_mask)?;
    let output = decoded.first().cloned().unwrap_or_default();
    let (ts, tt) = (src.len().max(1), output.len() + 1);
    let (graph, weights) = Seq2Seq::cross_attention_graph(*cfg, ts, tt)?;
    let spec = PlanSpec {
        outputs: vec![weights],
        mode: kiln::Mode::Eval,
        ..Default::default()
    };
    let mut probe = Plan::compile(ctx, &graph, store, &spec)?;
    probe.set_input_u32(ctx, "src", src)?;
    let mut tgt_in = vec![kiln::nn::BOS];
    tgt_in.extend(&output);
    probe.set_input_u32(ctx, "tgt_in", &tgt_in)?;
    probe.step(ctx)?;
    let w = probe.read_f32(ctx, weights)?;
    let label = |id: u32| vocab.decode(&[id]);
    let mut rows: Vec<String> = output.iter().map(|&id| label(id)).collect();
    rows.push("<eos>".into());
    let cols: Vec<String> = src.iter().map(|&id| label(id)).collect();
    kiln::viz::heatmap(
        &out.join("cross_attention.png"),
        &w,
        tt,
        ts,
        &rows,
        &cols,
        &format!(
            "cross-attention: {} -> {}",
            vocab.decode(src),
            vocab.decode(&output)
        ),
    )
}

fn translate(ctx: &Context, dir: &Path, text: &str) -> Result<()> {
    let path = dir.join("checkpoint.safetensors");
    let ck = checkpoint::load(&path)?;
    let (cfg, vocab) = config_from(&ck.metadata, &path)?;
    let mut store = ParamStore::new(0);
    let mut translator = Translator::new(ctx, cfg, 1, &mut store)?;
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    let src = vocab.encode(text);
    let shape = BatchShape {
        batch: 1,
        src_len: cfg.max_src,
        tgt_len: cfg.max_tgt,
    };
    let batch = Seq2SeqBatch::gather(&[(src, Vec::new())], &[0], shape)?;
    if batch.truncated > 0 {
        eprintln!("note: the input was cut to {} characters", cfg.max_src);
    }
    let out = translator.translate(ctx, &batch.src, &batch.src_mask)?;
    println!(
        "{}",
        vocab.decode(out.first().map_or(&[][..], |v| v.as_slice()))
    );
    Ok(())
}

// ---- character language model ----

/// A decoder-only model: causal self-attention layers over characters.
struct CharLm {
    embed: kiln::nn::Embedding,
    layers: Vec<kiln::nn::EncoderLayer>,
    norm: Option<kiln::nn::LayerNorm>,
    out: kiln::nn::Linear,
    d_model: usize,
}

impl CharLm {
    fn new(g: &mut kiln::Graph, args: &Args, vocab: usize) -> Result<CharLm> {
        let opts = kiln::nn::TransformerOptions {
            norm: args.norm,
            dropout: args.dropout,
            ..Default::default()
        };
        let d = args.d_model;
        let init = kiln::Init::normal(1.0 / (d as f32).sqrt());
        Ok(CharLm {
            embed: kiln::nn::Embedding::with_init(g, "embed", vocab, d, init)?,
            layers: (0..args.layers)
                .map(|i| {
                    kiln::nn::EncoderLayer::new(
                        g,
                        &format!("layers.{i}"),
                        d,
                        args.heads,
                        args.d_ff,
                        opts,
                    )
                })
                .collect::<Result<Vec<_>>>()?,
            norm: match args.norm {
                ResidualNorm::Pre => Some(kiln::nn::LayerNorm::new(g, "norm", d)?),
                ResidualNorm::Post => None,
            },
            out: kiln::nn::Linear::new(g, "generator", d, vocab)?,
            d_model: d,
        })
    }

    /// `ids [B, T]` -> logits `[B, T, V]`, position t seeing positions up to t.
    fn forward(&self, g: &mut kiln::Graph, ids: kiln::Var, dropout: f32) -> Result<kiln::Var> {
        let x = self.embed.forward(g, ids)?;
        let x = g.scale(x, (self.d_model as f32).sqrt(), 0.0)?;
        let mut x = kiln::nn::PositionalEncoding::new().forward(g, x)?;
        x = g.dropout(x, dropout)?;
        for layer in &self.layers {
            x = layer.forward(g, x, None, true)?;
        }
        if let Some(norm) = &self.norm {
            x = norm.forward(g, x)?;
        }
        self.out.forward(g, x)
    }
}

fn train_lm(ctx: &Context, args: &Args) -> Result<()> {
    let start = Instant::now();
    std::fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, e))?;
    let path = args.data.clone().unwrap_or_default();
    let text = data::read_text(&path)?;
    let vocab = Vocab::from_texts([text.as_str()]);
    let ids = vocab.encode(&text);
    let (train, heldout) = data::split_tail(&ids, 0.05);
    let t = args.max_len.min(train.len().saturating_sub(1)).max(2);
    println!(
        "data: {} ({} characters, vocabulary {}), windows of {t}",
        path.display(),
        ids.len(),
        vocab.len()
    );
    let mut g = kiln::Graph::new();
    let model = CharLm::new(&mut g, args, vocab.len())?;
    let input = g.input("input", &[args.batch, t], kiln::DType::U32)?;
    let target = g.input("target", &[args.batch, t], kiln::DType::U32)?;
    let logits = model.forward(&mut g, input, args.dropout)?;
    let loss = g.cross_entropy(logits, target, Default::default())?;
    let mut store = ParamStore::new(args.seed);
    let (peak, schedule) = Schedule::noam(args.d_model, args.warmup);
    let adam = AdamConfig {
        beta2: 0.98,
        eps: 1e-9,
        ..AdamConfig::adam(peak * args.lr_scale)
    };
    let spec = PlanSpec {
        watch: vec![loss],
        training: Some(Training {
            schedule,
            ..Training::new(loss, Optimizer::Adam(adam))
        }),
        seed: args.seed,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx, &g, &mut store, &spec)?;
    if let Some(dir) = &args.resume {
        let ck = checkpoint::load(&dir.join("checkpoint.safetensors"))?;
        checkpoint::restore(ctx, &ck, &mut store, &plan.optimizer_state())?;
        plan.set_step_count(ck.step().unwrap_or(0));
    }
    let steps_per_epoch = (train.len() / (args.batch * t)).max(1);
    let total = steps_per_epoch * args.epochs;
    let mut metrics = Metrics::open(&args.out, "step,loss,elapsed_s", args.resume.is_some())?;
    let mut curve = Vec::new();
    let mut bar = Progress::new(total as u64, "train");
    let mut last_loss = f32::NAN;
    let first = plan.step_count() as usize;
    for step in first..total {
        let batch = data::lm_windows(train, t, args.batch, args.seed ^ step as u64)?;
        plan.set_input_u32(ctx, "input", &batch.input)?;
        plan.set_input_u32(ctx, "target", &batch.target)?;
        plan.step(ctx)?;
        for r in plan.readings(ctx)? {
            last_loss = r.values[0][0];
            curve.push((r.step as f64, last_loss as f64));
            metrics.push(format!(
                "{},{last_loss},{:.2}",
                r.step,
                start.elapsed().as_secs_f64()
            ));
        }
        bar.set((step + 1) as u64, &format!("loss {last_loss:.3}"));
        if (step + 1) % steps_per_epoch == 0 || step + 1 == total {
            for r in plan.flush_readings(ctx)? {
                last_loss = r.values[0][0];
                curve.push((r.step as f64, last_loss as f64));
            }
            metrics.flush()?;
            let mut meta = BTreeMap::new();
            meta.insert("task".to_string(), "lm".to_string());
            meta.insert("vocab".to_string(), vocab.to_string());
            checkpoint::save(
                ctx,
                &args.out,
                &store,
                &plan.optimizer_state(),
                plan.step_count(),
                &meta,
            )?;
        }
    }
    bar.finish();
    kiln::viz::line_plot(
        &args.out.join("loss.png"),
        &[("training loss", &curve)],
        "char LM: loss",
        "step",
        "loss",
        true,
    )?;

    // Sampling: an eval plan of batch 1 over the trained weights, fed the last T characters.
    let mut sg = kiln::Graph::new();
    let sampler = CharLm::new(&mut sg, args, vocab.len())?;
    let window = sg.input("input", &[1, t], kiln::DType::U32)?;
    let sample_logits = sampler.forward(&mut sg, window, 0.0)?;
    let sspec = PlanSpec {
        outputs: vec![sample_logits],
        mode: kiln::Mode::Eval,
        ..Default::default()
    };
    let mut sample_plan = Plan::compile(ctx, &sg, &mut store, &sspec)?;
    let prompt: Vec<u32> = heldout.iter().take(t / 2).copied().collect();
    let mut generated = prompt.clone();
    let mut rng = args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..200 {
        let ctx_ids: Vec<u32> = generated.iter().rev().take(t).rev().copied().collect();
        let mut window_ids = ctx_ids.clone();
        window_ids.resize(t, data::vocab::PAD);
        sample_plan.set_input_u32(ctx, "input", &window_ids)?;
        sample_plan.step(ctx)?;
        let logits = sample_plan.read_f32(ctx, sample_logits)?;
        let v = vocab.len();
        let row = &logits[(ctx_ids.len() - 1) * v..ctx_ids.len() * v];
        // Temperature 0.8 sampling from the softmax of the last position.
        let m = row.iter().cloned().fold(f32::MIN, f32::max);
        let weights: Vec<f64> = row
            .iter()
            .map(|&x| (((x - m) / 0.8) as f64).exp())
            .collect();
        let sum: f64 = weights.iter().sum();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut u = (rng >> 11) as f64 / (1u64 << 53) as f64 * sum;
        let mut pick = 0;
        for (i, w) in weights.iter().enumerate() {
            u -= w;
            if u <= 0.0 {
                pick = i;
                break;
            }
        }
        generated.push(pick as u32);
    }
    println!(
        "--- prompt ---\n{}\n--- sample ---\n{}",
        vocab.decode(&prompt),
        vocab.decode(&generated[prompt.len()..])
    );
    let summary = format!(
        "{{\n  \"task\": \"lm\",\n  \"final_loss\": {last_loss},\n  \"steps\": {},\n  \"wall_s\": {:.1},\n  \"adapter\": {:?}\n}}\n",
        plan.step_count(),
        start.elapsed().as_secs_f64(),
        ctx.adapter_summary()
    );
    let path = args.out.join("summary.json");
    std::fs::write(&path, summary).map_err(|e| io_error(&path, e))
}
