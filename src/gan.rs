//! Adversarial training: a generator and a discriminator as two plans over one [`ParamStore`].
//!
//! Goodfellow et al.'s game with the non-saturating generator loss. Each step pair is
//!
//! 1. the discriminator's step: minimise `BCE(D(x), 1) + BCE(D(G(z)), 0)` over its own
//!    parameters, with `G(z)` detached so no gradient reaches the generator;
//! 2. the generator's step: minimise `BCE(D(G(z')), 1)` over its own parameters, on fresh noise.
//!
//! Both plans are compiled once; parameters are shared by name through the store, so the
//! generator's step sees the discriminator the previous step just updated. A model supplies its
//! two networks as graph builders ([`Players`]) whose parameters are named under `generator.`
//! and `discriminator.`; the DCGAN ([`crate::nn::DcganConfig`]) and the small MLP GAN of the tests
//! train through this same code.

use std::collections::VecDeque;

use crate::data::normal_noise;
use crate::error::Result;
use crate::graph::{Graph, ParamStore, Plan, PlanSpec, PlanStats, Var};
use crate::optim::{Optimizer, Schedule};
use crate::tensor::{DType, Tensor};
use crate::train::{Steps, Training};
use crate::Context;

/// A network applied inside a graph: `x` in, output out.
pub type Network = Box<dyn Fn(&mut Graph, Var) -> Result<Var>>;

/// The two players: how to declare them in a graph and the shapes of one sample.
pub trait Players {
    /// Declares both networks' parameters in `g` (named under `generator.` and
    /// `discriminator.`) and returns the generator (noise → sample) and the discriminator
    /// (sample → one logit per sample, shape `[B]`).
    fn declare(&self, g: &mut Graph) -> Result<(Network, Network)>;
    /// The shape of one noise vector (without the batch axis), e.g. `[latent, 1, 1]`.
    fn noise_shape(&self) -> Vec<usize>;
    /// The shape of one sample (without the batch axis), e.g. `[channels, size, size]`.
    fn sample_shape(&self) -> Vec<usize>;
}

/// The game's losses, over the discriminator's logits `r = D(x)` on real samples and
/// `f = D(G(z))` on generated ones (means over the batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum GanLoss {
    /// Goodfellow et al.'s: D minimises `BCE(r, 1) + BCE(f, 0)`, G minimises `BCE(f, 1)`
    /// (the non-saturating form).
    #[default]
    NonSaturating,
    /// Hinge (Lim & Ye 2017; SAGAN, BigGAN): D minimises `relu(1 − r) + relu(1 + f)`, G
    /// minimises `−f`. D stops pushing on samples it already scores past the margin.
    Hinge,
    /// Least squares (Mao et al. 2017, LSGAN): D minimises `½(r − 1)² + ½f²`, G minimises
    /// `½(f − 1)²`: the gradient grows with the distance from the target instead of vanishing.
    LeastSquares,
}

impl std::str::FromStr for GanLoss {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<GanLoss, String> {
        match s {
            "bce" | "non-saturating" => Ok(GanLoss::NonSaturating),
            "hinge" => Ok(GanLoss::Hinge),
            "ls" | "least-squares" => Ok(GanLoss::LeastSquares),
            _ => Err(format!("a GAN loss is bce, hinge or ls, got '{s}'")),
        }
    }
}

/// How a [`Gan`] trains.
#[derive(Clone, Debug)]
pub struct GanConfig {
    /// Samples per step, real and generated alike.
    pub batch: usize,
    /// The discriminator's update rule.
    pub d_optimizer: Optimizer,
    /// The generator's update rule.
    pub g_optimizer: Optimizer,
    /// Both players' learning rates over the run (a factor of each optimizer's rate).
    pub schedule: Schedule,
    /// Seeds the noise of every step (a function of the step number, so a resumed run draws
    /// the noise the uninterrupted one would have).
    pub seed: u64,
    /// The discriminator's target for real samples: 1, or below 1 for one-sided label
    /// smoothing (Salimans et al. 2016: 0.9 keeps D from growing overconfident on real data).
    /// The non-saturating and least-squares losses use it; the hinge loss has no target.
    pub real_label: f32,
    /// The losses both players minimise.
    pub loss: GanLoss,
    /// Keep a moving average of the generator's weights with this decay (as `ema.generator.*`
    /// in the store; [`Training::ema_decay`]), to sample from.
    pub ema_decay: Option<f32>,
}

/// What one step pair measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GanReading {
    /// The step pair (from 1).
    pub step: u64,
    /// The discriminator's loss on the real and generated batch.
    pub d_loss: f32,
    /// The generator's loss.
    pub g_loss: f32,
    /// Mean D(x) over the real batch: the probability the discriminator gives real samples.
    pub d_real: f32,
    /// Mean D(G(z)) over the generated batch, before the discriminator's update.
    pub d_fake: f32,
}

/// The two compiled steps of an adversarial game.
pub struct Gan {
    d_plan: Plan,
    g_plan: Plan,
    batch: usize,
    noise_len: usize,
    sample_len: usize,
    seed: u64,
    pending_d: VecDeque<(u64, [f32; 3])>,
    pending_g: VecDeque<(u64, f32)>,
}

impl Gan {
    /// Builds and compiles both steps; parameters are created in `store` on first use.
    pub fn new(
        ctx: &Context,
        players: &dyn Players,
        store: &mut ParamStore,
        config: &GanConfig,
    ) -> Result<Gan> {
        let b = config.batch;
        let batched = |shape: Vec<usize>| [vec![b], shape].concat();
        let mean_probability = |g: &mut Graph, logits: Var| -> Result<Var> {
            let p = g.activation(logits, crate::ops::elementwise::Activation::Sigmoid)?;
            g.mean_all(p)
        };

        let mut dg = Graph::new();
        let (generator, discriminator) = players.declare(&mut dg)?;
        let real = dg.input("real", &batched(players.sample_shape()), DType::F32)?;
        let z = dg.input("z", &batched(players.noise_shape()), DType::F32)?;
        let fake = generator(&mut dg, z)?;
        let fake = dg.detach(fake)?;
        let real_logits = discriminator(&mut dg, real)?;
        let fake_logits = discriminator(&mut dg, fake)?;
        let l_real = player_loss(
            &mut dg,
            config.loss,
            real_logits,
            Target::Real(config.real_label),
        )?;
        let l_fake = player_loss(&mut dg, config.loss, fake_logits, Target::Fake)?;
        let d_loss = dg.add(l_real, l_fake)?;
        let d_real = mean_probability(&mut dg, real_logits)?;
        let d_fake = mean_probability(&mut dg, fake_logits)?;

        let mut gg = Graph::new();
        let (generator, discriminator) = players.declare(&mut gg)?;
        let z = gg.input("z", &batched(players.noise_shape()), DType::F32)?;
        let fake = generator(&mut gg, z)?;
        let logits = discriminator(&mut gg, fake)?;
        let g_loss = player_loss(&mut gg, config.loss, logits, Target::Fooled)?;

        let d_spec = PlanSpec {
            watch: vec![d_loss, d_real, d_fake],
            training: Some(Training {
                params: Some(dg.trainable_params("discriminator.")),
                schedule: config.schedule,
                ..Training::new(d_loss, config.d_optimizer)
            }),
            seed: config.seed,
            ..Default::default()
        };
        let g_spec = PlanSpec {
            watch: vec![g_loss],
            training: Some(Training {
                params: Some(gg.trainable_params("generator.")),
                ema_decay: config.ema_decay,
                schedule: config.schedule,
                ..Training::new(g_loss, config.g_optimizer)
            }),
            seed: config.seed ^ 1,
            ..Default::default()
        };
        Ok(Gan {
            d_plan: Plan::compile(ctx, &dg, store, &d_spec)?,
            g_plan: Plan::compile(ctx, &gg, store, &g_spec)?,
            batch: b,
            noise_len: players.noise_shape().iter().product(),
            sample_len: players.sample_shape().iter().product(),
            seed: config.seed,
            pending_d: VecDeque::new(),
            pending_g: VecDeque::new(),
        })
    }

    /// One step pair on a batch of real samples (`batch × sample` values); the noise comes from
    /// the seed and the step number. Submits two command buffers and reads nothing back.
    pub fn step(&mut self, ctx: &Context, real: &[f32]) -> Result<()> {
        self.set_d_inputs(ctx, real)?;
        self.d_plan.step(ctx)?;
        self.set_g_inputs(ctx)?;
        self.g_plan.step(ctx)
    }

    /// The discriminator's inputs for the next step pair: `real` and its noise.
    fn set_d_inputs(&mut self, ctx: &Context, real: &[f32]) -> Result<()> {
        let step = self.d_plan.step_count() + 1;
        let noise = self.batch * self.noise_len;
        self.d_plan.set_input_f32(ctx, "real", real)?;
        self.d_plan
            .set_input_f32(ctx, "z", &normal_noise(self.seed ^ (step << 1), noise))
    }

    /// The generator's noise for the step pair the discriminator just took.
    fn set_g_inputs(&mut self, ctx: &Context) -> Result<()> {
        let step = self.d_plan.step_count();
        let noise = self.batch * self.noise_len;
        self.g_plan
            .set_input_f32(ctx, "z", &normal_noise(self.seed ^ (step << 1 | 1), noise))
    }

    /// Step pairs completed so far.
    pub fn step_count(&self) -> u64 {
        self.d_plan.step_count()
    }

    /// Continues a run from a checkpoint at `step` (noise and optimizer schedules follow it).
    pub fn set_step_count(&mut self, step: u64) {
        self.d_plan.set_step_count(step);
        self.g_plan.set_step_count(step);
    }

    /// Values per sample of a real batch.
    pub fn sample_len(&self) -> usize {
        self.sample_len
    }

    /// Readings of the step pairs whose values have arrived, oldest first; never waits.
    pub fn readings(&mut self, ctx: &Context) -> Result<Vec<GanReading>> {
        let d = self.d_plan.readings(ctx)?;
        let g = self.g_plan.readings(ctx)?;
        Ok(self.pair(d, g))
    }

    /// Waits for the GPU and returns every reading not yet returned.
    pub fn flush_readings(&mut self, ctx: &Context) -> Result<Vec<GanReading>> {
        let d = self.d_plan.flush_readings(ctx)?;
        let g = self.g_plan.flush_readings(ctx)?;
        Ok(self.pair(d, g))
    }

    /// Matches the two plans' readings by step: they arrive separately.
    fn pair(&mut self, d: Vec<crate::Reading>, g: Vec<crate::Reading>) -> Vec<GanReading> {
        let first = |r: &crate::Reading, k: usize| r.values[k].first().copied().unwrap_or(f32::NAN);
        self.pending_d.extend(
            d.iter()
                .map(|r| (r.step, [first(r, 0), first(r, 1), first(r, 2)])),
        );
        self.pending_g
            .extend(g.iter().map(|r| (r.step, first(r, 0))));
        let mut out = Vec::new();
        while let (Some(&(ds, dv)), Some(&(gs, gv))) =
            (self.pending_d.front(), self.pending_g.front())
        {
            if ds < gs {
                self.pending_d.pop_front();
            } else if gs < ds {
                self.pending_g.pop_front();
            } else {
                self.pending_d.pop_front();
                self.pending_g.pop_front();
                out.push(GanReading {
                    step: ds,
                    d_loss: dv[0],
                    g_loss: gv,
                    d_real: dv[1],
                    d_fake: dv[2],
                });
            }
        }
        out
    }

    /// Both optimizers' state tensors, named `d/...` and `g/...`, for a checkpoint.
    pub fn optimizer_state(&self) -> Vec<(String, &Tensor)> {
        let d = self.d_plan.optimizer_state().into_iter();
        let g = self.g_plan.optimizer_state().into_iter();
        d.map(|(n, t)| (format!("d/{n}"), t))
            .chain(g.map(|(n, t)| (format!("g/{n}"), t)))
            .collect()
    }

    /// Both players' learning rates at the last step pair, as the schedule gives them:
    /// (discriminator, generator).
    pub fn learning_rates(&self) -> (f32, f32) {
        let rate = |p: &Plan| p.learning_rate().unwrap_or(0.0);
        (rate(&self.d_plan), rate(&self.g_plan))
    }

    /// The compiled plans' statistics: (discriminator step, generator step).
    pub fn stats(&self) -> (PlanStats, PlanStats) {
        (self.d_plan.stats(), self.g_plan.stats())
    }

    /// One step pair on `real`, as [`Gan::step`] takes it, run a dispatch at a time
    /// ([`Plan::profile`]): `(kernel label, seconds)` of the discriminator's step, then the
    /// generator's.
    pub fn profile(&mut self, ctx: &Context, real: &[f32]) -> Result<Vec<(String, f64)>> {
        self.set_d_inputs(ctx, real)?;
        let mut times = self.d_plan.profile(ctx)?;
        self.set_g_inputs(ctx)?;
        times.extend(self.g_plan.profile(ctx)?);
        Ok(times)
    }
}

/// What a loss term pushes the logits towards.
#[derive(Clone, Copy)]
enum Target {
    /// The discriminator on real samples, with its label for them.
    Real(f32),
    /// The discriminator on generated samples.
    Fake,
    /// The generator, on its own samples: towards being scored real.
    Fooled,
}

/// One term of a player's loss over logits `[B]`, a scalar mean over the batch.
fn player_loss(g: &mut Graph, loss: GanLoss, logits: Var, target: Target) -> Result<Var> {
    let b = g.shape(logits)?[0];
    match loss {
        GanLoss::NonSaturating => {
            let label = match target {
                Target::Real(label) => label,
                Target::Fake => 0.0,
                Target::Fooled => 1.0,
            };
            let labels = g.constant(&[b], &vec![label; b])?;
            g.bce_with_logits(logits, labels)
        }
        GanLoss::Hinge => {
            let term = match target {
                Target::Real(_) => {
                    let margin = g.scale(logits, -1.0, 1.0)?;
                    g.relu(margin)?
                }
                Target::Fake => {
                    let margin = g.scale(logits, 1.0, 1.0)?;
                    g.relu(margin)?
                }
                Target::Fooled => g.scale(logits, -1.0, 0.0)?,
            };
            g.mean_all(term)
        }
        GanLoss::LeastSquares => {
            let label = match target {
                Target::Real(label) => label,
                Target::Fake => 0.0,
                Target::Fooled => 1.0,
            };
            let off = g.scale(logits, 1.0, -label)?;
            let squared = g.mul(off, off)?;
            let mean = g.mean_all(squared)?;
            g.scale(mean, 0.5, 0.0)
        }
    }
}

/// A [`Trainer`](crate::train::Trainer) drives a `Gan` like a plan: each step is a step pair,
/// and each reading carries `d_loss`, `g_loss`, `d_x` (mean D(x)) and `d_g_z` (mean D(G(z))).
impl Steps for Gan {
    fn reading_names(&self) -> Vec<String> {
        ["d_loss", "g_loss", "d_x", "d_g_z"]
            .map(String::from)
            .to_vec()
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
                let values = [r.d_loss, r.g_loss, r.d_real, r.d_fake].map(f64::from);
                (r.step, values.to_vec())
            })
            .collect())
    }

    fn step_count(&self) -> u64 {
        Gan::step_count(self)
    }

    fn set_step_count(&mut self, step: u64) {
        Gan::set_step_count(self, step)
    }

    fn optimizer_state(&self) -> Vec<(String, &Tensor)> {
        Gan::optimizer_state(self)
    }
}

/// Warnings for an epoch whose mean D(x) (`d_x`) or D(G(z)) (`d_g_z`), from
/// [`EpochEnd::mean`](crate::train::EpochEnd::mean), stayed within 0.05 of 0 or 1: the
/// discriminator winning outright (D(x) near 1 with D(G(z)) near 0 leaves the generator no
/// gradient), or losing (D(G(z)) near 1: it is fooled by everything, mode collapse's usual
/// company). Empty when the game is in play.
pub fn game_warnings(end: &crate::train::EpochEnd) -> Vec<String> {
    let mut out = Vec::new();
    for (name, what) in [("d_x", "D(x)"), ("d_g_z", "D(G(z))")] {
        let Some(v) = end.mean(name).filter(|v| v.is_finite()) else {
            continue;
        };
        let side = if v > 0.95 {
            "1"
        } else if v < 0.05 {
            "0"
        } else {
            continue;
        };
        out.push(format!(
            "epoch {}: {what} averaged {v:.3}, pinned near {side}: {}",
            end.epoch,
            match (name, side) {
                ("d_x", "1") | ("d_g_z", "0") => "the discriminator is winning",
                _ => "the discriminator is losing",
            }
        ));
    }
    out
}
