//! The WGSL kernel library: shader sources (embedded with `include_str!`), and [`Dispatch`], one
//! recorded kernel launch with its pipeline, bind group and workgroup count.
//!
//! Creating a `Dispatch` compiles the pipeline (once per context, through the cache) and
//! creates the bind group and the uniform holding the op's parameters. Recording one only sets
//! state and dispatches: that split is what lets a plan create everything once and record a
//! training step without allocating.

mod variants;

pub use variants::{choose_matmul, parse_matmul_variant, MatmulVariant, ENV_MATMUL};

use bytemuck::Pod;

use crate::context::{Context, PipelineKey};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Helpers prepended to every shader (flat indices over 2-D grids, shared constants).
const COMMON: &str = include_str!("../../shaders/common.wgsl");

/// Every shader kiln ships, by file stem.
pub const SHADERS: &[(&str, &str)] = &[
    (
        "matmul_register",
        include_str!("../../shaders/matmul/register.wgsl"),
    ),
    (
        "matmul_workgroup",
        include_str!("../../shaders/matmul/workgroup.wgsl"),
    ),
    (
        "matmul_texture",
        include_str!("../../shaders/matmul/texture.wgsl"),
    ),
    (
        "matmul_naive",
        include_str!("../../shaders/matmul/naive.wgsl"),
    ),
    ("softmax", include_str!("../../shaders/softmax.wgsl")),
    ("argmax", include_str!("../../shaders/argmax.wgsl")),
    ("attention", include_str!("../../shaders/attention.wgsl")),
    (
        "attention_texture",
        include_str!("../../shaders/attention_texture.wgsl"),
    ),
    (
        "elementwise",
        include_str!("../../shaders/elementwise.wgsl"),
    ),
    ("reduce", include_str!("../../shaders/reduce.wgsl")),
    ("layer_norm", include_str!("../../shaders/layer_norm.wgsl")),
    ("embedding", include_str!("../../shaders/embedding.wgsl")),
    (
        "cross_entropy",
        include_str!("../../shaders/cross_entropy.wgsl"),
    ),
    ("optim", include_str!("../../shaders/optim.wgsl")),
    ("transpose", include_str!("../../shaders/transpose.wgsl")),
    ("dropout", include_str!("../../shaders/dropout.wgsl")),
    ("clip", include_str!("../../shaders/clip.wgsl")),
    (
        "batch_norm2d",
        include_str!("../../shaders/batch_norm2d.wgsl"),
    ),
    ("bce", include_str!("../../shaders/bce.wgsl")),
    ("conv2d", include_str!("../../shaders/conv2d.wgsl")),
    ("to_texture", include_str!("../../shaders/to_texture.wgsl")),
    ("topk", include_str!("../../shaders/topk.wgsl")),
    ("kmeans", include_str!("../../shaders/kmeans.wgsl")),
];

/// The full WGSL text of a shader: the common helpers, a marker line, then the file itself, so
/// that a line number in a naga error can be traced back to its file.
pub fn source(name: &str) -> Result<String> {
    let (_, body) = SHADERS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| Error::Shader {
            name: name.to_string(),
            message: "no such shader".into(),
        })?;
    Ok(format!("{COMMON}\n// ---- {name}.wgsl ----\n{body}"))
}

/// WebGPU's default cap on workgroups per grid dimension.
pub const MAX_GROUPS_PER_DIM: u32 = 65535;

/// A grid of `count` workgroups folded into x and y so that neither exceeds the WebGPU limit.
/// Kernels rebuild the flat index with `flat_group` from `common.wgsl` and guard the tail.
pub fn grid_1d(count: u32) -> [u32; 3] {
    if count <= MAX_GROUPS_PER_DIM {
        [count.max(1), 1, 1]
    } else {
        let y = count.div_ceil(MAX_GROUPS_PER_DIM);
        [count.div_ceil(y), y, 1]
    }
}

/// Number of workgroups for `n` items at `per_group` items per workgroup, folded by [`grid_1d`].
pub fn grid_for(n: usize, per_group: usize) -> [u32; 3] {
    grid_1d(n.div_ceil(per_group.max(1)) as u32)
}

/// Loop iterations llvmpipe (the CPU driver behind lavapipe) lets one shader invocation run, all
/// of its loops together: Mesa's `LP_MAX_TGSI_LOOP_ITERATIONS` (gallivm's `lp_bld_limits.h`,
/// "shared between every loop"). gallivm sets one counter per invocation and decrements it at
/// the end of every pass through every loop (`lp_exec_endloop`), so a `for` of T trips costs
/// T + 1 (the pass that fails the test); once it reaches zero every loop exits at its next back
/// edge. Nothing reports it: the kernel runs on with partial sums and unwritten outputs.
/// Measured on Mesa 22.3.6: batch_norm2d's per-channel kernel (three passes of
/// `N·(H·W + 2) + 1`) is exact at 1×1×1×21842 (65,535) and wrong at 1×1×1×21843.
/// A kernel whose invocations loop over a length that grows with the data checks
/// [`loops_fit`] before it is chosen.
pub const CPU_LOOP_LIMIT: u64 = 65_535;

/// Whether `ctx`'s adapter stops loops after [`CPU_LOOP_LIMIT`] iterations per invocation
/// (llvmpipe, by name).
pub fn loops_limited(ctx: &Context) -> bool {
    let info = ctx.adapter_info();
    info.device_type == wgpu::DeviceType::Cpu
        && (info.name.contains("llvmpipe") || info.driver.contains("llvmpipe"))
}

/// Whether an invocation that loops `trips` times in all (each loop's trips + 1, summed) runs
/// to the end on `ctx`'s adapter.
pub fn loops_fit(ctx: &Context, trips: u64) -> bool {
    trips <= CPU_LOOP_LIMIT || !loops_limited(ctx)
}

/// One kernel launch, ready to record: pipeline, bind group, grid.
#[derive(Clone, Debug)]
pub struct Dispatch {
    label: String,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
}

/// What to launch: shader, entry point, `override` constants.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// Shader file stem, from [`SHADERS`].
    pub shader: &'static str,
    /// Entry point (`<op>_forward`, `<op>_backward_<wrt>`).
    pub entry: &'static str,
    /// WGSL `override` values.
    pub constants: Vec<(&'static str, f64)>,
}

impl Kernel {
    /// A kernel with default override constants.
    pub fn new(shader: &'static str, entry: &'static str) -> Kernel {
        Kernel {
            shader,
            entry,
            constants: Vec::new(),
        }
    }

    /// Sets an `override` constant.
    pub fn with(mut self, name: &'static str, value: f64) -> Kernel {
        self.constants.push((name, value));
        self
    }

    fn key(&self) -> PipelineKey {
        PipelineKey {
            shader: self.shader,
            entry: self.entry,
            constants: self
                .constants
                .iter()
                .map(|(n, v)| (*n, v.to_bits()))
                .collect(),
        }
    }

    /// Creates the launch: binding 0 is a uniform holding `params`, bindings 1.. are `tensors` in
    /// order (inputs first, outputs last, as each shader's header lists them).
    pub fn dispatch<P: Pod>(
        &self,
        ctx: &Context,
        params: &P,
        tensors: &[&Tensor],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        let bindings: Vec<Binding> = tensors.iter().map(|t| Binding::Tensor(t)).collect();
        self.dispatch_bindings(ctx, params, &bindings, workgroups)
    }

    /// [`Kernel::dispatch`] for kernels that bind more than tensors (a storage texture):
    /// binding 0 is the `params` uniform, bindings 1.. are `bindings` in order.
    pub fn dispatch_bindings<P: Pod>(
        &self,
        ctx: &Context,
        params: &P,
        bindings: &[Binding],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        let label = format!("kiln.{}.{}", self.shader, self.entry);
        if workgroups.iter().any(|&w| w > MAX_GROUPS_PER_DIM) {
            return Err(Error::Unsupported(format!(
                "{label}: grid {workgroups:?} exceeds {MAX_GROUPS_PER_DIM} workgroups per dimension"
            )));
        }
        let pipeline = ctx.pipeline(&self.key())?;
        ctx.count_objects(2);
        let bind_group = ctx.scoped(&format!("binding {label}"), || {
            // Created empty and filled through the queue rather than mapped at creation:
            // mapping panics inside wgpu on a lost device, a queue write reports an error.
            let uniform = ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(&label),
                size: std::mem::size_of::<P>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            ctx.queue()
                .write_buffer(&uniform, 0, bytemuck::bytes_of(params));
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            }];
            for (i, b) in bindings.iter().enumerate() {
                entries.push(wgpu::BindGroupEntry {
                    binding: i as u32 + 1,
                    resource: match b {
                        Binding::Tensor(t) => t.binding(),
                        Binding::Texture(view) => wgpu::BindingResource::TextureView(view),
                    },
                });
            }
            ctx.device().create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&label),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            })
        })?;
        Ok(Dispatch {
            label,
            pipeline,
            bind_group,
            workgroups,
        })
    }
}

/// One resource a kernel binds after its parameters.
#[derive(Clone, Copy, Debug)]
pub enum Binding<'a> {
    /// A tensor's bytes, as a storage buffer.
    Tensor(&'a Tensor),
    /// A texture view, as a storage texture (the bind group keeps the texture alive).
    Texture(&'a wgpu::TextureView),
}

impl Dispatch {
    /// Records the launch into a compute pass. Allocates nothing.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }

    /// Records the launch into `encoder` in a compute pass of its own: what a host calls to run
    /// one prepared kiln kernel inside its frame. Allocates and submits nothing.
    pub fn record_into(&self, encoder: &mut wgpu::CommandEncoder) {
        record_all(encoder, std::slice::from_ref(self));
    }

    /// The pipeline label, `kiln.<shader>.<entry>`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The grid.
    pub fn workgroups(&self) -> [u32; 3] {
        self.workgroups
    }
}

/// Records `dispatches` in order into `encoder`, one compute pass. wgpu inserts the barriers
/// between dispatches that touch the same buffers.
pub fn record_all(encoder: &mut wgpu::CommandEncoder, dispatches: &[Dispatch]) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("kiln"),
        timestamp_writes: None,
    });
    for d in dispatches {
        d.record(&mut pass);
    }
}

/// Records `dispatches` into one encoder and submits once. Does not wait.
pub fn run(ctx: &Context, dispatches: &[Dispatch]) -> Result<wgpu::SubmissionIndex> {
    let mut encoder = ctx
        .device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("kiln"),
        });
    record_all(&mut encoder, dispatches);
    ctx.submit(encoder.finish())
}

/// Parses and validates a shader (with the common helpers prepended) through naga, without a
/// device: the check `cargo test` runs on every shader, and a readable diagnostic when one fails.
pub fn validate(name: &str) -> Result<()> {
    let text = source(name)?;
    let module = naga::front::wgsl::parse_str(&text).map_err(|e| Error::Shader {
        name: name.to_string(),
        message: e.emit_to_string_with_path(&text, &format!("{name}.wgsl")),
    })?;
    let mut validator = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    );
    validator.validate(&module).map_err(|e| Error::Shader {
        name: name.to_string(),
        message: e.emit_to_string_with_path(&text, &format!("{name}.wgsl")),
    })?;
    Ok(())
}
