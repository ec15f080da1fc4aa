//! The ops: one file per op, each with its math, its shape rule, the preparation of its
//! kernels' [`Dispatch`](crate::kernels::Dispatch)es (forward and backward), and an eager
//! function that runs it at once. Kernels live in `shaders/` under the same name.
//!
//! `prepare`-style functions (`forward`, `backward_*`) take their output tensors, so that a plan
//! can place outputs in memory it manages; the eager functions allocate and run.

pub mod attention;
pub mod clip;
pub mod cross_entropy;
pub mod dropout;
pub mod elementwise;
pub mod embedding;
pub mod layer_norm;
pub mod matmul;
pub mod optim;
pub mod reduce;
pub mod softmax;
pub mod transpose;

use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

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
