//! Retrieval-augmented generation on kiln: a knowledge base embedded into a GPU vector index,
//! questions answered by an encoder-decoder generator that reads the passages retrieved for
//! them, every part on the GPU through kiln's kernels, both models trained by kiln's `Trainer`.
//!
//! The built-in demo needs no download: a knowledge base of passages about invented towns,
//! people and inventions (`kiln::data::facts`), generated from a seed, and questions whose
//! answers are only in it. Retrieval uses the pretrained all-MiniLM-L6-v2 with `--model DIR`;
//! without it the example first trains a small encoder of its own by contrastive learning
//! (in-batch negatives) on question/passage pairs. Either is a `kiln::nn::TextEncoder`. The
//! generator (a kiln Transformer over word pieces) learns to answer from
//! "question | passage | passage" on the training entities.
//!
//! On entities never seen in training it measures exact match: with retrieval (top-k from the
//! index), closed book (no passage), with the gold passage (the ceiling), and after the
//! knowledge base is edited (one fact of every entity changed, index rebuilt, no retraining).
//!
//! ```sh
//! cargo run --release --example rag                          # to runs/rag
//! cargo run --release --example rag -- --model models/all-MiniLM-L6-v2
//! cargo run --release --example rag -- --checkpoint runs/rag --ask "When was Velmora founded?"
//! ```
//! Writes into `--out`: `summary.json`, `accuracy.png`, `loss.png`, and the generator's
//! `metrics.csv`, `eval.csv` (held-out probe per epoch) and `checkpoint.safetensors` (both
//! models and the config that rebuilds them); the trained retriever's own `metrics.csv`,
//! `eval.csv` (held-out recall per epoch), `checkpoint.safetensors` and `summary.json` go to
//! `--out/retriever`.

use std::path::{Path, PathBuf};

use clap::{value_parser, Parser};
use kiln::data::{facts::with_gold, Batches, KnowledgeBase, Pieces, Question, Seq2SeqBatch};
use kiln::index::VectorIndex;
use kiln::io::checkpoint;
use kiln::metrics::retrieval_recall;
use kiln::nn::{distinct_batches, ContrastiveConfig, ContrastiveEmbedder, ContrastiveEncoder};
use kiln::nn::{Seq2Seq, Seq2SeqConfig, TextEncoder, Translator};
use kiln::pretrained::SentenceEncoder;
use kiln::train::{Report, Scores, TrainOptions, Trainer};
use kiln::viz::{bar_chart, line_plot};
use kiln::{AdamConfig, Context, Optimizer, ParamStore, Plan, PlanSpec, Result};
use serde::{Deserialize, Serialize};

#[path = "common/device.rs"]
mod device;

/// Retrieval-augmented question answering over a generated knowledge base.
#[derive(Parser)]
struct Args {
    /// A sentence-transformers folder (all-MiniLM-L6-v2) to retrieve with; without it a
    /// contrastive encoder is trained here.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Passages the generator reads per question (its source grows by 42 pieces for each).
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u8).range(1..=MAX_K as i64))]
    k: u8,
    /// Entities both models train on.
    #[arg(long, default_value_t = 3000, value_parser = value_parser!(u32).range(2..=1_000_000))]
    entities: u32,
    /// Further entities never seen in training, for the held-out scores.
    #[arg(long, default_value_t = 300, value_parser = value_parser!(u32).range(1..=1_000_000))]
    heldout: u32,
    /// Generator epochs over the training questions.
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Retriever epochs over the training questions (batches of 64 distinct entities).
    #[arg(long, default_value_t = 2)]
    retriever_epochs: usize,
    /// Generator examples per step.
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u32).range(1..=4096))]
    batch: u32,
    /// Width of both models: a multiple of their 4 attention heads.
    #[arg(long, default_value_t = 64, value_parser = multiple_of_heads)]
    d_model: usize,
    /// Generator encoder and decoder layers.
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u8).range(1..=12))]
    layers: u8,
    /// The run's folder.
    #[arg(long, default_value = "runs/rag")]
    out: PathBuf,
    /// Seeds the knowledge base, the weights and the order of the batches.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A trained run's folder, with --ask (its config rebuilds the models).
    #[arg(long, requires = "ask")]
    checkpoint: Option<PathBuf>,
    /// A question for --checkpoint's models.
    #[arg(long, requires = "checkpoint", value_parser = kiln::train::flags::text)]
    ask: Option<String>,
    #[command(flatten)]
    device: device::DeviceArgs,
}

fn multiple_of_heads(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(d) if d > 0 && d % HEADS == 0 && d <= 1024 => Ok(d),
        _ => Err(format!(
            "must be a multiple of {HEADS} from {HEADS} to 1024"
        )),
    }
}

/// Attention heads of both models.
const HEADS: usize = 4;
/// Longest question and passage, in word pieces.
const MAX_TEXT: usize = 40;
/// In-batch negatives per question: 63 other passages.
const RETRIEVER_BATCH: usize = 64;
/// The most passages a question is given, and how deep every retrieval goes.
const MAX_K: usize = 8;

/// What the checkpoint carries: everything that rebuilds the knowledge base and both models.
#[derive(Serialize, Deserialize)]
struct Saved {
    seed: u64,
    entities: usize,
    heldout: usize,
    k: usize,
    retriever: Retriever,
    generator: Seq2SeqConfig,
}

/// Which encoder retrieves.
#[derive(Serialize, Deserialize)]
enum Retriever {
    /// The contrastive encoder trained here; its weights are in the checkpoint.
    Trained(ContrastiveConfig),
    /// A pretrained encoder's folder (`--model` may point elsewhere when asking).
    Pretrained(PathBuf),
}

impl Retriever {
    /// The encoder, untrained (its weights come from `store`) or loaded from its folder.
    fn load(&self, ctx: &Context, store: &mut ParamStore) -> Result<Box<dyn TextEncoder>> {
        Ok(match self {
            Retriever::Pretrained(dir) => Box::new(SentenceEncoder::load(ctx, dir)?),
            Retriever::Trained(cfg) => {
                let pieces = Pieces::new();
                let tokenize = move |t: &str| pieces.encode(t);
                Box::new(ContrastiveEmbedder::new(ctx, *cfg, 64, store, tokenize)?)
            }
        })
    }
}

fn main() {
    let args = Args::parse();
    let result = args.device.context().and_then(|ctx| {
        println!("adapter: {}", ctx.adapter_summary());
        match (&args.checkpoint, &args.ask) {
            (Some(dir), Some(question)) => ask(&ctx, &args, dir, question),
            _ => train(&ctx, &args),
        }
    });
    if let Err(e) = result {
        eprintln!("rag: {e}");
        std::process::exit(1);
    }
}

/// The texts of `questions`.
fn texts(questions: &[Question]) -> Vec<&str> {
    questions.iter().map(|q| q.text.as_str()).collect()
}

/// Indexes `kb`'s passages and retrieves the top `MAX_K` for each of `questions`, best first;
/// scores recall@1 and recall@5.
fn retrieval(
    ctx: &Context,
    encoder: &mut dyn TextEncoder,
    kb: &KnowledgeBase,
    questions: &[Question],
) -> Result<(VectorIndex, Vec<Vec<usize>>, Scores)> {
    let passages = kb.passages();
    let passages: Vec<&str> = passages.iter().map(String::as_str).collect();
    let index = encoder.index(ctx, &passages, "knowledge base")?;
    let hits = encoder.nearest(ctx, &index, &texts(questions), MAX_K)?;
    let wanted: Vec<usize> = questions.iter().map(|q| q.entity).collect();
    let recall = |k| retrieval_recall(&hits, &wanted, k);
    let scores = vec![
        ("retrieval_recall_at_1".into(), recall(1)),
        ("retrieval_recall_at_5".into(), recall(5)),
    ];
    Ok((index, hits, scores))
}

/// Trains the contrastive encoder (when it is the retriever) on (question, its passage) pairs
/// of the training entities, in `--out/retriever`, scoring held-out recall after each epoch.
fn train_retriever(
    ctx: &Context,
    args: &Args,
    retriever: &Retriever,
    kb: &KnowledgeBase,
    (train_q, test_q): (&[Question], &[Question]),
    store: &mut ParamStore,
) -> Result<(Box<dyn TextEncoder>, Report)> {
    let mut encoder = retriever.load(ctx, store)?;
    let Retriever::Trained(cfg) = *retriever else {
        return Ok((encoder, Report::default()));
    };
    let b = RETRIEVER_BATCH.min(args.entities as usize);
    let (g, loss) = ContrastiveEncoder::training_graph(cfg, b)?;
    let spec = PlanSpec {
        seed: args.seed,
        ..PlanSpec::training(loss, Optimizer::Adam(AdamConfig::adam(1e-3)))
    };
    let mut plan = Plan::compile(ctx, &g, store, &spec)?;
    let pieces = Pieces::new();
    let passages: Vec<Vec<u32>> = kb.passages().iter().map(|p| pieces.encode(p)).collect();
    let questions: Vec<Vec<u32>> = train_q.iter().map(|q| pieces.encode(&q.text)).collect();
    let entities: Vec<usize> = train_q.iter().map(|q| q.entity).collect();
    let mut options = TrainOptions::new(args.retriever_epochs)
        .show_progress()
        .counting("pairs");
    options.label = "retriever".into();
    let mut run = Trainer::new(ctx, args.out.join("retriever"), options, &cfg)?;
    let report = run.fit(
        ctx,
        &mut plan,
        store,
        |epoch| distinct_batches(&entities, b, args.seed ^ 0x7e7, epoch as u64),
        |ctx, plan, chunk| {
            let qs: Vec<&[u32]> = chunk.iter().map(|&i| &questions[i][..]).collect();
            let ps: Vec<&[u32]> = chunk.iter().map(|&i| &passages[entities[i]][..]).collect();
            let pairs = ContrastiveEncoder::feed(ctx, plan, cfg.max_len, &qs, &ps)?;
            plan.step(ctx)?;
            Ok(pairs)
        },
        |ctx, _, _| Ok(retrieval(ctx, &mut *encoder, kb, test_q)?.2),
    )?;
    Ok((encoder, report))
}

fn train(ctx: &Context, args: &Args) -> Result<()> {
    let start = std::time::Instant::now();
    let (k, d) = (args.k as usize, args.d_model);
    let (entities, heldout) = (args.entities as usize, args.heldout as usize);
    let pieces = Pieces::new();
    let saved = Saved {
        seed: args.seed,
        entities,
        heldout,
        k,
        retriever: match &args.model {
            Some(dir) => Retriever::Pretrained(dir.clone()),
            None => Retriever::Trained(ContrastiveConfig::new(pieces.len(), d, MAX_TEXT)),
        },
        generator: Seq2SeqConfig {
            dropout: 0.1,
            max_src: 16 + k * (MAX_TEXT + 2),
            max_tgt: 12,
            tie_embeddings: true,
            ..Seq2SeqConfig::new(pieces.len(), d, HEADS, args.layers as usize, 4 * d)
        },
    };
    let cfg = saved.generator;
    let kb = KnowledgeBase::generate(args.seed, entities + heldout);
    let train_q = kb.questions_about(0..entities);
    let test_q = kb.questions_about(entities..kb.entities.len());
    let (p, n, m) = (kb.entities.len(), train_q.len(), test_q.len());
    println!("knowledge base: {p} passages, {n} training and {m} held-out questions");

    // 1. The retriever and the index.
    let mut store = ParamStore::new(args.seed);
    let qs = (&train_q[..], &test_q[..]);
    let (mut encoder, ret_report) =
        train_retriever(ctx, args, &saved.retriever, &kb, qs, &mut store)?;
    let (index, test_hits, recall) = retrieval(ctx, &mut *encoder, &kb, &test_q)?;
    let name = match saved.retriever {
        Retriever::Pretrained(_) => "all-MiniLM-L6-v2 (pretrained)",
        Retriever::Trained(_) => "contrastive encoder trained here",
    };
    let (r1, r5) = (recall[0].1, recall[1].1);
    println!("retriever: {name}; held-out recall@1 {r1:.3}, recall@5 {r5:.3}");

    // 2. The generator, on the training questions with what the retriever returns for them
    // (the gold passage put in when it was missed).
    let train_hits = encoder.nearest(ctx, &index, &texts(&train_q), k)?;
    let train_ex = kb.reader_examples(&pieces, &train_q, |i| {
        with_gold(&train_hits[i], train_q[i].entity, args.seed ^ i as u64)
    });
    let top_k = |hits: &[Vec<usize>], i: usize| hits[i].iter().take(k).copied().collect();
    let retrieved_ex = kb.reader_examples(&pieces, &test_q, |i| top_k(&test_hits, i));
    // Every 9th held-out question with its retrieved passages: the per-epoch figure.
    let probe: Vec<_> = retrieved_ex.iter().step_by(9).cloned().collect();

    let b = args.batch as usize;
    let shape = cfg.batch_shape(b);
    let (graph, _, vars) = Seq2Seq::training_graph(cfg, b)?;
    let (adam, schedule) = AdamConfig::noam(cfg.d_model, 400);
    let spec = PlanSpec::training(vars.loss, Optimizer::Adam(adam))
        .with_schedule(schedule)
        .with_seed(args.seed);
    let mut plan = Plan::compile(ctx, &graph, &mut store, &spec)?;
    let mut translator = Translator::new(ctx, cfg, 100, &mut store)?;
    let mut options = TrainOptions::new(args.epochs)
        .show_progress()
        .counting("tokens");
    options.label = "generator".into();
    let mut run = Trainer::new(ctx, &args.out, options, &saved)?;
    let report = run.fit(
        ctx,
        &mut plan,
        &store,
        |epoch| Batches::new(n, b, args.seed, epoch as u64),
        |ctx, plan, chunk| {
            let tokens =
                Seq2Seq::feed(ctx, plan, &Seq2SeqBatch::gather(&train_ex, &chunk, shape)?)?;
            plan.step(ctx)?;
            Ok(tokens)
        },
        |ctx, _, _| {
            let probe_exact = translator.exact_match(ctx, &probe)?.0;
            Ok(vec![("heldout_exact_probe".into(), probe_exact)])
        },
    )?;

    // 3. Held-out entities, four ways: retrieved passages, none, the gold one, and retrieved
    // from the edited knowledge base (whose answers are the edited facts).
    let mut exact = |examples: &[(Vec<u32>, Vec<u32>)]| translator.exact_match(ctx, examples);
    let (retrieved, answers) = exact(&retrieved_ex)?;
    let closed = exact(&kb.reader_examples(&pieces, &test_q, |_| vec![]))?.0;
    let gold = exact(&kb.reader_examples(&pieces, &test_q, |i| vec![test_q[i].entity]))?.0;
    let edited_kb = kb.edited(args.seed ^ 0xed);
    let edited_hits = retrieval(ctx, &mut *encoder, &edited_kb, &test_q)?.1;
    let edited_ex = edited_kb.reader_examples(&pieces, &test_q, |i| top_k(&edited_hits, i));
    let edited = exact(&edited_ex)?.0;
    // (bar label, summary key, fraction)
    let scores = [
        ("retrieval", "exact_match_with_retrieval", retrieved),
        ("closed book", "exact_match_closed_book", closed),
        ("gold passage", "exact_match_gold_passage", gold),
        ("edited KB", "exact_match_edited_knowledge", edited),
        ("recall@1", "retrieval_recall_at_1", r1),
        ("recall@5", "retrieval_recall_at_5", r5),
    ];
    println!("held-out exact match (edited KB: after one fact of every entity changed):");
    for (label, _, v) in &scores[..4] {
        println!("  {label}: {:.1}%", 100.0 * v);
    }
    for ((src, want), got) in retrieved_ex.iter().zip(&answers).step_by(97).take(4) {
        let (s, g, w) = (pieces.decode(src), pieces.decode(got), pieces.decode(want));
        println!("  {s}\n    -> {g} (want {w})");
    }

    // 4. What the run leaves behind.
    let out = |file: &str| args.out.join(file);
    let losses = [
        ("generator", report.curve("loss")),
        ("retriever", ret_report.curve("loss")),
    ];
    let title = "rag: training losses";
    line_plot(&out("loss.png"), &losses, title, "step", "loss", true)?;
    let bars: Vec<(&str, f64)> = scores.iter().map(|&(label, _, v)| (label, v)).collect();
    let title = "rag: held-out entities";
    bar_chart(&out("accuracy.png"), &bars, title, "fraction", Some(1.0))?;
    let mut summary = serde_json::json!({
        "retriever": name,
        "retriever_steps": ret_report.steps,
        "k": k,
        "heldout_questions": m,
        "generator_steps": report.steps,
        "wall_s": start.elapsed().as_secs_f64(),
    });
    for (_, key, v) in scores {
        summary[key] = v.into();
    }
    run.write_summary(&report, summary)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Answers one question with a trained run's models, rebuilt from its checkpoint alone
/// (`--model` overrides the folder of a pretrained retriever), printing the passages used.
fn ask(ctx: &Context, args: &Args, dir: &Path, question: &str) -> Result<()> {
    let ck = checkpoint::load(dir)?;
    let mut saved: Saved = ck.config()?;
    if let (Retriever::Pretrained(folder), Some(model)) = (&mut saved.retriever, &args.model) {
        *folder = model.clone();
    }
    let kb = KnowledgeBase::generate(saved.seed, saved.entities + saved.heldout);
    let mut store = ParamStore::new(saved.seed);
    let mut translator = Translator::new(ctx, saved.generator, 1, &mut store)?;
    let mut encoder = saved.retriever.load(ctx, &mut store)?;
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    let index = retrieval(ctx, &mut *encoder, &kb, &[])?.0;
    let chosen = encoder.nearest(ctx, &index, &[question], saved.k)?.concat();
    let pieces = Pieces::new();
    let src = pieces.encode(&kb.reader_input(question, &chosen));
    let max = saved.generator.max_src;
    if src.len() > max {
        println!("(the question is long: its end is cut to fit {max} pieces)");
    }
    let answer = translator.translate_all(ctx, &[src])?.concat();
    println!("passages:");
    for &e in &chosen {
        println!("  - {}", kb.passage(e));
    }
    println!("answer: {}", pieces.decode(&answer));
    Ok(())
}
