// matmul/register.wgsl: batched C = op(A)·op(B) (+ bias), register-tiled, no workgroup memory.
// op(A) is [M,K] (A stored [K,M] when trans_a), op(B) is [K,N] (B stored [N,K] when trans_b);
// a batch stride of 0 broadcasts a 2-D operand. The backward is matmuls (src/ops/matmul.rs).
// Each invocation accumulates a 32x32 block of C in 1024 scalar registers: rows row0..row0+31
// (shared by the workgroup), columns col0 + j·8 for j < 32, so that neighbouring invocations
// (SIMD lanes on lavapipe) read neighbouring B elements. Per k: 32 + 32 loads feed 1024 FMAs.
// Edge rows/columns are clamped for loads and skipped on store, so any M, N, K works.
// Grid: x over N in 256s, y over M in 32s (matmul_forward_narrow: 64s and 128s), z over the batch. WG = 8: one lavapipe SIMD group
// (its subgroup size), so even small matrices spread over many workgroups.
// Bindings (group 0): 0 params, 1 a, 2 b, 3 bias (length N, or a dummy when has_bias = 0), 4 c.
// The body is written out (unrolled by a script, one scalar per accumulator): written with
// arrays and loops, NIR/LLVM kept the arrays in memory (32x32: 1.0 GFLOP/s, 20 s to compile).
//
// Measured on lavapipe (Mesa 22.3.6, LLVM 15, 2 cores), 1024^3 GFLOP/s; SGEMM there ~85:
// - On this Mesa every storage-buffer load costs the same per component (a loop over the 8
//   lanes), uniform or not, vec4 or not: speed grew linearly with FMAs per loaded scalar.
// - 4x4 per invocation 0.54 (512^3), 8x8 1.08, 16x8 1.49, 16x16 2.12, 32x16 2.69, 32x32 3.71.
// - vec4 loads (8 rows x 2 vec4 columns, K and N multiples of 4): 1.6, no better per load.
// - 32x32 held in vec4 accumulators: 4.06 but ~4 s to compile (component writes: 60 s).
// - 8x1 with the row uniform across the workgroup (uniform A loads): 0.51, no uniform fast path.
// - 64x32 per invocation: about 50 s to compile the pipeline; not pursued.
// - kept: 32x32, ~0.5 s to compile, 3.6 GFLOP/s at 256..2048 (examples/bench).
// The workgroup-memory variant (workgroup.wgsl) measures 0.56 here; naive 0.14.
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
const TM: u32 = 32u;
const TN: u32 = 32u;
const WG: u32 = 8u;

@compute @workgroup_size(8, 1, 1)
fn matmul_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Lanes side by side along N: columns col0 + j·8, 256 per workgroup.
    matmul_block(wid.y * TM, wid.x * (WG * TN) + lid, WG, wid.z);
}

// matmul_forward_narrow, for N <= 128, where the 256-column tiles above would mostly compute
// clamped, unstored columns: the same 32x32 block per invocation, but the 8 lanes laid out as
// 4 row groups x 2 column groups (lane l: rows row0 + (l / 2)·32 .., columns col0 + l % 2 + 2·j),
// so a workgroup covers 128 rows x 64 columns and N = 64 wastes nothing. Same bindings and grid
// axes (x over N in 64s, y over M in 128s).
// MEASURED (llvmpipe, 2 shared cores; scratch bench `examples/zz_perf.rs mm`, median of 7, two
// interleaved rounds; M x K x N), the previous 32x8 blocks with lanes along N -> this kernel:
//   1856x64x64: 15-20 ms -> 4.8-10.6 ms; 1856x256x64: 62-110 -> 28-33 ms;
//   704x64x64: 8.0-8.2 -> 4.0 ms; 1856x64x256 (not narrow, for scale): 76-81 -> 40-48 ms, the
//   wide kernel 40-44 ms. 32x16 blocks with 2 x 4 lanes (64 x 64 per workgroup) were between:
//   6.8-12 / 40-58 / 6.9-7.4 ms.
@compute @workgroup_size(8, 1, 1)
fn matmul_forward_narrow(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    matmul_block(wid.y * 128u + (lid / 2u) * 32u, wid.x * 64u + lid % 2u, 2u, wid.z);
}

// One invocation's 32x32 block of C: rows row0 .. row0 + 31, columns col_base + j·col_step for
// j < 32, batch bat. Both entry points differ only in how lanes map to blocks.
fn matmul_block(row0: u32, col_base: u32, col_step: u32, bat: u32) {
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
    let a16 = a_base + min(row0 + 16u, last_row) * a_rs;
    let a17 = a_base + min(row0 + 17u, last_row) * a_rs;
    let a18 = a_base + min(row0 + 18u, last_row) * a_rs;
    let a19 = a_base + min(row0 + 19u, last_row) * a_rs;
    let a20 = a_base + min(row0 + 20u, last_row) * a_rs;
    let a21 = a_base + min(row0 + 21u, last_row) * a_rs;
    let a22 = a_base + min(row0 + 22u, last_row) * a_rs;
    let a23 = a_base + min(row0 + 23u, last_row) * a_rs;
    let a24 = a_base + min(row0 + 24u, last_row) * a_rs;
    let a25 = a_base + min(row0 + 25u, last_row) * a_rs;
    let a26 = a_base + min(row0 + 26u, last_row) * a_rs;
    let a27 = a_base + min(row0 + 27u, last_row) * a_rs;
    let a28 = a_base + min(row0 + 28u, last_row) * a_rs;
    let a29 = a_base + min(row0 + 29u, last_row) * a_rs;
    let a30 = a_base + min(row0 + 30u, last_row) * a_rs;
    let a31 = a_base + min(row0 + 31u, last_row) * a_rs;
    let col0 = col_base + 0u * col_step;
    let b0 = b_base + min(col0, last_col) * b_cs;
    let col1 = col_base + 1u * col_step;
    let b1 = b_base + min(col1, last_col) * b_cs;
    let col2 = col_base + 2u * col_step;
    let b2 = b_base + min(col2, last_col) * b_cs;
    let col3 = col_base + 3u * col_step;
    let b3 = b_base + min(col3, last_col) * b_cs;
    let col4 = col_base + 4u * col_step;
    let b4 = b_base + min(col4, last_col) * b_cs;
    let col5 = col_base + 5u * col_step;
    let b5 = b_base + min(col5, last_col) * b_cs;
    let col6 = col_base + 6u * col_step;
    let b6 = b_base + min(col6, last_col) * b_cs;
    let col7 = col_base + 7u * col_step;
    let b7 = b_base + min(col7, last_col) * b_cs;
    let col8 = col_base + 8u * col_step;
    let b8 = b_base + min(col8, last_col) * b_cs;
    let col9 = col_base + 9u * col_step;
    let b9 = b_base + min(col9, last_col) * b_cs;
    let col10 = col_base + 10u * col_step;
    let b10 = b_base + min(col10, last_col) * b_cs;
    let col11 = col_base + 11u * col_step;
    let b11 = b_base + min(col11, last_col) * b_cs;
    let col12 = col_base + 12u * col_step;
    let b12 = b_base + min(col12, last_col) * b_cs;
    let col13 = col_base + 13u * col_step;
    let b13 = b_base + min(col13, last_col) * b_cs;
    let col14 = col_base + 14u * col_step;
    let b14 = b_base + min(col14, last_col) * b_cs;
    let col15 = col_base + 15u * col_step;
    let b15 = b_base + min(col15, last_col) * b_cs;
    let col16 = col_base + 16u * col_step;
    let b16 = b_base + min(col16, last_col) * b_cs;
    let col17 = col_base + 17u * col_step;
    let b17 = b_base + min(col17, last_col) * b_cs;
    let col18 = col_base + 18u * col_step;
    let b18 = b_base + min(col18, last_col) * b_cs;
    let col19 = col_base + 19u * col_step;
    let b19 = b_base + min(col19, last_col) * b_cs;
    let col20 = col_base + 20u * col_step;
    let b20 = b_base + min(col20, last_col) * b_cs;
    let col21 = col_base + 21u * col_step;
    let b21 = b_base + min(col21, last_col) * b_cs;
    let col22 = col_base + 22u * col_step;
    let b22 = b_base + min(col22, last_col) * b_cs;
    let col23 = col_base + 23u * col_step;
    let b23 = b_base + min(col23, last_col) * b_cs;
    let col24 = col_base + 24u * col_step;
    let b24 = b_base + min(col24, last_col) * b_cs;
    let col25 = col_base + 25u * col_step;
    let b25 = b_base + min(col25, last_col) * b_cs;
    let col26 = col_base + 26u * col_step;
    let b26 = b_base + min(col26, last_col) * b_cs;
    let col27 = col_base + 27u * col_step;
    let b27 = b_base + min(col27, last_col) * b_cs;
    let col28 = col_base + 28u * col_step;
    let b28 = b_base + min(col28, last_col) * b_cs;
    let col29 = col_base + 29u * col_step;
    let b29 = b_base + min(col29, last_col) * b_cs;
    let col30 = col_base + 30u * col_step;
    let b30 = b_base + min(col30, last_col) * b_cs;
    let col31 = col_base + 31u * col_step;
    let b31 = b_base + min(col31, last_col) * b_cs;
    var c0_0 = 0.0; var c0_1 = 0.0; var c0_2 = 0.0; var c0_3 = 0.0; var c0_4 = 0.0; var c0_5 = 0.0; var c0_6 = 0.0; var c0_7 = 0.0; var c0_8 = 0.0; var c0_9 = 0.0; var c0_10 = 0.0; var c0_11 = 0.0; var c0_12 = 0.0; var c0_13 = 0.0; var c0_14 = 0.0; var c0_15 = 0.0; var c0_16 = 0.0; var c0_17 = 0.0; var c0_18 = 0.0; var c0_19 = 0.0; var c0_20 = 0.0; var c0_21 = 0.0; var c0_22 = 0.0; var c0_23 = 0.0; var c0_24 = 0.0; var c0_25 = 0.0; var c0_26 = 0.0; var c0_27 = 0.0; var c0_28 = 0.0; var c0_29 = 0.0; var c0_30 = 0.0; var c0_31 = 0.0;
    var c1_0 = 0.0; var c1_1 = 0.0; var c1_2 = 0.0; var c1_3 = 0.0; var c1_4 = 0.0; var c1_5 = 0.0; var c1_6 = 0.0; var c1_7 = 0.0; var c1_8 = 0.0; var c1_9 = 0.0; var c1_10 = 0.0; var c1_11 = 0.0; var c1_12 = 0.0; var c1_13 = 0.0; var c1_14 = 0.0; var c1_15 = 0.0; var c1_16 = 0.0; var c1_17 = 0.0; var c1_18 = 0.0; var c1_19 = 0.0; var c1_20 = 0.0; var c1_21 = 0.0; var c1_22 = 0.0; var c1_23 = 0.0; var c1_24 = 0.0; var c1_25 = 0.0; var c1_26 = 0.0; var c1_27 = 0.0; var c1_28 = 0.0; var c1_29 = 0.0; var c1_30 = 0.0; var c1_31 = 0.0;
    var c2_0 = 0.0; var c2_1 = 0.0; var c2_2 = 0.0; var c2_3 = 0.0; var c2_4 = 0.0; var c2_5 = 0.0; var c2_6 = 0.0; var c2_7 = 0.0; var c2_8 = 0.0; var c2_9 = 0.0; var c2_10 = 0.0; var c2_11 = 0.0; var c2_12 = 0.0; var c2_13 = 0.0; var c2_14 = 0.0; var c2_15 = 0.0; var c2_16 = 0.0; var c2_17 = 0.0; var c2_18 = 0.0; var c2_19 = 0.0; var c2_20 = 0.0; var c2_21 = 0.0; var c2_22 = 0.0; var c2_23 = 0.0; var c2_24 = 0.0; var c2_25 = 0.0; var c2_26 = 0.0; var c2_27 = 0.0; var c2_28 = 0.0; var c2_29 = 0.0; var c2_30 = 0.0; var c2_31 = 0.0;
    var c3_0 = 0.0; var c3_1 = 0.0; var c3_2 = 0.0; var c3_3 = 0.0; var c3_4 = 0.0; var c3_5 = 0.0; var c3_6 = 0.0; var c3_7 = 0.0; var c3_8 = 0.0; var c3_9 = 0.0; var c3_10 = 0.0; var c3_11 = 0.0; var c3_12 = 0.0; var c3_13 = 0.0; var c3_14 = 0.0; var c3_15 = 0.0; var c3_16 = 0.0; var c3_17 = 0.0; var c3_18 = 0.0; var c3_19 = 0.0; var c3_20 = 0.0; var c3_21 = 0.0; var c3_22 = 0.0; var c3_23 = 0.0; var c3_24 = 0.0; var c3_25 = 0.0; var c3_26 = 0.0; var c3_27 = 0.0; var c3_28 = 0.0; var c3_29 = 0.0; var c3_30 = 0.0; var c3_31 = 0.0;
    var c4_0 = 0.0; var c4_1 = 0.0; var c4_2 = 0.0; var c4_3 = 0.0; var c4_4 = 0.0; var c4_5 = 0.0; var c4_6 = 0.0; var c4_7 = 0.0; var c4_8 = 0.0; var c4_9 = 0.0; var c4_10 = 0.0; var c4_11 = 0.0; var c4_12 = 0.0; var c4_13 = 0.0; var c4_14 = 0.0; var c4_15 = 0.0; var c4_16 = 0.0; var c4_17 = 0.0; var c4_18 = 0.0; var c4_19 = 0.0; var c4_20 = 0.0; var c4_21 = 0.0; var c4_22 = 0.0; var c4_23 = 0.0; var c4_24 = 0.0; var c4_25 = 0.0; var c4_26 = 0.0; var c4_27 = 0.0; var c4_28 = 0.0; var c4_29 = 0.0; var c4_30 = 0.0; var c4_31 = 0.0;
    var c5_0 = 0.0; var c5_1 = 0.0; var c5_2 = 0.0; var c5_3 = 0.0; var c5_4 = 0.0; var c5_5 = 0.0; var c5_6 = 0.0; var c5_7 = 0.0; var c5_8 = 0.0; var c5_9 = 0.0; var c5_10 = 0.0; var c5_11 = 0.0; var c5_12 = 0.0; var c5_13 = 0.0; var c5_14 = 0.0; var c5_15 = 0.0; var c5_16 = 0.0; var c5_17 = 0.0; var c5_18 = 0.0; var c5_19 = 0.0; var c5_20 = 0.0; var c5_21 = 0.0; var c5_22 = 0.0; var c5_23 = 0.0; var c5_24 = 0.0; var c5_25 = 0.0; var c5_26 = 0.0; var c5_27 = 0.0; var c5_28 = 0.0; var c5_29 = 0.0; var c5_30 = 0.0; var c5_31 = 0.0;
    var c6_0 = 0.0; var c6_1 = 0.0; var c6_2 = 0.0; var c6_3 = 0.0; var c6_4 = 0.0; var c6_5 = 0.0; var c6_6 = 0.0; var c6_7 = 0.0; var c6_8 = 0.0; var c6_9 = 0.0; var c6_10 = 0.0; var c6_11 = 0.0; var c6_12 = 0.0; var c6_13 = 0.0; var c6_14 = 0.0; var c6_15 = 0.0; var c6_16 = 0.0; var c6_17 = 0.0; var c6_18 = 0.0; var c6_19 = 0.0; var c6_20 = 0.0; var c6_21 = 0.0; var c6_22 = 0.0; var c6_23 = 0.0; var c6_24 = 0.0; var c6_25 = 0.0; var c6_26 = 0.0; var c6_27 = 0.0; var c6_28 = 0.0; var c6_29 = 0.0; var c6_30 = 0.0; var c6_31 = 0.0;
    var c7_0 = 0.0; var c7_1 = 0.0; var c7_2 = 0.0; var c7_3 = 0.0; var c7_4 = 0.0; var c7_5 = 0.0; var c7_6 = 0.0; var c7_7 = 0.0; var c7_8 = 0.0; var c7_9 = 0.0; var c7_10 = 0.0; var c7_11 = 0.0; var c7_12 = 0.0; var c7_13 = 0.0; var c7_14 = 0.0; var c7_15 = 0.0; var c7_16 = 0.0; var c7_17 = 0.0; var c7_18 = 0.0; var c7_19 = 0.0; var c7_20 = 0.0; var c7_21 = 0.0; var c7_22 = 0.0; var c7_23 = 0.0; var c7_24 = 0.0; var c7_25 = 0.0; var c7_26 = 0.0; var c7_27 = 0.0; var c7_28 = 0.0; var c7_29 = 0.0; var c7_30 = 0.0; var c7_31 = 0.0;
    var c8_0 = 0.0; var c8_1 = 0.0; var c8_2 = 0.0; var c8_3 = 0.0; var c8_4 = 0.0; var c8_5 = 0.0; var c8_6 = 0.0; var c8_7 = 0.0; var c8_8 = 0.0; var c8_9 = 0.0; var c8_10 = 0.0; var c8_11 = 0.0; var c8_12 = 0.0; var c8_13 = 0.0; var c8_14 = 0.0; var c8_15 = 0.0; var c8_16 = 0.0; var c8_17 = 0.0; var c8_18 = 0.0; var c8_19 = 0.0; var c8_20 = 0.0; var c8_21 = 0.0; var c8_22 = 0.0; var c8_23 = 0.0; var c8_24 = 0.0; var c8_25 = 0.0; var c8_26 = 0.0; var c8_27 = 0.0; var c8_28 = 0.0; var c8_29 = 0.0; var c8_30 = 0.0; var c8_31 = 0.0;
    var c9_0 = 0.0; var c9_1 = 0.0; var c9_2 = 0.0; var c9_3 = 0.0; var c9_4 = 0.0; var c9_5 = 0.0; var c9_6 = 0.0; var c9_7 = 0.0; var c9_8 = 0.0; var c9_9 = 0.0; var c9_10 = 0.0; var c9_11 = 0.0; var c9_12 = 0.0; var c9_13 = 0.0; var c9_14 = 0.0; var c9_15 = 0.0; var c9_16 = 0.0; var c9_17 = 0.0; var c9_18 = 0.0; var c9_19 = 0.0; var c9_20 = 0.0; var c9_21 = 0.0; var c9_22 = 0.0; var c9_23 = 0.0; var c9_24 = 0.0; var c9_25 = 0.0; var c9_26 = 0.0; var c9_27 = 0.0; var c9_28 = 0.0; var c9_29 = 0.0; var c9_30 = 0.0; var c9_31 = 0.0;
    var c10_0 = 0.0; var c10_1 = 0.0; var c10_2 = 0.0; var c10_3 = 0.0; var c10_4 = 0.0; var c10_5 = 0.0; var c10_6 = 0.0; var c10_7 = 0.0; var c10_8 = 0.0; var c10_9 = 0.0; var c10_10 = 0.0; var c10_11 = 0.0; var c10_12 = 0.0; var c10_13 = 0.0; var c10_14 = 0.0; var c10_15 = 0.0; var c10_16 = 0.0; var c10_17 = 0.0; var c10_18 = 0.0; var c10_19 = 0.0; var c10_20 = 0.0; var c10_21 = 0.0; var c10_22 = 0.0; var c10_23 = 0.0; var c10_24 = 0.0; var c10_25 = 0.0; var c10_26 = 0.0; var c10_27 = 0.0; var c10_28 = 0.0; var c10_29 = 0.0; var c10_30 = 0.0; var c10_31 = 0.0;
    var c11_0 = 0.0; var c11_1 = 0.0; var c11_2 = 0.0; var c11_3 = 0.0; var c11_4 = 0.0; var c11_5 = 0.0; var c11_6 = 0.0; var c11_7 = 0.0; var c11_8 = 0.0; var c11_9 = 0.0; var c11_10 = 0.0; var c11_11 = 0.0; var c11_12 = 0.0; var c11_13 = 0.0; var c11_14 = 0.0; var c11_15 = 0.0; var c11_16 = 0.0; var c11_17 = 0.0; var c11_18 = 0.0; var c11_19 = 0.0; var c11_20 = 0.0; var c11_21 = 0.0; var c11_22 = 0.0; var c11_23 = 0.0; var c11_24 = 0.0; var c11_25 = 0.0; var c11_26 = 0.0; var c11_27 = 0.0; var c11_28 = 0.0; var c11_29 = 0.0; var c11_30 = 0.0; var c11_31 = 0.0;
    var c12_0 = 0.0; var c12_1 = 0.0; var c12_2 = 0.0; var c12_3 = 0.0; var c12_4 = 0.0; var c12_5 = 0.0; var c12_6 = 0.0; var c12_7 = 0.0; var c12_8 = 0.0; var c12_9 = 0.0; var c12_10 = 0.0; var c12_11 = 0.0; var c12_12 = 0.0; var c12_13 = 0.0; var c12_14 = 0.0; var c12_15 = 0.0; var c12_16 = 0.0; var c12_17 = 0.0; var c12_18 = 0.0; var c12_19 = 0.0; var c12_20 = 0.0; var c12_21 = 0.0; var c12_22 = 0.0; var c12_23 = 0.0; var c12_24 = 0.0; var c12_25 = 0.0; var c12_26 = 0.0; var c12_27 = 0.0; var c12_28 = 0.0; var c12_29 = 0.0; var c12_30 = 0.0; var c12_31 = 0.0;
    var c13_0 = 0.0; var c13_1 = 0.0; var c13_2 = 0.0; var c13_3 = 0.0; var c13_4 = 0.0; var c13_5 = 0.0; var c13_6 = 0.0; var c13_7 = 0.0; var c13_8 = 0.0; var c13_9 = 0.0; var c13_10 = 0.0; var c13_11 = 0.0; var c13_12 = 0.0; var c13_13 = 0.0; var c13_14 = 0.0; var c13_15 = 0.0; var c13_16 = 0.0; var c13_17 = 0.0; var c13_18 = 0.0; var c13_19 = 0.0; var c13_20 = 0.0; var c13_21 = 0.0; var c13_22 = 0.0; var c13_23 = 0.0; var c13_24 = 0.0; var c13_25 = 0.0; var c13_26 = 0.0; var c13_27 = 0.0; var c13_28 = 0.0; var c13_29 = 0.0; var c13_30 = 0.0; var c13_31 = 0.0;
    var c14_0 = 0.0; var c14_1 = 0.0; var c14_2 = 0.0; var c14_3 = 0.0; var c14_4 = 0.0; var c14_5 = 0.0; var c14_6 = 0.0; var c14_7 = 0.0; var c14_8 = 0.0; var c14_9 = 0.0; var c14_10 = 0.0; var c14_11 = 0.0; var c14_12 = 0.0; var c14_13 = 0.0; var c14_14 = 0.0; var c14_15 = 0.0; var c14_16 = 0.0; var c14_17 = 0.0; var c14_18 = 0.0; var c14_19 = 0.0; var c14_20 = 0.0; var c14_21 = 0.0; var c14_22 = 0.0; var c14_23 = 0.0; var c14_24 = 0.0; var c14_25 = 0.0; var c14_26 = 0.0; var c14_27 = 0.0; var c14_28 = 0.0; var c14_29 = 0.0; var c14_30 = 0.0; var c14_31 = 0.0;
    var c15_0 = 0.0; var c15_1 = 0.0; var c15_2 = 0.0; var c15_3 = 0.0; var c15_4 = 0.0; var c15_5 = 0.0; var c15_6 = 0.0; var c15_7 = 0.0; var c15_8 = 0.0; var c15_9 = 0.0; var c15_10 = 0.0; var c15_11 = 0.0; var c15_12 = 0.0; var c15_13 = 0.0; var c15_14 = 0.0; var c15_15 = 0.0; var c15_16 = 0.0; var c15_17 = 0.0; var c15_18 = 0.0; var c15_19 = 0.0; var c15_20 = 0.0; var c15_21 = 0.0; var c15_22 = 0.0; var c15_23 = 0.0; var c15_24 = 0.0; var c15_25 = 0.0; var c15_26 = 0.0; var c15_27 = 0.0; var c15_28 = 0.0; var c15_29 = 0.0; var c15_30 = 0.0; var c15_31 = 0.0;
    var c16_0 = 0.0; var c16_1 = 0.0; var c16_2 = 0.0; var c16_3 = 0.0; var c16_4 = 0.0; var c16_5 = 0.0; var c16_6 = 0.0; var c16_7 = 0.0; var c16_8 = 0.0; var c16_9 = 0.0; var c16_10 = 0.0; var c16_11 = 0.0; var c16_12 = 0.0; var c16_13 = 0.0; var c16_14 = 0.0; var c16_15 = 0.0; var c16_16 = 0.0; var c16_17 = 0.0; var c16_18 = 0.0; var c16_19 = 0.0; var c16_20 = 0.0; var c16_21 = 0.0; var c16_22 = 0.0; var c16_23 = 0.0; var c16_24 = 0.0; var c16_25 = 0.0; var c16_26 = 0.0; var c16_27 = 0.0; var c16_28 = 0.0; var c16_29 = 0.0; var c16_30 = 0.0; var c16_31 = 0.0;
    var c17_0 = 0.0; var c17_1 = 0.0; var c17_2 = 0.0; var c17_3 = 0.0; var c17_4 = 0.0; var c17_5 = 0.0; var c17_6 = 0.0; var c17_7 = 0.0; var c17_8 = 0.0; var c17_9 = 0.0; var c17_10 = 0.0; var c17_11 = 0.0; var c17_12 = 0.0; var c17_13 = 0.0; var c17_14 = 0.0; var c17_15 = 0.0; var c17_16 = 0.0; var c17_17 = 0.0; var c17_18 = 0.0; var c17_19 = 0.0; var c17_20 = 0.0; var c17_21 = 0.0; var c17_22 = 0.0; var c17_23 = 0.0; var c17_24 = 0.0; var c17_25 = 0.0; var c17_26 = 0.0; var c17_27 = 0.0; var c17_28 = 0.0; var c17_29 = 0.0; var c17_30 = 0.0; var c17_31 = 0.0;
    var c18_0 = 0.0; var c18_1 = 0.0; var c18_2 = 0.0; var c18_3 = 0.0; var c18_4 = 0.0; var c18_5 = 0.0; var c18_6 = 0.0; var c18_7 = 0.0; var c18_8 = 0.0; var c18_9 = 0.0; var c18_10 = 0.0; var c18_11 = 0.0; var c18_12 = 0.0; var c18_13 = 0.0; var c18_14 = 0.0; var c18_15 = 0.0; var c18_16 = 0.0; var c18_17 = 0.0; var c18_18 = 0.0; var c18_19 = 0.0; var c18_20 = 0.0; var c18_21 = 0.0; var c18_22 = 0.0; var c18_23 = 0.0; var c18_24 = 0.0; var c18_25 = 0.0; var c18_26 = 0.0; var c18_27 = 0.0; var c18_28 = 0.0; var c18_29 = 0.0; var c18_30 = 0.0; var c18_31 = 0.0;
    var c19_0 = 0.0; var c19_1 = 0.0; var c19_2 = 0.0; var c19_3 = 0.0; var c19_4 = 0.0; var c19_5 = 0.0; var c19_6 = 0.0; var c19_7 = 0.0; var c19_8 = 0.0; var c19_9 = 0.0; var c19_10 = 0.0; var c19_11 = 0.0; var c19_12 = 0.0; var c19_13 = 0.0; var c19_14 = 0.0; var c19_15 = 0.0; var c19_16 = 0.0; var c19_17 = 0.0; var c19_18 = 0.0; var c19_19 = 0.0; var c19_20 = 0.0; var c19_21 = 0.0; var c19_22 = 0.0; var c19_23 = 0.0; var c19_24 = 0.0; var c19_25 = 0.0; var c19_26 = 0.0; var c19_27 = 0.0; var c19_28 = 0.0; var c19_29 = 0.0; var c19_30 = 0.0; var c19_31 = 0.0;
    var c20_0 = 0.0; var c20_1 = 0.0; var c20_2 = 0.0; var c20_3 = 0.0; var c20_4 = 0.0; var c20_5 = 0.0; var c20_6 = 0.0; var c20_7 = 0.0; var c20_8 = 0.0; var c20_9 = 0.0; var c20_10 = 0.0; var c20_11 = 0.0; var c20_12 = 0.0; var c20_13 = 0.0; var c20_14 = 0.0; var c20_15 = 0.0; var c20_16 = 0.0; var c20_17 = 0.0; var c20_18 = 0.0; var c20_19 = 0.0; var c20_20 = 0.0; var c20_21 = 0.0; var c20_22 = 0.0; var c20_23 = 0.0; var c20_24 = 0.0; var c20_25 = 0.0; var c20_26 = 0.0; var c20_27 = 0.0; var c20_28 = 0.0; var c20_29 = 0.0; var c20_30 = 0.0; var c20_31 = 0.0;
    var c21_0 = 0.0; var c21_1 = 0.0; var c21_2 = 0.0; var c21_3 = 0.0; var c21_4 = 0.0; var c21_5 = 0.0; var c21_6 = 0.0; var c21_7 = 0.0; var c21_8 = 0.0; var c21_9 = 0.0; var c21_10 = 0.0; var c21_11 = 0.0; var c21_12 = 0.0; var c21_13 = 0.0; var c21_14 = 0.0; var c21_15 = 0.0; var c21_16 = 0.0; var c21_17 = 0.0; var c21_18 = 0.0; var c21_19 = 0.0; var c21_20 = 0.0; var c21_21 = 0.0; var c21_22 = 0.0; var c21_23 = 0.0; var c21_24 = 0.0; var c21_25 = 0.0; var c21_26 = 0.0; var c21_27 = 0.0; var c21_28 = 0.0; var c21_29 = 0.0; var c21_30 = 0.0; var c21_31 = 0.0;
    var c22_0 = 0.0; var c22_1 = 0.0; var c22_2 = 0.0; var c22_3 = 0.0; var c22_4 = 0.0; var c22_5 = 0.0; var c22_6 = 0.0; var c22_7 = 0.0; var c22_8 = 0.0; var c22_9 = 0.0; var c22_10 = 0.0; var c22_11 = 0.0; var c22_12 = 0.0; var c22_13 = 0.0; var c22_14 = 0.0; var c22_15 = 0.0; var c22_16 = 0.0; var c22_17 = 0.0; var c22_18 = 0.0; var c22_19 = 0.0; var c22_20 = 0.0; var c22_21 = 0.0; var c22_22 = 0.0; var c22_23 = 0.0; var c22_24 = 0.0; var c22_25 = 0.0; var c22_26 = 0.0; var c22_27 = 0.0; var c22_28 = 0.0; var c22_29 = 0.0; var c22_30 = 0.0; var c22_31 = 0.0;
    var c23_0 = 0.0; var c23_1 = 0.0; var c23_2 = 0.0; var c23_3 = 0.0; var c23_4 = 0.0; var c23_5 = 0.0; var c23_6 = 0.0; var c23_7 = 0.0; var c23_8 = 0.0; var c23_9 = 0.0; var c23_10 = 0.0; var c23_11 = 0.0; var c23_12 = 0.0; var c23_13 = 0.0; var c23_14 = 0.0; var c23_15 = 0.0; var c23_16 = 0.0; var c23_17 = 0.0; var c23_18 = 0.0; var c23_19 = 0.0; var c23_20 = 0.0; var c23_21 = 0.0; var c23_22 = 0.0; var c23_23 = 0.0; var c23_24 = 0.0; var c23_25 = 0.0; var c23_26 = 0.0; var c23_27 = 0.0; var c23_28 = 0.0; var c23_29 = 0.0; var c23_30 = 0.0; var c23_31 = 0.0;
    var c24_0 = 0.0; var c24_1 = 0.0; var c24_2 = 0.0; var c24_3 = 0.0; var c24_4 = 0.0; var c24_5 = 0.0; var c24_6 = 0.0; var c24_7 = 0.0; var c24_8 = 0.0; var c24_9 = 0.0; var c24_10 = 0.0; var c24_11 = 0.0; var c24_12 = 0.0; var c24_13 = 0.0; var c24_14 = 0.0; var c24_15 = 0.0; var c24_16 = 0.0; var c24_17 = 0.0; var c24_18 = 0.0; var c24_19 = 0.0; var c24_20 = 0.0; var c24_21 = 0.0; var c24_22 = 0.0; var c24_23 = 0.0; var c24_24 = 0.0; var c24_25 = 0.0; var c24_26 = 0.0; var c24_27 = 0.0; var c24_28 = 0.0; var c24_29 = 0.0; var c24_30 = 0.0; var c24_31 = 0.0;
    var c25_0 = 0.0; var c25_1 = 0.0; var c25_2 = 0.0; var c25_3 = 0.0; var c25_4 = 0.0; var c25_5 = 0.0; var c25_6 = 0.0; var c25_7 = 0.0; var c25_8 = 0.0; var c25_9 = 0.0; var c25_10 = 0.0; var c25_11 = 0.0; var c25_12 = 0.0; var c25_13 = 0.0; var c25_14 = 0.0; var c25_15 = 0.0; var c25_16 = 0.0; var c25_17 = 0.0; var c25_18 = 0.0; var c25_19 = 0.0; var c25_20 = 0.0; var c25_21 = 0.0; var c25_22 = 0.0; var c25_23 = 0.0; var c25_24 = 0.0; var c25_25 = 0.0; var c25_26 = 0.0; var c25_27 = 0.0; var c25_28 = 0.0; var c25_29 = 0.0; var c25_30 = 0.0; var c25_31 = 0.0;
    var c26_0 = 0.0; var c26_1 = 0.0; var c26_2 = 0.0; var c26_3 = 0.0; var c26_4 = 0.0; var c26_5 = 0.0; var c26_6 = 0.0; var c26_7 = 0.0; var c26_8 = 0.0; var c26_9 = 0.0; var c26_10 = 0.0; var c26_11 = 0.0; var c26_12 = 0.0; var c26_13 = 0.0; var c26_14 = 0.0; var c26_15 = 0.0; var c26_16 = 0.0; var c26_17 = 0.0; var c26_18 = 0.0; var c26_19 = 0.0; var c26_20 = 0.0; var c26_21 = 0.0; var c26_22 = 0.0; var c26_23 = 0.0; var c26_24 = 0.0; var c26_25 = 0.0; var c26_26 = 0.0; var c26_27 = 0.0; var c26_28 = 0.0; var c26_29 = 0.0; var c26_30 = 0.0; var c26_31 = 0.0;
    var c27_0 = 0.0; var c27_1 = 0.0; var c27_2 = 0.0; var c27_3 = 0.0; var c27_4 = 0.0; var c27_5 = 0.0; var c27_6 = 0.0; var c27_7 = 0.0; var c27_8 = 0.0; var c27_9 = 0.0; var c27_10 = 0.0; var c27_11 = 0.0; var c27_12 = 0.0; var c27_13 = 0.0; var c27_14 = 0.0; var c27_15 = 0.0; var c27_16 = 0.0; var c27_17 = 0.0; var c27_18 = 0.0; var c27_19 = 0.0; var c27_20 = 0.0; var c27_21 = 0.0; var c27_22 = 0.0; var c27_23 = 0.0; var c27_24 = 0.0; var c27_25 = 0.0; var c27_26 = 0.0; var c27_27 = 0.0; var c27_28 = 0.0; var c27_29 = 0.0; var c27_30 = 0.0; var c27_31 = 0.0;
    var c28_0 = 0.0; var c28_1 = 0.0; var c28_2 = 0.0; var c28_3 = 0.0; var c28_4 = 0.0; var c28_5 = 0.0; var c28_6 = 0.0; var c28_7 = 0.0; var c28_8 = 0.0; var c28_9 = 0.0; var c28_10 = 0.0; var c28_11 = 0.0; var c28_12 = 0.0; var c28_13 = 0.0; var c28_14 = 0.0; var c28_15 = 0.0; var c28_16 = 0.0; var c28_17 = 0.0; var c28_18 = 0.0; var c28_19 = 0.0; var c28_20 = 0.0; var c28_21 = 0.0; var c28_22 = 0.0; var c28_23 = 0.0; var c28_24 = 0.0; var c28_25 = 0.0; var c28_26 = 0.0; var c28_27 = 0.0; var c28_28 = 0.0; var c28_29 = 0.0; var c28_30 = 0.0; var c28_31 = 0.0;
    var c29_0 = 0.0; var c29_1 = 0.0; var c29_2 = 0.0; var c29_3 = 0.0; var c29_4 = 0.0; var c29_5 = 0.0; var c29_6 = 0.0; var c29_7 = 0.0; var c29_8 = 0.0; var c29_9 = 0.0; var c29_10 = 0.0; var c29_11 = 0.0; var c29_12 = 0.0; var c29_13 = 0.0; var c29_14 = 0.0; var c29_15 = 0.0; var c29_16 = 0.0; var c29_17 = 0.0; var c29_18 = 0.0; var c29_19 = 0.0; var c29_20 = 0.0; var c29_21 = 0.0; var c29_22 = 0.0; var c29_23 = 0.0; var c29_24 = 0.0; var c29_25 = 0.0; var c29_26 = 0.0; var c29_27 = 0.0; var c29_28 = 0.0; var c29_29 = 0.0; var c29_30 = 0.0; var c29_31 = 0.0;
    var c30_0 = 0.0; var c30_1 = 0.0; var c30_2 = 0.0; var c30_3 = 0.0; var c30_4 = 0.0; var c30_5 = 0.0; var c30_6 = 0.0; var c30_7 = 0.0; var c30_8 = 0.0; var c30_9 = 0.0; var c30_10 = 0.0; var c30_11 = 0.0; var c30_12 = 0.0; var c30_13 = 0.0; var c30_14 = 0.0; var c30_15 = 0.0; var c30_16 = 0.0; var c30_17 = 0.0; var c30_18 = 0.0; var c30_19 = 0.0; var c30_20 = 0.0; var c30_21 = 0.0; var c30_22 = 0.0; var c30_23 = 0.0; var c30_24 = 0.0; var c30_25 = 0.0; var c30_26 = 0.0; var c30_27 = 0.0; var c30_28 = 0.0; var c30_29 = 0.0; var c30_30 = 0.0; var c30_31 = 0.0;
    var c31_0 = 0.0; var c31_1 = 0.0; var c31_2 = 0.0; var c31_3 = 0.0; var c31_4 = 0.0; var c31_5 = 0.0; var c31_6 = 0.0; var c31_7 = 0.0; var c31_8 = 0.0; var c31_9 = 0.0; var c31_10 = 0.0; var c31_11 = 0.0; var c31_12 = 0.0; var c31_13 = 0.0; var c31_14 = 0.0; var c31_15 = 0.0; var c31_16 = 0.0; var c31_17 = 0.0; var c31_18 = 0.0; var c31_19 = 0.0; var c31_20 = 0.0; var c31_21 = 0.0; var c31_22 = 0.0; var c31_23 = 0.0; var c31_24 = 0.0; var c31_25 = 0.0; var c31_26 = 0.0; var c31_27 = 0.0; var c31_28 = 0.0; var c31_29 = 0.0; var c31_30 = 0.0; var c31_31 = 0.0;
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
        let y8 = b[b8 + bk];
        let y9 = b[b9 + bk];
        let y10 = b[b10 + bk];
        let y11 = b[b11 + bk];
        let y12 = b[b12 + bk];
        let y13 = b[b13 + bk];
        let y14 = b[b14 + bk];
        let y15 = b[b15 + bk];
        let y16 = b[b16 + bk];
        let y17 = b[b17 + bk];
        let y18 = b[b18 + bk];
        let y19 = b[b19 + bk];
        let y20 = b[b20 + bk];
        let y21 = b[b21 + bk];
        let y22 = b[b22 + bk];
        let y23 = b[b23 + bk];
        let y24 = b[b24 + bk];
        let y25 = b[b25 + bk];
        let y26 = b[b26 + bk];
        let y27 = b[b27 + bk];
        let y28 = b[b28 + bk];
        let y29 = b[b29 + bk];
        let y30 = b[b30 + bk];
        let y31 = b[b31 + bk];
        let x0 = a[a0 + ak];
        c0_0 = fma(x0, y0, c0_0); c0_1 = fma(x0, y1, c0_1); c0_2 = fma(x0, y2, c0_2); c0_3 = fma(x0, y3, c0_3); c0_4 = fma(x0, y4, c0_4); c0_5 = fma(x0, y5, c0_5); c0_6 = fma(x0, y6, c0_6); c0_7 = fma(x0, y7, c0_7);
        c0_8 = fma(x0, y8, c0_8); c0_9 = fma(x0, y9, c0_9); c0_10 = fma(x0, y10, c0_10); c0_11 = fma(x0, y11, c0_11); c0_12 = fma(x0, y12, c0_12); c0_13 = fma(x0, y13, c0_13); c0_14 = fma(x0, y14, c0_14); c0_15 = fma(x0, y15, c0_15);
        c0_16 = fma(x0, y16, c0_16); c0_17 = fma(x0, y17, c0_17); c0_18 = fma(x0, y18, c0_18); c0_19 = fma(x0, y19, c0_19); c0_20 = fma(x0, y20, c0_20); c0_21 = fma(x0, y21, c0_21); c0_22 = fma(x0, y22, c0_22); c0_23 = fma(x0, y23, c0_23);
        c0_24 = fma(x0, y24, c0_24); c0_25 = fma(x0, y25, c0_25); c0_26 = fma(x0, y26, c0_26); c0_27 = fma(x0, y27, c0_27); c0_28 = fma(x0, y28, c0_28); c0_29 = fma(x0, y29, c0_29); c0_30 = fma(x0, y30, c0_30); c0_31 = fma(x0, y31, c0_31);
        let x1 = a[a1 + ak];
        c1_0 = fma(x1, y0, c1_0); c1_1 = fma(x1, y1, c1_1); c1_2 = fma(x1, y2, c1_2); c1_3 = fma(x1, y3, c1_3); c1_4 = fma(x1, y4, c1_4); c1_5 = fma(x1, y5, c1_5); c1_6 = fma(x1, y6, c1_6); c1_7 = fma(x1, y7, c1_7);
        c1_8 = fma(x1, y8, c1_8); c1_9 = fma(x1, y9, c1_9); c1_10 = fma(x1, y10, c1_10); c1_11 = fma(x1, y11, c1_11); c1_12 = fma(x1, y12, c1_12); c1_13 = fma(x1, y13, c1_13); c1_14 = fma(x1, y14, c1_14); c1_15 = fma(x1, y15, c1_15);
        c1_16 = fma(x1, y16, c1_16); c1_17 = fma(x1, y17, c1_17); c1_18 = fma(x1, y18, c1_18); c1_19 = fma(x1, y19, c1_19); c1_20 = fma(x1, y20, c1_20); c1_21 = fma(x1, y21, c1_21); c1_22 = fma(x1, y22, c1_22); c1_23 = fma(x1, y23, c1_23);
        c1_24 = fma(x1, y24, c1_24); c1_25 = fma(x1, y25, c1_25); c1_26 = fma(x1, y26, c1_26); c1_27 = fma(x1, y27, c1_27); c1_28 = fma(x1, y28, c1_28); c1_29 = fma(x1, y29, c1_29); c1_30 = fma(x1, y30, c1_30); c1_31 = fma(x1, y31, c1_31);
        let x2 = a[a2 + ak];
        c2_0 = fma(x2, y0, c2_0); c2_1 = fma(x2, y1, c2_1); c2_2 = fma(x2, y2, c2_2); c2_3 = fma(x2, y3, c2_3); c2_4 = fma(x2, y4, c2_4); c2_5 = fma(x2, y5, c2_5); c2_6 = fma(x2, y6, c2_6); c2_7 = fma(x2, y7, c2_7);
        c2_8 = fma(x2, y8, c2_8); c2_9 = fma(x2, y9, c2_9); c2_10 = fma(x2, y10, c2_10); c2_11 = fma(x2, y11, c2_11); c2_12 = fma(x2, y12, c2_12); c2_13 = fma(x2, y13, c2_13); c2_14 = fma(x2, y14, c2_14); c2_15 = fma(x2, y15, c2_15);
        c2_16 = fma(x2, y16, c2_16); c2_17 = fma(x2, y17, c2_17); c2_18 = fma(x2, y18, c2_18); c2_19 = fma(x2, y19, c2_19); c2_20 = fma(x2, y20, c2_20); c2_21 = fma(x2, y21, c2_21); c2_22 = fma(x2, y22, c2_22); c2_23 = fma(x2, y23, c2_23);
        c2_24 = fma(x2, y24, c2_24); c2_25 = fma(x2, y25, c2_25); c2_26 = fma(x2, y26, c2_26); c2_27 = fma(x2, y27, c2_27); c2_28 = fma(x2, y28, c2_28); c2_29 = fma(x2, y29, c2_29); c2_30 = fma(x2, y30, c2_30); c2_31 = fma(x2, y31, c2_31);
        let x3 = a[a3 + ak];
        c3_0 = fma(x3, y0, c3_0); c3_1 = fma(x3, y1, c3_1); c3_2 = fma(x3, y2, c3_2); c3_3 = fma(x3, y3, c3_3); c3_4 = fma(x3, y4, c3_4); c3_5 = fma(x3, y5, c3_5); c3_6 = fma(x3, y6, c3_6); c3_7 = fma(x3, y7, c3_7);
        c3_8 = fma(x3, y8, c3_8); c3_9 = fma(x3, y9, c3_9); c3_10 = fma(x3, y10, c3_10); c3_11 = fma(x3, y11, c3_11); c3_12 = fma(x3, y12, c3_12); c3_13 = fma(x3, y13, c3_13); c3_14 = fma(x3, y14, c3_14); c3_15 = fma(x3, y15, c3_15);
        c3_16 = fma(x3, y16, c3_16); c3_17 = fma(x3, y17, c3_17); c3_18 = fma(x3, y18, c3_18); c3_19 = fma(x3, y19, c3_19); c3_20 = fma(x3, y20, c3_20); c3_21 = fma(x3, y21, c3_21); c3_22 = fma(x3, y22, c3_22); c3_23 = fma(x3, y23, c3_23);
        c3_24 = fma(x3, y24, c3_24); c3_25 = fma(x3, y25, c3_25); c3_26 = fma(x3, y26, c3_26); c3_27 = fma(x3, y27, c3_27); c3_28 = fma(x3, y28, c3_28); c3_29 = fma(x3, y29, c3_29); c3_30 = fma(x3, y30, c3_30); c3_31 = fma(x3, y31, c3_31);
        let x4 = a[a4 + ak];
        c4_0 = fma(x4, y0, c4_0); c4_1 = fma(x4, y1, c4_1); c4_2 = fma(x4, y2, c4_2); c4_3 = fma(x4, y3, c4_3); c4_4 = fma(x4, y4, c4_4); c4_5 = fma(x4, y5, c4_5); c4_6 = fma(x4, y6, c4_6); c4_7 = fma(x4, y7, c4_7);
        c4_8 = fma(x4, y8, c4_8); c4_9 = fma(x4, y9, c4_9); c4_10 = fma(x4, y10, c4_10); c4_11 = fma(x4, y11, c4_11); c4_12 = fma(x4, y12, c4_12); c4_13 = fma(x4, y13, c4_13); c4_14 = fma(x4, y14, c4_14); c4_15 = fma(x4, y15, c4_15);
        c4_16 = fma(x4, y16, c4_16); c4_17 = fma(x4, y17, c4_17); c4_18 = fma(x4, y18, c4_18); c4_19 = fma(x4, y19, c4_19); c4_20 = fma(x4, y20, c4_20); c4_21 = fma(x4, y21, c4_21); c4_22 = fma(x4, y22, c4_22); c4_23 = fma(x4, y23, c4_23);
        c4_24 = fma(x4, y24, c4_24); c4_25 = fma(x4, y25, c4_25); c4_26 = fma(x4, y26, c4_26); c4_27 = fma(x4, y27, c4_27); c4_28 = fma(x4, y28, c4_28); c4_29 = fma(x4, y29, c4_29); c4_30 = fma(x4, y30, c4_30); c4_31 = fma(x4, y31, c4_31);
        let x5 = a[a5 + ak];
        c5_0 = fma(x5, y0, c5_0); c5_1 = fma(x5, y1, c5_1); c5_2 = fma(x5, y2, c5_2); c5_3 = fma(x5, y3, c5_3); c5_4 = fma(x5, y4, c5_4); c5_5 = fma(x5, y5, c5_5); c5_6 = fma(x5, y6, c5_6); c5_7 = fma(x5, y7, c5_7);
        c5_8 = fma(x5, y8, c5_8); c5_9 = fma(x5, y9, c5_9); c5_10 = fma(x5, y10, c5_10); c5_11 = fma(x5, y11, c5_11); c5_12 = fma(x5, y12, c5_12); c5_13 = fma(x5, y13, c5_13); c5_14 = fma(x5, y14, c5_14); c5_15 = fma(x5, y15, c5_15);
        c5_16 = fma(x5, y16, c5_16); c5_17 = fma(x5, y17, c5_17); c5_18 = fma(x5, y18, c5_18); c5_19 = fma(x5, y19, c5_19); c5_20 = fma(x5, y20, c5_20); c5_21 = fma(x5, y21, c5_21); c5_22 = fma(x5, y22, c5_22); c5_23 = fma(x5, y23, c5_23);
        c5_24 = fma(x5, y24, c5_24); c5_25 = fma(x5, y25, c5_25); c5_26 = fma(x5, y26, c5_26); c5_27 = fma(x5, y27, c5_27); c5_28 = fma(x5, y28, c5_28); c5_29 = fma(x5, y29, c5_29); c5_30 = fma(x5, y30, c5_30); c5_31 = fma(x5, y31, c5_31);
        let x6 = a[a6 + ak];
        c6_0 = fma(x6, y0, c6_0); c6_1 = fma(x6, y1, c6_1); c6_2 = fma(x6, y2, c6_2); c6_3 = fma(x6, y3, c6_3); c6_4 = fma(x6, y4, c6_4); c6_5 = fma(x6, y5, c6_5); c6_6 = fma(x6, y6, c6_6); c6_7 = fma(x6, y7, c6_7);
        c6_8 = fma(x6, y8, c6_8); c6_9 = fma(x6, y9, c6_9); c6_10 = fma(x6, y10, c6_10); c6_11 = fma(x6, y11, c6_11); c6_12 = fma(x6, y12, c6_12); c6_13 = fma(x6, y13, c6_13); c6_14 = fma(x6, y14, c6_14); c6_15 = fma(x6, y15, c6_15);
        c6_16 = fma(x6, y16, c6_16); c6_17 = fma(x6, y17, c6_17); c6_18 = fma(x6, y18, c6_18); c6_19 = fma(x6, y19, c6_19); c6_20 = fma(x6, y20, c6_20); c6_21 = fma(x6, y21, c6_21); c6_22 = fma(x6, y22, c6_22); c6_23 = fma(x6, y23, c6_23);
        c6_24 = fma(x6, y24, c6_24); c6_25 = fma(x6, y25, c6_25); c6_26 = fma(x6, y26, c6_26); c6_27 = fma(x6, y27, c6_27); c6_28 = fma(x6, y28, c6_28); c6_29 = fma(x6, y29, c6_29); c6_30 = fma(x6, y30, c6_30); c6_31 = fma(x6, y31, c6_31);
        let x7 = a[a7 + ak];
        c7_0 = fma(x7, y0, c7_0); c7_1 = fma(x7, y1, c7_1); c7_2 = fma(x7, y2, c7_2); c7_3 = fma(x7, y3, c7_3); c7_4 = fma(x7, y4, c7_4); c7_5 = fma(x7, y5, c7_5); c7_6 = fma(x7, y6, c7_6); c7_7 = fma(x7, y7, c7_7);
        c7_8 = fma(x7, y8, c7_8); c7_9 = fma(x7, y9, c7_9); c7_10 = fma(x7, y10, c7_10); c7_11 = fma(x7, y11, c7_11); c7_12 = fma(x7, y12, c7_12); c7_13 = fma(x7, y13, c7_13); c7_14 = fma(x7, y14, c7_14); c7_15 = fma(x7, y15, c7_15);
        c7_16 = fma(x7, y16, c7_16); c7_17 = fma(x7, y17, c7_17); c7_18 = fma(x7, y18, c7_18); c7_19 = fma(x7, y19, c7_19); c7_20 = fma(x7, y20, c7_20); c7_21 = fma(x7, y21, c7_21); c7_22 = fma(x7, y22, c7_22); c7_23 = fma(x7, y23, c7_23);
        c7_24 = fma(x7, y24, c7_24); c7_25 = fma(x7, y25, c7_25); c7_26 = fma(x7, y26, c7_26); c7_27 = fma(x7, y27, c7_27); c7_28 = fma(x7, y28, c7_28); c7_29 = fma(x7, y29, c7_29); c7_30 = fma(x7, y30, c7_30); c7_31 = fma(x7, y31, c7_31);
        let x8 = a[a8 + ak];
        c8_0 = fma(x8, y0, c8_0); c8_1 = fma(x8, y1, c8_1); c8_2 = fma(x8, y2, c8_2); c8_3 = fma(x8, y3, c8_3); c8_4 = fma(x8, y4, c8_4); c8_5 = fma(x8, y5, c8_5); c8_6 = fma(x8, y6, c8_6); c8_7 = fma(x8, y7, c8_7);
        c8_8 = fma(x8, y8, c8_8); c8_9 = fma(x8, y9, c8_9); c8_10 = fma(x8, y10, c8_10); c8_11 = fma(x8, y11, c8_11); c8_12 = fma(x8, y12, c8_12); c8_13 = fma(x8, y13, c8_13); c8_14 = fma(x8, y14, c8_14); c8_15 = fma(x8, y15, c8_15);
        c8_16 = fma(x8, y16, c8_16); c8_17 = fma(x8, y17, c8_17); c8_18 = fma(x8, y18, c8_18); c8_19 = fma(x8, y19, c8_19); c8_20 = fma(x8, y20, c8_20); c8_21 = fma(x8, y21, c8_21); c8_22 = fma(x8, y22, c8_22); c8_23 = fma(x8, y23, c8_23);
        c8_24 = fma(x8, y24, c8_24); c8_25 = fma(x8, y25, c8_25); c8_26 = fma(x8, y26, c8_26); c8_27 = fma(x8, y27, c8_27); c8_28 = fma(x8, y28, c8_28); c8_29 = fma(x8, y29, c8_29); c8_30 = fma(x8, y30, c8_30); c8_31 = fma(x8, y31, c8_31);
        let x9 = a[a9 + ak];
        c9_0 = fma(x9, y0, c9_0); c9_1 = fma(x9, y1, c9_1); c9_2 = fma(x9, y2, c9_2); c9_3 = fma(x9, y3, c9_3); c9_4 = fma(x9, y4, c9_4); c9_5 = fma(x9, y5, c9_5); c9_6 = fma(x9, y6, c9_6); c9_7 = fma(x9, y7, c9_7);
        c9_8 = fma(x9, y8, c9_8); c9_9 = fma(x9, y9, c9_9); c9_10 = fma(x9, y10, c9_10); c9_11 = fma(x9, y11, c9_11); c9_12 = fma(x9, y12, c9_12); c9_13 = fma(x9, y13, c9_13); c9_14 = fma(x9, y14, c9_14); c9_15 = fma(x9, y15, c9_15);
        c9_16 = fma(x9, y16, c9_16); c9_17 = fma(x9, y17, c9_17); c9_18 = fma(x9, y18, c9_18); c9_19 = fma(x9, y19, c9_19); c9_20 = fma(x9, y20, c9_20); c9_21 = fma(x9, y21, c9_21); c9_22 = fma(x9, y22, c9_22); c9_23 = fma(x9, y23, c9_23);
        c9_24 = fma(x9, y24, c9_24); c9_25 = fma(x9, y25, c9_25); c9_26 = fma(x9, y26, c9_26); c9_27 = fma(x9, y27, c9_27); c9_28 = fma(x9, y28, c9_28); c9_29 = fma(x9, y29, c9_29); c9_30 = fma(x9, y30, c9_30); c9_31 = fma(x9, y31, c9_31);
        let x10 = a[a10 + ak];
        c10_0 = fma(x10, y0, c10_0); c10_1 = fma(x10, y1, c10_1); c10_2 = fma(x10, y2, c10_2); c10_3 = fma(x10, y3, c10_3); c10_4 = fma(x10, y4, c10_4); c10_5 = fma(x10, y5, c10_5); c10_6 = fma(x10, y6, c10_6); c10_7 = fma(x10, y7, c10_7);
        c10_8 = fma(x10, y8, c10_8); c10_9 = fma(x10, y9, c10_9); c10_10 = fma(x10, y10, c10_10); c10_11 = fma(x10, y11, c10_11); c10_12 = fma(x10, y12, c10_12); c10_13 = fma(x10, y13, c10_13); c10_14 = fma(x10, y14, c10_14); c10_15 = fma(x10, y15, c10_15);
        c10_16 = fma(x10, y16, c10_16); c10_17 = fma(x10, y17, c10_17); c10_18 = fma(x10, y18, c10_18); c10_19 = fma(x10, y19, c10_19); c10_20 = fma(x10, y20, c10_20); c10_21 = fma(x10, y21, c10_21); c10_22 = fma(x10, y22, c10_22); c10_23 = fma(x10, y23, c10_23);
        c10_24 = fma(x10, y24, c10_24); c10_25 = fma(x10, y25, c10_25); c10_26 = fma(x10, y26, c10_26); c10_27 = fma(x10, y27, c10_27); c10_28 = fma(x10, y28, c10_28); c10_29 = fma(x10, y29, c10_29); c10_30 = fma(x10, y30, c10_30); c10_31 = fma(x10, y31, c10_31);
        let x11 = a[a11 + ak];
        c11_0 = fma(x11, y0, c11_0); c11_1 = fma(x11, y1, c11_1); c11_2 = fma(x11, y2, c11_2); c11_3 = fma(x11, y3, c11_3); c11_4 = fma(x11, y4, c11_4); c11_5 = fma(x11, y5, c11_5); c11_6 = fma(x11, y6, c11_6); c11_7 = fma(x11, y7, c11_7);
        c11_8 = fma(x11, y8, c11_8); c11_9 = fma(x11, y9, c11_9); c11_10 = fma(x11, y10, c11_10); c11_11 = fma(x11, y11, c11_11); c11_12 = fma(x11, y12, c11_12); c11_13 = fma(x11, y13, c11_13); c11_14 = fma(x11, y14, c11_14); c11_15 = fma(x11, y15, c11_15);
        c11_16 = fma(x11, y16, c11_16); c11_17 = fma(x11, y17, c11_17); c11_18 = fma(x11, y18, c11_18); c11_19 = fma(x11, y19, c11_19); c11_20 = fma(x11, y20, c11_20); c11_21 = fma(x11, y21, c11_21); c11_22 = fma(x11, y22, c11_22); c11_23 = fma(x11, y23, c11_23);
        c11_24 = fma(x11, y24, c11_24); c11_25 = fma(x11, y25, c11_25); c11_26 = fma(x11, y26, c11_26); c11_27 = fma(x11, y27, c11_27); c11_28 = fma(x11, y28, c11_28); c11_29 = fma(x11, y29, c11_29); c11_30 = fma(x11, y30, c11_30); c11_31 = fma(x11, y31, c11_31);
        let x12 = a[a12 + ak];
        c12_0 = fma(x12, y0, c12_0); c12_1 = fma(x12, y1, c12_1); c12_2 = fma(x12, y2, c12_2); c12_3 = fma(x12, y3, c12_3); c12_4 = fma(x12, y4, c12_4); c12_5 = fma(x12, y5, c12_5); c12_6 = fma(x12, y6, c12_6); c12_7 = fma(x12, y7, c12_7);
        c12_8 = fma(x12, y8, c12_8); c12_9 = fma(x12, y9, c12_9); c12_10 = fma(x12, y10, c12_10); c12_11 = fma(x12, y11, c12_11); c12_12 = fma(x12, y12, c12_12); c12_13 = fma(x12, y13, c12_13); c12_14 = fma(x12, y14, c12_14); c12_15 = fma(x12, y15, c12_15);
        c12_16 = fma(x12, y16, c12_16); c12_17 = fma(x12, y17, c12_17); c12_18 = fma(x12, y18, c12_18); c12_19 = fma(x12, y19, c12_19); c12_20 = fma(x12, y20, c12_20); c12_21 = fma(x12, y21, c12_21); c12_22 = fma(x12, y22, c12_22); c12_23 = fma(x12, y23, c12_23);
        c12_24 = fma(x12, y24, c12_24); c12_25 = fma(x12, y25, c12_25); c12_26 = fma(x12, y26, c12_26); c12_27 = fma(x12, y27, c12_27); c12_28 = fma(x12, y28, c12_28); c12_29 = fma(x12, y29, c12_29); c12_30 = fma(x12, y30, c12_30); c12_31 = fma(x12, y31, c12_31);
        let x13 = a[a13 + ak];
        c13_0 = fma(x13, y0, c13_0); c13_1 = fma(x13, y1, c13_1); c13_2 = fma(x13, y2, c13_2); c13_3 = fma(x13, y3, c13_3); c13_4 = fma(x13, y4, c13_4); c13_5 = fma(x13, y5, c13_5); c13_6 = fma(x13, y6, c13_6); c13_7 = fma(x13, y7, c13_7);
        c13_8 = fma(x13, y8, c13_8); c13_9 = fma(x13, y9, c13_9); c13_10 = fma(x13, y10, c13_10); c13_11 = fma(x13, y11, c13_11); c13_12 = fma(x13, y12, c13_12); c13_13 = fma(x13, y13, c13_13); c13_14 = fma(x13, y14, c13_14); c13_15 = fma(x13, y15, c13_15);
        c13_16 = fma(x13, y16, c13_16); c13_17 = fma(x13, y17, c13_17); c13_18 = fma(x13, y18, c13_18); c13_19 = fma(x13, y19, c13_19); c13_20 = fma(x13, y20, c13_20); c13_21 = fma(x13, y21, c13_21); c13_22 = fma(x13, y22, c13_22); c13_23 = fma(x13, y23, c13_23);
        c13_24 = fma(x13, y24, c13_24); c13_25 = fma(x13, y25, c13_25); c13_26 = fma(x13, y26, c13_26); c13_27 = fma(x13, y27, c13_27); c13_28 = fma(x13, y28, c13_28); c13_29 = fma(x13, y29, c13_29); c13_30 = fma(x13, y30, c13_30); c13_31 = fma(x13, y31, c13_31);
        let x14 = a[a14 + ak];
        c14_0 = fma(x14, y0, c14_0); c14_1 = fma(x14, y1, c14_1); c14_2 = fma(x14, y2, c14_2); c14_3 = fma(x14, y3, c14_3); c14_4 = fma(x14, y4, c14_4); c14_5 = fma(x14, y5, c14_5); c14_6 = fma(x14, y6, c14_6); c14_7 = fma(x14, y7, c14_7);
        c14_8 = fma(x14, y8, c14_8); c14_9 = fma(x14, y9, c14_9); c14_10 = fma(x14, y10, c14_10); c14_11 = fma(x14, y11, c14_11); c14_12 = fma(x14, y12, c14_12); c14_13 = fma(x14, y13, c14_13); c14_14 = fma(x14, y14, c14_14); c14_15 = fma(x14, y15, c14_15);
        c14_16 = fma(x14, y16, c14_16); c14_17 = fma(x14, y17, c14_17); c14_18 = fma(x14, y18, c14_18); c14_19 = fma(x14, y19, c14_19); c14_20 = fma(x14, y20, c14_20); c14_21 = fma(x14, y21, c14_21); c14_22 = fma(x14, y22, c14_22); c14_23 = fma(x14, y23, c14_23);
        c14_24 = fma(x14, y24, c14_24); c14_25 = fma(x14, y25, c14_25); c14_26 = fma(x14, y26, c14_26); c14_27 = fma(x14, y27, c14_27); c14_28 = fma(x14, y28, c14_28); c14_29 = fma(x14, y29, c14_29); c14_30 = fma(x14, y30, c14_30); c14_31 = fma(x14, y31, c14_31);
        let x15 = a[a15 + ak];
        c15_0 = fma(x15, y0, c15_0); c15_1 = fma(x15, y1, c15_1); c15_2 = fma(x15, y2, c15_2); c15_3 = fma(x15, y3, c15_3); c15_4 = fma(x15, y4, c15_4); c15_5 = fma(x15, y5, c15_5); c15_6 = fma(x15, y6, c15_6); c15_7 = fma(x15, y7, c15_7);
        c15_8 = fma(x15, y8, c15_8); c15_9 = fma(x15, y9, c15_9); c15_10 = fma(x15, y10, c15_10); c15_11 = fma(x15, y11, c15_11); c15_12 = fma(x15, y12, c15_12); c15_13 = fma(x15, y13, c15_13); c15_14 = fma(x15, y14, c15_14); c15_15 = fma(x15, y15, c15_15);
        c15_16 = fma(x15, y16, c15_16); c15_17 = fma(x15, y17, c15_17); c15_18 = fma(x15, y18, c15_18); c15_19 = fma(x15, y19, c15_19); c15_20 = fma(x15, y20, c15_20); c15_21 = fma(x15, y21, c15_21); c15_22 = fma(x15, y22, c15_22); c15_23 = fma(x15, y23, c15_23);
        c15_24 = fma(x15, y24, c15_24); c15_25 = fma(x15, y25, c15_25); c15_26 = fma(x15, y26, c15_26); c15_27 = fma(x15, y27, c15_27); c15_28 = fma(x15, y28, c15_28); c15_29 = fma(x15, y29, c15_29); c15_30 = fma(x15, y30, c15_30); c15_31 = fma(x15, y31, c15_31);
        let x16 = a[a16 + ak];
        c16_0 = fma(x16, y0, c16_0); c16_1 = fma(x16, y1, c16_1); c16_2 = fma(x16, y2, c16_2); c16_3 = fma(x16, y3, c16_3); c16_4 = fma(x16, y4, c16_4); c16_5 = fma(x16, y5, c16_5); c16_6 = fma(x16, y6, c16_6); c16_7 = fma(x16, y7, c16_7);
        c16_8 = fma(x16, y8, c16_8); c16_9 = fma(x16, y9, c16_9); c16_10 = fma(x16, y10, c16_10); c16_11 = fma(x16, y11, c16_11); c16_12 = fma(x16, y12, c16_12); c16_13 = fma(x16, y13, c16_13); c16_14 = fma(x16, y14, c16_14); c16_15 = fma(x16, y15, c16_15);
        c16_16 = fma(x16, y16, c16_16); c16_17 = fma(x16, y17, c16_17); c16_18 = fma(x16, y18, c16_18); c16_19 = fma(x16, y19, c16_19); c16_20 = fma(x16, y20, c16_20); c16_21 = fma(x16, y21, c16_21); c16_22 = fma(x16, y22, c16_22); c16_23 = fma(x16, y23, c16_23);
        c16_24 = fma(x16, y24, c16_24); c16_25 = fma(x16, y25, c16_25); c16_26 = fma(x16, y26, c16_26); c16_27 = fma(x16, y27, c16_27); c16_28 = fma(x16, y28, c16_28); c16_29 = fma(x16, y29, c16_29); c16_30 = fma(x16, y30, c16_30); c16_31 = fma(x16, y31, c16_31);
        let x17 = a[a17 + ak];
        c17_0 = fma(x17, y0, c17_0); c17_1 = fma(x17, y1, c17_1); c17_2 = fma(x17, y2, c17_2); c17_3 = fma(x17, y3, c17_3); c17_4 = fma(x17, y4, c17_4); c17_5 = fma(x17, y5, c17_5); c17_6 = fma(x17, y6, c17_6); c17_7 = fma(x17, y7, c17_7);
        c17_8 = fma(x17, y8, c17_8); c17_9 = fma(x17, y9, c17_9); c17_10 = fma(x17, y10, c17_10); c17_11 = fma(x17, y11, c17_11); c17_12 = fma(x17, y12, c17_12); c17_13 = fma(x17, y13, c17_13); c17_14 = fma(x17, y14, c17_14); c17_15 = fma(x17, y15, c17_15);
        c17_16 = fma(x17, y16, c17_16); c17_17 = fma(x17, y17, c17_17); c17_18 = fma(x17, y18, c17_18); c17_19 = fma(x17, y19, c17_19); c17_20 = fma(x17, y20, c17_20); c17_21 = fma(x17, y21, c17_21); c17_22 = fma(x17, y22, c17_22); c17_23 = fma(x17, y23, c17_23);
        c17_24 = fma(x17, y24, c17_24); c17_25 = fma(x17, y25, c17_25); c17_26 = fma(x17, y26, c17_26); c17_27 = fma(x17, y27, c17_27); c17_28 = fma(x17, y28, c17_28); c17_29 = fma(x17, y29, c17_29); c17_30 = fma(x17, y30, c17_30); c17_31 = fma(x17, y31, c17_31);
        let x18 = a[a18 + ak];
        c18_0 = fma(x18, y0, c18_0); c18_1 = fma(x18, y1, c18_1); c18_2 = fma(x18, y2, c18_2); c18_3 = fma(x18, y3, c18_3); c18_4 = fma(x18, y4, c18_4); c18_5 = fma(x18, y5, c18_5); c18_6 = fma(x18, y6, c18_6); c18_7 = fma(x18, y7, c18_7);
        c18_8 = fma(x18, y8, c18_8); c18_9 = fma(x18, y9, c18_9); c18_10 = fma(x18, y10, c18_10); c18_11 = fma(x18, y11, c18_11); c18_12 = fma(x18, y12, c18_12); c18_13 = fma(x18, y13, c18_13); c18_14 = fma(x18, y14, c18_14); c18_15 = fma(x18, y15, c18_15);
        c18_16 = fma(x18, y16, c18_16); c18_17 = fma(x18, y17, c18_17); c18_18 = fma(x18, y18, c18_18); c18_19 = fma(x18, y19, c18_19); c18_20 = fma(x18, y20, c18_20); c18_21 = fma(x18, y21, c18_21); c18_22 = fma(x18, y22, c18_22); c18_23 = fma(x18, y23, c18_23);
        c18_24 = fma(x18, y24, c18_24); c18_25 = fma(x18, y25, c18_25); c18_26 = fma(x18, y26, c18_26); c18_27 = fma(x18, y27, c18_27); c18_28 = fma(x18, y28, c18_28); c18_29 = fma(x18, y29, c18_29); c18_30 = fma(x18, y30, c18_30); c18_31 = fma(x18, y31, c18_31);
        let x19 = a[a19 + ak];
        c19_0 = fma(x19, y0, c19_0); c19_1 = fma(x19, y1, c19_1); c19_2 = fma(x19, y2, c19_2); c19_3 = fma(x19, y3, c19_3); c19_4 = fma(x19, y4, c19_4); c19_5 = fma(x19, y5, c19_5); c19_6 = fma(x19, y6, c19_6); c19_7 = fma(x19, y7, c19_7);
        c19_8 = fma(x19, y8, c19_8); c19_9 = fma(x19, y9, c19_9); c19_10 = fma(x19, y10, c19_10); c19_11 = fma(x19, y11, c19_11); c19_12 = fma(x19, y12, c19_12); c19_13 = fma(x19, y13, c19_13); c19_14 = fma(x19, y14, c19_14); c19_15 = fma(x19, y15, c19_15);
        c19_16 = fma(x19, y16, c19_16); c19_17 = fma(x19, y17, c19_17); c19_18 = fma(x19, y18, c19_18); c19_19 = fma(x19, y19, c19_19); c19_20 = fma(x19, y20, c19_20); c19_21 = fma(x19, y21, c19_21); c19_22 = fma(x19, y22, c19_22); c19_23 = fma(x19, y23, c19_23);
        c19_24 = fma(x19, y24, c19_24); c19_25 = fma(x19, y25, c19_25); c19_26 = fma(x19, y26, c19_26); c19_27 = fma(x19, y27, c19_27); c19_28 = fma(x19, y28, c19_28); c19_29 = fma(x19, y29, c19_29); c19_30 = fma(x19, y30, c19_30); c19_31 = fma(x19, y31, c19_31);
        let x20 = a[a20 + ak];
        c20_0 = fma(x20, y0, c20_0); c20_1 = fma(x20, y1, c20_1); c20_2 = fma(x20, y2, c20_2); c20_3 = fma(x20, y3, c20_3); c20_4 = fma(x20, y4, c20_4); c20_5 = fma(x20, y5, c20_5); c20_6 = fma(x20, y6, c20_6); c20_7 = fma(x20, y7, c20_7);
        c20_8 = fma(x20, y8, c20_8); c20_9 = fma(x20, y9, c20_9); c20_10 = fma(x20, y10, c20_10); c20_11 = fma(x20, y11, c20_11); c20_12 = fma(x20, y12, c20_12); c20_13 = fma(x20, y13, c20_13); c20_14 = fma(x20, y14, c20_14); c20_15 = fma(x20, y15, c20_15);
        c20_16 = fma(x20, y16, c20_16); c20_17 = fma(x20, y17, c20_17); c20_18 = fma(x20, y18, c20_18); c20_19 = fma(x20, y19, c20_19); c20_20 = fma(x20, y20, c20_20); c20_21 = fma(x20, y21, c20_21); c20_22 = fma(x20, y22, c20_22); c20_23 = fma(x20, y23, c20_23);
        c20_24 = fma(x20, y24, c20_24); c20_25 = fma(x20, y25, c20_25); c20_26 = fma(x20, y26, c20_26); c20_27 = fma(x20, y27, c20_27); c20_28 = fma(x20, y28, c20_28); c20_29 = fma(x20, y29, c20_29); c20_30 = fma(x20, y30, c20_30); c20_31 = fma(x20, y31, c20_31);
        let x21 = a[a21 + ak];
        c21_0 = fma(x21, y0, c21_0); c21_1 = fma(x21, y1, c21_1); c21_2 = fma(x21, y2, c21_2); c21_3 = fma(x21, y3, c21_3); c21_4 = fma(x21, y4, c21_4); c21_5 = fma(x21, y5, c21_5); c21_6 = fma(x21, y6, c21_6); c21_7 = fma(x21, y7, c21_7);
        c21_8 = fma(x21, y8, c21_8); c21_9 = fma(x21, y9, c21_9); c21_10 = fma(x21, y10, c21_10); c21_11 = fma(x21, y11, c21_11); c21_12 = fma(x21, y12, c21_12); c21_13 = fma(x21, y13, c21_13); c21_14 = fma(x21, y14, c21_14); c21_15 = fma(x21, y15, c21_15);
        c21_16 = fma(x21, y16, c21_16); c21_17 = fma(x21, y17, c21_17); c21_18 = fma(x21, y18, c21_18); c21_19 = fma(x21, y19, c21_19); c21_20 = fma(x21, y20, c21_20); c21_21 = fma(x21, y21, c21_21); c21_22 = fma(x21, y22, c21_22); c21_23 = fma(x21, y23, c21_23);
        c21_24 = fma(x21, y24, c21_24); c21_25 = fma(x21, y25, c21_25); c21_26 = fma(x21, y26, c21_26); c21_27 = fma(x21, y27, c21_27); c21_28 = fma(x21, y28, c21_28); c21_29 = fma(x21, y29, c21_29); c21_30 = fma(x21, y30, c21_30); c21_31 = fma(x21, y31, c21_31);
        let x22 = a[a22 + ak];
        c22_0 = fma(x22, y0, c22_0); c22_1 = fma(x22, y1, c22_1); c22_2 = fma(x22, y2, c22_2); c22_3 = fma(x22, y3, c22_3); c22_4 = fma(x22, y4, c22_4); c22_5 = fma(x22, y5, c22_5); c22_6 = fma(x22, y6, c22_6); c22_7 = fma(x22, y7, c22_7);
        c22_8 = fma(x22, y8, c22_8); c22_9 = fma(x22, y9, c22_9); c22_10 = fma(x22, y10, c22_10); c22_11 = fma(x22, y11, c22_11); c22_12 = fma(x22, y12, c22_12); c22_13 = fma(x22, y13, c22_13); c22_14 = fma(x22, y14, c22_14); c22_15 = fma(x22, y15, c22_15);
        c22_16 = fma(x22, y16, c22_16); c22_17 = fma(x22, y17, c22_17); c22_18 = fma(x22, y18, c22_18); c22_19 = fma(x22, y19, c22_19); c22_20 = fma(x22, y20, c22_20); c22_21 = fma(x22, y21, c22_21); c22_22 = fma(x22, y22, c22_22); c22_23 = fma(x22, y23, c22_23);
        c22_24 = fma(x22, y24, c22_24); c22_25 = fma(x22, y25, c22_25); c22_26 = fma(x22, y26, c22_26); c22_27 = fma(x22, y27, c22_27); c22_28 = fma(x22, y28, c22_28); c22_29 = fma(x22, y29, c22_29); c22_30 = fma(x22, y30, c22_30); c22_31 = fma(x22, y31, c22_31);
        let x23 = a[a23 + ak];
        c23_0 = fma(x23, y0, c23_0); c23_1 = fma(x23, y1, c23_1); c23_2 = fma(x23, y2, c23_2); c23_3 = fma(x23, y3, c23_3); c23_4 = fma(x23, y4, c23_4); c23_5 = fma(x23, y5, c23_5); c23_6 = fma(x23, y6, c23_6); c23_7 = fma(x23, y7, c23_7);
        c23_8 = fma(x23, y8, c23_8); c23_9 = fma(x23, y9, c23_9); c23_10 = fma(x23, y10, c23_10); c23_11 = fma(x23, y11, c23_11); c23_12 = fma(x23, y12, c23_12); c23_13 = fma(x23, y13, c23_13); c23_14 = fma(x23, y14, c23_14); c23_15 = fma(x23, y15, c23_15);
        c23_16 = fma(x23, y16, c23_16); c23_17 = fma(x23, y17, c23_17); c23_18 = fma(x23, y18, c23_18); c23_19 = fma(x23, y19, c23_19); c23_20 = fma(x23, y20, c23_20); c23_21 = fma(x23, y21, c23_21); c23_22 = fma(x23, y22, c23_22); c23_23 = fma(x23, y23, c23_23);
        c23_24 = fma(x23, y24, c23_24); c23_25 = fma(x23, y25, c23_25); c23_26 = fma(x23, y26, c23_26); c23_27 = fma(x23, y27, c23_27); c23_28 = fma(x23, y28, c23_28); c23_29 = fma(x23, y29, c23_29); c23_30 = fma(x23, y30, c23_30); c23_31 = fma(x23, y31, c23_31);
        let x24 = a[a24 + ak];
        c24_0 = fma(x24, y0, c24_0); c24_1 = fma(x24, y1, c24_1); c24_2 = fma(x24, y2, c24_2); c24_3 = fma(x24, y3, c24_3); c24_4 = fma(x24, y4, c24_4); c24_5 = fma(x24, y5, c24_5); c24_6 = fma(x24, y6, c24_6); c24_7 = fma(x24, y7, c24_7);
        c24_8 = fma(x24, y8, c24_8); c24_9 = fma(x24, y9, c24_9); c24_10 = fma(x24, y10, c24_10); c24_11 = fma(x24, y11, c24_11); c24_12 = fma(x24, y12, c24_12); c24_13 = fma(x24, y13, c24_13); c24_14 = fma(x24, y14, c24_14); c24_15 = fma(x24, y15, c24_15);
        c24_16 = fma(x24, y16, c24_16); c24_17 = fma(x24, y17, c24_17); c24_18 = fma(x24, y18, c24_18); c24_19 = fma(x24, y19, c24_19); c24_20 = fma(x24, y20, c24_20); c24_21 = fma(x24, y21, c24_21); c24_22 = fma(x24, y22, c24_22); c24_23 = fma(x24, y23, c24_23);
        c24_24 = fma(x24, y24, c24_24); c24_25 = fma(x24, y25, c24_25); c24_26 = fma(x24, y26, c24_26); c24_27 = fma(x24, y27, c24_27); c24_28 = fma(x24, y28, c24_28); c24_29 = fma(x24, y29, c24_29); c24_30 = fma(x24, y30, c24_30); c24_31 = fma(x24, y31, c24_31);
        let x25 = a[a25 + ak];
        c25_0 = fma(x25, y0, c25_0); c25_1 = fma(x25, y1, c25_1); c25_2 = fma(x25, y2, c25_2); c25_3 = fma(x25, y3, c25_3); c25_4 = fma(x25, y4, c25_4); c25_5 = fma(x25, y5, c25_5); c25_6 = fma(x25, y6, c25_6); c25_7 = fma(x25, y7, c25_7);
        c25_8 = fma(x25, y8, c25_8); c25_9 = fma(x25, y9, c25_9); c25_10 = fma(x25, y10, c25_10); c25_11 = fma(x25, y11, c25_11); c25_12 = fma(x25, y12, c25_12); c25_13 = fma(x25, y13, c25_13); c25_14 = fma(x25, y14, c25_14); c25_15 = fma(x25, y15, c25_15);
        c25_16 = fma(x25, y16, c25_16); c25_17 = fma(x25, y17, c25_17); c25_18 = fma(x25, y18, c25_18); c25_19 = fma(x25, y19, c25_19); c25_20 = fma(x25, y20, c25_20); c25_21 = fma(x25, y21, c25_21); c25_22 = fma(x25, y22, c25_22); c25_23 = fma(x25, y23, c25_23);
        c25_24 = fma(x25, y24, c25_24); c25_25 = fma(x25, y25, c25_25); c25_26 = fma(x25, y26, c25_26); c25_27 = fma(x25, y27, c25_27); c25_28 = fma(x25, y28, c25_28); c25_29 = fma(x25, y29, c25_29); c25_30 = fma(x25, y30, c25_30); c25_31 = fma(x25, y31, c25_31);
        let x26 = a[a26 + ak];
        c26_0 = fma(x26, y0, c26_0); c26_1 = fma(x26, y1, c26_1); c26_2 = fma(x26, y2, c26_2); c26_3 = fma(x26, y3, c26_3); c26_4 = fma(x26, y4, c26_4); c26_5 = fma(x26, y5, c26_5); c26_6 = fma(x26, y6, c26_6); c26_7 = fma(x26, y7, c26_7);
        c26_8 = fma(x26, y8, c26_8); c26_9 = fma(x26, y9, c26_9); c26_10 = fma(x26, y10, c26_10); c26_11 = fma(x26, y11, c26_11); c26_12 = fma(x26, y12, c26_12); c26_13 = fma(x26, y13, c26_13); c26_14 = fma(x26, y14, c26_14); c26_15 = fma(x26, y15, c26_15);
        c26_16 = fma(x26, y16, c26_16); c26_17 = fma(x26, y17, c26_17); c26_18 = fma(x26, y18, c26_18); c26_19 = fma(x26, y19, c26_19); c26_20 = fma(x26, y20, c26_20); c26_21 = fma(x26, y21, c26_21); c26_22 = fma(x26, y22, c26_22); c26_23 = fma(x26, y23, c26_23);
        c26_24 = fma(x26, y24, c26_24); c26_25 = fma(x26, y25, c26_25); c26_26 = fma(x26, y26, c26_26); c26_27 = fma(x26, y27, c26_27); c26_28 = fma(x26, y28, c26_28); c26_29 = fma(x26, y29, c26_29); c26_30 = fma(x26, y30, c26_30); c26_31 = fma(x26, y31, c26_31);
        let x27 = a[a27 + ak];
        c27_0 = fma(x27, y0, c27_0); c27_1 = fma(x27, y1, c27_1); c27_2 = fma(x27, y2, c27_2); c27_3 = fma(x27, y3, c27_3); c27_4 = fma(x27, y4, c27_4); c27_5 = fma(x27, y5, c27_5); c27_6 = fma(x27, y6, c27_6); c27_7 = fma(x27, y7, c27_7);
        c27_8 = fma(x27, y8, c27_8); c27_9 = fma(x27, y9, c27_9); c27_10 = fma(x27, y10, c27_10); c27_11 = fma(x27, y11, c27_11); c27_12 = fma(x27, y12, c27_12); c27_13 = fma(x27, y13, c27_13); c27_14 = fma(x27, y14, c27_14); c27_15 = fma(x27, y15, c27_15);
        c27_16 = fma(x27, y16, c27_16); c27_17 = fma(x27, y17, c27_17); c27_18 = fma(x27, y18, c27_18); c27_19 = fma(x27, y19, c27_19); c27_20 = fma(x27, y20, c27_20); c27_21 = fma(x27, y21, c27_21); c27_22 = fma(x27, y22, c27_22); c27_23 = fma(x27, y23, c27_23);
        c27_24 = fma(x27, y24, c27_24); c27_25 = fma(x27, y25, c27_25); c27_26 = fma(x27, y26, c27_26); c27_27 = fma(x27, y27, c27_27); c27_28 = fma(x27, y28, c27_28); c27_29 = fma(x27, y29, c27_29); c27_30 = fma(x27, y30, c27_30); c27_31 = fma(x27, y31, c27_31);
        let x28 = a[a28 + ak];
        c28_0 = fma(x28, y0, c28_0); c28_1 = fma(x28, y1, c28_1); c28_2 = fma(x28, y2, c28_2); c28_3 = fma(x28, y3, c28_3); c28_4 = fma(x28, y4, c28_4); c28_5 = fma(x28, y5, c28_5); c28_6 = fma(x28, y6, c28_6); c28_7 = fma(x28, y7, c28_7);
        c28_8 = fma(x28, y8, c28_8); c28_9 = fma(x28, y9, c28_9); c28_10 = fma(x28, y10, c28_10); c28_11 = fma(x28, y11, c28_11); c28_12 = fma(x28, y12, c28_12); c28_13 = fma(x28, y13, c28_13); c28_14 = fma(x28, y14, c28_14); c28_15 = fma(x28, y15, c28_15);
        c28_16 = fma(x28, y16, c28_16); c28_17 = fma(x28, y17, c28_17); c28_18 = fma(x28, y18, c28_18); c28_19 = fma(x28, y19, c28_19); c28_20 = fma(x28, y20, c28_20); c28_21 = fma(x28, y21, c28_21); c28_22 = fma(x28, y22, c28_22); c28_23 = fma(x28, y23, c28_23);
        c28_24 = fma(x28, y24, c28_24); c28_25 = fma(x28, y25, c28_25); c28_26 = fma(x28, y26, c28_26); c28_27 = fma(x28, y27, c28_27); c28_28 = fma(x28, y28, c28_28); c28_29 = fma(x28, y29, c28_29); c28_30 = fma(x28, y30, c28_30); c28_31 = fma(x28, y31, c28_31);
        let x29 = a[a29 + ak];
        c29_0 = fma(x29, y0, c29_0); c29_1 = fma(x29, y1, c29_1); c29_2 = fma(x29, y2, c29_2); c29_3 = fma(x29, y3, c29_3); c29_4 = fma(x29, y4, c29_4); c29_5 = fma(x29, y5, c29_5); c29_6 = fma(x29, y6, c29_6); c29_7 = fma(x29, y7, c29_7);
        c29_8 = fma(x29, y8, c29_8); c29_9 = fma(x29, y9, c29_9); c29_10 = fma(x29, y10, c29_10); c29_11 = fma(x29, y11, c29_11); c29_12 = fma(x29, y12, c29_12); c29_13 = fma(x29, y13, c29_13); c29_14 = fma(x29, y14, c29_14); c29_15 = fma(x29, y15, c29_15);
        c29_16 = fma(x29, y16, c29_16); c29_17 = fma(x29, y17, c29_17); c29_18 = fma(x29, y18, c29_18); c29_19 = fma(x29, y19, c29_19); c29_20 = fma(x29, y20, c29_20); c29_21 = fma(x29, y21, c29_21); c29_22 = fma(x29, y22, c29_22); c29_23 = fma(x29, y23, c29_23);
        c29_24 = fma(x29, y24, c29_24); c29_25 = fma(x29, y25, c29_25); c29_26 = fma(x29, y26, c29_26); c29_27 = fma(x29, y27, c29_27); c29_28 = fma(x29, y28, c29_28); c29_29 = fma(x29, y29, c29_29); c29_30 = fma(x29, y30, c29_30); c29_31 = fma(x29, y31, c29_31);
        let x30 = a[a30 + ak];
        c30_0 = fma(x30, y0, c30_0); c30_1 = fma(x30, y1, c30_1); c30_2 = fma(x30, y2, c30_2); c30_3 = fma(x30, y3, c30_3); c30_4 = fma(x30, y4, c30_4); c30_5 = fma(x30, y5, c30_5); c30_6 = fma(x30, y6, c30_6); c30_7 = fma(x30, y7, c30_7);
        c30_8 = fma(x30, y8, c30_8); c30_9 = fma(x30, y9, c30_9); c30_10 = fma(x30, y10, c30_10); c30_11 = fma(x30, y11, c30_11); c30_12 = fma(x30, y12, c30_12); c30_13 = fma(x30, y13, c30_13); c30_14 = fma(x30, y14, c30_14); c30_15 = fma(x30, y15, c30_15);
        c30_16 = fma(x30, y16, c30_16); c30_17 = fma(x30, y17, c30_17); c30_18 = fma(x30, y18, c30_18); c30_19 = fma(x30, y19, c30_19); c30_20 = fma(x30, y20, c30_20); c30_21 = fma(x30, y21, c30_21); c30_22 = fma(x30, y22, c30_22); c30_23 = fma(x30, y23, c30_23);
        c30_24 = fma(x30, y24, c30_24); c30_25 = fma(x30, y25, c30_25); c30_26 = fma(x30, y26, c30_26); c30_27 = fma(x30, y27, c30_27); c30_28 = fma(x30, y28, c30_28); c30_29 = fma(x30, y29, c30_29); c30_30 = fma(x30, y30, c30_30); c30_31 = fma(x30, y31, c30_31);
        let x31 = a[a31 + ak];
        c31_0 = fma(x31, y0, c31_0); c31_1 = fma(x31, y1, c31_1); c31_2 = fma(x31, y2, c31_2); c31_3 = fma(x31, y3, c31_3); c31_4 = fma(x31, y4, c31_4); c31_5 = fma(x31, y5, c31_5); c31_6 = fma(x31, y6, c31_6); c31_7 = fma(x31, y7, c31_7);
        c31_8 = fma(x31, y8, c31_8); c31_9 = fma(x31, y9, c31_9); c31_10 = fma(x31, y10, c31_10); c31_11 = fma(x31, y11, c31_11); c31_12 = fma(x31, y12, c31_12); c31_13 = fma(x31, y13, c31_13); c31_14 = fma(x31, y14, c31_14); c31_15 = fma(x31, y15, c31_15);
        c31_16 = fma(x31, y16, c31_16); c31_17 = fma(x31, y17, c31_17); c31_18 = fma(x31, y18, c31_18); c31_19 = fma(x31, y19, c31_19); c31_20 = fma(x31, y20, c31_20); c31_21 = fma(x31, y21, c31_21); c31_22 = fma(x31, y22, c31_22); c31_23 = fma(x31, y23, c31_23);
        c31_24 = fma(x31, y24, c31_24); c31_25 = fma(x31, y25, c31_25); c31_26 = fma(x31, y26, c31_26); c31_27 = fma(x31, y27, c31_27); c31_28 = fma(x31, y28, c31_28); c31_29 = fma(x31, y29, c31_29); c31_30 = fma(x31, y30, c31_30); c31_31 = fma(x31, y31, c31_31);
    }
    if col0 < params.n {
        var bias0 = 0.0;
        if params.has_bias != 0u {
            bias0 = bias[col0];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col0] = c0_0 + bias0; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col0] = c1_0 + bias0; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col0] = c2_0 + bias0; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col0] = c3_0 + bias0; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col0] = c4_0 + bias0; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col0] = c5_0 + bias0; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col0] = c6_0 + bias0; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col0] = c7_0 + bias0; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col0] = c8_0 + bias0; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col0] = c9_0 + bias0; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col0] = c10_0 + bias0; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col0] = c11_0 + bias0; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col0] = c12_0 + bias0; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col0] = c13_0 + bias0; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col0] = c14_0 + bias0; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col0] = c15_0 + bias0; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col0] = c16_0 + bias0; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col0] = c17_0 + bias0; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col0] = c18_0 + bias0; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col0] = c19_0 + bias0; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col0] = c20_0 + bias0; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col0] = c21_0 + bias0; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col0] = c22_0 + bias0; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col0] = c23_0 + bias0; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col0] = c24_0 + bias0; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col0] = c25_0 + bias0; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col0] = c26_0 + bias0; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col0] = c27_0 + bias0; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col0] = c28_0 + bias0; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col0] = c29_0 + bias0; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col0] = c30_0 + bias0; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col0] = c31_0 + bias0; }
    }
    if col1 < params.n {
        var bias1 = 0.0;
        if params.has_bias != 0u {
            bias1 = bias[col1];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col1] = c0_1 + bias1; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col1] = c1_1 + bias1; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col1] = c2_1 + bias1; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col1] = c3_1 + bias1; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col1] = c4_1 + bias1; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col1] = c5_1 + bias1; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col1] = c6_1 + bias1; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col1] = c7_1 + bias1; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col1] = c8_1 + bias1; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col1] = c9_1 + bias1; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col1] = c10_1 + bias1; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col1] = c11_1 + bias1; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col1] = c12_1 + bias1; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col1] = c13_1 + bias1; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col1] = c14_1 + bias1; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col1] = c15_1 + bias1; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col1] = c16_1 + bias1; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col1] = c17_1 + bias1; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col1] = c18_1 + bias1; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col1] = c19_1 + bias1; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col1] = c20_1 + bias1; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col1] = c21_1 + bias1; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col1] = c22_1 + bias1; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col1] = c23_1 + bias1; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col1] = c24_1 + bias1; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col1] = c25_1 + bias1; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col1] = c26_1 + bias1; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col1] = c27_1 + bias1; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col1] = c28_1 + bias1; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col1] = c29_1 + bias1; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col1] = c30_1 + bias1; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col1] = c31_1 + bias1; }
    }
    if col2 < params.n {
        var bias2 = 0.0;
        if params.has_bias != 0u {
            bias2 = bias[col2];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col2] = c0_2 + bias2; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col2] = c1_2 + bias2; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col2] = c2_2 + bias2; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col2] = c3_2 + bias2; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col2] = c4_2 + bias2; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col2] = c5_2 + bias2; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col2] = c6_2 + bias2; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col2] = c7_2 + bias2; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col2] = c8_2 + bias2; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col2] = c9_2 + bias2; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col2] = c10_2 + bias2; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col2] = c11_2 + bias2; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col2] = c12_2 + bias2; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col2] = c13_2 + bias2; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col2] = c14_2 + bias2; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col2] = c15_2 + bias2; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col2] = c16_2 + bias2; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col2] = c17_2 + bias2; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col2] = c18_2 + bias2; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col2] = c19_2 + bias2; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col2] = c20_2 + bias2; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col2] = c21_2 + bias2; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col2] = c22_2 + bias2; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col2] = c23_2 + bias2; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col2] = c24_2 + bias2; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col2] = c25_2 + bias2; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col2] = c26_2 + bias2; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col2] = c27_2 + bias2; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col2] = c28_2 + bias2; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col2] = c29_2 + bias2; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col2] = c30_2 + bias2; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col2] = c31_2 + bias2; }
    }
    if col3 < params.n {
        var bias3 = 0.0;
        if params.has_bias != 0u {
            bias3 = bias[col3];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col3] = c0_3 + bias3; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col3] = c1_3 + bias3; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col3] = c2_3 + bias3; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col3] = c3_3 + bias3; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col3] = c4_3 + bias3; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col3] = c5_3 + bias3; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col3] = c6_3 + bias3; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col3] = c7_3 + bias3; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col3] = c8_3 + bias3; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col3] = c9_3 + bias3; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col3] = c10_3 + bias3; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col3] = c11_3 + bias3; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col3] = c12_3 + bias3; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col3] = c13_3 + bias3; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col3] = c14_3 + bias3; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col3] = c15_3 + bias3; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col3] = c16_3 + bias3; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col3] = c17_3 + bias3; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col3] = c18_3 + bias3; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col3] = c19_3 + bias3; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col3] = c20_3 + bias3; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col3] = c21_3 + bias3; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col3] = c22_3 + bias3; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col3] = c23_3 + bias3; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col3] = c24_3 + bias3; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col3] = c25_3 + bias3; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col3] = c26_3 + bias3; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col3] = c27_3 + bias3; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col3] = c28_3 + bias3; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col3] = c29_3 + bias3; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col3] = c30_3 + bias3; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col3] = c31_3 + bias3; }
    }
    if col4 < params.n {
        var bias4 = 0.0;
        if params.has_bias != 0u {
            bias4 = bias[col4];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col4] = c0_4 + bias4; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col4] = c1_4 + bias4; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col4] = c2_4 + bias4; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col4] = c3_4 + bias4; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col4] = c4_4 + bias4; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col4] = c5_4 + bias4; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col4] = c6_4 + bias4; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col4] = c7_4 + bias4; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col4] = c8_4 + bias4; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col4] = c9_4 + bias4; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col4] = c10_4 + bias4; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col4] = c11_4 + bias4; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col4] = c12_4 + bias4; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col4] = c13_4 + bias4; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col4] = c14_4 + bias4; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col4] = c15_4 + bias4; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col4] = c16_4 + bias4; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col4] = c17_4 + bias4; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col4] = c18_4 + bias4; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col4] = c19_4 + bias4; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col4] = c20_4 + bias4; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col4] = c21_4 + bias4; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col4] = c22_4 + bias4; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col4] = c23_4 + bias4; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col4] = c24_4 + bias4; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col4] = c25_4 + bias4; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col4] = c26_4 + bias4; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col4] = c27_4 + bias4; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col4] = c28_4 + bias4; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col4] = c29_4 + bias4; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col4] = c30_4 + bias4; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col4] = c31_4 + bias4; }
    }
    if col5 < params.n {
        var bias5 = 0.0;
        if params.has_bias != 0u {
            bias5 = bias[col5];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col5] = c0_5 + bias5; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col5] = c1_5 + bias5; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col5] = c2_5 + bias5; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col5] = c3_5 + bias5; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col5] = c4_5 + bias5; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col5] = c5_5 + bias5; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col5] = c6_5 + bias5; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col5] = c7_5 + bias5; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col5] = c8_5 + bias5; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col5] = c9_5 + bias5; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col5] = c10_5 + bias5; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col5] = c11_5 + bias5; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col5] = c12_5 + bias5; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col5] = c13_5 + bias5; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col5] = c14_5 + bias5; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col5] = c15_5 + bias5; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col5] = c16_5 + bias5; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col5] = c17_5 + bias5; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col5] = c18_5 + bias5; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col5] = c19_5 + bias5; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col5] = c20_5 + bias5; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col5] = c21_5 + bias5; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col5] = c22_5 + bias5; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col5] = c23_5 + bias5; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col5] = c24_5 + bias5; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col5] = c25_5 + bias5; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col5] = c26_5 + bias5; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col5] = c27_5 + bias5; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col5] = c28_5 + bias5; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col5] = c29_5 + bias5; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col5] = c30_5 + bias5; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col5] = c31_5 + bias5; }
    }
    if col6 < params.n {
        var bias6 = 0.0;
        if params.has_bias != 0u {
            bias6 = bias[col6];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col6] = c0_6 + bias6; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col6] = c1_6 + bias6; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col6] = c2_6 + bias6; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col6] = c3_6 + bias6; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col6] = c4_6 + bias6; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col6] = c5_6 + bias6; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col6] = c6_6 + bias6; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col6] = c7_6 + bias6; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col6] = c8_6 + bias6; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col6] = c9_6 + bias6; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col6] = c10_6 + bias6; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col6] = c11_6 + bias6; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col6] = c12_6 + bias6; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col6] = c13_6 + bias6; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col6] = c14_6 + bias6; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col6] = c15_6 + bias6; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col6] = c16_6 + bias6; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col6] = c17_6 + bias6; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col6] = c18_6 + bias6; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col6] = c19_6 + bias6; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col6] = c20_6 + bias6; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col6] = c21_6 + bias6; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col6] = c22_6 + bias6; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col6] = c23_6 + bias6; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col6] = c24_6 + bias6; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col6] = c25_6 + bias6; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col6] = c26_6 + bias6; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col6] = c27_6 + bias6; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col6] = c28_6 + bias6; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col6] = c29_6 + bias6; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col6] = c30_6 + bias6; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col6] = c31_6 + bias6; }
    }
    if col7 < params.n {
        var bias7 = 0.0;
        if params.has_bias != 0u {
            bias7 = bias[col7];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col7] = c0_7 + bias7; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col7] = c1_7 + bias7; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col7] = c2_7 + bias7; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col7] = c3_7 + bias7; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col7] = c4_7 + bias7; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col7] = c5_7 + bias7; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col7] = c6_7 + bias7; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col7] = c7_7 + bias7; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col7] = c8_7 + bias7; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col7] = c9_7 + bias7; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col7] = c10_7 + bias7; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col7] = c11_7 + bias7; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col7] = c12_7 + bias7; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col7] = c13_7 + bias7; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col7] = c14_7 + bias7; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col7] = c15_7 + bias7; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col7] = c16_7 + bias7; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col7] = c17_7 + bias7; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col7] = c18_7 + bias7; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col7] = c19_7 + bias7; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col7] = c20_7 + bias7; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col7] = c21_7 + bias7; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col7] = c22_7 + bias7; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col7] = c23_7 + bias7; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col7] = c24_7 + bias7; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col7] = c25_7 + bias7; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col7] = c26_7 + bias7; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col7] = c27_7 + bias7; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col7] = c28_7 + bias7; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col7] = c29_7 + bias7; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col7] = c30_7 + bias7; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col7] = c31_7 + bias7; }
    }
    if col8 < params.n {
        var bias8 = 0.0;
        if params.has_bias != 0u {
            bias8 = bias[col8];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col8] = c0_8 + bias8; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col8] = c1_8 + bias8; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col8] = c2_8 + bias8; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col8] = c3_8 + bias8; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col8] = c4_8 + bias8; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col8] = c5_8 + bias8; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col8] = c6_8 + bias8; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col8] = c7_8 + bias8; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col8] = c8_8 + bias8; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col8] = c9_8 + bias8; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col8] = c10_8 + bias8; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col8] = c11_8 + bias8; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col8] = c12_8 + bias8; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col8] = c13_8 + bias8; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col8] = c14_8 + bias8; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col8] = c15_8 + bias8; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col8] = c16_8 + bias8; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col8] = c17_8 + bias8; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col8] = c18_8 + bias8; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col8] = c19_8 + bias8; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col8] = c20_8 + bias8; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col8] = c21_8 + bias8; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col8] = c22_8 + bias8; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col8] = c23_8 + bias8; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col8] = c24_8 + bias8; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col8] = c25_8 + bias8; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col8] = c26_8 + bias8; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col8] = c27_8 + bias8; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col8] = c28_8 + bias8; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col8] = c29_8 + bias8; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col8] = c30_8 + bias8; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col8] = c31_8 + bias8; }
    }
    if col9 < params.n {
        var bias9 = 0.0;
        if params.has_bias != 0u {
            bias9 = bias[col9];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col9] = c0_9 + bias9; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col9] = c1_9 + bias9; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col9] = c2_9 + bias9; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col9] = c3_9 + bias9; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col9] = c4_9 + bias9; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col9] = c5_9 + bias9; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col9] = c6_9 + bias9; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col9] = c7_9 + bias9; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col9] = c8_9 + bias9; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col9] = c9_9 + bias9; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col9] = c10_9 + bias9; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col9] = c11_9 + bias9; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col9] = c12_9 + bias9; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col9] = c13_9 + bias9; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col9] = c14_9 + bias9; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col9] = c15_9 + bias9; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col9] = c16_9 + bias9; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col9] = c17_9 + bias9; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col9] = c18_9 + bias9; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col9] = c19_9 + bias9; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col9] = c20_9 + bias9; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col9] = c21_9 + bias9; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col9] = c22_9 + bias9; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col9] = c23_9 + bias9; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col9] = c24_9 + bias9; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col9] = c25_9 + bias9; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col9] = c26_9 + bias9; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col9] = c27_9 + bias9; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col9] = c28_9 + bias9; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col9] = c29_9 + bias9; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col9] = c30_9 + bias9; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col9] = c31_9 + bias9; }
    }
    if col10 < params.n {
        var bias10 = 0.0;
        if params.has_bias != 0u {
            bias10 = bias[col10];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col10] = c0_10 + bias10; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col10] = c1_10 + bias10; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col10] = c2_10 + bias10; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col10] = c3_10 + bias10; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col10] = c4_10 + bias10; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col10] = c5_10 + bias10; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col10] = c6_10 + bias10; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col10] = c7_10 + bias10; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col10] = c8_10 + bias10; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col10] = c9_10 + bias10; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col10] = c10_10 + bias10; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col10] = c11_10 + bias10; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col10] = c12_10 + bias10; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col10] = c13_10 + bias10; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col10] = c14_10 + bias10; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col10] = c15_10 + bias10; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col10] = c16_10 + bias10; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col10] = c17_10 + bias10; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col10] = c18_10 + bias10; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col10] = c19_10 + bias10; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col10] = c20_10 + bias10; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col10] = c21_10 + bias10; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col10] = c22_10 + bias10; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col10] = c23_10 + bias10; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col10] = c24_10 + bias10; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col10] = c25_10 + bias10; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col10] = c26_10 + bias10; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col10] = c27_10 + bias10; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col10] = c28_10 + bias10; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col10] = c29_10 + bias10; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col10] = c30_10 + bias10; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col10] = c31_10 + bias10; }
    }
    if col11 < params.n {
        var bias11 = 0.0;
        if params.has_bias != 0u {
            bias11 = bias[col11];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col11] = c0_11 + bias11; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col11] = c1_11 + bias11; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col11] = c2_11 + bias11; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col11] = c3_11 + bias11; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col11] = c4_11 + bias11; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col11] = c5_11 + bias11; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col11] = c6_11 + bias11; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col11] = c7_11 + bias11; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col11] = c8_11 + bias11; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col11] = c9_11 + bias11; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col11] = c10_11 + bias11; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col11] = c11_11 + bias11; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col11] = c12_11 + bias11; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col11] = c13_11 + bias11; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col11] = c14_11 + bias11; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col11] = c15_11 + bias11; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col11] = c16_11 + bias11; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col11] = c17_11 + bias11; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col11] = c18_11 + bias11; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col11] = c19_11 + bias11; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col11] = c20_11 + bias11; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col11] = c21_11 + bias11; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col11] = c22_11 + bias11; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col11] = c23_11 + bias11; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col11] = c24_11 + bias11; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col11] = c25_11 + bias11; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col11] = c26_11 + bias11; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col11] = c27_11 + bias11; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col11] = c28_11 + bias11; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col11] = c29_11 + bias11; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col11] = c30_11 + bias11; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col11] = c31_11 + bias11; }
    }
    if col12 < params.n {
        var bias12 = 0.0;
        if params.has_bias != 0u {
            bias12 = bias[col12];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col12] = c0_12 + bias12; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col12] = c1_12 + bias12; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col12] = c2_12 + bias12; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col12] = c3_12 + bias12; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col12] = c4_12 + bias12; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col12] = c5_12 + bias12; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col12] = c6_12 + bias12; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col12] = c7_12 + bias12; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col12] = c8_12 + bias12; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col12] = c9_12 + bias12; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col12] = c10_12 + bias12; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col12] = c11_12 + bias12; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col12] = c12_12 + bias12; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col12] = c13_12 + bias12; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col12] = c14_12 + bias12; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col12] = c15_12 + bias12; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col12] = c16_12 + bias12; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col12] = c17_12 + bias12; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col12] = c18_12 + bias12; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col12] = c19_12 + bias12; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col12] = c20_12 + bias12; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col12] = c21_12 + bias12; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col12] = c22_12 + bias12; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col12] = c23_12 + bias12; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col12] = c24_12 + bias12; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col12] = c25_12 + bias12; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col12] = c26_12 + bias12; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col12] = c27_12 + bias12; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col12] = c28_12 + bias12; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col12] = c29_12 + bias12; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col12] = c30_12 + bias12; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col12] = c31_12 + bias12; }
    }
    if col13 < params.n {
        var bias13 = 0.0;
        if params.has_bias != 0u {
            bias13 = bias[col13];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col13] = c0_13 + bias13; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col13] = c1_13 + bias13; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col13] = c2_13 + bias13; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col13] = c3_13 + bias13; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col13] = c4_13 + bias13; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col13] = c5_13 + bias13; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col13] = c6_13 + bias13; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col13] = c7_13 + bias13; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col13] = c8_13 + bias13; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col13] = c9_13 + bias13; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col13] = c10_13 + bias13; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col13] = c11_13 + bias13; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col13] = c12_13 + bias13; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col13] = c13_13 + bias13; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col13] = c14_13 + bias13; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col13] = c15_13 + bias13; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col13] = c16_13 + bias13; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col13] = c17_13 + bias13; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col13] = c18_13 + bias13; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col13] = c19_13 + bias13; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col13] = c20_13 + bias13; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col13] = c21_13 + bias13; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col13] = c22_13 + bias13; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col13] = c23_13 + bias13; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col13] = c24_13 + bias13; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col13] = c25_13 + bias13; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col13] = c26_13 + bias13; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col13] = c27_13 + bias13; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col13] = c28_13 + bias13; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col13] = c29_13 + bias13; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col13] = c30_13 + bias13; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col13] = c31_13 + bias13; }
    }
    if col14 < params.n {
        var bias14 = 0.0;
        if params.has_bias != 0u {
            bias14 = bias[col14];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col14] = c0_14 + bias14; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col14] = c1_14 + bias14; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col14] = c2_14 + bias14; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col14] = c3_14 + bias14; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col14] = c4_14 + bias14; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col14] = c5_14 + bias14; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col14] = c6_14 + bias14; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col14] = c7_14 + bias14; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col14] = c8_14 + bias14; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col14] = c9_14 + bias14; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col14] = c10_14 + bias14; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col14] = c11_14 + bias14; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col14] = c12_14 + bias14; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col14] = c13_14 + bias14; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col14] = c14_14 + bias14; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col14] = c15_14 + bias14; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col14] = c16_14 + bias14; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col14] = c17_14 + bias14; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col14] = c18_14 + bias14; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col14] = c19_14 + bias14; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col14] = c20_14 + bias14; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col14] = c21_14 + bias14; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col14] = c22_14 + bias14; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col14] = c23_14 + bias14; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col14] = c24_14 + bias14; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col14] = c25_14 + bias14; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col14] = c26_14 + bias14; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col14] = c27_14 + bias14; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col14] = c28_14 + bias14; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col14] = c29_14 + bias14; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col14] = c30_14 + bias14; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col14] = c31_14 + bias14; }
    }
    if col15 < params.n {
        var bias15 = 0.0;
        if params.has_bias != 0u {
            bias15 = bias[col15];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col15] = c0_15 + bias15; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col15] = c1_15 + bias15; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col15] = c2_15 + bias15; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col15] = c3_15 + bias15; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col15] = c4_15 + bias15; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col15] = c5_15 + bias15; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col15] = c6_15 + bias15; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col15] = c7_15 + bias15; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col15] = c8_15 + bias15; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col15] = c9_15 + bias15; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col15] = c10_15 + bias15; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col15] = c11_15 + bias15; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col15] = c12_15 + bias15; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col15] = c13_15 + bias15; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col15] = c14_15 + bias15; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col15] = c15_15 + bias15; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col15] = c16_15 + bias15; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col15] = c17_15 + bias15; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col15] = c18_15 + bias15; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col15] = c19_15 + bias15; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col15] = c20_15 + bias15; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col15] = c21_15 + bias15; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col15] = c22_15 + bias15; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col15] = c23_15 + bias15; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col15] = c24_15 + bias15; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col15] = c25_15 + bias15; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col15] = c26_15 + bias15; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col15] = c27_15 + bias15; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col15] = c28_15 + bias15; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col15] = c29_15 + bias15; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col15] = c30_15 + bias15; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col15] = c31_15 + bias15; }
    }
    if col16 < params.n {
        var bias16 = 0.0;
        if params.has_bias != 0u {
            bias16 = bias[col16];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col16] = c0_16 + bias16; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col16] = c1_16 + bias16; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col16] = c2_16 + bias16; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col16] = c3_16 + bias16; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col16] = c4_16 + bias16; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col16] = c5_16 + bias16; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col16] = c6_16 + bias16; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col16] = c7_16 + bias16; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col16] = c8_16 + bias16; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col16] = c9_16 + bias16; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col16] = c10_16 + bias16; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col16] = c11_16 + bias16; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col16] = c12_16 + bias16; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col16] = c13_16 + bias16; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col16] = c14_16 + bias16; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col16] = c15_16 + bias16; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col16] = c16_16 + bias16; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col16] = c17_16 + bias16; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col16] = c18_16 + bias16; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col16] = c19_16 + bias16; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col16] = c20_16 + bias16; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col16] = c21_16 + bias16; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col16] = c22_16 + bias16; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col16] = c23_16 + bias16; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col16] = c24_16 + bias16; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col16] = c25_16 + bias16; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col16] = c26_16 + bias16; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col16] = c27_16 + bias16; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col16] = c28_16 + bias16; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col16] = c29_16 + bias16; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col16] = c30_16 + bias16; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col16] = c31_16 + bias16; }
    }
    if col17 < params.n {
        var bias17 = 0.0;
        if params.has_bias != 0u {
            bias17 = bias[col17];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col17] = c0_17 + bias17; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col17] = c1_17 + bias17; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col17] = c2_17 + bias17; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col17] = c3_17 + bias17; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col17] = c4_17 + bias17; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col17] = c5_17 + bias17; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col17] = c6_17 + bias17; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col17] = c7_17 + bias17; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col17] = c8_17 + bias17; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col17] = c9_17 + bias17; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col17] = c10_17 + bias17; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col17] = c11_17 + bias17; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col17] = c12_17 + bias17; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col17] = c13_17 + bias17; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col17] = c14_17 + bias17; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col17] = c15_17 + bias17; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col17] = c16_17 + bias17; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col17] = c17_17 + bias17; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col17] = c18_17 + bias17; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col17] = c19_17 + bias17; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col17] = c20_17 + bias17; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col17] = c21_17 + bias17; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col17] = c22_17 + bias17; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col17] = c23_17 + bias17; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col17] = c24_17 + bias17; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col17] = c25_17 + bias17; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col17] = c26_17 + bias17; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col17] = c27_17 + bias17; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col17] = c28_17 + bias17; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col17] = c29_17 + bias17; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col17] = c30_17 + bias17; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col17] = c31_17 + bias17; }
    }
    if col18 < params.n {
        var bias18 = 0.0;
        if params.has_bias != 0u {
            bias18 = bias[col18];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col18] = c0_18 + bias18; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col18] = c1_18 + bias18; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col18] = c2_18 + bias18; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col18] = c3_18 + bias18; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col18] = c4_18 + bias18; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col18] = c5_18 + bias18; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col18] = c6_18 + bias18; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col18] = c7_18 + bias18; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col18] = c8_18 + bias18; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col18] = c9_18 + bias18; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col18] = c10_18 + bias18; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col18] = c11_18 + bias18; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col18] = c12_18 + bias18; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col18] = c13_18 + bias18; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col18] = c14_18 + bias18; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col18] = c15_18 + bias18; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col18] = c16_18 + bias18; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col18] = c17_18 + bias18; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col18] = c18_18 + bias18; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col18] = c19_18 + bias18; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col18] = c20_18 + bias18; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col18] = c21_18 + bias18; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col18] = c22_18 + bias18; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col18] = c23_18 + bias18; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col18] = c24_18 + bias18; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col18] = c25_18 + bias18; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col18] = c26_18 + bias18; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col18] = c27_18 + bias18; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col18] = c28_18 + bias18; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col18] = c29_18 + bias18; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col18] = c30_18 + bias18; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col18] = c31_18 + bias18; }
    }
    if col19 < params.n {
        var bias19 = 0.0;
        if params.has_bias != 0u {
            bias19 = bias[col19];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col19] = c0_19 + bias19; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col19] = c1_19 + bias19; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col19] = c2_19 + bias19; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col19] = c3_19 + bias19; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col19] = c4_19 + bias19; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col19] = c5_19 + bias19; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col19] = c6_19 + bias19; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col19] = c7_19 + bias19; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col19] = c8_19 + bias19; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col19] = c9_19 + bias19; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col19] = c10_19 + bias19; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col19] = c11_19 + bias19; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col19] = c12_19 + bias19; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col19] = c13_19 + bias19; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col19] = c14_19 + bias19; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col19] = c15_19 + bias19; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col19] = c16_19 + bias19; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col19] = c17_19 + bias19; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col19] = c18_19 + bias19; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col19] = c19_19 + bias19; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col19] = c20_19 + bias19; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col19] = c21_19 + bias19; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col19] = c22_19 + bias19; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col19] = c23_19 + bias19; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col19] = c24_19 + bias19; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col19] = c25_19 + bias19; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col19] = c26_19 + bias19; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col19] = c27_19 + bias19; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col19] = c28_19 + bias19; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col19] = c29_19 + bias19; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col19] = c30_19 + bias19; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col19] = c31_19 + bias19; }
    }
    if col20 < params.n {
        var bias20 = 0.0;
        if params.has_bias != 0u {
            bias20 = bias[col20];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col20] = c0_20 + bias20; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col20] = c1_20 + bias20; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col20] = c2_20 + bias20; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col20] = c3_20 + bias20; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col20] = c4_20 + bias20; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col20] = c5_20 + bias20; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col20] = c6_20 + bias20; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col20] = c7_20 + bias20; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col20] = c8_20 + bias20; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col20] = c9_20 + bias20; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col20] = c10_20 + bias20; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col20] = c11_20 + bias20; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col20] = c12_20 + bias20; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col20] = c13_20 + bias20; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col20] = c14_20 + bias20; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col20] = c15_20 + bias20; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col20] = c16_20 + bias20; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col20] = c17_20 + bias20; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col20] = c18_20 + bias20; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col20] = c19_20 + bias20; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col20] = c20_20 + bias20; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col20] = c21_20 + bias20; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col20] = c22_20 + bias20; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col20] = c23_20 + bias20; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col20] = c24_20 + bias20; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col20] = c25_20 + bias20; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col20] = c26_20 + bias20; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col20] = c27_20 + bias20; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col20] = c28_20 + bias20; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col20] = c29_20 + bias20; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col20] = c30_20 + bias20; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col20] = c31_20 + bias20; }
    }
    if col21 < params.n {
        var bias21 = 0.0;
        if params.has_bias != 0u {
            bias21 = bias[col21];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col21] = c0_21 + bias21; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col21] = c1_21 + bias21; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col21] = c2_21 + bias21; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col21] = c3_21 + bias21; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col21] = c4_21 + bias21; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col21] = c5_21 + bias21; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col21] = c6_21 + bias21; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col21] = c7_21 + bias21; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col21] = c8_21 + bias21; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col21] = c9_21 + bias21; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col21] = c10_21 + bias21; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col21] = c11_21 + bias21; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col21] = c12_21 + bias21; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col21] = c13_21 + bias21; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col21] = c14_21 + bias21; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col21] = c15_21 + bias21; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col21] = c16_21 + bias21; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col21] = c17_21 + bias21; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col21] = c18_21 + bias21; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col21] = c19_21 + bias21; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col21] = c20_21 + bias21; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col21] = c21_21 + bias21; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col21] = c22_21 + bias21; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col21] = c23_21 + bias21; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col21] = c24_21 + bias21; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col21] = c25_21 + bias21; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col21] = c26_21 + bias21; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col21] = c27_21 + bias21; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col21] = c28_21 + bias21; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col21] = c29_21 + bias21; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col21] = c30_21 + bias21; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col21] = c31_21 + bias21; }
    }
    if col22 < params.n {
        var bias22 = 0.0;
        if params.has_bias != 0u {
            bias22 = bias[col22];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col22] = c0_22 + bias22; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col22] = c1_22 + bias22; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col22] = c2_22 + bias22; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col22] = c3_22 + bias22; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col22] = c4_22 + bias22; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col22] = c5_22 + bias22; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col22] = c6_22 + bias22; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col22] = c7_22 + bias22; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col22] = c8_22 + bias22; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col22] = c9_22 + bias22; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col22] = c10_22 + bias22; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col22] = c11_22 + bias22; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col22] = c12_22 + bias22; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col22] = c13_22 + bias22; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col22] = c14_22 + bias22; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col22] = c15_22 + bias22; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col22] = c16_22 + bias22; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col22] = c17_22 + bias22; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col22] = c18_22 + bias22; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col22] = c19_22 + bias22; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col22] = c20_22 + bias22; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col22] = c21_22 + bias22; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col22] = c22_22 + bias22; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col22] = c23_22 + bias22; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col22] = c24_22 + bias22; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col22] = c25_22 + bias22; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col22] = c26_22 + bias22; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col22] = c27_22 + bias22; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col22] = c28_22 + bias22; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col22] = c29_22 + bias22; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col22] = c30_22 + bias22; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col22] = c31_22 + bias22; }
    }
    if col23 < params.n {
        var bias23 = 0.0;
        if params.has_bias != 0u {
            bias23 = bias[col23];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col23] = c0_23 + bias23; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col23] = c1_23 + bias23; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col23] = c2_23 + bias23; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col23] = c3_23 + bias23; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col23] = c4_23 + bias23; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col23] = c5_23 + bias23; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col23] = c6_23 + bias23; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col23] = c7_23 + bias23; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col23] = c8_23 + bias23; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col23] = c9_23 + bias23; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col23] = c10_23 + bias23; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col23] = c11_23 + bias23; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col23] = c12_23 + bias23; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col23] = c13_23 + bias23; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col23] = c14_23 + bias23; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col23] = c15_23 + bias23; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col23] = c16_23 + bias23; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col23] = c17_23 + bias23; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col23] = c18_23 + bias23; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col23] = c19_23 + bias23; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col23] = c20_23 + bias23; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col23] = c21_23 + bias23; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col23] = c22_23 + bias23; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col23] = c23_23 + bias23; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col23] = c24_23 + bias23; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col23] = c25_23 + bias23; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col23] = c26_23 + bias23; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col23] = c27_23 + bias23; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col23] = c28_23 + bias23; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col23] = c29_23 + bias23; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col23] = c30_23 + bias23; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col23] = c31_23 + bias23; }
    }
    if col24 < params.n {
        var bias24 = 0.0;
        if params.has_bias != 0u {
            bias24 = bias[col24];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col24] = c0_24 + bias24; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col24] = c1_24 + bias24; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col24] = c2_24 + bias24; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col24] = c3_24 + bias24; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col24] = c4_24 + bias24; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col24] = c5_24 + bias24; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col24] = c6_24 + bias24; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col24] = c7_24 + bias24; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col24] = c8_24 + bias24; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col24] = c9_24 + bias24; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col24] = c10_24 + bias24; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col24] = c11_24 + bias24; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col24] = c12_24 + bias24; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col24] = c13_24 + bias24; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col24] = c14_24 + bias24; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col24] = c15_24 + bias24; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col24] = c16_24 + bias24; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col24] = c17_24 + bias24; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col24] = c18_24 + bias24; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col24] = c19_24 + bias24; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col24] = c20_24 + bias24; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col24] = c21_24 + bias24; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col24] = c22_24 + bias24; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col24] = c23_24 + bias24; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col24] = c24_24 + bias24; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col24] = c25_24 + bias24; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col24] = c26_24 + bias24; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col24] = c27_24 + bias24; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col24] = c28_24 + bias24; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col24] = c29_24 + bias24; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col24] = c30_24 + bias24; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col24] = c31_24 + bias24; }
    }
    if col25 < params.n {
        var bias25 = 0.0;
        if params.has_bias != 0u {
            bias25 = bias[col25];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col25] = c0_25 + bias25; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col25] = c1_25 + bias25; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col25] = c2_25 + bias25; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col25] = c3_25 + bias25; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col25] = c4_25 + bias25; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col25] = c5_25 + bias25; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col25] = c6_25 + bias25; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col25] = c7_25 + bias25; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col25] = c8_25 + bias25; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col25] = c9_25 + bias25; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col25] = c10_25 + bias25; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col25] = c11_25 + bias25; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col25] = c12_25 + bias25; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col25] = c13_25 + bias25; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col25] = c14_25 + bias25; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col25] = c15_25 + bias25; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col25] = c16_25 + bias25; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col25] = c17_25 + bias25; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col25] = c18_25 + bias25; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col25] = c19_25 + bias25; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col25] = c20_25 + bias25; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col25] = c21_25 + bias25; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col25] = c22_25 + bias25; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col25] = c23_25 + bias25; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col25] = c24_25 + bias25; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col25] = c25_25 + bias25; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col25] = c26_25 + bias25; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col25] = c27_25 + bias25; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col25] = c28_25 + bias25; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col25] = c29_25 + bias25; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col25] = c30_25 + bias25; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col25] = c31_25 + bias25; }
    }
    if col26 < params.n {
        var bias26 = 0.0;
        if params.has_bias != 0u {
            bias26 = bias[col26];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col26] = c0_26 + bias26; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col26] = c1_26 + bias26; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col26] = c2_26 + bias26; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col26] = c3_26 + bias26; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col26] = c4_26 + bias26; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col26] = c5_26 + bias26; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col26] = c6_26 + bias26; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col26] = c7_26 + bias26; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col26] = c8_26 + bias26; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col26] = c9_26 + bias26; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col26] = c10_26 + bias26; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col26] = c11_26 + bias26; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col26] = c12_26 + bias26; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col26] = c13_26 + bias26; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col26] = c14_26 + bias26; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col26] = c15_26 + bias26; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col26] = c16_26 + bias26; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col26] = c17_26 + bias26; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col26] = c18_26 + bias26; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col26] = c19_26 + bias26; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col26] = c20_26 + bias26; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col26] = c21_26 + bias26; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col26] = c22_26 + bias26; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col26] = c23_26 + bias26; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col26] = c24_26 + bias26; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col26] = c25_26 + bias26; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col26] = c26_26 + bias26; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col26] = c27_26 + bias26; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col26] = c28_26 + bias26; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col26] = c29_26 + bias26; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col26] = c30_26 + bias26; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col26] = c31_26 + bias26; }
    }
    if col27 < params.n {
        var bias27 = 0.0;
        if params.has_bias != 0u {
            bias27 = bias[col27];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col27] = c0_27 + bias27; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col27] = c1_27 + bias27; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col27] = c2_27 + bias27; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col27] = c3_27 + bias27; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col27] = c4_27 + bias27; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col27] = c5_27 + bias27; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col27] = c6_27 + bias27; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col27] = c7_27 + bias27; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col27] = c8_27 + bias27; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col27] = c9_27 + bias27; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col27] = c10_27 + bias27; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col27] = c11_27 + bias27; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col27] = c12_27 + bias27; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col27] = c13_27 + bias27; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col27] = c14_27 + bias27; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col27] = c15_27 + bias27; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col27] = c16_27 + bias27; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col27] = c17_27 + bias27; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col27] = c18_27 + bias27; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col27] = c19_27 + bias27; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col27] = c20_27 + bias27; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col27] = c21_27 + bias27; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col27] = c22_27 + bias27; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col27] = c23_27 + bias27; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col27] = c24_27 + bias27; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col27] = c25_27 + bias27; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col27] = c26_27 + bias27; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col27] = c27_27 + bias27; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col27] = c28_27 + bias27; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col27] = c29_27 + bias27; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col27] = c30_27 + bias27; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col27] = c31_27 + bias27; }
    }
    if col28 < params.n {
        var bias28 = 0.0;
        if params.has_bias != 0u {
            bias28 = bias[col28];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col28] = c0_28 + bias28; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col28] = c1_28 + bias28; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col28] = c2_28 + bias28; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col28] = c3_28 + bias28; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col28] = c4_28 + bias28; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col28] = c5_28 + bias28; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col28] = c6_28 + bias28; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col28] = c7_28 + bias28; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col28] = c8_28 + bias28; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col28] = c9_28 + bias28; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col28] = c10_28 + bias28; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col28] = c11_28 + bias28; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col28] = c12_28 + bias28; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col28] = c13_28 + bias28; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col28] = c14_28 + bias28; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col28] = c15_28 + bias28; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col28] = c16_28 + bias28; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col28] = c17_28 + bias28; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col28] = c18_28 + bias28; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col28] = c19_28 + bias28; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col28] = c20_28 + bias28; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col28] = c21_28 + bias28; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col28] = c22_28 + bias28; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col28] = c23_28 + bias28; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col28] = c24_28 + bias28; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col28] = c25_28 + bias28; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col28] = c26_28 + bias28; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col28] = c27_28 + bias28; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col28] = c28_28 + bias28; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col28] = c29_28 + bias28; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col28] = c30_28 + bias28; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col28] = c31_28 + bias28; }
    }
    if col29 < params.n {
        var bias29 = 0.0;
        if params.has_bias != 0u {
            bias29 = bias[col29];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col29] = c0_29 + bias29; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col29] = c1_29 + bias29; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col29] = c2_29 + bias29; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col29] = c3_29 + bias29; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col29] = c4_29 + bias29; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col29] = c5_29 + bias29; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col29] = c6_29 + bias29; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col29] = c7_29 + bias29; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col29] = c8_29 + bias29; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col29] = c9_29 + bias29; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col29] = c10_29 + bias29; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col29] = c11_29 + bias29; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col29] = c12_29 + bias29; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col29] = c13_29 + bias29; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col29] = c14_29 + bias29; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col29] = c15_29 + bias29; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col29] = c16_29 + bias29; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col29] = c17_29 + bias29; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col29] = c18_29 + bias29; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col29] = c19_29 + bias29; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col29] = c20_29 + bias29; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col29] = c21_29 + bias29; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col29] = c22_29 + bias29; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col29] = c23_29 + bias29; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col29] = c24_29 + bias29; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col29] = c25_29 + bias29; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col29] = c26_29 + bias29; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col29] = c27_29 + bias29; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col29] = c28_29 + bias29; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col29] = c29_29 + bias29; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col29] = c30_29 + bias29; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col29] = c31_29 + bias29; }
    }
    if col30 < params.n {
        var bias30 = 0.0;
        if params.has_bias != 0u {
            bias30 = bias[col30];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col30] = c0_30 + bias30; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col30] = c1_30 + bias30; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col30] = c2_30 + bias30; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col30] = c3_30 + bias30; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col30] = c4_30 + bias30; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col30] = c5_30 + bias30; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col30] = c6_30 + bias30; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col30] = c7_30 + bias30; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col30] = c8_30 + bias30; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col30] = c9_30 + bias30; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col30] = c10_30 + bias30; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col30] = c11_30 + bias30; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col30] = c12_30 + bias30; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col30] = c13_30 + bias30; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col30] = c14_30 + bias30; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col30] = c15_30 + bias30; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col30] = c16_30 + bias30; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col30] = c17_30 + bias30; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col30] = c18_30 + bias30; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col30] = c19_30 + bias30; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col30] = c20_30 + bias30; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col30] = c21_30 + bias30; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col30] = c22_30 + bias30; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col30] = c23_30 + bias30; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col30] = c24_30 + bias30; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col30] = c25_30 + bias30; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col30] = c26_30 + bias30; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col30] = c27_30 + bias30; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col30] = c28_30 + bias30; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col30] = c29_30 + bias30; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col30] = c30_30 + bias30; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col30] = c31_30 + bias30; }
    }
    if col31 < params.n {
        var bias31 = 0.0;
        if params.has_bias != 0u {
            bias31 = bias[col31];
        }
        if row0 + 0u < params.m { c[(bat * params.m + row0 + 0u) * params.n + col31] = c0_31 + bias31; }
        if row0 + 1u < params.m { c[(bat * params.m + row0 + 1u) * params.n + col31] = c1_31 + bias31; }
        if row0 + 2u < params.m { c[(bat * params.m + row0 + 2u) * params.n + col31] = c2_31 + bias31; }
        if row0 + 3u < params.m { c[(bat * params.m + row0 + 3u) * params.n + col31] = c3_31 + bias31; }
        if row0 + 4u < params.m { c[(bat * params.m + row0 + 4u) * params.n + col31] = c4_31 + bias31; }
        if row0 + 5u < params.m { c[(bat * params.m + row0 + 5u) * params.n + col31] = c5_31 + bias31; }
        if row0 + 6u < params.m { c[(bat * params.m + row0 + 6u) * params.n + col31] = c6_31 + bias31; }
        if row0 + 7u < params.m { c[(bat * params.m + row0 + 7u) * params.n + col31] = c7_31 + bias31; }
        if row0 + 8u < params.m { c[(bat * params.m + row0 + 8u) * params.n + col31] = c8_31 + bias31; }
        if row0 + 9u < params.m { c[(bat * params.m + row0 + 9u) * params.n + col31] = c9_31 + bias31; }
        if row0 + 10u < params.m { c[(bat * params.m + row0 + 10u) * params.n + col31] = c10_31 + bias31; }
        if row0 + 11u < params.m { c[(bat * params.m + row0 + 11u) * params.n + col31] = c11_31 + bias31; }
        if row0 + 12u < params.m { c[(bat * params.m + row0 + 12u) * params.n + col31] = c12_31 + bias31; }
        if row0 + 13u < params.m { c[(bat * params.m + row0 + 13u) * params.n + col31] = c13_31 + bias31; }
        if row0 + 14u < params.m { c[(bat * params.m + row0 + 14u) * params.n + col31] = c14_31 + bias31; }
        if row0 + 15u < params.m { c[(bat * params.m + row0 + 15u) * params.n + col31] = c15_31 + bias31; }
        if row0 + 16u < params.m { c[(bat * params.m + row0 + 16u) * params.n + col31] = c16_31 + bias31; }
        if row0 + 17u < params.m { c[(bat * params.m + row0 + 17u) * params.n + col31] = c17_31 + bias31; }
        if row0 + 18u < params.m { c[(bat * params.m + row0 + 18u) * params.n + col31] = c18_31 + bias31; }
        if row0 + 19u < params.m { c[(bat * params.m + row0 + 19u) * params.n + col31] = c19_31 + bias31; }
        if row0 + 20u < params.m { c[(bat * params.m + row0 + 20u) * params.n + col31] = c20_31 + bias31; }
        if row0 + 21u < params.m { c[(bat * params.m + row0 + 21u) * params.n + col31] = c21_31 + bias31; }
        if row0 + 22u < params.m { c[(bat * params.m + row0 + 22u) * params.n + col31] = c22_31 + bias31; }
        if row0 + 23u < params.m { c[(bat * params.m + row0 + 23u) * params.n + col31] = c23_31 + bias31; }
        if row0 + 24u < params.m { c[(bat * params.m + row0 + 24u) * params.n + col31] = c24_31 + bias31; }
        if row0 + 25u < params.m { c[(bat * params.m + row0 + 25u) * params.n + col31] = c25_31 + bias31; }
        if row0 + 26u < params.m { c[(bat * params.m + row0 + 26u) * params.n + col31] = c26_31 + bias31; }
        if row0 + 27u < params.m { c[(bat * params.m + row0 + 27u) * params.n + col31] = c27_31 + bias31; }
        if row0 + 28u < params.m { c[(bat * params.m + row0 + 28u) * params.n + col31] = c28_31 + bias31; }
        if row0 + 29u < params.m { c[(bat * params.m + row0 + 29u) * params.n + col31] = c29_31 + bias31; }
        if row0 + 30u < params.m { c[(bat * params.m + row0 + 30u) * params.n + col31] = c30_31 + bias31; }
        if row0 + 31u < params.m { c[(bat * params.m + row0 + 31u) * params.n + col31] = c31_31 + bias31; }
    }
}
