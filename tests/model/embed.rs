//! Embedding: a host application's own wgpu device shared with kiln. The host creates the
//! instance, adapter, device and queue with the `wgpu` crate it depends on (which must be the
//! one kiln re-exports: these tests would not compile otherwise), kiln trains on it, a plan
//! recorded into the host's encoder matches a plan that submits itself, and recording submits
//! nothing.

use kiln::ops::elementwise::Activation;
use kiln::optim::AdamConfig;
use kiln::{Context, DType, Graph, Init, Optimizer, ParamStore, Plan, PlanSpec, Training, Var};

use super::*;

/// What a host application does: its own instance, adapter and device, asking for the limits
/// kiln needs on top of its own (here the downlevel defaults, which lack some of kiln's).
fn host_device() -> (wgpu::Device, wgpu::Queue, wgpu::AdapterInfo) {
    // The backend kiln's own contexts use here (KILN_BACKEND), drawing nothing.
    let backends = kiln::ContextOptions::default()
        .with_env()
        .unwrap()
        .backends
        .unwrap_or(wgpu::Backends::PRIMARY);
    let instance = kiln::context::headless_instance(backends);
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .unwrap();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("host"),
        required_features: Context::required_features(),
        required_limits: Context::required_limits(wgpu::Limits::downlevel_defaults()),
        ..Default::default()
    }))
    .unwrap();
    (device, queue, adapter.get_info())
}

/// The host's device, handed to kiln. The host keeps its own handles (wgpu handles are shared
/// references): kiln adds no device of its own.
fn host_context() -> (Context, wgpu::Device, wgpu::Queue) {
    let (device, queue, info) = host_device();
    // The host's `wgpu::Device` is kiln's `kiln::wgpu::Device`: one crate, one version.
    let same: &kiln::wgpu::Device = &device;
    let ctx = Context::from_host(same.clone(), queue.clone(), Some(info)).unwrap();
    (ctx, device, queue)
}

/// A small per-pixel generator: `[16, 2]` coordinates → 12 tanh units → `[16, 3]` tanh colours,
/// trained with Adam on the mean squared error against a target.
fn generator(ctx: &Context, store: &mut ParamStore) -> (Plan, Var, Var) {
    let mut g = Graph::new();
    let xy = g.input("xy", &[16, 2], DType::F32).unwrap();
    let target = g.input("target", &[16, 3], DType::F32).unwrap();
    let w1 = g.param("w1", &[2, 12], Init::XavierUniform).unwrap();
    let b1 = g.param("b1", &[12], Init::Zeros).unwrap();
    let w2 = g.param("w2", &[12, 3], Init::XavierUniform).unwrap();
    let h = g.matmul_with(xy, w1, Some(b1), Default::default()).unwrap();
    let h = g.activation(h, Activation::Tanh).unwrap();
    let rgb = g.matmul(h, w2).unwrap();
    let rgb = g.activation(rgb, Activation::Tanh).unwrap();
    let neg = g.scale(target, -1.0, 0.0).unwrap();
    let diff = g.add(rgb, neg).unwrap();
    let sq = g.mul(diff, diff).unwrap();
    let loss = g.mean_all(sq).unwrap();
    let spec = PlanSpec {
        outputs: vec![rgb, loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-2)))),
        ..Default::default()
    };
    let plan = Plan::compile(ctx, &g, store, &spec).unwrap();
    let mut rng = Rng::new(7);
    plan.set_input_f32(ctx, "xy", &rng.vec(32)).unwrap();
    plan.set_input_f32(ctx, "target", &rng.vec(48)).unwrap();
    (plan, rgb, loss)
}

#[test]
fn kiln_trains_on_the_hosts_device() {
    let (ctx, device, queue) = host_context();
    // Raised from the downlevel defaults: what from_host checks.
    let limits = device.limits();
    assert!(limits.max_storage_buffers_per_shader_stage >= 8);
    assert!(limits.max_compute_workgroup_storage_size >= 16384);
    let mut store = ParamStore::new(1);
    let (mut plan, rgb, loss) = generator(&ctx, &mut store);
    let first = plan.step(&ctx).and_then(|_| plan.read_f32(&ctx, loss));
    let first = first.unwrap()[0];
    for _ in 0..30 {
        plan.step(&ctx).unwrap();
    }
    let last = plan.read_f32(&ctx, loss).unwrap()[0];
    // 31 Adam steps on a random target take the loss down by about 40%; 20% is the bar.
    assert!(last < 0.8 * first, "loss {first} -> {last}: not learning");
    // kiln's tensors live on the host's device: the host copies one with its own queue into
    // its own buffer, which kiln wraps without a copy.
    let out = plan.output(rgb).unwrap();
    let host_copy = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("host copy"),
        size: out.byte_size(),
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(out.buffer(), out.offset(), &host_copy, 0, out.byte_size());
    queue.submit([encoder.finish()]);
    let copy = kiln::Tensor::from_buffer(
        &ctx,
        std::sync::Arc::new(host_copy),
        0,
        &[16, 3],
        DType::F32,
    )
    .unwrap();
    assert_eq!(
        copy.to_vec_f32(&ctx).unwrap(),
        out.to_vec_f32(&ctx).unwrap()
    );
}

#[test]
fn a_plan_recorded_into_the_hosts_encoder_matches_one_that_submits() {
    let run = |recorded: bool| {
        let (ctx, device, queue) = host_context();
        let mut store = ParamStore::new(2);
        let (mut plan, rgb, loss) = generator(&ctx, &mut store);
        // A host buffer the host fills from kiln's output inside the same frame.
        let out = plan.output(rgb).unwrap().clone();
        let mirror = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("host mirror"),
            size: out.byte_size(),
            usage: kiln::tensor::TENSOR_USAGE,
            mapped_at_creation: false,
        });
        for _ in 0..5 {
            if recorded {
                // One host frame: kiln's step, then the host's own work, one submission.
                // One step per submission: a step's learning rate and seed are queue writes,
                // which land before the submission that follows them.
                let mut encoder = device.create_command_encoder(&Default::default());
                plan.record(&ctx, &mut encoder).unwrap();
                encoder.copy_buffer_to_buffer(
                    out.buffer(),
                    out.offset(),
                    &mirror,
                    0,
                    out.byte_size(),
                );
                queue.submit([encoder.finish()]);
            } else {
                plan.step(&ctx).unwrap();
                let mut encoder = device.create_command_encoder(&Default::default());
                encoder.copy_buffer_to_buffer(
                    out.buffer(),
                    out.offset(),
                    &mirror,
                    0,
                    out.byte_size(),
                );
                queue.submit([encoder.finish()]);
            }
        }
        let mirror =
            kiln::Tensor::from_buffer(&ctx, std::sync::Arc::new(mirror), 0, &[16, 3], DType::F32)
                .unwrap();
        let mut all = plan.read_f32(&ctx, rgb).unwrap();
        all.extend(plan.read_f32(&ctx, loss).unwrap());
        all.extend(mirror.to_vec_f32(&ctx).unwrap());
        for name in ["w1", "b1", "w2"] {
            all.extend(store.get(name).unwrap().to_vec_f32(&ctx).unwrap());
        }
        all.iter().map(|x| x.to_bits()).collect::<Vec<u32>>()
    };
    // The same kernels on the same data in the same order: bit for bit.
    assert_eq!(run(true), run(false));
}

#[test]
fn recording_submits_nothing_and_creates_nothing() {
    let (ctx, device, queue) = host_context();
    let mut store = ParamStore::new(3);
    let (mut plan, _, _) = generator(&ctx, &mut store);
    plan.step(&ctx).unwrap();
    let read = |store: &ParamStore| store.get("w1").unwrap().to_vec_f32(&ctx).unwrap();
    let before = read(&store);
    let (objects, pipelines) = (ctx.objects_created(), ctx.pipelines_created());
    let mut encoder = device.create_command_encoder(&Default::default());
    plan.record(&ctx, &mut encoder).unwrap();
    assert_eq!(
        ctx.objects_created(),
        objects,
        "recording created buffers or bind groups"
    );
    assert_eq!(
        ctx.pipelines_created(),
        pipelines,
        "recording compiled pipelines"
    );
    // Had record submitted its step, the weights would have moved by now (the readback waits
    // for everything submitted).
    assert_eq!(
        read(&store),
        before,
        "record ran the step without the host submitting it"
    );
    queue.submit([encoder.finish()]);
    assert_ne!(
        read(&store),
        before,
        "the host's submission did not run the step"
    );
}

#[test]
fn a_host_buffer_bound_as_a_plan_input_is_read_without_a_copy() {
    let (ctx, device, queue) = host_context();
    // The host's own buffer, written only by the host's queue.
    let host = std::sync::Arc::new(device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("host input"),
        size: 7 * 4,
        usage: kiln::tensor::TENSOR_USAGE,
        mapped_at_creation: false,
    }));
    let bound = kiln::Tensor::from_buffer(&ctx, host.clone(), 0, &[7], DType::F32).unwrap();
    let mut g = Graph::new();
    let x = g.input("x", &[7], DType::F32).unwrap();
    let y = g.scale(x, 2.0, 1.0).unwrap();
    let spec = PlanSpec {
        outputs: vec![y],
        bound_inputs: vec![("x".into(), bound.clone())],
        ..Default::default()
    };
    let mut store = ParamStore::new(0);
    let mut plan = Plan::compile(&ctx, &g, &mut store, &spec).unwrap();
    assert_eq!(plan.input_tensor("x").unwrap().buffer(), &*host);
    for round in 0..2 {
        let data: Vec<f32> = (0..7).map(|i| (i * (round + 1)) as f32 - 3.0).collect();
        queue.write_buffer(&host, 0, bytemuck::cast_slice(&data));
        plan.step(&ctx).unwrap();
        let got = plan.read_f32(&ctx, y).unwrap();
        let want: Vec<f32> = data.iter().map(|v| 2.0 * v + 1.0).collect();
        assert_eq!(
            got, want,
            "round {round}: the plan must read what the host wrote"
        );
    }

    // A bound tensor of another shape, or a name that is not an input, is an error.
    let wrong = kiln::Tensor::from_buffer(&ctx, host.clone(), 0, &[6], DType::F32).unwrap();
    let spec = PlanSpec {
        outputs: vec![y],
        bound_inputs: vec![("x".into(), wrong)],
        ..Default::default()
    };
    let err = Plan::compile(&ctx, &g, &mut store, &spec)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("'x'") && err.contains("[6]") && err.contains("[7]"),
        "{err}"
    );
    let spec = PlanSpec {
        outputs: vec![y],
        bound_inputs: vec![("nope".into(), bound)],
        ..Default::default()
    };
    let err = Plan::compile(&ctx, &g, &mut store, &spec)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("nope"), "{err}");
}
