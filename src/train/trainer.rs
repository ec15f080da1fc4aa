//! The training loop every kiln program shares: epochs of steps over the caller's batches,
//! readings that never stall the GPU, `metrics.csv`, an evaluation each epoch, checkpoints that
//! carry the model's config, exact resumption and a `summary.json` that is always valid JSON.
//!
//! The loop knows nothing of the model. The caller hands it something that takes steps (a
//! [`Plan`], a [`Gan`](crate::gan::Gan)'s two plans, or a type of its own implementing
//! [`Steps`]), a batch source per epoch, a step closure that feeds one batch and steps, and an
//! evaluation closure. Everything on the step path stays as the plan made it: one submission a
//! step, no readback; readings are polled without waiting and the GPU is waited for only at
//! the end of an epoch, where evaluation and the checkpoint need it anyway.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::{ParamStore, Plan};
use crate::io::checkpoint::{self, Checkpoint, BATCH_KEY, CONFIG_KEY, EPOCH_KEY};
use crate::progress::Progress;
use crate::tensor::Tensor;

use super::interrupt::{CatchSignals, Stopper};
use super::log::{CsvLog, Curves};

/// Held-out scores an evaluation returns, by name (`heldout_accuracy`, `exact_match`, ...),
/// in the order they are printed and logged.
pub type Scores = Vec<(String, f64)>;

/// What the loop drives: one or more plans that step, report scalar readings and own optimizer
/// state. Implemented by [`Plan`] and [`Gan`](crate::gan::Gan).
pub trait Steps {
    /// Names of the scalar values each reading carries: the columns of `metrics.csv`.
    fn reading_names(&self) -> Vec<String>;
    /// Readings of finished steps, `(step, values)` oldest first; waits for the GPU only
    /// when `wait` is true.
    fn take_readings(&mut self, ctx: &Context, wait: bool) -> Result<Vec<(u64, Vec<f64>)>>;
    /// Steps taken so far.
    fn step_count(&self) -> u64;
    /// Continues the count (resuming: schedules and bias corrections follow it).
    fn set_step_count(&mut self, step: u64);
    /// The optimizer's state tensors by name, saved beside the parameters.
    fn optimizer_state(&self) -> Vec<(String, &Tensor)>;
    /// The learning rate at `step`, logged beside the readings when there is one.
    fn learning_rate_at(&self, _step: u64) -> Option<f64> {
        None
    }
}

impl Steps for Plan {
    /// `loss` for a training plan's first watched value, `watch<k>` for the others.
    fn reading_names(&self) -> Vec<String> {
        let trains = self.learning_rate().is_some();
        (0..self.watch_count())
            .map(|k| match k {
                0 if trains => "loss".to_string(),
                k => format!("watch{k}"),
            })
            .collect()
    }

    fn take_readings(&mut self, ctx: &Context, wait: bool) -> Result<Vec<(u64, Vec<f64>)>> {
        let readings = if wait {
            self.flush_readings(ctx)?
        } else {
            self.readings(ctx)?
        };
        Ok(readings
            .into_iter()
            .map(|r| {
                let values = r
                    .values
                    .iter()
                    .map(|v| v.first().map_or(f64::NAN, |&x| x as f64))
                    .collect();
                (r.step, values)
            })
            .collect())
    }

    fn step_count(&self) -> u64 {
        Plan::step_count(self)
    }

    fn set_step_count(&mut self, step: u64) {
        Plan::set_step_count(self, step)
    }

    fn optimizer_state(&self) -> Vec<(String, &Tensor)> {
        Plan::optimizer_state(self)
    }

    fn learning_rate_at(&self, step: u64) -> Option<f64> {
        self.learning_rate_at_step(step).map(f64::from)
    }
}

/// How a [`Trainer`] runs.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Epochs in the whole run; a resumed run continues to this count.
    pub epochs: usize,
    /// Show a progress bar (a terminal) or plain lines (a log) on stderr, and one line per
    /// epoch. Off, the loop prints nothing.
    pub progress: bool,
    /// What a step closure's returned count counts: `metrics.csv` logs `<unit>_per_s`.
    pub unit: String,
    /// Names for the readings' columns, replacing [`Steps::reading_names`].
    pub columns: Option<Vec<String>>,
    /// The progress bar's label.
    pub label: String,
    /// Ctrl-C (SIGINT or SIGTERM) during [`Trainer::fit`] stops the run after its current
    /// step, saved to resume exactly there, instead of ending the process (a second one, a
    /// second or more later, still does; Unix only). For programs that own the process; a
    /// host application stops a run with [`Trainer::stopper`] instead.
    pub stop_on_ctrl_c: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 1,
            progress: false,
            unit: "examples".into(),
            columns: None,
            label: "train".into(),
            stop_on_ctrl_c: false,
        }
    }
}

impl TrainOptions {
    /// `epochs` epochs, silent, counting examples.
    pub fn new(epochs: usize) -> TrainOptions {
        TrainOptions {
            epochs,
            ..Default::default()
        }
    }

    /// Shows the progress bar (or plain lines off a terminal) and a line per epoch.
    pub fn show_progress(self) -> TrainOptions {
        TrainOptions {
            progress: true,
            ..self
        }
    }

    /// Ctrl-C stops and saves the run ([`TrainOptions::stop_on_ctrl_c`]).
    pub fn stop_on_ctrl_c(self) -> TrainOptions {
        TrainOptions {
            stop_on_ctrl_c: true,
            ..self
        }
    }

    /// Names what a step closure's count counts (`tokens`, `images`): `<unit>_per_s`.
    pub fn counting(self, unit: &str) -> TrainOptions {
        TrainOptions {
            unit: unit.to_string(),
            ..self
        }
    }
}

/// Where an epoch ended, as an evaluation closure sees it.
#[derive(Clone, Debug)]
pub struct EpochEnd {
    /// Epochs completed, from 1.
    pub epoch: usize,
    /// Steps completed.
    pub step: u64,
    /// The run's directory (for pictures written each epoch).
    pub dir: PathBuf,
    /// The mean of each watched reading over this epoch's steps (NaN where none arrived): what
    /// an evaluation hook reads to judge the epoch as a whole (a GAN's D(x) pinned at 1).
    pub means: Vec<(String, f64)>,
}

impl EpochEnd {
    /// This epoch's mean of the reading `name`, if it is watched.
    pub fn mean(&self, name: &str) -> Option<f64> {
        self.means.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// What [`Trainer::fit`] measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Steps completed, resumed ones included.
    pub steps: u64,
    /// Epochs completed, resumed ones included.
    pub epochs: usize,
    /// The last reading of each named value (NaN where none arrived).
    pub last: Vec<(String, f64)>,
    /// The last evaluation's scores.
    pub scores: Scores,
    /// Every reading of this session, by name, as `(step, value)`, then every evaluation
    /// score, by name, at the step its epoch ended.
    pub curves: Vec<(String, Vec<(f64, f64)>)>,
    /// Counted items (the step closure's returns) per second of this session's training.
    pub rate: f64,
    /// Seconds this session spent in the loop.
    pub train_s: f64,
}

impl Report {
    /// The last reading of `name`.
    pub fn last(&self, name: &str) -> Option<f64> {
        lookup(&self.last, name)
    }

    /// The last evaluation's score `name`.
    pub fn score(&self, name: &str) -> Option<f64> {
        lookup(&self.scores, name)
    }

    #[cfg(feature = "viz")]
    /// Draws the readings named in `names` against the step as a PNG (`log_y`: a logarithmic
    /// y axis, for a loss falling over decades).
    pub fn plot(
        &self,
        path: impl AsRef<Path>,
        names: &[&str],
        title: &str,
        log_y: bool,
    ) -> Result<()> {
        let series: Vec<(&str, &[(f64, f64)])> =
            names.iter().map(|&n| (n, self.curve(n))).collect();
        let y_label = names.join(", ");
        crate::viz::line_plot(path.as_ref(), &series, title, "step", &y_label, log_y)
    }

    /// The readings of `name` as `(step, value)` points.
    pub fn curve(&self, name: &str) -> &[(f64, f64)] {
        self.curves
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, c)| c.as_slice())
    }
}

fn lookup(list: &[(String, f64)], name: &str) -> Option<f64> {
    list.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
}

/// The accuracy of a classifier over `examples`: an eval `plan` whose output `logits` is
/// `[B, classes]` is fed `B` examples at a time by `feed` (which writes the plan's inputs and
/// returns the batch's labels); the last batch is padded by repeating its first example, and
/// only its real rows count. One step and one readback per batch.
pub fn classifier_accuracy<T: Clone>(
    ctx: &Context,
    plan: &mut Plan,
    logits: crate::graph::Var,
    examples: &[T],
    mut feed: impl FnMut(&Context, &Plan, &[T]) -> Result<Vec<u32>>,
) -> Result<f64> {
    let shape = plan.output(logits)?.shape().to_vec();
    let [batch, classes] = shape[..] else {
        return Err(Error::Graph(format!(
            "classifier_accuracy: logits must be [B, classes], got {shape:?}"
        )));
    };
    let mut right = 0.0;
    for chunk in examples.chunks(batch.max(1)) {
        let mut padded = chunk.to_vec();
        padded.resize(batch, chunk[0].clone());
        let labels = feed(ctx, plan, &padded)?;
        plan.step(ctx)?;
        let out = plan.read_f32(ctx, logits)?;
        let real = &labels[..chunk.len().min(labels.len())];
        right += crate::metrics::accuracy(&out, classes, real) * real.len() as f64;
    }
    Ok(right / examples.len().max(1) as f64)
}

/// An evaluation that measures nothing, for runs without held-out data.
pub fn no_evaluation<S>(_: &Context, _: &mut S, _: &EpochEnd) -> Result<Scores> {
    Ok(Scores::new())
}

/// A training run in a directory: `metrics.csv`, `eval.csv`, `checkpoint.safetensors`,
/// `summary.json`.
pub struct Trainer {
    dir: PathBuf,
    options: TrainOptions,
    config: String,
    first_epoch: usize,
    /// The step of the checkpoint this run resumed from.
    resumed_at: Option<u64>,
    /// `(taken, of)` batches of `first_epoch` the resumed run had already taken (it stopped
    /// mid-epoch).
    skip_batches: Option<(usize, usize)>,
    stopper: Stopper,
    created: Instant,
    adapter: String,
}

impl Trainer {
    /// A run writing into `dir` (created), whose checkpoints carry `config` (serialised with
    /// serde as JSON under the metadata key `config`; [`Checkpoint::config`] reads it back).
    pub fn new(
        ctx: &Context,
        dir: impl AsRef<Path>,
        options: TrainOptions,
        config: &impl Serialize,
    ) -> Result<Trainer> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            message: format!("cannot create the run directory: {e}"),
        })?;
        let config = serde_json::to_string(config).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            message: format!("cannot serialise the model's config: {e}"),
        })?;
        Ok(Trainer {
            dir,
            options,
            config,
            first_epoch: 0,
            resumed_at: None,
            skip_batches: None,
            stopper: Stopper::default(),
            created: Instant::now(),
            adapter: ctx.adapter_summary(),
        })
    }

    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A handle that stops this run after its current step (see [`Stopper`]), from any thread.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Epochs already completed (non-zero after [`Trainer::resume`]).
    pub fn first_epoch(&self) -> usize {
        self.first_epoch
    }

    /// Continues the run saved in `ckpt`: parameters into `store`, the optimizer's state and
    /// step count into `steps` (compiled against `store`), and the epoch count, so the next
    /// epoch is the one the saved run would have taken next, with the same batches and noise.
    /// `metrics.csv` and `eval.csv` are then appended to rather than started afresh.
    ///
    /// The run goes on in this trainer's folder: the checkpoint's own (its history continues
    /// there), or a new one. A folder that already holds another run's checkpoint is an
    /// error, before anything is written, rather than that run overwritten.
    pub fn resume(
        &mut self,
        ctx: &Context,
        ckpt: &Checkpoint,
        store: &mut ParamStore,
        steps: &mut dyn Steps,
    ) -> Result<()> {
        let here = self.dir.join(checkpoint::CHECKPOINT_FILE);
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        if here.exists() && !same(&here, &ckpt.path) {
            return Err(Error::Io {
                path: self.dir.display().to_string(),
                message: format!(
                    "already holds a run (its {}); resuming {} here would overwrite it: \
                     continue in the resumed run's own folder, or in a new one",
                    checkpoint::CHECKPOINT_FILE,
                    ckpt.path.display()
                ),
            });
        }
        let unused = checkpoint::restore(ctx, ckpt, store, &steps.optimizer_state())?;
        if !unused.is_empty() {
            return Err(Error::Io {
                path: ckpt.path.display().to_string(),
                message: format!(
                    "holds optimizer state this run does not have: {unused:?} (another optimizer or model?)"
                ),
            });
        }
        let step = ckpt.step().unwrap_or(0);
        steps.set_step_count(step);
        self.first_epoch = ckpt.epoch().unwrap_or(0);
        self.skip_batches = ckpt.batch();
        self.resumed_at = Some(step);
        if self.options.progress {
            let within = match self.skip_batches {
                None => String::new(),
                Some((taken, of)) => format!(" and {taken} of the next's {of} batches"),
            };
            eprintln!(
                "resumed {} at step {step}, after epoch {}{within}; writing to {}",
                ckpt.path.display(),
                self.first_epoch,
                self.dir.display()
            );
        }
        Ok(())
    }

    /// Trains from the next epoch to [`TrainOptions::epochs`].
    ///
    /// Each epoch takes the batches `batches(epoch)` gives (`epoch` from 0) and calls
    /// `step(ctx, steps, batch)` for each; the closure feeds the batch, steps, and returns how
    /// many items (examples, tokens, images) it trained on, for the rate. After each epoch the
    /// GPU is waited for, the readings are flushed to `metrics.csv`, `evaluate` runs and its
    /// scores go to `eval.csv`, and the checkpoint is saved. `summary.json` is written at the
    /// end (extend it with [`Trainer::write_summary`]).
    ///
    /// Asked to stop ([`Trainer::stopper`], or Ctrl-C with [`TrainOptions::stop_on_ctrl_c`]),
    /// it finishes the step it is on, flushes the readings, saves a checkpoint that records
    /// the batches taken in the epoch (a resumed run skips them and continues exactly), writes
    /// `summary.json` with `"interrupted": true` and returns [`Error::Interrupted`].
    pub fn fit<S, B, I>(
        &mut self,
        ctx: &Context,
        steps: &mut S,
        store: &ParamStore,
        mut batches: impl FnMut(usize) -> I,
        mut step: impl FnMut(&Context, &mut S, B) -> Result<usize>,
        mut evaluate: impl FnMut(&Context, &mut S, &EpochEnd) -> Result<Scores>,
    ) -> Result<Report>
    where
        S: Steps,
        I: IntoIterator<Item = B>,
    {
        let names = self
            .options
            .columns
            .clone()
            .unwrap_or_else(|| steps.reading_names());
        let with_lr = steps.learning_rate_at(1).is_some();
        let mut header: Vec<String> = vec!["step".into(), "epoch".into()];
        header.extend(names.iter().cloned());
        if with_lr {
            header.push("lr".into());
        }
        header.push(format!("{}_per_s", self.options.unit));
        header.push("elapsed_s".into());
        let mut metrics = CsvLog::open(&self.dir.join("metrics.csv"), header, self.resumed_at)?;
        let mut eval_log: Option<CsvLog> = None;
        let mut report = Report {
            steps: steps.step_count(),
            epochs: self.first_epoch,
            last: names.iter().map(|n| (n.clone(), f64::NAN)).collect(),
            ..Default::default()
        };

        let start = Instant::now();
        let mut collect = Collector {
            names: names.clone(),
            with_lr,
            start,
            pending: BTreeMap::new(),
            items_done: 0,
            curves: Curves::new(&names),
        };
        let mut bar: Option<Progress> = None;
        let mut done_steps = 0u64;
        let mut saved = false;
        let mut score_curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();

        let signals = self.options.stop_on_ctrl_c.then(CatchSignals::install);
        let mut epoch_start = steps.step_count();
        for epoch in self.first_epoch..self.options.epochs {
            let epoch_batches: Vec<B> = batches(epoch).into_iter().collect();
            let in_epoch = epoch_batches.len();
            if in_epoch == 0 {
                // Training nothing while reporting success would look like a run.
                return Err(Error::Unsupported(format!(
                    "epoch {} has no batches: the data holds fewer examples than one batch \
                     (lower the batch size or add data)",
                    epoch + 1
                )));
            }
            let skip = match self.skip_batches.take() {
                Some((taken, of)) if of != in_epoch => {
                    return Err(Error::Unsupported(format!(
                        "the checkpoint stopped after {taken} of the {of} batches of epoch {}, \
                         but this run's epoch has {in_epoch}: resume with the data and batch \
                         size it was trained with",
                        epoch + 1
                    )));
                }
                Some((taken, _)) => taken,
                None => 0,
            };
            if self.options.progress && bar.is_none() {
                let left = (self.options.epochs - epoch) * in_epoch - skip;
                bar = Some(Progress::new(left as u64, &self.options.label));
            }
            for (taken, batch) in epoch_batches.into_iter().enumerate().skip(skip) {
                let items = step(ctx, steps, batch)?;
                collect.pending.insert(steps.step_count(), (epoch, items));
                done_steps += 1;
                let arrived = steps.take_readings(ctx, false)?;
                collect.absorb(arrived, steps, &mut metrics, &mut report);
                if let Some(bar) = &mut bar {
                    bar.set(done_steps, &self.bar_message(epoch, &report));
                }
                if self.stopper.take(signals.is_some()) {
                    let arrived = steps.take_readings(ctx, true)?;
                    collect.absorb(arrived, steps, &mut metrics, &mut report);
                    metrics.flush()?;
                    self.save_at(ctx, store, steps, epoch, Some((taken + 1, in_epoch)))?;
                    if let Some(mut bar) = bar.take() {
                        bar.finish();
                    }
                    report.epochs = epoch;
                    report.steps = steps.step_count();
                    report.train_s = start.elapsed().as_secs_f64();
                    report.rate = collect.items_done as f64 / report.train_s.max(1e-9);
                    self.write_summary(&report, serde_json::json!({ "interrupted": true }))?;
                    return Err(Error::Interrupted {
                        dir: self.dir.display().to_string(),
                        step: report.steps,
                    });
                }
            }
            let arrived = steps.take_readings(ctx, true)?;
            collect.absorb(arrived, steps, &mut metrics, &mut report);
            metrics.flush()?;

            let end = EpochEnd {
                epoch: epoch + 1,
                step: steps.step_count(),
                dir: self.dir.clone(),
                means: collect.curves.means_after(epoch_start),
            };
            epoch_start = end.step;
            let scores = evaluate(ctx, steps, &end)?;
            if !scores.is_empty() {
                let log = match &mut eval_log {
                    Some(log) => log,
                    None => {
                        let mut header = vec!["epoch".to_string(), "step".to_string()];
                        header.extend(scores.iter().map(|(n, _)| n.clone()));
                        header.push("elapsed_s".into());
                        eval_log.insert(CsvLog::open(
                            &self.dir.join("eval.csv"),
                            header,
                            self.resumed_at,
                        )?)
                    }
                };
                let mut row = vec![end.epoch.to_string(), end.step.to_string()];
                row.extend(scores.iter().map(|(_, v)| v.to_string()));
                row.push(format!("{:.2}", start.elapsed().as_secs_f64()));
                log.push(row);
                log.flush()?;
            }
            for (name, v) in &scores {
                match score_curves.iter_mut().find(|(n, _)| n == name) {
                    Some((_, c)) => c.push((end.step as f64, *v)),
                    None => score_curves.push((name.clone(), vec![(end.step as f64, *v)])),
                }
            }
            report.scores = scores;
            report.epochs = end.epoch;
            report.steps = end.step;
            self.save(ctx, store, steps, end.epoch)?;
            saved = true;
            if let Some(bar) = &mut bar {
                bar.println(&epoch_line(
                    &end,
                    &report,
                    self.created.elapsed().as_secs_f64(),
                ));
            }
        }
        if let Some(mut bar) = bar {
            bar.finish();
        }
        if !saved {
            // Nothing to train (zero epochs, or resumed at the end): still leave a checkpoint
            // of what there is (a mid-epoch stop still marked), so the run directory is
            // complete.
            self.save_at(ctx, store, steps, report.epochs, self.skip_batches)?;
        }
        report.steps = steps.step_count();
        report.train_s = start.elapsed().as_secs_f64();
        report.rate = collect.items_done as f64 / report.train_s.max(1e-9);
        report.curves = collect.curves.into_named();
        report.curves.extend(score_curves);
        self.write_summary(&report, Value::Null)?;
        // A stop asked for during the last evaluation or save: the run is complete and saved,
        // but the caller should still stop rather than go on to its own long work.
        if self.stopper.take(signals.is_some()) {
            return Err(Error::Interrupted {
                dir: self.dir.display().to_string(),
                step: report.steps,
            });
        }
        Ok(report)
    }

    fn bar_message(&self, epoch: usize, report: &Report) -> String {
        let mut msg = format!("epoch {}/{}", epoch + 1, self.options.epochs);
        // Until the first reading arrives there is nothing to show (NaN would look like a fault).
        for (name, v) in report.last.iter().take(4).filter(|(_, v)| !v.is_nan()) {
            msg.push_str(&format!(" {name} {v:.4}"));
        }
        // The last evaluation, so a held-out score stays in sight during the next epoch.
        for (name, v) in report.scores.iter().take(2).filter(|(_, v)| v.is_finite()) {
            msg.push_str(&format!(" | {name} {v:.4}"));
        }
        msg
    }

    /// Saves the checkpoint now: parameters, the optimizer's state, the step and epoch
    /// counts and the config, atomically.
    pub fn save(
        &self,
        ctx: &Context,
        store: &ParamStore,
        steps: &dyn Steps,
        epoch: usize,
    ) -> Result<()> {
        self.save_at(ctx, store, steps, epoch, None)
    }

    /// [`Trainer::save`] after `epoch` whole epochs and, stopped mid-epoch, `(taken, of)`
    /// batches of the next.
    fn save_at(
        &self,
        ctx: &Context,
        store: &ParamStore,
        steps: &dyn Steps,
        epoch: usize,
        batch: Option<(usize, usize)>,
    ) -> Result<()> {
        let mut meta = BTreeMap::new();
        meta.insert(CONFIG_KEY.to_string(), self.config.clone());
        meta.insert(EPOCH_KEY.to_string(), epoch.to_string());
        if let Some((taken, of)) = batch {
            meta.insert(BATCH_KEY.to_string(), format!("{taken}/{of}"));
        }
        checkpoint::save(
            ctx,
            &self.dir,
            store,
            &steps.optimizer_state(),
            steps.step_count(),
            &meta,
        )
    }

    /// Writes `summary.json` atomically: the run's standard figures (`steps`, `epochs`,
    /// `final_<reading>`, the last scores by name, `<unit>_per_s`, `wall_s`, `adapter`) with
    /// the fields of `extra` (a JSON object, or null) added over them. Values that do not exist
    /// (no step was taken, a reading was NaN) are `null`, never `NaN`, so the file always parses.
    pub fn write_summary(&self, report: &Report, extra: Value) -> Result<()> {
        let mut map = Map::new();
        map.insert("steps".into(), report.steps.into());
        map.insert("epochs".into(), report.epochs.into());
        for (name, v) in &report.last {
            map.insert(format!("final_{name}"), number(*v));
        }
        for (name, v) in &report.scores {
            map.insert(name.clone(), number(*v));
        }
        map.insert(format!("{}_per_s", self.options.unit), number(report.rate));
        map.insert(
            "wall_s".into(),
            number(self.created.elapsed().as_secs_f64()),
        );
        map.insert("adapter".into(), self.adapter.clone().into());
        match extra {
            Value::Object(fields) => map.extend(fields),
            Value::Null => {}
            other => {
                map.insert("extra".into(), other);
            }
        }
        let path = self.dir.join("summary.json");
        let mut text =
            serde_json::to_string_pretty(&Value::Object(map)).map_err(|e| Error::Io {
                path: path.display().to_string(),
                message: format!("cannot serialise the summary: {e}"),
            })?;
        text.push('\n');
        checkpoint::write_atomically(&self.dir, &path, text.as_bytes())
    }
}

/// Turns readings into `metrics.csv` rows, curves and the report's last values.
struct Collector {
    names: Vec<String>,
    with_lr: bool,
    start: Instant,
    /// Epoch and item count of each step whose reading has not arrived yet.
    pending: BTreeMap<u64, (usize, usize)>,
    items_done: usize,
    curves: Curves,
}

impl Collector {
    fn absorb(
        &mut self,
        readings: Vec<(u64, Vec<f64>)>,
        steps: &dyn Steps,
        metrics: &mut CsvLog,
        report: &mut Report,
    ) {
        for (at, values) in readings {
            let (epoch, items) = self.pending.remove(&at).unwrap_or((0, 0));
            self.items_done += items;
            let elapsed = self.start.elapsed().as_secs_f64();
            let mut row = vec![at.to_string(), epoch.to_string()];
            for (k, v) in values.iter().copied().enumerate().take(self.names.len()) {
                // Readings are f32 on the GPU: printed as such, without f64's spurious digits.
                row.push((v as f32).to_string());
                self.curves.push(k, at, v);
                report.last[k].1 = v;
            }
            row.resize(2 + self.names.len(), f64::NAN.to_string());
            if self.with_lr {
                let lr = steps.learning_rate_at(at).unwrap_or(f64::NAN);
                row.push((lr as f32).to_string());
            }
            row.push(format!("{:.1}", self.items_done as f64 / elapsed.max(1e-9)));
            row.push(format!("{elapsed:.2}"));
            metrics.push(row);
        }
    }
}

/// A JSON number, or `null` for NaN and infinities (which JSON cannot hold).
pub fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn epoch_line(end: &EpochEnd, report: &Report, wall: f64) -> String {
    let mut line = format!("epoch {}", end.epoch);
    let mut parts: Vec<String> = report
        .last
        .iter()
        .map(|(n, v)| format!("{n} {v:.4}"))
        .collect();
    parts.extend(report.scores.iter().map(|(n, v)| format!("{n} {v:.4}")));
    if !parts.is_empty() {
        line.push_str(": ");
        line.push_str(&parts.join(", "));
    }
    line.push_str(&format!(" ({wall:.0} s)"));
    line
}
