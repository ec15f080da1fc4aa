// kv_cache.wgsl: appends one position's keys and values to a decoder's cache, in place, and
// writes which cache positions are visible afterwards.
// keys, values [B, H, T, Dh] (the cache, head-split as attention reads it); k_new, v_new
// [B, 1, H·Dh] (a projection's output, heads side by side); position [B] u32; mask [B, T] u32.
//   keys[b, h, position[b], j] = k_new[b, h·Dh + j]   (the same for values)
//   mask[b, t] = 1 if t <= position[b] else 0
// A position >= T writes nothing (the host refuses such a step before it runs).
// Grid: one invocation per (b, e), e < max(T, H·Dh), folded by grid_1d; no loops, so the
// kernel is as cheap as a copy and has no loop to outgrow on llvmpipe.
// Bindings (group 0): 0 params, 1 keys, 2 values, 3 k_new, 4 v_new, 5 position, 6 mask.

struct Params {
    batch: u32,
    heads: u32,
    window: u32,
    head_dim: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> keys: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read> k_new: array<f32>;
@group(0) @binding(4) var<storage, read> v_new: array<f32>;
@group(0) @binding(5) var<storage, read> position: array<u32>;
@group(0) @binding(6) var<storage, read_write> mask: array<u32>;

@compute @workgroup_size(WG)
fn kv_append(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let width = params.heads * params.head_dim;
    let span = max(params.window, width);
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.batch * span {
        return;
    }
    let b = i / span;
    let e = i % span;
    let pos = position[b];
    if e < params.window {
        mask[b * params.window + e] = select(0u, 1u, e <= pos);
    }
    if e < width && pos < params.window {
        let h = e / params.head_dim;
        let j = e % params.head_dim;
        let at = ((b * params.heads + h) * params.window + pos) * params.head_dim + j;
        keys[at] = k_new[b * width + e];
        values[at] = v_new[b * width + e];
    }
}
