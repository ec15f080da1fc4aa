// matmul/naive.wgsl: batched C = op(A)·op(B) (+ bias), one output element per invocation.
// The always-correct fallback and the reference the faster variants are tested against.
// op(A) is [M,K] (A stored [K,M] when trans_a), op(B) is [K,N] (B stored [N,K] when trans_b).
// A batch stride of 0 broadcasts a 2-D operand over the batch (a weight shared by every row).
// Grid: x over N in 16s, y over M in 16s, z over the batch. 16x16 = 256 invocations, WebGPU's cap.
// Bindings (group 0): 0 params, 1 a, 2 b, 3 bias (length N, or a dummy when has_bias = 0), 4 c.
// Also the backward's helper matmul_backward_batch_sum (the gradient of an operand broadcast
// over the batch: dA = Σ_b dC_b·op(B_b)ᵀ and the like); its bindings are listed beside it.
// (The bias gradient, dbias = Σ_rows dC, is reduce.wgsl's column sum.)

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

@compute @workgroup_size(16, 16, 1)
fn matmul_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let row = gid.y;
    let bat = gid.z;
    if col >= params.n || row >= params.m || bat >= params.batch {
        return;
    }
    let a_base = bat * params.a_batch_stride;
    let b_base = bat * params.b_batch_stride;
    // Element strides of op(A)[row, kk] and op(B)[kk, col] along kk, for either storage order.
    var a_off = a_base + row * params.k;
    var a_step = 1u;
    if params.trans_a != 0u {
        a_off = a_base + row;
        a_step = params.m;
    }
    var b_off = b_base + col;
    var b_step = params.n;
    if params.trans_b != 0u {
        b_off = b_base + col * params.k;
        b_step = 1u;
    }
    var acc = 0.0;
    for (var kk = 0u; kk < params.k; kk++) {
        acc += a[a_off + kk * a_step] * b[b_off + kk * b_step];
    }
    if params.has_bias != 0u {
        acc += bias[col];
    }
    c[(bat * params.m + row) * params.n + col] = acc;
}

// matmul_backward_batch_sum: C = Σ_batch op(A)·op(B), for the gradient of an operand that was
// broadcast over the batch when the layout does not let the batch fold into the contraction.
// Same Params as the forward (has_bias ignored); grid x over N, y over M in 16s, z = 1.
// Bindings: 0 params, 1 a, 2 b, 3 sum (the [M, N] output).
@group(0) @binding(3) var<storage, read_write> sum: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn matmul_backward_batch_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let row = gid.y;
    if col >= params.n || row >= params.m {
        return;
    }
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
    var acc = 0.0;
    for (var bat = 0u; bat < params.batch; bat++) {
        let a_off = bat * params.a_batch_stride + row * a_rs;
        let b_off = bat * params.b_batch_stride + col * b_cs;
        for (var kk = 0u; kk < params.k; kk++) {
            acc += a[a_off + kk * a_ks] * b[b_off + kk * b_ks];
        }
    }
    sum[row * params.n + col] = acc;
}
