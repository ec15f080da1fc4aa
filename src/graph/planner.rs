//! The planner: [`Plan::compile`] turns a graph into a fixed list of dispatches, once. Each
//! phase below is one function, run in this order:
//!
//! 1. [`add_gradients`]: autodiff (when training) extends a copy of the graph with the
//!    gradients of the trained parameters. [`in_place_state`] finds what ops write in place
//!    (batch norm's running statistics): leaves that are never trained.
//! 2. [`needed_nodes`]: nodes that no requested value needs are dropped; the rest keep the
//!    graph's order (a topological order). [`storage_roots`]: views (`reshape`, `detach`,
//!    dropout in eval) share their input's bytes.
//! 3. [`schedule`]: each parameter's update is placed right after the last step that reads
//!    the parameter or produces its gradient, so gradients die early (with clipping, every
//!    update waits for the global norm).
//! 4. [`lifetimes`]: every other op output is live from the step that writes it to the last
//!    step that reads it.
//! 5. [`assign_buffers`]: buffers go to values by a best-fit scan over those intervals, so
//!    values whose lifetimes do not overlap share memory; [`allocate_pool`] creates them. The
//!    plan reports its peak beside the naive sum.
//! 6. [`place_tensors`]: a tensor for every needed value: leaves (inputs, parameters from the
//!    [`ParamStore`], constants), then views and pooled outputs.
//! 7. [`optimizer_state`]: moments, moving averages and the hyper-parameter uniform.
//! 8. [`lower`]: every pipeline, bind group and parameter uniform of the step, in order.
//! 9. [`watch_ring`]: the readback ring for watched values.
//!
//! What a step then does (write two tiny buffers, record, submit once) is in `executor.rs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::kernels::Dispatch;
use crate::ops::{clip, dropout, optim, Lowering};
use crate::optim::Optimizer;
use crate::serial::Serialized;
use crate::tensor::{DType, Tensor, TENSOR_USAGE};
use crate::train::ema_name;

use super::executor::{RingSlot, Watch, RING};
use super::plan::{Plan, PlanSpec, PlanStats, TrainState, Trained};
use super::{Graph, Mode, NodeKind, ParamStore, Var};

/// One entry of the step list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// A graph node's dispatches.
    Node(usize),
    /// Clipping by global norm, before every update.
    Clip,
    /// The update of trained parameter `k`.
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

/// A trained parameter: its name, its value and its gradient in the extended graph.
struct Trainee {
    name: String,
    param: Var,
    grad: Var,
}

/// Live ranges over the step list, by storage root.
struct Lifetimes {
    home: Vec<Home>,
    start: Vec<usize>,
    end: Vec<usize>,
}

/// Pooled buffers as sized by the best-fit scan, before any is created.
struct BufferAssignment {
    /// Each buffer's bytes.
    sizes: Vec<u64>,
    /// The buffer each pooled root lives in (`usize::MAX` for the rest).
    slot_of: Vec<usize>,
    /// What one buffer per pooled value would take.
    naive_bytes: u64,
}

/// Every needed value's tensor, and the leaves' sizes.
struct Placed {
    tensors: Vec<Option<Tensor>>,
    inputs: BTreeMap<String, Tensor>,
    param_bytes: u64,
    input_bytes: u64,
}

impl Placed {
    fn tensor(&self, g: &Graph, v: Var) -> Result<&Tensor> {
        self.tensors[v.id as usize]
            .as_ref()
            .ok_or_else(|| Error::Graph(format!("{} was not planned", g.describe(v))))
    }
}

/// Live until the step ends: read by the caller.
const FOREVER: usize = usize::MAX;

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
        check_bound_inputs(&g, spec)?;
        let state = in_place_state(&g, mode)?;
        let trained = add_gradients(&mut g, spec, &state)?;

        let mut demanded: Vec<Var> = spec.outputs.iter().chain(&spec.watch).copied().collect();
        if let Some(t) = &spec.training {
            demanded.push(t.loss);
        }
        demanded.extend(trained.iter().map(|t| t.grad));
        let needed = needed_nodes(&g, &demanded)?;
        let root = storage_roots(&g, &needed, mode);
        let order: Vec<usize> = (0..g.nodes.len()).filter(|&n| needed[n]).collect();
        let clip_norm = spec.training.as_ref().and_then(|t| t.clip_norm);
        let steps = schedule(&g, &order, &root, &trained, clip_norm.is_some())?;

        let life = lifetimes(&g, &steps, &root, &trained, &demanded, mode);
        let assignment = assign_buffers(&g, &life);
        let pool = allocate_pool(ctx, &assignment.sizes)?;
        let placed = place_tensors(
            ctx,
            &g,
            &order,
            store,
            spec,
            &root,
            &life.home,
            &assignment.slot_of,
            &pool,
        )?;

        let (train, state_bytes) = optimizer_state(ctx, &g, store, spec, &trained, &placed)?;
        let seed_tensor = Tensor::zeros(ctx, &[dropout::SEED_LEN], DType::U32)?;
        let (dispatches, clip_stats) = lower(
            ctx,
            &g,
            &steps,
            &placed,
            train.as_ref(),
            clip_norm,
            mode,
            &seed_tensor,
        )?;
        let watch = watch_ring(ctx, &g, &spec.watch, &placed)?;

        let unused_inputs = g
            .inputs()
            .into_iter()
            .filter(|(name, _)| !placed.inputs.contains_key(name))
            .map(|(name, v)| (name, g.values[v.id as usize].meta.clone()))
            .collect();
        let mut readable = vec![false; g.value_count()];
        for v in &demanded {
            readable[v.id as usize] = true;
        }
        ctx.check()?;
        Ok(Plan {
            graph_id: g.id,
            stats: PlanStats {
                peak_bytes: assignment.sizes.iter().sum::<u64>() + placed.input_bytes,
                naive_bytes: assignment.naive_bytes + placed.input_bytes,
                param_bytes: placed.param_bytes,
                state_bytes,
                dispatches: dispatches.len(),
                buffers: assignment.sizes.len(),
            },
            dispatches,
            tensors: placed.tensors,
            readable,
            inputs: placed.inputs,
            input_names: g.inputs().into_iter().map(|(n, v)| (v.id, n)).collect(),
            unused_inputs,
            train,
            seed: spec.seed,
            seed_tensor,
            step: 0,
            watch,
            grads: trained.into_iter().map(|t| (t.name, t.grad)).collect(),
            clip_stats,
        })
    }
}

/// Every name in [`PlanSpec::bound_inputs`] must be an input of the graph.
fn check_bound_inputs(g: &Graph, spec: &PlanSpec) -> Result<()> {
    for (name, _) in &spec.bound_inputs {
        let v = g.get(name)?;
        if !matches!(g.nodes[g.producer(v)?].kind, NodeKind::Input(..)) {
            return Err(Error::Graph(format!(
                "'{name}' is bound in PlanSpec::bound_inputs but is not an input"
            )));
        }
    }
    Ok(())
}

/// State written in place by an op (batch norm's running statistics, a decoder's cache), with
/// the op's name: it must be a leaf that owns its bytes, so nothing else shares them, and it is
/// never trained.
fn in_place_state(g: &Graph, mode: Mode) -> Result<Vec<(Var, &'static str)>> {
    let mut state = Vec::new();
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
    Ok(state)
}

/// Phase 1: the gradients of the trained parameters, added to `g` (none for inference).
fn add_gradients(
    g: &mut Graph,
    spec: &PlanSpec,
    state: &[(Var, &'static str)],
) -> Result<Vec<Trainee>> {
    let Some(t) = &spec.training else {
        return Ok(Vec::new());
    };
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
    // Each parameter's gradient gets bytes of its own: clipping scales gradients in place and
    // must not scale one buffer twice.
    let mut seen = Vec::new();
    let mut trained = Vec::new();
    for ((name, param), mut grad) in names.into_iter().zip(vars).zip(grads) {
        if seen.contains(&view_root(g, grad, spec.mode)?) {
            grad = g.scale(grad, 1.0, 0.0)?;
        }
        seen.push(view_root(g, grad, spec.mode)?);
        trained.push(Trainee { name, param, grad });
    }
    Ok(trained)
}

/// Phase 2: which nodes the demanded values depend on.
fn needed_nodes(g: &Graph, demanded: &[Var]) -> Result<Vec<bool>> {
    let mut needed = vec![false; g.nodes.len()];
    let mut stack = Vec::new();
    for &v in demanded {
        stack.push(g.producer(v)?);
    }
    while let Some(n) = stack.pop() {
        if !std::mem::replace(&mut needed[n], true) {
            for &i in &g.nodes[n].inputs {
                stack.push(g.producer(i)?);
            }
        }
    }
    Ok(needed)
}

/// Storage roots by value id: a view's bytes are its input's.
fn storage_roots(g: &Graph, needed: &[bool], mode: Mode) -> Vec<usize> {
    let mut root: Vec<usize> = (0..g.value_count()).collect();
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
    root
}

/// Phase 3: the step list, with each update as early as its parameter allows.
fn schedule(
    g: &Graph,
    order: &[usize],
    root: &[usize],
    trained: &[Trainee],
    clip: bool,
) -> Result<Vec<Step>> {
    let pos_of: HashMap<usize, usize> = order.iter().enumerate().map(|(p, &n)| (n, p)).collect();
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    let mut at_end = Vec::new();
    for (k, t) in trained.iter().enumerate() {
        if clip {
            at_end.push(k);
            continue;
        }
        let param_root = root[t.param.id as usize];
        let mut last = pos_of[&g.producer(t.grad)?];
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
    if clip && !trained.is_empty() {
        steps.push(Step::Clip);
        steps.extend(at_end.iter().map(|&k| Step::Update(k)));
    }
    Ok(steps)
}

/// Phase 4: lifetimes of pooled roots over the step list.
fn lifetimes(
    g: &Graph,
    steps: &[Step],
    root: &[usize],
    trained: &[Trainee],
    demanded: &[Var],
    mode: Mode,
) -> Lifetimes {
    let count = g.value_count();
    let mut home = vec![Home::Leaf; count];
    let mut start = vec![0usize; count];
    let mut end = vec![0usize; count];
    let grad_roots: Vec<usize> = trained.iter().map(|t| root[t.grad.id as usize]).collect();
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
                let r = grad_roots[k];
                end[r] = end[r].max(s);
            }
            Step::Clip => {
                for &r in &grad_roots {
                    end[r] = end[r].max(s);
                }
            }
        }
    }
    for v in demanded {
        end[root[v.id as usize]] = FOREVER;
    }
    Lifetimes { home, start, end }
}

/// Phase 5: best-fit assignment of pooled roots to buffers. A root takes the smallest free
/// buffer that fits, else grows the largest free one, else opens a new one.
fn assign_buffers(g: &Graph, life: &Lifetimes) -> BufferAssignment {
    let count = g.value_count();
    let mut pooled: Vec<usize> = (0..count).filter(|&r| life.home[r] == Home::Pool).collect();
    pooled.sort_by_key(|&r| (life.start[r], r));
    let mut buffers: Vec<(u64, usize)> = Vec::new(); // (bytes, busy until step)
    let mut slot_of = vec![usize::MAX; count];
    let mut naive_bytes = 0u64;
    for &r in &pooled {
        let bytes = g.values[r].meta.bytes().max(4).next_multiple_of(4);
        naive_bytes += bytes;
        let free = |b: &(u64, usize)| b.1 < life.start[r];
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
        buffers[b].1 = life.end[r];
        slot_of[r] = b;
    }
    BufferAssignment {
        sizes: buffers.into_iter().map(|(bytes, _)| bytes).collect(),
        slot_of,
        naive_bytes,
    }
}

/// The pooled buffers, each within the device's storage binding limit.
fn allocate_pool(ctx: &Context, sizes: &[u64]) -> Result<Vec<Arc<wgpu::Buffer>>> {
    let max_binding = ctx.device().limits().max_storage_buffer_binding_size;
    sizes
        .iter()
        .map(|&bytes| {
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
        .collect()
}

/// Phase 6: a tensor for every needed value: leaves first, then views and pooled outputs.
#[allow(clippy::too_many_arguments)]
fn place_tensors(
    ctx: &Context,
    g: &Graph,
    order: &[usize],
    store: &mut ParamStore,
    spec: &PlanSpec,
    root: &[usize],
    home: &[Home],
    slot_of: &[usize],
    pool: &[Arc<wgpu::Buffer>],
) -> Result<Placed> {
    let mut placed = Placed {
        tensors: vec![None; g.value_count()],
        inputs: BTreeMap::new(),
        param_bytes: 0,
        input_bytes: 0,
    };
    for &n in order {
        let node = &g.nodes[n];
        let out = node.outputs[0];
        let meta = &g.values[out.id as usize].meta;
        let t = match &node.kind {
            NodeKind::Input(name) => {
                let t = match spec.bound_inputs.iter().find(|(n, _)| n == name) {
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
                placed.input_bytes += meta.bytes();
                placed.inputs.insert(name.clone(), t.clone());
                Some(t)
            }
            NodeKind::Param(name, init) => {
                placed.param_bytes += meta.bytes();
                Some(store.get_or_init(ctx, name, &meta.shape, *init)?)
            }
            NodeKind::Constant(words) => {
                let t = Tensor::zeros(ctx, &meta.shape, meta.dtype)?;
                if !words.is_empty() {
                    ctx.write_buffer(t.buffer(), 0, bytemuck::cast_slice(words));
                }
                Some(t)
            }
            NodeKind::Op(_) => None,
        };
        placed.tensors[out.id as usize] = t;
    }
    for &n in order {
        for o in &g.nodes[n].outputs {
            let i = o.id as usize;
            if placed.tensors[i].is_some() {
                continue;
            }
            let meta = &g.values[i].meta;
            let r = root[i];
            let t = if home[r] == Home::Pool {
                Tensor::in_buffer(ctx, pool[slot_of[r]].clone(), &meta.shape, meta.dtype)
            } else {
                // A view of a leaf or of a view: same bytes, its own shape.
                let base = placed.tensors[r].as_ref().ok_or_else(|| {
                    Error::Graph(format!("{} has no storage", g.describe(g.var(i))))
                })?;
                base.reshape(&meta.shape)?
            };
            placed.tensors[i] = Some(t);
        }
    }
    Ok(placed)
}

/// Phase 7: optimizer state (moments, the weights' moving average, the hyper-parameter
/// uniform) and its bytes.
fn optimizer_state(
    ctx: &Context,
    g: &Graph,
    store: &mut ParamStore,
    spec: &PlanSpec,
    trained: &[Trainee],
    placed: &Placed,
) -> Result<(Option<TrainState>, u64)> {
    let Some(t) = &spec.training else {
        return Ok((None, 0));
    };
    let mut state_bytes = 0u64;
    let mut params = Vec::new();
    for trainee in trained {
        let param = placed.tensor(g, trainee.param)?.clone();
        let state = (0..t.optimizer.state_count())
            .map(|_| Tensor::zeros(ctx, param.shape(), DType::F32))
            .collect::<Result<Vec<_>>>()?;
        state_bytes += state.iter().map(Tensor::byte_size).sum::<u64>();
        let average = match t.ema_decay {
            Some(_) => Some(store.get_or_copy(ctx, &ema_name(&trainee.name), &param)?),
            None => None,
        };
        params.push(Trained {
            name: trainee.name.clone(),
            param,
            grad: placed.tensor(g, trainee.grad)?.clone(),
            state,
            average,
        });
    }
    let train = TrainState {
        training: t.clone(),
        hyper: Tensor::zeros(ctx, &[crate::optim::HYPER_LEN], DType::F32)?,
        params,
    };
    Ok((Some(train), state_bytes))
}

/// Phase 8: lowering, every dispatch of the step in order; with clipping, also the
/// `[coef, norm]` stats tensor.
#[allow(clippy::too_many_arguments)]
fn lower(
    ctx: &Context,
    g: &Graph,
    steps: &[Step],
    placed: &Placed,
    train: Option<&TrainState>,
    clip_norm: Option<f32>,
    mode: Mode,
    seed: &Tensor,
) -> Result<(Vec<Dispatch>, Option<Tensor>)> {
    let mut dispatches = Vec::new();
    let mut clip_stats = None;
    for step in steps {
        match *step {
            Step::Node(n) => {
                let node = &g.nodes[n];
                let NodeKind::Op(op) = &node.kind else {
                    continue;
                };
                let tensors = |vars: &[Var]| -> Result<Vec<&Tensor>> {
                    vars.iter().map(|&v| placed.tensor(g, v)).collect()
                };
                let io = Lowering {
                    inputs: tensors(&node.inputs)?,
                    outputs: tensors(&node.outputs)?,
                    mode,
                    seed,
                };
                dispatches.extend(op.lower(ctx, &io).map_err(|e| e.at(node.at))?);
            }
            Step::Update(k) => {
                let Some(ts) = train else {
                    continue;
                };
                let p = &ts.params[k];
                dispatches.push(match &ts.training.optimizer {
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
                let (Some(ts), Some(max_norm)) = (train, clip_norm) else {
                    continue;
                };
                let grads: Vec<&Tensor> = ts.params.iter().map(|p| &p.grad).collect();
                let (clip, stats) = clip_dispatches(ctx, &grads, max_norm)?;
                dispatches.extend(clip);
                clip_stats = Some(stats);
            }
        }
    }
    Ok((dispatches, clip_stats))
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

/// Phase 9: the readback ring for watched values (none when nothing is watched).
fn watch_ring(ctx: &Context, g: &Graph, watch: &[Var], placed: &Placed) -> Result<Option<Watch>> {
    if watch.is_empty() {
        return Ok(None);
    }
    let mut sources = Vec::new();
    let mut bytes = 0u64;
    for &v in watch {
        let t = placed.tensor(g, v)?.clone();
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
                buffer: Serialized::new(buffer, ctx.gate()),
                step: 0,
                mapped: Arc::new(Mutex::new(None)),
                in_flight: false,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Watch {
        sources,
        slots,
        ready: Vec::new(),
    }))
}

/// The value whose bytes `v` shares (itself unless it is a view).
fn view_root(g: &Graph, v: Var, mode: Mode) -> Result<Var> {
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
