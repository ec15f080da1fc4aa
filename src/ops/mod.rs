//! The ops: one file per op, each with its math, its shape rule, the preparation of its
//! kernels' `Dispatch`es (forward and backward), an eager function
//! that runs it at once, and its graph side: the [`Graph`] builder method, the chain rule and
//! the lowering of its node to dispatches. Kernels live in `shaders/` under the same name.
//!
//! `prepare`-style functions (`forward`, `backward_*`) take their output tensors, so that a plan
//! can place outputs in memory it manages; the eager functions allocate and run.
//!
//! [`Op`] lists every graph node kind; its three `match`es (shape rule, chain rule, lowering)
//! are one screen, each arm a call into the op's file.

pub mod argmax;
pub mod attention;
pub mod batch_norm2d;
pub mod bce;
pub mod clip;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod cross_entropy;
pub mod dropout;
pub mod elementwise;
pub mod embedding;
pub mod kmeans;
pub mod kv_cache;
pub mod layer_norm;
pub mod matmul;
pub mod optim;
pub mod reduce;
pub mod softmax;
pub mod to_texture;
pub mod topk;
pub mod transpose;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::{Graph, Meta, Mode, Var};
use crate::kernels::Dispatch;
use crate::tensor::{DType, Tensor};

use attention::AttentionOptions;
use batch_norm2d::BatchNormOptions;
use conv2d::Conv2dOptions;
use cross_entropy::CrossEntropyOptions;
use elementwise::Activation;
use matmul::MatmulOptions;
use reduce::Reduction;

/// A graph node's operation, with its static attributes. Backward nodes are ops too, so the
/// backward graph is planned like the forward.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A view with another shape (no kernel).
    Reshape(Vec<usize>),
    /// A view that stops gradients (no kernel).
    Detach,
    /// `op(a)·op(b) (+ bias)`.
    Matmul {
        /// Transpositions.
        opts: MatmulOptions,
        /// A third input, the bias `[N]`.
        bias: bool,
    },
    /// Gradients of a matmul: outputs are the wanted ones of (da, db, dbias), in that order.
    MatmulBackward {
        /// The forward's transpositions.
        opts: MatmulOptions,
        /// Produce da.
        da: bool,
        /// Produce db.
        db: bool,
        /// Produce dbias.
        dbias: bool,
    },
    /// `conv2d(x, w) (+ bias)`: outputs `(y, col, cnhw)`, the last two im2col scratch.
    Conv2d {
        /// Stride and padding.
        opts: Conv2dOptions,
        /// A third input, the bias `[CO]`.
        bias: bool,
    },
    /// Gradients of a conv2d from `(x, w, dy)`: the wanted ones of (dx, dw, dbias), then the
    /// scratch `(col, cnhw)`.
    Conv2dBackward {
        /// The forward's stride and padding.
        opts: Conv2dOptions,
        /// Produce dx.
        dx: bool,
        /// Produce dw.
        dw: bool,
        /// Produce dbias.
        dbias: bool,
    },
    /// `conv_transpose2d(x, w) (+ bias)`: outputs `(y, col, cnhw)`, the last two scratch.
    ConvTranspose2d {
        /// Stride and padding.
        opts: Conv2dOptions,
        /// A third input, the bias `[CO]`.
        bias: bool,
    },
    /// Gradients of a conv_transpose2d from `(x, w, dy)`: the wanted ones of (dx, dw, dbias),
    /// then the scratch `(col, cnhw)`.
    ConvTranspose2dBackward {
        /// The forward's stride and padding.
        opts: Conv2dOptions,
        /// Produce dx.
        dx: bool,
        /// Produce dw.
        dw: bool,
        /// Produce dbias.
        dbias: bool,
    },
    /// `a + b`.
    Add,
    /// `a ⊙ b`.
    Mul,
    /// `(da, db) = (dy ⊙ b, dy ⊙ a)`.
    MulBackward,
    /// `x + bias` broadcast over rows.
    AddRow,
    /// `alpha · x + beta`.
    Scale {
        /// Multiplier.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `f(x)`.
    Activation(Activation),
    /// `f'(x) ⊙ dy` from `(saved, dy)`, saved = `y` or `x` per [`Activation::backward_uses_output`].
    ActivationBackward(Activation),
    /// Sum or mean over one axis.
    Reduce {
        /// The axis.
        axis: usize,
        /// Sum or mean.
        kind: Reduction,
    },
    /// Broadcast of `dy` back along `axis` (of length `n`).
    ReduceBackward {
        /// The axis.
        axis: usize,
        /// Sum or mean.
        kind: Reduction,
        /// Length of the reduced axis.
        n: usize,
    },
    /// Sum or mean of everything into `[1]` (second output: the partial sums' scratch).
    ReduceAll(Reduction),
    /// Broadcast of the scalar `dy` to `shape`.
    ReduceAllBackward {
        /// Sum or mean.
        kind: Reduction,
        /// The forward input's shape.
        shape: Vec<usize>,
    },
    /// Softmax over the last axis.
    Softmax,
    /// `dx` from `(y, dy)`.
    SoftmaxBackward,
    /// Log-softmax over the last axis.
    LogSoftmax,
    /// `dx` from `(y, dy)`.
    LogSoftmaxBackward,
    /// Layer norm over the last axis: outputs `(y, mean, rstd)`.
    LayerNorm {
        /// Added to the variance.
        eps: f32,
    },
    /// `(dx, dgamma, dbeta)` from `(x, gamma, mean, rstd, dy)`.
    LayerNormBackward,
    /// Batch norm of `[N, C, H, W]` over N, H, W: inputs `(x, gamma, beta, running_mean,
    /// running_var)`, outputs `(y, mean, rstd)`; updates the running statistics in train mode.
    BatchNorm2d(BatchNormOptions),
    /// `(dx, dgamma, dbeta)` from `(x, gamma, mean, rstd, dy)`.
    BatchNorm2dBackward,
    /// Mean binary cross-entropy of logits against f32 targets: outputs `(mean, losses,
    /// partials)`.
    BceWithLogits,
    /// `dlogits` from `(logits, targets, dloss)`.
    BceWithLogitsBackward,
    /// `table[ids]`.
    Embedding,
    /// `dtable` `[vocab, C]` from `(ids, dout)`.
    EmbeddingBackward {
        /// Rows of the table.
        vocab: usize,
    },
    /// Fused attention: outputs `(o, lse)`.
    Attention {
        /// Causal mask and scale.
        opts: AttentionOptions,
        /// A fourth input, the key-padding mask `[B, Tk]`.
        mask: bool,
    },
    /// `(dq, dk, dv, scratch)` from `(q, k, v, [mask], o, lse, do)`.
    AttentionBackward {
        /// The forward's options.
        opts: AttentionOptions,
        /// Whether a mask is among the inputs.
        mask: bool,
    },
    /// Cross-entropy of logits against u32 targets: outputs `(losses, mean, count)`.
    CrossEntropy(CrossEntropyOptions),
    /// `dlogits` from `(logits, targets, count, dmean)`.
    CrossEntropyBackward(CrossEntropyOptions),
    /// Index of the largest value along the last axis (no gradient).
    Argmax,
    /// `(keys, values, k, v, position)`: the new keys and values written into the caches in
    /// place; output the visibility mask `[B, T]` (no gradient).
    KvAppend,
    /// Swap of axes 1 and 2 of a 4-D value (its own gradient).
    Transpose12,
    /// Inverted dropout; a view in eval mode.
    Dropout {
        /// Drop probability.
        p: f32,
        /// The call site's mask stream.
        salt: u32,
    },
    /// The same mask applied to `dy`.
    DropoutBackward {
        /// Drop probability.
        p: f32,
        /// The forward's mask stream.
        salt: u32,
    },
}

/// What a chain rule sees of its node.
pub(crate) struct GradArgs<'a> {
    /// The node's inputs.
    pub inputs: &'a [Var],
    /// The node's outputs.
    pub outputs: &'a [Var],
    /// The gradient of the loss with respect to each output, where one flows.
    pub douts: &'a [Option<Var>],
    /// Which inputs need a gradient.
    pub wants: &'a [bool],
}

/// What a lowering sees: the tensors the plan placed for the node's inputs and outputs.
pub(crate) struct Lowering<'a> {
    pub inputs: Vec<&'a Tensor>,
    pub outputs: Vec<&'a Tensor>,
    /// Train or eval.
    pub mode: Mode,
    /// The plan's per-step seed words `[seed_lo, seed_hi, step_lo, step_hi]` (u32), for random ops.
    pub seed: &'a Tensor,
}

impl Op {
    /// The op's functional name, as in its errors.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Reshape(_) => "reshape",
            Op::Detach => "detach",
            Op::Matmul { .. } => "matmul",
            Op::MatmulBackward { .. } => "matmul_backward",
            Op::Conv2d { .. } => "conv2d",
            Op::Conv2dBackward { .. } => "conv2d_backward",
            Op::ConvTranspose2d { .. } => "conv_transpose2d",
            Op::ConvTranspose2dBackward { .. } => "conv_transpose2d_backward",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::MulBackward => "mul_backward",
            Op::AddRow => "add_row",
            Op::Scale { .. } => "scale",
            Op::Activation(_) => "activation",
            Op::ActivationBackward(_) => "activation_backward",
            Op::Reduce { .. } => "reduce",
            Op::ReduceBackward { .. } => "reduce_backward",
            Op::ReduceAll(_) => "reduce_all",
            Op::ReduceAllBackward { .. } => "reduce_all_backward",
            Op::Softmax => "softmax",
            Op::SoftmaxBackward => "softmax_backward",
            Op::LogSoftmax => "log_softmax",
            Op::LogSoftmaxBackward => "log_softmax_backward",
            Op::LayerNorm { .. } => "layer_norm",
            Op::LayerNormBackward => "layer_norm_backward",
            Op::BatchNorm2d(_) => "batch_norm2d",
            Op::BatchNorm2dBackward => "batch_norm2d_backward",
            Op::BceWithLogits => "bce_with_logits",
            Op::BceWithLogitsBackward => "bce_with_logits_backward",
            Op::Embedding => "embedding",
            Op::EmbeddingBackward { .. } => "embedding_backward",
            Op::Attention { .. } => "attention",
            Op::AttentionBackward { .. } => "attention_backward",
            Op::CrossEntropy(_) => "cross_entropy",
            Op::CrossEntropyBackward(_) => "cross_entropy_backward",
            Op::Argmax => "argmax",
            Op::KvAppend => "kv_append",
            Op::Transpose12 => "transpose",
            Op::Dropout { .. } => "dropout",
            Op::DropoutBackward { .. } => "dropout_backward",
        }
    }

    /// The shape rule: output metas from input metas, or a shape error naming the op.
    pub(crate) fn infer(&self, x: &[&Meta]) -> Result<Vec<Meta>> {
        match self {
            Op::Reshape(shape) => Ok(vec![reshape_infer(x, shape)?]),
            Op::Detach => Ok(vec![x[0].clone()]),
            Op::Matmul { opts, bias } => matmul::infer(*opts, *bias, x),
            Op::MatmulBackward { da, db, dbias, .. } => {
                matmul::infer_backward(self, [*da, *db, *dbias], x)
            }
            Op::Conv2d { .. } | Op::Conv2dBackward { .. } => conv2d::infer(self, x),
            Op::ConvTranspose2d { .. } | Op::ConvTranspose2dBackward { .. } => {
                conv_transpose2d::infer(self, x)
            }
            Op::Add | Op::Mul | Op::MulBackward | Op::AddRow | Op::Scale { .. } => {
                elementwise::infer(self, x)
            }
            Op::Activation(_) | Op::ActivationBackward(_) => elementwise::infer(self, x),
            Op::Reduce { .. }
            | Op::ReduceBackward { .. }
            | Op::ReduceAll(_)
            | Op::ReduceAllBackward { .. } => reduce::infer(self, x),
            Op::Softmax | Op::SoftmaxBackward | Op::LogSoftmax | Op::LogSoftmaxBackward => {
                softmax::infer(self, x)
            }
            Op::LayerNorm { .. } | Op::LayerNormBackward => layer_norm::infer(self, x),
            Op::BatchNorm2d(_) | Op::BatchNorm2dBackward => batch_norm2d::infer(self, x),
            Op::BceWithLogits | Op::BceWithLogitsBackward => bce::infer(self, x),
            Op::Embedding | Op::EmbeddingBackward { .. } => embedding::infer(self, x),
            Op::Attention { .. } | Op::AttentionBackward { .. } => attention::infer(self, x),
            Op::CrossEntropy(_) | Op::CrossEntropyBackward(_) => cross_entropy::infer(self, x),
            Op::Argmax => argmax::infer(x),
            Op::KvAppend => kv_cache::infer(x),
            Op::Transpose12 => transpose::infer(x),
            Op::Dropout { .. } | Op::DropoutBackward { .. } => dropout::infer(self, x),
        }
    }

    /// The chain rule: one optional gradient per input, added to `g` as ordinary nodes.
    pub(crate) fn grad(&self, g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
        match self {
            Op::Reshape(_) => {
                let shape = g.shape(a.inputs[0])?.to_vec();
                Ok(vec![a.douts[0]
                    .map(|d| g.reshape(d, &shape))
                    .transpose()?])
            }
            Op::Detach => Ok(vec![None]),
            Op::Matmul { opts, bias } => matmul::grad(g, *opts, *bias, a),
            Op::Conv2d { opts, bias } => conv2d::grad(g, *opts, *bias, a),
            Op::ConvTranspose2d { opts, bias } => conv_transpose2d::grad(g, *opts, *bias, a),
            Op::Add | Op::Mul | Op::AddRow | Op::Scale { .. } | Op::Activation(_) => {
                elementwise::grad(self, g, a)
            }
            Op::Reduce { .. } | Op::ReduceAll(_) => reduce::grad(self, g, a),
            Op::Softmax | Op::LogSoftmax => softmax::grad(self, g, a),
            Op::LayerNorm { .. } => layer_norm::grad(g, a),
            Op::BatchNorm2d(_) => batch_norm2d::grad(g, a),
            Op::BceWithLogits => bce::grad(g, a),
            Op::Embedding => embedding::grad(g, a),
            Op::Attention { opts, mask } => attention::grad(g, *opts, *mask, a),
            Op::CrossEntropy(opts) => cross_entropy::grad(g, *opts, a),
            Op::Transpose12 => transpose::grad(g, a),
            Op::Dropout { p, salt } => dropout::grad(g, *p, *salt, a),
            _ => Err(Error::Graph(format!(
                "{} has no gradient rule (second derivatives are not supported)",
                self.name()
            ))),
        }
    }

    /// Whether output 0 is a view of input `i` in this mode: no kernel, shared memory.
    pub(crate) fn view_of(&self, mode: Mode) -> Option<usize> {
        match self {
            Op::Reshape(_) | Op::Detach => Some(0),
            Op::Dropout { .. } | Op::DropoutBackward { .. } if mode == Mode::Eval => Some(0),
            _ => None,
        }
    }

    /// Inputs this op writes in place in this mode: persistent state such as batch norm's
    /// running statistics or a decoder's key-value cache, which must be leaves (parameters or
    /// plan inputs, which own their bytes) and are never trained.
    pub(crate) fn writes_inputs(&self, mode: Mode) -> &'static [usize] {
        match self {
            Op::BatchNorm2d(_) if mode == Mode::Train => &[3, 4],
            Op::KvAppend => &[0, 1],
            _ => &[],
        }
    }

    /// The dispatches computing the node into the tensors the plan placed.
    pub(crate) fn lower(&self, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
        if self.view_of(io.mode).is_some() {
            return Ok(Vec::new());
        }
        match self {
            Op::Reshape(_) | Op::Detach => Ok(Vec::new()),
            Op::Matmul { .. } | Op::MatmulBackward { .. } => matmul::lower(self, ctx, io),
            Op::Conv2d { .. } | Op::Conv2dBackward { .. } => conv2d::lower(self, ctx, io),
            Op::ConvTranspose2d { .. } | Op::ConvTranspose2dBackward { .. } => {
                conv_transpose2d::lower(self, ctx, io)
            }
            Op::Add
            | Op::Mul
            | Op::MulBackward
            | Op::AddRow
            | Op::Scale { .. }
            | Op::Activation(_)
            | Op::ActivationBackward(_) => elementwise::lower(self, ctx, io),
            Op::Reduce { .. }
            | Op::ReduceBackward { .. }
            | Op::ReduceAll(_)
            | Op::ReduceAllBackward { .. } => reduce::lower(self, ctx, io),
            Op::Softmax | Op::SoftmaxBackward | Op::LogSoftmax | Op::LogSoftmaxBackward => {
                softmax::lower(self, ctx, io)
            }
            Op::LayerNorm { .. } | Op::LayerNormBackward => layer_norm::lower(self, ctx, io),
            Op::BatchNorm2d(_) | Op::BatchNorm2dBackward => batch_norm2d::lower(self, ctx, io),
            Op::BceWithLogits | Op::BceWithLogitsBackward => bce::lower(self, ctx, io),
            Op::Embedding | Op::EmbeddingBackward { .. } => embedding::lower(self, ctx, io),
            Op::Attention { .. } | Op::AttentionBackward { .. } => attention::lower(self, ctx, io),
            Op::CrossEntropy(_) | Op::CrossEntropyBackward(_) => {
                cross_entropy::lower(self, ctx, io)
            }
            Op::Argmax => argmax::lower(ctx, io),
            Op::KvAppend => kv_cache::lower(ctx, io),
            Op::Transpose12 => transpose::lower(ctx, io),
            Op::Dropout { .. } | Op::DropoutBackward { .. } => dropout::lower(self, ctx, io),
        }
    }
}

fn reshape_infer(x: &[&Meta], shape: &[usize]) -> Result<Meta> {
    if crate::tensor::numel(&x[0].shape) != crate::tensor::numel(shape) {
        return Err(crate::error::shape_error(
            "reshape",
            "a shape with the same number of elements",
            &[&x[0].shape, shape],
        ));
    }
    Ok(Meta {
        shape: shape.to_vec(),
        dtype: x[0].dtype,
    })
}

/// Checks the input count and that the inputs named by `f32_at` are f32 (graph side).
pub(crate) fn check_arity(op: &'static str, x: &[&Meta], count: usize) -> Result<()> {
    if x.len() != count {
        return Err(Error::Graph(format!(
            "{op} takes {count} inputs, got {}",
            x.len()
        )));
    }
    Ok(())
}

/// Rejects a non-f32 input at graph-build time, naming the op.
pub(crate) fn check_f32_meta(op: &'static str, x: &[&Meta]) -> Result<()> {
    for m in x {
        if m.dtype != DType::F32 {
            return Err(Error::DType {
                op,
                message: format!(
                    "expects f32 values, got {:?} of shape {:?}",
                    m.dtype, m.shape
                ),
            });
        }
    }
    Ok(())
}

/// The node's input `i` and output `j` tensors, or an internal error (never user-caused:
/// the plan places exactly the node's values).
pub(crate) fn io_tensors<'a>(
    op: &'static str,
    io: &'a Lowering,
    inputs: usize,
    outputs: usize,
) -> Result<(&'a [&'a Tensor], &'a [&'a Tensor])> {
    if io.inputs.len() < inputs || io.outputs.len() < outputs {
        return Err(Error::Graph(format!(
            "{op}: the plan placed {} inputs and {} outputs, the op needs {inputs} and {outputs}",
            io.inputs.len(),
            io.outputs.len()
        )));
    }
    Ok((&io.inputs, &io.outputs))
}

/// Rejects any tensor that is not f32, naming the op.
pub(crate) fn check_f32(op: &'static str, tensors: &[&Tensor]) -> Result<()> {
    for t in tensors {
        if t.dtype() != DType::F32 {
            return Err(Error::DType {
                op,
                message: format!("expects f32 tensors, got {:?}", t.dtype()),
            });
        }
    }
    Ok(())
}
