// topk.wgsl: exact top-k by inner product of a batch of queries against a set of vectors,
// without ever holding the [Q, N] score matrix, and the gather variant that scans the inverted
// lists of an IVF index.
// forward: score[q,n] = Σ_d query[q,d] · vectors[n,d];  out[q] = the k largest (score, id),
//          sorted by score descending, then id ascending (ties go to the smaller id, so results
//          are deterministic). id = slot_base + n, or keys[n] when the vectors are reordered.
// Not differentiable: there is no backward.
// Two passes:
//   topk_forward: invocation (g, c) scores queries 8g .. 8g+7 against chunk c of CHUNK
//     vectors, 8 at a time in four 4x4 (query, vector) blocks, keeps a sorted top-k per
//     query in private arrays, and writes k candidates per query at group (group_offset + c) of
//     cand [Q, G, k]. Removed vectors (live = 0) and short chunks leave (WORST, NONE).
//   topk_forward_lists: invocation (q, p, c) scores query q against chunk c of its p-th
//     probed list, 4 vectors at a time; groups p·chunks + c.
//   topk_merge: invocation (q, g') merges groups g'·F .. g'·F+F-1 of [Q, G, k] into group g'
//     of [Q, ceil(G/F), k]; repeated until one group is left.
// Grid: invocations flat over (query group fastest, then chunk), folded into x, y with
// flat_group: neighbouring lanes read the same vectors, and a single query still fills
// workgroups with chunks.
// Measured on lavapipe (Mesa 22.3.6, 2 shared cores; 10,000 x 384, 64 queries, k = 10), where
// every storage load is scalarised over the lanes, so speed follows FMAs per loaded value:
// one query per invocation, 2 vec4 loads per vec4 FMA: 0.09 GFLOP/s; one 4x4 (query, vector)
// block per step: ~0.5-1; 8x8 (four 4x4 blocks) per step: 1.7 (matmul/register.wgsl's 32x32
// reaches ~3.6 there, but a top-k list per query makes large query tiles costly in private
// memory). The k-th score is kept per query so the common reject path reads no list.
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

// Sorted lists of up to KMAX (score, id) entries; topk_forward keeps one per query of its
// group of 8 at base = t·KMAX, the other entries use base 0.
const LISTS: u32 = 512u;

// Each invocation's sorted candidate lists (scores and ids), private. Module-scope rather than
// locals passed by pointer: GLSL has no pointers, so naga hands a pointer-to-array parameter
// over as an `inout` copy of all 512 elements per call, which Mesa's GL compiler turned into
// minutes of LLVM per pipeline (wgpu's GL backend); a private global is used in place.
var<private> bs: array<f32, LISTS>;
var<private> bi: array<u32, LISTS>;

// Inserts (s, id) into the sorted list at base .. base + k, where s beats the k-th entry;
// returns the new k-th score. Entries arrive in ascending id, so an equal score never displaces
// an earlier one and the strict comparison keeps ties in id order.
fn insert(base: u32, k: u32, s: f32, id: u32) -> f32 {
    var j = k - 1u;
    for (; j > 0u && s > bs[base + j - 1u]; j--) {
        bs[base + j] = bs[base + j - 1u];
        bi[base + j] = bi[base + j - 1u];
    }
    bs[base + j] = s;
    bi[base + j] = id;
    return bs[base + k - 1u];
}

// Invocation (g, c): queries 8g .. 8g+7 against chunk c, 8 vectors at a time. Each step
// multiplies 4x4 blocks: 16 vec4 loads (8 query rows, 8 vector rows) feed 256 multiply-adds
// held in four mat4x4 accumulators; column t of a block holds query t's scores against the
// block's 4 vectors.
@compute @workgroup_size(WG)
fn topk_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    let groups8 = (params.q + 7u) / 8u;
    let g = idx % groups8;
    let c = idx / groups8;
    if c >= params.chunks {
        return;
    }
    let k = params.k;
    for (var j = 0u; j < k; j++) {
        for (var t = 0u; t < 8u; t++) {
            bs[t * KMAX + j] = WORST;
            bi[t * KMAX + j] = NONE;
        }
    }
    // The k-th best score of each list: the common reject path reads no list.
    var thr: array<f32, 8>;
    for (var t = 0u; t < 8u; t++) {
        thr[t] = WORST;
    }
    let q0 = g * 8u;
    let last_q = vec4<u32>(params.q - 1u);
    // Rows past Q repeat the last query; their lists are never written out.
    let qa = min(vec4<u32>(q0, q0 + 1u, q0 + 2u, q0 + 3u), last_q) * params.d4;
    let qb = min(vec4<u32>(q0 + 4u, q0 + 5u, q0 + 6u, q0 + 7u), last_q) * params.d4;
    let nq = min(8u, params.q - q0);
    let start = c * params.chunk;
    let end = min(start + params.chunk, params.rows);
    for (var n = start; n < end; n += 8u) {
        let last = vec4<u32>(end - 1u);
        let va = min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), last) * params.d4;
        let vb = min(vec4<u32>(n + 4u, n + 5u, n + 6u, n + 7u), last) * params.d4;
        var a00 = mat4x4<f32>();
        var a01 = mat4x4<f32>();
        var a10 = mat4x4<f32>();
        var a11 = mat4x4<f32>();
        for (var d = 0u; d < params.d4; d++) {
            let qma = mat4x4<f32>(
                queries[qa.x + d], queries[qa.y + d], queries[qa.z + d], queries[qa.w + d],
            );
            let qmb = mat4x4<f32>(
                queries[qb.x + d], queries[qb.y + d], queries[qb.z + d], queries[qb.w + d],
            );
            let vma = transpose(mat4x4<f32>(
                vectors[va.x + d], vectors[va.y + d], vectors[va.z + d], vectors[va.w + d],
            ));
            let vmb = transpose(mat4x4<f32>(
                vectors[vb.x + d], vectors[vb.y + d], vectors[vb.z + d], vectors[vb.w + d],
            ));
            a00 += vma * qma;
            a01 += vmb * qma;
            a10 += vma * qmb;
            a11 += vmb * qmb;
        }
        for (var v = 0u; v < min(8u, end - n); v++) {
            let row = n + v;
            if params.has_live != 0u && live[row] == 0u {
                continue;
            }
            for (var t = 0u; t < nq; t++) {
                var col: vec4<f32>;
                if t < 4u {
                    col = select(a01[t], a00[t], v < 4u);
                } else {
                    col = select(a11[t - 4u], a10[t - 4u], v < 4u);
                }
                let s = col[v % 4u];
                if s > thr[t] {
                    thr[t] = insert(t * KMAX, k, s, params.slot_base + row);
                }
            }
        }
    }
    for (var t = 0u; t < nq; t++) {
        let out = ((q0 + t) * params.groups + params.group_offset + c) * k;
        for (var j = 0u; j < k; j++) {
            cand_scores[out + j] = bs[t * KMAX + j];
            cand_ids[out + j] = bi[t * KMAX + j];
        }
    }
}

@group(0) @binding(3) var<storage, read> keys: array<u32>;
@group(0) @binding(6) var<storage, read> probes: array<u32>;
@group(0) @binding(7) var<storage, read> offsets: array<u32>;

// Invocation (q, p, c): chunk c of the list probes[q, p]; the vectors are stored list by list,
// list l at rows offsets[l] .. offsets[l+1], and keys[n] is the id of row n (ascending within
// a list). Queries of one workgroup probe different lists, so this scores one query against
// 4 vectors per step, with the same arithmetic as topk_forward (a query's column of the 4x4
// block), so that probing every list reproduces exact search bit for bit.
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
    for (var j = 0u; j < k; j++) {
        bs[j] = WORST;
        bi[j] = NONE;
    }
    var thr = WORST;
    let list = probes[q * params.nprobe + p];
    let lo = offsets[list];
    let hi = offsets[list + 1u];
    let qbase = q * params.d4;
    let start = lo + c * params.chunk;
    let end = min(start + params.chunk, hi);
    for (var n = start; n < end; n += 4u) {
        let rows = min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(end - 1u)) * params.d4;
        var acc = vec4<f32>(0.0);
        for (var d = 0u; d < params.d4; d++) {
            let vm = mat4x4<f32>(
                vectors[rows.x + d],
                vectors[rows.y + d],
                vectors[rows.z + d],
                vectors[rows.w + d],
            );
            acc += transpose(vm) * queries[qbase + d];
        }
        for (var v = 0u; v < min(4u, end - n); v++) {
            let id = keys[n + v];
            if id != NONE && acc[v] > thr {
                thr = insert(0u, k, acc[v], id);
            }
        }
    }
    let out = (q * params.groups + params.group_offset + p * params.chunks + c) * k;
    for (var j = 0u; j < k; j++) {
        cand_scores[out + j] = bs[j];
        cand_ids[out + j] = bi[j];
    }
}

// (sa, ia) ranks before (sb, ib): higher score, then smaller id; an empty slot ranks last.
fn better(sa: f32, ia: u32, sb: f32, ib: u32) -> bool {
    if ib == NONE {
        return ia != NONE;
    }
    return ia != NONE && (sa > sb || (sa == sb && ia < ib));
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
