// elementwise.wgsl: element-wise binary ops, scaling and activations, each with its backward.
// binary:   add  out = a + b;   mul  out = a * b;   add_row  out[r,c] = a[r,c] + b[c]
//           mul backward: da = dy * b, db = dy * a (add's backward is a copy, add_row's bias
//           gradient a column sum: both done from Rust with scale_forward and reduce.wgsl)
// scale:    y = alpha * x + beta            backward: dx = alpha * dy (scale_forward, beta = 0)
// relu:       y = max(x, 0)                 dx = dy * [x > 0]
// leaky_relu: y = x > 0 ? x : alpha * x     dx = dy * (x > 0 ? 1 : alpha)
//             (both backwards may be given y in place of x: y > 0 exactly where x > 0 for
//             alpha > 0, and the graph passes y so that x can die after the forward)
// gelu_tanh:  y = x * sigmoid(2u), u = k (x + 0.044715 x³), k = sqrt(2/pi)
//             (= 0.5 x (1 + tanh u), written with a stable sigmoid so the negative tail keeps
//             its relative accuracy instead of cancelling in 1 + tanh u)
//             dx = dy * (s + 2 x s (1 - s) k (1 + 3·0.044715 x²)),  s = sigmoid(2u)
// gelu_erf:   y = x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2
//             dx = dy * (Phi(x) + x * exp(-x²/2) / sqrt(2 pi))
// tanh:       y = tanh(x)                   dx = dy * (1 - y²)      (from the output y)
// sigmoid:    y = 1 / (1 + exp(-x))         dx = dy * y * (1 - y)   (from the output y)
// Numerics: tanh's input is clamped to ±15 (tanh(15) rounds to 1 in f32), because some drivers
// build tanh from exp(2x) and return inf/inf = NaN for large |x|. sigmoid exponentiates only
// -|x|, so exp never overflows. erfc uses the Chebyshev fit of Numerical Recipes (erfcc,
// fractional error < 1.2e-7 for every z >= 0), so Phi keeps that *relative* accuracy in the
// negative tail (the exponent is split so that f32 rounding of -z² adds none; see normal_tail).
// Measured on lavapipe against an f64 erfc: worst relative error of x·Phi(x) 1.2e-6 on [-5, 5],
// 7.4e-6 on [-12, 12] (there the driver's exp of arguments near -72 dominates).
// GELU's x is clamped to ±20 inside u and the derivatives, where both forms are already 0 or x
// (and 0 or 1) to f32 precision, so x³ and x² stay finite for any finite x.
// Entry points: <op>_forward; activation backwards <act>_backward_x; mul_backward_ab; each with
// a vec4 twin <entry>4 (see the end of the file).
// Grid: one element per invocation, index = flat_group * WG + local index, guarded by n; the
// group count is folded into x and y (kernels::grid_for), so tensors over 65,535·WG elements work.
// WG = 64: a multiple of common subgroup widths (8 on lavapipe, 32/64 on GPUs); an element-wise
// kernel is memory bound and has no shared state, so larger groups buy nothing.
// No workgroup memory.
// Bindings (group 0), 0 is always params:
//   unary forward (scale, activations):          1 x, 2 y
//   binary forward (add, mul, add_row):          1 a, 2 b, 3 out
//   activation backward:                         1 x (or the forward's y), 2 dy, 3 dx
//   mul backward:                                1 a, 2 b, 3 dy_mul, 4 da, 5 db

struct Params {
    // Elements of the output.
    n: u32,
    // Length of the broadcast row vector (add_row); 1 otherwise.
    cols: u32,
    // scale's factor, leaky_relu's negative slope.
    alpha: f32,
    // scale's offset.
    beta: f32,
}

override WG: u32 = 64u;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_CUBIC: f32 = 0.044715;
const INV_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
// Beyond this |x|, tanh(x) is 1 to f32 precision and GELU's u only pushes sigmoid further
// into its saturated range: clamping changes no f32 result and keeps x³ and exp finite.
const TANH_CLAMP: f32 = 15.0;
const GELU_CLAMP: f32 = 20.0;

@group(0) @binding(0) var<uniform> params: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@group(0) @binding(3) var<storage, read> dy_mul: array<f32>;
@group(0) @binding(4) var<storage, read_write> da: array<f32>;
@group(0) @binding(5) var<storage, read_write> db: array<f32>;

fn element(wid: vec3<u32>, num: vec3<u32>, lid: u32) -> u32 {
    return flat_group(wid, num) * WG + lid;
}

fn sigmoid(v: f32) -> f32 {
    let e = exp(-abs(v));
    let s = 1.0 / (1.0 + e);
    return select(e * s, s, v >= 0.0);
}

fn tanh_safe(v: f32) -> f32 {
    return tanh(clamp(v, -TANH_CLAMP, TANH_CLAMP));
}

// Lower tail of the standard normal, Q(a) = erfc(a / sqrt 2) / 2 for a = |x| >= 0, with
// Numerical Recipes' erfcc Chebyshev fit, erfc(z) = t exp(-z² + P(t)), t = 1 / (1 + z/2),
// relative error < 1.2e-7. The large term z² = a²/2 is split so that it carries no rounding:
// a = ah + al with ah keeping 12 significant bits, so ah² is exact in f32 and the remainder
// ah·al + al²/2 is small. Without the split, -z² rounds by z²·2⁻²⁴, which is relative error
// in the result (4e-6 at a = 12).
fn normal_tail(a: f32) -> f32 {
    let z = a * INV_SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277))))))));
    let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
    let al = a - ah;
    return 0.5 * t * exp(-0.5 * ah * ah) * exp(p - ah * al - 0.5 * al * al);
}

// Standard normal CDF, accurate in relative terms in the lower tail.
fn phi_cdf(v: f32) -> f32 {
    let tail = normal_tail(abs(v));
    return select(1.0 - tail, tail, v < 0.0);
}

fn gelu_tanh(v: f32) -> f32 {
    let c = clamp(v, -GELU_CLAMP, GELU_CLAMP);
    let u = SQRT_2_OVER_PI * (c + GELU_CUBIC * c * c * c);
    return v * sigmoid(2.0 * u);
}

// d gelu_tanh / dx. Past the clamp the true derivative is 0 or 1 to f32 precision; the clamped
// value also keeps v·s(1-s) from meeting an infinite v².
fn gelu_tanh_slope(v: f32) -> f32 {
    let c = clamp(v, -GELU_CLAMP, GELU_CLAMP);
    let u = SQRT_2_OVER_PI * (c + GELU_CUBIC * c * c * c);
    let s = sigmoid(2.0 * u);
    let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * c * c);
    return s + 2.0 * c * s * (1.0 - s) * du;
}

fn gelu_erf(v: f32) -> f32 {
    return v * phi_cdf(v);
}

// d gelu_erf / dx. The clamp keeps v² finite; exp(-v²/2) is 0 in f32 long before |v| = 20.
fn gelu_erf_slope(v: f32) -> f32 {
    let c = clamp(v, -GELU_CLAMP, GELU_CLAMP);
    return phi_cdf(v) + c * exp(-0.5 * c * c) * INV_SQRT_2PI;
}

// ---- binary ----

@compute @workgroup_size(WG)
fn add_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        out[i] = a[i] + b[i];
    }
}

@compute @workgroup_size(WG)
fn mul_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        out[i] = a[i] * b[i];
    }
}

@compute @workgroup_size(WG)
fn add_row_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        out[i] = a[i] + b[i % params.cols];
    }
}

@compute @workgroup_size(WG)
fn mul_backward_ab(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        let g = dy_mul[i];
        da[i] = g * b[i];
        db[i] = g * a[i];
    }
}

// ---- scale ----

@compute @workgroup_size(WG)
fn scale_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        y[i] = params.alpha * x[i] + params.beta;
    }
}

// ---- activations ----

@compute @workgroup_size(WG)
fn relu_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        y[i] = max(x[i], 0.0);
    }
}

@compute @workgroup_size(WG)
fn relu_backward_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        dx[i] = select(0.0, dy[i], x[i] > 0.0);
    }
}

@compute @workgroup_size(WG)
fn leaky_relu_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        let v = x[i];
        y[i] = select(params.alpha * v, v, v > 0.0);
    }
}

@compute @workgroup_size(WG)
fn leaky_relu_backward_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        dx[i] = dy[i] * select(params.alpha, 1.0, x[i] > 0.0);
    }
}

@compute @workgroup_size(WG)
fn gelu_tanh_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        y[i] = gelu_tanh(x[i]);
    }
}

@compute @workgroup_size(WG)
fn gelu_tanh_backward_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        dx[i] = dy[i] * gelu_tanh_slope(x[i]);
    }
}

@compute @workgroup_size(WG)
fn gelu_erf_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        y[i] = gelu_erf(x[i]);
    }
}

@compute @workgroup_size(WG)
fn gelu_erf_backward_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        dx[i] = dy[i] * gelu_erf_slope(x[i]);
    }
}

@compute @workgroup_size(WG)
fn tanh_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        y[i] = tanh_safe(x[i]);
    }
}

// Binding 1 holds the forward's output y here.
@compute @workgroup_size(WG)
fn tanh_backward_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        let t = x[i];
        dx[i] = dy[i] * (1.0 - t * t);
    }
}

@compute @workgroup_size(WG)
fn sigmoid_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        y[i] = sigmoid(x[i]);
    }
}

// Binding 1 holds the forward's output y here.
@compute @workgroup_size(WG)
fn sigmoid_backward_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, num, lid);
    if i < params.n {
        let s = x[i];
        dx[i] = dy[i] * s * (1.0 - s);
    }
}

// ---- vec4 entries: <entry>4 ----
// Every op above four elements to an invocation, for n (and add_row's cols) a multiple of 4
// and every tensor on a whole vec4 (Rust picks them): on lavapipe each storage access is a loop
// over the SIMD lanes, so one vec4 access in place of four scalar ones took a [2048, 512]
// GELU from 4.7 to 2.6 ms and a [2048, 128] add from 1.1 to 0.7 ms. The arithmetic is the
// scalar entries', per component (helpers) or in vector built-ins. Bindings as theirs.

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> dy_mul4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> da4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> db4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn add_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        out4[q] = a4[q] + b4[q];
    }
}

@compute @workgroup_size(WG)
fn mul_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        out4[q] = a4[q] * b4[q];
    }
}

@compute @workgroup_size(WG)
fn add_row_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        out4[q] = a4[q] + b4[q % (params.cols / 4u)];
    }
}

@compute @workgroup_size(WG)
fn mul_backward_ab4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let g = dy_mul4[q];
        da4[q] = g * b4[q];
        db4[q] = g * a4[q];
    }
}

@compute @workgroup_size(WG)
fn scale_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        y4[q] = params.alpha * x4[q] + vec4(params.beta);
    }
}

@compute @workgroup_size(WG)
fn relu_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        y4[q] = max(x4[q], vec4(0.0));
    }
}

@compute @workgroup_size(WG)
fn relu_backward_x4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        dx4[q] = select(vec4(0.0), dy4[q], x4[q] > vec4(0.0));
    }
}

@compute @workgroup_size(WG)
fn leaky_relu_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        y4[q] = select(params.alpha * v, v, v > vec4(0.0));
    }
}

@compute @workgroup_size(WG)
fn leaky_relu_backward_x4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        dx4[q] = dy4[q] * select(vec4(params.alpha), vec4(1.0), x4[q] > vec4(0.0));
    }
}

@compute @workgroup_size(WG)
fn gelu_tanh_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        y4[q] = vec4(gelu_tanh(v.x), gelu_tanh(v.y), gelu_tanh(v.z), gelu_tanh(v.w));
    }
}

@compute @workgroup_size(WG)
fn gelu_tanh_backward_x4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        dx4[q] = dy4[q] * vec4(gelu_tanh_slope(v.x), gelu_tanh_slope(v.y), gelu_tanh_slope(v.z),
                               gelu_tanh_slope(v.w));
    }
}

@compute @workgroup_size(WG)
fn gelu_erf_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        y4[q] = vec4(gelu_erf(v.x), gelu_erf(v.y), gelu_erf(v.z), gelu_erf(v.w));
    }
}

@compute @workgroup_size(WG)
fn gelu_erf_backward_x4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        dx4[q] = dy4[q] * vec4(gelu_erf_slope(v.x), gelu_erf_slope(v.y), gelu_erf_slope(v.z),
                               gelu_erf_slope(v.w));
    }
}

@compute @workgroup_size(WG)
fn tanh_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        y4[q] = vec4(tanh_safe(v.x), tanh_safe(v.y), tanh_safe(v.z), tanh_safe(v.w));
    }
}

// Binding 1 holds the forward's output y here.
@compute @workgroup_size(WG)
fn tanh_backward_x4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let t = x4[q];
        dx4[q] = dy4[q] * (vec4(1.0) - t * t);
    }
}

@compute @workgroup_size(WG)
fn sigmoid_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let v = x4[q];
        y4[q] = vec4(sigmoid(v.x), sigmoid(v.y), sigmoid(v.z), sigmoid(v.w));
    }
}

// Binding 1 holds the forward's output y here.
@compute @workgroup_size(WG)
fn sigmoid_backward_x4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) num: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let q = element(wid, num, lid);
    if q < params.n / 4u {
        let s = x4[q];
        dx4[q] = dy4[q] * s * (vec4(1.0) - s);
    }
}
