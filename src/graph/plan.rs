//! A compiled plan and what its user calls: inputs, outputs, statistics, checkpoint state.
//! How it is compiled is in `planner.rs`; what a step records and submits, in `executor.rs`.

use std::collections::BTreeMap;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::kernels::Dispatch;
use crate::optim::Optimizer;
use crate::tensor::{DType, Tensor};
use crate::train::Training;

use super::executor::Watch;
use super::Var;

/// Train or eval: dropout is active only in `Train`, and is a free view in `Eval`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Random ops are active.
    #[default]
    Train,
    /// Random ops are the identity.
    Eval,
}

/// What to compile.
#[derive(Clone, Debug, Default)]
pub struct PlanSpec {
    /// Values the caller reads after a step ([`Plan::read_f32`]). Others may share memory and
    /// be overwritten within the step.
    pub outputs: Vec<Var>,
    /// Small values (a loss) copied each step into a ring of readback buffers, read without
    /// stalling the next step through [`Plan::readings`].
    pub watch: Vec<Var>,
    /// Train: gradients and parameter updates. `None` for inference.
    pub training: Option<Training>,
    /// Train or eval.
    pub mode: Mode,
    /// Seed of the plan's random ops (dropout).
    pub seed: u64,
    /// Inputs read straight from these tensors instead of buffers of the plan's own, by input
    /// name: a host application's buffer wrapped with [`Tensor::from_buffer`], or another
    /// plan's output. No copy is made; whoever owns the tensor writes it before each step.
    /// Shape and dtype must match the graph's input.
    pub bound_inputs: Vec<(String, Tensor)>,
}

impl PlanSpec {
    /// A training plan: `loss` watched and minimised by `optimizer` over every parameter, at
    /// a constant rate (set [`PlanSpec::training`]'s other fields for more).
    pub fn training(loss: Var, optimizer: Optimizer) -> PlanSpec {
        PlanSpec {
            watch: vec![loss],
            training: Some(Training::new(loss, optimizer)),
            ..Default::default()
        }
    }

    /// This spec with its training's learning rate following `schedule` (no effect on an
    /// inference spec).
    pub fn with_schedule(mut self, schedule: crate::optim::Schedule) -> PlanSpec {
        if let Some(t) = &mut self.training {
            t.schedule = schedule;
        }
        self
    }

    /// This spec with `seed` for its random ops.
    pub fn with_seed(mut self, seed: u64) -> PlanSpec {
        self.seed = seed;
        self
    }

    /// An inference plan in eval mode (dropout off) whose `outputs` are readable.
    pub fn eval(outputs: Vec<Var>) -> PlanSpec {
        PlanSpec {
            outputs,
            mode: Mode::Eval,
            ..Default::default()
        }
    }
}

/// How a plan's input is named when it is set: by its name (`"x"`) or by the [`Var`] that
/// [`Graph::input`](super::Graph::input) returned.
pub trait InputRef {
    /// The input's name in `plan`'s graph.
    fn input_name<'a>(&'a self, plan: &'a Plan) -> Result<&'a str>;
}

impl InputRef for str {
    fn input_name<'a>(&'a self, _: &'a Plan) -> Result<&'a str> {
        Ok(self)
    }
}

impl InputRef for String {
    fn input_name<'a>(&'a self, _: &'a Plan) -> Result<&'a str> {
        Ok(self)
    }
}

impl<T: InputRef + ?Sized> InputRef for &T {
    fn input_name<'a>(&'a self, plan: &'a Plan) -> Result<&'a str> {
        (**self).input_name(plan)
    }
}

impl InputRef for Var {
    fn input_name<'a>(&'a self, plan: &'a Plan) -> Result<&'a str> {
        match plan.input_names.get(&self.id) {
            Some(name) if self.graph == plan.graph_id => Ok(name),
            _ => Err(Error::Graph(format!(
                "{self:?} is not an input of the graph this plan was compiled from"
            ))),
        }
    }
}

/// The watched values of one finished step.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// The step (from 1) they came from.
    pub step: u64,
    /// One vector per watched value, in [`PlanSpec::watch`] order.
    pub values: Vec<Vec<f32>>,
}

/// A trained parameter's tensors.
pub(super) struct Trained {
    pub(super) name: String,
    pub(super) param: Tensor,
    pub(super) grad: Tensor,
    pub(super) state: Vec<Tensor>,
    /// Its moving average, with [`Training::ema_decay`].
    pub(super) average: Option<Tensor>,
}

/// The optimizer's side of a training plan: its settings, the per-step uniform, the params.
pub(super) struct TrainState {
    pub(super) training: Training,
    pub(super) hyper: Tensor,
    pub(super) params: Vec<Trained>,
}

/// Sizes a plan reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanStats {
    /// Bytes of the pooled buffers holding every intermediate (activations, gradients), plus
    /// the plan's inputs: the memory the plan itself allocates for one step.
    pub peak_bytes: u64,
    /// What one buffer per intermediate would take (the sum of every op output), plus inputs.
    pub naive_bytes: u64,
    /// Bytes of the parameters it reads (shared through the store).
    pub param_bytes: u64,
    /// Bytes of optimizer state it owns.
    pub state_bytes: u64,
    /// Dispatches recorded per step.
    pub dispatches: usize,
    /// Pooled buffers.
    pub buffers: usize,
}

/// A compiled graph: every dispatch of one step, created once.
pub struct Plan {
    pub(super) graph_id: u32,
    pub(super) dispatches: Vec<Dispatch>,
    pub(super) tensors: Vec<Option<Tensor>>,
    pub(super) readable: Vec<bool>,
    pub(super) inputs: BTreeMap<String, Tensor>,
    /// The graph's input names by value id, so inputs can be set by their [`Var`].
    pub(super) input_names: BTreeMap<u32, String>,
    /// Inputs of the graph this plan does not read: still accepted (and checked) when fed, so
    /// one data loop can feed several plans.
    pub(super) unused_inputs: BTreeMap<String, super::Meta>,
    pub(super) train: Option<TrainState>,
    pub(super) seed: u64,
    pub(super) seed_tensor: Tensor,
    pub(super) step: u64,
    pub(super) stats: PlanStats,
    pub(super) watch: Option<Watch>,
    pub(super) grads: Vec<(String, Var)>,
    pub(super) clip_stats: Option<Tensor>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("stats", &self.stats)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// Sizes: peak against naive memory, dispatches per step.
    pub fn stats(&self) -> PlanStats {
        self.stats
    }

    /// Steps run so far (the next step is `step_count() + 1`).
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Sets the step counter (resuming a run: the schedule and Adam's bias correction continue
    /// from there).
    pub fn set_step_count(&mut self, step: u64) {
        self.step = step;
    }

    /// The gradient values of the trained parameters, by name (readable after a step when
    /// listed in [`PlanSpec::outputs`]; they are always planned).
    pub fn gradients(&self) -> &[(String, Var)] {
        &self.grads
    }

    /// Optimizer state tensors by `"<param>.<k>"` (k = 0: SGD momentum or Adam's first moment,
    /// 1: Adam's second), for checkpoints.
    pub fn optimizer_state(&self) -> Vec<(String, &Tensor)> {
        let Some(t) = &self.train else {
            return Vec::new();
        };
        t.params
            .iter()
            .flat_map(|p| {
                p.state
                    .iter()
                    .enumerate()
                    .map(move |(k, s)| (format!("{}.{k}", p.name), s))
            })
            .collect()
    }

    /// Writes an f32 input, named or by its [`Var`], for the next step. An input of the graph
    /// that this plan does not read is checked and ignored; a name the graph does not have, or
    /// a `Var` that is not one of its inputs, is an error.
    pub fn set_input_f32(&self, ctx: &Context, input: impl InputRef, data: &[f32]) -> Result<()> {
        let name = input.input_name(self)?;
        if self.check_unused(name, DType::F32, data.len())? {
            return Ok(());
        }
        let t = self.input(name, DType::F32)?;
        self.check_len(name, t, data.len())?;
        t.write_f32(ctx, data)
    }

    /// Writes a u32 input (token ids, labels), named or by its [`Var`], for the next step.
    pub fn set_input_u32(&self, ctx: &Context, input: impl InputRef, data: &[u32]) -> Result<()> {
        let name = input.input_name(self)?;
        if self.check_unused(name, DType::U32, data.len())? {
            return Ok(());
        }
        let t = self.input(name, DType::U32)?;
        self.check_len(name, t, data.len())?;
        t.write_u32(ctx, data)
    }

    /// The tensor an input is written into (to fill it on the GPU, say).
    pub fn input_tensor(&self, name: &str) -> Result<&Tensor> {
        self.inputs
            .get(name)
            .ok_or_else(|| self.unknown_input(name))
    }

    /// With clipping: `[coef, global norm]` of the last step's gradients, on the GPU (read it
    /// with `to_vec_f32` when you want to log it; reading waits for the step).
    pub fn clip_stats(&self) -> Option<&Tensor> {
        self.clip_stats.as_ref()
    }

    /// The learning rate of the last step.
    pub fn learning_rate(&self) -> Option<f32> {
        self.learning_rate_at_step(self.step)
    }

    /// The learning rate of step `step` (from 1), as the schedule gives it.
    pub fn learning_rate_at_step(&self, step: u64) -> Option<f32> {
        let t = &self.train.as_ref()?.training;
        Some(t.optimizer.lr() * t.schedule.factor(step.max(1)))
    }

    /// How many values [`PlanSpec::watch`] named: each [`Reading`] carries that many.
    pub fn watch_count(&self) -> usize {
        self.watch.as_ref().map_or(0, |w| w.sources.len())
    }

    /// Reads an output (waits for the GPU). Only values named in [`PlanSpec::outputs`] or
    /// [`PlanSpec::watch`] are readable: others share memory and hold whatever came last.
    pub fn read_f32(&self, ctx: &Context, v: Var) -> Result<Vec<f32>> {
        self.output(v)?.to_vec_f32(ctx)
    }

    /// The tensor holding an output, to use on the GPU without a copy.
    pub fn output(&self, v: Var) -> Result<&Tensor> {
        let i = v.id as usize;
        if v.graph != self.graph_id || !self.readable.get(i).copied().unwrap_or(false) {
            return Err(Error::Graph(format!(
                "{v:?} is not an output of this plan: list it in PlanSpec::outputs"
            )));
        }
        self.tensors[i]
            .as_ref()
            .ok_or_else(|| Error::Graph(format!("{v:?} has no tensor")))
    }

    fn input(&self, name: &str, dtype: DType) -> Result<&Tensor> {
        let t = self.input_tensor(name)?;
        if t.dtype() != dtype {
            return Err(Error::DType {
                op: "plan input",
                message: format!("input '{name}' holds {:?}, not {dtype:?}", t.dtype()),
            });
        }
        Ok(t)
    }

    /// For an input of the graph that this plan does not read: checks the data as if it were
    /// written and returns true (nothing to write).
    fn check_unused(&self, name: &str, dtype: DType, len: usize) -> Result<bool> {
        let Some(meta) = self.unused_inputs.get(name) else {
            return Ok(false);
        };
        if meta.dtype != dtype {
            return Err(Error::DType {
                op: "plan input",
                message: format!("input '{name}' holds {:?}, not {dtype:?}", meta.dtype),
            });
        }
        if crate::tensor::numel(&meta.shape) != len {
            return Err(Error::Length {
                during: format!("feeding input '{name}' of shape {:?}", meta.shape),
                expected: crate::tensor::numel(&meta.shape),
                got: len,
            });
        }
        Ok(true)
    }

    fn check_len(&self, name: &str, t: &Tensor, len: usize) -> Result<()> {
        if t.numel() != len {
            return Err(Error::Length {
                during: format!("feeding input '{name}' of shape {:?}", t.shape()),
                expected: t.numel(),
                got: len,
            });
        }
        Ok(())
    }

    fn unknown_input(&self, name: &str) -> Error {
        let known: Vec<&str> = self
            .inputs
            .keys()
            .chain(self.unused_inputs.keys())
            .map(String::as_str)
            .collect();
        Error::Graph(format!(
            "this plan has no input named '{name}' (its inputs: {})",
            known.join(", ")
        ))
    }
}
