// topk.wgsl: exact top-k by inner product of a batch of queries against a set of vectors,
// without ever holding the [Q, N] score matrix, and the gather variant that scans the inverted
// lists of an IVF index.
// forward: score[q,n] = Σ_d query[q,d] · vectors[n,d];  out[q] = the k largest (score, id),
//          sorted by score descending, then id ascending (ties go to the smaller id, so results
//          are deterministic). id = slot_base + n, or keys[n] when the vectors are reordered.
// Not differentiable: there is no backward.
// Two passes:
//   topk_forward (or topk_forward_lists): invocation (q, c) scores query q against chunk c of
//     CHUNK vectors and keeps a sorted top-k in private arrays; it writes k candidates at
//     group (group_offset + c) of cand [Q, G, k]. Chunks past the end, removed vectors (live
//     = 0) and short chunks leave (WORST, NONE) sentinels.
//   topk_merge: invocation (q, g') merges groups g'·F .. g'·F+F-1 of [Q, G, k] into group g'
//     of [Q, ceil(G/F), k]; repeated until one group is left.
// Grid: invocations flat over (q fastest, then chunk/group), folded into x, y with flat_group:
// neighbouring lanes score the same vectors against different queries, so the vector loads of
// a workgroup hit the same cache lines, and a single query still fills workgroups with chunks.
// Private top-k arrays: per-lane arrays are cheap on CPU drivers and on GPUs they live in
// registers or local memory; no workgroup memory or barrier is used.
// WG = 64: a multiple of common subgroup widths, a quarter of the 256-invocation default limit.
// Vectors and queries are read as vec4 (D is a multiple of 4; the index pads with zeros).
// Bindings (group 0):
//   topk_forward       0 params, 1 queries, 2 vectors, 3 live, 4 cand_scores, 5 cand_ids
//   topk_forward_lists 0 params, 1 queries, 2 vectors, 3 keys, 4 cand_scores, 5 cand_ids,
//                      6 probes, 7 offsets
//   topk_merge         0 params, 1 in_scores, 2 in_ids, 3 out_scores, 4 out_ids

struct Params {
    // Queries, and vec4s per vector (D / 4).
    q: u32,
    d4: u32,
    // Vectors in this dispatch's buffer, k, vectors per chunk, chunks of this dispatch.
    rows: u32,
    k: u32,
    chunk: u32,
    chunks: u32,
    // Groups per query of the candidate buffer written, and where this dispatch's start.
    groups: u32,
    group_offset: u32,
    // Id of vector 0 of this buffer (shards after the first start past the earlier ones).
    slot_base: u32,
    // 1 when `live` masks removed vectors (else it is a placeholder and never read).
    has_live: u32,
    // Merge: groups merged per output group, and the input's groups per query.
    fan_in: u32,
    in_groups: u32,
    // Lists: probes per query.
    nprobe: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

override WG: u32 = 64u;

// The largest k a private list holds; the host refuses larger k.
const KMAX: u32 = 64u;
// Lowest finite f32: an empty slot's score, below every real score.
const WORST: f32 = -3.4028235e38;
// An empty slot's id.
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> vectors: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> live: array<u32>;
@group(0) @binding(4) var<storage, read_write> cand_scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> cand_ids: array<u32>;

fn score(qbase: u32, n: u32) -> f32 {
    let vbase = n * params.d4;
    // Two accumulators: independent chains for the FMA pipeline.
    var a = vec4<f32>(0.0);
    var b = vec4<f32>(0.0);
    var d = 0u;
    for (; d + 1u < params.d4; d += 2u) {
        a = fma(queries[qbase + d], vectors[vbase + d], a);
        b = fma(queries[qbase + d + 1u], vectors[vbase + d + 1u], b);
    }
    if d < params.d4 {
        a = fma(queries[qbase + d], vectors[vbase + d], a);
    }
    let s = a + b;
    return (s.x + s.y) + (s.z + s.w);
}

// (sa, ia) ranks before (sb, ib): higher score, then smaller id; an empty slot ranks last.
fn better(sa: f32, ia: u32, sb: f32, ib: u32) -> bool {
    if ib == NONE {
        return ia != NONE;
    }
    return ia != NONE && (sa > sb || (sa == sb && ia < ib));
}

@compute @workgroup_size(WG)
fn topk_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    let q = idx % params.q;
    let c = idx / params.q;
    if c >= params.chunks {
        return;
    }
    let k = params.k;
    var best_s: array<f32, KMAX>;
    var best_i: array<u32, KMAX>;
    for (var j = 0u; j < k; j++) {
        best_s[j] = WORST;
        best_i[j] = NONE;
    }
    let qbase = q * params.d4;
    let start = c * params.chunk;
    let end = min(start + params.chunk, params.rows);
    for (var n = start; n < end; n++) {
        if params.has_live != 0u && live[n] == 0u {
            continue;
        }
        let s = score(qbase, n);
        // Vectors are visited in ascending id, so an equal score never displaces an earlier
        // one: a strict comparison keeps ties in id order.
        if s > best_s[k - 1u] {
            var j = k - 1u;
            for (; j > 0u && s > best_s[j - 1u]; j--) {
                best_s[j] = best_s[j - 1u];
                best_i[j] = best_i[j - 1u];
            }
            best_s[j] = s;
            best_i[j] = params.slot_base + n;
        }
    }
    let out = (q * params.groups + params.group_offset + c) * k;
    for (var j = 0u; j < k; j++) {
        cand_scores[out + j] = best_s[j];
        cand_ids[out + j] = best_i[j];
    }
}

@group(0) @binding(3) var<storage, read> keys: array<u32>;
@group(0) @binding(6) var<storage, read> probes: array<u32>;
@group(0) @binding(7) var<storage, read> offsets: array<u32>;

// Invocation (q, p, c): chunk c of the list probes[q, p]; the vectors are stored list by list,
// list l at rows offsets[l] .. offsets[l+1], and keys[n] is the id of row n.
@compute @workgroup_size(WG)
fn topk_forward_lists(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    let q = idx % params.q;
    let pc = idx / params.q;
    let p = pc % params.nprobe;
    let c = pc / params.nprobe;
    if c >= params.chunks {
        return;
    }
    let k = params.k;
    var best_s: array<f32, KMAX>;
    var best_i: array<u32, KMAX>;
    for (var j = 0u; j < k; j++) {
        best_s[j] = WORST;
        best_i[j] = NONE;
    }
    let list = probes[q * params.nprobe + p];
    let lo = offsets[list];
    let hi = offsets[list + 1u];
    let qbase = q * params.d4;
    let start = lo + c * params.chunk;
    let end = min(start + params.chunk, hi);
    for (var n = start; n < end; n++) {
        let id = keys[n];
        if id == NONE {
            continue;
        }
        let s = score(qbase, n);
        // Keys ascend within a list, so as in topk_forward a strict comparison keeps ties in
        // id order.
        if s > best_s[k - 1u] {
            var j = k - 1u;
            for (; j > 0u && s > best_s[j - 1u]; j--) {
                best_s[j] = best_s[j - 1u];
                best_i[j] = best_i[j - 1u];
            }
            best_s[j] = s;
            best_i[j] = id;
        }
    }
    let out = (q * params.groups + params.group_offset + p * params.chunks + c) * k;
    for (var j = 0u; j < k; j++) {
        cand_scores[out + j] = best_s[j];
        cand_ids[out + j] = best_i[j];
    }
}

@group(0) @binding(1) var<storage, read> in_scores: array<f32>;
@group(0) @binding(2) var<storage, read> in_ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_scores: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_ids: array<u32>;

@compute @workgroup_size(WG)
fn topk_merge(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    let q = idx % params.q;
    let g = idx / params.q;
    if g >= params.groups {
        return;
    }
    let k = params.k;
    var best_s: array<f32, KMAX>;
    var best_i: array<u32, KMAX>;
    for (var j = 0u; j < k; j++) {
        best_s[j] = WORST;
        best_i[j] = NONE;
    }
    let first = g * params.fan_in;
    let last = min(first + params.fan_in, params.in_groups);
    for (var h = first; h < last; h++) {
        let base = (q * params.in_groups + h) * k;
        for (var j = 0u; j < k; j++) {
            let s = in_scores[base + j];
            let i = in_ids[base + j];
            // Each input list is sorted: once one entry misses, the rest of it miss too.
            if !better(s, i, best_s[k - 1u], best_i[k - 1u]) {
                break;
            }
            var t = k - 1u;
            for (; t > 0u && better(s, i, best_s[t - 1u], best_i[t - 1u]); t--) {
                best_s[t] = best_s[t - 1u];
                best_i[t] = best_i[t - 1u];
            }
            best_s[t] = s;
            best_i[t] = i;
        }
    }
    let out = (q * params.groups + g) * k;
    for (var j = 0u; j < k; j++) {
        out_scores[out + j] = best_s[j];
        out_ids[out + j] = best_i[j];
    }
}
