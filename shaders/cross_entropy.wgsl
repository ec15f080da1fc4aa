// cross_entropy.wgsl: softmax cross-entropy over the last axis with integer targets, an
// ignore_index and label smoothing, its mean over the counted rows, and its backward.
// A row counts when targets[r] != ignore_index and targets[r] < V; other rows give loss 0,
// gradient 0, and are left out of the mean.
// forward:  q[r,j] = (1-eps)·[j = t] + eps/V;  lse[r] = m[r] + log sum_j exp(x[r,j] - m[r])
//           losses[r] = lse[r] - sum_j q[r,j]·x[r,j]
//                     = log s[r] - (1-eps)·(x[r,t] - m[r]) - eps/V·(sum_j x[r,j] - V·m[r])
//           mean = sum_{counted r} losses[r] / count, or 0 when no row counts; count as f32.
// backward: dx[r,j] = (softmax(x[r,:])_j - q[r,j]) · dmean / count for counted rows, else 0.
// Grid: forward and backward, one workgroup per row (folded 2-D grid), invocations stride
// across the row and reduce (max, rescaled sum of exp, plain sum) in workgroup memory; the
// mean is a second stage, one workgroup looping over the rows, so the scalar never leaves
// the GPU.
// WG = 64: a multiple of common subgroup widths (8 on lavapipe, 32/64 on GPUs), a quarter of
// WebGPU's 256-invocation limit; a vocabulary of 50k streams in ~800 steps per invocation.
// Workgroup memory is written before it is read, so zero-initialisation is off.
// Bindings (group 0): forward 0 params, 1 logits, 2 targets, 3 losses;
//                     forward_mean 0 params, 1 targets, 2 losses_in, 3 mean, 4 count;
//                     backward 0 params, 1 logits, 2 targets, 3 count_in, 4 dmean, 5 dlogits.

struct Params {
    rows: u32,
    vocab: u32,
    ignore_index: u32,
    smoothing: f32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;

var<workgroup> red_max: array<f32, WG>;
var<workgroup> red_sum: array<f32, WG>;
var<workgroup> red_x: array<f32, WG>;
var<workgroup> red_cnt: array<u32, WG>;

fn counted(t: u32) -> bool {
    return t != params.ignore_index && t < params.vocab;
}

// Row statistics into red_max[0] (max), red_sum[0] (sum of exp(x - max)) and red_x[0]
// (plain sum of x). Called by the whole workgroup in uniform control flow.
fn row_stats(base: u32, lid: u32) {
    var m = NEG_LARGE;
    var s = 0.0;
    var sx = 0.0;
    for (var c = lid; c < params.vocab; c += WG) {
        let v = logits[base + c];
        let m_new = max(m, v);
        s = s * exp(m - m_new) + exp(v - m_new);
        m = m_new;
        sx += v;
    }
    red_max[lid] = m;
    red_sum[lid] = s;
    red_x[lid] = sx;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            let m_a = red_max[lid];
            let m_b = red_max[lid + stride];
            let m_new = max(m_a, m_b);
            red_sum[lid] = red_sum[lid] * exp(m_a - m_new) + red_sum[lid + stride] * exp(m_b - m_new);
            red_max[lid] = m_new;
            red_x[lid] += red_x[lid + stride];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(WG)
fn cross_entropy_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    // Uniform per workgroup, so the early return keeps barriers in uniform control flow.
    if row >= params.rows {
        return;
    }
    let base = row * params.vocab;
    row_stats(base, lid);
    if lid == 0u {
        let t = targets[row];
        var loss = 0.0;
        if counted(t) {
            let m = red_max[0];
            let eps = params.smoothing;
            let shifted_sum = red_x[0] - f32(params.vocab) * m;
            loss = log(red_sum[0]) - (1.0 - eps) * (logits[base + t] - m)
                - eps / f32(params.vocab) * shifted_sum;
        }
        losses[row] = loss;
    }
}

@group(0) @binding(1) var<storage, read> targets_m: array<u32>;
@group(0) @binding(2) var<storage, read> losses_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> count: array<f32>;

@compute @workgroup_size(WG)
fn cross_entropy_forward_mean(@builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    var cnt = 0u;
    for (var r = lid; r < params.rows; r += WG) {
        let t = targets_m[r];
        if t != params.ignore_index && t < params.vocab {
            s += losses_in[r];
            cnt += 1u;
        }
    }
    red_sum[lid] = s;
    red_cnt[lid] = cnt;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red_sum[lid] += red_sum[lid + stride];
            red_cnt[lid] += red_cnt[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        let n = red_cnt[0];
        // No counted row: mean 0 rather than 0/0, so a fully padded batch trains on nothing.
        mean[0] = select(0.0, red_sum[0] / f32(n), n > 0u);
        count[0] = f32(n);
    }
}

@group(0) @binding(3) var<storage, read> count_in: array<f32>;
@group(0) @binding(4) var<storage, read> dmean: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(WG)
fn cross_entropy_backward_logits(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    if row >= params.rows {
        return;
    }
    let base = row * params.vocab;
    // Statistics are computed even for rows that do not count, so every barrier stays in
    // uniform control flow; those rows then get scale 0.
    row_stats(base, lid);
    let t = targets[row];
    let n = count_in[0];
    var scale = 0.0;
    if counted(t) && n > 0.0 {
        scale = dmean[0] / n;
    }
    let m = red_max[0];
    let inv_sum = 1.0 / red_sum[0];
    let eps = params.smoothing;
    let uniform_q = eps / f32(params.vocab);
    for (var c = lid; c < params.vocab; c += WG) {
        var q = uniform_q;
        if c == t {
            q += 1.0 - eps;
        }
        dlogits[base + c] = (exp(logits[base + c] - m) * inv_sum - q) * scale;
    }
}

// ---- one invocation per row (CPU drivers) ----
// The same forward and backward with a row to an invocation, looping the classes: no
// workgroup memory and no barriers, which on lavapipe cost more than the row's arithmetic (a
// [2048, 64] forward took 7.5 ms and its backward 8.3 ms with a workgroup per row).
// Loop passes per invocation: 2·(V + 1) in the backward, so Rust picks these only where that
// fits the driver's loop budget. Bindings as the workgroup entries'.

// (max, sum of exp(x - max), sum of x) of one row, in one pass.
fn row_stats_alone(base: u32) -> vec3<f32> {
    var m = NEG_LARGE;
    var s = 0.0;
    var sx = 0.0;
    for (var c = 0u; c < params.vocab; c++) {
        let v = logits[base + c];
        let m_new = max(m, v);
        s = s * exp(m - m_new) + exp(v - m_new);
        m = m_new;
        sx += v;
    }
    return vec3(m, s, sx);
}

@compute @workgroup_size(WG)
fn cross_entropy_forward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.vocab;
    let t = targets[row];
    var loss = 0.0;
    if counted(t) {
        let stats = row_stats_alone(base);
        let m = stats.x;
        let eps = params.smoothing;
        let shifted_sum = stats.z - f32(params.vocab) * m;
        loss = log(stats.y) - (1.0 - eps) * (logits[base + t] - m)
            - eps / f32(params.vocab) * shifted_sum;
    }
    losses[row] = loss;
}

@compute @workgroup_size(WG)
fn cross_entropy_backward_logits_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.vocab;
    let t = targets[row];
    let n = count_in[0];
    if !counted(t) || n <= 0.0 {
        for (var c = 0u; c < params.vocab; c++) {
            dlogits[base + c] = 0.0;
        }
        return;
    }
    let scale = dmean[0] / n;
    let stats = row_stats_alone(base);
    let m = stats.x;
    let inv_sum = 1.0 / stats.y;
    let eps = params.smoothing;
    let uniform_q = eps / f32(params.vocab);
    for (var c = 0u; c < params.vocab; c++) {
        var q = uniform_q;
        if c == t {
            q += 1.0 - eps;
        }
        dlogits[base + c] = (exp(logits[base + c] - m) * inv_sum - q) * scale;
    }
}
