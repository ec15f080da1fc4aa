// conv2d.wgsl: the data movement around kiln's matmul that makes conv2d and conv_transpose2d
// (src/ops/conv2d.rs, src/ops/conv_transpose2d.rs), in the im2col formulation.
// Dimension letters: B batch, C channels of the image side, H x W image, OH x OW output of the
// conv (input of the transposed conv), KH x KW kernel, stride SH/SW, padding PH/PW,
// N = OH·OW, BN = B·N, K = C·KH·KW. col is [K, BN], column (b, oy, ox), row (c, i, j).
// forward:   col[(c,i,j), (b,oy,ox)] = x[b, c, oy·SH + i - PH, ox·SW + j - PW]   (0 outside)
//            y = from_cnhw(w[CO, K] · col) + bias                                  (matmul)
// backward:  dx[b,c,iy,ix] = Σ_{i,j: iy+PH-i = oy·SH, ix+PW-j = ox·SW, oy<OH, ox<OW}
//                           dcol[(c,i,j), (b,oy,ox)],  dcol = wᵀ · to_cnhw(dy)      (col2im)
//            dw = to_cnhw(dy) · colᵀ,  dbias[c] = Σ_{b,n} dy[b,c,n]
// conv_transpose2d's forward is conv2d's input gradient and vice versa: same entry points.
// col2im is a gather: each dx element sums its own KH·KW/(SH·SW) col entries, one owner per
// output, no atomics, so results are deterministic.
// Entry points (each one invocation per output element, folded 2-D grid, tail guard):
//   conv2d_im2col        0 params, 1 x [B,C,H,W], 2 col [K,BN]
//   conv2d_col2im        0 params, 1 col [K,BN], 2 bias [C] (dummy if has_bias = 0), 3 x [B,C,H,W]
//   conv2d_to_cnhw       0 params, 1 y [B,C,N], 2 cnhw [C,BN]            (uses batch, c, oh·ow)
//   conv2d_from_cnhw     0 params, 1 cnhw [C,BN], 2 bias [C], 3 y [B,C,N]
//   conv2d_backward_bias 0 params, 1 dy [B,C,N], 2 dbias [C] (one invocation per channel,
//                        summing B·N terms in order)
//   conv2d_pack          0 params, 1 x [B,C,H,W] or y [B,C,N], 2 a matmul operand texture:
//                        col or cnhw straight into ops::matmul's packed layout (one invocation
//                        per texel), so the texture matmul needs neither the scratch nor its
//                        own pack of it
// WG = 256: memory-bound index arithmetic, no workgroup memory; the largest default workgroup
// keeps the grid small.
// Measured (lavapipe, batch 64, DCGAN discriminator layers; table in src/ops/conv2d.rs):
// im2col + register matmul 80-880 ms per forward against 0.24-9 s for conv2d_forward_direct,
// 3-10x faster wherever CO >= 64; the matmul takes 70-80% of it at 64+ input channels, im2col
// 15-25%. With CO = 1 the direct kernel wins (20 ms vs 34 ms) and is used there.

struct Params {
    batch: u32,
    // Channels of the image side (x of im2col, dx of col2im, the permuted tensor's C).
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    ph: u32,
    pw: u32,
    has_bias: u32,
    // Elements the entry point writes.
    total: u32,
    // CO, read by conv2d_forward_direct only.
    c_out: u32,
    // conv2d_pack: bit 0 the source (0 im2col of x, 1 the cnhw permute of y), bit 1 the axis
    // along texels (0 K or C, 1 BN).
    pack_mode: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;

@group(0) @binding(1) var<storage, read> im_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> im_col: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_im2col(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    if idx >= params.total {
        return;
    }
    let n = params.oh * params.ow;
    let bn = params.batch * n;
    let k = idx / bn;
    let col = idx % bn;
    let b = col / n;
    let pix = col % n;
    let oy = pix / params.ow;
    let ox = pix % params.ow;
    let kk = params.kh * params.kw;
    let c = k / kk;
    let r = k % kk;
    let i = r / params.kw;
    let j = r % params.kw;
    // Signed so that padding rows (negative coordinates) fail the bounds test.
    let iy = i32(oy * params.sh + i) - i32(params.ph);
    let ix = i32(ox * params.sw + j) - i32(params.pw);
    var v = 0.0;
    if iy >= 0 && iy < i32(params.h) && ix >= 0 && ix < i32(params.w) {
        v = im_x[((b * params.c + c) * params.h + u32(iy)) * params.w + u32(ix)];
    }
    im_col[idx] = v;
}

@group(0) @binding(1) var<storage, read> ci_col: array<f32>;
@group(0) @binding(2) var<storage, read> ci_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> ci_x: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_col2im(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    if idx >= params.total {
        return;
    }
    let ix = idx % params.w;
    let iy = (idx / params.w) % params.h;
    let c = (idx / (params.w * params.h)) % params.c;
    let b = idx / (params.w * params.h * params.c);
    let n = params.oh * params.ow;
    let bn = params.batch * n;
    let ty = iy + params.ph;
    let tx = ix + params.pw;
    var acc = 0.0;
    // Only kernel rows i with (ty - i) a multiple of SH land on an output row: start at the
    // residue and step by the stride instead of testing every i.
    for (var i = ty % params.sh; i < params.kh && i <= ty; i += params.sh) {
        let oy = (ty - i) / params.sh;
        if oy >= params.oh {
            continue;
        }
        for (var j = tx % params.sw; j < params.kw && j <= tx; j += params.sw) {
            let ox = (tx - j) / params.sw;
            if ox >= params.ow {
                continue;
            }
            let k = (c * params.kh + i) * params.kw + j;
            acc += ci_col[k * bn + b * n + oy * params.ow + ox];
        }
    }
    if params.has_bias != 0u {
        acc += ci_bias[c];
    }
    ci_x[idx] = acc;
}

@group(0) @binding(1) var<storage, read> tc_y: array<f32>;
@group(0) @binding(2) var<storage, read_write> tc_cnhw: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_to_cnhw(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    if idx >= params.total {
        return;
    }
    let n = params.oh * params.ow;
    let bn = params.batch * n;
    let c = idx / bn;
    let col = idx % bn;
    let b = col / n;
    let pix = col % n;
    tc_cnhw[idx] = tc_y[(b * params.c + c) * n + pix];
}

@group(0) @binding(1) var<storage, read> fc_cnhw: array<f32>;
@group(0) @binding(2) var<storage, read> fc_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> fc_y: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_from_cnhw(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    if idx >= params.total {
        return;
    }
    let n = params.oh * params.ow;
    let pix = idx % n;
    let c = (idx / n) % params.c;
    let b = idx / (n * params.c);
    var v = fc_cnhw[c * (params.batch * n) + b * n + pix];
    if params.has_bias != 0u {
        v += fc_bias[c];
    }
    fc_y[idx] = v;
}

@group(0) @binding(1) var<storage, read> bb_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> bb_dbias: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_backward_bias(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = flat_group(wid, num) * WG + lid;
    if c >= params.total {
        return;
    }
    let n = params.oh * params.ow;
    var acc = 0.0;
    for (var b = 0u; b < params.batch; b++) {
        let base = (b * params.c + c) * n;
        for (var p = 0u; p < n; p++) {
            acc += bb_dy[base + p];
        }
    }
    bb_dbias[c] = acc;
}

// ---- Direct (implicit GEMM) forward, the measured alternative to im2col + matmul ----
// y[b,o,oy,ox] = bias[o] + Σ_{c,i,j} w[o,c,i,j] · x[b,c,oy·SH+i-PH,ox·SW+j-PW], no scratch.
// One invocation per output pixel and group of 4 output channels (vec4 accumulator): each x
// load feeds 4 FMAs. Pixels vary fastest across lanes, so a workgroup's lanes read the same
// weights and neighbouring x. params.c is CI here, params.total = B·ceil(CO/4)·OH·OW, and
// params.ph/pw, sh/sw, kh/kw as above.
// Bindings: 0 params, 1 x [B,CI,H,W], 2 w [CO,CI,KH,KW], 3 bias [CO] (dummy if has_bias = 0),
// 4 y [B,CO,OH,OW].

@group(0) @binding(1) var<storage, read> d_x: array<f32>;
@group(0) @binding(2) var<storage, read> d_w: array<f32>;
@group(0) @binding(3) var<storage, read> d_bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_y: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_forward_direct(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat_group(wid, num) * WG + lid;
    if idx >= params.total {
        return;
    }
    let co = params.c_out;
    let groups = (co + 3u) / 4u;
    let n = params.oh * params.ow;
    let pix = idx % n;
    let og = (idx / n) % groups;
    let b = idx / (n * groups);
    let oy = pix / params.ow;
    let ox = pix % params.ow;
    let kk = params.kh * params.kw;
    let wstride = params.c * kk;
    // Channels past CO are clamped for loads and skipped on store.
    let o0 = og * 4u;
    let o1 = min(o0 + 1u, co - 1u);
    let o2 = min(o0 + 2u, co - 1u);
    let o3 = min(o0 + 3u, co - 1u);
    var acc = vec4(0.0);
    for (var c = 0u; c < params.c; c++) {
        let xbase = (b * params.c + c) * params.h;
        for (var i = 0u; i < params.kh; i++) {
            let iy = i32(oy * params.sh + i) - i32(params.ph);
            if iy < 0 || iy >= i32(params.h) {
                continue;
            }
            for (var j = 0u; j < params.kw; j++) {
                let ix = i32(ox * params.sw + j) - i32(params.pw);
                if ix < 0 || ix >= i32(params.w) {
                    continue;
                }
                let xv = d_x[(xbase + u32(iy)) * params.w + u32(ix)];
                let k = c * kk + i * params.kw + j;
                let wv = vec4(d_w[o0 * wstride + k], d_w[o1 * wstride + k], d_w[o2 * wstride + k], d_w[o3 * wstride + k]);
                acc += xv * wv;
            }
        }
    }
    for (var q = 0u; q < 4u; q++) {
        let o = o0 + q;
        if o < co {
            var v = acc[q];
            if params.has_bias != 0u {
                v += d_bias[o];
            }
            d_y[(b * co + o) * n + pix] = v;
        }
    }
}

@group(0) @binding(1) var<storage, read> cp_src: array<f32>;
@group(0) @binding(2) var cp_packed: texture_storage_2d<rgba32float, write>;

// x[b, c, iy, ix] for the signed image coordinates of a col entry, 0 in the padding.
fn x_at(b: u32, c: u32, iy: i32, ix: i32) -> f32 {
    if iy < 0 || iy >= i32(params.h) || ix < 0 || ix >= i32(params.w) {
        return 0.0;
    }
    return cp_src[((b * params.c + c) * params.h + u32(iy)) * params.w + u32(ix)];
}

// The next of three nested coordinates (x fastest): x + 1, carried into y at x_end and into z
// at y_end.
fn step_carry(v: vec3<u32>, x_end: u32, y_end: u32) -> vec3<u32> {
    var r = vec3<u32>(v.x + 1u, v.y, v.z);
    if r.x == x_end {
        r.x = 0u;
        r.y += 1u;
        if r.y == y_end {
            r.y = 0u;
            r.z += 1u;
        }
    }
    return r;
}

// One texel of col [K, BN] (or cnhw [C, BN]) as ops::matmul packs an operand (op(A) or op(B)
// row-major): 4 consecutive values along one axis of one row of the other, zeros past the end.
// Along BN the packed rows are the K (or C) rows: the B operand of the forward (w · col) and
// of the input gradient (wᵀ · cnhw), and the A operand of the weight gradient (cnhw · colᵀ).
// Along K they are the BN columns: that weight gradient's B operand, colᵀ.
// The texel's 4 entries are consecutive along one axis, so the divisions that take a flat
// index apart run once per texel and each next entry steps its coordinates (on lavapipe the
// index arithmetic, not the loads, was most of an entry's cost).
@compute @workgroup_size(WG)
fn conv2d_pack(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let t = flat_group(wid, num) * WG + lid;
    if t >= params.total {
        return;
    }
    let from_cnhw = (params.pack_mode & 1u) != 0u;
    let along_bn = (params.pack_mode & 2u) != 0u;
    let n = params.oh * params.ow;
    let bn = params.batch * n;
    let kk = params.kh * params.kw;
    var rows = params.c * kk;
    if from_cnhw {
        rows = params.c;
    }
    var span = rows;
    if along_bn {
        span = bn;
    }
    let row_texels = (span + 3u) / 4u;
    let row = t / row_texels;
    let first = (t - row * row_texels) * 4u;
    // The first entry's K (or C) index and BN column, taken apart once.
    var k = first;
    var col = row;
    if along_bn {
        k = row;
        col = first;
    }
    let b = col / n;
    let pix = col - b * n;
    let oy = pix / params.ow;
    // (ox, oy, b) of the BN column and (kx, ky, c) of the K row (C alone for cnhw).
    var at_bn = vec3<u32>(pix - oy * params.ow, oy, b);
    var at_k = vec3<u32>(0u, 0u, k);
    if !from_cnhw {
        let c = k / kk;
        let r = k - c * kk;
        let ky = r / params.kw;
        at_k = vec3<u32>(r - ky * params.kw, ky, c);
    }
    var v = vec4<f32>(0.0);
    for (var e = 0u; e < 4u; e++) {
        if first + e < span {
            if from_cnhw {
                v[e] = cp_src[(at_bn.z * params.c + at_k.z) * n + at_bn.y * params.ow + at_bn.x];
            } else {
                let iy = i32(at_bn.y * params.sh + at_k.y) - i32(params.ph);
                let ix = i32(at_bn.x * params.sw + at_k.x) - i32(params.pw);
                v[e] = x_at(at_bn.z, at_k.z, iy, ix);
            }
        }
        // cnhw is packed along BN only (ops::conv2d's PackedMatrix): along K it is col.
        if along_bn {
            at_bn = step_carry(at_bn, params.ow, params.oh);
        } else {
            at_k = step_carry(at_k, params.kw, params.kh);
        }
    }
    textureStore(cp_packed, texel_at(t), v);
}
