// clip.wgsl: clipping gradients by their global L2 norm, PyTorch's clip_grad_norm_, in three
// kinds of dispatch (one gradient per dispatch where a gradient is bound, so any number of
// gradients fits the 8-storage-buffer limit):
//   clip_sum_squares (per gradient g of n elements): ceil(n / CHUNK) partial sums of squares
//       into partials[offset ..], each over at most CHUNK elements of g (layout below)
//   clip_norm (once): total = sqrt(sum_s partials[s]),  coef = min(1, max_norm / (total + 1e-6)),
//       stats = [coef, total]
//   clip_scale (per gradient): g[i] = g[i] · coef, skipped when coef >= 1 so an unclipped
//       gradient keeps its bits without a write pass.
// No backward: clipping is applied to gradients, not differentiated through.
// Deterministic: every sum runs in a fixed order (serial per lane, then a fixed stride and a
// fixed tree in clip_norm), no atomics.
// Sum layout: workgroup `block` owns the block-th run of WG·CHUNK elements; of the r elements in
// it (WG·CHUNK but in the last block), lanes = ceil(r / CHUNK) lanes take elements lid,
// lid + lanes, lid + 2·lanes, ... and write slot block·WG + lid. So neighbouring lanes read
// neighbouring addresses (coalesced on a GPU), a full block gives WG partials, the last
// ceil(r / CHUNK), and the slots add up to ceil(n / CHUNK). Each lane sums at most CHUNK
// positive squares serially, relative error below CHUNK·2^-24, and the partials are CHUNK
// times fewer than the elements, which keeps the one-workgroup clip_norm short.
// No barrier in the sums: on CPU drivers (lavapipe) a barrier suspends every SIMD group of a
// workgroup. On lavapipe a 1M-element sum dispatch took 3.5 ms with this layout, the same as
// with a contiguous chunk per lane: the scalarised loads cost the same either way.
// Grids: clip_sum_squares one workgroup per block; clip_norm one workgroup of WG lanes that
// stride over all partials then reduce as a tree in workgroup memory (written before read, so
// zero-initialisation is off); clip_scale PER_LANE elements per lane, strided by WG. Folded 2-D
// grids (flat_group) and tail guards. The vec4 forms (n a multiple of 4) count in vec4s, with
// CHUNK / 4 vec4s per lane, so slots are the same as the scalar forms'.
// WG = 256 everywhere: the largest default workgroup keeps grids small; clip_norm's tree is
// 1 KiB of workgroup memory.
// Bindings (group 0): clip_sum_squares(4) 0 params, 1 grad, 2 partials;
//                     clip_norm 0 params, 1 partials_in, 2 stats;
//                     clip_scale(4) 0 params, 1 stats_in, 2 grad_io (updated in place).

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
// Elements (or vec4s) per invocation of the scale kernels, strided by WG: the coef load and
// the early exit are per invocation.
const PER_LANE: u32 = 4u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(WG)
fn clip_sum_squares(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let block = flat_group(wid, num);
    let block_start = block * (WG * CHUNK);
    if block_start >= params.n {
        return;
    }
    let r = min(params.n - block_start, WG * CHUNK);
    let lanes = (r + CHUNK - 1u) / CHUNK;
    if lid >= lanes {
        return;
    }
    var s = 0.0;
    for (var i = lid; i < r; i += lanes) {
        let v = grad[block_start + i];
        s += v * v;
    }
    partials[params.offset + block * WG + lid] = s;
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
    let first = flat_group(wid, num) * (WG * PER_LANE) + lid;
    let coef = stats_in[0];
    if first >= params.n || coef >= 1.0 {
        return;
    }
    for (var j = 0u; j < PER_LANE; j++) {
        let i = first + j * WG;
        if i < params.n {
            grad_io[i] = grad_io[i] * coef;
        }
    }
}

// ---- vec4 forms (N a multiple of 4) ----
// lavapipe scalarises every storage access per lane, so one 16-byte access costs about what one
// 4-byte access does. Slots are those of the scalar kernels (CHUNK elements per partial); a
// lane keeps four running sums, one per vec4 component, combined at its end.

@group(0) @binding(1) var<storage, read> grad4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn clip_sum_squares4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let len = CHUNK / 4u;
    let quads = params.n / 4u;
    let block = flat_group(wid, num);
    let block_start = block * (WG * len);
    if block_start >= quads {
        return;
    }
    let r = min(quads - block_start, WG * len);
    let lanes = (r + len - 1u) / len;
    if lid >= lanes {
        return;
    }
    var s = vec4(0.0);
    for (var i = lid; i < r; i += lanes) {
        let v = grad4[block_start + i];
        s += v * v;
    }
    partials[params.offset + block * WG + lid] = (s.x + s.y) + (s.z + s.w);
}

@group(0) @binding(2) var<storage, read_write> grad_io4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn clip_scale4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = flat_group(wid, num) * (WG * PER_LANE) + lid;
    let quads = params.n / 4u;
    let coef = stats_in[0];
    if first >= quads || coef >= 1.0 {
        return;
    }
    for (var j = 0u; j < PER_LANE; j++) {
        let q = first + j * WG;
        if q < quads {
            grad_io4[q] = grad_io4[q] * coef;
        }
    }
}
