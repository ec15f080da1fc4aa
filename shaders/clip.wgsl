// clip.wgsl: clipping gradients by their global L2 norm, PyTorch's clip_grad_norm_, in three
// kinds of dispatch (one gradient per dispatch where a gradient is bound, so any number of
// gradients fits the 8-storage-buffer limit):
//   clip_sum_squares (per gradient g of n elements, slots offset..offset+ceil(n/CHUNK)):
//       partials[offset + c] = sum_{i in chunk c} g[i]^2,  chunk c = [c·CHUNK, min(n, (c+1)·CHUNK))
//   clip_norm (once): total = sqrt(sum_s partials[s]),  coef = min(1, max_norm / (total + 1e-6)),
//       stats = [coef, total]
//   clip_scale (per gradient): g[i] = g[i] · coef, skipped when coef == 1 so an unclipped
//       gradient keeps its bits without a write pass.
// No backward: clipping is applied to gradients, not differentiated through.
// Deterministic: every sum runs in a fixed order (serial within a chunk, a fixed stride and a
// fixed tree in clip_norm), no atomics.
// Grids: clip_sum_squares one invocation per chunk, WG per workgroup, folded 2-D grid; clip_norm
// one workgroup of WG lanes that stride over all partials then reduce as a tree in workgroup
// memory (written before read, so zero-initialisation is off); clip_scale one invocation per
// element, folded 2-D grid. All with tail guards.
// Why a chunk per invocation: on CPU drivers (lavapipe) a barrier suspends every SIMD group of a
// workgroup, and a serial loop has none; the sum of CHUNK = 256 positive squares in f32 has a
// relative error below 256·2^-24, and the chunks keep the final reduction 256 times shorter
// than the gradients. WG = 256 everywhere: no workgroup memory per lane besides clip_norm's
// 1 KiB tree; the largest default workgroup keeps grids small.
// Bindings (group 0): clip_sum_squares 0 params, 1 grad, 2 partials;
//                     clip_norm 0 params, 1 partials_in, 2 stats;
//                     clip_scale 0 params, 1 stats_in, 2 grad_io (updated in place).

struct Params {
    // clip_sum_squares, clip_scale: elements of the gradient; clip_norm: partial sums in all.
    n: u32,
    // clip_sum_squares: first slot of this gradient in partials.
    offset: u32,
    // clip_norm: the norm to clip to.
    max_norm: f32,
    _pad0: u32,
}

const WG: u32 = 256u;
const CHUNK: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(WG)
fn clip_sum_squares(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = flat_group(wid, num) * WG + lid;
    let start = c * CHUNK;
    if start >= params.n {
        return;
    }
    let end = min(params.n, start + CHUNK);
    var s = 0.0;
    for (var i = start; i < end; i++) {
        let v = grad[i];
        s += v * v;
    }
    partials[params.offset + c] = s;
}

@group(0) @binding(1) var<storage, read> partials_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn clip_norm(@builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    for (var i = lid; i < params.n; i += WG) {
        s += partials_in[i];
    }
    red[lid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            red[lid] += red[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        let total = sqrt(red[0]);
        stats[0] = min(1.0, params.max_norm / (total + 1e-6));
        stats[1] = total;
    }
}

@group(0) @binding(1) var<storage, read> stats_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad_io: array<f32>;

@compute @workgroup_size(WG)
fn clip_scale(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    let coef = stats_in[0];
    if i >= params.n || coef >= 1.0 {
        return;
    }
    grad_io[i] = grad_io[i] * coef;
}
