//! Softmax case of the benchmark: each variant beside a plain Rust softmax in the same process.

use kiln::ops::softmax::{self, SoftmaxVariant};
use kiln::{Context, DType, Result, Tensor};

use crate::figure::{median_seconds, Figure};
use crate::matmul::gpu_seconds;

/// Softmax over the last axis of a [64, 512, 512] tensor, in GB/s of the minimum traffic (read x
/// once, write y once: 2·4·N bytes), beside a plain single-threaded Rust softmax.
pub fn run(ctx: &Context) -> Result<Vec<Figure>> {
    let (rows, cols) = (64 * 512, 512);
    let n = rows * cols;
    let data: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * 0.01).collect();
    let x = Tensor::from_f32(ctx, &[64, 512, 512], &data)?;
    let y = Tensor::zeros(ctx, &[64, 512, 512], DType::F32)?;
    let mut out = vec![0.0f32; n];
    let t_cpu = median_seconds(3, || {
        for (xr, yr) in data.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
            let m = xr.iter().fold(f32::MIN, |a, &b| a.max(b));
            let mut s = 0.0;
            for (yv, &xv) in yr.iter_mut().zip(xr) {
                *yv = (xv - m).exp();
                s += *yv;
            }
            let inv = 1.0 / s;
            yr.iter_mut().for_each(|v| *v *= inv);
        }
    });
    let bytes = 2.0 * 4.0 * n as f64;
    let chosen = softmax::variant(ctx);
    let mut figures = Vec::new();
    for variant in [SoftmaxVariant::Rows, SoftmaxVariant::Workgroup] {
        let d = softmax::forward_with(ctx, variant, &x, &y)?;
        let t = gpu_seconds(ctx, &[d])?;
        let mark = if variant == chosen { " (chosen)" } else { "" };
        let f = Figure {
            name: format!("softmax {variant:?}{mark}"),
            shape: "64x512x512".into(),
            kiln: bytes / t / 1e9,
            unit: "GB/s",
            baseline: Some(bytes / t_cpu / 1e9),
            baseline_name: format!("plain Rust loop, 1 thread; kiln {:.0} ms", t * 1e3),
            higher_is_better: true,
        };
        println!("{}", f.line());
        figures.push(f);
    }
    Ok(figures)
}
