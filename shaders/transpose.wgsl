// transpose.wgsl: swap axes 1 and 2 of a 4-D tensor, x [A,B,C,D] -> y [A,C,B,D].
// forward:  y[a,c,b,d] = x[a,b,c,d]
// backward: dx[a,b,c,d] = dy[a,c,b,d], which is the same swap applied to dy (whose axes 1 and 2
//           are C and B), so the Rust side reuses these entry points with B and C exchanged.
// Two variants, each in a scalar and a vec4 form (the vec4 form when D is a multiple of 4,
// with params.d counted in vec4s):
//   elements (transpose_forward, transpose_forward4): one invocation per output element or
//     vec4; neighbouring lanes write neighbouring addresses, which a GPU coalesces.
//   rows (transpose_forward_rows, transpose_forward_rows4): one invocation per output row of
//     D, a contiguous copy from one input row; the index arithmetic (four divisions) runs once
//     per row instead of once per element. Faster on lavapipe, which runs lanes as SIMD over
//     scalarised storage accesses, so coalescing buys nothing there: copying [8,256,8,64]
//     took 4.4-5.0 ms per row with vec4, 5.3-6.3 ms per vec4 element, 9.3-11.4 ms per scalar
//     element; the same kernels with B = 1 (an identity permutation, plain contiguous copy)
//     took the same times, so the strided reads are not what costs.
// Grid: WG invocations per workgroup, folded 2-D grid (flat_group), tail guard.
// WG = 256: a memory-bound copy with no workgroup memory; the largest default workgroup keeps
// the grid small.
// Bindings (group 0): 0 params, 1 x, 2 y (every entry point; vec4 views in the vec4 forms).

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

@compute @workgroup_size(WG)
fn transpose_forward_rows4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * WG + lid;
    if row >= params.a * params.b * params.c {
        return;
    }
    let bb = row % params.b;
    let ac = row / params.b;
    let cc = ac % params.c;
    let aa = ac / params.c;
    let src = ((aa * params.b + bb) * params.c + cc) * params.d;
    let dst = row * params.d;
    for (var k = 0u; k < params.d; k++) {
        y4[dst + k] = x4[src + k];
    }
}

@compute @workgroup_size(WG)
fn transpose_forward_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = flat_group(wid, num) * WG + lid;
    if row >= params.a * params.b * params.c {
        return;
    }
    let bb = row % params.b;
    let ac = row / params.b;
    let cc = ac % params.c;
    let aa = ac / params.c;
    let src = ((aa * params.b + bb) * params.c + cc) * params.d;
    let dst = row * params.d;
    for (var k = 0u; k < params.d; k++) {
        y[dst + k] = x[src + k];
    }
}
