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
// The block's body is written out, one scalar per accumulator, by src/kernels/gen/
// matmul_register.rs (appended to this file when the pipeline is made): written with arrays
// and loops, NIR/LLVM kept the arrays in memory (32x32: 1.0 GFLOP/s, 20 s to compile).
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
