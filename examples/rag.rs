//! Retrieval-augmented generation on kiln: a knowledge base embedded into a GPU vector index,
//! questions answered by an encoder-decoder generator that reads the passages retrieved for
//! them, every part on the GPU through kiln's kernels.
//!
//! The built-in demo needs no download: a knowledge base of passages about invented towns,
//! people and inventions (`kiln::data::facts`), generated from a seed, and questions whose
//! answers are only in it. Retrieval uses the pretrained all-MiniLM-L6-v2 with `--model DIR`;
//! without it the example first trains a small encoder of its own by contrastive learning
//! (in-batch negatives) on question/passage pairs. The generator (a kiln Transformer over word
//! pieces) learns to answer from "question | passage | passage" on the training entities.
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
//! Writes `summary.json`, `accuracy.png`, `metrics.csv`, `loss.png` and
//! `checkpoint.safetensors` into `--out`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kiln::data::{BatchShape, Batches, KnowledgeBase, Pieces, Question, Seq2SeqBatch};
use kiln::index::{Meta, VectorIndex};
use kiln::io::checkpoint;
use kiln::nn::{
    pool_weights, ContrastiveConfig, ContrastiveEncoder, ResidualNorm, Seq2Seq, Seq2SeqConfig,
    Translator,
};
use kiln::ops::optim::AdamConfig;
use kiln::pretrained::SentenceEncoder;
use kiln::progress::Progress;
use kiln::{
    Context, Error, Mode, Optimizer, ParamStore, Plan, PlanSpec, Result, Schedule, Training, Var,
};

const USAGE: &str = "rag [--model DIR] [--k N] [--entities N] [--heldout N] [--epochs N]
  [--retriever-steps N] [--batch N] [--d-model N] [--layers N] [--out DIR] [--seed N]
  [--checkpoint DIR --ask QUESTION]";

/// Flags, with working defaults.
struct Args {
    model: Option<PathBuf>,
    k: usize,
    entities: usize,
    heldout: usize,
    epochs: usize,
    retriever_steps: usize,
    batch: usize,
    d_model: usize,
    layers: usize,
    out: PathBuf,
    seed: u64,
    checkpoint: Option<PathBuf>,
    ask: Option<String>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            model: None,
            k: 1,
            entities: 3000,
            heldout: 300,
            epochs: 6,
            retriever_steps: 400,
            batch: 64,
            d_model: 64,
            layers: 1,
            out: PathBuf::from("runs/rag"),
            seed: 1,
            checkpoint: None,
            ask: None,
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
        match flag.as_str() {
            "--model" => a.model = Some(PathBuf::from(value)),
            "--k" => a.k = num(&value)?.clamp(1, 8),
            "--entities" => a.entities = num(&value)?.max(30),
            "--heldout" => a.heldout = num(&value)?.max(3),
            "--epochs" => a.epochs = num(&value)?,
            "--retriever-steps" => a.retriever_steps = num(&value)?,
            "--batch" => a.batch = num(&value)?.max(2),
            "--d-model" => a.d_model = num(&value)?,
            "--layers" => a.layers = num(&value)?.max(1),
            "--out" => a.out = PathBuf::from(value),
            "--seed" => a.seed = num(&value)? as u64,
            "--checkpoint" => a.checkpoint = Some(PathBuf::from(value)),
            "--ask" => a.ask = Some(value),
            _ => return Err(bad(&flag, &value)),
        }
    }
    if a.ask.is_some() != a.checkpoint.is_some() {
        return Err(Error::Unsupported(format!(
            "--ask and --checkpoint go together\n{USAGE}"
        )));
    }
    Ok(a)
}

fn main() {
    if let Err(e) = parse_args().and_then(run) {
        eprintln!("rag: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let ctx = Context::new()?;
    println!("adapter: {}", ctx.adapter_summary());
    match (&args.checkpoint, &args.ask) {
        (Some(dir), Some(question)) => ask(&ctx, &args, dir, question),
        _ => train(&ctx, &args),
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Longest question and passage, in the retriever's and the generator's pieces.
const MAX_TEXT: usize = 40;

/// Turns texts into unit vectors: the pretrained sentence encoder, or the contrastive encoder
/// trained here over word pieces.
enum Retriever {
    Pretrained(Box<SentenceEncoder>),
    Trained {
        plan: Box<Plan>,
        embeddings: Var,
        batch: usize,
        pieces: Pieces,
    },
}

impl Retriever {
    fn name(&self) -> &'static str {
        match self {
            Retriever::Pretrained(_) => "all-MiniLM-L6-v2 (pretrained)",
            Retriever::Trained { .. } => "contrastive encoder trained here",
        }
    }

    fn dim(&self, d_model: usize) -> usize {
        match self {
            Retriever::Pretrained(e) => e.dim(),
            Retriever::Trained { .. } => d_model,
        }
    }

    /// Unit embeddings of `texts`, flat `[n, dim]`.
    fn embed(&mut self, ctx: &Context, texts: &[&str]) -> Result<Vec<f32>> {
        match self {
            Retriever::Pretrained(e) => Ok(e.embed(ctx, texts)?.concat()),
            Retriever::Trained {
                plan,
                embeddings,
                batch,
                pieces,
            } => {
                let mut out = Vec::new();
                for group in texts.chunks(*batch) {
                    let ids: Vec<Vec<u32>> = group.iter().map(|t| pieces.encode(t)).collect();
                    let mut rows: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
                    rows.resize(*batch, &[]);
                    let (ids, mask, pool) = pool_weights(&rows, MAX_TEXT);
                    plan.set_input_u32(ctx, "text_ids", &ids)?;
                    plan.set_input_u32(ctx, "text_mask", &mask)?;
                    plan.set_input_f32(ctx, "text_pool", &pool)?;
                    plan.step(ctx)?;
                    let e = plan.read_f32(ctx, *embeddings)?;
                    out.extend_from_slice(&e[..group.len() * (e.len() / *batch)]);
                }
                Ok(out)
            }
        }
    }
}

fn retriever_config(args: &Args, pieces: &Pieces) -> ContrastiveConfig {
    ContrastiveConfig {
        vocab: pieces.len(),
        d_model: args.d_model,
        heads: 4,
        layers: 1,
        d_ff: 2 * args.d_model,
        max_len: MAX_TEXT,
        temperature: 0.05,
    }
}

/// The inference side of the trained retriever over `store`.
fn trained_retriever(ctx: &Context, args: &Args, store: &mut ParamStore) -> Result<Retriever> {
    let pieces = Pieces::new();
    let batch = 64;
    let (g, embeddings) =
        ContrastiveEncoder::embedding_graph(retriever_config(args, &pieces), batch)?;
    let spec = PlanSpec {
        outputs: vec![embeddings],
        mode: Mode::Eval,
        ..Default::default()
    };
    Ok(Retriever::Trained {
        plan: Box::new(Plan::compile(ctx, &g, store, &spec)?),
        embeddings,
        batch,
        pieces,
    })
}

/// Trains the contrastive encoder on (question, its passage) pairs of the training entities.
fn train_retriever(
    ctx: &Context,
    args: &Args,
    kb: &KnowledgeBase,
    store: &mut ParamStore,
) -> Result<Vec<(f64, f64)>> {
    let pieces = Pieces::new();
    let cfg = retriever_config(args, &pieces);
    let b = 64;
    let (g, loss) = ContrastiveEncoder::training_graph(cfg, b)?;
    let spec = PlanSpec {
        watch: vec![loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-3)))),
        seed: args.seed,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx, &g, store, &spec)?;
    let questions: Vec<Question> = (0..args.entities).flat_map(|i| kb.questions(i)).collect();
    let passages: Vec<Vec<u32>> = (0..args.entities)
        .map(|i| pieces.encode(&kb.passage(i)))
        .collect();
    let q_ids: Vec<Vec<u32>> = questions.iter().map(|q| pieces.encode(&q.text)).collect();
    let mut curve = Vec::new();
    let mut bar = Progress::new(args.retriever_steps as u64, "retriever");
    let mut epoch = 0u64;
    'train: loop {
        for chunk in Batches::new(questions.len(), b, args.seed ^ 0x7e7, epoch) {
            if plan.step_count() as usize >= args.retriever_steps {
                break 'train;
            }
            // One question per entity in a batch: two questions about one entity would make
            // its passage both the positive and a negative.
            let mut seen = std::collections::BTreeSet::new();
            let chunk: Vec<usize> = chunk
                .into_iter()
                .filter(|&i| seen.insert(questions[i].entity))
                .collect();
            if chunk.len() < b {
                continue;
            }
            let qs: Vec<&[u32]> = chunk.iter().map(|&i| q_ids[i].as_slice()).collect();
            let ps: Vec<&[u32]> = chunk
                .iter()
                .map(|&i| passages[questions[i].entity].as_slice())
                .collect();
            for (side, rows) in [("q", qs), ("p", ps)] {
                let (ids, mask, pool) = pool_weights(&rows, MAX_TEXT);
                plan.set_input_u32(ctx, &format!("{side}_ids"), &ids)?;
                plan.set_input_u32(ctx, &format!("{side}_mask"), &mask)?;
                plan.set_input_f32(ctx, &format!("{side}_pool"), &pool)?;
            }
            plan.step(ctx)?;
            for r in plan.readings(ctx)? {
                curve.push((r.step as f64, r.values[0][0] as f64));
            }
            let last = curve.last().map_or(f64::NAN, |c| c.1);
            bar.set(plan.step_count(), &format!("loss {last:.3}"));
        }
        epoch += 1;
    }
    for r in plan.flush_readings(ctx)? {
        curve.push((r.step as f64, r.values[0][0] as f64));
    }
    bar.finish();
    Ok(curve)
}

/// An index over every passage of `kb`, each vector's metadata naming its entity.
fn build_index(
    ctx: &Context,
    retriever: &mut Retriever,
    kb: &KnowledgeBase,
    dim: usize,
) -> Result<VectorIndex> {
    let passages = kb.passages();
    let mut index = VectorIndex::new(ctx, dim)?;
    for (start, group) in passages.chunks(256).enumerate() {
        let texts: Vec<&str> = group.iter().map(String::as_str).collect();
        let vectors = retriever.embed(ctx, &texts)?;
        let metas = group
            .iter()
            .enumerate()
            .map(|(k, text)| Meta {
                text: text.clone(),
                source: "knowledge base".into(),
                position: (start * 256 + k) as u64,
            })
            .collect();
        index.add(ctx, &vectors, metas)?;
    }
    Ok(index)
}

/// The entities of the top `k` passages for each question, best first.
fn retrieve(
    ctx: &Context,
    retriever: &mut Retriever,
    index: &VectorIndex,
    questions: &[Question],
    k: usize,
) -> Result<Vec<Vec<usize>>> {
    let mut out = Vec::with_capacity(questions.len());
    for group in questions.chunks(256) {
        let texts: Vec<&str> = group.iter().map(|q| q.text.as_str()).collect();
        let q = retriever.embed(ctx, &texts)?;
        for hits in index.search(ctx, &q, k)? {
            out.push(
                hits.iter()
                    .filter_map(|h| index.meta(h.id).map(|m| m.position as usize))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// The generator's source: the question, then each passage after a `|`.
fn source(pieces: &Pieces, question: &str, passages: &[String]) -> Vec<u32> {
    let mut text = question.to_string();
    for p in passages {
        text.push_str(" | ");
        text.push_str(p);
    }
    pieces.encode(&text)
}

fn generator_config(args: &Args, pieces: &Pieces) -> Seq2SeqConfig {
    Seq2SeqConfig {
        vocab: pieces.len(),
        d_model: args.d_model,
        heads: 4,
        encoder_layers: args.layers,
        decoder_layers: args.layers,
        d_ff: 4 * args.d_model,
        dropout: 0.1,
        norm: ResidualNorm::Post,
        max_src: 16 + args.k * (MAX_TEXT + 2),
        max_tgt: 12,
        label_smoothing: 0.1,
        tie_embeddings: true,
    }
}

/// Exact-match accuracy of greedy answers to `examples` (source, answer pieces).
fn exact_match(
    ctx: &Context,
    translator: &mut Translator,
    examples: &[(Vec<u32>, Vec<u32>)],
    shape: BatchShape,
) -> Result<f64> {
    let b = translator.batch();
    let mut right = 0;
    for chunk in examples.chunks(b) {
        let idx: Vec<usize> = (0..chunk.len()).collect();
        let batch = Seq2SeqBatch::gather(chunk, &idx, BatchShape { batch: b, ..shape })?;
        let out = translator.translate(ctx, &batch.src, &batch.src_mask)?;
        right += chunk.iter().zip(&out).filter(|((_, t), o)| o == &t).count();
    }
    Ok(right as f64 / examples.len().max(1) as f64)
}

fn train(ctx: &Context, args: &Args) -> Result<()> {
    let start = Instant::now();
    std::fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, e))?;
    let kb = KnowledgeBase::generate(args.seed, args.entities + args.heldout);
    let pieces = Pieces::new();
    let train_q: Vec<Question> = (0..args.entities).flat_map(|i| kb.questions(i)).collect();
    let test_q: Vec<Question> = (args.entities..args.entities + args.heldout)
        .flat_map(|i| kb.questions(i))
        .collect();
    println!(
        "knowledge base: {} passages ({} entities for training, {} never seen in training); {} + {} questions",
        kb.entities.len(),
        args.entities,
        args.heldout,
        train_q.len(),
        test_q.len()
    );

    // 1. The retriever and the index.
    let mut store = ParamStore::new(args.seed);
    let mut retriever_curve = Vec::new();
    let mut retriever = match &args.model {
        Some(dir) => Retriever::Pretrained(Box::new(SentenceEncoder::load(ctx, dir)?)),
        None => {
            retriever_curve = train_retriever(ctx, args, &kb, &mut store)?;
            trained_retriever(ctx, args, &mut store)?
        }
    };
    let dim = retriever.dim(args.d_model);
    let index = build_index(ctx, &mut retriever, &kb, dim)?;
    let k_eval = args.k.max(5);
    let test_hits = retrieve(ctx, &mut retriever, &index, &test_q, k_eval)?;
    let recall = |hits: &[Vec<usize>], qs: &[Question], k: usize| {
        hits.iter()
            .zip(qs)
            .filter(|(h, q)| h.iter().take(k).any(|&e| e == q.entity))
            .count() as f64
            / qs.len().max(1) as f64
    };
    let (recall1, recall5) = (
        recall(&test_hits, &test_q, 1),
        recall(&test_hits, &test_q, 5),
    );
    println!(
        "retriever: {}; held-out recall@1 {:.1}%, recall@5 {:.1}% over {} passages",
        retriever.name(),
        100.0 * recall1,
        100.0 * recall5,
        index.len()
    );

    // 2. The generator, on the training questions with what the retriever returns for them
    // (the gold passage put in, at a random place, when it was missed).
    let train_hits = retrieve(ctx, &mut retriever, &index, &train_q, args.k)?;
    let mut order = kiln::data::normal_noise(args.seed ^ 0x5eed, train_q.len());
    let passages = kb.passages();
    let train_ex: Vec<(Vec<u32>, Vec<u32>)> = train_q
        .iter()
        .zip(&train_hits)
        .zip(order.iter_mut())
        .map(|((q, hits), r)| {
            let mut chosen: Vec<usize> = hits.clone();
            if !chosen.contains(&q.entity) {
                let at = (r.abs() * 1000.0) as usize % chosen.len().max(1);
                if chosen.is_empty() {
                    chosen.push(q.entity);
                } else {
                    chosen[at] = q.entity;
                }
            }
            let texts: Vec<String> = chosen.iter().map(|&e| passages[e].clone()).collect();
            (
                source(&pieces, &q.text, &texts),
                pieces.encode_after_space(&q.answer),
            )
        })
        .collect();
    let cfg = generator_config(args, &pieces);
    let shape = BatchShape {
        batch: args.batch,
        src_len: cfg.max_src,
        tgt_len: cfg.max_tgt,
    };
    let (graph, _, vars) = Seq2Seq::training_graph(cfg, args.batch)?;
    let (peak, schedule) = Schedule::noam(cfg.d_model, 400);
    let adam = AdamConfig {
        beta2: 0.98,
        eps: 1e-9,
        ..AdamConfig::adam(peak)
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
    let mut translator = Translator::new(ctx, cfg, 100, &mut store)?;
    // Every 9th held-out question with its retrieved passages: the per-epoch progress figure.
    let probe: Vec<(Vec<u32>, Vec<u32>)> = test_q
        .iter()
        .zip(&test_hits)
        .step_by(9)
        .map(|(q, hits)| {
            let texts: Vec<String> = hits
                .iter()
                .take(args.k)
                .map(|&e| passages[e].clone())
                .collect();
            (
                source(&pieces, &q.text, &texts),
                pieces.encode_after_space(&q.answer),
            )
        })
        .collect();
    let mut epoch_lines = String::from("epoch,step,heldout_exact_probe,elapsed_s\n");
    let steps_per_epoch = train_ex.len().div_ceil(args.batch);
    let mut bar = Progress::new((steps_per_epoch * args.epochs) as u64, "generator");
    let mut curve: Vec<(f64, f64)> = Vec::new();
    let mut csv = String::from("step,epoch,loss,elapsed_s\n");
    let gen_start = Instant::now();
    for epoch in 0..args.epochs {
        for chunk in Batches::new(train_ex.len(), args.batch, args.seed, epoch as u64) {
            let batch = Seq2SeqBatch::gather(&train_ex, &chunk, shape)?;
            plan.set_input_u32(ctx, "src", &batch.src)?;
            plan.set_input_u32(ctx, "src_mask", &batch.src_mask)?;
            plan.set_input_u32(ctx, "tgt_in", &batch.tgt_in)?;
            plan.set_input_u32(ctx, "tgt_out", &batch.tgt_out)?;
            plan.step(ctx)?;
            for r in plan.readings(ctx)? {
                curve.push((r.step as f64, r.values[0][0] as f64));
                csv.push_str(&format!(
                    "{},{epoch},{},{:.2}\n",
                    r.step,
                    r.values[0][0],
                    gen_start.elapsed().as_secs_f64()
                ));
            }
            let last = curve.last().map_or(f64::NAN, |c| c.1);
            bar.set(
                plan.step_count(),
                &format!("epoch {} loss {last:.3}", epoch + 1),
            );
        }
        for r in plan.flush_readings(ctx)? {
            curve.push((r.step as f64, r.values[0][0] as f64));
        }
        let probe_exact = exact_match(ctx, &mut translator, &probe, shape)?;
        bar.println(&format!(
            "epoch {}: held-out exact match {:.1}% ({} questions, retrieved passages) at {:.0} s",
            epoch + 1,
            100.0 * probe_exact,
            probe.len(),
            gen_start.elapsed().as_secs_f64()
        ));
        epoch_lines.push_str(&format!(
            "{},{},{probe_exact},{:.1}\n",
            epoch + 1,
            plan.step_count(),
            gen_start.elapsed().as_secs_f64()
        ));
    }
    bar.finish();
    let epochs_path = args.out.join("epochs.csv");
    std::fs::write(&epochs_path, epoch_lines).map_err(|e| io_error(&epochs_path, e))?;

    // 3. Held-out entities, four ways.
    let with_passages =
        |qs: &[Question], chosen: &dyn Fn(usize) -> Vec<usize>, kb: &KnowledgeBase| {
            qs.iter()
                .enumerate()
                .map(|(i, q)| {
                    let texts: Vec<String> = chosen(i).iter().map(|&e| kb.passage(e)).collect();
                    let answer = kb
                        .questions(q.entity)
                        .into_iter()
                        .find(|x| x.text == q.text)
                        .map_or(q.answer.clone(), |x| x.answer);
                    (
                        source(&pieces, &q.text, &texts),
                        pieces.encode_after_space(&answer),
                    )
                })
                .collect::<Vec<_>>()
        };
    let top_k = |hits: &[Vec<usize>]| {
        let hits = hits.to_vec();
        move |i: usize| hits[i].iter().take(args.k).copied().collect::<Vec<usize>>()
    };
    let retrieved = exact_match(
        ctx,
        &mut translator,
        &with_passages(&test_q, &top_k(&test_hits), &kb),
        shape,
    )?;
    let closed = exact_match(
        ctx,
        &mut translator,
        &with_passages(&test_q, &|_| Vec::new(), &kb),
        shape,
    )?;
    let gold = exact_match(
        ctx,
        &mut translator,
        &with_passages(&test_q, &|i| vec![test_q[i].entity], &kb),
        shape,
    )?;
    let edited_kb = kb.edited(args.seed ^ 0xed);
    let edited_index = build_index(ctx, &mut retriever, &edited_kb, dim)?;
    let edited_hits = retrieve(ctx, &mut retriever, &edited_index, &test_q, args.k)?;
    let edited = exact_match(
        ctx,
        &mut translator,
        &with_passages(&test_q, &top_k(&edited_hits), &edited_kb),
        shape,
    )?;
    println!(
        "held-out exact match: with retrieval {:.1}%, closed book {:.1}%, gold passage {:.1}%, after editing the knowledge base {:.1}%",
        100.0 * retrieved,
        100.0 * closed,
        100.0 * gold,
        100.0 * edited
    );
    show_examples(
        ctx,
        &mut translator,
        &pieces,
        &test_q,
        &test_hits,
        &kb,
        args,
        shape,
    )?;

    // 4. What the run leaves behind.
    let csv_path = args.out.join("metrics.csv");
    std::fs::write(&csv_path, csv).map_err(|e| io_error(&csv_path, e))?;
    kiln::viz::line_plot(
        &args.out.join("loss.png"),
        &[("generator", &curve), ("retriever", &retriever_curve)],
        "rag: training losses",
        "step",
        "loss",
        true,
    )?;
    kiln::viz::bar_chart(
        &args.out.join("accuracy.png"),
        &[
            ("retrieval", retrieved),
            ("closed book", closed),
            ("gold passage", gold),
            ("edited KB", edited),
            ("recall@1", recall1),
            ("recall@5", recall5),
        ],
        "rag: held-out entities",
        "fraction",
        Some(1.0),
    )?;
    let mut meta = BTreeMap::new();
    for (key, value) in [
        ("entities", args.entities.to_string()),
        ("heldout", args.heldout.to_string()),
        ("seed", args.seed.to_string()),
        ("k", args.k.to_string()),
        ("d_model", args.d_model.to_string()),
        ("layers", args.layers.to_string()),
        (
            "retriever",
            if args.model.is_some() {
                "pretrained"
            } else {
                "trained"
            }
            .to_string(),
        ),
    ] {
        meta.insert(key.to_string(), value);
    }
    checkpoint::save(ctx, &args.out, &store, &[], plan.step_count(), &meta)?;
    let wall = start.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "exact_match_with_retrieval": retrieved,
        "exact_match_closed_book": closed,
        "exact_match_gold_passage": gold,
        "exact_match_edited_knowledge": edited,
        "retrieval_recall_at_1": recall1,
        "retrieval_recall_at_5": recall5,
        "retriever": retriever.name(),
        "k": args.k,
        "heldout_questions": test_q.len(),
        "generator_steps": plan.step_count(),
        "wall_s": wall,
        "adapter": ctx.adapter_summary(),
    });
    let path = args.out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::Unsupported(format!("summary: {e}")))?;
    std::fs::write(&path, &text).map_err(|e| io_error(&path, e))?;
    println!("{text}");
    Ok(())
}

/// A few held-out questions with the passages retrieved for them and the answers given.
#[allow(clippy::too_many_arguments)]
fn show_examples(
    ctx: &Context,
    translator: &mut Translator,
    pieces: &Pieces,
    questions: &[Question],
    hits: &[Vec<usize>],
    kb: &KnowledgeBase,
    args: &Args,
    shape: BatchShape,
) -> Result<()> {
    let shown: Vec<(Vec<u32>, Vec<u32>)> = questions
        .iter()
        .zip(hits)
        .step_by(97)
        .take(4)
        .map(|(q, h)| {
            let texts: Vec<String> = h.iter().take(args.k).map(|&e| kb.passage(e)).collect();
            (
                source(pieces, &q.text, &texts),
                pieces.encode_after_space(&q.answer),
            )
        })
        .collect();
    let idx: Vec<usize> = (0..shown.len()).collect();
    let b = translator.batch();
    let batch = Seq2SeqBatch::gather(&shown, &idx, BatchShape { batch: b, ..shape })?;
    let out = translator.translate(ctx, &batch.src, &batch.src_mask)?;
    for ((src, want), got) in shown.iter().zip(&out) {
        println!(
            "  {}\n    -> {} (want {})",
            pieces.decode(src),
            pieces.decode(got),
            pieces.decode(want)
        );
    }
    Ok(())
}

/// Answers one question with a trained checkpoint, printing the passages it used.
fn ask(ctx: &Context, args: &Args, dir: &Path, question: &str) -> Result<()> {
    let ck = checkpoint::load(&dir.join(checkpoint::CHECKPOINT_FILE))?;
    let num = |key: &str| -> Result<usize> {
        ck.metadata
            .get(key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                Error::Unsupported(format!("the checkpoint in {} has no {key}", dir.display()))
            })
    };
    let run_args = Args {
        entities: num("entities")?,
        heldout: num("heldout")?,
        seed: num("seed")? as u64,
        k: num("k")?,
        d_model: num("d_model")?,
        layers: num("layers")?,
        model: args.model.clone(),
        ..Args::default()
    };
    let pretrained = ck.metadata.get("retriever").map(String::as_str) == Some("pretrained");
    if pretrained && run_args.model.is_none() {
        return Err(Error::Unsupported(
            "this checkpoint retrieves with the pretrained encoder: give --model DIR".into(),
        ));
    }
    let pieces = Pieces::new();
    let kb = KnowledgeBase::generate(run_args.seed, run_args.entities + run_args.heldout);
    let mut store = ParamStore::new(run_args.seed);
    let cfg = generator_config(&run_args, &pieces);
    let mut translator = Translator::new(ctx, cfg, 1, &mut store)?;
    let mut retriever = match (&run_args.model, pretrained) {
        (Some(dir), true) => Retriever::Pretrained(Box::new(SentenceEncoder::load(ctx, dir)?)),
        _ => trained_retriever(ctx, &run_args, &mut store)?,
    };
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    let dim = retriever.dim(run_args.d_model);
    let index = build_index(ctx, &mut retriever, &kb, dim)?;
    let q = Question {
        text: question.to_string(),
        answer: String::new(),
        entity: 0,
    };
    let hits = retrieve(
        ctx,
        &mut retriever,
        &index,
        std::slice::from_ref(&q),
        run_args.k,
    )?;
    let texts: Vec<String> = hits[0].iter().map(|&e| kb.passage(e)).collect();
    let src = source(&pieces, question, &texts);
    if src.len() > cfg.max_src {
        println!(
            "(the question is long: its end is cut to fit {} pieces)",
            cfg.max_src
        );
    }
    let shape = BatchShape {
        batch: 1,
        src_len: cfg.max_src,
        tgt_len: cfg.max_tgt,
    };
    let batch = Seq2SeqBatch::gather(&[(src, Vec::new())], &[0], shape)?;
    let out = translator.translate(ctx, &batch.src, &batch.src_mask)?;
    println!("passages:");
    for t in &texts {
        println!("  - {t}");
    }
    println!("answer: {}", pieces.decode(&out[0]));
    Ok(())
}
