//! matmul cases of the benchmark, each beside `matrixmultiply`'s SGEMM on every core, run in
//! the same process.

use kiln::kernels::{record_all, Dispatch, MatmulVariant};
use kiln::ops::matmul::{self, MatmulOptions};
use kiln::{Context, DType, Result, Tensor};

use crate::figure::{median_seconds, Figure};

/// Seconds of one run of `dispatches`: record, submit, wait. Pipelines and bind groups were made
/// beforehand, so this is the GPU's time plus one submission.
pub fn gpu_seconds(ctx: &Context, dispatches: &[Dispatch]) -> Result<f64> {
    let mut err = None;
    let mut once = || {
        let mut enc = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        record_all(&mut enc, dispatches);
        if let Err(e) = ctx.submit(enc.finish()).and_then(|_| ctx.wait(None)) {
            err = Some(e);
        }
    };
    // Slow cases (the naive kernel at 1024 takes seconds) get fewer repetitions.
    let t0 = std::time::Instant::now();
    once();
    let runs = (3.0 / t0.elapsed().as_secs_f64().max(1e-6)).clamp(1.0, 7.0) as usize;
    let t = median_seconds(runs, &mut once);
    match err {
        Some(e) => Err(e),
        None => Ok(t),
    }
}

/// GFLOP/s of SGEMM on `batch` products of m×k·k×n.
fn sgemm_gflops(batch: usize, m: usize, k: usize, n: usize) -> f64 {
    let a = vec![0.5f32; batch * m * k];
    let b = vec![0.25f32; batch * k * n];
    let mut c = vec![0.0f32; batch * m * n];
    let t = median_seconds(5, || {
        for i in 0..batch {
            // SAFETY: the slices hold batch·m·k, batch·k·n and batch·m·n elements, and the
            // row-major strides below stay inside product i's part of each.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr().add(i * m * k),
                    k as isize,
                    1,
                    b.as_ptr().add(i * k * n),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr().add(i * m * n),
                    n as isize,
                    1,
                );
            }
        }
    });
    2.0 * (batch * m * k * n) as f64 / t / 1e9
}

/// GFLOP/s of kiln's matmul with `variant` on `batch` products of m×k·k×n.
fn kiln_gflops(
    ctx: &Context,
    variant: MatmulVariant,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
) -> Result<f64> {
    let shape = |r: usize, c: usize| {
        if batch > 1 {
            vec![batch, r, c]
        } else {
            vec![r, c]
        }
    };
    let a = Tensor::from_f32(ctx, &shape(m, k), &vec![0.5; batch * m * k])?;
    let b = Tensor::from_f32(ctx, &shape(k, n), &vec![0.25; batch * k * n])?;
    let c = Tensor::zeros(ctx, &shape(m, n), DType::F32)?;
    let d = matmul::forward_with(ctx, variant, &a, &b, None, &c, MatmulOptions::default())?;
    let t = gpu_seconds(ctx, &d)?;
    Ok(2.0 * (batch * m * k * n) as f64 / t / 1e9)
}

/// Runs the matmul cases (2048 skipped when `quick`).
pub fn run(ctx: &Context, quick: bool) -> Result<Vec<Figure>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // matrixmultiply reads this once, at its first threaded call; its default counts physical
    // cores only, which undercounts on VMs that expose hyperthreads as cores.
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    let sgemm = format!("matrixmultiply sgemm, {threads} threads");
    let chosen = matmul::variant(ctx);
    println!("matmul variant chosen: {}", chosen.name());
    let mut figures = Vec::new();
    let mut cases: Vec<(usize, usize, usize, usize)> = [128, 256, 512, 1024, 2048]
        .iter()
        .map(|&s| (1, s, s, s))
        .collect();
    if quick {
        cases.retain(|c| c.1 < 2048);
    }
    cases.extend([(8, 256, 64, 256), (8, 256, 256, 64)]);
    let mut sgemm_1024 = None;
    for (batch, m, k, n) in cases {
        let kiln = kiln_gflops(ctx, chosen, batch, m, k, n)?;
        let base = sgemm_gflops(batch, m, k, n);
        if (batch, m) == (1, 1024) {
            sgemm_1024 = Some(base);
        }
        let shape = if batch > 1 {
            format!("[{batch},{m},{k}]x[{batch},{k},{n}]")
        } else {
            format!("{m}x{k}x{n}")
        };
        let f = Figure {
            name: format!("matmul ({})", chosen.name()),
            shape,
            kiln,
            unit: "GFLOP/s",
            baseline: Some(base),
            baseline_name: sgemm.clone(),
            higher_is_better: true,
        };
        println!("{}", f.line());
        figures.push(f);
    }
    for variant in MatmulVariant::ALL {
        let f = Figure {
            name: format!("matmul_{}", variant.name()),
            shape: "1024x1024x1024".into(),
            kiln: kiln_gflops(ctx, variant, 1, 1024, 1024, 1024)?,
            unit: "GFLOP/s",
            baseline: sgemm_1024,
            baseline_name: sgemm.clone(),
            higher_is_better: true,
        };
        println!("{}", f.line());
        figures.push(f);
    }
    Ok(figures)
}
