// kmeans.wgsl: the centroid update of spherical k-means (Lloyd's step after an assignment).
// forward: for each centroid c with members m in members[offsets[c] .. offsets[c+1]]:
//          sum = Σ_m points[m, :];  centroids[c, :] = sum / |sum|  (unit length, so that inner
//          product search over the centroids ranks by cosine). A centroid with no members keeps its
//          value; one whose members sum to exactly zero becomes zero (the host re-seeds it).
// Not differentiable: there is no backward.
// Grid: one invocation per centroid, folded with flat_group. A centroid's members are a list
// of point indices prepared by a counting sort of the assignment; one invocation walks them so
// that no atomics (f32 atomics are not in WGSL) or workgroup reductions are needed. The work is
// Σ_c |members_c| · D = S · D in all, the same as reading the points once.
// WG = 64: a multiple of common subgroup widths.
// Bindings (group 0): 0 params, 1 points, 2 members, 3 offsets, 4 centroids.

struct Params {
    // Centroids, and vec4s per point (D / 4).
    clusters: u32,
    d4: u32,
    _pad0: u32,
    _pad1: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> points: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> members: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> centroids: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn kmeans_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = flat_group(wid, num) * WG + lid;
    if c >= params.clusters {
        return;
    }
    let lo = offsets[c];
    let hi = offsets[c + 1u];
    if lo >= hi {
        return;
    }
    let out = c * params.d4;
    var norm2 = 0.0;
    for (var j = 0u; j < params.d4; j++) {
        var acc = vec4<f32>(0.0);
        for (var m = lo; m < hi; m++) {
            acc += points[members[m] * params.d4 + j];
        }
        norm2 += dot(acc, acc);
        // The sum is parked in the output row and scaled below, once its norm is known.
        centroids[out + j] = acc;
    }
    if norm2 > 0.0 {
        let scale = inverseSqrt(norm2);
        for (var j = 0u; j < params.d4; j++) {
            centroids[out + j] = centroids[out + j] * scale;
        }
    }
}
