//! The context and tensors: adapter choice, host devices, isolation, and errors as values.

use super::*;
use kiln::ops::softmax;
use kiln::{ContextOptions, DType, Error};

fn softmax_ok(c: &Context) -> bool {
    let x = Tensor::from_f32(c, &[1, 2], &[0.0, 0.0]).unwrap();
    let y = softmax::softmax(c, &x).unwrap().to_vec_f32(c).unwrap();
    y == vec![0.5, 0.5]
}

#[test]
fn two_contexts_do_not_interfere() {
    let a = Context::new().unwrap();
    let b = Context::new().unwrap();
    let ta = Tensor::from_f32(&a, &[3], &[1.0, 2.0, 3.0]).unwrap();
    let tb = Tensor::from_f32(&b, &[3], &[4.0, 5.0, 6.0]).unwrap();
    assert!(softmax_ok(&a));
    assert_eq!(b.pipelines_created(), 0, "b compiled nothing yet");
    assert!(softmax_ok(&b));
    assert_eq!(ta.to_vec_f32(&a).unwrap(), vec![1.0, 2.0, 3.0]);
    assert_eq!(tb.to_vec_f32(&b).unwrap(), vec![4.0, 5.0, 6.0]);
}

#[test]
fn pipelines_are_compiled_once() {
    let c = Context::new().unwrap();
    assert!(softmax_ok(&c));
    let after_first = c.pipelines_created();
    assert!(softmax_ok(&c));
    assert_eq!(c.pipelines_created(), after_first);
}

fn host_device(
    limits: kiln::wgpu::Limits,
) -> (
    kiln::wgpu::Device,
    kiln::wgpu::Queue,
    kiln::wgpu::AdapterInfo,
) {
    // The backend kiln's own contexts use here (KILN_BACKEND), drawing nothing.
    let backends = kiln::ContextOptions::default()
        .with_env()
        .unwrap()
        .backends
        .unwrap_or(kiln::wgpu::Backends::PRIMARY);
    let instance = kiln::context::headless_instance(backends);
    let adapter =
        pollster::block_on(instance.request_adapter(&kiln::wgpu::RequestAdapterOptions::default()))
            .unwrap();
    let (device, queue) =
        pollster::block_on(adapter.request_device(&kiln::wgpu::DeviceDescriptor {
            required_limits: limits,
            ..Default::default()
        }))
        .unwrap();
    (device, queue, adapter.get_info())
}

#[test]
fn runs_on_a_host_device() {
    let (device, queue, info) = host_device(kiln::wgpu::Limits::default());
    let c = Context::from_host(device.clone(), queue, Some(info)).unwrap();
    assert!(softmax_ok(&c));
    // The tensor's buffer belongs to the host's device: the host can bind it directly.
    let t = Tensor::from_f32(&c, &[4], &[1.0; 4]).unwrap();
    assert!(t
        .buffer()
        .usage()
        .contains(kiln::wgpu::BufferUsages::STORAGE));
    assert_eq!(t.offset(), 0);
}

#[test]
fn host_device_without_needed_limits_is_a_clear_error() {
    let limits = kiln::wgpu::Limits {
        max_storage_buffers_per_shader_stage: 4,
        ..kiln::wgpu::Limits::default()
    };
    let (device, queue, _) = host_device(limits);
    let err = Context::from_host(device, queue, None).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("max_storage_buffers_per_shader_stage"),
        "{err}"
    );
}

#[test]
fn wrapping_a_host_buffer_shares_it() {
    let c = ctx();
    let buffer = c.device().create_buffer(&kiln::wgpu::BufferDescriptor {
        label: Some("host"),
        size: 512 + 8,
        usage: kiln::tensor::TENSOR_USAGE,
        mapped_at_creation: false,
    });
    c.queue()
        .write_buffer(&buffer, 512, bytemuck::cast_slice(&[3.0f32, 3.0]));
    let t = Tensor::from_buffer(c, std::sync::Arc::new(buffer), 512, &[2], DType::F32).unwrap();
    assert_eq!(
        softmax::softmax(c, &t).unwrap().to_vec_f32(c).unwrap(),
        vec![0.5, 0.5]
    );
    let misaligned = c.device().create_buffer(&kiln::wgpu::BufferDescriptor {
        label: None,
        size: 64,
        usage: kiln::tensor::TENSOR_USAGE,
        mapped_at_creation: false,
    });
    let err =
        Tensor::from_buffer(c, std::sync::Arc::new(misaligned), 4, &[2], DType::F32).unwrap_err();
    assert!(err.to_string().contains("multiple of"), "{err}");
}

#[test]
fn wrong_length_upload_and_wrong_dtype_are_errors() {
    let err = Tensor::from_f32(ctx(), &[2, 3], &[0.0; 5]).unwrap_err();
    assert_eq!(
        err,
        Error::Length {
            during: "uploading a tensor".to_string(),
            expected: 6,
            got: 5
        }
    );
    let t = Tensor::from_u32(ctx(), &[2], &[1, 2]).unwrap();
    assert!(matches!(t.to_vec_f32(ctx()), Err(Error::DType { .. })));
    assert_eq!(t.to_vec_u32(ctx()).unwrap(), vec![1, 2]);
    let x = Tensor::from_f32(ctx(), &[2], &[0.0; 2]).unwrap();
    assert!(matches!(
        x.write_f32(ctx(), &[1.0; 3]),
        Err(Error::Length { .. })
    ));
    assert!(matches!(
        softmax::softmax(ctx(), &t),
        Err(Error::DType { .. })
    ));
}

#[test]
fn wgpu_validation_errors_come_back_as_results() {
    // Binding one buffer as the read-only input and the writable output of the same dispatch is
    // a usage conflict that wgpu catches; it must surface as Error::Wgpu, not a panic.
    let c = Context::new().unwrap();
    let x = Tensor::from_f32(&c, &[1, 4], &[1.0; 4]).unwrap();
    let result =
        softmax::forward(&c, &x, &x).and_then(|d| kiln::kernels::run(&c, &[d]).map(|_| ()));
    let result = result.and_then(|_| c.wait(None));
    assert!(matches!(result, Err(Error::Wgpu { .. })), "{result:?}");
}

#[test]
fn a_lost_device_is_an_error_not_a_panic() {
    let c = Context::new().unwrap();
    let x = Tensor::from_f32(&c, &[1, 4], &[1.0; 4]).unwrap();
    c.device().destroy();
    let result = softmax::softmax(&c, &x).and_then(|y| y.to_vec_f32(&c));
    assert!(
        matches!(result, Err(Error::DeviceLost(_)) | Err(Error::Wgpu { .. })),
        "{result:?}"
    );
}

#[test]
fn adapter_is_reported() {
    let s = ctx().adapter_summary();
    assert!(!s.is_empty());
    assert!(!ctx().adapter_info().name.is_empty());
}

#[test]
fn recording_prepared_dispatches_creates_nothing() {
    // A prepared Dispatch holds its pipeline, bind group and parameters: recording it again and
    // again (what a training step does) compiles nothing and needs no new objects.
    let c = Context::new().unwrap();
    let x = Tensor::from_f32(&c, &[4, 33], &[0.5; 4 * 33]).unwrap();
    let y = Tensor::zeros(&c, &[4, 33], DType::F32).unwrap();
    let prepared = [softmax::forward(&c, &x, &y).unwrap()];
    let compiled = c.pipelines_created();
    for _ in 0..10 {
        kiln::kernels::run(&c, &prepared).unwrap();
    }
    c.wait(None).unwrap();
    assert_eq!(c.pipelines_created(), compiled);
    let got = y.to_vec_f32(&c).unwrap();
    assert!(
        got.iter().all(|&v| (v - 1.0 / 33.0).abs() < 1e-6),
        "{got:?}"
    );
}

#[test]
fn required_limits_raise_what_kiln_needs_and_lower_nothing() {
    use kiln::wgpu::Limits;
    let raised = Context::required_limits(Limits::downlevel_defaults());
    assert_eq!(raised.max_storage_buffers_per_shader_stage, 8);
    assert_eq!(raised.max_compute_workgroup_storage_size, 16384);
    assert_eq!(raised.max_compute_invocations_per_workgroup, 256);
    // Limits kiln does not care about keep the host's values.
    assert_eq!(
        raised.max_texture_dimension_2d,
        Limits::downlevel_defaults().max_texture_dimension_2d
    );
    let generous = Limits {
        max_storage_buffers_per_shader_stage: 16,
        ..Limits::default()
    };
    assert_eq!(Context::required_limits(generous.clone()), generous);
    assert_eq!(
        Context::required_limits(Limits::default()),
        Limits::default()
    );
    assert!(Context::required_features().is_empty());
}

#[test]
fn options_pin_the_matmul_variant_and_the_context_keeps_them() {
    use kiln::kernels::{ChoiceSource, MatmulVariant};
    let c = Context::with_options(ContextOptions::default().matmul(MatmulVariant::Naive)).unwrap();
    let choice = kiln::ops::matmul::choice(&c);
    assert_eq!(
        (choice.variant, &choice.source),
        (MatmulVariant::Naive, &ChoiceSource::Pinned)
    );
    assert_eq!(c.options().matmul, Some(MatmulVariant::Naive));
    // Another context opened with its options lands on the same adapter.
    let again = Context::with_options(c.options().clone()).unwrap();
    assert_eq!(again.adapter_info().name, c.adapter_info().name);
    let a = Tensor::from_f32(&c, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let b = Tensor::from_f32(&c, &[3, 1], &[1.0, 0.0, -1.0]).unwrap();
    let y = kiln::ops::matmul::matmul(&c, &a, &b, None, Default::default()).unwrap();
    assert_eq!(y.to_vec_f32(&c).unwrap(), vec![-2.0, -2.0]);
}

#[test]
fn an_adapter_filter_that_matches_nothing_names_the_adapters_found() {
    let here = ctx().adapter_info();
    let options = ContextOptions::default()
        .backends(here.backend.into())
        .adapter("no adapter is called this");
    match Context::with_options(options) {
        Err(Error::NoAdapter(message)) => {
            assert!(message.contains(&here.name), "{message}");
            assert!(message.contains("no adapter is called this"), "{message}");
        }
        other => panic!("expected NoAdapter, got {other:?}"),
    }
}

#[test]
fn without_cpu_drivers_a_cpu_adapter_is_never_chosen() {
    let options = ContextOptions {
        allow_cpu: false,
        ..ContextOptions::default()
    };
    match Context::with_options(options) {
        Ok(c) => assert_ne!(c.adapter_info().device_type, kiln::wgpu::DeviceType::Cpu),
        Err(e) => assert!(matches!(e, Error::NoAdapter(_)), "{e}"),
    }
}

#[test]
fn backend_names_parse_and_a_wrong_one_is_named() {
    use kiln::context::parse_backends;
    use kiln::wgpu::Backends;
    assert_eq!(parse_backends("vulkan"), Ok(Backends::VULKAN));
    assert_eq!(
        parse_backends("GL, vk"),
        Ok(Backends::GL | Backends::VULKAN)
    );
    assert_eq!(
        parse_backends("metal,dx12"),
        Ok(Backends::METAL | Backends::DX12)
    );
    let err = parse_backends("vulkan,cuda").unwrap_err();
    assert!(err.contains("`cuda`"), "{err}");
}

/// One thread submits a long step (40 chained matmuls in one submission) while others
/// allocate, compute, read back and drop on the same context. On GL, threads sharing a context
/// panicked inside wgpu ("Could not lock adapter context") whenever one of them held the GL
/// context past six seconds (a cold compile, a long submission: the kernel suite failed that
/// way); kiln serialises its use of a GL device now. This step takes about a second, so it
/// checks the sharing, and the suite's cold compiles still reach the six seconds.
#[test]
fn a_context_shared_by_threads_serves_them_all() {
    use kiln::{Graph, ParamStore, Plan, PlanSpec};
    let c = ctx();
    let (n, chain) = (640, 40);
    let mut g = Graph::new();
    let x = g.input("x", &[n, n], DType::F32).unwrap();
    let eye = g.input("eye", &[n, n], DType::F32).unwrap();
    let mut y = x;
    for _ in 0..chain {
        y = g.matmul(y, eye).unwrap();
    }
    let spec = PlanSpec {
        outputs: vec![y],
        ..Default::default()
    };
    let mut plan = Plan::compile(c, &g, &mut ParamStore::new(1), &spec).unwrap();
    let mut rng = Rng::new(5);
    let xs = rng.vec(n * n);
    let identity: Vec<f32> = (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect();
    plan.set_input_f32(c, "x", &xs).unwrap();
    plan.set_input_f32(c, "eye", &identity).unwrap();
    std::thread::scope(|s| {
        let long = s.spawn(|| {
            plan.step(c).unwrap();
            plan.read_f32(c, y).unwrap()
        });
        let short: Vec<_> = (0..3)
            .map(|t| {
                s.spawn(move || {
                    for i in 0..20 {
                        let v = [t as f32, i as f32];
                        let x = Tensor::from_f32(c, &[1, 2], &v).unwrap();
                        assert_eq!(x.to_vec_f32(c).unwrap(), v);
                        assert!(softmax_ok(c));
                    }
                })
            })
            .collect();
        for h in short {
            h.join().unwrap();
        }
        // x times the identity, forty times over, is x exactly.
        assert_eq!(long.join().unwrap(), xs);
    });
}
