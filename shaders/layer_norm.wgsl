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
