//! A wgpu application that trains a model with kiln on its own device and draws the model's
//! output with its own render pipeline, straight from kiln's buffers: no model output goes
//! through the CPU.
//!
//! The host owns the instance, adapter, device and queue (asking for the limits kiln needs with
//! [`Context::required_limits`]) and hands clones of the device and queue to kiln with
//! [`Context::from_host`]. kiln fits a small generator, a coordinate network mapping Fourier
//! features of a pixel's (x, y) to its RGB, to a procedural picture. Every frame is ONE command
//! encoder, submitted once by the host, holding:
//! 1. kiln's training step ([`Plan::record`]: forward, backward, Adam);
//! 2. kiln's `to_texture` kernel writing the generator's `[H, W, 3]` output into a host texture
//!    (prepared once, recorded with [`Dispatch::record_into`](kiln::kernels::Dispatch::record_into));
//! 3. the host's render pass: a full-screen triangle whose fragment shader (in
//!    `embed_in_wgpu_app.wgsl`) draws three panels, the target (kiln's input tensor, read as a
//!    storage buffer), the generator's output (kiln's output tensor, read as a storage buffer)
//!    and the texture kiln wrote (loaded as a texture).
//!
//! The last frame is rendered headless into an offscreen texture, and only that frame (the
//! host's own image) is read back, through a host buffer kiln wraps
//! ([`Tensor::from_buffer`]), and saved as a PNG. Progress lines read kiln's scalar loss.
//!
//! ```sh
//! cargo run --release --example embed_in_wgpu_app                      # runs/embed/frame.png
//! cargo run --release --example embed_in_wgpu_app -- --frames 600 --out /tmp/frame.png
//! ```

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use kiln::ops::elementwise::Activation;
use kiln::ops::to_texture::{self, ImageLayout, ToTextureOptions, ValueRange};
use kiln::optim::AdamConfig;
use kiln::wgpu;
use kiln::{Context, DType, Graph, Init, Optimizer, ParamStore, Plan, PlanSpec, Tensor, Training};

/// Fourier feature bands per axis: sin and cos of 2^k·π·x for k < BANDS, plus x and y.
const BANDS: usize = 6;
const FEATURES: usize = 4 * BANDS + 2;
const HIDDEN: usize = 64;

#[path = "common/device.rs"]
mod device;

/// A wgpu host that trains a small generator with kiln on its own device and renders it.
#[derive(Parser)]
struct Args {
    /// Frames to run: each one training step, kiln's texture write and the host's render pass.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    frames: u32,
    /// The picture's side in pixels (the generator is fitted to SIZE x SIZE).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    size: u32,
    /// Each of the three panels' side in the rendered frame, in pixels.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    panel: u32,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-2, value_parser = kiln::train::flags::learning_rate)]
    lr: f32,
    /// Where the last rendered frame is saved (PNG).
    #[arg(long, value_name = "FILE", default_value = "runs/embed/frame.png")]
    out: PathBuf,
    #[command(flatten)]
    device: device::DeviceArgs,
}

/// The generator's input and target for every pixel, row-major, from the pixel's centre
/// (x, y) in [-1, 1]², y down: its Fourier features `[S·S, FEATURES]`, and the picture to learn
/// `[S·S, 3]` in [-1, 1] (tanh's range), a sunset-coloured vertical gradient, a ringed disc and
/// a diagonal stripe.
fn inputs(s: usize) -> (Vec<f32>, Vec<f32>) {
    let mut features = Vec::with_capacity(s * s * FEATURES);
    let mut rgb = Vec::with_capacity(s * s * 3);
    let centre = |i: usize| (2 * i + 1) as f64 / s as f64 - 1.0;
    for row in 0..s {
        for col in 0..s {
            let (x, y) = (centre(col), centre(row));
            features.extend([x as f32, y as f32]);
            for k in 0..BANDS {
                let w = std::f64::consts::PI * (1 << k) as f64;
                for v in [x, y] {
                    features.extend([(w * v).sin() as f32, (w * v).cos() as f32]);
                }
            }
            let t = (y + 1.0) / 2.0;
            let mut c = [0.15 + 0.7 * t, 0.1 + 0.3 * t, 0.55 - 0.35 * t];
            let r = ((x + 0.2).powi(2) + (y + 0.15).powi(2)).sqrt();
            if r < 0.55 {
                let ring = 0.5 + 0.5 * (r * 30.0).cos();
                c = [0.95, 0.55 + 0.35 * ring, 0.1 + 0.2 * ring];
            }
            if (x - y - 0.9).abs() < 0.12 {
                c = [0.1, 0.85, 0.75];
            }
            rgb.extend(c.iter().map(|v| (2.0 * v - 1.0) as f32));
        }
    }
    (features, rgb)
}

/// The format of both the texture kiln writes and the host's frame.
const FRAME_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// A host texture of `FRAME_FORMAT`, `width x height`.
fn texture(
    device: &wgpu::Device,
    label: &str,
    (width, height): (u32, u32),
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: FRAME_FORMAT,
        usage,
        view_formats: &[],
    })
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("embed_in_wgpu_app: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let s = args.size as usize;

    // ---- The host: its own instance, adapter, device, queue. ----
    // kiln's choice of adapter (on a headless instance: it renders offscreen).
    let adapter = kiln::context::find_adapter(&args.device.options()?)?;
    let info = adapter.get_info();
    // The host's own needs (the downlevel defaults, say), raised where kiln needs more.
    let limits = Context::required_limits(wgpu::Limits::downlevel_defaults());
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("host"),
        required_features: Context::required_features(),
        required_limits: limits,
        ..Default::default()
    }))?;
    println!(
        "host: {} ({:?}, {:?})",
        info.name, info.device_type, info.backend
    );

    // ---- kiln on the host's device: no second device or instance. ----
    let ctx = Context::from_host(device.clone(), queue.clone(), Some(info))?;

    let mut g = Graph::new();
    let xy = g.input("xy", &[s * s, FEATURES], DType::F32)?;
    let target = g.input("target", &[s * s, 3], DType::F32)?;
    // Three layers, w1/b1 to w3/b3: ReLU, ReLU, then tanh into [-1, 1].
    let layers = [
        (FEATURES, HIDDEN, Activation::Relu),
        (HIDDEN, HIDDEN, Activation::Relu),
        (HIDDEN, 3, Activation::Tanh),
    ];
    let mut rgb = xy;
    for (i, (fan_in, fan_out, act)) in (1..).zip(layers) {
        let w = g.param(&format!("w{i}"), &[fan_in, fan_out], Init::XavierUniform)?;
        let b = g.param(&format!("b{i}"), &[fan_out], Init::Zeros)?;
        let h = g.matmul_with(rgb, w, Some(b), Default::default())?;
        rgb = g.activation(h, act)?;
    }
    let neg = g.scale(target, -1.0, 0.0)?;
    let diff = g.add(rgb, neg)?;
    let sq = g.mul(diff, diff)?;
    let loss = g.mean_all(sq)?;
    let mut store = ParamStore::new(1);
    let spec = PlanSpec {
        outputs: vec![rgb, loss],
        training: Some(Training::new(
            loss,
            Optimizer::Adam(AdamConfig::adam(args.lr)),
        )),
        ..Default::default()
    };
    let mut plan = Plan::compile(&ctx, &g, &mut store, &spec)?;
    let (features, picture) = inputs(s);
    plan.set_input_f32(&ctx, "xy", &features)?;
    plan.set_input_f32(&ctx, "target", &picture)?;
    println!(
        "kiln: generator {FEATURES} -> {HIDDEN} -> {HIDDEN} -> 3 ({} parameters), {s}x{s} \
         pixels per step, {} dispatches per step",
        store.numel(),
        plan.stats().dispatches
    );

    // kiln's tensors, as the host binds them: buffer, offset, size.
    let model_out = plan.output(rgb)?.clone();
    let target_in = plan.input_tensor("target")?.clone();

    // ---- kiln writes the generator's output into a host texture each frame. ----
    let kiln_texture = texture(
        &device,
        "host: kiln's picture",
        (s as u32, s as u32),
        wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::TEXTURE_BINDING,
    );
    // [S·S, 3] rows are an interleaved [S, S, 3] image: a view, no copy.
    let image = model_out.reshape(&[s, s, 3])?;
    let write_texture = to_texture::prepare(
        &ctx,
        &image,
        &kiln_texture,
        ToTextureOptions {
            range: ValueRange::SIGNED,
            layout: ImageLayout::Interleaved,
            image: 0,
        },
    )?;

    // ---- The host's own render pipeline, reading kiln's buffers and texture. ----
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("host shader"),
        source: wgpu::ShaderSource::Wgsl(include_str!("embed_in_wgpu_app.wgsl").into()),
    });
    let constants = [("SIZE", s as f64)];
    let compilation_options = || wgpu::PipelineCompilationOptions {
        constants: &constants,
        ..Default::default()
    };
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("host pipeline"),
        layout: None,
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            compilation_options: compilation_options(),
            buffers: &[],
        },
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            compilation_options: compilation_options(),
            targets: &[Some(FRAME_FORMAT.into())],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    });
    let kiln_view = kiln_texture.create_view(&Default::default());
    // Bindings 0, 1, 2 of the host's shader: kiln's input and output tensors, kiln's texture.
    let resources = [
        target_in.binding(),
        model_out.binding(),
        wgpu::BindingResource::TextureView(&kiln_view),
    ];
    let entries: Vec<wgpu::BindGroupEntry> = (0..)
        .zip(resources)
        .map(|(binding, resource)| wgpu::BindGroupEntry { binding, resource })
        .collect();
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("host bindings"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let (fw, fh) = (3 * args.panel, args.panel);
    let frame = texture(
        &device,
        "host: offscreen frame",
        (fw, fh),
        wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
    );
    let frame_view = frame.create_view(&Default::default());
    let row_bytes = fw * 4;
    let padded_row = row_bytes.next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    // The host's copy of its last frame: a buffer kiln wraps as a tensor to download it.
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("host: frame readback"),
        size: (padded_row * fh) as u64,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });

    // ---- The frame loop: one encoder, one submission per frame, by the host. ----
    let setup = start.elapsed().as_secs_f64();
    let loop_start = Instant::now();
    let mut in_flight: Option<wgpu::SubmissionIndex> = None;
    let log_every = (args.frames / 5).max(1);
    for f in 1..=args.frames {
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("host frame"),
        });
        plan.record(&ctx, &mut encoder)?;
        write_texture.record_into(&mut encoder);
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("host render pass"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &frame_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                ..Default::default()
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
        if f == args.frames {
            encoder.copy_texture_to_buffer(
                frame.as_image_copy(),
                wgpu::TexelCopyBufferInfo {
                    buffer: &readback,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(padded_row),
                        rows_per_image: Some(fh),
                    },
                },
                frame.size(),
            );
        }
        let index = queue.submit([encoder.finish()]);
        // Two frames in flight at most, as a swapchain would allow (kiln's wait polls the
        // device in slices, so a hang or a lost device becomes an error).
        if let Some(previous) = in_flight.replace(index) {
            ctx.wait(Some(previous))?;
        }
        if f % log_every == 0 || f == 1 {
            // One float: kiln's scalar loss. The picture itself never leaves the GPU.
            let l = plan.read_f32(&ctx, loss)?[0];
            println!(
                "frame {f:4}: loss {l:.5}  ({:.1} ms/frame)",
                1e3 * loop_start.elapsed().as_secs_f64() / f as f64
            );
        }
    }
    ctx.check()?;
    let train_time = loop_start.elapsed().as_secs_f64();

    // ---- Only the host's rendered frame comes back to the CPU. ----
    let words = (padded_row * fh / 4) as usize;
    let frame_tensor = Tensor::from_buffer(&ctx, readback.into(), 0, &[words], DType::U32)?;
    let rows = frame_tensor.to_vec_u32(&ctx)?;
    let pixels: Vec<u8> = bytemuck::cast_slice::<u32, u8>(&rows)
        .chunks(padded_row as usize)
        .flat_map(|row| &row[..row_bytes as usize])
        .copied()
        .collect();

    // Panels compared on the host's own pixels: generator (buffer path) against the target,
    // and the texture path against the buffer path.
    let p = args.panel as usize;
    let panel_px = |panel: usize, x: usize, y: usize, k: usize| {
        pixels[(y * fw as usize + panel * p + x) * 4 + k] as f64
    };
    let (mut se, mut texture_gap, mut n) = (0.0f64, 0.0f64, 0usize);
    // Columns left of one model pixel's width hold the gutter.
    let gutter = p.div_ceil(s);
    for y in 0..p {
        for x in gutter..p {
            for k in 0..3 {
                let d = panel_px(1, x, y, k) - panel_px(0, x, y, k);
                se += d * d;
                n += 1;
                texture_gap = texture_gap.max((panel_px(2, x, y, k) - panel_px(1, x, y, k)).abs());
            }
        }
    }
    let psnr = 10.0 * (255.0f64.powi(2) / (se / n as f64).max(1e-12)).log10();

    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    image::save_buffer(&args.out, &pixels, fw, fh, image::ExtendedColorType::Rgba8)?;
    println!(
        "{} frames (one host encoder and one submission each: kiln's training step, kiln's \
         to_texture, the host's render pass) in {train_time:.1} s, setup {setup:.1} s",
        args.frames
    );
    println!(
        "rendered frame: target | generator from kiln's storage buffer | generator from the \
         texture kiln wrote; generator vs target PSNR {psnr:.1} dB, texture vs buffer panels \
         differ by at most {texture_gap} / 255"
    );
    println!("saved {}", args.out.display());
    Ok(())
}
