//! # kiln
//!
//! A GPU training engine: WGSL compute kernels with hand-written backward passes, run through
//! wgpu on any GPU it reaches (Vulkan, Metal, DX12, GL) and on CPU drivers such as lavapipe.
//!
//! - [`Context`] owns a wgpu device and queue ([`Context::new`] picks the best adapter,
//!   [`Context::with_options`] the one [`ContextOptions`] describe: backends, adapter name,
//!   power preference, a pinned matmul variant, CPU drivers or not; [`Context::from_host`]
//!   wraps a host application's). Vulkan and GL are tested (see the README's "Backends").
//! - [`Tensor`] is a device buffer with a shape; it hands out its `wgpu::Buffer`.
//! - [`ops`] holds every op: forward and backward kernels, prepared as
//!   [`Dispatch`](kernels::Dispatch)es once and recorded many times, or run eagerly.
//! - [`ops::to_texture`] writes an image tensor into a host's texture on the GPU.
//! - [`Graph`] builds a model symbolically and differentiates it; [`Plan`] compiles it once
//!   (memory by liveness, every pipeline up front) and runs each step as one submission.
//! - [`nn`] has the layers and models; [`optim`] the optimizers and schedules.
//! - [`Trainer`] is the training loop every program shares: epochs over your batches,
//!   `metrics.csv`, held-out evaluation, checkpoints carrying the model's config (serde),
//!   exact resumption and `summary.json` (see the README's "Use it" for a whole program).
//! - [`metrics`]: accuracy, Fréchet distance and the image scorer a GAN is measured with.
//! - [`index`] holds [`VectorIndex`](index::VectorIndex): vectors on the GPU searched by
//!   exact (fused top-k) or approximate (IVF) inner product, saved as safetensors + JSON Lines.
//! - [`data`] prepares training data on the CPU: the built-in dates task, translation-pair
//!   files, a character vocabulary and fixed-shape batches.
//! - `pretrained` (feature `pretrained`, on by default) loads pretrained models from Hugging
//!   Face folders: a BERT-family `SentenceEncoder` (all-MiniLM-L6-v2) with
//!   sentence-transformers' pooling and normalisation.
//! - Cargo features, all on by default: `pretrained` (the tokenizers crate), `viz` (PNG
//!   pictures of a run) and `images` (the user's image files).
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
//!
//! ## Embedding kiln in a wgpu application
//!
//! A game, a visualiser or a creative tool that owns a wgpu device hands it to kiln: kiln
//! creates no second device, records its work into the host's command encoder, and leaves its
//! results in buffers (or a texture) the host binds directly. kiln needs no device feature and
//! stays within WebGPU's default limits; [`Context::required_limits`] raises the host's limits
//! where kiln needs more, and [`Context::from_host`] names any limit that is still too small.
//! The host must use the same wgpu as kiln: depend on [`kiln::wgpu`](wgpu) (a re-export) or on
//! the same version.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use kiln::ops::to_texture::{self, ImageLayout, ToTextureOptions, ValueRange};
//! use kiln::{wgpu, Context, DType, Graph, Init, Plan, PlanSpec};
//!
//! // The host's device, with the limits kiln needs on top of its own.
//! let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
//! let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
//! let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
//!     required_limits: Context::required_limits(wgpu::Limits::downlevel_defaults()),
//!     ..Default::default()
//! }))?;
//! let ctx = Context::from_host(device.clone(), queue.clone(), Some(adapter.get_info()))?;
//!
//! // A model: 16x16 pixels' coordinates -> RGB in [-1, 1].
//! let mut g = Graph::new();
//! let xy = g.input("xy", &[256, 2], DType::F32)?;
//! let w = g.param("w", &[2, 3], Init::XavierUniform)?;
//! let rgb = g.matmul(xy, w)?;
//! let rgb = g.activation(rgb, kiln::ops::elementwise::Activation::Tanh)?;
//! let spec = PlanSpec { outputs: vec![rgb], ..Default::default() };
//! let mut plan = Plan::compile(&ctx, &g, &mut kiln::ParamStore::new(1), &spec)?;
//! plan.set_input_f32(&ctx, "xy", &[0.5; 512])?;
//!
//! // kiln's output as the host binds it, and a host texture kiln writes it into.
//! let out = plan.output(rgb)?.clone(); // shares the buffer
//! let (buffer, offset, size) = (out.buffer(), out.offset(), out.byte_size());
//! let texture = device.create_texture(&wgpu::TextureDescriptor {
//!     label: None,
//!     size: wgpu::Extent3d { width: 16, height: 16, depth_or_array_layers: 1 },
//!     mip_level_count: 1,
//!     sample_count: 1,
//!     dimension: wgpu::TextureDimension::D2,
//!     format: wgpu::TextureFormat::Rgba8Unorm,
//!     usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::TEXTURE_BINDING,
//!     view_formats: &[],
//! });
//! let opts = ToTextureOptions {
//!     range: ValueRange::SIGNED,
//!     layout: ImageLayout::Interleaved,
//!     image: 0,
//! };
//! let write_texture = to_texture::prepare(&ctx, &out.reshape(&[16, 16, 3])?, &texture, opts)?;
//!
//! // Each frame: kiln's step and texture write, then the host's passes, one submission.
//! let mut encoder = device.create_command_encoder(&Default::default());
//! plan.record(&ctx, &mut encoder)?; // submits nothing
//! write_texture.record_into(&mut encoder);
//! // ... the host's render pass binds `texture` or (buffer, offset, size) here ...
//! queue.submit([encoder.finish()]);
//! # let _ = (buffer, offset, size);
//! # Ok(()) }
//! ```
//!
//! `examples/embed_in_wgpu_app.rs` is the whole program: training in the host's frames and a
//! render pipeline that draws kiln's buffers and texture. A host buffer with `STORAGE` usage
//! becomes a kiln input without a copy through [`Tensor::from_buffer`]; one-off texture writes
//! are one call, [`Tensor::copy_to_texture`].
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![warn(missing_docs)]

pub mod context;
pub mod data;
pub mod error;
pub mod gan;
pub mod graph;
pub mod index;
pub mod io;
pub mod kernels;
pub mod metrics;
pub mod nn;
pub mod ops;
pub mod optim;
#[cfg(feature = "pretrained")]
pub mod pretrained;
pub mod progress;
mod serial;
pub mod tensor;
pub mod train;
#[cfg(feature = "viz")]
pub mod viz;

pub use context::{Context, ContextOptions};
pub use error::{Error, Result};
pub use graph::{Graph, Init, Mode, ParamStore, Plan, PlanSpec, Reading, Var};
pub use optim::{AdamConfig, Optimizer, Schedule, SgdConfig};
pub use tensor::{DType, Tensor};
pub use train::{Steps, TrainOptions, Trainer, Training};
/// The wgpu kiln is built on, so hosts use the very same version.
pub use wgpu;

/// The README's Rust code blocks, compiled and run as doc tests, so its library example stays
/// true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
