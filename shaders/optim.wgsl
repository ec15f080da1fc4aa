// optim.wgsl: in-place optimizer updates, PyTorch's formulas, one invocation per element.
// The per-step values (lr, bias corrections, the first-step flag) live in a small f32 storage
// tensor `hyper` the caller owns, so a training loop rewrites it with one queue.write_buffer per
// step and keeps its bind groups; only the static choices (Nesterov, decoupled decay) are in
// the uniform params.
// SGD, hyper = [lr, momentum μ, dampening τ, weight_decay λ, first_step, 0, 0, 0]:
//   d = g + λ·p;  if μ != 0 { b = d on the first step, else b = μ·b + (1-τ)·d;
//                             d = d + μ·b if nesterov, else b };  p = p - lr·d
// Adam / AdamW, hyper = [lr, β1, β2, eps, weight_decay λ, bc1 = 1-β1^t, bc2 = 1-β2^t, 0]:
//   Adam (L2):          g = g + λ·p
//   AdamW (decoupled):  p = p·(1 - lr·λ)
//   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p = p - (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps)
// Weight averaging, after either update, hyper[7] = this step's decay δ:
//   average = δ·average + (1-δ)·p
// Grid: one invocation per element, WG per workgroup, folded 2-D grid (flat_group) with a tail
// guard, so tensors past 65,535·WG elements work.
// WG = 256: a memory-bound element-wise update with no workgroup memory; the largest default
// workgroup keeps the grid small.
// Bindings (group 0): optim_sgd 0 params, 1 hyper, 2 grad, 3 param, 4 momentum_buf;
//                     optim_adam 0 params, 1 hyper, 2 grad, 3 param, 4 exp_avg, 5 exp_avg_sq;
//                     optim_average 0 params, 1 hyper, 2 source (the parameter), 3 average.
// param and the state buffers are updated in place (read_write).

struct Params {
    n: u32,
    // SGD: Nesterov momentum; Adam: decoupled weight decay (AdamW).
    flag: u32,
    _pad0: u32,
    _pad1: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<f32>;
@group(0) @binding(4) var<storage, read_write> momentum_buf: array<f32>;

@compute @workgroup_size(WG)
fn optim_sgd(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n {
        return;
    }
    let lr = hyper[0];
    let mu = hyper[1];
    let dampening = hyper[2];
    let weight_decay = hyper[3];
    let first_step = hyper[4];
    let p = param[i];
    var d = grad[i] + weight_decay * p;
    if mu != 0.0 {
        var b = d;
        if first_step == 0.0 {
            b = mu * momentum_buf[i] + (1.0 - dampening) * d;
        }
        momentum_buf[i] = b;
        if params.flag != 0u {
            d = d + mu * b;
        } else {
            d = b;
        }
    }
    param[i] = p - lr * d;
}

@group(0) @binding(4) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(5) var<storage, read_write> exp_avg_sq: array<f32>;

@compute @workgroup_size(WG)
fn optim_adam(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n {
        return;
    }
    let lr = hyper[0];
    let beta1 = hyper[1];
    let beta2 = hyper[2];
    let eps = hyper[3];
    let weight_decay = hyper[4];
    let bc1 = hyper[5];
    let bc2 = hyper[6];
    var p = param[i];
    var g = grad[i];
    if params.flag != 0u {
        p = p * (1.0 - lr * weight_decay);
    } else {
        g = g + weight_decay * p;
    }
    let m = beta1 * exp_avg[i] + (1.0 - beta1) * g;
    let v = beta2 * exp_avg_sq[i] + (1.0 - beta2) * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    let denom = sqrt(v) / sqrt(bc2) + eps;
    param[i] = p - (lr / bc1) * (m / denom);
}

@group(0) @binding(2) var<storage, read> source: array<f32>;
@group(0) @binding(3) var<storage, read_write> average: array<f32>;

@compute @workgroup_size(WG)
fn optim_average(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_group(wid, num) * WG + lid;
    if i >= params.n {
        return;
    }
    let decay = hyper[7];
    average[i] = decay * average[i] + (1.0 - decay) * source[i];
}
