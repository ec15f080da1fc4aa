// softmax.wgsl: row softmax over the last axis, and its backward.
// forward:  y[r,c] = exp(x[r,c] - m[r]) / s[r],  m[r] = max_c x[r,c],  s[r] = sum_c exp(x[r,c] - m[r])
// backward: dx[r,c] = y[r,c] * (dy[r,c] - sum_c' dy[r,c'] * y[r,c'])
// Grid: one workgroup per row (folded 2-D grid); WG invocations stride across the row, so
// neighbouring invocations read neighbouring floats, and reduce in workgroup memory.
// The forward keeps an online (running max, rescaled sum) pair per invocation, so x is read
// twice (statistics, then output) rather than three times.
// WG = 64: a multiple of common subgroup widths (8 on lavapipe, 32/64 on GPUs), a quarter of
// WebGPU's 256-invocation limit, and enough lanes to stream a 512-wide row in 8 steps.
// Workgroup memory is written before it is read, so zero-initialisation is off.
// Bindings (group 0): forward 0 params, 1 x, 2 y; backward 0 params, 1 y, 2 dy, 3 dx.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> red_max: array<f32, WG>;
var<workgroup> red_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn softmax_forward(
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
    var m = NEG_LARGE;
    var s = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        let v = x[base + c];
        let m_new = max(m, v);
        s = s * exp(m - m_new) + exp(v - m_new);
        m = m_new;
    }
    red_max[lid] = m;
    red_sum[lid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            let m_a = red_max[lid];
            let m_b = red_max[lid + stride];
            let m_new = max(m_a, m_b);
            red_sum[lid] = red_sum[lid] * exp(m_a - m_new) + red_sum[lid + stride] * exp(m_b - m_new);
            red_max[lid] = m_new;
        }
        workgroupBarrier();
    }
    let row_max = red_max[0];
    let inv_sum = 1.0 / red_sum[0];
    for (var c = lid; c < params.cols; c += WG) {
        y[base + c] = exp(x[base + c] - row_max) * inv_sum;
    }
}

@group(0) @binding(1) var<storage, read> y_in: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn softmax_backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var acc = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        acc += dy[base + c] * y_in[base + c];
    }
    red_sum[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red_sum[lid] += red_sum[lid + stride];
        }
        workgroupBarrier();
    }
    let dot = red_sum[0];
    for (var c = lid; c < params.cols; c += WG) {
        dx[base + c] = y_in[base + c] * (dy[base + c] - dot);
    }
}

// ---- Row-per-invocation variant ----
// The same math with one invocation owning a whole row: no workgroup memory and no barriers.
// On lavapipe a barrier suspends and resumes every SIMD group of the workgroup, and a row of
// 512 needs seven of them in the tree reduction above, so this variant wins there even though
// neighbouring lanes read addresses a row apart. On a GPU the workgroup-per-row kernel keeps
// loads coalesced and wins instead; src/ops/softmax.rs picks per adapter type.
// Grid: ROWS_WG rows per workgroup, folded 2-D grid; bindings as for the kernels above.

const ROWS_WG: u32 = 64u;

@compute @workgroup_size(ROWS_WG)
fn softmax_forward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var m = NEG_LARGE;
    var s = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        let v = x[base + c];
        let m_new = max(m, v);
        s = s * exp(m - m_new) + exp(v - m_new);
        m = m_new;
    }
    let inv_sum = 1.0 / s;
    for (var c = 0u; c < params.cols; c++) {
        y[base + c] = exp(x[base + c] - m) * inv_sum;
    }
}

@compute @workgroup_size(ROWS_WG)
fn softmax_backward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var dot = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        dot += dy[base + c] * y_in[base + c];
    }
    for (var c = 0u; c < params.cols; c++) {
        dx[base + c] = y_in[base + c] * (dy[base + c] - dot);
    }
}

// ---- Row-per-invocation variant, vec4 loads (C a multiple of 4) ----
// lavapipe scalarises every storage access per lane, so one 16-byte access costs about what one
// 4-byte access does: reading rows as vec4 cuts the accesses fourfold.

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(ROWS_WG)
fn softmax_forward_rows4(
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
    var m = NEG_LARGE;
    var s = 0.0;
    for (var c = 0u; c < quads; c++) {
        let v = x4[base + c];
        let m_new = max(m, max(max(v.x, v.y), max(v.z, v.w)));
        let e = exp(v - vec4(m_new));
        s = s * exp(m - m_new) + (e.x + e.y) + (e.z + e.w);
        m = m_new;
    }
    let inv_sum = 1.0 / s;
    for (var c = 0u; c < quads; c++) {
        y4[base + c] = exp(x4[base + c] - vec4(m)) * inv_sum;
    }
}

// Rows of at most CACHED_QUADS * 4 floats: the row is read from the storage buffer once into a
// private array (plain vector memory on lavapipe, not a per-lane scalarised storage access),
// so x is read once instead of twice. Tried: max first and one exp per element with y
// rescaled in place (3 reads, 2 writes): 186 ms against 127 ms for the online kernel above.
const CACHED_QUADS: u32 = 128u;

@compute @workgroup_size(ROWS_WG)
fn softmax_forward_rows4_cached(
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
    var cached: array<vec4<f32>, CACHED_QUADS>;
    var m4 = vec4(NEG_LARGE);
    for (var c = 0u; c < quads; c++) {
        let v = x4[base + c];
        cached[c] = v;
        m4 = max(m4, v);
    }
    let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
    var s4 = vec4(0.0);
    for (var c = 0u; c < quads; c++) {
        let e = exp(cached[c] - vec4(m));
        cached[c] = e;
        s4 += e;
    }
    let inv_sum = 1.0 / ((s4.x + s4.y) + (s4.z + s4.w));
    for (var c = 0u; c < quads; c++) {
        y4[base + c] = cached[c] * inv_sum;
    }
}

@group(0) @binding(1) var<storage, read> y4_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4<f32>>;

@compute @workgroup_size(ROWS_WG)
fn softmax_backward_rows4(
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
    var acc = vec4(0.0);
    for (var c = 0u; c < quads; c++) {
        acc += dy4[base + c] * y4_in[base + c];
    }
    let dot = (acc.x + acc.y) + (acc.z + acc.w);
    for (var c = 0u; c < quads; c++) {
        dx4[base + c] = y4_in[base + c] * (dy4[base + c] - vec4(dot));
    }
}

// ---- log_softmax ----
// forward:  y[r,c] = x[r,c] - m[r] - log s[r]   (the same online statistics as softmax)
// backward: dx[r,c] = dy[r,c] - exp(y[r,c]) * sum_c' dy[r,c']
// Computed as its own kernel rather than log(softmax(x)): a probability that underflows to 0
// would give -inf, where x - m - log s stays finite (a beam search sums these scores).
// Bindings as for softmax: forward 0 params, 1 x, 2 y; backward 0 params, 1 y, 2 dy, 3 dx.

@compute @workgroup_size(WG)
fn log_softmax_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var m = NEG_LARGE;
    var s = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        let v = x[base + c];
        let m_new = max(m, v);
        s = s * exp(m - m_new) + exp(v - m_new);
        m = m_new;
    }
    red_max[lid] = m;
    red_sum[lid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            let m_a = red_max[lid];
            let m_b = red_max[lid + stride];
            let m_new = max(m_a, m_b);
            red_sum[lid] = red_sum[lid] * exp(m_a - m_new) + red_sum[lid + stride] * exp(m_b - m_new);
            red_max[lid] = m_new;
        }
        workgroupBarrier();
    }
    let shift = red_max[0] + log(red_sum[0]);
    for (var c = lid; c < params.cols; c += WG) {
        y[base + c] = x[base + c] - shift;
    }
}

@compute @workgroup_size(WG)
fn log_softmax_backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var acc = 0.0;
    for (var c = lid; c < params.cols; c += WG) {
        acc += dy[base + c];
    }
    red_sum[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red_sum[lid] += red_sum[lid + stride];
        }
        workgroupBarrier();
    }
    let total = red_sum[0];
    for (var c = lid; c < params.cols; c += WG) {
        dx[base + c] = dy[base + c] - exp(y_in[base + c]) * total;
    }
}

// Row-per-invocation log_softmax (CPU drivers), as softmax_forward_rows.
@compute @workgroup_size(ROWS_WG)
fn log_softmax_forward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var m = NEG_LARGE;
    var s = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        let v = x[base + c];
        let m_new = max(m, v);
        s = s * exp(m - m_new) + exp(v - m_new);
        m = m_new;
    }
    let shift = m + log(s);
    for (var c = 0u; c < params.cols; c++) {
        y[base + c] = x[base + c] - shift;
    }
}

@compute @workgroup_size(ROWS_WG)
fn log_softmax_backward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * ROWS_WG + lid;
    if row >= params.rows {
        return;
    }
    let base = row * params.cols;
    var total = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        total += dy[base + c];
    }
    for (var c = 0u; c < params.cols; c++) {
        dx[base + c] = dy[base + c] - exp(y_in[base + c]) * total;
    }
}
