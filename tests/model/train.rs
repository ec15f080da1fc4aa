//! The shared training loop ([`kiln::Trainer`]): what it writes (metrics, evaluations,
//! checkpoints with the model's config, a summary that always parses), that a resumed run
//! continues bitwise, and that every model config survives a checkpoint with every field
//! changed from its default.

use std::path::{Path, PathBuf};

use kiln::data::{Batches, Vocab};
use kiln::io::checkpoint;
use kiln::nn::{ContrastiveConfig, DcganConfig, LmConfig, ResidualNorm, Seq2Seq, Seq2SeqConfig};
use kiln::optim::{AdamConfig, Schedule, SgdConfig};
use kiln::train::{no_evaluation, Scores, TrainOptions};
use kiln::{DType, Graph, Optimizer, ParamStore, Plan, PlanSpec, Trainer, Var};

use super::{ctx, Rng};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The model's config as a test program would save it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Mlp {
    hidden: usize,
    lr: f32,
}

/// A two-layer MLP classifying 8 points of a noisy XOR, with dropout so the plan's seed and
/// step count matter to a resumed run; batch 4.
fn mlp_plan(cfg: Mlp, store: &mut ParamStore) -> (Plan, Var) {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 2], DType::F32).unwrap();
    let y = g.input("y", &[4], DType::U32).unwrap();
    let l1 = kiln::nn::Linear::new(&mut g, "fc1", 2, cfg.hidden).unwrap();
    let l2 = kiln::nn::Linear::new(&mut g, "fc2", cfg.hidden, 2).unwrap();
    let h = l1.forward(&mut g, x).unwrap();
    let h = g.relu(h).unwrap();
    let h = g.dropout(h, 0.1).unwrap();
    let logits = l2.forward(&mut g, h).unwrap();
    let loss = g.cross_entropy(logits, y, Default::default()).unwrap();
    let optimizer = Optimizer::Adam(AdamConfig::adam(cfg.lr));
    let spec = PlanSpec {
        seed: 7,
        ..PlanSpec::training(loss, optimizer)
    };
    (Plan::compile(ctx(), &g, store, &spec).unwrap(), logits)
}

/// Eight points: XOR's corners with a little noise, labels the XOR.
fn points() -> (Vec<f32>, Vec<u32>) {
    let mut rng = Rng::new(3);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for k in 0..8u32 {
        let (a, b) = (k & 1, (k >> 1) & 1);
        xs.push(a as f32 + 0.1 * rng.unit() as f32);
        xs.push(b as f32 + 0.1 * rng.unit() as f32);
        ys.push(a ^ b);
    }
    (xs, ys)
}

/// Trains the MLP in `dir` to `epochs` epochs (resuming from `dir` when `resume`), with an
/// evaluation of the loss-free kind (training accuracy); returns the store.
fn run_mlp(dir: &Path, epochs: usize, resume: bool) -> (ParamStore, kiln::train::Report) {
    let (store, report) = run_mlp_until(dir, epochs, resume, None);
    (store, report.unwrap())
}

/// How a test asks a run to stop.
#[derive(Clone, Copy, PartialEq)]
enum StopBy {
    /// The trainer's [`kiln::train::Stopper`].
    Stopper,
    /// SIGINT raised in the step, as Ctrl-C would (with `stop_on_ctrl_c`).
    #[cfg(unix)]
    Signal,
    /// The `Stopper`, in a run that catches Ctrl-C but gets none.
    #[cfg(unix)]
    StopperCatchingCtrlC,
}

/// [`run_mlp`], asking the run to stop once it has taken step `stop_after` (if given): the
/// store, and what `fit` returned.
fn run_mlp_until(
    dir: &Path,
    epochs: usize,
    resume: bool,
    stop_after: Option<(u64, StopBy)>,
) -> (ParamStore, kiln::Result<kiln::train::Report>) {
    let cfg = Mlp {
        hidden: 8,
        lr: 0.05,
    };
    let mut store = ParamStore::new(11);
    let (mut plan, _) = mlp_plan(cfg, &mut store);
    let mut options = TrainOptions::new(epochs);
    // Only the signal test catches Ctrl-C: tests run in parallel, and a caught signal is one
    // flag for the whole process.
    options.stop_on_ctrl_c = stop_after.is_some_and(|(_, by)| by != StopBy::Stopper);
    let mut run = Trainer::new(ctx(), dir, options, &cfg).unwrap();
    if resume {
        let ck = checkpoint::load(dir).unwrap();
        assert_eq!(ck.config::<Mlp>().unwrap(), cfg);
        run.resume(ctx(), &ck, &mut store, &mut plan).unwrap();
    }
    let (xs, ys) = points();
    let stopper = run.stopper();
    let report = run.fit(
        ctx(),
        &mut plan,
        &store,
        |epoch| Batches::new(8, 4, 5, epoch as u64).full(),
        |ctx, plan, chunk| {
            let x: Vec<f32> = chunk
                .iter()
                .flat_map(|&i| [xs[2 * i], xs[2 * i + 1]])
                .collect();
            let y: Vec<u32> = chunk.iter().map(|&i| ys[i]).collect();
            plan.set_input_f32(ctx, "x", &x)?;
            plan.set_input_u32(ctx, "y", &y)?;
            plan.step(ctx)?;
            match stop_after {
                Some((at, StopBy::Stopper)) if at == plan.step_count() => stopper.stop(),
                #[cfg(unix)]
                Some((at, StopBy::StopperCatchingCtrlC)) if at == plan.step_count() => {
                    stopper.stop()
                }
                // SAFETY: raise() runs the handler fit installed, in this thread, first.
                // Twice, as `timeout` delivers it (to the process and to its group): the
                // second is the same request, not a second Ctrl-C that quits at once.
                #[cfg(unix)]
                Some((at, StopBy::Signal)) if at == plan.step_count() => unsafe {
                    libc::raise(libc::SIGINT);
                    libc::raise(libc::SIGINT);
                },
                _ => {}
            }
            Ok(chunk.len())
        },
        |_, plan, end| {
            // Something that changes each epoch, so eval.csv's rows can be told apart.
            Ok(Scores::from([
                ("epoch_seen".to_string(), end.epoch as f64),
                ("steps_seen".to_string(), plan.step_count() as f64),
            ]))
        },
    );
    (store, report)
}

fn values(store: &ParamStore) -> Vec<(String, Vec<u32>)> {
    store
        .iter()
        .map(|(n, t)| {
            let bits = t
                .to_vec_f32(ctx())
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            (n.clone(), bits)
        })
        .collect()
}

#[test]
fn a_resumed_run_ends_bitwise_where_the_uninterrupted_one_does() {
    let (straight, interrupted) = (fresh_dir("straight"), fresh_dir("interrupted"));
    let (whole, report) = run_mlp(&straight, 6, false);
    assert_eq!(report.steps, 12, "6 epochs of 2 full batches");
    run_mlp(&interrupted, 3, false);
    let (resumed, resumed_report) = run_mlp(&interrupted, 6, true);
    assert_eq!(resumed_report.steps, 12);
    assert_eq!(resumed_report.epochs, 6);
    // Adam's moments, the step count (bias correction, dropout's seed) and the batch order of
    // each epoch all continue, so every weight matches to the bit.
    assert_eq!(values(&whole), values(&resumed));
    let ck = checkpoint::load(&interrupted).unwrap();
    assert_eq!((ck.step(), ck.epoch()), (Some(12), Some(6)));

    // The resumed run appended: one header and 12 step rows, as the uninterrupted run wrote.
    let rows = |dir: &Path, file: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        text.lines().map(String::from).collect()
    };
    let (a, b) = (
        rows(&straight, "metrics.csv"),
        rows(&interrupted, "metrics.csv"),
    );
    assert_eq!(a.len(), 13);
    assert_eq!(b.len(), 13);
    assert_eq!(a[0], "step,epoch,loss,lr,examples_per_s,elapsed_s");
    let loss_of = |row: &String| row.split(',').take(3).collect::<Vec<_>>().join(",");
    assert_eq!(
        a.iter().map(loss_of).collect::<Vec<_>>(),
        b.iter().map(loss_of).collect::<Vec<_>>()
    );
    let evals = rows(&interrupted, "eval.csv");
    assert_eq!(evals[0], "epoch,step,epoch_seen,steps_seen,elapsed_s");
    let firsts: Vec<&str> = evals[1..]
        .iter()
        .map(|r| r.split(',').next().unwrap())
        .collect();
    assert_eq!(firsts, ["1", "2", "3", "4", "5", "6"]);
}

/// The rows of a run's `file` without their timing columns.
fn logged(dir: &Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let timing = |c: &&str| c.ends_with("_per_s") || *c == "elapsed_s";
    let keep: Vec<bool> = header.iter().map(|c| !timing(c)).collect();
    text.lines()
        .map(|row| {
            let fields = row.split(',').zip(&keep).filter(|(_, k)| **k);
            fields.map(|(f, _)| f).collect::<Vec<_>>().join(",")
        })
        .collect()
}

#[test]
fn a_run_stopped_mid_epoch_resumes_and_ends_bitwise_where_the_uninterrupted_one_does() {
    let (straight, stopped) = (fresh_dir("stop-straight"), fresh_dir("stop-stopped"));
    let (whole, _) = run_mlp(&straight, 4, false);
    // Epochs of 2 batches: step 5 is the first batch of the third epoch.
    let (_, result) = run_mlp_until(&stopped, 4, false, Some((5, StopBy::Stopper)));
    match result {
        Err(kiln::Error::Interrupted { step: 5, dir }) => assert_eq!(Path::new(&dir), stopped),
        other => panic!("expected a stop after step 5, got {other:?}"),
    }
    let ck = checkpoint::load(&stopped).unwrap();
    assert_eq!(
        (ck.step(), ck.epoch(), ck.batch()),
        (Some(5), Some(2), Some((1, 2)))
    );
    let summary = std::fs::read_to_string(stopped.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["steps"], 5);
    // Resumed with no epoch left to train: the checkpoint it leaves still marks the stop.
    run_mlp(&stopped, 2, true);
    assert_eq!(checkpoint::load(&stopped).unwrap().batch(), Some((1, 2)));
    // Resumed: the rest of the third epoch's batches, then the fourth, as if never stopped.
    let (resumed, report) = run_mlp(&stopped, 4, true);
    assert_eq!((report.steps, report.epochs), (8, 4));
    assert_eq!(values(&whole), values(&resumed));
    for file in ["metrics.csv", "eval.csv"] {
        assert_eq!(logged(&straight, file), logged(&stopped, file), "{file}");
    }

    // Stopped on an epoch's last batch: resumed, it evaluates and saves that epoch once.
    let at_end = fresh_dir("stop-at-end");
    let (_, result) = run_mlp_until(&at_end, 4, false, Some((4, StopBy::Stopper)));
    assert!(matches!(
        result,
        Err(kiln::Error::Interrupted { step: 4, .. })
    ));
    assert_eq!(checkpoint::load(&at_end).unwrap().batch(), Some((2, 2)));
    let (resumed, _) = run_mlp(&at_end, 4, true);
    assert_eq!(values(&whole), values(&resumed));
    for file in ["metrics.csv", "eval.csv"] {
        assert_eq!(logged(&straight, file), logged(&at_end, file), "{file}");
    }
}

/// Ctrl-C during `fit` (SIGINT, raised in the step's thread) stops the run like a `Stopper`,
/// and the process's own handling of SIGINT is back once `fit` returns.
#[cfg(unix)]
#[test]
fn ctrl_c_during_training_stops_and_saves_the_run() {
    let handler = || unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old);
        old.sa_sigaction
    };
    let (dir, before) = (fresh_dir("stop-signal"), handler());
    let (_, result) = run_mlp_until(&dir, 4, false, Some((3, StopBy::Signal)));
    assert!(
        matches!(result, Err(kiln::Error::Interrupted { step: 3, .. })),
        "{result:?}"
    );
    assert_eq!(checkpoint::load(&dir).unwrap().batch(), Some((1, 2)));
    assert_eq!(before, handler(), "SIGINT's handler is put back");
    // A run that catches Ctrl-C and gets none puts the handler back as well.
    let quiet = fresh_dir("stop-signal-quiet");
    let (_, result) = run_mlp_until(&quiet, 4, false, Some((3, StopBy::StopperCatchingCtrlC)));
    assert!(matches!(
        result,
        Err(kiln::Error::Interrupted { step: 3, .. })
    ));
    assert_eq!(before, handler(), "SIGINT's handler is put back");
}

#[test]
fn a_run_resumed_into_a_folder_holding_another_run_is_refused_before_anything_is_written() {
    let (first, second) = (fresh_dir("guard-first"), fresh_dir("guard-second"));
    run_mlp(&first, 1, false);
    run_mlp(&second, 2, false);
    let before = std::fs::read(second.join(checkpoint::CHECKPOINT_FILE)).unwrap();
    let cfg = Mlp {
        hidden: 8,
        lr: 0.05,
    };
    let mut store = ParamStore::new(11);
    let (mut plan, _) = mlp_plan(cfg, &mut store);
    let mut run = Trainer::new(ctx(), &second, TrainOptions::new(3), &cfg).unwrap();
    let ck = checkpoint::load(&first).unwrap();
    let err = run.resume(ctx(), &ck, &mut store, &mut plan).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("already holds a run"), "{err}");
    assert_eq!(
        std::fs::read(second.join(checkpoint::CHECKPOINT_FILE)).unwrap(),
        before,
        "the other run's checkpoint is untouched"
    );
    // Into its own folder (however the path is spelled) or a new one, it goes on.
    let spelled = first.join(".").join(checkpoint::CHECKPOINT_FILE);
    let mut own = Trainer::new(ctx(), &first, TrainOptions::new(3), &cfg).unwrap();
    let ck = checkpoint::load(&spelled).unwrap();
    own.resume(ctx(), &ck, &mut store, &mut plan).unwrap();
    let mut fresh = Trainer::new(ctx(), fresh_dir("guard-new"), TrainOptions::new(3), &cfg);
    fresh
        .as_mut()
        .unwrap()
        .resume(ctx(), &ck, &mut store, &mut plan)
        .unwrap();
    // The examples' --out: named, else the resumed folder, else their default.
    let (out, resume) = (Path::new("out"), Path::new("runs/old"));
    assert_eq!(
        kiln::train::run_dir(Some(out), Some(resume), "runs/lm"),
        out
    );
    assert_eq!(kiln::train::run_dir(None, Some(resume), "runs/lm"), resume);
    assert_eq!(
        kiln::train::run_dir(None, None, "runs/lm"),
        Path::new("runs/lm")
    );
    let file = first.join(checkpoint::CHECKPOINT_FILE);
    assert_eq!(kiln::train::run_dir(None, Some(&file), "runs/lm"), first);
}

#[test]
fn a_model_config_out_of_range_is_an_error_not_an_abort() {
    let good = LmConfig {
        vocab: 40,
        d_model: 32,
        heads: 4,
        layers: 2,
        d_ff: 64,
        dropout: 0.1,
        norm: ResidualNorm::Pre,
        window: 16,
    };
    assert!(good.check().is_ok());
    // What a hand-edited checkpoint config can say: each refused by name, at once (a window
    // of 10^12 once aborted on allocating the position table; a million layers hung).
    let cases = [
        (
            LmConfig {
                window: 1_000_000_000_000,
                ..good
            },
            "window",
        ),
        (
            LmConfig {
                layers: 1_000_000,
                ..good
            },
            "layers",
        ),
        (LmConfig { heads: 5, ..good }, "heads"),
        (LmConfig { vocab: 0, ..good }, "vocab"),
        (
            LmConfig {
                d_model: 1 << 15,
                vocab: 1 << 16,
                heads: 1,
                ..good
            },
            "vocab x d_model",
        ),
        (
            LmConfig {
                dropout: f32::NAN,
                ..good
            },
            "dropout",
        ),
        // Sizes whose product overflows: refused, not a wrapped or panicking multiplication.
        (
            LmConfig {
                window: usize::MAX,
                d_model: usize::MAX,
                ..good
            },
            "d_model",
        ),
    ];
    for (cfg, field) in cases {
        let err = cfg.check().unwrap_err().to_string();
        assert!(err.contains(field), "{field}: {err}");
        let mut g = Graph::new();
        let built = kiln::nn::LanguageModel::new(&mut g, cfg);
        assert!(built.is_err(), "{field}: the model is not built");
    }
    // The translation model's config, by the same rules.
    let good = Seq2SeqConfig {
        max_src: 12,
        max_tgt: 10,
        ..Seq2SeqConfig::new(40, 32, 4, 1, 64)
    };
    assert!(good.check().is_ok());
    let cases = [
        (
            Seq2SeqConfig {
                max_src: 1 << 40,
                ..good
            },
            "max_src",
        ),
        (
            Seq2SeqConfig {
                decoder_layers: 0,
                ..good
            },
            "decoder_layers",
        ),
        (
            Seq2SeqConfig {
                label_smoothing: 1.5,
                ..good
            },
            "label_smoothing",
        ),
    ];
    for (cfg, field) in cases {
        let mut g = Graph::new();
        let err = Seq2Seq::new(&mut g, cfg).unwrap_err().to_string();
        assert!(err.contains(field), "{field}: {err}");
    }
    let gan = DcganConfig {
        size: 32,
        channels: 1,
        latent: 1 << 40,
        g_width: 16,
        d_width: 16,
    };
    let mut g = Graph::new();
    let err = kiln::nn::Generator::new(&mut g, gan)
        .unwrap_err()
        .to_string();
    assert!(err.contains("latent"), "{err}");
}

#[test]
fn a_run_of_zero_epochs_writes_a_summary_that_parses() {
    let dir = fresh_dir("zero");
    let cfg = Mlp { hidden: 4, lr: 0.1 };
    let mut store = ParamStore::new(1);
    let (mut plan, _) = mlp_plan(cfg, &mut store);
    let mut run = Trainer::new(ctx(), &dir, TrainOptions::new(0), &cfg).unwrap();
    let report = run
        .fit(
            ctx(),
            &mut plan,
            &store,
            |_| Vec::<Vec<usize>>::new(),
            |_, _, _| Ok(0),
            no_evaluation,
        )
        .unwrap();
    run.write_summary(
        &report,
        serde_json::json!({ "exact_match": f64::NAN, "task": "none" }),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["steps"], 0);
    assert_eq!(summary["epochs"], 0);
    // No reading arrived and NaN was asked for: both are null, never NaN.
    assert!(summary["final_loss"].is_null(), "{text}");
    assert!(summary["exact_match"].is_null(), "{text}");
    assert_eq!(summary["task"], "none");
    assert!(summary["adapter"].is_string());
    // The run directory is complete all the same: a checkpoint that rebuilds the model.
    let ck = checkpoint::load(&dir).unwrap();
    assert_eq!(ck.config::<Mlp>().unwrap(), cfg);
    assert_eq!((ck.step(), ck.epoch()), (Some(0), Some(0)));
}

/// Every config the examples save, each field away from its default.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct EveryConfig {
    seq2seq: Seq2SeqConfig,
    dcgan: DcganConfig,
    contrastive: ContrastiveConfig,
    lm: LmConfig,
    vocab: Vocab,
    adam: Optimizer,
    sgd: Optimizer,
    schedules: Vec<Schedule>,
}

#[test]
fn every_config_survives_a_checkpoint_and_rebuilds_the_saved_model() {
    let defaults = Seq2SeqConfig::new(1, 1, 1, 1, 1);
    let seq2seq = Seq2SeqConfig {
        vocab: 23,
        d_model: 24,
        heads: 3,
        encoder_layers: 2,
        decoder_layers: 1,
        d_ff: 40,
        dropout: 0.25,
        norm: ResidualNorm::Pre,
        max_src: 7,
        max_tgt: 5,
        label_smoothing: 0.05,
        tie_embeddings: true,
    };
    // A field left at its constructor's value would not show a field that is not saved.
    assert_ne!(seq2seq.norm, defaults.norm);
    assert_ne!(seq2seq.tie_embeddings, defaults.tie_embeddings);
    assert_ne!(seq2seq.label_smoothing, defaults.label_smoothing);
    let every = EveryConfig {
        seq2seq,
        dcgan: DcganConfig {
            size: 64,
            channels: 3,
            latent: 17,
            g_width: 12,
            d_width: 10,
        },
        contrastive: ContrastiveConfig {
            vocab: 90,
            d_model: 48,
            heads: 6,
            layers: 3,
            d_ff: 96,
            max_len: 21,
            temperature: 0.07,
        },
        lm: LmConfig {
            vocab: 31,
            d_model: 16,
            heads: 2,
            layers: 3,
            d_ff: 33,
            dropout: 0.3,
            norm: ResidualNorm::Post,
            window: 13,
        },
        vocab: Vocab::from_texts(["tab\there, \"quotes\", \\ and é, newline\n"]),
        adam: Optimizer::Adam(AdamConfig {
            beta1: 0.8,
            beta2: 0.95,
            eps: 1e-7,
            ..AdamConfig::adamw(3e-4, 0.02)
        }),
        sgd: Optimizer::Sgd(SgdConfig {
            dampening: 0.1,
            weight_decay: 1e-4,
            nesterov: true,
            ..SgdConfig::new(0.3, 0.9)
        }),
        schedules: vec![
            Schedule::Constant,
            Schedule::WarmupInverseSqrt { warmup: 17 },
            Schedule::WarmupCosine {
                warmup: 5,
                total: 99,
                min_factor: 0.125,
            },
        ],
    };

    // Train the Seq2Seq one step through the loop, so the checkpoint holds real weights.
    let dir = fresh_dir("configs");
    let mut store = ParamStore::new(9);
    let (graph, _, vars) = Seq2Seq::training_graph(seq2seq, 2).unwrap();
    let spec = PlanSpec::training(vars.loss, every.adam);
    let mut plan = Plan::compile(ctx(), &graph, &mut store, &spec).unwrap();
    let mut run = Trainer::new(ctx(), &dir, TrainOptions::new(1), &every).unwrap();
    let shape = seq2seq.batch_shape(2);
    let pairs = vec![(vec![4, 5, 6], vec![7, 8]), (vec![9], vec![10, 11, 12])];
    run.fit(
        ctx(),
        &mut plan,
        &store,
        |_| [vec![0, 1]],
        |ctx, plan, chunk| {
            let batch = kiln::data::Seq2SeqBatch::gather(&pairs, &chunk, shape)?;
            let tokens = Seq2Seq::feed(ctx, plan, &batch)?;
            plan.step(ctx)?;
            Ok(tokens)
        },
        no_evaluation,
    )
    .unwrap();

    // From the checkpoint alone: the config, every field, and the same model.
    let ck = checkpoint::load(dir.join(checkpoint::CHECKPOINT_FILE)).unwrap();
    let back: EveryConfig = ck.config().unwrap();
    assert_eq!(back, every);
    let mut rebuilt = ParamStore::new(0);
    let (graph, _, vars) = Seq2Seq::training_graph(back.seq2seq, 2).unwrap();
    let spec = PlanSpec::training(vars.loss, back.adam);
    let mut plan2 = Plan::compile(ctx(), &graph, &mut rebuilt, &spec).unwrap();
    run.resume(ctx(), &ck, &mut rebuilt, &mut plan2).unwrap();
    assert_eq!(values(&rebuilt), values(&store));
    assert_eq!(plan2.step_count(), 1);

    // A checkpoint whose config is of another program is an error naming the file.
    let err = ck.config::<Mlp>().unwrap_err().to_string();
    assert!(
        err.contains("checkpoint.safetensors") && err.contains("config"),
        "{err}"
    );
}
