// reduce.wgsl: sum (times a scale: 1 for sum, 1/n for mean) over one axis, and its backward.
// The input is viewed as [outer, n, inner] (n the reduced axis); the output is [outer, inner].
// forward:  y[o,i] = scale * sum_a x[o,a,i]
// backward: dx[o,a,i] = scale * dy[o,i]
// Two forward layouts, picked in Rust by `inner`:
//   reduce_forward_rows (inner = 1, the reduced axis is contiguous): one workgroup per output;
//     WG invocations stride along the row (neighbouring lanes read neighbouring floats), then a
//     tree reduction in workgroup memory. Rows are clipped at `total` elements, which lets
//     sum_all's first stage cut a flat tensor into fixed chunks with a short last one.
//   reduce_forward_cols (inner > 1, e.g. the column sums of a bias gradient): one invocation
//     per output, looping down the axis; lanes own neighbouring columns, so every step of the
//     loop reads WG contiguous floats. No workgroup memory, no atomics. With few outputs and a
//     long axis (a bias gradient over B·T rows) that is too little parallelism, so the axis is
//     cut into slices of `chunk` rows: the first pass writes one partial per (o, slice, i) as
//     [outer, slices, inner], and a second pass of this same entry sums the slices.
// Error: each lane adds about n/WG terms in sequence, then log2(WG) tree levels (rows), or n
// terms in sequence (cols); the bound is (terms added) * 2⁻²⁴ * sum |x|.
// Grid: rows: one workgroup per output row; cols and backward: one element per invocation.
// Both folded into x and y (kernels::grid_1d/grid_for) past 65,535 workgroups.
// WG = 64: a multiple of common subgroup widths (8 on lavapipe, 32/64 on GPUs) and a quarter of
// the 256-invocation limit; 64 lanes stream a 4096-float chunk in 64 steps.
// Workgroup memory is written before it is read, so zero-initialisation is off.
// Bindings (group 0): forward 0 params, 1 x, 2 y; backward 0 params, 1 dy, 2 dx.

struct Params {
    outer: u32,
    n: u32,
    inner: u32,
    // Elements of x; rows are clipped here (sum_all's chunked first stage).
    total: u32,
    scale: f32,
    // cols: rows of the axis per slice (n when there is one slice).
    chunk: u32,
    _pad0: u32,
    _pad1: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn reduce_forward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num);
    // Uniform per workgroup, so the early return keeps barriers in uniform control flow.
    if row >= params.outer {
        return;
    }
    let base = row * params.n;
    let end = min(base + params.n, params.total);
    var acc = 0.0;
    for (var i = base + lid; i < end; i += WG) {
        acc += x[i];
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        y[row] = params.scale * partial[0];
    }
}

@compute @workgroup_size(WG)
fn reduce_forward_cols(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let out = flat_group(wid, num) * WG + lid;
    let slices = (params.n + params.chunk - 1u) / params.chunk;
    if out >= params.outer * slices * params.inner {
        return;
    }
    let i = out % params.inner;
    let slice = (out / params.inner) % slices;
    let o = out / (params.inner * slices);
    let first = slice * params.chunk;
    let last = min(first + params.chunk, params.n);
    var idx = (o * params.n + first) * params.inner + i;
    var acc = 0.0;
    for (var a = first; a < last; a++) {
        acc += x[idx];
        idx += params.inner;
    }
    y[out] = params.scale * acc;
}

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn reduce_backward_x(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = flat_group(wid, num) * WG + lid;
    if e >= params.total {
        return;
    }
    let o = e / (params.n * params.inner);
    let i = e % params.inner;
    dx[e] = params.scale * dy[o * params.inner + i];
}
