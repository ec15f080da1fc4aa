// matmul/workgroup.wgsl: batched C = op(A)·op(B) (+ bias), tiles staged through workgroup memory.
// The classic discrete-GPU kernel: a 16x16 workgroup computes a 64x64 tile of C, each invocation
// a 4x4 block; per step the workgroup copies a 64x16 slice of op(A) and a 16x64 slice of op(B)
// into workgroup memory (2 x 4 KiB, under the 16 KiB default) and every value read there is
// reused by 4 invocations' FMAs. Out-of-range rows, columns and k are loaded as 0 and not stored.
// Every element of the tiles is written before the barrier that precedes its reads, so
// workgroup memory needs no zero-initialisation.
// Grid: x over N in 64s, y over M in 64s, z over the batch. 256 invocations = the WebGPU cap.
// Bindings (group 0): 0 params, 1 a, 2 b, 3 bias (length N, or a dummy when has_bias = 0), 4 c.

struct Params {
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
    trans_a: u32,
    trans_b: u32,
    has_bias: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const BK: u32 = 16u;

// tile_a[kk][row], tile_b[kk][col]: each invocation reads a row of 4 adjacent values of each.
var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<f32, 1024>;

@compute @workgroup_size(16, 16, 1)
fn matmul_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    let bat = wid.z;
    let a_base = bat * params.a_batch_stride;
    let b_base = bat * params.b_batch_stride;
    var a_rs = params.k;
    var a_ks = 1u;
    if params.trans_a != 0u {
        a_rs = 1u;
        a_ks = params.m;
    }
    var b_cs = 1u;
    var b_ks = params.n;
    if params.trans_b != 0u {
        b_cs = params.k;
        b_ks = 1u;
    }
    var acc: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
        acc[i] = vec4<f32>(0.0);
    }
    for (var k0 = 0u; k0 < params.k; k0 += BK) {
        // 1024 values per tile, 4 per invocation.
        for (var s = 0u; s < 4u; s++) {
            let e = li + s * 256u;
            let kk = e / TILE;
            let x = e % TILE;
            let kg = k0 + kk;
            let row = row0 + x;
            var va = 0.0;
            if kg < params.k && row < params.m {
                va = a[a_base + row * a_rs + kg * a_ks];
            }
            tile_a[e] = va;
            let col = col0 + x;
            var vb = 0.0;
            if kg < params.k && col < params.n {
                vb = b[b_base + col * b_cs + kg * b_ks];
            }
            tile_b[e] = vb;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let ai = kk * TILE + lid.y * 4u;
            let bi = kk * TILE + lid.x * 4u;
            let av = vec4<f32>(tile_a[ai], tile_a[ai + 1u], tile_a[ai + 2u], tile_a[ai + 3u]);
            let bv = vec4<f32>(tile_b[bi], tile_b[bi + 1u], tile_b[bi + 2u], tile_b[bi + 3u]);
            acc[0] = fma(vec4<f32>(av.x), bv, acc[0]);
            acc[1] = fma(vec4<f32>(av.y), bv, acc[1]);
            acc[2] = fma(vec4<f32>(av.z), bv, acc[2]);
            acc[3] = fma(vec4<f32>(av.w), bv, acc[3]);
        }
        workgroupBarrier();
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + lid.x * 4u + j;
        if col >= params.n {
            continue;
        }
        var bias_v = 0.0;
        if params.has_bias != 0u {
            bias_v = bias[col];
        }
        for (var i = 0u; i < 4u; i++) {
            let row = row0 + lid.y * 4u + i;
            if row < params.m {
                c[(bat * params.m + row) * params.n + col] = acc[i][j] + bias_v;
            }
        }
    }
}
