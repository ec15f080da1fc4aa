//! The symbolic graph: a model as named inputs, parameters, constants and ops over values with
//! static shapes and dtypes, checked as it is built.
//!
//! - Build: [`Graph::input`], [`Graph::param`], [`Graph::constant`] and one method per op (each
//!   defined beside its kernels in `src/ops/<op>.rs`, e.g. [`Graph::matmul`]). Every method
//!   checks shapes at once; a mismatch is an [`Error::Shape`] naming the op, every shape and the
//!   caller's line.
//! - Differentiate: [`Graph::grad`] (`autodiff.rs`) appends the backward as ordinary nodes.
//! - Plan: [`Plan::compile`] (`planner.rs`, one function per phase) orders, prunes, assigns
//!   memory by liveness and creates every pipeline and bind group; the executor
//!   (`executor.rs`) runs each step as one submission; `plan.rs` holds what a user calls.
//!
//! What is not here: the kernels (`src/ops`), the layers (`src/nn`), the optimizers' state and
//! schedules (`src/train`).

mod autodiff;
mod executor;
mod params;
mod plan;
mod planner;

use std::collections::BTreeMap;
use std::panic::Location;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::error::{shape_error, Error, Result};
use crate::ops::Op;
use crate::tensor::{numel, DType};

pub use params::{Init, ParamStore};
pub use plan::{InputRef, Mode, Plan, PlanSpec, PlanStats, Reading};

/// A value in a [`Graph`]: one output of one node. Cheap to copy; only meaningful with the
/// graph that made it (using it with another is an [`Error::Graph`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var {
    graph: u32,
    id: u32,
}

/// Shape and element type of a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Row-major shape.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
}

impl Meta {
    /// An f32 value of this shape.
    pub fn f32(shape: &[usize]) -> Meta {
        Meta {
            shape: shape.to_vec(),
            dtype: DType::F32,
        }
    }

    /// Bytes the value occupies.
    pub fn bytes(&self) -> u64 {
        numel(&self.shape) as u64 * self.dtype.size()
    }
}

/// What a node is: a leaf the plan fills, or an op.
#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    /// Fed by the caller before each step.
    Input(String),
    /// A parameter, shared through a [`ParamStore`] by name.
    Param(String, Init),
    /// Data fixed when the graph is built (4-byte words: f32 bits or u32), uploaded at plan time.
    Constant(Arc<Vec<u32>>),
    /// An op over earlier values.
    Op(Op),
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub inputs: Vec<Var>,
    pub outputs: Vec<Var>,
    /// Where the user built it (for error messages).
    pub at: &'static Location<'static>,
}

#[derive(Clone, Debug)]
struct Value {
    meta: Meta,
    node: usize,
}

static NEXT_GRAPH: AtomicU32 = AtomicU32::new(1);

/// A model under construction. Append-only: node order is a topological order.
#[derive(Clone, Debug)]
pub struct Graph {
    id: u32,
    nodes: Vec<Node>,
    values: Vec<Value>,
    /// Inputs and parameters by name.
    names: BTreeMap<String, Var>,
    /// Counter handing each random op (dropout) its own stream.
    next_salt: u32,
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph {
            id: NEXT_GRAPH.fetch_add(1, Ordering::Relaxed),
            nodes: Vec::new(),
            values: Vec::new(),
            names: BTreeMap::new(),
            next_salt: 0,
        }
    }

    /// A named input, fed before each step with [`Plan::set_input_f32`] / `set_input_u32`.
    #[track_caller]
    pub fn input(&mut self, name: &str, shape: &[usize], dtype: DType) -> Result<Var> {
        let at = Location::caller();
        self.check_new_name(name, at)?;
        let meta = Meta {
            shape: shape.to_vec(),
            dtype,
        };
        let v = self.push_leaf(NodeKind::Input(name.to_string()), meta, at);
        self.names.insert(name.to_string(), v);
        Ok(v)
    }

    /// A trainable f32 parameter. Plans over graphs that name the same parameter share one tensor
    /// (see [`ParamStore`]); `init` fills it when a store first meets the name.
    #[track_caller]
    pub fn param(&mut self, name: &str, shape: &[usize], init: Init) -> Result<Var> {
        let at = Location::caller();
        self.check_new_name(name, at)?;
        if shape.is_empty() || shape.contains(&0) {
            return Err(shape_error("param", "a non-empty shape", &[shape]).at(at));
        }
        let v = self.push_leaf(
            NodeKind::Param(name.to_string(), init),
            Meta::f32(shape),
            at,
        );
        self.names.insert(name.to_string(), v);
        Ok(v)
    }

    /// A constant f32 tensor, uploaded once when a plan is compiled (positional tables, masks).
    #[track_caller]
    pub fn constant(&mut self, shape: &[usize], data: &[f32]) -> Result<Var> {
        let at = Location::caller();
        if data.len() != numel(shape) {
            return Err(Error::Length {
                during: format!("a constant of shape {shape:?} (at {at})"),
                expected: numel(shape),
                got: data.len(),
            });
        }
        let words = data.iter().map(|x| x.to_bits()).collect();
        Ok(self.push_leaf(NodeKind::Constant(Arc::new(words)), Meta::f32(shape), at))
    }

    /// A constant u32 tensor (fixed ids or targets).
    #[track_caller]
    pub fn constant_u32(&mut self, shape: &[usize], data: &[u32]) -> Result<Var> {
        let at = Location::caller();
        if data.len() != numel(shape) {
            return Err(Error::Length {
                during: format!("a constant of shape {shape:?} (at {at})"),
                expected: numel(shape),
                got: data.len(),
            });
        }
        let meta = Meta {
            shape: shape.to_vec(),
            dtype: DType::U32,
        };
        Ok(self.push_leaf(NodeKind::Constant(Arc::new(data.to_vec())), meta, at))
    }

    /// The same values seen with another shape of equal element count. Free: shares memory.
    #[track_caller]
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        self.push1(Op::Reshape(shape.to_vec()), &[x])
    }

    /// `x` with no gradient flowing back through it (stop-gradient). Free: shares memory.
    #[track_caller]
    pub fn detach(&mut self, x: Var) -> Result<Var> {
        self.push1(Op::Detach, &[x])
    }

    /// The shape of a value.
    pub fn shape(&self, v: Var) -> Result<&[usize]> {
        Ok(&self.value(v)?.meta.shape)
    }

    /// Shape and dtype of a value.
    pub fn meta(&self, v: Var) -> Result<&Meta> {
        Ok(&self.value(v)?.meta)
    }

    /// The input or parameter of that name.
    pub fn get(&self, name: &str) -> Result<Var> {
        self.names.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = self.names.keys().map(String::as_str).collect();
            Error::Graph(format!(
                "no input or parameter named '{name}' (the graph has: {})",
                known.join(", ")
            ))
        })
    }

    /// Every parameter, by name, in name order.
    pub fn params(&self) -> Vec<(String, Var)> {
        self.leaves(|k| matches!(k, NodeKind::Param(..)))
    }

    /// The parameters named under `prefix` that training updates, in name order: every one
    /// except state an op writes in place in training mode (batch norm's running statistics).
    /// A GAN's two plans train `"generator."` and `"discriminator."` this way.
    pub fn trainable_params(&self, prefix: &str) -> Vec<String> {
        let mut state = Vec::new();
        for node in &self.nodes {
            if let NodeKind::Op(op) = &node.kind {
                state.extend(
                    op.writes_inputs(Mode::Train)
                        .iter()
                        .map(|&i| node.inputs[i]),
                );
            }
        }
        self.params()
            .into_iter()
            .filter(|(name, v)| name.starts_with(prefix) && !state.contains(v))
            .map(|(name, _)| name)
            .collect()
    }

    /// Every input, by name, in name order.
    pub fn inputs(&self) -> Vec<(String, Var)> {
        self.leaves(|k| matches!(k, NodeKind::Input(..)))
    }

    /// Number of nodes (leaves and ops), forward and backward.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A fresh stream number for a random op, so that two dropout sites never share a mask.
    pub(crate) fn next_salt(&mut self) -> u32 {
        self.next_salt += 1;
        self.next_salt
    }

    /// Appends an op node: checks its inputs belong here, infers its outputs (a shape error gets
    /// the caller's location) and returns them.
    #[track_caller]
    pub(crate) fn push(&mut self, op: Op, inputs: &[Var]) -> Result<Vec<Var>> {
        let at = Location::caller();
        let metas = inputs
            .iter()
            .map(|&v| self.meta(v))
            .collect::<Result<Vec<_>>>()?;
        let out = op.infer(&metas).map_err(|e| e.at(at))?;
        let node = self.nodes.len();
        let outputs = out
            .into_iter()
            .map(|meta| self.new_value(meta, node))
            .collect();
        self.nodes.push(Node {
            kind: NodeKind::Op(op),
            inputs: inputs.to_vec(),
            outputs,
            at,
        });
        Ok(self.nodes[node].outputs.clone())
    }

    /// [`Graph::push`] for an op with one output.
    #[track_caller]
    pub(crate) fn push1(&mut self, op: Op, inputs: &[Var]) -> Result<Var> {
        let name = op.name();
        self.push(op, inputs)?
            .first()
            .copied()
            .ok_or_else(|| Error::Graph(format!("{name} produced no output")))
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node that produces `v`.
    pub(crate) fn producer(&self, v: Var) -> Result<usize> {
        Ok(self.value(v)?.node)
    }

    pub(crate) fn value_count(&self) -> usize {
        self.values.len()
    }

    /// The dense index of `v` (0..value_count), after checking it belongs here.
    pub(crate) fn index(&self, v: Var) -> Result<usize> {
        self.value(v)?;
        Ok(v.id as usize)
    }

    /// The `Var` of dense index `i`.
    pub(crate) fn var(&self, i: usize) -> Var {
        Var {
            graph: self.id,
            id: i as u32,
        }
    }

    fn value(&self, v: Var) -> Result<&Value> {
        if v.graph != self.id {
            return Err(Error::Graph(format!(
                "value {v:?} belongs to another graph (graph {}), not this one (graph {})",
                v.graph, self.id
            )));
        }
        self.values
            .get(v.id as usize)
            .ok_or_else(|| Error::Graph(format!("value {v:?} does not exist")))
    }

    fn new_value(&mut self, meta: Meta, node: usize) -> Var {
        self.values.push(Value { meta, node });
        self.var(self.values.len() - 1)
    }

    fn push_leaf(&mut self, kind: NodeKind, meta: Meta, at: &'static Location<'static>) -> Var {
        let node = self.nodes.len();
        let v = self.new_value(meta, node);
        self.nodes.push(Node {
            kind,
            inputs: Vec::new(),
            outputs: vec![v],
            at,
        });
        v
    }

    fn check_new_name(&self, name: &str, at: &'static Location<'static>) -> Result<()> {
        if name.is_empty() || self.names.contains_key(name) {
            return Err(Error::Graph(format!(
                "the name '{name}' (at {at}) is empty or already taken by an input or parameter"
            )));
        }
        Ok(())
    }

    fn leaves(&self, keep: impl Fn(&NodeKind) -> bool) -> Vec<(String, Var)> {
        self.names
            .iter()
            .filter(|(_, v)| keep(&self.nodes[self.values[v.id as usize].node].kind))
            .map(|(n, v)| (n.clone(), *v))
            .collect()
    }
}
