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
//! 3. the host's render pass: a full-screen triangle whose fragment shader draws three panels,
//!    the target (kiln's input tensor, read as a storage buffer), the generator's output (kiln's
//!    output tensor, read as a storage buffer) and the texture kiln wrote (loaded as a texture).
//!
//! The last frame is rendered headless into an offscreen texture, and only that frame (the
//! host's own image) is read back and saved as a PNG. Progress lines read kiln's scalar loss.
//!
//! ```sh
//! cargo run --release --example embed_in_wgpu_app                      # runs/embed/frame.png
//! cargo run --release --example embed_in_wgpu_app -- --frames 600 --out /tmp/frame.png
//! ```

use std::path::PathBuf;
use std::time::Instant;

use kiln::ops::elementwise::Activation;
use kiln::ops::optim::AdamConfig;
use kiln::ops::to_texture::{self, ImageLayout, ToTextureOptions, ValueRange};
use kiln::wgpu;
use kiln::{Context, DType, Graph, Init, Optimizer, ParamStore, Plan, PlanSpec, Training};

const USAGE: &str = "embed_in_wgpu_app [--frames N] [--size S] [--panel P] [--lr X] [--out FILE]";

/// Fourier feature bands per axis: sin and cos of 2^k·π·x for k < BANDS, plus x and y.
const BANDS: usize = 6;
const FEATURES: usize = 4 * BANDS + 2;
const HIDDEN: usize = 64;

struct Args {
    frames: usize,
    size: usize,
    panel: u32,
    lr: f32,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        frames: 200,
        size: 64,
        panel: 256,
        lr: 1e-2,
        out: PathBuf::from("runs/embed/frame.png"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        let bad = |e: &dyn std::fmt::Display| format!("{flag}: {e}\n{USAGE}");
        match flag.as_str() {
            "--frames" => args.frames = value()?.parse().map_err(|e| bad(&e))?,
            "--size" => args.size = value()?.parse().map_err(|e| bad(&e))?,
            "--panel" => args.panel = value()?.parse().map_err(|e| bad(&e))?,
            "--lr" => args.lr = value()?.parse().map_err(|e| bad(&e))?,
            "--out" => args.out = PathBuf::from(value()?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    if args.frames == 0 || args.size == 0 || args.panel == 0 {
        return Err(format!(
            "--frames, --size and --panel must be positive\n{USAGE}"
        ));
    }
    Ok(args)
}

/// The picture to learn, in [-1, 1] (tanh's range), `[S·S, 3]` row-major: a sunset-coloured
/// vertical gradient, a ringed disc and a diagonal stripe.
fn target_picture(s: usize) -> Vec<f32> {
    let mut rgb = Vec::with_capacity(s * s * 3);
    for row in 0..s {
        for col in 0..s {
            let (x, y) = coord(col, row, s);
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
    rgb
}

/// Pixel centre in [-1, 1]², y down.
fn coord(col: usize, row: usize, s: usize) -> (f64, f64) {
    let f = |i: usize| (2 * i + 1) as f64 / s as f64 - 1.0;
    (f(col), f(row))
}

/// The generator's input: Fourier features of every pixel, `[S·S, FEATURES]`.
fn features(s: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(s * s * FEATURES);
    for row in 0..s {
        for col in 0..s {
            let (x, y) = coord(col, row, s);
            out.push(x as f32);
            out.push(y as f32);
            for k in 0..BANDS {
                let w = std::f64::consts::PI * (1 << k) as f64;
                for v in [x, y] {
                    out.push((w * v).sin() as f32);
                    out.push((w * v).cos() as f32);
                }
            }
        }
    }
    out
}

/// A kiln tensor as the host binds it in its own bind group: kiln's buffer, offset and size.
fn binding(t: &kiln::Tensor) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer: t.buffer(),
        offset: t.offset(),
        size: wgpu::BufferSize::new(t.byte_size()),
    })
}

/// The host's shader: a full-screen triangle and three panels side by side.
const HOST_SHADER: &str = r#"
override SIZE: u32 = 64u;

// kiln's tensors, bound as they are: [SIZE*SIZE, 3] floats in [-1, 1].
@group(0) @binding(0) var<storage, read> target_rgb: array<f32>;
@group(0) @binding(1) var<storage, read> model_rgb: array<f32>;
// The texture kiln's to_texture kernel wrote (rgba8unorm, [-1, 1] mapped to [0, 1]).
@group(0) @binding(2) var kiln_texture: texture_2d<f32>;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VsOut {
    let p = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    var out: VsOut;
    out.pos = vec4<f32>(p * 2.0 - 1.0, 0.0, 1.0);
    out.uv = vec2<f32>(p.x, 1.0 - p.y);
    return out;
}

// [-1, 1] to [0, 1], as kiln's to_texture maps ValueRange::SIGNED.
fn target_at(px: vec2<u32>) -> vec3<f32> {
    let at = (px.y * SIZE + px.x) * 3u;
    return vec3<f32>(target_rgb[at], target_rgb[at + 1u], target_rgb[at + 2u]) * 0.5 + 0.5;
}

fn model_at(px: vec2<u32>) -> vec3<f32> {
    let at = (px.y * SIZE + px.x) * 3u;
    return vec3<f32>(model_rgb[at], model_rgb[at + 1u], model_rgb[at + 2u]) * 0.5 + 0.5;
}

@fragment
fn fs_main(v: VsOut) -> @location(0) vec4<f32> {
    let panel = min(u32(v.uv.x * 3.0), 2u);
    let local = vec2<f32>(fract(v.uv.x * 3.0), v.uv.y);
    let px = min(vec2<u32>(local * f32(SIZE)), vec2<u32>(SIZE - 1u));
    var c: vec3<f32>;
    if panel > 0u && local.x * f32(SIZE) < 0.5 {
        c = vec3<f32>(0.0); // a dark gutter between panels
    } else if panel == 0u {
        c = target_at(px);
    } else if panel == 1u {
        c = model_at(px);
    } else {
        c = textureLoad(kiln_texture, px, 0).rgb;
    }
    return vec4<f32>(clamp(c, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
"#;

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("embed_in_wgpu_app: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let s = args.size;

    // ---- The host: its own instance, adapter, device, queue. ----
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc);
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))?;
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
    let w1 = g.param("w1", &[FEATURES, HIDDEN], Init::XavierUniform)?;
    let b1 = g.param("b1", &[HIDDEN], Init::Zeros)?;
    let w2 = g.param("w2", &[HIDDEN, HIDDEN], Init::XavierUniform)?;
    let b2 = g.param("b2", &[HIDDEN], Init::Zeros)?;
    let w3 = g.param("w3", &[HIDDEN, 3], Init::XavierUniform)?;
    let b3 = g.param("b3", &[3], Init::Zeros)?;
    let h = g.matmul_with(xy, w1, Some(b1), Default::default())?;
    let h = g.activation(h, Activation::Relu)?;
    let h = g.matmul_with(h, w2, Some(b2), Default::default())?;
    let h = g.activation(h, Activation::Relu)?;
    let rgb = g.matmul_with(h, w3, Some(b3), Default::default())?;
    let rgb = g.activation(rgb, Activation::Tanh)?;
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
    plan.set_input_f32(&ctx, "xy", &features(s))?;
    plan.set_input_f32(&ctx, "target", &target_picture(s))?;
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
    let texture_size = wgpu::Extent3d {
        width: s as u32,
        height: s as u32,
        depth_or_array_layers: 1,
    };
    let kiln_texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("host: kiln's picture"),
        size: texture_size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
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
    let frame_format = wgpu::TextureFormat::Rgba8Unorm;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("host shader"),
        source: wgpu::ShaderSource::Wgsl(HOST_SHADER.into()),
    });
    let constants = [("SIZE", s as f64)];
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("host pipeline"),
        layout: None,
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                ..Default::default()
            },
            buffers: &[],
        },
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                ..Default::default()
            },
            targets: &[Some(frame_format.into())],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    });
    let kiln_view = kiln_texture.create_view(&Default::default());
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("host bindings"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: binding(&target_in),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: binding(&model_out),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(&kiln_view),
            },
        ],
    });
    let (fw, fh) = (3 * args.panel, args.panel);
    let frame = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("host: offscreen frame"),
        size: wgpu::Extent3d {
            width: fw,
            height: fh,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: frame_format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let frame_view = frame.create_view(&Default::default());
    let row_bytes = fw * 4;
    let padded_row = row_bytes.next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("host: frame readback"),
        size: (padded_row * fh) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
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
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
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
        // Two frames in flight at most, as a swapchain would allow.
        if let Some(previous) = in_flight.replace(index) {
            device.poll(wgpu::PollType::Wait {
                submission_index: Some(previous),
                timeout: None,
            })?;
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
    let (tx, rx) = std::sync::mpsc::channel();
    readback.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device.poll(wgpu::PollType::wait_indefinitely())?;
    rx.recv()??;
    let pixels: Vec<u8> = {
        let mapped = readback.slice(..).get_mapped_range()?;
        (0..fh as usize)
            .flat_map(|y| {
                let at = y * padded_row as usize;
                mapped[at..at + row_bytes as usize].to_vec()
            })
            .collect()
    };
    readback.unmap();

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
