//! Batch-norm case of the benchmark: forward and backward (train mode) of each variant at
//! DCGAN's generator shapes (batch 64), in milliseconds.

use kiln::ops::batch_norm2d::{self as bn, BatchNormOptions, BatchNormVariant};
use kiln::{Context, DType, Result, Tensor};

use crate::figure::Figure;
use crate::matmul::gpu_seconds;

/// Times forward + backward of both variants on DCGAN's four batch-norm shapes.
pub fn run(ctx: &Context) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for shape in [
        [64, 512, 4, 4],
        [64, 256, 8, 8],
        [64, 128, 16, 16],
        [64, 64, 32, 32],
    ] {
        let c = shape[1];
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * 0.01).collect();
        let x = Tensor::from_f32(ctx, &shape, &data)?;
        let dy = Tensor::from_f32(ctx, &shape, &data)?;
        let per = || Tensor::zeros(ctx, &[c], DType::F32);
        let (gamma, beta, rm, rv, mean, rstd) = (per()?, per()?, per()?, per()?, per()?, per()?);
        let (dgamma, dbeta) = (per()?, per()?);
        let y = Tensor::zeros(ctx, &shape, DType::F32)?;
        let dx = Tensor::zeros(ctx, &shape, DType::F32)?;
        let chosen = bn::variant_for(ctx, &shape);
        for variant in [BatchNormVariant::Channels, BatchNormVariant::Workgroup] {
            let opts = BatchNormOptions::default();
            let prepared = bn::forward_with(
                ctx, variant, &x, &gamma, &beta, &rm, &rv, opts, &y, &mean, &rstd,
            )
            .and_then(|f| {
                let b = bn::backward_with(
                    ctx, variant, &x, &gamma, &mean, &rstd, &dy, true, &dx, &dgamma, &dbeta,
                )?;
                Ok((f, b))
            });
            // A kernel whose loops would be cut short on this driver is refused: not timed.
            let (f, b) = match prepared {
                Ok(fb) => fb,
                Err(kiln::Error::Unsupported(why)) => {
                    println!("batch_norm2d {variant:?} {shape:?}: not run ({why})");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let t_f = gpu_seconds(ctx, std::slice::from_ref(&f))?;
            let t_fb = gpu_seconds(ctx, &[f, b])?;
            let mark = if variant == chosen { " (chosen)" } else { "" };
            let fig = Figure {
                name: format!("batch_norm2d {variant:?}{mark}"),
                shape: format!("{}x{}x{}x{}", shape[0], shape[1], shape[2], shape[3]),
                kiln: t_fb * 1e3,
                unit: "ms",
                baseline: None,
                baseline_name: format!("fwd+bwd; forward alone {:.2} ms", t_f * 1e3),
                higher_is_better: false,
            };
            println!("{} ({})", fig.line(), fig.baseline_name);
            figures.push(fig);
        }
    }
    Ok(figures)
}
