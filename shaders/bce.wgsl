// bce.wgsl: binary cross-entropy with logits (PyTorch's binary_cross_entropy_with_logits),
// per element, and its backward for the mean loss.
// forward:  losses[i] = max(x, 0) - x·t + log(1 + exp(-|x|))      (x logits, t targets in [0, 1])
//           the mean over the N elements is reduce.wgsl's full reduction of losses.
// backward: dx[i] = (sigmoid(x) - t) · dloss / N
// Stability: exp only ever sees -|x| <= 0, so nothing overflows; for |x| up to 1e4 and beyond
// exp(-|x|) underflows to 0 and the loss is max(x, 0) - x·t exactly. log(1 + e) is log1p(e)
// (WGSL has none): for e < 1e-3 a three-term series, whose truncation (e⁴/4 relative to e) is
// below f32 rounding, instead of log(1 + e), which loses every digit of e below 2⁻²⁴.
// sigmoid(x) = 1/(1 + e) for x >= 0 and e/(1 + e) for x < 0, e = exp(-|x|): no inf/inf.
// Grid: one invocation per element, folded 2-D grid (flat_group) with a tail guard.
// WG = 256: element-wise, no workgroup memory; the largest default workgroup keeps grids small.
// Bindings (group 0): forward 0 params, 1 x, 2 t, 3 losses;
//                     backward_logits 0 params, 1 x, 2 t, 3 dloss, 4 dx.

struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;

fn log1p_small(e: f32) -> f32 {
    if e < 1.0e-3 {
        return e * (1.0 - e * (0.5 - e * (1.0 / 3.0)));
    }
    return log(1.0 + e);
}

@compute @workgroup_size(WG)
fn bce_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n {
        return;
    }
    let v = x[i];
    losses[i] = max(v, 0.0) - v * t[i] + log1p_small(exp(-abs(v)));
}

@group(0) @binding(3) var<storage, read> dloss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn bce_backward_logits(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n {
        return;
    }
    let v = x[i];
    let e = exp(-abs(v));
    let s = select(e, 1.0, v >= 0.0) / (1.0 + e);
    dx[i] = (s - t[i]) * (dloss[0] / f32(params.n));
}
