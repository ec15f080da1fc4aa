//! Element-wise ops: `add`, `mul`, `add_row` (a bias broadcast over rows), `scale`, and the
//! activations of [`Activation`], each with its backward.
//!
//! Dimension letters: any shape; R rows and C the last axis where a row vector is broadcast.
//! - `add`: `y = a + b` (same shape); backward `da = dy`, `db = dy`
//! - `mul`: `y = a ⊙ b` (same shape); backward `da = dy ⊙ b`, `db = dy ⊙ a`
//! - `add_row`: `y[r,c] = x[r,c] + bias[c]`, `x` `[.., C]`, `bias` `[C]`; backward `dx = dy`,
//!   `dbias[c] = Σ_r dy[r,c]` (a column sum by [`super::reduce`])
//! - `scale`: `y = α x + β`; backward `dx = α dy`
//! - activations (derivatives in [`Activation`]): `y = f(x)`, backward `dx = f'(x) ⊙ dy`; tanh,
//!   sigmoid, ReLU and LeakyReLU (positive slope) take `f'` from the saved output `y` (see
//!   [`Activation::backward_uses_output`]), the GELUs from `x`.
//!
//! Naming: `prepare_*` functions build the [`Dispatch`]es into caller-owned outputs (for a
//! plan); the plain names (`add`, `add_backward`, ...) allocate, run now and return tensors.
//!
//! Kernel: `shaders/elementwise.wgsl`, one element per invocation, one entry point per op.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::graph::{Graph, Meta, Var};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::reduce::{prepare_reduce, Reduction};
use super::{check_arity, check_f32, check_f32_meta, io_tensors, GradArgs, Lowering, Op};

/// Invocations per workgroup in `elementwise.wgsl` (its `WG` override's default).
const WG: usize = 64;

/// An element-wise activation `y = f(x)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`; `f'(x) = [x > 0]` (0 at x = 0).
    Relu,
    /// `x` for `x > 0`, else `slope · x`; `f'(x) = 1` or `slope`.
    LeakyRelu(f32),
    /// `0.5 x (1 + tanh u)`, `u = √(2/π) (x + 0.044715 x³)`;
    /// `f'(x) = 0.5 (1 + tanh u) + 0.5 x (1 − tanh² u) √(2/π) (1 + 3·0.044715 x²)`.
    GeluTanh,
    /// `x Φ(x)`, `Φ(x) = (1 + erf(x/√2)) / 2`; `f'(x) = Φ(x) + x e^{−x²/2} / √(2π)`.
    /// erfc comes from a Chebyshev fit with relative error below 1.2e-7 (before f32 rounding);
    /// measured on lavapipe, `x Φ(x)` is within 1.2e-6 relative on [-5, 5] and 7.4e-6 on
    /// [-12, 12], tail included.
    GeluErf,
    /// `tanh x`; `f' = 1 − y²`.
    Tanh,
    /// `1 / (1 + e^{−x})`; `f' = y (1 − y)`.
    Sigmoid,
}

impl Activation {
    fn entries(self) -> (&'static str, &'static str) {
        match self {
            Activation::Relu => ("relu_forward", "relu_backward_x"),
            Activation::LeakyRelu(_) => ("leaky_relu_forward", "leaky_relu_backward_x"),
            Activation::GeluTanh => ("gelu_tanh_forward", "gelu_tanh_backward_x"),
            Activation::GeluErf => ("gelu_erf_forward", "gelu_erf_backward_x"),
            Activation::Tanh => ("tanh_forward", "tanh_backward_x"),
            Activation::Sigmoid => ("sigmoid_forward", "sigmoid_backward_x"),
        }
    }

    fn alpha(self) -> f32 {
        match self {
            Activation::LeakyRelu(slope) => slope,
            _ => 0.0,
        }
    }

    /// Whether the backward reads the forward's output `y` (else its input `x`). ReLU and a
    /// LeakyReLU of positive slope have `y > 0` exactly where `x > 0`, so they test `y`: a plan
    /// then keeps only the output alive for the backward, not both.
    pub fn backward_uses_output(self) -> bool {
        match self {
            Activation::Tanh | Activation::Sigmoid | Activation::Relu => true,
            Activation::LeakyRelu(slope) => slope > 0.0,
            Activation::GeluTanh | Activation::GeluErf => false,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    cols: u32,
    alpha: f32,
    beta: f32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Checks that every tensor has the shape of the first (and fits a u32 index); returns it.
pub fn shape(op: &'static str, tensors: &[&[usize]]) -> Result<Vec<usize>> {
    let first = tensors.first().copied().unwrap_or(&[]);
    let n: usize = first.iter().product();
    if n > u32::MAX as usize || tensors.iter().any(|s| *s != first) {
        return Err(shape_error(
            op,
            "tensors of one shape (under 2^32 elements)",
            tensors,
        ));
    }
    Ok(first.to_vec())
}

/// Checks `x` `[.., C]` against `bias` `[C]`; returns the output shape (`x`'s).
pub fn row_shape(x: &[usize], bias: &[usize]) -> Result<Vec<usize>> {
    let n: usize = x.iter().product();
    match (x.last(), bias) {
        (Some(&c), &[b]) if c == b && c > 0 && n <= u32::MAX as usize => Ok(x.to_vec()),
        _ => Err(shape_error(
            "add_row",
            "x [.., C] and bias [C] with C > 0",
            &[x, bias],
        )),
    }
}

fn params(n: usize, cols: usize, alpha: f32, beta: f32) -> Params {
    Params {
        n: n as u32,
        cols: cols as u32,
        alpha,
        beta,
    }
}

fn launch(ctx: &Context, entry: &'static str, p: Params, tensors: &[&Tensor]) -> Result<Dispatch> {
    // Whole vec4s everywhere (add_row's row too): the entry's `4` twin, four elements an
    // invocation.
    let whole = p.n.is_multiple_of(4)
        && (entry != "add_row_forward" || p.cols.is_multiple_of(4))
        && tensors.iter().all(|t| t.offset().is_multiple_of(16));
    if let (true, Some(entry4)) = (whole, vec4_entry(entry)) {
        let grid = grid_for(p.n as usize / 4, WG);
        return Kernel::new("elementwise", entry4).dispatch(ctx, &p, tensors, grid);
    }
    Kernel::new("elementwise", entry).dispatch(ctx, &p, tensors, grid_for(p.n as usize, WG))
}

/// The vec4 twin of a scalar entry (`<entry>4`, in the shader for every entry).
fn vec4_entry(entry: &str) -> Option<&'static str> {
    Some(match entry {
        "add_forward" => "add_forward4",
        "mul_forward" => "mul_forward4",
        "add_row_forward" => "add_row_forward4",
        "mul_backward_ab" => "mul_backward_ab4",
        "scale_forward" => "scale_forward4",
        "relu_forward" => "relu_forward4",
        "relu_backward_x" => "relu_backward_x4",
        "leaky_relu_forward" => "leaky_relu_forward4",
        "leaky_relu_backward_x" => "leaky_relu_backward_x4",
        "gelu_tanh_forward" => "gelu_tanh_forward4",
        "gelu_tanh_backward_x" => "gelu_tanh_backward_x4",
        "gelu_erf_forward" => "gelu_erf_forward4",
        "gelu_erf_backward_x" => "gelu_erf_backward_x4",
        "tanh_forward" => "tanh_forward4",
        "tanh_backward_x" => "tanh_backward_x4",
        "sigmoid_forward" => "sigmoid_forward4",
        "sigmoid_backward_x" => "sigmoid_backward_x4",
        _ => return None,
    })
}

// ---- prepare ----

/// Prepares `y = a + b` (all one shape).
pub fn prepare_add(ctx: &Context, a: &Tensor, b: &Tensor, y: &Tensor) -> Result<Dispatch> {
    shape("add", &[a.shape(), b.shape(), y.shape()])?;
    check_f32("add", &[a, b, y])?;
    launch(
        ctx,
        "add_forward",
        params(y.numel(), 1, 0.0, 0.0),
        &[a, b, y],
    )
}

/// Prepares add's backward: `da = dy`, `db = dy` (copies, so each gradient owns its buffer).
pub fn prepare_add_backward(
    ctx: &Context,
    dy: &Tensor,
    da: &Tensor,
    db: &Tensor,
) -> Result<Vec<Dispatch>> {
    shape("add_backward", &[dy.shape(), da.shape(), db.shape()])?;
    check_f32("add_backward", &[dy, da, db])?;
    Ok(vec![
        prepare_scale(ctx, dy, 1.0, 0.0, da)?,
        prepare_scale(ctx, dy, 1.0, 0.0, db)?,
    ])
}

/// Prepares `y = a ⊙ b` (all one shape).
pub fn prepare_mul(ctx: &Context, a: &Tensor, b: &Tensor, y: &Tensor) -> Result<Dispatch> {
    shape("mul", &[a.shape(), b.shape(), y.shape()])?;
    check_f32("mul", &[a, b, y])?;
    launch(
        ctx,
        "mul_forward",
        params(y.numel(), 1, 0.0, 0.0),
        &[a, b, y],
    )
}

/// Prepares mul's backward in one kernel: `da = dy ⊙ b`, `db = dy ⊙ a`.
pub fn prepare_mul_backward(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    dy: &Tensor,
    da: &Tensor,
    db: &Tensor,
) -> Result<Dispatch> {
    shape(
        "mul_backward",
        &[a.shape(), b.shape(), dy.shape(), da.shape(), db.shape()],
    )?;
    check_f32("mul_backward", &[a, b, dy, da, db])?;
    launch(
        ctx,
        "mul_backward_ab",
        params(dy.numel(), 1, 0.0, 0.0),
        &[a, b, dy, da, db],
    )
}

/// Prepares `y[r,c] = x[r,c] + bias[c]`: `x` and `y` `[.., C]`, `bias` `[C]`.
pub fn prepare_add_row(ctx: &Context, x: &Tensor, bias: &Tensor, y: &Tensor) -> Result<Dispatch> {
    row_shape(x.shape(), bias.shape())?;
    shape("add_row", &[x.shape(), y.shape()])?;
    check_f32("add_row", &[x, bias, y])?;
    let cols = bias.numel();
    launch(
        ctx,
        "add_row_forward",
        params(y.numel(), cols, 0.0, 0.0),
        &[x, bias, y],
    )
}

/// Prepares add_row's backward: `dx = dy` (a copy) and `dbias[c] = Σ_r dy[r,c]`.
pub fn prepare_add_row_backward(
    ctx: &Context,
    dy: &Tensor,
    dx: &Tensor,
    dbias: &Tensor,
) -> Result<Vec<Dispatch>> {
    row_shape(dy.shape(), dbias.shape())?;
    shape("add_row_backward", &[dy.shape(), dx.shape()])?;
    check_f32("add_row_backward", &[dy, dx, dbias])?;
    let cols = dbias.numel();
    let rows = dy.numel() / cols;
    let mut dispatches = vec![prepare_scale(ctx, dy, 1.0, 0.0, dx)?];
    dispatches.extend(prepare_reduce(
        ctx,
        &dy.reshape(&[rows, cols])?,
        0,
        Reduction::Sum,
        dbias,
    )?);
    Ok(dispatches)
}

/// Prepares `y = alpha · x + beta`. Its backward is `dx = alpha · dy`: this same op with
/// `beta = 0`.
pub fn prepare_scale(
    ctx: &Context,
    x: &Tensor,
    alpha: f32,
    beta: f32,
    y: &Tensor,
) -> Result<Dispatch> {
    shape("scale", &[x.shape(), y.shape()])?;
    check_f32("scale", &[x, y])?;
    launch(
        ctx,
        "scale_forward",
        params(y.numel(), 1, alpha, beta),
        &[x, y],
    )
}

/// Prepares `y = act(x)`.
pub fn prepare_activation(
    ctx: &Context,
    x: &Tensor,
    act: Activation,
    y: &Tensor,
) -> Result<Dispatch> {
    shape("activation", &[x.shape(), y.shape()])?;
    check_f32("activation", &[x, y])?;
    launch(
        ctx,
        act.entries().0,
        params(y.numel(), 1, act.alpha(), 0.0),
        &[x, y],
    )
}

/// Prepares `dx = act'(x) ⊙ dy`. `x` and `y` are the forward's input and output; only the one
/// [`Activation::backward_uses_output`] names is read, but both are shape-checked.
pub fn prepare_activation_backward(
    ctx: &Context,
    x: &Tensor,
    y: &Tensor,
    dy: &Tensor,
    act: Activation,
    dx: &Tensor,
) -> Result<Dispatch> {
    shape(
        "activation_backward",
        &[x.shape(), y.shape(), dy.shape(), dx.shape()],
    )?;
    check_f32("activation_backward", &[x, y, dy, dx])?;
    let saved = if act.backward_uses_output() { y } else { x };
    launch(
        ctx,
        act.entries().1,
        params(dx.numel(), 1, act.alpha(), 0.0),
        &[saved, dy, dx],
    )
}

// ---- eager ----

fn alloc(ctx: &Context, shape: &[usize]) -> Result<Tensor> {
    Tensor::zeros(ctx, shape, DType::F32)
}

/// Runs `a + b` now.
pub fn add(ctx: &Context, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let y = alloc(ctx, &shape("add", &[a.shape(), b.shape()])?)?;
    run(ctx, &[prepare_add(ctx, a, b, &y)?])?;
    Ok(y)
}

/// Runs add's backward now: `(da, db) = (dy, dy)`.
pub fn add_backward(ctx: &Context, dy: &Tensor) -> Result<(Tensor, Tensor)> {
    let (da, db) = (alloc(ctx, dy.shape())?, alloc(ctx, dy.shape())?);
    run(ctx, &prepare_add_backward(ctx, dy, &da, &db)?)?;
    Ok((da, db))
}

/// Runs `a ⊙ b` now.
pub fn mul(ctx: &Context, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let y = alloc(ctx, &shape("mul", &[a.shape(), b.shape()])?)?;
    run(ctx, &[prepare_mul(ctx, a, b, &y)?])?;
    Ok(y)
}

/// Runs mul's backward now: `(da, db) = (dy ⊙ b, dy ⊙ a)`.
pub fn mul_backward(
    ctx: &Context,
    a: &Tensor,
    b: &Tensor,
    dy: &Tensor,
) -> Result<(Tensor, Tensor)> {
    let (da, db) = (alloc(ctx, a.shape())?, alloc(ctx, b.shape())?);
    run(ctx, &[prepare_mul_backward(ctx, a, b, dy, &da, &db)?])?;
    Ok((da, db))
}

/// Runs `x + bias` (bias `[C]` broadcast over the rows of `x` `[.., C]`) now.
pub fn add_row(ctx: &Context, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let y = alloc(ctx, &row_shape(x.shape(), bias.shape())?)?;
    run(ctx, &[prepare_add_row(ctx, x, bias, &y)?])?;
    Ok(y)
}

/// Runs add_row's backward now: `(dx, dbias) = (dy, Σ_rows dy)`.
pub fn add_row_backward(ctx: &Context, dy: &Tensor) -> Result<(Tensor, Tensor)> {
    let cols = dy.shape().last().copied().unwrap_or(0);
    let (dx, dbias) = (alloc(ctx, dy.shape())?, alloc(ctx, &[cols])?);
    run(ctx, &prepare_add_row_backward(ctx, dy, &dx, &dbias)?)?;
    Ok((dx, dbias))
}

/// Runs `alpha · x + beta` now.
pub fn scale(ctx: &Context, x: &Tensor, alpha: f32, beta: f32) -> Result<Tensor> {
    let y = alloc(ctx, x.shape())?;
    run(ctx, &[prepare_scale(ctx, x, alpha, beta, &y)?])?;
    Ok(y)
}

/// Runs scale's backward now: `alpha · dy`.
pub fn scale_backward(ctx: &Context, dy: &Tensor, alpha: f32) -> Result<Tensor> {
    scale(ctx, dy, alpha, 0.0)
}

/// Runs `act(x)` now.
pub fn activation(ctx: &Context, x: &Tensor, act: Activation) -> Result<Tensor> {
    let y = alloc(ctx, x.shape())?;
    run(ctx, &[prepare_activation(ctx, x, act, &y)?])?;
    Ok(y)
}

/// Runs the activation's backward now: `act'(x) ⊙ dy`, from the forward's `x` and `y`.
pub fn activation_backward(
    ctx: &Context,
    x: &Tensor,
    y: &Tensor,
    dy: &Tensor,
    act: Activation,
) -> Result<Tensor> {
    let dx = alloc(ctx, x.shape())?;
    run(
        ctx,
        &[prepare_activation_backward(ctx, x, y, dy, act, &dx)?],
    )?;
    Ok(dx)
}

// ---- graph: builders, shape rules, chain rules, lowering ----

impl Graph {
    /// `a + b` (same shape).
    #[track_caller]
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        self.push1(Op::Add, &[a, b])
    }

    /// `a ⊙ b` (same shape).
    #[track_caller]
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.push1(Op::Mul, &[a, b])
    }

    /// `x [.., C] + bias [C]`, the bias broadcast over rows.
    #[track_caller]
    pub fn add_row(&mut self, x: Var, bias: Var) -> Result<Var> {
        self.push1(Op::AddRow, &[x, bias])
    }

    /// `alpha · x + beta`.
    #[track_caller]
    pub fn scale(&mut self, x: Var, alpha: f32, beta: f32) -> Result<Var> {
        self.push1(Op::Scale { alpha, beta }, &[x])
    }

    /// `f(x)` for an [`Activation`].
    #[track_caller]
    pub fn activation(&mut self, x: Var, act: Activation) -> Result<Var> {
        self.push1(Op::Activation(act), &[x])
    }

    /// `max(x, 0)`.
    #[track_caller]
    pub fn relu(&mut self, x: Var) -> Result<Var> {
        self.activation(x, Activation::Relu)
    }
}

pub(crate) fn infer(op: &Op, x: &[&Meta]) -> Result<Vec<Meta>> {
    let name = op.name();
    check_f32_meta(name, x)?;
    let shapes: Vec<&[usize]> = x.iter().map(|m| m.shape.as_slice()).collect();
    match op {
        Op::Add | Op::Mul => {
            check_arity(name, x, 2)?;
            Ok(vec![Meta::f32(&shape(name, &shapes)?)])
        }
        Op::MulBackward => {
            check_arity(name, x, 3)?;
            let s = shape(name, &shapes)?;
            Ok(vec![Meta::f32(&s), Meta::f32(&s)])
        }
        Op::AddRow => {
            check_arity(name, x, 2)?;
            Ok(vec![Meta::f32(&row_shape(shapes[0], shapes[1])?)])
        }
        Op::Scale { .. } | Op::Activation(_) => {
            check_arity(name, x, 1)?;
            Ok(vec![Meta::f32(&shape(name, &shapes)?)])
        }
        Op::ActivationBackward(_) => {
            check_arity(name, x, 2)?;
            Ok(vec![Meta::f32(&shape(name, &shapes)?)])
        }
        _ => Err(Error::Graph(format!("{name} is not element-wise"))),
    }
}

pub(crate) fn grad(op: &Op, g: &mut Graph, a: &GradArgs) -> Result<Vec<Option<Var>>> {
    let Some(dy) = a.douts[0] else {
        return Ok(vec![None; a.inputs.len()]);
    };
    match op {
        // The same gradient value flows to both: no copy, the graph is functional.
        Op::Add => Ok(vec![Some(dy), Some(dy)]),
        Op::Mul => {
            let d = g.push(Op::MulBackward, &[a.inputs[0], a.inputs[1], dy])?;
            Ok(d.into_iter().map(Some).collect())
        }
        Op::AddRow => {
            let dbias = if a.wants[1] {
                let cols = g.shape(a.inputs[1])?[0];
                let rows = g.shape(dy)?.iter().product::<usize>() / cols;
                let dy2 = g.reshape(dy, &[rows, cols])?;
                Some(g.push1(
                    Op::Reduce {
                        axis: 0,
                        kind: Reduction::Sum,
                    },
                    &[dy2],
                )?)
            } else {
                None
            };
            Ok(vec![Some(dy), dbias])
        }
        Op::Scale { alpha, .. } => Ok(vec![Some(g.scale(dy, *alpha, 0.0)?)]),
        // Only the saved value the derivative reads is an input, so the other can die early.
        Op::Activation(act) => {
            let saved = if act.backward_uses_output() {
                a.outputs[0]
            } else {
                a.inputs[0]
            };
            Ok(vec![Some(
                g.push1(Op::ActivationBackward(*act), &[saved, dy])?,
            )])
        }
        _ => Err(Error::Graph(format!("{} has no gradient rule", op.name()))),
    }
}

pub(crate) fn lower(op: &Op, ctx: &Context, io: &Lowering) -> Result<Vec<Dispatch>> {
    let name = op.name();
    Ok(vec![match op {
        Op::Add => {
            let (i, o) = io_tensors(name, io, 2, 1)?;
            prepare_add(ctx, i[0], i[1], o[0])?
        }
        Op::Mul => {
            let (i, o) = io_tensors(name, io, 2, 1)?;
            prepare_mul(ctx, i[0], i[1], o[0])?
        }
        Op::MulBackward => {
            let (i, o) = io_tensors(name, io, 3, 2)?;
            prepare_mul_backward(ctx, i[0], i[1], i[2], o[0], o[1])?
        }
        Op::AddRow => {
            let (i, o) = io_tensors(name, io, 2, 1)?;
            prepare_add_row(ctx, i[0], i[1], o[0])?
        }
        Op::Scale { alpha, beta } => {
            let (i, o) = io_tensors(name, io, 1, 1)?;
            prepare_scale(ctx, i[0], *alpha, *beta, o[0])?
        }
        Op::Activation(act) => {
            let (i, o) = io_tensors(name, io, 1, 1)?;
            prepare_activation(ctx, i[0], *act, o[0])?
        }
        Op::ActivationBackward(act) => {
            // (saved, dy): the saved value stands in for whichever of x, y the kernel reads.
            let (i, o) = io_tensors(name, io, 2, 1)?;
            prepare_activation_backward(ctx, i[0], i[0], i[1], *act, o[0])?
        }
        _ => return Err(Error::Graph(format!("{name} is not element-wise"))),
    }])
}
