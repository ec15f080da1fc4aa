// matmul/register.wgsl

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
const TM: u32 = 16u;
const TN: u32 = 8u;
const WG: u32 = 8u;

@compute @workgroup_size(8, 1, 1)
fn matmul_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row0 = wid.y * TM;
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
    let last_row = params.m - 1u;
    let last_col = params.n - 1u;
    let a0 = a_base + min(row0 + 0u, last_row) * a_rs;
    let a1 = a_base + min(row0 + 1u, last_row) * a_rs;
    let a2 = a_base + min(row0 + 2u, last_row) * a_rs;
    let a3 = a_base + min(row0 + 3u, last_row) * a_rs;
    let a4 = a_base + min(row0 + 4u, last_row) * a_rs;
    let a5 = a_base + min(row0 + 5u, last_row) * a_rs;
    let a6 = a_base + min(row0 + 6u, last_row) * a_rs;
    let a7 = a_base + min(row0 + 7u, last_row) * a_rs;
    let a8 = a_base + min(row0 + 8u, last_row) * a_rs;
    let a9 = a_base + min(row0 + 9u, last_row) * a_rs;
    let a10 = a_base + min(row0 + 10u, last_row) * a_rs;
    let a11 = a_base + min(row0 + 11u, last_row) * a_rs;
    let a12 = a_base + min(row0 + 12u, last_row) * a_rs;
    let a13 = a_base + min(row0 + 13u, last_row) * a_rs;
    let a14 = a_base + min(row0 + 14u, last_row) * a_rs;
    let a15 = a_base + min(row0 + 15u, last_row) * a_rs;
    let col0 = wid.x * (WG * TN) + lid + 0u * WG;
    let b0 = b_base + min(col0, last_col) * b_cs;
    let col1 = wid.x * (WG * TN) + lid + 1u * WG;
    let b1 = b_base + min(col1, last_col) * b_cs;
    let col2 = wid.x * (WG * TN) + lid + 2u * WG;
    let b2 = b_base + min(col2, last_col) * b_cs;
    let col3 = wid.x * (WG * TN) + lid + 3u * WG;
    let b3 = b_base + min(col3, last_col) * b_cs;
    let col4 = wid.x * (WG * TN) + lid + 4u * WG;
    let b4 = b_base + min(col4, last_col) * b_cs;
    let col5 = wid.x * (WG * TN) + lid + 5u * WG;
    let b5 = b_base + min(col5, last_col) * b_cs;
    let col6 = wid.x * (WG * TN) + lid + 6u * WG;
    let b6 = b_base + min(col6, last_col) * b_cs;
    let col7 = wid.x * (WG * TN) + lid + 7u * WG;
    let b7 = b_base + min(col7, last_col) * b_cs;
    var c0_0 = 0.0;
    var c0_1 = 0.0;
    var c0_2 = 0.0;
    var c0_3 = 0.0;
    var c0_4 = 0.0;
    var c0_5 = 0.0;
    var c0_6 = 0.0;
    var c0_7 = 0.0;
    var c1_0 = 0.0;
    var c1_1 = 0.0;
    var c1_2 = 0.0;
    var c1_3 = 0.0;
    var c1_4 = 0.0;
    var c1_5 = 0.0;
    var c1_6 = 0.0;
    var c1_7 = 0.0;
    var c2_0 = 0.0;
    var c2_1 = 0.0;
    var c2_2 = 0.0;
    var c2_3 = 0.0;
    var c2_4 = 0.0;
    var c2_5 = 0.0;
    var c2_6 = 0.0;
    var c2_7 = 0.0;
    var c3_0 = 0.0;
    var c3_1 = 0.0;
    var c3_2 = 0.0;
    var c3_3 = 0.0;
    var c3_4 = 0.0;
    var c3_5 = 0.0;
    var c3_6 = 0.0;
    var c3_7 = 0.0;
    var c4_0 = 0.0;
    var c4_1 = 0.0;
    var c4_2 = 0.0;
    var c4_3 = 0.0;
    var c4_4 = 0.0;
    var c4_5 = 0.0;
    var c4_6 = 0.0;
    var c4_7 = 0.0;
    var c5_0 = 0.0;
    var c5_1 = 0.0;
    var c5_2 = 0.0;
    var c5_3 = 0.0;
    var c5_4 = 0.0;
    var c5_5 = 0.0;
    var c5_6 = 0.0;
    var c5_7 = 0.0;
    var c6_0 = 0.0;
    var c6_1 = 0.0;
    var c6_2 = 0.0;
    var c6_3 = 0.0;
    var c6_4 = 0.0;
    var c6_5 = 0.0;
    var c6_6 = 0.0;
    var c6_7 = 0.0;
    var c7_0 = 0.0;
    var c7_1 = 0.0;
    var c7_2 = 0.0;
    var c7_3 = 0.0;
    var c7_4 = 0.0;
    var c7_5 = 0.0;
    var c7_6 = 0.0;
    var c7_7 = 0.0;
    var c8_0 = 0.0;
    var c8_1 = 0.0;
    var c8_2 = 0.0;
    var c8_3 = 0.0;
    var c8_4 = 0.0;
    var c8_5 = 0.0;
    var c8_6 = 0.0;
    var c8_7 = 0.0;
    var c9_0 = 0.0;
    var c9_1 = 0.0;
    var c9_2 = 0.0;
    var c9_3 = 0.0;
    var c9_4 = 0.0;
    var c9_5 = 0.0;
    var c9_6 = 0.0;
    var c9_7 = 0.0;
    var c10_0 = 0.0;
    var c10_1 = 0.0;
    var c10_2 = 0.0;
    var c10_3 = 0.0;
    var c10_4 = 0.0;
    var c10_5 = 0.0;
    var c10_6 = 0.0;
    var c10_7 = 0.0;
    var c11_0 = 0.0;
    var c11_1 = 0.0;
    var c11_2 = 0.0;
    var c11_3 = 0.0;
    var c11_4 = 0.0;
    var c11_5 = 0.0;
    var c11_6 = 0.0;
    var c11_7 = 0.0;
    var c12_0 = 0.0;
    var c12_1 = 0.0;
    var c12_2 = 0.0;
    var c12_3 = 0.0;
    var c12_4 = 0.0;
    var c12_5 = 0.0;
    var c12_6 = 0.0;
    var c12_7 = 0.0;
    var c13_0 = 0.0;
    var c13_1 = 0.0;
    var c13_2 = 0.0;
    var c13_3 = 0.0;
    var c13_4 = 0.0;
    var c13_5 = 0.0;
    var c13_6 = 0.0;
    var c13_7 = 0.0;
    var c14_0 = 0.0;
    var c14_1 = 0.0;
    var c14_2 = 0.0;
    var c14_3 = 0.0;
    var c14_4 = 0.0;
    var c14_5 = 0.0;
    var c14_6 = 0.0;
    var c14_7 = 0.0;
    var c15_0 = 0.0;
    var c15_1 = 0.0;
    var c15_2 = 0.0;
    var c15_3 = 0.0;
    var c15_4 = 0.0;
    var c15_5 = 0.0;
    var c15_6 = 0.0;
    var c15_7 = 0.0;
    for (var kk = 0u; kk < params.k; kk++) {
        let ak = kk * a_ks;
        let bk = kk * b_ks;
        let y0 = b[b0 + bk];
        let y1 = b[b1 + bk];
        let y2 = b[b2 + bk];
        let y3 = b[b3 + bk];
        let y4 = b[b4 + bk];
        let y5 = b[b5 + bk];
        let y6 = b[b6 + bk];
        let y7 = b[b7 + bk];
        let x0 = a[a0 + ak];
        c0_0 = fma(x0, y0, c0_0);
        c0_1 = fma(x0, y1, c0_1);
        c0_2 = fma(x0, y2, c0_2);
        c0_3 = fma(x0, y3, c0_3);
        c0_4 = fma(x0, y4, c0_4);
        c0_5 = fma(x0, y5, c0_5);
        c0_6 = fma(x0, y6, c0_6);
        c0_7 = fma(x0, y7, c0_7);
        let x1 = a[a1 + ak];
        c1_0 = fma(x1, y0, c1_0);
        c1_1 = fma(x1, y1, c1_1);
        c1_2 = fma(x1, y2, c1_2);
        c1_3 = fma(x1, y3, c1_3);
        c1_4 = fma(x1, y4, c1_4);
        c1_5 = fma(x1, y5, c1_5);
        c1_6 = fma(x1, y6, c1_6);
        c1_7 = fma(x1, y7, c1_7);
        let x2 = a[a2 + ak];
        c2_0 = fma(x2, y0, c2_0);
        c2_1 = fma(x2, y1, c2_1);
        c2_2 = fma(x2, y2, c2_2);
        c2_3 = fma(x2, y3, c2_3);
        c2_4 = fma(x2, y4, c2_4);
        c2_5 = fma(x2, y5, c2_5);
        c2_6 = fma(x2, y6, c2_6);
        c2_7 = fma(x2, y7, c2_7);
        let x3 = a[a3 + ak];
        c3_0 = fma(x3, y0, c3_0);
        c3_1 = fma(x3, y1, c3_1);
        c3_2 = fma(x3, y2, c3_2);
        c3_3 = fma(x3, y3, c3_3);
        c3_4 = fma(x3, y4, c3_4);
        c3_5 = fma(x3, y5, c3_5);
        c3_6 = fma(x3, y6, c3_6);
        c3_7 = fma(x3, y7, c3_7);
        let x4 = a[a4 + ak];
        c4_0 = fma(x4, y0, c4_0);
        c4_1 = fma(x4, y1, c4_1);
        c4_2 = fma(x4, y2, c4_2);
        c4_3 = fma(x4, y3, c4_3);
        c4_4 = fma(x4, y4, c4_4);
        c4_5 = fma(x4, y5, c4_5);
        c4_6 = fma(x4, y6, c4_6);
        c4_7 = fma(x4, y7, c4_7);
        let x5 = a[a5 + ak];
        c5_0 = fma(x5, y0, c5_0);
        c5_1 = fma(x5, y1, c5_1);
        c5_2 = fma(x5, y2, c5_2);
        c5_3 = fma(x5, y3, c5_3);
        c5_4 = fma(x5, y4, c5_4);
        c5_5 = fma(x5, y5, c5_5);
        c5_6 = fma(x5, y6, c5_6);
        c5_7 = fma(x5, y7, c5_7);
        let x6 = a[a6 + ak];
        c6_0 = fma(x6, y0, c6_0);
        c6_1 = fma(x6, y1, c6_1);
        c6_2 = fma(x6, y2, c6_2);
        c6_3 = fma(x6, y3, c6_3);
        c6_4 = fma(x6, y4, c6_4);
        c6_5 = fma(x6, y5, c6_5);
        c6_6 = fma(x6, y6, c6_6);
        c6_7 = fma(x6, y7, c6_7);
        let x7 = a[a7 + ak];
        c7_0 = fma(x7, y0, c7_0);
        c7_1 = fma(x7, y1, c7_1);
        c7_2 = fma(x7, y2, c7_2);
        c7_3 = fma(x7, y3, c7_3);
        c7_4 = fma(x7, y4, c7_4);
        c7_5 = fma(x7, y5, c7_5);
        c7_6 = fma(x7, y6, c7_6);
        c7_7 = fma(x7, y7, c7_7);
        let x8 = a[a8 + ak];
        c8_0 = fma(x8, y0, c8_0);
        c8_1 = fma(x8, y1, c8_1);
        c8_2 = fma(x8, y2, c8_2);
        c8_3 = fma(x8, y3, c8_3);
        c8_4 = fma(x8, y4, c8_4);
        c8_5 = fma(x8, y5, c8_5);
        c8_6 = fma(x8, y6, c8_6);
        c8_7 = fma(x8, y7, c8_7);
        let x9 = a[a9 + ak];
        c9_0 = fma(x9, y0, c9_0);
        c9_1 = fma(x9, y1, c9_1);
        c9_2 = fma(x9, y2, c9_2);
        c9_3 = fma(x9, y3, c9_3);
        c9_4 = fma(x9, y4, c9_4);
        c9_5 = fma(x9, y5, c9_5);
        c9_6 = fma(x9, y6, c9_6);
        c9_7 = fma(x9, y7, c9_7);
        let x10 = a[a10 + ak];
        c10_0 = fma(x10, y0, c10_0);
        c10_1 = fma(x10, y1, c10_1);
        c10_2 = fma(x10, y2, c10_2);
        c10_3 = fma(x10, y3, c10_3);
        c10_4 = fma(x10, y4, c10_4);
        c10_5 = fma(x10, y5, c10_5);
        c10_6 = fma(x10, y6, c10_6);
        c10_7 = fma(x10, y7, c10_7);
        let x11 = a[a11 + ak];
        c11_0 = fma(x11, y0, c11_0);
        c11_1 = fma(x11, y1, c11_1);
        c11_2 = fma(x11, y2, c11_2);
        c11_3 = fma(x11, y3, c11_3);
        c11_4 = fma(x11, y4, c11_4);
        c11_5 = fma(x11, y5, c11_5);
        c11_6 = fma(x11, y6, c11_6);
        c11_7 = fma(x11, y7, c11_7);
        let x12 = a[a12 + ak];
        c12_0 = fma(x12, y0, c12_0);
        c12_1 = fma(x12, y1, c12_1);
        c12_2 = fma(x12, y2, c12_2);
        c12_3 = fma(x12, y3, c12_3);
        c12_4 = fma(x12, y4, c12_4);
        c12_5 = fma(x12, y5, c12_5);
        c12_6 = fma(x12, y6, c12_6);
        c12_7 = fma(x12, y7, c12_7);
        let x13 = a[a13 + ak];
        c13_0 = fma(x13, y0, c13_0);
        c13_1 = fma(x13, y1, c13_1);
        c13_2 = fma(x13, y2, c13_2);
        c13_3 = fma(x13, y3, c13_3);
        c13_4 = fma(x13, y4, c13_4);
        c13_5 = fma(x13, y5, c13_5);
        c13_6 = fma(x13, y6, c13_6);
        c13_7 = fma(x13, y7, c13_7);
        let x14 = a[a14 + ak];
        c14_0 = fma(x14, y0, c14_0);
        c14_1 = fma(x14, y1, c14_1);
        c14_2 = fma(x14, y2, c14_2);
        c14_3 = fma(x14, y3, c14_3);
        c14_4 = fma(x14, y4, c14_4);
        c14_5 = fma(x14, y5, c14_5);
        c14_6 = fma(x14, y6, c14_6);
        c14_7 = fma(x14, y7, c14_7);
        let x15 = a[a15 + ak];
        c15_0 = fma(x15, y0, c15_0);
        c15_1 = fma(x15, y1, c15_1);
        c15_2 = fma(x15, y2, c15_2);
        c15_3 = fma(x15, y3, c15_3);
        c15_4 = fma(x15, y4, c15_4);
        c15_5 = fma(x15, y5, c15_5);
        c15_6 = fma(x15, y6, c15_6);
        c15_7 = fma(x15, y7, c15_7);
    }
    if col0 < params.n {
        var bias0 = 0.0;
        if params.has_bias != 0u {
            bias0 = bias[col0];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col0] = c0_0 + bias0;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col0] = c1_0 + bias0;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col0] = c2_0 + bias0;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col0] = c3_0 + bias0;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col0] = c4_0 + bias0;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col0] = c5_0 + bias0;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col0] = c6_0 + bias0;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col0] = c7_0 + bias0;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col0] = c8_0 + bias0;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col0] = c9_0 + bias0;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col0] = c10_0 + bias0;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col0] = c11_0 + bias0;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col0] = c12_0 + bias0;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col0] = c13_0 + bias0;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col0] = c14_0 + bias0;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col0] = c15_0 + bias0;
        }
    }
    if col1 < params.n {
        var bias1 = 0.0;
        if params.has_bias != 0u {
            bias1 = bias[col1];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col1] = c0_1 + bias1;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col1] = c1_1 + bias1;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col1] = c2_1 + bias1;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col1] = c3_1 + bias1;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col1] = c4_1 + bias1;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col1] = c5_1 + bias1;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col1] = c6_1 + bias1;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col1] = c7_1 + bias1;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col1] = c8_1 + bias1;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col1] = c9_1 + bias1;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col1] = c10_1 + bias1;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col1] = c11_1 + bias1;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col1] = c12_1 + bias1;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col1] = c13_1 + bias1;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col1] = c14_1 + bias1;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col1] = c15_1 + bias1;
        }
    }
    if col2 < params.n {
        var bias2 = 0.0;
        if params.has_bias != 0u {
            bias2 = bias[col2];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col2] = c0_2 + bias2;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col2] = c1_2 + bias2;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col2] = c2_2 + bias2;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col2] = c3_2 + bias2;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col2] = c4_2 + bias2;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col2] = c5_2 + bias2;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col2] = c6_2 + bias2;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col2] = c7_2 + bias2;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col2] = c8_2 + bias2;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col2] = c9_2 + bias2;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col2] = c10_2 + bias2;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col2] = c11_2 + bias2;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col2] = c12_2 + bias2;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col2] = c13_2 + bias2;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col2] = c14_2 + bias2;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col2] = c15_2 + bias2;
        }
    }
    if col3 < params.n {
        var bias3 = 0.0;
        if params.has_bias != 0u {
            bias3 = bias[col3];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col3] = c0_3 + bias3;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col3] = c1_3 + bias3;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col3] = c2_3 + bias3;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col3] = c3_3 + bias3;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col3] = c4_3 + bias3;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col3] = c5_3 + bias3;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col3] = c6_3 + bias3;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col3] = c7_3 + bias3;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col3] = c8_3 + bias3;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col3] = c9_3 + bias3;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col3] = c10_3 + bias3;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col3] = c11_3 + bias3;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col3] = c12_3 + bias3;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col3] = c13_3 + bias3;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col3] = c14_3 + bias3;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col3] = c15_3 + bias3;
        }
    }
    if col4 < params.n {
        var bias4 = 0.0;
        if params.has_bias != 0u {
            bias4 = bias[col4];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col4] = c0_4 + bias4;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col4] = c1_4 + bias4;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col4] = c2_4 + bias4;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col4] = c3_4 + bias4;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col4] = c4_4 + bias4;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col4] = c5_4 + bias4;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col4] = c6_4 + bias4;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col4] = c7_4 + bias4;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col4] = c8_4 + bias4;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col4] = c9_4 + bias4;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col4] = c10_4 + bias4;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col4] = c11_4 + bias4;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col4] = c12_4 + bias4;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col4] = c13_4 + bias4;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col4] = c14_4 + bias4;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col4] = c15_4 + bias4;
        }
    }
    if col5 < params.n {
        var bias5 = 0.0;
        if params.has_bias != 0u {
            bias5 = bias[col5];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col5] = c0_5 + bias5;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col5] = c1_5 + bias5;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col5] = c2_5 + bias5;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col5] = c3_5 + bias5;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col5] = c4_5 + bias5;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col5] = c5_5 + bias5;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col5] = c6_5 + bias5;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col5] = c7_5 + bias5;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col5] = c8_5 + bias5;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col5] = c9_5 + bias5;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col5] = c10_5 + bias5;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col5] = c11_5 + bias5;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col5] = c12_5 + bias5;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col5] = c13_5 + bias5;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col5] = c14_5 + bias5;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col5] = c15_5 + bias5;
        }
    }
    if col6 < params.n {
        var bias6 = 0.0;
        if params.has_bias != 0u {
            bias6 = bias[col6];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col6] = c0_6 + bias6;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col6] = c1_6 + bias6;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col6] = c2_6 + bias6;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col6] = c3_6 + bias6;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col6] = c4_6 + bias6;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col6] = c5_6 + bias6;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col6] = c6_6 + bias6;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col6] = c7_6 + bias6;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col6] = c8_6 + bias6;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col6] = c9_6 + bias6;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col6] = c10_6 + bias6;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col6] = c11_6 + bias6;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col6] = c12_6 + bias6;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col6] = c13_6 + bias6;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col6] = c14_6 + bias6;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col6] = c15_6 + bias6;
        }
    }
    if col7 < params.n {
        var bias7 = 0.0;
        if params.has_bias != 0u {
            bias7 = bias[col7];
        }
        if row0 + 0u < params.m {
            c[(bat * params.m + row0 + 0u) * params.n + col7] = c0_7 + bias7;
        }
        if row0 + 1u < params.m {
            c[(bat * params.m + row0 + 1u) * params.n + col7] = c1_7 + bias7;
        }
        if row0 + 2u < params.m {
            c[(bat * params.m + row0 + 2u) * params.n + col7] = c2_7 + bias7;
        }
        if row0 + 3u < params.m {
            c[(bat * params.m + row0 + 3u) * params.n + col7] = c3_7 + bias7;
        }
        if row0 + 4u < params.m {
            c[(bat * params.m + row0 + 4u) * params.n + col7] = c4_7 + bias7;
        }
        if row0 + 5u < params.m {
            c[(bat * params.m + row0 + 5u) * params.n + col7] = c5_7 + bias7;
        }
        if row0 + 6u < params.m {
            c[(bat * params.m + row0 + 6u) * params.n + col7] = c6_7 + bias7;
        }
        if row0 + 7u < params.m {
            c[(bat * params.m + row0 + 7u) * params.n + col7] = c7_7 + bias7;
        }
        if row0 + 8u < params.m {
            c[(bat * params.m + row0 + 8u) * params.n + col7] = c8_7 + bias7;
        }
        if row0 + 9u < params.m {
            c[(bat * params.m + row0 + 9u) * params.n + col7] = c9_7 + bias7;
        }
        if row0 + 10u < params.m {
            c[(bat * params.m + row0 + 10u) * params.n + col7] = c10_7 + bias7;
        }
        if row0 + 11u < params.m {
            c[(bat * params.m + row0 + 11u) * params.n + col7] = c11_7 + bias7;
        }
        if row0 + 12u < params.m {
            c[(bat * params.m + row0 + 12u) * params.n + col7] = c12_7 + bias7;
        }
        if row0 + 13u < params.m {
            c[(bat * params.m + row0 + 13u) * params.n + col7] = c13_7 + bias7;
        }
        if row0 + 14u < params.m {
            c[(bat * params.m + row0 + 14u) * params.n + col7] = c14_7 + bias7;
        }
        if row0 + 15u < params.m {
            c[(bat * params.m + row0 + 15u) * params.n + col7] = c15_7 + bias7;
        }
    }
}
