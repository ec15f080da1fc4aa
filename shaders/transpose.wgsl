// transpose.wgsl: swap axes 1 and 2 of a 4-D tensor, x [A,B,C,D] -> y [A,C,B,D].
// forward:  y[a,c,b,d] = x[a,b,c,d]
// backward: dx[a,b,c,d] = dy[a,c,b,d], which is the same swap applied to dy (whose axes 1 and 2
//           are C and B), so the Rust side reuses these entry points with B and C exchanged.
// Grid: one invocation per output element (transpose_forward) or per output vec4 along D when
// D is a multiple of 4 (transpose_forward4), WG per workgroup, folded 2-D grid (flat_group)
// with a tail guard. Writes are contiguous per invocation index; reads jump by C·D between
// neighbouring rows, which is the nature of the op.
// lavapipe scalarises every storage access per lane, so one 16-byte access costs about what
// one 4-byte access does: the vec4 entry cuts the accesses and the index arithmetic fourfold.
// WG = 256: a memory-bound copy with no workgroup memory; the largest default workgroup keeps
// the grid small.
// Bindings (group 0): 0 params, 1 x, 2 y (both entry points; vec4 views in the second).

struct Params {
    // Dimensions of the input x, with d counted in vec4s for transpose_forward4.
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// Index into x [A,B,C,D] of output element i of y [A,C,B,D].
fn source_index(i: u32) -> u32 {
    let dd = i % params.d;
    let row = i / params.d;
    let bb = row % params.b;
    let ac = row / params.b;
    let cc = ac % params.c;
    let aa = ac / params.c;
    return ((aa * params.b + bb) * params.c + cc) * params.d + dd;
}

@compute @workgroup_size(WG)
fn transpose_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.a * params.b * params.c * params.d {
        return;
    }
    y[i] = x[source_index(i)];
}

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn transpose_forward4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.a * params.b * params.c * params.d {
        return;
    }
    y4[i] = x4[source_index(i)];
}
