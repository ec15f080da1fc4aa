//! The scheduler: [`Plan::compile`] turns a graph into a fixed list of dispatches, once.
//!
//! 1. Autodiff (when training) extends a copy of the graph with the gradients.
//! 2. Nodes that no requested value needs are dropped; the rest keep the graph's order (a
//!    topological order). Each parameter's update is placed right after the last step that reads
//!    the parameter or produces its gradient, so gradients die early (with clipping, every
//!    update waits for the global norm).
//! 3. Memory: views (`reshape`, `detach`, dropout in eval) share their input's bytes. Every other
//!    op output is live from the step that writes it to the last step that reads it; buffers
//!    go to values by a best-fit scan over those intervals, so values whose lifetimes do not
//!    overlap share memory. The plan reports its peak beside the naive sum.
//!    Batch norm's running statistics are parameters (leaves in the [`ParamStore`], never
//!    pooled or shared) that its node writes in place in a train step; they are never trained.
//! 4. Every pipeline, bind group and parameter uniform is created here. A step then writes two
//!    tiny buffers (the optimizer's hyper-parameters, the random seed), records every dispatch
//!    into one encoder and submits once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::kernels::{record_all, Dispatch};
use crate::ops::{clip, dropout, optim, Lowering};
use crate::optim::{average_decay, Optimizer, AVERAGE_SLOT};
use crate::tensor::{DType, Tensor, TENSOR_USAGE};
use crate::train::{ema_name, Training};

use super::{Graph, NodeKind, ParamStore, Var};

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
/// [`Graph::input`] returned.
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Node(usize),
    Clip,
    Update(usize),
}

/// Where a value's bytes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Home {
    /// Owned by a leaf (input, parameter, constant): outside the pool.
    Leaf,
    /// A pooled op output.
    Pool,
}

struct Trained {
    name: String,
    param: Tensor,
    grad: Tensor,
    state: Vec<Tensor>,
    /// Its moving average, with [`Training::ema_decay`].
    average: Option<Tensor>,
}

struct TrainState {
    training: Training,
    hyper: Tensor,
    params: Vec<Trained>,
}

/// Slots in the readback ring: a step's readings arrive while up to this many later steps run.
const RING: usize = 4;

struct RingSlot {
    buffer: wgpu::Buffer,
    step: u64,
    /// `Some(result)` once the map callback ran.
    mapped: Arc<Mutex<Option<std::result::Result<(), wgpu::BufferAsyncError>>>>,
    in_flight: bool,
}

struct Watch {
    sources: Vec<(Tensor, u64)>,
    slots: Vec<RingSlot>,
    ready: Vec<Reading>,
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
    graph_id: u32,
    dispatches: Vec<Dispatch>,
    tensors: Vec<Option<Tensor>>,
    readable: Vec<bool>,
    inputs: BTreeMap<String, Tensor>,
    /// The graph's input names by value id, so inputs can be set by their [`Var`].
    input_names: BTreeMap<u32, String>,
    /// Inputs of the graph this plan does not read: still accepted (and checked) when fed, so
    /// one data loop can feed several plans.
    unused_inputs: BTreeMap<String, super::Meta>,
    train: Option<TrainState>,
    seed: u64,
    seed_tensor: Tensor,
    step: u64,
    stats: PlanStats,
    watch: Option<Watch>,
    grads: Vec<(String, Var)>,
    clip_stats: Option<Tensor>,
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
    /// Compiles `graph` for `spec`. Parameters come from `store` (created there on first use);
    /// every wgpu object the steps use is created now.
    pub fn compile(
        ctx: &Context,
        graph: &Graph,
        store: &mut ParamStore,
        spec: &PlanSpec,
    ) -> Result<Plan> {
        let mut g = graph.clone();
        let mode = spec.mode;
        for (name, _) in &spec.bound_inputs {
            let v = g.get(name)?;
            if !matches!(g.nodes[g.producer(v)?].kind, NodeKind::Input(..)) {
                return Err(Error::Graph(format!(
                    "'{name}' is bound in PlanSpec::bound_inputs but is not an input"
                )));
            }
        }

        // 1. Gradients of the trained parameters.
        let mut trained: Vec<(String, Var, Var)> = Vec::new();
        // State written in place by an op (batch norm's running statistics, a decoder's
        // cache): it must be a leaf that owns its bytes, so nothing else shares them, and it
        // is never trained.
        let mut state: Vec<(Var, &'static str)> = Vec::new();
        for node in &g.nodes {
            if let NodeKind::Op(op) = &node.kind {
                for &i in op.writes_inputs(mode) {
                    let v = node.inputs[i];
                    let leaf = &g.nodes[g.producer(v)?].kind;
                    if !matches!(leaf, NodeKind::Param(..) | NodeKind::Input(..)) {
                        return Err(Error::Graph(format!(
                            "{} writes its input {i} in place, so it must be a parameter or an \
                             input, got {}",
                            op.name(),
                            g.describe(v)
                        )));
                    }
                    state.push((v, op.name()));
                }
            }
        }
        if let Some(t) = &spec.training {
            t.check()?;
            let names: Vec<String> = match &t.params {
                Some(names) => names.clone(),
                None => g
                    .params()
                    .into_iter()
                    .filter(|(_, v)| !state.iter().any(|(s, _)| s == v))
                    .map(|(n, _)| n)
                    .collect(),
            };
            let mut vars = Vec::new();
            for name in &names {
                let v = g.get(name)?;
                if !matches!(g.nodes[g.producer(v)?].kind, NodeKind::Param(..)) {
                    return Err(Error::Graph(format!(
                        "'{name}' is an input, not a parameter"
                    )));
                }
                if let Some((_, op)) = state.iter().find(|(s, _)| *s == v) {
                    return Err(Error::Graph(format!(
                        "'{name}' is state that {op} updates in place, not a trainable parameter"
                    )));
                }
                vars.push(v);
            }
            let grads = g.grad(t.loss, &vars)?;
            // Each parameter's gradient gets bytes of its own: clipping scales gradients in place
            // and must not scale one buffer twice.
            let mut seen = Vec::new();
            for ((name, v), mut d) in names.into_iter().zip(vars).zip(grads) {
                let root = view_root(&g, d, mode)?;
                if seen.contains(&root) {
                    d = g.scale(d, 1.0, 0.0)?;
                }
                seen.push(view_root(&g, d, mode)?);
                trained.push((name, v, d));
            }
        }

        // 2. Keep what the requested values need, in graph order.
        let mut demanded: Vec<Var> = spec.outputs.iter().chain(&spec.watch).copied().collect();
        if let Some(t) = &spec.training {
            demanded.push(t.loss);
        }
        demanded.extend(trained.iter().map(|(_, _, d)| *d));
        let mut needed = vec![false; g.nodes.len()];
        let mut stack = Vec::new();
        for &v in &demanded {
            stack.push(g.producer(v)?);
        }
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut needed[n], true) {
                for &i in &g.nodes[n].inputs {
                    stack.push(g.producer(i)?);
                }
            }
        }

        // Storage roots: a view's bytes are its input's.
        let count = g.value_count();
        let mut root: Vec<usize> = (0..count).collect();
        for (n, node) in g.nodes.iter().enumerate() {
            if !needed[n] {
                continue;
            }
            if let NodeKind::Op(op) = &node.kind {
                if let Some(i) = op.view_of(mode) {
                    root[node.outputs[0].id as usize] = root[node.inputs[i].id as usize];
                }
            }
        }

        // 3. The step list, with each update as early as its parameter allows.
        let order: Vec<usize> = (0..g.nodes.len()).filter(|&n| needed[n]).collect();
        let pos_of: HashMap<usize, usize> =
            order.iter().enumerate().map(|(p, &n)| (n, p)).collect();
        let clip = spec.training.as_ref().and_then(|t| t.clip_norm);
        let mut after: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
        let mut at_end = Vec::new();
        for (k, (_, param, grad)) in trained.iter().enumerate() {
            if clip.is_some() {
                at_end.push(k);
                continue;
            }
            let param_root = root[param.id as usize];
            let mut last = pos_of[&g.producer(*grad)?];
            for (p, &n) in order.iter().enumerate() {
                if g.nodes[n]
                    .inputs
                    .iter()
                    .any(|i| root[i.id as usize] == param_root)
                {
                    last = last.max(p);
                }
            }
            after[last].push(k);
        }
        let mut steps = Vec::new();
        for (p, &n) in order.iter().enumerate() {
            steps.push(Step::Node(n));
            steps.extend(after[p].iter().map(|&k| Step::Update(k)));
        }
        if clip.is_some() && !trained.is_empty() {
            steps.push(Step::Clip);
            steps.extend(at_end.iter().map(|&k| Step::Update(k)));
        }

        // 4. Lifetimes of pooled roots over the step list.
        const FOREVER: usize = usize::MAX;
        let mut home = vec![Home::Leaf; count];
        let mut start = vec![0usize; count];
        let mut end = vec![0usize; count];
        let grad_of: HashMap<usize, usize> = trained
            .iter()
            .enumerate()
            .map(|(k, (_, _, d))| (k, root[d.id as usize]))
            .collect();
        for (s, step) in steps.iter().enumerate() {
            match *step {
                Step::Node(n) => {
                    let node = &g.nodes[n];
                    if let NodeKind::Op(op) = &node.kind {
                        for o in &node.outputs {
                            let r = root[o.id as usize];
                            if r == o.id as usize && op.view_of(mode).is_none() {
                                home[r] = Home::Pool;
                                start[r] = s;
                                end[r] = s;
                            }
                        }
                    }
                    for i in &node.inputs {
                        let r = root[i.id as usize];
                        end[r] = end[r].max(s);
                    }
                }
                Step::Update(k) => {
                    let r = grad_of[&k];
                    end[r] = end[r].max(s);
                }
                Step::Clip => {
                    for r in grad_of.values() {
                        end[*r] = end[*r].max(s);
                    }
                }
            }
        }
        for v in &demanded {
            end[root[v.id as usize]] = FOREVER;
        }
        if let Some(t) = &spec.training {
            end[root[t.loss.id as usize]] = FOREVER;
        }

        // 5. Best-fit assignment of pooled roots to buffers.
        let mut pooled: Vec<usize> = (0..count).filter(|&r| home[r] == Home::Pool).collect();
        pooled.sort_by_key(|&r| (start[r], r));
        let mut buffers: Vec<(u64, usize)> = Vec::new(); // (bytes, busy until step)
        let mut slot_of = vec![usize::MAX; count];
        let mut naive = 0u64;
        for &r in &pooled {
            let bytes = g.values[r].meta.bytes().max(4).next_multiple_of(4);
            naive += bytes;
            let free = |b: &(u64, usize)| b.1 < start[r];
            let fit = (0..buffers.len())
                .filter(|&b| free(&buffers[b]) && buffers[b].0 >= bytes)
                .min_by_key(|&b| buffers[b].0);
            let grow = || {
                (0..buffers.len())
                    .filter(|&b| free(&buffers[b]))
                    .max_by_key(|&b| buffers[b].0)
            };
            let b = match fit.or_else(grow) {
                Some(b) => b,
                None => {
                    buffers.push((0, 0));
                    buffers.len() - 1
                }
            };
            buffers[b].0 = buffers[b].0.max(bytes);
            buffers[b].1 = end[r];
            slot_of[r] = b;
        }
        let max_binding = ctx.device().limits().max_storage_buffer_binding_size;
        let pool = buffers
            .iter()
            .map(|&(bytes, _)| {
                if bytes > max_binding {
                    return Err(Error::Unsupported(format!(
                        "an intermediate of {bytes} bytes exceeds this device's storage binding \
                         limit of {max_binding} bytes"
                    )));
                }
                ctx.count_objects(1);
                let buffer = ctx.scoped("allocating plan memory", || {
                    ctx.device().create_buffer(&wgpu::BufferDescriptor {
                        label: Some("kiln.plan.pool"),
                        size: bytes,
                        usage: TENSOR_USAGE,
                        mapped_at_creation: false,
                    })
                })?;
                Ok(Arc::new(buffer))
            })
            .collect::<Result<Vec<_>>>()?;

        // 6. A tensor for every needed value: leaves first, then views and pooled outputs.
        let mut tensors: Vec<Option<Tensor>> = vec![None; count];
        let mut inputs = BTreeMap::new();
        let mut param_bytes = 0u64;
        let mut input_bytes = 0u64;
        for &n in &order {
            let node = &g.nodes[n];
            let out = node.outputs[0];
            let meta = &g.values[out.id as usize].meta;
            let t = match &node.kind {
                NodeKind::Input(name) => {
                    let bound = spec.bound_inputs.iter().find(|(n, _)| n == name);
                    let t = match bound {
                        Some((_, t)) => {
                            if t.shape() != meta.shape.as_slice() || t.dtype() != meta.dtype {
                                return Err(Error::Graph(format!(
                                    "bound input '{name}' is {:?} {:?}, the graph's input is {:?} {:?}",
                                    t.dtype(),
                                    t.shape(),
                                    meta.dtype,
                                    meta.shape
                                )));
                            }
                            t.clone()
                        }
                        None => Tensor::zeros(ctx, &meta.shape, meta.dtype)?,
                    };
                    input_bytes += meta.bytes();
                    inputs.insert(name.clone(), t.clone());
                    Some(t)
                }
                NodeKind::Param(name, init) => {
                    param_bytes += meta.bytes();
                    Some(store.get_or_init(ctx, name, &meta.shape, *init)?)
                }
                NodeKind::Constant(words) => {
                    let t = Tensor::zeros(ctx, &meta.shape, meta.dtype)?;
                    if !words.is_empty() {
                        ctx.queue()
                            .write_buffer(t.buffer(), 0, bytemuck::cast_slice(words));
                    }
                    Some(t)
                }
                NodeKind::Op(_) => None,
            };
            tensors[out.id as usize] = t;
        }
        for &n in &order {
            for o in &g.nodes[n].outputs {
                let i = o.id as usize;
                if tensors[i].is_some() {
                    continue;
                }
                let meta = &g.values[i].meta;
                let r = root[i];
                let t = if home[r] == Home::Pool {
                    Tensor::in_buffer(pool[slot_of[r]].clone(), &meta.shape, meta.dtype)
                } else {
                    // A view of a leaf or of a view: same bytes, its own shape.
                    let base = tensors[r].as_ref().ok_or_else(|| {
                        Error::Graph(format!("{} has no storage", g.describe(g.var(i))))
                    })?;
                    base.reshape(&meta.shape)?
                };
                tensors[i] = Some(t);
            }
        }
        let tensor = |v: Var| -> Result<&Tensor> {
            tensors[v.id as usize]
                .as_ref()
                .ok_or_else(|| Error::Graph(format!("{} was not planned", g.describe(v))))
        };

        // 7. Optimizer state.
        let mut train = None;
        let mut state_bytes = 0u64;
        if let Some(t) = &spec.training {
            let mut params = Vec::new();
            for (name, v, d) in &trained {
                let param = tensor(*v)?.clone();
                let state = (0..t.optimizer.state_count())
                    .map(|_| Tensor::zeros(ctx, param.shape(), DType::F32))
                    .collect::<Result<Vec<_>>>()?;
                state_bytes += state.iter().map(Tensor::byte_size).sum::<u64>();
                let average = match t.ema_decay {
                    Some(_) => Some(store.get_or_copy(ctx, &ema_name(name), &param)?),
                    None => None,
                };
                params.push(Trained {
                    name: name.clone(),
                    param,
                    grad: tensor(*d)?.clone(),
                    state,
                    average,
                });
            }
            train = Some(TrainState {
                training: t.clone(),
                hyper: Tensor::zeros(ctx, &[crate::optim::HYPER_LEN], DType::F32)?,
                params,
            });
        }

        // 8. Lowering: every dispatch of the step, in order.
        let seed_tensor = Tensor::zeros(ctx, &[dropout::SEED_LEN], DType::U32)?;
        let mut dispatches = Vec::new();
        let mut clip_stats = None;
        for step in &steps {
            match *step {
                Step::Node(n) => {
                    let node = &g.nodes[n];
                    let NodeKind::Op(op) = &node.kind else {
                        continue;
                    };
                    let io = Lowering {
                        inputs: node
                            .inputs
                            .iter()
                            .map(|&v| tensor(v))
                            .collect::<Result<_>>()?,
                        outputs: node
                            .outputs
                            .iter()
                            .map(|&v| tensor(v))
                            .collect::<Result<_>>()?,
                        mode,
                        seed: &seed_tensor,
                    };
                    let lowered = op.lower(ctx, &io).map_err(|e| e.at(node.at))?;
                    dispatches.extend(lowered);
                }
                Step::Update(k) => {
                    let (Some(ts), Some(t)) = (&train, &spec.training) else {
                        continue;
                    };
                    let p = &ts.params[k];
                    dispatches.push(match &t.optimizer {
                        Optimizer::Sgd(c) => {
                            optim::sgd_step(ctx, c, &p.param, &p.grad, &p.state[0], &ts.hyper)?
                        }
                        Optimizer::Adam(c) => optim::adam_step(
                            ctx,
                            c,
                            &p.param,
                            &p.grad,
                            &p.state[0],
                            &p.state[1],
                            &ts.hyper,
                        )?,
                    });
                    if let Some(average) = &p.average {
                        dispatches.push(optim::average_step(ctx, &p.param, average, &ts.hyper)?);
                    }
                }
                Step::Clip => {
                    let (Some(ts), Some(max_norm)) = (&train, clip) else {
                        continue;
                    };
                    let grads: Vec<&Tensor> = ts.params.iter().map(|p| &p.grad).collect();
                    let (clip, stats) = clip_dispatches(ctx, &grads, max_norm)?;
                    dispatches.extend(clip);
                    clip_stats = Some(stats);
                }
            }
        }

        // 9. The readback ring for watched values.
        let watch = if spec.watch.is_empty() {
            None
        } else {
            let mut sources = Vec::new();
            let mut bytes = 0u64;
            for &v in &spec.watch {
                let t = tensor(v)?.clone();
                if t.dtype() != DType::F32 {
                    return Err(Error::Graph(format!(
                        "watched {} is not f32",
                        g.describe(v)
                    )));
                }
                let size = t.byte_size();
                sources.push((t, size));
                bytes += size;
            }
            let slots = (0..RING)
                .map(|_| {
                    ctx.count_objects(1);
                    let buffer = ctx.scoped("allocating the readback ring", || {
                        ctx.device().create_buffer(&wgpu::BufferDescriptor {
                            label: Some("kiln.plan.watch"),
                            size: bytes.max(4),
                            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                            mapped_at_creation: false,
                        })
                    })?;
                    Ok(RingSlot {
                        buffer,
                        step: 0,
                        mapped: Arc::new(Mutex::new(None)),
                        in_flight: false,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Some(Watch {
                sources,
                slots,
                ready: Vec::new(),
            })
        };

        let unused_inputs = g
            .inputs()
            .into_iter()
            .filter(|(name, _)| !inputs.contains_key(name))
            .map(|(name, v)| (name, g.values[v.id as usize].meta.clone()))
            .collect();
        let mut readable = vec![false; count];
        for v in &demanded {
            readable[v.id as usize] = true;
        }
        ctx.check()?;
        Ok(Plan {
            graph_id: g.id,
            stats: PlanStats {
                peak_bytes: buffers.iter().map(|b| b.0).sum::<u64>() + input_bytes,
                naive_bytes: naive + input_bytes,
                param_bytes,
                state_bytes,
                dispatches: dispatches.len(),
                buffers: buffers.len(),
            },
            dispatches,
            tensors,
            readable,
            inputs,
            input_names: g.inputs().into_iter().map(|(n, v)| (v.id, n)).collect(),
            unused_inputs,
            train,
            seed: spec.seed,
            seed_tensor,
            step: 0,
            watch,
            grads: trained.iter().map(|(n, _, d)| (n.clone(), *d)).collect(),
            clip_stats,
        })
    }

    /// Times every dispatch of one step on its own (a submission and a wait each) and returns
    /// `(kernel label, seconds)` in step order: where a step's time goes. Slow by design (no
    /// overlap between dispatches); for profiling, not for training. Advances the step count.
    pub fn profile(&mut self, ctx: &Context) -> Result<Vec<(String, f64)>> {
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.plan.profile"),
            });
        // Writes this step's hyper-parameters and seed; the recorded commands are dropped.
        self.record(ctx, &mut encoder)?;
        drop(encoder);
        let mut times = Vec::with_capacity(self.dispatches.len());
        for d in &self.dispatches {
            let start = std::time::Instant::now();
            let index = crate::kernels::run(ctx, std::slice::from_ref(d))?;
            ctx.wait(Some(index))?;
            times.push((d.label().to_string(), start.elapsed().as_secs_f64()));
        }
        Ok(times)
    }

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

    /// Runs one step: writes the step's learning rate and seed, records every dispatch into one
    /// encoder, submits once. Does not wait.
    pub fn step(&mut self, ctx: &Context) -> Result<()> {
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.plan.step"),
            });
        self.record(ctx, &mut encoder)?;
        let slot = self.copy_watched(ctx, &mut encoder)?;
        ctx.submit(encoder.finish())?;
        if let (Some(w), Some(s)) = (&mut self.watch, slot) {
            let state = w.slots[s].mapped.clone();
            w.slots[s]
                .buffer
                .slice(..)
                .map_async(wgpu::MapMode::Read, move |r| {
                    if let Ok(mut m) = state.lock() {
                        *m = Some(r);
                    }
                });
            w.slots[s].in_flight = true;
        }
        ctx.check()
    }

    /// Records one step into the caller's encoder (a host's frame) and submits nothing: the step
    /// runs when the host submits the encoder, ordered with the host's own passes in it. Creates
    /// no wgpu object (a test checks both).
    ///
    /// The step's learning rate and seed go through `queue.write_buffer`, which wgpu orders
    /// before the next `queue.submit` on that queue, whoever calls it. So record **one step per
    /// submission**: two steps recorded into encoders submitted together would both read the
    /// second step's values (with Adam, its bias correction). Inputs written with
    /// [`Plan::set_input_f32`] follow the same rule. Watched values are not copied in this mode
    /// (read outputs with [`Plan::read_f32`], or bind [`Plan::output`]'s buffer directly).
    pub fn record(&mut self, ctx: &Context, encoder: &mut wgpu::CommandEncoder) -> Result<()> {
        self.step += 1;
        if let Some(t) = &self.train {
            let tr = &t.training;
            let lr = tr.optimizer.lr() * tr.schedule.factor(self.step);
            let mut hyper = tr.optimizer.hyper(self.step, lr)?;
            if let Some(decay) = tr.ema_decay {
                hyper[AVERAGE_SLOT] = average_decay(decay, self.step);
            }
            t.hyper.write_f32(ctx, &hyper)?;
        }
        // Steps past 2^32 wrap the mask stream: harmless, and far beyond any run.
        let words = dropout::seed_words(self.seed, self.step as u32);
        self.seed_tensor.write_u32(ctx, &words)?;
        record_all(encoder, &self.dispatches);
        Ok(())
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

    /// Watched values of finished steps, oldest first, without waiting for running ones.
    pub fn readings(&mut self, ctx: &Context) -> Result<Vec<Reading>> {
        ctx.device()
            .poll(wgpu::PollType::Poll)
            .map_err(|e| Error::Wgpu {
                during: "polling for readings".into(),
                message: e.to_string(),
            })?;
        ctx.check()?;
        let Some(w) = &mut self.watch else {
            return Ok(Vec::new());
        };
        // Readings leave in step order: a slot whose map finished early (another thread's poll
        // can run the callbacks between two checks) waits until every earlier step has arrived.
        let mut order: Vec<usize> = (0..w.slots.len())
            .filter(|&s| w.slots[s].in_flight)
            .collect();
        order.sort_by_key(|&s| w.slots[s].step);
        for s in order {
            if !slot_mapped(&w.slots[s]) {
                break;
            }
            let reading = take_slot(&mut w.slots[s], &w.sources)?;
            w.ready.push(reading);
        }
        Ok(std::mem::take(&mut w.ready))
    }

    /// Waits for every watched step in flight and returns all readings not yet taken.
    pub fn flush_readings(&mut self, ctx: &Context) -> Result<Vec<Reading>> {
        ctx.wait(None)?;
        let mut out = self.readings(ctx)?;
        if let Some(w) = &mut self.watch {
            // The map callbacks of the last submission may need one more poll.
            let start = std::time::Instant::now();
            while w.slots.iter().any(|s| s.in_flight) {
                ctx.device()
                    .poll(wgpu::PollType::Poll)
                    .map_err(|e| Error::Wgpu {
                        during: "polling for readings".into(),
                        message: e.to_string(),
                    })?;
                for s in 0..w.slots.len() {
                    if w.slots[s].in_flight && slot_mapped(&w.slots[s]) {
                        out.push(take_slot(&mut w.slots[s], &w.sources)?);
                    }
                }
                if start.elapsed() > crate::context::WAIT_LIMIT {
                    return Err(Error::Timeout {
                        during: "mapping watched values".into(),
                        seconds: start.elapsed().as_secs_f64(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        out.sort_by_key(|r| r.step);
        Ok(out)
    }

    /// Copies watched values into the ring slot of this step; a slot still in flight from
    /// `RING` steps ago is waited for and read first (back-pressure, not a per-step stall).
    fn copy_watched(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<Option<usize>> {
        let step = self.step;
        let Some(w) = &mut self.watch else {
            return Ok(None);
        };
        let s = (step as usize) % RING;
        if w.slots[s].in_flight {
            let start = std::time::Instant::now();
            // Bounded: the queue wait is taken in slices that notice a lost device, and the
            // map callback that follows it gets the same limit.
            while !slot_mapped(&w.slots[s]) {
                if start.elapsed() > crate::context::WAIT_LIMIT {
                    return Err(Error::Timeout {
                        during: "mapping watched values".into(),
                        seconds: start.elapsed().as_secs_f64(),
                    });
                }
                ctx.wait(None)?;
                if !slot_mapped(&w.slots[s]) {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            let reading = take_slot(&mut w.slots[s], &w.sources)?;
            w.ready.push(reading);
        }
        let mut offset = 0;
        for (t, size) in &w.sources {
            encoder.copy_buffer_to_buffer(
                t.buffer(),
                t.offset(),
                &w.slots[s].buffer,
                offset,
                *size,
            );
            offset += size;
        }
        w.slots[s].step = step;
        Ok(Some(s))
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

/// Whether the slot's map callback has run (a poisoned lock counts as not yet).
fn slot_mapped(slot: &RingSlot) -> bool {
    slot.mapped.lock().map(|m| m.is_some()).unwrap_or(false)
}

fn take_slot(slot: &mut RingSlot, sources: &[(Tensor, u64)]) -> Result<Reading> {
    let result = slot.mapped.lock().ok().and_then(|mut m| m.take());
    slot.in_flight = false;
    if let Some(Err(e)) = result {
        return Err(Error::Wgpu {
            during: "mapping watched values".into(),
            message: e.to_string(),
        });
    }
    let floats: Vec<f32> = crate::tensor::mapped_words(&slot.buffer, "reading watched values")?;
    let mut values = Vec::new();
    let mut at = 0;
    for (_, size) in sources {
        let n = (*size / 4) as usize;
        values.push(floats[at..at + n].to_vec());
        at += n;
    }
    Ok(Reading {
        step: slot.step,
        values,
    })
}

/// The value whose bytes `v` shares (itself unless it is a view).
fn view_root(g: &Graph, v: Var, mode: super::Mode) -> Result<Var> {
    let mut v = v;
    loop {
        let node = &g.nodes[g.producer(v)?];
        match &node.kind {
            NodeKind::Op(op) => match op.view_of(mode) {
                Some(i) => v = node.inputs[i],
                None => return Ok(v),
            },
            _ => return Ok(v),
        }
    }
}

/// Clipping by global norm: the partial sums' scratch and the `[coef, norm]` stats are
/// allocated here, once.
fn clip_dispatches(
    ctx: &Context,
    grads: &[&Tensor],
    max_norm: f32,
) -> Result<(Vec<Dispatch>, Tensor)> {
    let numels: Vec<usize> = grads.iter().map(|g| g.numel()).collect();
    let partials = Tensor::zeros(ctx, &[clip::scratch_len(&numels).max(1)], DType::F32)?;
    let stats = Tensor::zeros(ctx, &[clip::STATS_LEN], DType::F32)?;
    Ok((
        clip::prepare(ctx, grads, max_norm, &partials, &stats)?,
        stats,
    ))
}
