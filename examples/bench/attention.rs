//! Attention cases of the benchmark: the fused kernels against the unfused composition of
//! kiln's own matmul and softmax ops, in time and in intermediate memory.
//!
//! Unfused forward: `S = (scale q) kᵀ`, `P = softmax(S)`, `O = P v`; backward `dP = dO vᵀ`,
//! `dS = softmax_backward(P, dP)`, `dq = dS (scale k)`, `dk = dSᵀ (scale q)`, `dv = Pᵀ dO`.
//! The scale is folded into copies of q and k made once on the host, so the composition pays
//! nothing for it.

use kiln::kernels::{run as submit, Dispatch};
use kiln::ops::attention::{self, AttentionOptions};
use kiln::ops::matmul::{self, MatmulOptions};
use kiln::ops::softmax;
use kiln::{Context, DType, Result, Tensor};

use crate::figure::{median_seconds, print_by_kernel, Figure};

const B: usize = 8;
const H: usize = 8;
const T: usize = 256;
// Few runs: on lavapipe one fused forward+backward takes seconds.
const RUNS: usize = 3;

fn random(ctx: &Context, shape: &[usize], seed: u64) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let mut state = seed;
    let data: Vec<f32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_f32(ctx, shape, &data)
}

/// `(kernel label, median seconds)` of each of `dispatches` submitted and waited for alone.
fn profile(ctx: &Context, dispatches: &[Dispatch]) -> Result<Vec<(String, f64)>> {
    dispatches
        .iter()
        .map(|d| Ok((d.label().to_string(), time(ctx, std::slice::from_ref(d))?)))
        .collect()
}

/// Median seconds of recording, submitting and waiting for `dispatches`.
fn time(ctx: &Context, dispatches: &[Dispatch]) -> Result<f64> {
    let mut err = None;
    let t = median_seconds(RUNS, || {
        let r = submit(ctx, dispatches).and_then(|_| ctx.wait(None));
        if let Err(e) = r {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(t),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs the attention cases: head size 64 (the figures named `attention_*`) and 128 (the
/// same names with `_d128`, the texture kernels' wider tile where they run). With `profile`,
/// also prints each case's fused and unfused forward+backward by kernel.
pub fn run(ctx: &Context, profile: bool) -> Result<Vec<Figure>> {
    let mut figures = case(ctx, 64, "", profile)?;
    figures.extend(case(ctx, 128, "_d128", profile)?);
    Ok(figures)
}

fn case(ctx: &Context, d: usize, suffix: &str, profile_each: bool) -> Result<Vec<Figure>> {
    // A fresh context on the same adapter, so that its packed-operand textures are this case's
    // alone: the fused kernels pack into the attention slots, the composition's matmuls into
    // the matmul ones, and both count as memory.
    let fresh = Context::with_options(ctx.options().clone())?;
    println!("attention: a fresh context on {}", fresh.adapter_summary());
    let ctx = &fresh;
    let shape4 = [B, H, T, d];
    let shape3 = [B * H, T, d];
    let scale = 1.0 / (d as f32).sqrt();
    let q = random(ctx, &shape4, 1)?;
    let k = random(ctx, &shape4, 2)?;
    let v = random(ctx, &shape4, 3)?;
    let dout = random(ctx, &shape4, 4)?;
    let zeros = |s: &[usize]| Tensor::zeros(ctx, s, DType::F32);

    // Fused.
    let opts = AttentionOptions::default();
    let o = zeros(&shape4)?;
    let lse = zeros(&[B, H, T])?;
    let dims = attention::shape(q.shape(), k.shape(), v.shape(), None)?;
    let stats = zeros(&attention::stats_shape(dims))?;
    let (dq, dk, dv) = (zeros(&shape4)?, zeros(&shape4)?, zeros(&shape4)?);
    let fused_fwd = attention::forward(ctx, &q, &k, &v, None, opts, &o, &lse)?;
    let mut fused_all = fused_fwd.clone();
    fused_all.extend(attention::backward(
        ctx, &q, &k, &v, None, &o, &lse, &dout, opts, &stats, &dq, &dk, &dv,
    )?);
    let fused_textures = ctx.packed_texture_bytes();

    // Unfused, on [B·H, T, D] views, with the scale folded into host-made copies of q and k.
    let host = |t: &Tensor| t.to_vec_f32(ctx);
    let qs = Tensor::from_f32(
        ctx,
        &shape3,
        &host(&q)?.iter().map(|x| x * scale).collect::<Vec<_>>(),
    )?;
    let ks = Tensor::from_f32(
        ctx,
        &shape3,
        &host(&k)?.iter().map(|x| x * scale).collect::<Vec<_>>(),
    )?;
    let (k3, v3, do3) = (
        k.reshape(&shape3)?,
        v.reshape(&shape3)?,
        dout.reshape(&shape3)?,
    );
    let scores_shape = [B * H, T, T];
    let (s, p, dp, ds) = (
        zeros(&scores_shape)?,
        zeros(&scores_shape)?,
        zeros(&scores_shape)?,
        zeros(&scores_shape)?,
    );
    let o3 = zeros(&shape3)?;
    let (dq3, dk3, dv3) = (zeros(&shape3)?, zeros(&shape3)?, zeros(&shape3)?);
    let nn = MatmulOptions::default();
    let nt = MatmulOptions {
        trans_a: false,
        trans_b: true,
    };
    let tn = MatmulOptions {
        trans_a: true,
        trans_b: false,
    };
    let unfused_fwd = [
        matmul::forward(ctx, &qs, &k3, None, &s, nt)?,
        vec![softmax::forward(ctx, &s, &p)?],
        matmul::forward(ctx, &p, &v3, None, &o3, nn)?,
    ]
    .concat();
    let unfused_all = [
        unfused_fwd.clone(),
        matmul::forward(ctx, &do3, &v3, None, &dp, nt)?,
        vec![softmax::backward(ctx, &p, &dp, &ds)?],
        matmul::forward(ctx, &ds, &ks, None, &dq3, nn)?,
        matmul::forward(ctx, &ds, &qs, None, &dk3, tn)?,
        matmul::forward(ctx, &p, &do3, None, &dv3, tn)?,
    ]
    .concat();

    let unfused_textures = ctx.packed_texture_bytes() - fused_textures;
    let shape = format!("B{B} H{H} T{T} D{d}");
    let ms = 1e3;
    let fwd = time(ctx, &fused_fwd)? * ms;
    let fwd_base = time(ctx, &unfused_fwd)? * ms;
    let all = time(ctx, &fused_all)? * ms;
    let all_base = time(ctx, &unfused_all)? * ms;
    if profile_each {
        print_by_kernel(
            &format!("fused fwd+bwd {shape}"),
            &profile(ctx, &fused_all)?,
            16,
        );
        print_by_kernel(
            &format!("unfused fwd+bwd {shape}"),
            &profile(ctx, &unfused_all)?,
            16,
        );
    }
    // Memory beyond inputs and input gradients: fused keeps O, lse and the (lse, D) pairs;
    // the composition keeps O and the four Tq×Tk matrices S, P, dP, dS; each adds the
    // textures its kernels pack operands into (none unless a texture variant runs).
    let fused_bytes = o.byte_size() + lse.byte_size() + stats.byte_size() + fused_textures;
    let unfused_bytes = o3.byte_size()
        + s.byte_size()
        + p.byte_size()
        + dp.byte_size()
        + ds.byte_size()
        + unfused_textures;
    let fig = |name: &str, kiln: f64, base: f64, unit: &'static str, baseline_name: &str| Figure {
        name: format!("{name}{suffix}"),
        shape: shape.clone(),
        kiln,
        unit,
        baseline: Some(base),
        baseline_name: baseline_name.into(),
        higher_is_better: false,
    };
    Ok(vec![
        fig(
            "attention_fwd",
            fwd,
            fwd_base,
            "ms",
            "unfused matmul+softmax+matmul",
        ),
        fig(
            "attention_fwd_bwd",
            all,
            all_base,
            "ms",
            "unfused matmuls+softmax(+backward)",
        ),
        fig(
            "attention_memory",
            mib(fused_bytes),
            mib(unfused_bytes),
            "MiB",
            "unfused O+S+P+dP+dS (+ packed textures, both)",
        ),
    ])
}
