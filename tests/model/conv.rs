//! A tiny conv2d -> leaky ReLU -> conv_transpose2d graph (the DCGAN building blocks, through
//! `nn::Conv2d` and `nn::ConvTranspose2d`): gradients of every parameter and of the input
//! against central finite differences of an f64 reference.

use kiln::nn::{Conv2d, ConvTranspose2d};
use kiln::ops::elementwise::Activation;
use kiln::{DType, Graph, ParamStore, Plan, PlanSpec};

use super::*;

/// Shapes (F > 4 so the conv runs the im2col forward, the layer's default from CO = 5):
/// x [B, C, H, W] -> conv (C -> F, k4 s2 p1) -> [B, F, H/2, W/2] -> leaky ReLU ->
/// conv_transpose (F -> O, k4 s2 p1) -> [B, O, H, W].
const B: usize = 2;
const C: usize = 3;
const H: usize = 6;
const W: usize = 4;
const F: usize = 6;
const O: usize = 2;
const K: usize = 4;
const SLOPE: f64 = 0.2;

/// y[b,o,oy,ox] = bias[o] + Σ w[o,c,i,j] x[b,c,2oy+i-1,2ox+j-1] (plain loops).
fn conv_ref(
    x: &[f64],
    w: &[f64],
    bias: &[f64],
    (ci, h, wd, co): (usize, usize, usize, usize),
) -> Vec<f64> {
    let (oh, ow) = ((h + 2 - K) / 2 + 1, (wd + 2 - K) / 2 + 1);
    let mut y = vec![0.0; B * co * oh * ow];
    for b in 0..B {
        for o in 0..co {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = bias[o];
                    for c in 0..ci {
                        for i in 0..K {
                            for j in 0..K {
                                let (iy, ix) =
                                    ((2 * oy + i) as isize - 1, (2 * ox + j) as isize - 1);
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < wd {
                                    s += w[((o * ci + c) * K + i) * K + j]
                                        * x[((b * ci + c) * h + iy as usize) * wd + ix as usize];
                                }
                            }
                        }
                    }
                    y[((b * co + o) * oh + oy) * ow + ox] = s;
                }
            }
        }
    }
    y
}

/// Scatter form: y[b,o,2iy+i-1,2ix+j-1] += w[c,o,i,j] x[b,c,iy,ix], plus bias.
fn conv_t_ref(
    x: &[f64],
    w: &[f64],
    bias: &[f64],
    (ci, h, wd, co): (usize, usize, usize, usize),
) -> Vec<f64> {
    let (oh, ow) = ((h - 1) * 2 + K - 2, (wd - 1) * 2 + K - 2);
    let mut y = vec![0.0; B * co * oh * ow];
    for b in 0..B {
        for o in 0..co {
            for p in 0..oh * ow {
                y[(b * co + o) * oh * ow + p] = bias[o];
            }
        }
        for c in 0..ci {
            for iy in 0..h {
                for ix in 0..wd {
                    for o in 0..co {
                        for i in 0..K {
                            for j in 0..K {
                                let (oy, ox) =
                                    ((2 * iy + i) as isize - 1, (2 * ix + j) as isize - 1);
                                if oy >= 0 && ox >= 0 && (oy as usize) < oh && (ox as usize) < ow {
                                    y[((b * co + o) * oh + oy as usize) * ow + ox as usize] += w
                                        [((c * co + o) * K + i) * K + j]
                                        * x[((b * ci + c) * h + iy) * wd + ix];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    y
}

/// ⟨convT(leaky(conv(x))), t⟩ with all parameters packed in `p` = [x, w1, b1, w2, b2].
fn loss_ref(p: &[f64], t: &[f64]) -> f64 {
    let sizes = [B * C * H * W, F * C * K * K, F, F * O * K * K, O];
    let mut parts = Vec::new();
    let mut at = 0;
    for s in sizes {
        parts.push(&p[at..at + s]);
        at += s;
    }
    let h1 = conv_ref(parts[0], parts[1], parts[2], (C, H, W, F));
    let a: Vec<f64> = h1
        .iter()
        .map(|&v| if v > 0.0 { v } else { SLOPE * v })
        .collect();
    let y = conv_t_ref(&a, parts[3], parts[4], (F, H / 2, W / 2, O));
    y.iter().zip(t).map(|(a, b)| a * b).sum()
}

#[test]
fn conv_leaky_conv_transpose_gradients_match_finite_differences() {
    let mut g = Graph::new();
    let x = g.input("x", &[B, C, H, W], DType::F32).unwrap();
    let t = g.input("t", &[B, O, H, W], DType::F32).unwrap();
    let c1 = Conv2d::new(&mut g, "c1", C, F, K, 2, 1, true).unwrap();
    let t1 = ConvTranspose2d::new(&mut g, "t1", F, O, K, 2, 1, true).unwrap();
    let h1 = c1.forward(&mut g, x).unwrap();
    assert_eq!(g.shape(h1).unwrap(), &[B, F, H / 2, W / 2]);
    let a = g
        .activation(h1, Activation::LeakyRelu(SLOPE as f32))
        .unwrap();
    let y = t1.forward(&mut g, a).unwrap();
    assert_eq!(g.shape(y).unwrap(), &[B, O, H, W]);
    // Loss ⟨y, t⟩ for a random t (never ones).
    let prod = g.mul(y, t).unwrap();
    let loss = g.sum_all(prod).unwrap();
    let wrt = [x, c1.weight, c1.bias.unwrap(), t1.weight, t1.bias.unwrap()];
    let grads = g.grad(loss, &wrt).unwrap();
    let mut store = ParamStore::new(5);
    let mut outputs = vec![loss];
    outputs.extend(&grads);
    let spec = PlanSpec {
        outputs,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    // Parameters of O(0.3) rather than DCGAN's N(0, 0.02), so that every term matters at f32
    // precision; the biases nonzero so their paths are exercised.
    let mut rng = Rng::new(9);
    let names = ["c1.weight", "c1.bias", "t1.weight", "t1.bias"];
    let mut p = Vec::new();
    let xv = rng.vec(B * C * H * W);
    p.extend(f64s(&xv));
    for n in names {
        let tensor = store.get(n).unwrap();
        let v: Vec<f32> = rng.vec(tensor.numel()).iter().map(|a| a * 0.3).collect();
        tensor.write_f32(ctx(), &v).unwrap();
        p.extend(f64s(&v));
    }
    let tv = rng.vec(B * O * H * W);
    plan.set_input_f32(ctx(), "x", &xv).unwrap();
    plan.set_input_f32(ctx(), "t", &tv).unwrap();
    plan.step(ctx()).unwrap();
    let td = f64s(&tv);
    let f = |p: &[f64]| loss_ref(p, &td);
    // The loss sums ~B·O·H·W·F·K² / 4 ≈ 600 products of O(0.1) terms: f32 rounding leaves
    // ~1e-6 relative, so 1e-5 absolute and relative.
    assert_close(
        &plan.read_f32(ctx(), loss).unwrap(),
        &[f(&p)],
        1e-5,
        1e-5,
        "loss",
    );
    // h = 1e-6 in f64: FD error ~1e-10. The kinks of leaky ReLU sit at pre-activations of 0,
    // which random O(1) inputs miss by far more than h. Each gradient element sums at most a
    // few hundred f32 products of O(0.3) terms: ~1e-6 absolute error, checked at 2e-5.
    let want = numeric_grad(&p, 1e-6, f);
    let mut at = 0;
    for (name, d) in ["x"].iter().chain(&names).zip(&grads) {
        let got = plan.read_f32(ctx(), *d).unwrap();
        assert_close(&got, &want[at..at + got.len()], 2e-5, 1e-4, name);
        at += got.len();
    }
    assert_eq!(at, p.len());
}
