//! # kiln
//!
//! A GPU training engine: WGSL compute kernels with hand-written backward passes, run through
//! wgpu on any GPU it reaches (Vulkan, Metal, DX12, GL) and on CPU drivers such as lavapipe.
//!
//! - [`Context`] owns a wgpu device and queue ([`Context::new`] picks the best adapter;
//!   [`Context::from_host`] wraps a host application's).
//! - [`Tensor`] is a device buffer with a shape; it hands out its `wgpu::Buffer`.
//! - [`ops`] holds every op: forward and backward kernels, prepared as
//!   [`Dispatch`](kernels::Dispatch)es once and recorded many times, or run eagerly.
//! - [`data`] prepares training data on the CPU: the built-in dates task, translation-pair
//!   files, a character vocabulary and fixed-shape batches.
//! - [`pretrained`] loads pretrained models from Hugging Face folders: a BERT-family
//!   [`SentenceEncoder`](pretrained::SentenceEncoder) (all-MiniLM-L6-v2) with
//!   sentence-transformers' pooling and normalisation.
//!
//! ```no_run
//! # fn main() -> kiln::Result<()> {
//! use kiln::{ops, Context, Tensor};
//! let ctx = Context::new()?;
//! let x = Tensor::from_f32(&ctx, &[2, 3], &[1.0, 2.0, 3.0, 0.0, 0.0, 0.0])?;
//! let y = ops::softmax::softmax(&ctx, &x)?;
//! println!("{:?}", y.to_vec_f32(&ctx)?);
//! # Ok(()) }
//! ```
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![warn(missing_docs)]

pub mod context;
pub mod data;
pub mod error;
pub mod graph;
pub mod io;
pub mod kernels;
pub mod metrics;
pub mod nn;
pub mod ops;
pub mod pretrained;
pub mod progress;
pub mod tensor;
pub mod train;
pub mod viz;

pub use context::Context;
pub use error::{Error, Result};
pub use graph::{Graph, Init, Mode, ParamStore, Plan, PlanSpec, Var};
pub use tensor::{DType, Tensor};
pub use train::{Optimizer, Schedule, Training};
/// The wgpu kiln is built on, so hosts use the very same version.
pub use wgpu;
