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
// that structure, and adjacent i differ in the low bits only before full avalanche mixing.
// Grid: one invocation per element, WG per workgroup, folded 2-D grid (flat_group) with a tail
// guard. WG = 256: memory-bound, no workgroup memory; the largest default workgroup keeps the
// grid small.
// Bindings (group 0): 0 params, 1 seed (u32 [4]: seed_lo, seed_hi, step, 0), 2 x, 3 y
// (the backward binds dy as x and dx as y).

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

@compute @workgroup_size(WG)
fn dropout_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n {
        return;
    }
    let k = lowbias32(lowbias32(lowbias32(lowbias32(seed[0]) ^ seed[1]) ^ seed[2]) ^ params.salt);
    let k2 = lowbias32(k ^ GOLDEN);
    let h = lowbias32(lowbias32(i ^ k) ^ k2);
    var out = 0.0;
    if h >= params.threshold {
        out = x[i] * params.scale;
    }
    y[i] = out;
}
