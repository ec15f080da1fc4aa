//! Per-adapter choice of kernel variants, by measurement (Burn's named tunables, in small).
//!
//! The first matmul on a context times each fast variant once on a mid-sized problem and keeps
//! the quicker one. The choice is remembered per adapter (name, backend, driver) for the
//! process, so further contexts on the same adapter skip the measurement, and
//! [`ENV_MATMUL`] overrides it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::context::Context;
use crate::error::Result;
use crate::kernels::run;
use crate::ops::matmul::{forward_with, MatmulOptions};
use crate::tensor::Tensor;

/// Which matmul kernel a context uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulVariant {
    /// One output per invocation, no tiling: the always-correct fallback.
    Naive,
    /// Register tiles, no workgroup memory: the fast one on CPU drivers (lavapipe).
    Register,
    /// Tiles staged through workgroup memory: the classic discrete-GPU kernel.
    Workgroup,
    /// Register tiles reading operands packed into textures: on lavapipe a texel fetch is a
    /// vector gather while a storage-buffer load is a per-lane loop (`texture.wgsl`).
    Texture,
}

impl MatmulVariant {
    /// Every variant, fallback first.
    pub const ALL: [MatmulVariant; 4] = [
        MatmulVariant::Naive,
        MatmulVariant::Register,
        MatmulVariant::Workgroup,
        MatmulVariant::Texture,
    ];

    /// The lower-case name used by [`ENV_MATMUL`] and in reports.
    pub fn name(self) -> &'static str {
        match self {
            MatmulVariant::Naive => "naive",
            MatmulVariant::Register => "register",
            MatmulVariant::Workgroup => "workgroup",
            MatmulVariant::Texture => "texture",
        }
    }
}

/// Environment variable forcing the matmul variant: `naive`, `register`, `workgroup` or
/// `texture`.
pub const ENV_MATMUL: &str = "KILN_MATMUL";

/// Parses a value of [`ENV_MATMUL`] (case-insensitive); `None` for anything else.
pub fn parse_matmul_variant(value: &str) -> Option<MatmulVariant> {
    let v = value.trim().to_ascii_lowercase();
    MatmulVariant::ALL.into_iter().find(|m| m.name() == v)
}

/// Choices already measured in this process, per adapter.
fn measured() -> &'static Mutex<HashMap<String, MatmulVariant>> {
    static MEASURED: OnceLock<Mutex<HashMap<String, MatmulVariant>>> = OnceLock::new();
    MEASURED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The matmul variant for `ctx`: [`ENV_MATMUL`] if set to a known name, else the process-wide
/// measurement for this adapter, made now if there is none yet. A failed measurement falls back
/// to [`MatmulVariant::Register`] (and that to naive if even it fails) instead of erroring, since
/// the choice only affects speed.
pub fn choose_matmul(ctx: &Context) -> MatmulVariant {
    if let Some(v) = std::env::var(ENV_MATMUL)
        .ok()
        .and_then(|s| parse_matmul_variant(&s))
    {
        return v;
    }
    let info = ctx.adapter_info();
    let key = format!("{}|{:?}|{}", info.name, info.backend, info.driver);
    let mut cache = measured().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(&key) {
        return *v;
    }
    let times: Vec<(MatmulVariant, f64)> = [
        MatmulVariant::Register,
        MatmulVariant::Workgroup,
        MatmulVariant::Texture,
    ]
    .into_iter()
    .filter_map(|v| time_matmul(ctx, v).ok().map(|t| (v, t)))
    .collect();
    let choice = match times.iter().min_by(|x, y| x.1.total_cmp(&y.1)) {
        Some((v, _)) => *v,
        None => MatmulVariant::Naive,
    };
    cache.insert(key, choice);
    choice
}

/// Seconds for one 128x256x256 matmul with `variant`: the faster of two runs after a warm-up
/// that also compiles the pipeline. About 0.3 s in all on lavapipe, milliseconds on a GPU.
fn time_matmul(ctx: &Context, variant: MatmulVariant) -> Result<f64> {
    let (m, k, n) = (128, 256, 256);
    let a = Tensor::from_f32(ctx, &[m, k], &vec![0.5; m * k])?;
    let b = Tensor::from_f32(ctx, &[k, n], &vec![0.25; k * n])?;
    let c = Tensor::zeros(ctx, &[m, n], crate::tensor::DType::F32)?;
    let d = forward_with(ctx, variant, &a, &b, None, &c, MatmulOptions::default())?;
    let mut best = f64::INFINITY;
    for rep in 0..3 {
        let start = Instant::now();
        run(ctx, &d)?;
        ctx.wait(None)?;
        if rep > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    Ok(best)
}
