//! Kernel tests: every op against a plain f64 CPU reference on awkward shapes, and every
//! backward against central finite differences of that reference. One binary, one module per
//! op, one shared context (linking is the slow part on two cores).

mod argmax;
mod attention;
mod batch_norm2d;
mod bce;
mod clip;
mod context;
mod conv2d;
mod conv_transpose2d;
mod cross_entropy;
mod dropout;
mod elementwise;
mod embedding;
mod kmeans;
mod kv_cache;
mod layer_norm;
mod matmul;
mod optim;
mod reduce;
mod shaders;
mod softmax;
mod to_texture;
mod topk;
mod transpose;

use std::sync::OnceLock;

use kiln::{Context, Tensor};

/// The context every test shares. Tests need an adapter; lavapipe is enough.
pub fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| match Context::new() {
        Ok(c) => c,
        Err(e) => panic!("the kernel tests need a wgpu adapter: {e}"),
    })
}

/// Awkward sizes: 1, primes, one past a power of two, so no tile or block divides them.
pub const AWKWARD: &[usize] = &[1, 3, 7, 33, 65, 129];

/// SplitMix64: a tiny seeded generator, so every test is reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// `n` values uniform in [-1, 1), as f32.
    pub fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.uniform(-1.0, 1.0) as f32).collect()
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// f32 → f64 for references.
pub fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Uploads f32 data.
pub fn upload(shape: &[usize], data: &[f32]) -> Tensor {
    match Tensor::from_f32(ctx(), shape, data) {
        Ok(t) => t,
        Err(e) => panic!("upload {shape:?}: {e}"),
    }
}

/// Uploads f32 data into a buffer as a host might make it: STORAGE without COPY_SRC, so the
/// queue cannot copy out of it (packs then take their kernels).
pub fn upload_storage_only(shape: &[usize], data: &[f32]) -> Tensor {
    let buffer = ctx().device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("storage-only host buffer"),
        size: (data.len() * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    ctx()
        .queue()
        .write_buffer(&buffer, 0, bytemuck::cast_slice(data));
    match Tensor::from_buffer(
        ctx(),
        std::sync::Arc::new(buffer),
        0,
        shape,
        kiln::DType::F32,
    ) {
        Ok(t) => t,
        Err(e) => panic!("upload {shape:?} storage-only: {e}"),
    }
}

/// Uploads u32 data (ids, targets, masks).
pub fn upload_u32(shape: &[usize], data: &[u32]) -> Tensor {
    match Tensor::from_u32(ctx(), shape, data) {
        Ok(t) => t,
        Err(e) => panic!("upload {shape:?}: {e}"),
    }
}

/// Downloads f32 data.
pub fn download(t: &Tensor) -> Vec<f32> {
    match t.to_vec_f32(ctx()) {
        Ok(v) => v,
        Err(e) => panic!("download {:?}: {e}", t.shape()),
    }
}

// `!(err <= allowed)` rather than `err > allowed`, in both comparisons below: a NaN must fail.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
/// Passes when every element satisfies |got - want| <= atol + rtol * |want|. On failure, reports
/// the worst element, how many failed and the first few pairs.
pub fn assert_close(got: &[f32], want: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: length {} vs reference {}",
        got.len(),
        want.len()
    );
    let mut failures = Vec::new();
    let mut worst = (0usize, 0.0f64);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        let allowed = atol + rtol * w.abs();
        let excess = if g.is_finite() {
            err / allowed
        } else {
            f64::INFINITY
        };
        if excess > worst.1 {
            worst = (i, excess);
        }
        if !(err <= allowed) {
            failures.push(i);
        }
    }
    if !failures.is_empty() {
        let first: Vec<String> = failures
            .iter()
            .take(6)
            .map(|&i| format!("[{i}] got {} want {}", got[i], want[i]))
            .collect();
        panic!(
            "{what}: {} of {} elements outside atol {atol:e} + rtol {rtol:e}; worst [{}] got {} want {} ({:.1}x the tolerance); first: {}",
            failures.len(),
            got.len(),
            worst.0,
            got[worst.0],
            want[worst.0],
            worst.1,
            first.join(", ")
        );
    }
}

#[allow(clippy::neg_cmp_op_on_partial_ord)]
/// Same, with a tolerance per element (for bounds that scale with each element's own terms).
pub fn assert_close_each(got: &[f32], want: &[f64], tol: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length mismatch");
    let bad: Vec<usize> = (0..got.len())
        .filter(|&i| !((got[i] as f64 - want[i]).abs() <= tol[i]))
        .collect();
    if let Some(&i) = bad.first() {
        panic!(
            "{what}: {} of {} elements out of tolerance; first [{i}] got {} want {} tol {:e}",
            bad.len(),
            got.len(),
            got[i],
            want[i],
            tol[i]
        );
    }
}

/// Central finite-difference gradient of a scalar function of `x` (f64 reference), h = 1e-6:
/// truncation error O(h²) and rounding error O(ε/h) are both near 1e-10, far below f32's
/// resolution, so the result is the exact gradient for the purpose of checking an f32 kernel.
pub fn numeric_grad(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let orig = xp[i];
            xp[i] = orig + h;
            let up = f(&xp);
            xp[i] = orig - h;
            let down = f(&xp);
            xp[i] = orig;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// ⟨a, b⟩ in f64.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
