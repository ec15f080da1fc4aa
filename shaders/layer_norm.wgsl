// layer_norm.wgsl: affine layer norm over the last axis C of [R, C], and its backward.
// forward:  mean[r] = (1/C) sum_c x[r,c],  var[r] = (1/C) sum_c (x[r,c] - mean[r])²,
//           rstd[r] = 1 / sqrt(var[r] + eps),  xhat = (x - mean) * rstd,
//           y[r,c] = xhat[r,c] * gamma[c] + beta[c]        (mean and rstd saved for backward)
// backward: g = dy * gamma,
//           dx[r,c] = rstd[r] * (g[r,c] - (1/C) sum_c' g[r,c'] - xhat[r,c] * (1/C) sum_c' g[r,c'] xhat[r,c'])
//           dgamma[c] = sum_r dy[r,c] * xhat[r,c],   dbeta[c] = sum_r dy[r,c]
// The variance takes a second pass over the row, (x - mean)², rather than E[x²] - mean², which
// cancels catastrophically when |mean| >> std; the row is in cache after the first pass.
// A constant row has var = 0, rstd = 1/sqrt(eps) and xhat = 0 exactly: y = beta, finite.
// Grid: layer_norm_forward and layer_norm_backward_x: one workgroup per row (folded 2-D grid),
// WG invocations stride across the row and reduce in workgroup memory.
// layer_norm_backward_gamma_beta: one invocation per (slice, column), looping over the slice's
// `chunk` rows; lanes own neighbouring columns, so each step reads WG contiguous floats. WGSL
// has no float atomics, and this needs none: with one slice it writes dgamma and dbeta [C]
// directly; with several (many rows, few columns, where one invocation per column would idle
// most of a GPU) it writes partials [slices, C], which reduce.wgsl then sums over slices.
// WG = 64: a multiple of common subgroup widths (8 on lavapipe, 32/64 on GPUs), a quarter of
// the 256-invocation limit, enough lanes to stream a 768-wide row in 12 steps.
// Workgroup memory is written before it is read, so zero-initialisation is off.
// Bindings (group 0):
//   forward:           0 params, 1 x, 2 gamma, 3 beta, 4 y, 5 mean, 6 rstd
//   backward_x:        0 params, 1 x, 2 gamma, 3 mean_in, 4 rstd_in, 5 dy, 6 dx
//   backward_gamma_beta: 0 params, 1 x, 2 mean_gb, 3 rstd_gb, 4 dy_gb, 5 dgamma, 6 dbeta (or partials)
//   (the same buffers under other names: auto layout needs each entry's bindings consecutive)

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    // backward_gamma_beta: rows per slice (rows when there is one slice).
    chunk: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

// Sums red_a over the workgroup; every invocation gets the total. Uniform control flow only.
fn reduce_a(lid: u32) -> f32 {
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red_a[lid] += red_a[lid + stride];
        }
        workgroupBarrier();
    }
    let total = red_a[0];
    // Keeps a following write to red_a from racing with this read.
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn layer_norm_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    // Uniform per workgroup, so the early return keeps barriers in uniform control flow.
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    let inv_c = 1.0 / f32(params.cols);
    var acc = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        acc += x[base + c];
    }
    red_a[lid] = acc;
    let m = reduce_a(lid) * inv_c;
    acc = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        let d = x[base + c] - m;
        acc += d * d;
    }
    red_a[lid] = acc;
    let r = 1.0 / sqrt(reduce_a(lid) * inv_c + params.eps);
    for (var c = lid; c < params.cols; c += WG) {
        y[base + c] = (x[base + c] - m) * r * gamma[c] + beta[c];
    }
    if lid == 0u {
        mean[row] = m;
        rstd[row] = r;
    }
}

@group(0) @binding(3) var<storage, read> mean_in: array<f32>;
@group(0) @binding(4) var<storage, read> rstd_in: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn layer_norm_backward_x(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    let m = mean_in[row];
    let r = rstd_in[row];
    var sum_g = 0.0;
    var sum_gx = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        let g = dy[base + c] * gamma[c];
        sum_g += g;
        sum_gx += g * (x[base + c] - m) * r;
    }
    red_a[lid] = sum_g;
    red_b[lid] = sum_gx;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red_a[lid] += red_a[lid + stride];
            red_b[lid] += red_b[lid + stride];
        }
        workgroupBarrier();
    }
    let inv_c = 1.0 / f32(params.cols);
    let mean_g = red_a[0] * inv_c;
    let mean_gx = red_b[0] * inv_c;
    for (var c = lid; c < params.cols; c += WG) {
        let xhat = (x[base + c] - m) * r;
        dx[base + c] = r * (dy[base + c] * gamma[c] - mean_g - xhat * mean_gx);
    }
}

@group(0) @binding(2) var<storage, read> mean_gb: array<f32>;
@group(0) @binding(3) var<storage, read> rstd_gb: array<f32>;
@group(0) @binding(4) var<storage, read> dy_gb: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(WG)
fn layer_norm_backward_gamma_beta(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let out = flat_group(wid, num) * WG + lid;
    let slices = (params.rows + params.chunk - 1u) / params.chunk;
    if out >= slices * params.cols {
        return;
    }
    let c = out % params.cols;
    let first = (out / params.cols) * params.chunk;
    let last = min(first + params.chunk, params.rows);
    var acc_g = 0.0;
    var acc_b = 0.0;
    for (var row = first; row < last; row++) {
        let i = row * params.cols + c;
        let g = dy_gb[i];
        acc_g += g * (x[i] - mean_gb[row]) * rstd_gb[row];
        acc_b += g;
    }
    dgamma[out] = acc_g;
    dbeta[out] = acc_b;
}

// ---- Row-per-invocation variant (CPU drivers) ----
// One invocation owns a whole row and loops over C: no workgroup memory, no barriers. On
// lavapipe a barrier suspends and resumes every SIMD group of the workgroup, and the tree
// reductions above take seven per pass; src/ops/layer_norm.rs picks this variant on CPU
// adapters. Grid: ROWS_WG rows per workgroup, folded 2-D grid; bindings as above.
// MEASURED (llvmpipe, Mesa 22.3.6, 2 shared cores; `examples/zz_perf.rs ln`, a scratch bench,
// median of 7, two interleaved rounds), Workgroup -> Rows (the vec4 kernels, then with the row cached in a private array):
//   [1856, 64]: forward 41-43 -> 1.5-2.8 ms, backward_x 38-40 -> 1.6-4.3 ms
//   [704, 64]:  forward 14-15 -> 1.1 ms,     backward_x 14 -> 1.2 ms
//   [2048, 128]: forward 52 -> 9.8-10 ms,    backward_x 51-52 -> 8.6-10 ms

const ROWS_WG: u32 = 64u;

@compute @workgroup_size(ROWS_WG)
fn layer_norm_forward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    let inv_c = 1.0 / f32(params.cols);
    var acc = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        acc += x[base + c];
    }
    let m = acc * inv_c;
    acc = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        let d = x[base + c] - m;
        acc += d * d;
    }
    let r = 1.0 / sqrt(acc * inv_c + params.eps);
    for (var c = 0u; c < params.cols; c++) {
        y[base + c] = (x[base + c] - m) * r * gamma[c] + beta[c];
    }
    mean[row] = m;
    rstd[row] = r;
}

@compute @workgroup_size(ROWS_WG)
fn layer_norm_backward_x_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    let m = mean_in[row];
    let r = rstd_in[row];
    var sum_g = 0.0;
    var sum_gx = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        let g = dy[base + c] * gamma[c];
        sum_g += g;
        sum_gx += g * (x[base + c] - m) * r;
    }
    let inv_c = 1.0 / f32(params.cols);
    let mean_g = sum_g * inv_c;
    let mean_gx = sum_gx * inv_c;
    for (var c = 0u; c < params.cols; c++) {
        let xhat = (x[base + c] - m) * r;
        dx[base + c] = r * (dy[base + c] * gamma[c] - mean_g - xhat * mean_gx);
    }
}

// ---- Row-per-invocation variant, vec4 accesses (C a multiple of 4) ----
// lavapipe scalarises every storage access per lane, so a 16-byte access costs about what a
// 4-byte one does: vec4 cuts the accesses fourfold. Each pass reads the row again rather than
// keeping it in a private array: llvmpipe puts such arrays in memory, and the cached kernels
// measured slower (the 2-layer LM step, C = 128: 355 ms against 334) while costing 2.7 s of LLVM
// at their first dispatch against 0.08.

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gamma4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> beta4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4<f32>>;

fn hsum(v: vec4<f32>) -> f32 {
    return (v.x + v.y) + (v.z + v.w);
}

@compute @workgroup_size(ROWS_WG)
fn layer_norm_forward_rows4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let quads = params.cols / 4u;
    let base = row * quads;
    let inv_c = 1.0 / f32(params.cols);
    var acc = vec4(0.0);
    for (var c = 0u; c < quads; c++) {
        acc += x4[base + c];
    }
    let m = hsum(acc) * inv_c;
    acc = vec4(0.0);
    for (var c = 0u; c < quads; c++) {
        let d = x4[base + c] - vec4(m);
        acc += d * d;
    }
    let r = 1.0 / sqrt(hsum(acc) * inv_c + params.eps);
    for (var c = 0u; c < quads; c++) {
        y4[base + c] = (x4[base + c] - vec4(m)) * r * gamma4[c] + beta4[c];
    }
    mean[row] = m;
    rstd[row] = r;
}

@group(0) @binding(5) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dx4: array<vec4<f32>>;

@compute @workgroup_size(ROWS_WG)
fn layer_norm_backward_x_rows4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let quads = params.cols / 4u;
    let base = row * quads;
    let m = mean_in[row];
    let r = rstd_in[row];
    var sum_g = vec4(0.0);
    var sum_gx = vec4(0.0);
    for (var c = 0u; c < quads; c++) {
        let g = dy4[base + c] * gamma4[c];
        sum_g += g;
        sum_gx += g * (x4[base + c] - vec4(m));
    }
    let inv_c = 1.0 / f32(params.cols);
    let mean_g = hsum(sum_g) * inv_c;
    let mean_gx = hsum(sum_gx) * r * inv_c;
    for (var c = 0u; c < quads; c++) {
        let xhat = (x4[base + c] - vec4(m)) * r;
        dx4[base + c] = r * (dy4[base + c] * gamma4[c] - vec4(mean_g) - xhat * mean_gx);
    }
}

