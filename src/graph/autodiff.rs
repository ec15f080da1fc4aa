//! Reverse-mode differentiation: [`Graph::grad`] walks the graph backwards from a scalar loss and
//! appends each op's chain rule (defined beside the op, in `src/ops/<op>.rs`) as ordinary nodes.
//!
//! Only nodes on a path from a requested value to the loss are differentiated (tinygrad's
//! pruning); `detach` cuts paths. Where a value feeds several ops its gradients are summed with
//! `add` nodes, in reverse node order, so the sum is deterministic.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::ops::{GradArgs, Op};

use super::{Graph, NodeKind, Var};

impl Graph {
    /// Appends the gradient of `loss` (one element, f32) with respect to each of `wrt`, and
    /// returns those gradient values, each shaped like its variable. A variable the loss does
    /// not depend on is an error naming it.
    pub fn grad(&mut self, loss: Var, wrt: &[Var]) -> Result<Vec<Var>> {
        let meta = self.meta(loss)?.clone();
        if meta.bytes() != 4 || meta.dtype != crate::tensor::DType::F32 {
            return Err(Error::Graph(format!(
                "grad needs a one-element f32 loss, got {:?} of shape {:?}",
                meta.dtype, meta.shape
            )));
        }
        let count = self.value_count();
        let nodes = self.nodes().len();
        let mut depends = vec![false; count];
        for &w in wrt {
            depends[self.index(w)?] = true;
        }
        for node in &self.nodes()[..nodes] {
            if let NodeKind::Op(op) = &node.kind {
                if *op != Op::Detach && node.inputs.iter().any(|v| depends[v.id as usize]) {
                    for o in &node.outputs {
                        depends[o.id as usize] = true;
                    }
                }
            }
        }
        let mut reaches = vec![false; count];
        reaches[self.index(loss)?] = true;
        for node in self.nodes()[..nodes].iter().rev() {
            if let NodeKind::Op(op) = &node.kind {
                if *op != Op::Detach && node.outputs.iter().any(|v| reaches[v.id as usize]) {
                    for i in &node.inputs {
                        reaches[i.id as usize] = true;
                    }
                }
            }
        }
        let needs: Vec<bool> = (0..count).map(|i| depends[i] && reaches[i]).collect();
        for &w in wrt {
            if !needs[w.id as usize] {
                return Err(Error::Graph(format!(
                    "the loss does not depend on {} (through differentiable ops)",
                    self.describe(w)
                )));
            }
        }

        let seed = self.constant(&meta.shape, &[1.0])?;
        let mut grads: HashMap<usize, Var> = HashMap::from([(loss.id as usize, seed)]);
        for n in (0..nodes).rev() {
            let node = self.nodes()[n].clone();
            let NodeKind::Op(op) = &node.kind else {
                continue;
            };
            let douts: Vec<Option<Var>> = node
                .outputs
                .iter()
                .map(|o| grads.get(&(o.id as usize)).copied())
                .collect();
            let wants: Vec<bool> = node.inputs.iter().map(|i| needs[i.id as usize]).collect();
            if douts.iter().all(Option::is_none) || !wants.iter().any(|&w| w) {
                continue;
            }
            let args = GradArgs {
                inputs: &node.inputs,
                outputs: &node.outputs,
                douts: &douts,
                wants: &wants,
            };
            let dins = op.grad(self, &args)?;
            if dins.len() != node.inputs.len() {
                return Err(Error::Graph(format!(
                    "{}'s gradient rule returned {} gradients for {} inputs",
                    op.name(),
                    dins.len(),
                    node.inputs.len()
                )));
            }
            for ((&input, din), want) in node.inputs.iter().zip(dins).zip(wants) {
                let Some(din) = din.filter(|_| want) else {
                    continue;
                };
                if self.shape(din)? != self.shape(input)? {
                    return Err(Error::Graph(format!(
                        "{}'s gradient rule gave shape {:?} for an input of shape {:?}",
                        op.name(),
                        self.shape(din)?,
                        self.shape(input)?
                    )));
                }
                let key = input.id as usize;
                let total = match grads.get(&key) {
                    Some(&sum) => self.add(sum, din)?,
                    None => din,
                };
                grads.insert(key, total);
            }
        }
        wrt.iter()
            .map(|w| {
                grads.get(&(w.id as usize)).copied().ok_or_else(|| {
                    Error::Graph(format!("no gradient reached {}", self.describe(*w)))
                })
            })
            .collect()
    }

    /// A value in words, for messages: its input or parameter name, or its op and shape.
    pub(crate) fn describe(&self, v: Var) -> String {
        let Ok(node) = self.producer(v) else {
            return format!("{v:?}");
        };
        let shape = self.shape(v).map(|s| s.to_vec()).unwrap_or_default();
        match &self.nodes()[node].kind {
            NodeKind::Input(name) => format!("input '{name}' {shape:?}"),
            NodeKind::Param(name, _) => format!("parameter '{name}' {shape:?}"),
            NodeKind::Constant(_) => format!("a constant {shape:?}"),
            NodeKind::Op(op) => format!(
                "the output of {} {shape:?} (built at {})",
                op.name(),
                self.nodes()[node].at
            ),
        }
    }
}
