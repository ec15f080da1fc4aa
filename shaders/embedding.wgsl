// embedding.wgsl: row lookup in a table, and its scatter-add backward.
// forward:  out[n,c] = table[ids[n],c] if ids[n] < V, else 0 (an out-of-range id reads nothing).
// backward: dtable[v,c] = sum over n with ids[n] = v of dout[n,c] (out-of-range ids add nothing).
// Forward grid: one invocation per output element (N·C), WG per workgroup, folded 2-D grid.
// Backward grid: one workgroup per vocabulary row v (folded 2-D grid). WGSL has no float
// atomics, and a float sum whose order depends on scheduling is not reproducible, so each row
// of dtable has exactly one owner that adds its contributions in increasing n: the workgroup
// scans ids WG at a time, marks the matches in a bitmask (u32 atomicOr, whose result does not
// depend on order), then every invocation walks the set bits in order and adds dout[n, c] for
// its columns c = lid, lid + WG, ... Cost: V·N id compares (cheap, cache-resident) plus N·C
// gradient adds in total; no sort and no scratch buffer. dtable is overwritten, not accumulated.
// WG = 64: a multiple of common subgroup widths, two u32 words of match mask, and 64 columns of
// a row per step in the backward.
// Workgroup memory is written before it is read (the mask is cleared each step), so
// zero-initialisation is off.
// Bindings (group 0): forward 0 params, 1 ids, 2 table, 3 out;
//                     backward 0 params, 1 ids, 2 dout, 3 dtable.

struct Params {
    n: u32,
    vocab: u32,
    channels: u32,
    _pad0: u32,
}

const WG: u32 = 64u;
const WORDS: u32 = 2u; // WG / 32 mask words

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn embedding_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n * params.channels {
        return;
    }
    let n = i / params.channels;
    let c = i - n * params.channels;
    let id = ids[n];
    var value = 0.0;
    if id < params.vocab {
        value = table[id * params.channels + c];
    }
    out[i] = value;
}

@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dtable: array<f32>;

var<workgroup> hits: array<atomic<u32>, WORDS>;

@compute @workgroup_size(WG)
fn embedding_backward_table(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let v = flat_group(wid, num);
    // Uniform per workgroup, so the early return keeps barriers in uniform control flow.
    if v >= params.vocab {
        return;
    }
    let row = v * params.channels;
    // Each invocation only ever touches its own columns of the row, so no barrier is needed
    // between this clear and the adds below.
    for (var c = lid; c < params.channels; c += WG) {
        dtable[row + c] = 0.0;
    }
    for (var start = 0u; start < params.n; start += WG) {
        if lid < WORDS {
            atomicStore(&hits[lid], 0u);
        }
        workgroupBarrier();
        let n = start + lid;
        if n < params.n {
            if ids[n] == v {
                atomicOr(&hits[lid / 32u], 1u << (lid % 32u));
            }
        }
        workgroupBarrier();
        for (var w = 0u; w < WORDS; w += 1u) {
            var bits = atomicLoad(&hits[w]);
            while bits != 0u {
                let b = countTrailingZeros(bits);
                bits = bits & (bits - 1u);
                let src = (start + w * 32u + b) * params.channels;
                for (var c = lid; c < params.channels; c += WG) {
                    dtable[row + c] += dout[src + c];
                }
            }
        }
        // Everyone has read the mask before the next step clears it.
        workgroupBarrier();
    }
}
