// dropout.wgsl: inverted dropout with a counter-based random mask, recomputed in the backward.
// forward:  y[i]  = keep(i) ? x[i]  * scale : 0,   scale = 1 / (1 - p)
// backward: dx[i] = keep(i) ? dy[i] * scale : 0    (the same entry point on dy, dx)
// keep(i) = hash(seed_lo, seed_hi, step, salt, i) >= threshold, threshold = p·2^32 (rounded),
// so P(keep) = 1 - p to within 2^-32. The mask is a pure function of (seed words, salt, i): the
// backward recomputes it rather than storing it, and a step only rewrites the seed tensor.
// Hash: Chris Wellons' "lowbias32" (hash-prospector: xorshift-multiply, 2 rounds), a bijection
// on u32 whose measured avalanche bias (0.17) is near the ideal for such a mixer, cheap on any
// device (two 32-bit multiplies, no 64-bit or mulhi, which WGSL lacks and Philox needs).
// The key is a chain k = L(L(L(L(seed_lo) ^ seed_hi) ^ step) ^ salt): each link is a bijection,
// so for fixed earlier words distinct last words give distinct keys. The element hash is
// L(L(i ^ k) ^ k2), k2 = L(k ^ GOLDEN): a single keyed round L(i ^ k) would make two keys'
// masks XOR-permutations of each other (m'(i) = m(i ^ k ^ k')); the second keyed round hides
// that structure. Adjacent i differ in a few low bits, which lowbias32's avalanche spreads
// over every output bit (tests/ops/dropout.rs checks rate, lag correlations and independence
// across steps, salts and seeds).
// Grid: each invocation handles PER_LANE elements (dropout_forward) or PER_LANE vec4s
// (dropout_forward4, when N is a multiple of 4), strided by WG so a workgroup's lanes touch
// neighbouring addresses on every step; folded 2-D grid (flat_group) with tail guards.
// Why: the key chain (4 hashes, 3 seed loads) is per invocation, and on lavapipe it cost more
// than the element hashes: 1M elements took 20.4 ms with one element per invocation, 14.7 ms
// with a vec4, 4.9 ms with 4 vec4s (8 vec4s: 4.8 ms, not worth the lost parallelism).
// WG = 256: memory-bound, no workgroup memory; the largest default workgroup keeps the grid
// small.
// Bindings (group 0), both entry points: 0 params, 1 seed (u32 [4]: seed_lo, seed_hi, step, 0),
// 2 x, 3 y (vec4 views in dropout_forward4); the backward binds dy as x and dx as y.

struct Params {
    n: u32,
    // Elements with hash below threshold are dropped.
    threshold: u32,
    salt: u32,
    // 1 / (1 - p), rounded to f32 once on the host.
    scale: f32,
}

const WG: u32 = 256u;
const GOLDEN: u32 = 0x9e3779b9u;
const PER_LANE: u32 = 4u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> seed: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn lowbias32(v: u32) -> u32 {
    var h = v;
    h ^= h >> 16u;
    h *= 0x7feb352du;
    h ^= h >> 15u;
    h *= 0x846ca68bu;
    h ^= h >> 16u;
    return h;
}

// The two round keys (k, k2) of the element hash, from the seed words and the salt.
fn key() -> vec2<u32> {
    let k = lowbias32(lowbias32(lowbias32(lowbias32(seed[0]) ^ seed[1]) ^ seed[2]) ^ params.salt);
    return vec2(k, lowbias32(k ^ GOLDEN));
}

@compute @workgroup_size(WG)
fn dropout_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = flat_group(wid, num) * (WG * PER_LANE) + lid;
    if first >= params.n {
        return;
    }
    let k = key();
    for (var j = 0u; j < PER_LANE; j++) {
        let i = first + j * WG;
        if i < params.n {
            let h = lowbias32(lowbias32(i ^ k.x) ^ k.y);
            var out = 0.0;
            if h >= params.threshold {
                out = x[i] * params.scale;
            }
            y[i] = out;
        }
    }
}

@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn dropout_forward4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = flat_group(wid, num) * (WG * PER_LANE) + lid;
    let quads = params.n / 4u;
    if first >= quads {
        return;
    }
    let k = key();
    for (var j = 0u; j < PER_LANE; j++) {
        let q = first + j * WG;
        if q < quads {
            let i = vec4(4u * q) + vec4(0u, 1u, 2u, 3u);
            let h = lowbias32_4(lowbias32_4(i ^ vec4(k.x)) ^ vec4(k.y));
            let keep = h >= vec4(params.threshold);
            y4[q] = select(vec4(0.0), x4[q] * params.scale, keep);
        }
    }
}

fn lowbias32_4(v: vec4<u32>) -> vec4<u32> {
    var h = v;
    h ^= h >> vec4(16u);
    h *= vec4(0x7feb352du);
    h ^= h >> vec4(15u);
    h *= vec4(0x846ca68bu);
    h ^= h >> vec4(16u);
    return h;
}
