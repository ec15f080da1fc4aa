//! Batch norm in whole graphs: BN → leaky ReLU → loss (a weighted mean, and binary
//! cross-entropy) against finite differences of an f64 reference; a train plan updating the
//! running statistics as PyTorch does, and an eval plan over the same store using them.

use kiln::nn::BatchNorm2d;
use kiln::ops::elementwise::Activation;
use kiln::optim::AdamConfig;
use kiln::{DType, Graph, Mode, Optimizer, ParamStore, Plan, PlanSpec, Training, Var};

use super::*;

const SLOPE: f32 = 0.2;
const EPS: f64 = 1e-5;

/// f64 reference of leaky_relu(batch_norm2d(x)) in train mode; also returns the batch mean
/// and biased variance per channel.
fn bn_lrelu(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    c: usize,
    hw: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = x.len() / (c * hw);
    let m = (n * hw) as f64;
    let mut y = vec![0.0; x.len()];
    let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
    for ch in 0..c {
        let idx: Vec<usize> = (0..n)
            .flat_map(|b| (0..hw).map(move |s| (b * c + ch) * hw + s))
            .collect();
        let mu = idx.iter().map(|&i| x[i]).sum::<f64>() / m;
        let v = idx.iter().map(|&i| (x[i] - mu).powi(2)).sum::<f64>() / m;
        for &i in &idx {
            let z = (x[i] - mu) / (v + EPS).sqrt() * gamma[ch] + beta[ch];
            y[i] = if z > 0.0 { z } else { SLOPE as f64 * z };
        }
        mean[ch] = mu;
        var[ch] = v;
    }
    (y, mean, var)
}

struct Net {
    g: Graph,
    x: Var,
    bn: BatchNorm2d,
    y: Var,
}

fn net(shape: [usize; 4]) -> Net {
    let mut g = Graph::new();
    let x = g.input("x", &shape, DType::F32).unwrap();
    let bn = BatchNorm2d::new(&mut g, "bn", shape[1]).unwrap();
    let z = bn.forward(&mut g, x).unwrap();
    let y = g.activation(z, Activation::LeakyRelu(SLOPE)).unwrap();
    Net { g, x, bn, y }
}

fn read(store: &ParamStore, name: &str) -> Vec<f32> {
    store.get(name).unwrap().to_vec_f32(ctx()).unwrap()
}

#[test]
fn bn_leaky_relu_losses_match_finite_differences() {
    let shape = [3, 2, 3, 5];
    let (c, hw, len) = (2, 15, 90);
    let mut rng = Rng::new(61);
    let xs: Vec<f32> = rng.vec(len).iter().map(|v| v * 2.0 + 0.5).collect();
    let w = rng.vec(len);
    let targets: Vec<f32> = (0..len).map(|_| rng.unit() as f32).collect();
    for bce in [false, true] {
        let Net { mut g, x, bn, y } = net(shape);
        let loss = if bce {
            let t = g.constant(&shape, &targets).unwrap();
            g.bce_with_logits(y, t).unwrap()
        } else {
            let wv = g.constant(&shape, &w).unwrap();
            let yw = g.mul(y, wv).unwrap();
            g.mean_all(yw).unwrap()
        };
        let grads = g.grad(loss, &[x, bn.weight, bn.bias]).unwrap();
        let mut store = ParamStore::new(5);
        let mut outputs = vec![loss];
        outputs.extend(&grads);
        let spec = PlanSpec {
            outputs,
            ..Default::default()
        };
        let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
        plan.set_input_f32(ctx(), "x", &xs).unwrap();
        plan.step(ctx()).unwrap();

        let gamma = f64s(&read(&store, "bn.weight"));
        let beta = f64s(&read(&store, "bn.bias"));
        let (wd, td) = (f64s(&w), f64s(&targets));
        let f = |x: &[f64], gm: &[f64], bt: &[f64]| {
            let y = bn_lrelu(x, gm, bt, c, hw).0;
            if bce {
                let l: f64 = y
                    .iter()
                    .zip(&td)
                    .map(|(&v, &t)| v.max(0.0) - v * t + (-v.abs()).exp().ln_1p())
                    .sum();
                l / len as f64
            } else {
                y.iter().zip(&wd).map(|(a, b)| a * b).sum::<f64>() / len as f64
            }
        };
        let xd = f64s(&xs);
        let what = if bce { "bce" } else { "weighted mean" };
        // The loss is a mean of O(1) terms: f32 leaves ~1e-6 relative.
        let got = plan.read_f32(ctx(), loss).unwrap();
        assert_close(
            &got,
            &[f(&xd, &gamma, &beta)],
            1e-5,
            1e-5,
            &format!("{what} loss"),
        );
        // Gradients are O(1/len) per element of x and O(1) sums for gamma and beta; f32 errors
        // are ~M·2⁻²⁴ ≈ 3e-6 relative to those sums (M = 45), FD (h = 1e-6) ~1e-10: atol 2e-6
        // for dx (elements ~1e-2) and 2e-5 for the per-channel sums.
        let want_dx = numeric_grad(&xd, 1e-6, |v| f(v, &gamma, &beta));
        let want_dg = numeric_grad(&gamma, 1e-6, |v| f(&xd, v, &beta));
        let want_db = numeric_grad(&beta, 1e-6, |v| f(&xd, &gamma, v));
        let read_grad = |i: usize| plan.read_f32(ctx(), grads[i]).unwrap();
        assert_close(&read_grad(0), &want_dx, 2e-6, 1e-4, &format!("{what} dx"));
        assert_close(
            &read_grad(1),
            &want_dg,
            2e-5,
            1e-4,
            &format!("{what} dgamma"),
        );
        assert_close(
            &read_grad(2),
            &want_db,
            2e-5,
            1e-4,
            &format!("{what} dbeta"),
        );
    }
}

#[test]
fn train_plan_updates_running_stats_and_eval_plan_uses_them() {
    let shape = [4, 3, 5, 3];
    let (c, hw, len) = (3, 15, 180);
    let Net { mut g, y, .. } = net(shape);
    let loss = g.mean_all(y).unwrap();
    let mut store = ParamStore::new(9);
    // Training with params = None must leave the running statistics to the batch-norm node.
    let train_spec = PlanSpec {
        outputs: vec![y],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-2)))),
        mode: Mode::Train,
        ..Default::default()
    };
    let mut train = Plan::compile(ctx(), &g, &mut store, &train_spec).unwrap();
    let eval_spec = PlanSpec {
        outputs: vec![y],
        mode: Mode::Eval,
        ..Default::default()
    };
    let mut eval = Plan::compile(ctx(), &g, &mut store, &eval_spec).unwrap();
    assert_eq!(read(&store, "bn.running_mean"), vec![0.0; c]);
    assert_eq!(read(&store, "bn.running_var"), vec![1.0; c]);

    let mut rng = Rng::new(62);
    let (mut want_m, mut want_v) = (vec![0.0f64; c], vec![1.0f64; c]);
    let m = (shape[0] * hw) as f64;
    for _ in 0..2 {
        let xs: Vec<f32> = rng.vec(len).iter().map(|v| v * 3.0 + 1.0).collect();
        let gamma = f64s(&read(&store, "bn.weight"));
        let beta = f64s(&read(&store, "bn.bias"));
        let (want_y, mean, var) = bn_lrelu(&f64s(&xs), &gamma, &beta, c, hw);
        for ch in 0..c {
            want_m[ch] = 0.9 * want_m[ch] + 0.1 * mean[ch];
            want_v[ch] = 0.9 * want_v[ch] + 0.1 * var[ch] * m / (m - 1.0);
        }
        train.set_input_f32(ctx(), "x", &xs).unwrap();
        train.step(ctx()).unwrap();
        // The forward ran with the parameters before this step's update.
        let got = train.read_f32(ctx(), y).unwrap();
        assert_close(
            &got,
            &want_y,
            1e-5,
            1e-5,
            "train-mode y uses batch statistics",
        );
    }
    // M = 60 terms of O(1) per statistic: ~60·2⁻²⁴ ≈ 4e-6 relative; 1e-5.
    let rm = read(&store, "bn.running_mean");
    let rv = read(&store, "bn.running_var");
    assert_close(&rm, &want_m, 1e-5, 1e-5, "running_mean after two steps");
    assert_close(&rv, &want_v, 1e-5, 1e-5, "running_var after two steps");
    // The optimizer trained weight and bias only.
    assert_ne!(read(&store, "bn.bias"), vec![0.0; c], "bias was trained");

    // Eval: normalise with the stored running statistics; they do not change.
    let xs: Vec<f32> = rng.vec(len).iter().map(|v| v * 3.0 + 1.0).collect();
    eval.set_input_f32(ctx(), "x", &xs).unwrap();
    eval.step(ctx()).unwrap();
    let gamma = f64s(&read(&store, "bn.weight"));
    let beta = f64s(&read(&store, "bn.bias"));
    let want: Vec<f64> = (0..len)
        .map(|i| {
            let ch = (i / hw) % c;
            let z = (xs[i] as f64 - rm[ch] as f64) / (rv[ch] as f64 + EPS).sqrt() * gamma[ch]
                + beta[ch];
            if z > 0.0 {
                z
            } else {
                SLOPE as f64 * z
            }
        })
        .collect();
    assert_close(
        &eval.read_f32(ctx(), y).unwrap(),
        &want,
        1e-5,
        1e-5,
        "eval-mode y",
    );
    assert_eq!(
        read(&store, "bn.running_mean"),
        rm,
        "eval left running_mean alone"
    );
    assert_eq!(
        read(&store, "bn.running_var"),
        rv,
        "eval left running_var alone"
    );
}

#[test]
fn running_stats_are_not_trainable() {
    let Net { mut g, y, .. } = net([2, 3, 2, 2]);
    let loss = g.mean_all(y).unwrap();
    let mut training = Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-2)));
    training.params = Some(vec!["bn.weight".into(), "bn.running_mean".into()]);
    let spec = PlanSpec {
        training: Some(training.clone()),
        ..Default::default()
    };
    let err = Plan::compile(ctx(), &g, &mut ParamStore::new(1), &spec)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bn.running_mean") && err.contains("batch_norm2d"),
        "{err}"
    );
    training.params = Some(BatchNorm2d::trainable_names("bn"));
    let spec = PlanSpec {
        training: Some(training),
        ..Default::default()
    };
    let mut store = ParamStore::new(1);
    Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    // DCGAN's initialisation: weight N(1, 0.02²), bias 0, running mean 0, running var 1.
    let w = read(&store, "bn.weight");
    assert!(
        w.iter().all(|v| (v - 1.0).abs() < 0.1) && w.iter().any(|&v| v != 1.0),
        "{w:?}"
    );
    assert_eq!(read(&store, "bn.bias"), vec![0.0; 3]);
    assert_eq!(read(&store, "bn.running_mean"), vec![0.0; 3]);
    assert_eq!(read(&store, "bn.running_var"), vec![1.0; 3]);
}

#[test]
fn eval_mode_gradient_treats_running_stats_as_constants() {
    // In an eval plan the backward node lowers to dx = γ·rstd·dy (no batch-statistics terms).
    let shape = [2, 3, 1, 5];
    let (c, hw, len) = (3, 5, 30);
    let Net { mut g, x, bn, y } = net(shape);
    let mut rng = Rng::new(63);
    let w = rng.vec(len);
    let wv = g.constant(&shape, &w).unwrap();
    let yw = g.mul(y, wv).unwrap();
    let loss = g.mean_all(yw).unwrap();
    let grads = g.grad(loss, &[x, bn.weight]).unwrap();
    let mut store = ParamStore::new(4);
    let rm: Vec<f32> = rng.vec(c);
    let rv: Vec<f32> = rng.vec(c).iter().map(|v| v * 0.5 + 1.0).collect();
    store.write(ctx(), "bn.running_mean", &[c], &rm).unwrap();
    store.write(ctx(), "bn.running_var", &[c], &rv).unwrap();
    let mut outputs = vec![loss];
    outputs.extend(&grads);
    let spec = PlanSpec {
        outputs,
        mode: Mode::Eval,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let xs: Vec<f32> = rng.vec(len).iter().map(|v| v * 2.0).collect();
    plan.set_input_f32(ctx(), "x", &xs).unwrap();
    plan.step(ctx()).unwrap();
    let gamma = f64s(&read(&store, "bn.weight"));
    let beta = f64s(&read(&store, "bn.bias"));
    let (rmd, rvd, wd) = (f64s(&rm), f64s(&rv), f64s(&w));
    let f = |x: &[f64], gm: &[f64]| {
        (0..len)
            .map(|i| {
                let ch = (i / hw) % c;
                let z = (x[i] - rmd[ch]) / (rvd[ch] + EPS).sqrt() * gm[ch] + beta[ch];
                let a = if z > 0.0 { z } else { SLOPE as f64 * z };
                a * wd[i]
            })
            .sum::<f64>()
            / len as f64
    };
    let xd = f64s(&xs);
    // A few roundings per element of O(1/len) gradients, sums of 10 terms for gamma: 1e-6.
    let dx = plan.read_f32(ctx(), grads[0]).unwrap();
    let dg = plan.read_f32(ctx(), grads[1]).unwrap();
    assert_close(
        &dx,
        &numeric_grad(&xd, 1e-6, |v| f(v, &gamma)),
        1e-6,
        1e-4,
        "eval dx",
    );
    assert_close(
        &dg,
        &numeric_grad(&gamma, 1e-6, |v| f(&xd, v)),
        1e-6,
        1e-4,
        "eval dgamma",
    );
}
