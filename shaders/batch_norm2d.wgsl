// batch_norm2d.wgsl: per-channel batch normalisation of x [N, C, H, W], and its backward.
// Per channel c, over its M = N·H·W elements (j runs over them):
// forward (train): mean[c] = (1/M) sum_j x,  var[c] = (1/M) sum_j (x - mean)²  (biased),
//           rstd[c] = 1 / sqrt(var + eps),  xhat = (x - mean)·rstd,  y = xhat·gamma[c] + beta[c];
//           running_mean = (1 - momentum)·running_mean + momentum·mean,
//           running_var  = (1 - momentum)·running_var  + momentum·var·M/(M - 1)  (unbiased, as
//           PyTorch; M = 1 uses M/1, i.e. adds 0, where PyTorch refuses the batch).
// forward (eval): the same y from running_mean and rstd = 1/sqrt(running_var + eps), which it
//           also writes to mean and rstd so that one backward serves both modes.
// backward: dbeta[c] = sum_j dy,  dgamma[c] = sum_j dy·xhat,
//           train: dx = gamma·rstd·(dy - dbeta/M - xhat·dgamma/M)   (the statistics depend on x)
//           eval:  dx = gamma·rstd·dy                                (they are constants)
// The variance takes a second pass, (x - mean)², rather than E[x²] - mean², which cancels
// catastrophically when |mean| >> std. M = 1 gives var = 0, rstd = 1/sqrt(eps), xhat = 0: finite.
// Grid, two variants with the same results up to summation order (src/ops/batch_norm2d.rs
// picks one per adapter):
//   *_forward, *_backward: one workgroup per channel; WG lanes stride over the channel's
//     flattened elements and reduce in workgroup memory (a fixed tree: deterministic, no
//     atomics, which WGSL lacks for floats anyway). Coalesced on a GPU, and C workgroups keep
//     every core busy; the stride is over j = n·HW + s, so small H·W does not idle lanes.
//   *_forward_channels, *_backward_channels: one invocation per channel, plain nested loops
//     over n and s, no workgroup memory, no barriers, no division per element: for CPU drivers
//     (lavapipe), where barriers are expensive and loads are scalar anyway. Measured there
//     1.3-2x faster than the workgroup variant at DCGAN's shapes up to M = 16,384; a vec4 form
//     gained ~10% at small H·W but lost 3x at 32×32.
//     Loop limit: llvmpipe ends all loops of an invocation after 65,535 iterations in all,
//     silently (kernels::CPU_LOOP_LIMIT). One invocation here runs N·(HW + 2) + 1 per pass, three
//     passes forward and two backward, so the host (batch_norm2d::variant_for) runs these only
//     where that fits, and the workgroup kernels (about M/64 per lane per pass) elsewhere.
//   batch_norm2d_forward_eval: one invocation per element (no reduction).
// WG = 64: a multiple of common subgroup widths, a quarter of the 256-invocation limit.
// CH_WG = 8: lavapipe's SIMD width; small so that a few dozen channels still make several
// workgroups for its threads.
// Workgroup memory is written before it is read, so zero-initialisation is off.
// Bindings (group 0):
//   forward, forward_channels: 0 params, 1 x, 2 gamma, 3 beta, 4 running_mean, 5 running_var
//                              (both read_write: updated in place), 6 y, 7 mean, 8 rstd
//   forward_eval:              0 params, 1 x, 2 gamma, 3 beta, 4 rmean_in, 5 rvar_in, 6 y,
//                              7 mean, 8 rstd
//   backward, backward_channels: 0 params, 1 x, 2 gamma, 3 mean_in, 4 rstd_in, 5 dy, 6 dx,
//                              7 dgamma, 8 dbeta
//   (the same buffers under other names: auto layout needs each entry's bindings consecutive)

struct Params {
    n: u32,
    c: u32,
    // H·W.
    hw: u32,
    eps: f32,
    momentum: f32,
    // backward: 1 differentiates through the batch statistics (train), 0 treats them as
    // constants (eval).
    train: u32,
    _pad0: u32,
    _pad1: u32,
}

const WG: u32 = 64u;
const CH_WG: u32 = 8u;
const EVAL_WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> rstd: array<f32>;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

// Address of element j = n·HW + s of channel ch.
fn at(j: u32, ch: u32) -> u32 {
    let b = j / params.hw;
    return (b * params.c + ch) * params.hw + (j - b * params.hw);
}

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

// Writes the statistics and updates the running ones; one invocation per channel calls it.
fn finish_stats(ch: u32, mu: f32, var_b: f32, r: f32) {
    let m = params.n * params.hw;
    let unbiased = var_b * f32(m) / f32(max(m, 2u) - 1u);
    let k = params.momentum;
    mean[ch] = mu;
    rstd[ch] = r;
    running_mean[ch] = (1.0 - k) * running_mean[ch] + k * mu;
    running_var[ch] = (1.0 - k) * running_var[ch] + k * unbiased;
}

@compute @workgroup_size(WG)
fn batch_norm2d_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let ch = flat_group(wid, num);
    // Uniform per workgroup, so the early return keeps barriers in uniform control flow.
    if ch >= params.c {
        return;
    }
    let m = params.n * params.hw;
    var acc = 0.0;
    for (var j = lid; j < m; j += WG) {
        acc += x[at(j, ch)];
    }
    red_a[lid] = acc;
    let mu = reduce_a(lid) / f32(m);
    acc = 0.0;
    for (var j = lid; j < m; j += WG) {
        let d = x[at(j, ch)] - mu;
        acc += d * d;
    }
    red_a[lid] = acc;
    let var_b = reduce_a(lid) / f32(m);
    let r = 1.0 / sqrt(var_b + params.eps);
    let scale = gamma[ch] * r;
    let shift = beta[ch];
    for (var j = lid; j < m; j += WG) {
        let i = at(j, ch);
        y[i] = (x[i] - mu) * scale + shift;
    }
    if lid == 0u {
        finish_stats(ch, mu, var_b, r);
    }
}

@compute @workgroup_size(CH_WG)
fn batch_norm2d_forward_channels(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let ch = flat_group(wid, num) * CH_WG + lid;
    if ch >= params.c {
        return;
    }
    let stride = params.c * params.hw;
    let end = params.n * stride;
    let m = params.n * params.hw;
    var acc = 0.0;
    for (var base = ch * params.hw; base < end; base += stride) {
        for (var s = 0u; s < params.hw; s++) {
            acc += x[base + s];
        }
    }
    let mu = acc / f32(m);
    acc = 0.0;
    for (var base = ch * params.hw; base < end; base += stride) {
        for (var s = 0u; s < params.hw; s++) {
            let d = x[base + s] - mu;
            acc += d * d;
        }
    }
    let var_b = acc / f32(m);
    let r = 1.0 / sqrt(var_b + params.eps);
    let scale = gamma[ch] * r;
    let shift = beta[ch];
    for (var base = ch * params.hw; base < end; base += stride) {
        for (var s = 0u; s < params.hw; s++) {
            y[base + s] = (x[base + s] - mu) * scale + shift;
        }
    }
    finish_stats(ch, mu, var_b, r);
}

@group(0) @binding(4) var<storage, read> rmean_in: array<f32>;
@group(0) @binding(5) var<storage, read> rvar_in: array<f32>;

@compute @workgroup_size(EVAL_WG)
fn batch_norm2d_forward_eval(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * EVAL_WG + lid;
    let total = params.n * params.c * params.hw;
    if i >= total {
        return;
    }
    let ch = (i / params.hw) % params.c;
    let r = 1.0 / sqrt(rvar_in[ch] + params.eps);
    y[i] = (x[i] - rmean_in[ch]) * (gamma[ch] * r) + beta[ch];
    // total >= C, so the first C invocations cover every channel.
    if i < params.c {
        mean[i] = rmean_in[i];
        rstd[i] = 1.0 / sqrt(rvar_in[i] + params.eps);
    }
}

@group(0) @binding(3) var<storage, read> mean_in: array<f32>;
@group(0) @binding(4) var<storage, read> rstd_in: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(WG)
fn batch_norm2d_backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let ch = flat_group(wid, num);
    if ch >= params.c {
        return;
    }
    let m = params.n * params.hw;
    let mu = mean_in[ch];
    let r = rstd_in[ch];
    var sum_dy = 0.0;
    var sum_dyx = 0.0;
    for (var j = lid; j < m; j += WG) {
        let i = at(j, ch);
        sum_dy += dy[i];
        sum_dyx += dy[i] * (x[i] - mu) * r;
    }
    red_a[lid] = sum_dy;
    red_b[lid] = sum_dyx;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red_a[lid] += red_a[lid + stride];
            red_b[lid] += red_b[lid + stride];
        }
        workgroupBarrier();
    }
    let db = red_a[0];
    let dg = red_b[0];
    let t = f32(params.train) / f32(m);
    let mean_dy = db * t;
    let mean_dyx = dg * t;
    let k = gamma[ch] * r;
    for (var j = lid; j < m; j += WG) {
        let i = at(j, ch);
        dx[i] = k * (dy[i] - mean_dy - (x[i] - mu) * r * mean_dyx);
    }
    if lid == 0u {
        dgamma[ch] = dg;
        dbeta[ch] = db;
    }
}

@compute @workgroup_size(CH_WG)
fn batch_norm2d_backward_channels(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let ch = flat_group(wid, num) * CH_WG + lid;
    if ch >= params.c {
        return;
    }
    let stride = params.c * params.hw;
    let end = params.n * stride;
    let m = params.n * params.hw;
    let mu = mean_in[ch];
    let r = rstd_in[ch];
    var db = 0.0;
    var dg = 0.0;
    for (var base = ch * params.hw; base < end; base += stride) {
        for (var s = 0u; s < params.hw; s++) {
            let i = base + s;
            db += dy[i];
            dg += dy[i] * (x[i] - mu) * r;
        }
    }
    let t = f32(params.train) / f32(m);
    let mean_dy = db * t;
    let mean_dyx = dg * t;
    let k = gamma[ch] * r;
    for (var base = ch * params.hw; base < end; base += stride) {
        for (var s = 0u; s < params.hw; s++) {
            let i = base + s;
            dx[i] = k * (dy[i] - mean_dy - (x[i] - mu) * r * mean_dyx);
        }
    }
    dgamma[ch] = dg;
    dbeta[ch] = db;
}
