// attention.wgsl: fused scaled dot-product attention (flash-style forward, FlashAttention-2
// style backward). Shapes: q [B,H,Tq,D], k and v [B,H,Tk,D], o [B,H,Tq,D], lse [B,H,Tq].
// forward:  s[i,j] = scale * q_i·k_j (masked keys drop out), lse_i = log Σ_j exp(s[i,j]),
//           o_i = Σ_j exp(s[i,j] - lse_i) v_j. Online softmax over blocks of KB keys: a running
//           max m and sum l, the accumulator rescaled by exp(m_old - m_new) when m grows; the
//           Tq×Tk score matrix never leaves registers.
// backward: P = exp(S - lse) recomputed; D_i = Σ_d dO[i,d] O[i,d] (preprocess);
//           dV_j = Σ_i P[i,j] dO_i;  dP[i,j] = dO_i·v_j;  dS = P ∘ (dP - D);
//           dK_j = scale Σ_i dS[i,j] q_i;  dQ_i = scale Σ_j dS[i,j] k_j.
//           Each output row is owned by one invocation, so no atomics are needed.
// Masks: causal keeps j <= i + (Tk - Tq) (bottom-right aligned: the last query sees every key);
//   the key-padding mask [B,Tk] (u32, or f32 read through its bits) drops key j where it is 0.
//   Masked keys are skipped, never given NEG_LARGE scores and exponentiated, so a query with no
//   visible key keeps l = 0 and writes o = 0, lse = NEG_LARGE, and zero gradients.
// Grid: one invocation per output row (query row for forward, preprocess and dq; key row for
//   dkdv), WG consecutive rows of one (b,h) per workgroup, workgroups folded by grid_1d. The
//   row's vectors and accumulators live in private arrays of MAX_D floats.
// Why this layout (lavapipe): neighbouring lanes share (b,h) and walk the same key (or query)
//   in lockstep, so every k/v/q load of the inner loops is one address for all lanes; there is
//   no workgroup memory and no barrier, which lavapipe makes expensive. A workgroup-per-block
//   design staging K/V in workgroup memory was the alternative; with no barriers to amortise it
//   only adds copies on a CPU, where the per-lane L1 already holds the shared K/V rows. On a
//   real GPU the same kernel is valid (broadcast loads hit the cache).
// WG = 64 (override): a multiple of lavapipe's 8 lanes and of GPU subgroup widths; a query
//   block of 64 rows keeps each key row reused 64 times per load. KB = 16 keys per online-
//   softmax step: one rescale of the accumulator per 16 keys instead of per key.
// Bindings (group 0): forward 0 params, 1 q, 2 k, 3 v, 4 mask, 5 o, 6 lse;
//   preprocess 0 params, 1 o, 2 dout, 3 lse, 4 stats ([B,H,Tq,2] = (lse_i, D_i), packed so that
//   dkdv stays within 8 storage buffers); dkdv 0 params, 1 q, 2 k, 3 v, 4 mask, 5 dout,
//   6 stats, 7 dk, 8 dv; dq 0 params, 1 q, 2 k, 3 v, 4 mask, 5 dout, 6 stats, 7 dq.
//   With no padding mask, mask is a 1-element dummy and mask_kind = 0.
// No workgroup memory is used.

struct Params {
    bh: u32,
    heads: u32,
    tq: u32,
    tk: u32,
    d: u32,
    scale: f32,
    causal: u32,
    // 0 no mask, 1 u32 mask, 2 f32 mask.
    mask_kind: u32,
}

override WG: u32 = 64u;
const MAX_D: u32 = 128u;
const KB: u32 = 16u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;

// Whether batch b's key j is not padded.
fn key_kept(b: u32, j: u32) -> bool {
    if params.mask_kind == 0u {
        return true;
    }
    let bits = mask[b * params.tk + j];
    if params.mask_kind == 2u {
        return bitcast<f32>(bits) != 0.0;
    }
    return bits != 0u;
}

// One past the last key query i sees under the causal mask: i + Tk - Tq + 1, clamped to
// [0, Tk], written without u32 underflow.
fn key_end(i: u32) -> u32 {
    if params.causal == 0u {
        return params.tk;
    }
    if i + params.tk + 1u <= params.tq {
        return 0u;
    }
    return min(params.tk, i + params.tk + 1u - params.tq);
}

// First query that sees key j under the causal mask: max(0, j + Tq - Tk).
fn query_start(j: u32) -> u32 {
    if params.causal == 0u || j + params.tq <= params.tk {
        return 0u;
    }
    return j + params.tq - params.tk;
}

// (b·h, row) of this invocation, or row = n_rows when it has none.
fn row_of(wid: vec3<u32>, num: vec3<u32>, lid: u32, n_rows: u32) -> vec2<u32> {
    let g = flat_group(wid, num);
    let blocks = (n_rows + WG - 1u) / WG;
    let bh = g / blocks;
    if bh >= params.bh {
        return vec2<u32>(0u, n_rows);
    }
    return vec2<u32>(bh, (g % blocks) * WG + lid);
}

@group(0) @binding(5) var<storage, read_write> o: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;

@compute @workgroup_size(WG)
fn attention_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = row_of(wid, num, lid, params.tq);
    let bh = r.x;
    let i = r.y;
    // No barriers in this kernel, so idle lanes may leave early.
    if i >= params.tq {
        return;
    }
    let dim = params.d;
    let b = bh / params.heads;
    let q_base = (bh * params.tq + i) * dim;
    let kv_base = bh * params.tk * dim;
    var qr: array<f32, MAX_D>;
    var acc: array<f32, MAX_D>;
    for (var d = 0u; d < dim; d++) {
        qr[d] = q[q_base + d] * params.scale;
        acc[d] = 0.0;
    }
    var m = NEG_LARGE;
    var l = 0.0;
    let j_end = key_end(i);
    for (var j0 = 0u; j0 < j_end; j0 += KB) {
        let n = min(KB, j_end - j0);
        var s: array<f32, KB>;
        var kept = 0u;
        var block_max = NEG_LARGE;
        for (var c = 0u; c < n; c++) {
            if key_kept(b, j0 + c) {
                let k_row = kv_base + (j0 + c) * dim;
                var qk = 0.0;
                for (var d = 0u; d < dim; d++) {
                    qk += qr[d] * k[k_row + d];
                }
                s[c] = qk;
                kept |= 1u << c;
                block_max = max(block_max, qk);
            }
        }
        if kept == 0u {
            continue;
        }
        let m_new = max(m, block_max);
        // exp(NEG_LARGE - finite) is exactly 0, so the first kept block starts cleanly.
        let alpha = exp(m - m_new);
        l *= alpha;
        for (var d = 0u; d < dim; d++) {
            acc[d] *= alpha;
        }
        for (var c = 0u; c < n; c++) {
            if (kept & (1u << c)) != 0u {
                let p = exp(s[c] - m_new);
                l += p;
                let v_row = kv_base + (j0 + c) * dim;
                for (var d = 0u; d < dim; d++) {
                    acc[d] += p * v[v_row + d];
                }
            }
        }
        m = m_new;
    }
    if l > 0.0 {
        let inv = 1.0 / l;
        for (var d = 0u; d < dim; d++) {
            o[q_base + d] = acc[d] * inv;
        }
        lse[bh * params.tq + i] = m + log(l);
    } else {
        for (var d = 0u; d < dim; d++) {
            o[q_base + d] = 0.0;
        }
        lse[bh * params.tq + i] = NEG_LARGE;
    }
}

@group(0) @binding(1) var<storage, read> pre_o: array<f32>;
@group(0) @binding(2) var<storage, read> pre_dout: array<f32>;
@group(0) @binding(3) var<storage, read> pre_lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats_out: array<f32>;

@compute @workgroup_size(WG)
fn attention_backward_preprocess(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = row_of(wid, num, lid, params.tq);
    if r.y >= params.tq {
        return;
    }
    let row = r.x * params.tq + r.y;
    let base = row * params.d;
    var delta = 0.0;
    for (var d = 0u; d < params.d; d++) {
        delta += pre_dout[base + d] * pre_o[base + d];
    }
    stats_out[2u * row] = pre_lse[row];
    stats_out[2u * row + 1u] = delta;
}

@group(0) @binding(5) var<storage, read> dout: array<f32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(WG)
fn attention_backward_dkdv(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = row_of(wid, num, lid, params.tk);
    let bh = r.x;
    let j = r.y;
    if j >= params.tk {
        return;
    }
    let dim = params.d;
    let b = bh / params.heads;
    let kv_row = (bh * params.tk + j) * dim;
    let q_base = bh * params.tq * dim;
    var kr: array<f32, MAX_D>;
    var vr: array<f32, MAX_D>;
    var dk_acc: array<f32, MAX_D>;
    var dv_acc: array<f32, MAX_D>;
    for (var d = 0u; d < dim; d++) {
        kr[d] = k[kv_row + d] * params.scale;
        vr[d] = v[kv_row + d];
        dk_acc[d] = 0.0;
        dv_acc[d] = 0.0;
    }
    // A padded key is seen by no query: its gradients stay 0.
    if key_kept(b, j) {
        for (var i = query_start(j); i < params.tq; i++) {
            let row = bh * params.tq + i;
            let row_lse = stats[2u * row];
            // Unreachable for a visible key (its query sees at least this key); kept so that
            // a NEG_LARGE lse can never make exp overflow.
            if row_lse == NEG_LARGE {
                continue;
            }
            let q_row = q_base + i * dim;
            var s = 0.0;
            var dp = 0.0;
            for (var d = 0u; d < dim; d++) {
                s += q[q_row + d] * kr[d];
                dp += dout[q_row + d] * vr[d];
            }
            let p = exp(s - row_lse);
            let ds = p * (dp - stats[2u * row + 1u]);
            for (var d = 0u; d < dim; d++) {
                dv_acc[d] += p * dout[q_row + d];
                dk_acc[d] += ds * q[q_row + d];
            }
        }
    }
    for (var d = 0u; d < dim; d++) {
        dk[kv_row + d] = dk_acc[d] * params.scale;
        dv[kv_row + d] = dv_acc[d];
    }
}

@group(0) @binding(7) var<storage, read_write> dq: array<f32>;

@compute @workgroup_size(WG)
fn attention_backward_dq(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = row_of(wid, num, lid, params.tq);
    let bh = r.x;
    let i = r.y;
    if i >= params.tq {
        return;
    }
    let dim = params.d;
    let b = bh / params.heads;
    let row = bh * params.tq + i;
    let q_row = row * dim;
    let kv_base = bh * params.tk * dim;
    var qr: array<f32, MAX_D>;
    var dor: array<f32, MAX_D>;
    var dq_acc: array<f32, MAX_D>;
    for (var d = 0u; d < dim; d++) {
        qr[d] = q[q_row + d] * params.scale;
        dor[d] = dout[q_row + d];
        dq_acc[d] = 0.0;
    }
    let row_lse = stats[2u * row];
    let delta = stats[2u * row + 1u];
    // A query with no visible key has lse = NEG_LARGE and a zero gradient.
    let j_end = select(key_end(i), 0u, row_lse == NEG_LARGE);
    for (var j = 0u; j < j_end; j++) {
        if !key_kept(b, j) {
            continue;
        }
        let kv_row = kv_base + j * dim;
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < dim; d++) {
            s += qr[d] * k[kv_row + d];
            dp += dor[d] * v[kv_row + d];
        }
        let ds = exp(s - row_lse) * (dp - delta);
        for (var d = 0u; d < dim; d++) {
            dq_acc[d] += ds * k[kv_row + d];
        }
    }
    for (var d = 0u; d < dim; d++) {
        dq[q_row + d] = dq_acc[d] * params.scale;
    }
}
