//! The layers of `kiln::nn` as whole graphs: forward values against an f64 CPU reference in
//! plain loops, and the gradients with respect to every input and parameter against central
//! finite differences of that reference, with the loss ⟨y, w⟩ for a random fixed w.
//!
//! Sizes are tiny (B = 2, T = 3 or 5, D = 8, H = 2, D_ff = 16): every coordinate of every
//! leaf gets its own finite difference (a few hundred per graph, each a cheap f64 pass), which
//! is stronger than random directional derivatives and still fast.

use std::collections::BTreeMap;

use kiln::nn::{
    residual, sinusoidal_positions, DecoderLayer, Dropout, Embedding, EncoderLayer, FeedForward,
    FeedForwardOptions, LayerNorm, Linear, LinearOptions, MultiHeadAttention, PositionalEncoding,
    ResidualNorm, TransformerOptions,
};
use kiln::ops::elementwise::Activation;
use kiln::{DType, Error, Graph, Init, Mode, ParamStore, Plan, PlanSpec, Var};

use super::*;

// ---- f64 reference, plain loops ----

/// Leaf values by name (inputs and parameters).
type Vals = BTreeMap<String, Vec<f64>>;

fn val<'a>(v: &'a Vals, name: &str) -> &'a [f64] {
    match v.get(name) {
        Some(x) => x,
        None => panic!(
            "no leaf named {name} (have {:?})",
            v.keys().collect::<Vec<_>>()
        ),
    }
}

/// `x [rows, i]·w [i, o] + b [o]`.
fn linear_ref(x: &[f64], w: &[f64], b: Option<&[f64]>, i: usize, o: usize) -> Vec<f64> {
    let rows = x.len() / i;
    let mut y = vec![0.0; rows * o];
    for r in 0..rows {
        for c in 0..o {
            let mut acc = b.map_or(0.0, |b| b[c]);
            for k in 0..i {
                acc += x[r * i + k] * w[k * o + c];
            }
            y[r * o + c] = acc;
        }
    }
    y
}

/// The `Linear` named `name` of the leaves, applied to `x [rows, i]`.
fn linear_named(v: &Vals, name: &str, x: &[f64], i: usize, o: usize) -> Vec<f64> {
    let b = v.get(&format!("{name}.bias")).map(Vec::as_slice);
    linear_ref(x, val(v, &format!("{name}.weight")), b, i, o)
}

/// Layer norm over rows of width `c`, biased variance, eps inside the square root.
fn layer_norm_ref(x: &[f64], gamma: &[f64], beta: &[f64], c: usize, eps: f64) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for (row, out) in x.chunks(c).zip(y.chunks_mut(c)) {
        let mean = row.iter().sum::<f64>() / c as f64;
        let var = row.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / c as f64;
        let rstd = 1.0 / (var + eps).sqrt();
        for k in 0..c {
            out[k] = (row[k] - mean) * rstd * gamma[k] + beta[k];
        }
    }
    y
}

/// erf by its Maclaurin series for |x| < 3 (terms peak near 3^(2n)/n! ~ 1e3, so ~1e-13 is
/// lost to cancellation) and by the continued fraction of erfc beyond.
fn erf(x: f64) -> f64 {
    if x.abs() < 3.0 {
        let (mut term, mut sum) = (x, x);
        for n in 1..80 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        return sum * 2.0 / std::f64::consts::PI.sqrt();
    }
    // erfc(a) = e^{-a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), a > 0.
    let a = x.abs();
    let mut frac = a;
    for k in (1..60).rev() {
        frac = a + (k as f64 / 2.0) / frac;
    }
    let erfc = (-a * a).exp() / std::f64::consts::PI.sqrt() / frac;
    (1.0 - erfc).copysign(x)
}

fn act_ref(x: f64, act: Activation) -> f64 {
    match act {
        Activation::Relu => x.max(0.0),
        Activation::GeluErf => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        other => panic!("no reference for {other:?}"),
    }
}

/// `linear2(act(linear1(x)))` of the `FeedForward` named `name`.
fn feed_forward_ref(
    v: &Vals,
    name: &str,
    x: &[f64],
    d: usize,
    d_ff: usize,
    act: Activation,
) -> Vec<f64> {
    let h: Vec<f64> = linear_named(v, &format!("{name}.linear1"), x, d, d_ff)
        .into_iter()
        .map(|z| act_ref(z, act))
        .collect();
    linear_named(v, &format!("{name}.linear2"), &h, d_ff, d)
}

/// Multi-head attention `query [B, Tq, D]` over `kv [B, Tk, D]` with the projections of
/// `name`: head h is columns h·Dh..(h+1)·Dh; query i sees key j when `j <= i + Tk - Tq` (if
/// causal) and `mask[b, j] != 0`; a query that sees nothing gives zeros.
#[allow(clippy::too_many_arguments)]
fn mha_ref(
    v: &Vals,
    name: &str,
    query: &[f64],
    kv: &[f64],
    (b, tq, tk, d, heads): (usize, usize, usize, usize, usize),
    mask: Option<&[u32]>,
    causal: bool,
) -> Vec<f64> {
    let q = linear_named(v, &format!("{name}.q_proj"), query, d, d);
    let k = linear_named(v, &format!("{name}.k_proj"), kv, d, d);
    let vv = linear_named(v, &format!("{name}.v_proj"), kv, d, d);
    let dh = d / heads;
    let scale = 1.0 / (dh as f64).sqrt();
    let mut o = vec![0.0; b * tq * d];
    for bi in 0..b {
        for h in 0..heads {
            for i in 0..tq {
                let visible = |j: usize| {
                    (!causal || j + tq <= i + tk) && mask.is_none_or(|m| m[bi * tk + j] != 0)
                };
                let scores: Vec<Option<f64>> = (0..tk)
                    .map(|j| {
                        visible(j).then(|| {
                            (0..dh)
                                .map(|e| {
                                    q[(bi * tq + i) * d + h * dh + e]
                                        * k[(bi * tk + j) * d + h * dh + e]
                                })
                                .sum::<f64>()
                                * scale
                        })
                    })
                    .collect();
                let max = scores
                    .iter()
                    .flatten()
                    .fold(f64::NEG_INFINITY, |a, &s| a.max(s));
                let total: f64 = scores.iter().flatten().map(|s| (s - max).exp()).sum();
                for (j, s) in scores.iter().enumerate() {
                    let Some(s) = s else { continue };
                    let p = (s - max).exp() / total;
                    for e in 0..dh {
                        o[(bi * tq + i) * d + h * dh + e] += p * vv[(bi * tk + j) * d + h * dh + e];
                    }
                }
            }
        }
    }
    linear_named(v, &format!("{name}.out_proj"), &o, d, d)
}

fn add_ref(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(a, b)| a + b).collect()
}

/// `LN(x + f(x))` (post) or `x + f(LN(x))` (pre) with the LayerNorm named `norm`.
fn residual_ref(
    v: &Vals,
    x: &[f64],
    norm: &str,
    order: ResidualNorm,
    f: impl Fn(&[f64]) -> Vec<f64>,
) -> Vec<f64> {
    let ln = |x: &[f64]| {
        let (w, b) = (format!("{norm}.weight"), format!("{norm}.bias"));
        layer_norm_ref(x, val(v, &w), val(v, &b), D, 1e-5)
    };
    match order {
        ResidualNorm::Pre => add_ref(x, &f(&ln(x))),
        ResidualNorm::Post => ln(&add_ref(x, &f(x))),
    }
}

// ---- the harness ----

/// Tolerances `(atol, rtol)` for the output and for the gradients.
struct Tol {
    y: (f64, f64),
    grad: (f64, f64),
}

/// Runs `y` of `g` once with every f32 input and parameter drawn U(-1, 1) (seeded) and the
/// given u32 inputs, then checks `y` against `reference` and the gradient of ⟨y, w⟩ (w random)
/// with respect to every f32 leaf against central finite differences of the reference.
fn check(
    mut g: Graph,
    y: Var,
    u32_inputs: &[(&str, Vec<u32>)],
    seed: u64,
    reference: impl Fn(&Vals) -> Vec<f64>,
    tol: Tol,
) {
    let mut rng = Rng::new(seed);
    let inputs: Vec<(String, Var)> = g
        .inputs()
        .into_iter()
        .filter(|(_, v)| g.meta(*v).unwrap().dtype == DType::F32)
        .collect();
    let params = g.params();
    let leaves: Vec<(String, Var, Vec<usize>, Vec<f32>)> = inputs
        .iter()
        .chain(&params)
        .map(|(name, v)| {
            let shape = g.shape(*v).unwrap().to_vec();
            let data = rng.vec(shape.iter().product());
            (name.clone(), *v, shape, data)
        })
        .collect();
    let y_shape = g.shape(y).unwrap().to_vec();
    let w = rng.vec(y_shape.iter().product());
    let wc = g.constant(&y_shape, &w).unwrap();
    let yw = g.mul(y, wc).unwrap();
    let loss = g.sum_all(yw).unwrap();
    let wrt: Vec<Var> = leaves.iter().map(|l| l.1).collect();
    let grads = g.grad(loss, &wrt).unwrap();

    let mut outputs = vec![y];
    outputs.extend(&grads);
    let spec = PlanSpec {
        outputs,
        ..Default::default()
    };
    let mut store = ParamStore::new(seed);
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    for (name, v, shape, data) in &leaves {
        if params.iter().any(|p| p.1 == *v) {
            store.write(ctx(), name, shape, data).unwrap();
        } else {
            plan.set_input_f32(ctx(), name, data).unwrap();
        }
    }
    for (name, data) in u32_inputs {
        plan.set_input_u32(ctx(), name, data).unwrap();
    }
    plan.step(ctx()).unwrap();

    let mut vals: Vals = leaves
        .iter()
        .map(|(name, _, _, data)| (name.clone(), f64s(data)))
        .collect();
    let got = plan.read_f32(ctx(), y).unwrap();
    assert_close(&got, &reference(&vals), tol.y.0, tol.y.1, "output");

    let wd = f64s(&w);
    let f = |v: &Vals| {
        reference(v)
            .iter()
            .zip(&wd)
            .map(|(a, b)| a * b)
            .sum::<f64>()
    };
    for ((name, ..), dv) in leaves.iter().zip(&grads) {
        let got = plan.read_f32(ctx(), *dv).unwrap();
        // h = 1e-6 in f64: truncation O(h²·f''') and rounding O(1e-16·|f|/h) are both ~1e-10,
        // negligible next to the f32 gradients' own error.
        let h = 1e-6;
        let n = vals[name].len();
        let want: Vec<f64> = (0..n)
            .map(|i| {
                let keep = vals[name][i];
                vals.get_mut(name).unwrap()[i] = keep + h;
                let up = f(&vals);
                vals.get_mut(name).unwrap()[i] = keep - h;
                let down = f(&vals);
                vals.get_mut(name).unwrap()[i] = keep;
                (up - down) / (2.0 * h)
            })
            .collect();
        assert_close(
            &got,
            &want,
            tol.grad.0,
            tol.grad.1,
            &format!("d loss / d {name}"),
        );
    }
}

// ---- the layers ----

const B: usize = 2;
const D: usize = 8;
const HEADS: usize = 2;
const D_FF: usize = 16;

/// Attention: every value passes through four stages (projection, scores, softmax-weighted sum,
/// output projection), each an f32 sum of <= 8 products of O(1) factors, so ~8·6e-8 ≈ 5e-7
/// per stage and ~2e-6 at the end, plus ~1e-7 relative from the driver's exp. Measured worst on
/// lavapipe: 6.2e-7 forward, 1.9e-6 for a gradient (d/dx, values up to 5). atol 1e-5 is five
/// times that; rtol covers larger elements. The key-bias gradient is 0 analytically (a bias on
/// the keys adds the same q·b to all of a query's scores), so it tests cancellation to ~1e-6.
const ATTENTION_TOL: Tol = Tol {
    y: (1e-5, 1e-5),
    grad: (1e-5, 1e-4),
};

/// LayerNorm + feed-forward: the same stage count (norm, two projections of <= 16 terms, the
/// residual add) with values up to ~8 (outputs) and ~18 (d/d ln.bias sums 80 rows). Measured
/// worst on lavapipe: 1.2e-6 forward, 2.0e-6 gradients; atol 1e-5 plus rtol 1e-4 (1.8e-3 at
/// 18) leaves a wide margin while a 0.1% error in the activation fails every element.
const RESIDUAL_TOL: Tol = Tol {
    y: (1e-5, 1e-5),
    grad: (1e-5, 1e-4),
};

#[test]
fn linear_matches_reference_on_3d_input_with_and_without_bias() {
    let (t, i, o) = (3, 5, 4);
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, i], DType::F32).unwrap();
    let fc = Linear::new(&mut g, "fc", i, o).unwrap();
    let no_bias = LinearOptions {
        bias: false,
        ..Default::default()
    };
    let proj = Linear::with(&mut g, "proj", o, 3, no_bias).unwrap();
    assert!(proj.bias.is_none());
    let h = fc.forward(&mut g, x).unwrap();
    assert_eq!(g.shape(h).unwrap(), [B, t, o]);
    let y = proj.forward(&mut g, h).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, 3]);
    let reference = |v: &Vals| {
        let h = linear_named(v, "fc", val(v, "x"), i, o);
        linear_named(v, "proj", &h, o, 3)
    };
    // Outputs are sums of ≤ 5 products of O(1) values: f32 rounding leaves ~1e-7 relative,
    // so 1e-5 absolute is a wide margin; the gradients are sums of the same size.
    let tol = Tol {
        y: (1e-5, 1e-5),
        grad: (1e-5, 1e-4),
    };
    check(g, y, &[], 1, reference, tol);
}

#[test]
fn linear_and_layer_norm_start_as_initialised() {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 64], DType::F32).unwrap();
    let gpt = LinearOptions {
        init: Init::normal(0.02),
        ..Default::default()
    };
    let fc = Linear::with(&mut g, "fc", 64, 64, gpt).unwrap();
    let xavier = Linear::new(&mut g, "xavier", 64, 32).unwrap();
    let ln = LayerNorm::new(&mut g, "ln", 64).unwrap();
    let h = fc.forward(&mut g, x).unwrap();
    let h = ln.forward(&mut g, h).unwrap();
    let y = xavier.forward(&mut g, h).unwrap();
    let mut store = ParamStore::new(3);
    let spec = PlanSpec {
        outputs: vec![y],
        ..Default::default()
    };
    Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let get = |n: &str| store.get(n).unwrap().to_vec_f32(ctx()).unwrap();
    let w = get("fc.weight");
    let std = (w.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
    // 4096 draws: the sample std of N(0, 0.02²) is within 0.02·(1 ± 3/√(2·4096)) ≈ ±3.3%.
    assert!((std - 0.02).abs() < 0.02 * 0.05, "fc.weight std {std}");
    // Xavier-uniform bound √(6 / (64 + 32)) = 0.25.
    let a = get("xavier.weight")
        .iter()
        .fold(0f32, |m, x| m.max(x.abs()));
    assert!(a <= 0.25 && a > 0.2, "xavier max |w| {a}");
    assert!(get("fc.bias").iter().all(|&b| b == 0.0));
    assert!(get("ln.weight").iter().all(|&b| b == 1.0));
    assert!(get("ln.bias").iter().all(|&b| b == 0.0));
    assert_eq!(ln.eps, 1e-5);
}

#[test]
fn embedding_matches_reference() {
    let (vocab, t) = (7, 5);
    let mut g = Graph::new();
    let ids = g.input("ids", &[B, t], DType::U32).unwrap();
    let emb = Embedding::new(&mut g, "tok", vocab, D).unwrap();
    let y = emb.forward(&mut g, ids).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, D]);
    // id 3 twice, so its gradient row sums two output rows.
    let id_data: Vec<u32> = vec![3, 0, 6, 3, 1, 2, 5, 4, 6, 0];
    let ids_c = id_data.clone();
    let reference = move |v: &Vals| {
        let table = val(v, "tok.weight");
        ids_c
            .iter()
            .flat_map(|&i| table[i as usize * D..(i as usize + 1) * D].to_vec())
            .collect()
    };
    // A lookup is exact and its gradient a sum of at most two products of O(1) values.
    let tol = Tol {
        y: (0.0, 0.0),
        grad: (1e-6, 1e-6),
    };
    check(g, y, &[("ids", id_data)], 2, reference, tol);
}

#[test]
fn layer_norm_matches_reference() {
    let t = 5;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let ln = LayerNorm::new(&mut g, "ln", D).unwrap();
    let y = ln.forward(&mut g, x).unwrap();
    let reference =
        |v: &Vals| layer_norm_ref(val(v, "x"), val(v, "ln.weight"), val(v, "ln.bias"), D, 1e-5);
    // x̂ is O(1) (|x̂| ≤ √D ≈ 2.8) from an 8-term mean and variance: ~1e-6 relative in f32.
    // The gradient wrt x carries rstd ~ 1/std(U(-1,1) row) ≈ 2, so allow 1e-4 absolute.
    let tol = Tol {
        y: (1e-5, 1e-5),
        grad: (1e-4, 1e-4),
    };
    check(g, y, &[], 3, reference, tol);
}

#[test]
fn sinusoidal_table_has_the_papers_values() {
    let (t, d) = (4, 6);
    let pe = sinusoidal_positions(t, d);
    assert_eq!(pe.len(), t * d);
    for pos in 0..t {
        for i in 0..d / 2 {
            let angle = pos as f64 / 10000f64.powf(2.0 * i as f64 / d as f64);
            assert!((pe[pos * d + 2 * i] as f64 - angle.sin()).abs() < 1e-7);
            assert!((pe[pos * d + 2 * i + 1] as f64 - angle.cos()).abs() < 1e-7);
        }
    }
    assert_eq!(&pe[..d], &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    // An odd width ends on a sine column.
    let odd = sinusoidal_positions(2, 3);
    assert!((odd[3 + 2] as f64 - (1.0 / 10000f64.powf(2.0 / 3.0)).sin()).abs() < 1e-7);
}

#[test]
fn positional_encoding_adds_the_table_over_the_batch() {
    let t = 5;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let y = PositionalEncoding::new().forward(&mut g, x).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, D]);
    let reference = |v: &Vals| {
        let x = val(v, "x");
        let mut y = x.to_vec();
        for bi in 0..B {
            for pos in 0..t {
                for i in 0..D / 2 {
                    let angle = pos as f64 / 10000f64.powf(2.0 * i as f64 / D as f64);
                    y[(bi * t + pos) * D + 2 * i] += angle.sin();
                    y[(bi * t + pos) * D + 2 * i + 1] += angle.cos();
                }
            }
        }
        y
    };
    // One f32 add of O(1) values plus the table's own f32 rounding: ~2.4e-7 absolute.
    let tol = Tol {
        y: (1e-6, 0.0),
        grad: (1e-6, 0.0),
    };
    check(g, y, &[], 4, reference, tol);
}

#[test]
fn self_attention_with_causal_mask_matches_reference() {
    let t = 5;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let mha = MultiHeadAttention::new(&mut g, "attn", D, HEADS).unwrap();
    let y = mha.forward(&mut g, x, x, None, true).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, D]);
    let reference = |v: &Vals| {
        mha_ref(
            v,
            "attn",
            val(v, "x"),
            val(v, "x"),
            (B, t, t, D, HEADS),
            None,
            true,
        )
    };
    check(g, y, &[], 11, reference, ATTENTION_TOL);
}

#[test]
fn cross_attention_with_key_padding_matches_reference() {
    let (tq, tk) = (3, 5);
    let mut g = Graph::new();
    let query = g.input("query", &[B, tq, D], DType::F32).unwrap();
    let memory = g.input("memory", &[B, tk, D], DType::F32).unwrap();
    let mask = g.input("mask", &[B, tk], DType::U32).unwrap();
    let mha = MultiHeadAttention::new(&mut g, "cross", D, HEADS).unwrap();
    let y = mha
        .forward(&mut g, query, memory, Some(mask), false)
        .unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, tq, D]);
    // A hole in the middle of row 0; row 1 padded at the end.
    let mask_data: Vec<u32> = vec![1, 1, 0, 1, 1, 1, 1, 1, 0, 0];
    let m = mask_data.clone();
    let reference = move |v: &Vals| {
        let dims = (B, tq, tk, D, HEADS);
        mha_ref(
            v,
            "cross",
            val(v, "query"),
            val(v, "memory"),
            dims,
            Some(&m),
            false,
        )
    };
    check(g, y, &[("mask", mask_data)], 12, reference, ATTENTION_TOL);
}

#[test]
fn pre_norm_residual_feed_forward_matches_reference() {
    let t = 5;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let ln = LayerNorm::new(&mut g, "ln", D).unwrap();
    let gelu = FeedForwardOptions {
        activation: Activation::GeluErf,
        ..Default::default()
    };
    let ff = FeedForward::with(&mut g, "ff", D, D_FF, gelu).unwrap();
    let y = residual(&mut g, x, &ln, ResidualNorm::Pre, |g, h| ff.forward(g, h)).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, D]);
    let reference = |v: &Vals| {
        let x = val(v, "x");
        let n = layer_norm_ref(x, val(v, "ln.weight"), val(v, "ln.bias"), D, 1e-5);
        add_ref(
            x,
            &feed_forward_ref(v, "ff", &n, D, D_FF, Activation::GeluErf),
        )
    };
    check(g, y, &[], 13, reference, RESIDUAL_TOL);
}

#[test]
fn post_norm_residual_feed_forward_matches_reference() {
    let t = 5;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let ln = LayerNorm::new(&mut g, "ln", D).unwrap();
    let ff = FeedForward::new(&mut g, "ff", D, D_FF).unwrap();
    let y = residual(&mut g, x, &ln, ResidualNorm::Post, |g, h| ff.forward(g, h)).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, D]);
    let reference = |v: &Vals| {
        let x = val(v, "x");
        let s = add_ref(x, &feed_forward_ref(v, "ff", x, D, D_FF, Activation::Relu));
        layer_norm_ref(&s, val(v, "ln.weight"), val(v, "ln.bias"), D, 1e-5)
    };
    check(g, y, &[], 14, reference, RESIDUAL_TOL);
}

#[test]
fn heads_that_do_not_divide_d_model_get_a_clear_error() {
    let mut g = Graph::new();
    let line = line!() + 1;
    let e = MultiHeadAttention::new(&mut g, "attn", 10, 3).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "multi_head_attention",
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("d_model (10)") && msg.contains("heads (3)"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("nn.rs:{line}")),
        "call site missing: {msg}"
    );
    assert!(g.params().is_empty(), "no parameter is made on error");

    let mha = MultiHeadAttention::new(&mut g, "ok", D, HEADS).unwrap();
    let q = g.input("q", &[B, 3, D], DType::F32).unwrap();
    let kv = g.input("kv", &[B + 1, 3, D], DType::F32).unwrap();
    let e = mha.forward(&mut g, q, kv, None, false).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("[2, 3, 8]") && msg.contains("[3, 3, 8]"),
        "{msg}"
    );
}

#[test]
fn dropout_is_free_at_zero_and_the_identity_in_eval() {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 8], DType::F32).unwrap();
    assert_eq!(Dropout::new(0.0).unwrap().forward(&mut g, x).unwrap(), x);
    assert!(Dropout::new(1.0).is_err() && Dropout::new(-0.1).is_err());

    // The same feed-forward block with p = 0.5: the reference without dropout in Eval mode,
    // something else in Train mode.
    let t = 3;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let opts = FeedForwardOptions {
        dropout: 0.5,
        ..Default::default()
    };
    let ff = FeedForward::with(&mut g, "ff", D, D_FF, opts).unwrap();
    let y = ff.forward(&mut g, x).unwrap();
    let mut rng = Rng::new(15);
    let xs = rng.vec(B * t * D);
    let mut store = ParamStore::new(15);
    let run = |mode, store: &mut ParamStore| {
        let spec = PlanSpec {
            outputs: vec![y],
            mode,
            ..Default::default()
        };
        let mut plan = Plan::compile(ctx(), &g, store, &spec).unwrap();
        plan.set_input_f32(ctx(), "x", &xs).unwrap();
        plan.step(ctx()).unwrap();
        plan.read_f32(ctx(), y).unwrap()
    };
    let eval = run(Mode::Eval, &mut store);
    let train = run(Mode::Train, &mut store);
    let vals: Vals = [
        "ff.linear1.weight",
        "ff.linear1.bias",
        "ff.linear2.weight",
        "ff.linear2.bias",
    ]
    .iter()
    .map(|n| {
        (
            n.to_string(),
            f64s(&store.get(n).unwrap().to_vec_f32(ctx()).unwrap()),
        )
    })
    .collect();
    let want = feed_forward_ref(&vals, "ff", &f64s(&xs), D, D_FF, Activation::Relu);
    // As the linear test: sums of ≤ 16 products of O(1) values.
    assert_close(&eval, &want, 1e-5, 1e-5, "eval output");
    let differ = train.iter().zip(&eval).filter(|(a, b)| a != b).count();
    assert!(
        differ > train.len() / 2,
        "train-mode dropout changed only {differ} outputs"
    );
    assert!(train.iter().all(|v| v.is_finite()));
}

/// Two residual blocks deep (encoder) or three (decoder): two to three times the stage count of
/// the attention test, so twice its error budget. Measured worst on lavapipe: 6.2e-7 (encoder)
/// and 1.5e-6 (decoder, d/d memory) over the output and every gradient.
const LAYER_TOL: Tol = Tol {
    y: (2e-5, 2e-5),
    grad: (2e-5, 2e-4),
};

#[test]
fn encoder_layer_matches_reference() {
    let t = 5;
    let mut g = Graph::new();
    let x = g.input("x", &[B, t, D], DType::F32).unwrap();
    let mask = g.input("mask", &[B, t], DType::U32).unwrap();
    let opts = TransformerOptions::default();
    let layer = EncoderLayer::new(&mut g, "enc", D, HEADS, D_FF, opts).unwrap();
    let y = layer.forward(&mut g, x, Some(mask), false).unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, t, D]);
    let names: Vec<String> = g.params().into_iter().map(|p| p.0).collect();
    for n in [
        "enc.self_attn.q_proj.weight",
        "enc.linear1.bias",
        "enc.norm2.weight",
    ] {
        assert!(names.iter().any(|p| p == n), "{n} missing from {names:?}");
    }
    let mask_data: Vec<u32> = vec![1, 1, 1, 1, 0, 1, 1, 0, 0, 0];
    let m = mask_data.clone();
    let reference = move |v: &Vals| {
        let dims = (B, t, t, D, HEADS);
        let attn = |h: &[f64]| mha_ref(v, "enc.self_attn", h, h, dims, Some(&m), false);
        let x = residual_ref(v, val(v, "x"), "enc.norm1", ResidualNorm::Post, attn);
        let ff = |h: &[f64]| feed_forward_ref(v, "enc", h, D, D_FF, Activation::Relu);
        residual_ref(v, &x, "enc.norm2", ResidualNorm::Post, ff)
    };
    check(g, y, &[("mask", mask_data)], 21, reference, LAYER_TOL);
}

#[test]
fn decoder_layer_matches_reference() {
    let (tq, tk) = (3, 5);
    let mut g = Graph::new();
    let x = g.input("x", &[B, tq, D], DType::F32).unwrap();
    let memory = g.input("memory", &[B, tk, D], DType::F32).unwrap();
    let tmask = g.input("tmask", &[B, tq], DType::U32).unwrap();
    let mmask = g.input("mmask", &[B, tk], DType::U32).unwrap();
    let opts = TransformerOptions {
        norm: ResidualNorm::Pre,
        activation: Activation::GeluErf,
        ..Default::default()
    };
    let layer = DecoderLayer::new(&mut g, "dec", D, HEADS, D_FF, opts).unwrap();
    let y = layer
        .forward(&mut g, x, memory, Some(tmask), Some(mmask))
        .unwrap();
    assert_eq!(g.shape(y).unwrap(), [B, tq, D]);
    let tmask_data: Vec<u32> = vec![1, 1, 0, 1, 1, 1];
    let mmask_data: Vec<u32> = vec![1, 0, 1, 1, 1, 1, 1, 1, 1, 0];
    let (tm, mm) = (tmask_data.clone(), mmask_data.clone());
    let reference = move |v: &Vals| {
        let pre = ResidualNorm::Pre;
        let mem = val(v, "memory");
        let self_attn = |h: &[f64]| {
            mha_ref(
                v,
                "dec.self_attn",
                h,
                h,
                (B, tq, tq, D, HEADS),
                Some(&tm),
                true,
            )
        };
        let x = residual_ref(v, val(v, "x"), "dec.norm1", pre, self_attn);
        let cross = |h: &[f64]| {
            let dims = (B, tq, tk, D, HEADS);
            mha_ref(v, "dec.multihead_attn", h, mem, dims, Some(&mm), false)
        };
        let x = residual_ref(v, &x, "dec.norm2", pre, cross);
        let ff = |h: &[f64]| feed_forward_ref(v, "dec", h, D, D_FF, Activation::GeluErf);
        residual_ref(v, &x, "dec.norm3", pre, ff)
    };
    let inputs = [("tmask", tmask_data), ("mmask", mmask_data)];
    check(g, y, &inputs, 22, reference, LAYER_TOL);
}

#[test]
fn transformer_layers_report_bad_shapes_at_the_callers_line() {
    let mut g = Graph::new();
    let opts = TransformerOptions::default();
    let enc = EncoderLayer::new(&mut g, "enc", D, HEADS, D_FF, opts).unwrap();
    let dec = DecoderLayer::new(&mut g, "dec", D, HEADS, D_FF, opts).unwrap();
    let x = g.input("x", &[B, 3, D], DType::F32).unwrap();
    let mask = g.input("mask", &[B, 4], DType::U32).unwrap();
    let line = line!() + 1;
    let e = enc.forward(&mut g, x, Some(mask), false).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "encoder_layer",
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("[2, 3, 8]") && msg.contains("[2, 4]"), "{msg}");
    assert!(
        msg.contains(&format!("nn.rs:{line}")),
        "call site missing: {msg}"
    );
    let memory = g.input("memory", &[B, 4, D + 1], DType::F32).unwrap();
    let e = dec.forward(&mut g, x, memory, None, None).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "decoder_layer",
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("[2, 4, 9]"), "{msg}");
}

#[test]
fn linear_and_positional_encoding_reject_bad_shapes() {
    let mut g = Graph::new();
    let x = g.input("x", &[B, 3, 5], DType::F32).unwrap();
    let fc = Linear::new(&mut g, "fc", 4, 6).unwrap();
    let line = line!() + 1;
    let e = fc.forward(&mut g, x).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Shape { op: "linear", .. }), "{msg}");
    assert!(msg.contains("[2, 3, 5]") && msg.contains("[4, 6]"), "{msg}");
    assert!(
        msg.contains(&format!("nn.rs:{line}")),
        "call site missing: {msg}"
    );
    let flat = g.input("flat", &[B, 5], DType::F32).unwrap();
    let e = PositionalEncoding::new().forward(&mut g, flat).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "positional_encoding",
                ..
            }
        ),
        "{e}"
    );
}

/// End to end: embedding, positions, one encoder layer and a read-out learn to reverse
/// sequences. Only attention moves information between positions, and only the positional
/// encoding tells it where to look, so this fails if either is wrong.
#[test]
fn a_one_layer_transformer_learns_to_reverse_sequences() {
    let (n, t, vocab, d) = (32, 5, 8, 16);
    let mut g = Graph::new();
    let ids = g.input("ids", &[n, t], DType::U32).unwrap();
    let targets = g.input("targets", &[n * t], DType::U32).unwrap();
    let emb = Embedding::new(&mut g, "tok", vocab, d).unwrap();
    let opts = TransformerOptions {
        norm: ResidualNorm::Pre,
        ..Default::default()
    };
    let layer = EncoderLayer::new(&mut g, "enc", d, HEADS, 4 * d, opts).unwrap();
    let final_norm = LayerNorm::new(&mut g, "ln_f", d).unwrap();
    let head = Linear::new(&mut g, "head", d, vocab).unwrap();
    let h = emb.forward(&mut g, ids).unwrap();
    let h = PositionalEncoding::new().forward(&mut g, h).unwrap();
    let h = layer.forward(&mut g, h, None, false).unwrap();
    let h = final_norm.forward(&mut g, h).unwrap();
    let logits = head.forward(&mut g, h).unwrap();
    let logits = g.reshape(logits, &[n * t, vocab]).unwrap();
    let loss = g
        .cross_entropy(logits, targets, Default::default())
        .unwrap();
    let mut store = ParamStore::new(9);
    let spec = PlanSpec {
        outputs: vec![logits, loss],
        training: Some(kiln::Training::new(
            loss,
            kiln::Optimizer::Adam(kiln::optim::AdamConfig::adam(1e-2)),
        )),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let mut rng = Rng::new(10);
    let seqs: Vec<u32> = (0..n * t).map(|_| rng.below(vocab) as u32).collect();
    let reversed: Vec<u32> = seqs
        .chunks(t)
        .flat_map(|s| s.iter().rev().copied().collect::<Vec<_>>())
        .collect();
    plan.set_input_u32(ctx(), "ids", &seqs).unwrap();
    plan.set_input_u32(ctx(), "targets", &reversed).unwrap();
    plan.step(ctx()).unwrap();
    let first = plan.read_f32(ctx(), loss).unwrap()[0];
    for _ in 0..100 {
        plan.step(ctx()).unwrap();
    }
    let last = plan.read_f32(ctx(), loss).unwrap()[0];
    let logits = plan.read_f32(ctx(), logits).unwrap();
    let correct = logits
        .chunks(vocab)
        .zip(&reversed)
        .filter(|(row, &want)| {
            let best = (0..vocab).fold(0, |b, i| if row[i] > row[b] { i } else { b });
            best == want as usize
        })
        .count();
    // Chance is 1/8 and the loss starts near ln 8 ≈ 2.08; on lavapipe the loss is 0.15 after
    // 50 Adam steps and 0.002 after 100, every position right.
    assert!(
        correct as f64 >= 0.95 * (n * t) as f64,
        "{correct} of {} reversed tokens right; loss {first} -> {last}",
        n * t
    );
    assert!(last < 0.1 * first, "loss {first} -> {last}");
}
