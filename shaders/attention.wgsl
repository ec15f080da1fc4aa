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
//   row's vectors and accumulators live in private arrays of MAX_D / 4 vec4s.
// Why this layout (lavapipe): neighbouring lanes share (b,h) and walk the same key (or query)
//   in lockstep: loop bounds come from the workgroup id only (lanes past their causal end or
//   past the last row compute masked, unwritten work), so every k/v/q load of the inner loops
//   has one address for the whole workgroup, and there is no workgroup memory and no barrier,
//   which lavapipe makes expensive. On a real GPU the same kernel is valid (broadcast loads).
// Tried, at B8 H8 T256 D64 on llvmpipe (noisy: the machine was shared): per-lane loop bounds
//   with early exits (divergent loads) 6.2 s forward; uniform bounds 4.2 s; plus vec4 chunks
//   over a constant trip count MAX_D4 (unrollable, so private arrays can stay in registers)
//   2.3-4.6 s depending on the load from other processes. R query rows per invocation in the
//   forward (each k/v load feeds R rows), side by side in one run: R=1 4.6 s, R=2 3.0 s,
//   R=4 2.4 s; R=2 is kept because R=4 takes lavapipe ~40 s to compile cold (R=2: ~15 s).
//   Forward d loops bounded by ceil(D/4) instead of MAX_D4 (quiet machine, same run as the
//   unfused composition): 1.50 s -> 1.11 s; the unfused composition takes 0.26 s there. The
//   same in the backward kernels: forward+backward 9.3 s -> 8.1 s (unfused 0.95 s).
//   Not tried for lack of time: K/V blocks staged in workgroup memory (costs barriers), R rows
//   per invocation in the backward, a vec4-typed binding when D % 4 == 0.
// ConstHeadDim (the *_hd4 entry points, D % 4 == 0 and D <= 64, chosen by default): D an
//   override constant and vec4 bindings. MEASURED on llvmpipe (2 shared cores; scratch bench
//   `examples/zz_perf.rs att`, median of 7, two interleaved rounds), B64 H4 D16, generic ->
//   hd4 in ms: Tq=Tk=29: forward 56 -> 46-52, dkdv 185-188 -> 84-92, dq 132-137 -> 82-88;
//   Tq=Tk=11 causal: forward 8.0 -> 6.4, dkdv 38-40 -> 16, dq 28 -> 10-14;
//   Tq=11 Tk=29: forward 26-29 -> 23-24, dkdv 73-77 -> 30-36, dq 68-73 -> 42-44.
//   Then BR = 2 rows per invocation in the hd4 backward passes (a quieter machine, same
//   command, generic -> hd4): Tq=Tk=29: dkdv 126-131 -> 39-40, dq 91-94 -> 32;
//   Tq=Tk=11 causal: dkdv 24-26 -> 7.4-8.2, dq 19-20 -> 6.8-7.6; Tq=11 Tk=29: dkdv 52-59 -> 16,
//   dq 48 -> 16. Forward (R = 2 already): 39 -> 30, 7-8 -> 6-7, 18-19 -> 16-20.
//   Tried: R = 4 in attention_forward_hd4 (a noisier run): Tq=Tk=29 34-35 ms against the
//   generic 38-74 (R = 2 had 30 against 39); no clear gain, not kept.
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
const MAX_D4: u32 = MAX_D / 4u;
// Query rows per invocation in the forward.
const R: u32 = 2u;
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

// The workgroup's (b·h, first row), from the workgroup id alone so that it is uniform; bh is
// params.bh past the end of the grid.
fn block_of(wid: vec3<u32>, num: vec3<u32>, n_rows: u32) -> vec2<u32> {
    let g = flat_group(wid, num);
    let blocks = (n_rows + WG - 1u) / WG;
    return vec2<u32>(min(g / blocks, params.bh), (g % blocks) * WG);
}

@group(0) @binding(5) var<storage, read_write> o: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;

@compute @workgroup_size(WG)
fn attention_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Each invocation owns R query rows, lid + r·WG of a block of R·WG rows, so that every
    // k and v load feeds R rows.
    let g = flat_group(wid, num);
    let blocks = (params.tq + R * WG - 1u) / (R * WG);
    let bh = g / blocks;
    if bh >= params.bh {
        return;
    }
    let row0 = (g % blocks) * R * WG;
    let dim = params.d;
    let dim4 = (dim + 3u) / 4u;
    let b = bh / params.heads;
    let kv_base = bh * params.tk * dim;
    // Private arrays sized for MAX_D, walked in vec4 chunks over ceil(D/4) only (a constant
    // MAX_D/4 trip count let LLVM unroll, but did twice the work at D = 64 and measured slower);
    // q's tail past D is 0, so clamped k/v reads there drop out.
    var qr: array<array<vec4<f32>, MAX_D4>, R>;
    var acc: array<array<vec4<f32>, MAX_D4>, R>;
    var m: array<f32, R>;
    var l: array<f32, R>;
    var j_end: array<u32, R>;
    for (var r = 0u; r < R; r++) {
        // Rows past the end compute the last row again and are not written, so that every
        // loop bound and load address below stays uniform across the workgroup.
        let i = min(row0 + r * WG + lid, params.tq - 1u);
        let q_base = (bh * params.tq + i) * dim;
        for (var d4 = 0u; d4 < dim4; d4++) {
            let e = 4u * d4;
            var qv = vec4<f32>(0.0);
            for (var t = 0u; t < 4u; t++) {
                if e + t < dim {
                    qv[t] = q[q_base + e + t] * params.scale;
                }
            }
            qr[r][d4] = qv;
            acc[r][d4] = vec4<f32>(0.0);
        }
        m[r] = NEG_LARGE;
        l[r] = 0.0;
        j_end[r] = key_end(i);
    }
    var s: array<array<f32, KB>, R>;
    // key_end grows with i, so the block's last row bounds every lane's keys.
    let j_end_block = key_end(min(row0 + R * WG, params.tq) - 1u);
    for (var j0 = 0u; j0 < j_end_block; j0 += KB) {
        let n = min(KB, j_end_block - j0);
        var kept: array<u32, R>;
        var block_max: array<f32, R>;
        for (var r = 0u; r < R; r++) {
            kept[r] = 0u;
            block_max[r] = NEG_LARGE;
        }
        for (var c = 0u; c < n; c++) {
            let j = j0 + c;
            if key_kept(b, j) {
                let k_row = kv_base + j * dim;
                let last = k_row + dim - 1u;
                var qk: array<f32, R>;
                for (var d4 = 0u; d4 < dim4; d4++) {
                    if d4 < dim4 {
                        let e = k_row + 4u * d4;
                        let kv = vec4<f32>(k[e], k[min(e + 1u, last)], k[min(e + 2u, last)], k[min(e + 3u, last)]);
                        for (var r = 0u; r < R; r++) {
                            qk[r] += dot(qr[r][d4], kv);
                        }
                    }
                }
                for (var r = 0u; r < R; r++) {
                    s[r][c] = qk[r];
                    let visible = j < j_end[r];
                    kept[r] = select(kept[r], kept[r] | (1u << c), visible);
                    block_max[r] = select(block_max[r], max(block_max[r], qk[r]), visible);
                }
            }
        }
        // With nothing kept in this block m_new = m and alpha = 1; from m = NEG_LARGE,
        // exp(NEG_LARGE - finite) is exactly 0, so the first kept block starts cleanly.
        var m_new: array<f32, R>;
        for (var r = 0u; r < R; r++) {
            m_new[r] = max(m[r], block_max[r]);
            let alpha = exp(m[r] - m_new[r]);
            l[r] *= alpha;
            for (var d4 = 0u; d4 < dim4; d4++) {
                acc[r][d4] *= alpha;
            }
            m[r] = m_new[r];
        }
        for (var c = 0u; c < n; c++) {
            let j = j0 + c;
            if key_kept(b, j) {
                var p: array<f32, R>;
                for (var r = 0u; r < R; r++) {
                    p[r] = select(0.0, exp(s[r][c] - m_new[r]), (kept[r] & (1u << c)) != 0u);
                    l[r] += p[r];
                }
                let v_row = kv_base + j * dim;
                let last = v_row + dim - 1u;
                for (var d4 = 0u; d4 < dim4; d4++) {
                    if d4 < dim4 {
                        let e = v_row + 4u * d4;
                        let vv = vec4<f32>(v[e], v[min(e + 1u, last)], v[min(e + 2u, last)], v[min(e + 3u, last)]);
                        for (var r = 0u; r < R; r++) {
                            acc[r][d4] += p[r] * vv;
                        }
                    }
                }
            }
        }
    }
    for (var r = 0u; r < R; r++) {
        let i = row0 + r * WG + lid;
        if i >= params.tq {
            break;
        }
        let q_base = (bh * params.tq + i) * dim;
        if l[r] > 0.0 {
            let inv = 1.0 / l[r];
            for (var d = 0u; d < dim; d++) {
                o[q_base + d] = acc[r][d / 4u][d % 4u] * inv;
            }
            lse[bh * params.tq + i] = m[r] + log(l[r]);
        } else {
            for (var d = 0u; d < dim; d++) {
                o[q_base + d] = 0.0;
            }
            lse[bh * params.tq + i] = NEG_LARGE;
        }
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
    let blk = block_of(wid, num, params.tq);
    if blk.x >= params.bh || blk.y + lid >= params.tq {
        return;
    }
    let row = blk.x * params.tq + blk.y + lid;
    let base = row * params.d;
    // D_i is summed exactly as dP is in the passes below (vec4 dots over ceil(D/4), tails 0),
    // so dP - D_i is exactly 0 where it is mathematically 0 (one visible key: O = V).
    var delta = 0.0;
    for (var d4 = 0u; d4 < (params.d + 3u) / 4u; d4++) {
        var dov = vec4<f32>(0.0);
        var ov = vec4<f32>(0.0);
        for (var t = 0u; t < 4u; t++) {
            if 4u * d4 + t < params.d {
                dov[t] = pre_dout[base + 4u * d4 + t];
                ov[t] = pre_o[base + 4u * d4 + t];
            }
        }
        delta += dot(dov, ov);
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
    let blk = block_of(wid, num, params.tk);
    let bh = blk.x;
    if bh >= params.bh {
        return;
    }
    let live = blk.y + lid < params.tk;
    let j = min(blk.y + lid, params.tk - 1u);
    let dim = params.d;
    let b = bh / params.heads;
    let kv_row = (bh * params.tk + j) * dim;
    let q_base = bh * params.tq * dim;
    let dim4 = (dim + 3u) / 4u;
    // As in the forward: vec4 chunks over ceil(D/4); k's and v's tails past D are 0, so
    // clamped q/dout reads there drop out of the dots.
    var kr: array<vec4<f32>, MAX_D4>;
    var vr: array<vec4<f32>, MAX_D4>;
    var dk_acc: array<vec4<f32>, MAX_D4>;
    var dv_acc: array<vec4<f32>, MAX_D4>;
    for (var d4 = 0u; d4 < dim4; d4++) {
        let e = 4u * d4;
        var kv = vec4<f32>(0.0);
        var vv = vec4<f32>(0.0);
        for (var t = 0u; t < 4u; t++) {
            if e + t < dim {
                kv[t] = k[kv_row + e + t] * params.scale;
                vv[t] = v[kv_row + e + t];
            }
        }
        kr[d4] = kv;
        vr[d4] = vv;
        dk_acc[d4] = vec4<f32>(0.0);
        dv_acc[d4] = vec4<f32>(0.0);
    }
    // A padded key is seen by no query: its gradients stay 0.
    let kept = key_kept(b, j);
    let i_start = query_start(j);
    // query_start grows with j, so the block's first key's start bounds every lane's.
    for (var i = query_start(blk.y); i < params.tq; i++) {
        let row = bh * params.tq + i;
        let row_lse = stats[2u * row];
        // A query with no visible key (lse = NEG_LARGE) contributes nothing; skipping it
        // also keeps exp(s - lse) from overflowing.
        if row_lse == NEG_LARGE {
            continue;
        }
        let q_row = q_base + i * dim;
        let last = q_row + dim - 1u;
        var s = 0.0;
        var dp = 0.0;
        for (var d4 = 0u; d4 < dim4; d4++) {
            if d4 < dim4 {
                let e = q_row + 4u * d4;
                let qv = vec4<f32>(q[e], q[min(e + 1u, last)], q[min(e + 2u, last)], q[min(e + 3u, last)]);
                let dov = vec4<f32>(dout[e], dout[min(e + 1u, last)], dout[min(e + 2u, last)], dout[min(e + 3u, last)]);
                s += dot(qv, kr[d4]);
                dp += dot(dov, vr[d4]);
            }
        }
        let p = select(0.0, exp(s - row_lse), kept && i >= i_start);
        let ds = p * (dp - stats[2u * row + 1u]);
        for (var d4 = 0u; d4 < dim4; d4++) {
            if d4 < dim4 {
                let e = q_row + 4u * d4;
                let qv = vec4<f32>(q[e], q[min(e + 1u, last)], q[min(e + 2u, last)], q[min(e + 3u, last)]);
                let dov = vec4<f32>(dout[e], dout[min(e + 1u, last)], dout[min(e + 2u, last)], dout[min(e + 3u, last)]);
                dv_acc[d4] += p * dov;
                dk_acc[d4] += ds * qv;
            }
        }
    }
    if !live {
        return;
    }
    for (var d = 0u; d < dim; d++) {
        dk[kv_row + d] = dk_acc[d / 4u][d % 4u] * params.scale;
        dv[kv_row + d] = dv_acc[d / 4u][d % 4u];
    }
}

@group(0) @binding(7) var<storage, read_write> dq: array<f32>;

@compute @workgroup_size(WG)
fn attention_backward_dq(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blk = block_of(wid, num, params.tq);
    let bh = blk.x;
    if bh >= params.bh {
        return;
    }
    let live = blk.y + lid < params.tq;
    let i = min(blk.y + lid, params.tq - 1u);
    let dim = params.d;
    let b = bh / params.heads;
    let row = bh * params.tq + i;
    let q_row = row * dim;
    let kv_base = bh * params.tk * dim;
    let dim4 = (dim + 3u) / 4u;
    // As in the forward: vec4 chunks over ceil(D/4); q's and dout's tails past D are 0.
    var qr: array<vec4<f32>, MAX_D4>;
    var dor: array<vec4<f32>, MAX_D4>;
    var dq_acc: array<vec4<f32>, MAX_D4>;
    for (var d4 = 0u; d4 < dim4; d4++) {
        let e = 4u * d4;
        var qv = vec4<f32>(0.0);
        var dov = vec4<f32>(0.0);
        for (var t = 0u; t < 4u; t++) {
            if e + t < dim {
                qv[t] = q[q_row + e + t] * params.scale;
                dov[t] = dout[q_row + e + t];
            }
        }
        qr[d4] = qv;
        dor[d4] = dov;
        dq_acc[d4] = vec4<f32>(0.0);
    }
    let row_lse = stats[2u * row];
    let delta = stats[2u * row + 1u];
    let j_end = key_end(i);
    // A query with no visible key (lse = NEG_LARGE) keeps a zero gradient.
    let any_key = row_lse != NEG_LARGE;
    let j_end_block = key_end(min(blk.y + WG, params.tq) - 1u);
    for (var j = 0u; j < j_end_block; j++) {
        if !key_kept(b, j) {
            continue;
        }
        let kv_row = kv_base + j * dim;
        let last = kv_row + dim - 1u;
        var s = 0.0;
        var dp = 0.0;
        for (var d4 = 0u; d4 < dim4; d4++) {
            if d4 < dim4 {
                let e = kv_row + 4u * d4;
                let kv = vec4<f32>(k[e], k[min(e + 1u, last)], k[min(e + 2u, last)], k[min(e + 3u, last)]);
                let vv = vec4<f32>(v[e], v[min(e + 1u, last)], v[min(e + 2u, last)], v[min(e + 3u, last)]);
                s += dot(qr[d4], kv);
                dp += dot(dor[d4], vv);
            }
        }
        let ds = select(0.0, exp(s - row_lse), any_key && j < j_end) * (dp - delta);
        for (var d4 = 0u; d4 < dim4; d4++) {
            if d4 < dim4 {
                let e = kv_row + 4u * d4;
                let kv = vec4<f32>(k[e], k[min(e + 1u, last)], k[min(e + 2u, last)], k[min(e + 3u, last)]);
                dq_acc[d4] += ds * kv;
            }
        }
    }
    if !live {
        return;
    }
    for (var d = 0u; d < dim; d++) {
        dq[q_row + d] = dq_acc[d / 4u][d % 4u] * params.scale;
    }
}

// ---- Head dimension fixed at pipeline creation (D % 4 == 0): the *_hd4 entry points ----
// The same three kernels with D = 4·HD4 an override constant and q, k, v, dout and the outputs
// bound as vec4 arrays. Every d loop then has a constant trip count, so LLVM unrolls it and the
// private row arrays, indexed by constants only, stay in registers; and each vec4 load is one
// (per-lane scalarised) storage access on lavapipe where the kernels above make four, plus the
// clamps. MEASURED figures in the header.

override HD4: u32 = 4u;

@group(0) @binding(1) var<storage, read> q4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> o4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn attention_forward_hd4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Row ownership, masks and the online softmax as in attention_forward.
    let g = flat_group(wid, num);
    let blocks = (params.tq + R * WG - 1u) / (R * WG);
    let bh = g / blocks;
    if bh >= params.bh {
        return;
    }
    let row0 = (g % blocks) * R * WG;
    let b = bh / params.heads;
    let kv_base = bh * params.tk * HD4;
    var qr: array<array<vec4<f32>, MAX_D4>, R>;
    var acc: array<array<vec4<f32>, MAX_D4>, R>;
    var m: array<f32, R>;
    var l: array<f32, R>;
    var j_end: array<u32, R>;
    for (var r = 0u; r < R; r++) {
        let i = min(row0 + r * WG + lid, params.tq - 1u);
        let q_base = (bh * params.tq + i) * HD4;
        for (var d4 = 0u; d4 < HD4; d4++) {
            qr[r][d4] = q4[q_base + d4] * params.scale;
            acc[r][d4] = vec4<f32>(0.0);
        }
        m[r] = NEG_LARGE;
        l[r] = 0.0;
        j_end[r] = key_end(i);
    }
    var s: array<array<f32, KB>, R>;
    let j_end_block = key_end(min(row0 + R * WG, params.tq) - 1u);
    for (var j0 = 0u; j0 < j_end_block; j0 += KB) {
        let n = min(KB, j_end_block - j0);
        var kept: array<u32, R>;
        var block_max: array<f32, R>;
        for (var r = 0u; r < R; r++) {
            kept[r] = 0u;
            block_max[r] = NEG_LARGE;
        }
        for (var c = 0u; c < n; c++) {
            let j = j0 + c;
            if key_kept(b, j) {
                let k_row = kv_base + j * HD4;
                var qk: array<f32, R>;
                for (var d4 = 0u; d4 < HD4; d4++) {
                    let kv = k4[k_row + d4];
                    for (var r = 0u; r < R; r++) {
                        qk[r] += dot(qr[r][d4], kv);
                    }
                }
                for (var r = 0u; r < R; r++) {
                    s[r][c] = qk[r];
                    let visible = j < j_end[r];
                    kept[r] = select(kept[r], kept[r] | (1u << c), visible);
                    block_max[r] = select(block_max[r], max(block_max[r], qk[r]), visible);
                }
            }
        }
        var m_new: array<f32, R>;
        for (var r = 0u; r < R; r++) {
            m_new[r] = max(m[r], block_max[r]);
            let alpha = exp(m[r] - m_new[r]);
            l[r] *= alpha;
            for (var d4 = 0u; d4 < HD4; d4++) {
                acc[r][d4] *= alpha;
            }
            m[r] = m_new[r];
        }
        for (var c = 0u; c < n; c++) {
            let j = j0 + c;
            if key_kept(b, j) {
                var p: array<f32, R>;
                for (var r = 0u; r < R; r++) {
                    p[r] = select(0.0, exp(s[r][c] - m_new[r]), (kept[r] & (1u << c)) != 0u);
                    l[r] += p[r];
                }
                let v_row = kv_base + j * HD4;
                for (var d4 = 0u; d4 < HD4; d4++) {
                    let vv = v4[v_row + d4];
                    for (var r = 0u; r < R; r++) {
                        acc[r][d4] += p[r] * vv;
                    }
                }
            }
        }
    }
    for (var r = 0u; r < R; r++) {
        let i = row0 + r * WG + lid;
        if i >= params.tq {
            break;
        }
        let q_base = (bh * params.tq + i) * HD4;
        // l = 0 (no visible key): inv = 0 writes o = 0, as attention_forward does.
        let inv = select(0.0, 1.0 / l[r], l[r] > 0.0);
        for (var d4 = 0u; d4 < HD4; d4++) {
            o4[q_base + d4] = acc[r][d4] * inv;
        }
        lse[bh * params.tq + i] = select(NEG_LARGE, m[r] + log(l[r]), l[r] > 0.0);
    }
}

@group(0) @binding(5) var<storage, read> dout4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dk4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> dv4: array<vec4<f32>>;

// Key rows per invocation in the hd4 backward passes: each q/dout (or k/v) row loaded feeds BR
// rows, as R does in the forward; rows lid + r·WG of a block of BR·WG.
const BR: u32 = 2u;

@compute @workgroup_size(WG)
fn attention_backward_dkdv_hd4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let g = flat_group(wid, num);
    let blocks = (params.tk + BR * WG - 1u) / (BR * WG);
    let bh = g / blocks;
    if bh >= params.bh {
        return;
    }
    let row0 = (g % blocks) * BR * WG;
    let b = bh / params.heads;
    let q_base = bh * params.tq * HD4;
    var kr: array<array<vec4<f32>, MAX_D4>, BR>;
    var vr: array<array<vec4<f32>, MAX_D4>, BR>;
    var dk_acc: array<array<vec4<f32>, MAX_D4>, BR>;
    var dv_acc: array<array<vec4<f32>, MAX_D4>, BR>;
    var kept: array<bool, BR>;
    var i_start: array<u32, BR>;
    for (var r = 0u; r < BR; r++) {
        // Rows past the end redo the last key and are not written (uniform loads, as above).
        let j = min(row0 + r * WG + lid, params.tk - 1u);
        let kv_row = (bh * params.tk + j) * HD4;
        for (var d4 = 0u; d4 < HD4; d4++) {
            kr[r][d4] = k4[kv_row + d4] * params.scale;
            vr[r][d4] = v4[kv_row + d4];
            dk_acc[r][d4] = vec4<f32>(0.0);
            dv_acc[r][d4] = vec4<f32>(0.0);
        }
        kept[r] = key_kept(b, j);
        i_start[r] = query_start(j);
    }
    // query_start grows with j: the block's first key bounds every row's start.
    for (var i = query_start(row0); i < params.tq; i++) {
        let row = bh * params.tq + i;
        let row_lse = stats[2u * row];
        if row_lse == NEG_LARGE {
            continue;
        }
        let delta = stats[2u * row + 1u];
        let q_row = q_base + i * HD4;
        var qv: array<vec4<f32>, MAX_D4>;
        var dov: array<vec4<f32>, MAX_D4>;
        for (var d4 = 0u; d4 < HD4; d4++) {
            qv[d4] = q4[q_row + d4];
            dov[d4] = dout4[q_row + d4];
        }
        for (var r = 0u; r < BR; r++) {
            var s = 0.0;
            var dp = 0.0;
            for (var d4 = 0u; d4 < HD4; d4++) {
                s += dot(qv[d4], kr[r][d4]);
                dp += dot(dov[d4], vr[r][d4]);
            }
            let p = select(0.0, exp(s - row_lse), kept[r] && i >= i_start[r]);
            let ds = p * (dp - delta);
            for (var d4 = 0u; d4 < HD4; d4++) {
                dv_acc[r][d4] += p * dov[d4];
                dk_acc[r][d4] += ds * qv[d4];
            }
        }
    }
    for (var r = 0u; r < BR; r++) {
        let j = row0 + r * WG + lid;
        if j >= params.tk {
            break;
        }
        let kv_row = (bh * params.tk + j) * HD4;
        for (var d4 = 0u; d4 < HD4; d4++) {
            dk4[kv_row + d4] = dk_acc[r][d4] * params.scale;
            dv4[kv_row + d4] = dv_acc[r][d4];
        }
    }
}

@group(0) @binding(7) var<storage, read_write> dq4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn attention_backward_dq_hd4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let g = flat_group(wid, num);
    let blocks = (params.tq + BR * WG - 1u) / (BR * WG);
    let bh = g / blocks;
    if bh >= params.bh {
        return;
    }
    let row0 = (g % blocks) * BR * WG;
    let b = bh / params.heads;
    let kv_base = bh * params.tk * HD4;
    var qr: array<array<vec4<f32>, MAX_D4>, BR>;
    var dor: array<array<vec4<f32>, MAX_D4>, BR>;
    var dq_acc: array<array<vec4<f32>, MAX_D4>, BR>;
    var row_lse: array<f32, BR>;
    var delta: array<f32, BR>;
    var j_end: array<u32, BR>;
    for (var r = 0u; r < BR; r++) {
        let i = min(row0 + r * WG + lid, params.tq - 1u);
        let row = bh * params.tq + i;
        for (var d4 = 0u; d4 < HD4; d4++) {
            qr[r][d4] = q4[row * HD4 + d4] * params.scale;
            dor[r][d4] = dout4[row * HD4 + d4];
            dq_acc[r][d4] = vec4<f32>(0.0);
        }
        row_lse[r] = stats[2u * row];
        delta[r] = stats[2u * row + 1u];
        // A query with no visible key (lse = NEG_LARGE) keeps a zero gradient.
        j_end[r] = select(0u, key_end(i), row_lse[r] != NEG_LARGE);
    }
    let j_end_block = key_end(min(row0 + BR * WG, params.tq) - 1u);
    for (var j = 0u; j < j_end_block; j++) {
        if !key_kept(b, j) {
            continue;
        }
        let kv_row = kv_base + j * HD4;
        var kv: array<vec4<f32>, MAX_D4>;
        var vv: array<vec4<f32>, MAX_D4>;
        for (var d4 = 0u; d4 < HD4; d4++) {
            kv[d4] = k4[kv_row + d4];
            vv[d4] = v4[kv_row + d4];
        }
        for (var r = 0u; r < BR; r++) {
            var s = 0.0;
            var dp = 0.0;
            for (var d4 = 0u; d4 < HD4; d4++) {
                s += dot(qr[r][d4], kv[d4]);
                dp += dot(dor[r][d4], vv[d4]);
            }
            let ds = select(0.0, exp(s - row_lse[r]), j < j_end[r]) * (dp - delta[r]);
            for (var d4 = 0u; d4 < HD4; d4++) {
                dq_acc[r][d4] += ds * kv[d4];
            }
        }
    }
    for (var r = 0u; r < BR; r++) {
        let i = row0 + r * WG + lid;
        if i >= params.tq {
            break;
        }
        let q_row = (bh * params.tq + i) * HD4;
        for (var d4 = 0u; d4 < HD4; d4++) {
            dq4[q_row + d4] = dq_acc[r][d4] * params.scale;
        }
    }
}
