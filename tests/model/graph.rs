//! The graph machinery on an MLP: gradients against finite differences of an f64 reference,
//! learning XOR, memory planning, determinism, and the errors of bad input.

use kiln::graph::Meta;
use kiln::ops::elementwise::Activation;
use kiln::optim::AdamConfig;
use kiln::{DType, Error, Graph, Init, Optimizer, ParamStore, Plan, PlanSpec, Training};

use super::*;

/// `y = tanh(x·W1 + b1)·W2 + b2`, loss = mean((y - t)²), in f64.
fn mlp_ref(x: &[f64], t: &[f64], p: &[f64], n: usize, i: usize, h: usize, o: usize) -> f64 {
    let (w1, rest) = p.split_at(i * h);
    let (b1, rest) = rest.split_at(h);
    let (w2, b2) = rest.split_at(h * o);
    let mut loss = 0.0;
    for r in 0..n {
        let hid: Vec<f64> = (0..h)
            .map(|c| (b1[c] + (0..i).map(|k| x[r * i + k] * w1[k * h + c]).sum::<f64>()).tanh())
            .collect();
        for c in 0..o {
            let y = b2[c] + (0..h).map(|k| hid[k] * w2[k * o + c]).sum::<f64>();
            loss += (y - t[r * o + c]).powi(2);
        }
    }
    loss / (n * o) as f64
}

/// The same MLP as a graph; returns (graph, loss, [w1, b1, w2, b2]).
fn mlp_graph(n: usize, i: usize, h: usize, o: usize) -> (Graph, kiln::Var, Vec<kiln::Var>) {
    let mut g = Graph::new();
    let x = g.input("x", &[n, i], DType::F32).unwrap();
    let t = g.input("t", &[n, o], DType::F32).unwrap();
    let w1 = g.param("w1", &[i, h], Init::XavierUniform).unwrap();
    let b1 = g.param("b1", &[h], Init::normal(0.1)).unwrap();
    let w2 = g.param("w2", &[h, o], Init::XavierUniform).unwrap();
    let b2 = g.param("b2", &[o], Init::normal(0.1)).unwrap();
    let z = g.matmul_with(x, w1, Some(b1), Default::default()).unwrap();
    let hid = g.activation(z, Activation::Tanh).unwrap();
    let y = g.matmul(hid, w2).unwrap();
    let y = g.add_row(y, b2).unwrap();
    let neg_t = g.scale(t, -1.0, 0.0).unwrap();
    let diff = g.add(y, neg_t).unwrap();
    let sq = g.mul(diff, diff).unwrap();
    let loss = g.mean_all(sq).unwrap();
    (g, loss, vec![w1, b1, w2, b2])
}

#[test]
fn mlp_gradients_match_finite_differences() {
    let (n, i, h, o) = (7, 3, 5, 2);
    let (mut g, loss, params) = mlp_graph(n, i, h, o);
    let grads = g.grad(loss, &params).unwrap();
    let mut store = ParamStore::new(7);
    let mut outputs = vec![loss];
    outputs.extend(&grads);
    let spec = PlanSpec {
        outputs,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let mut rng = Rng::new(1);
    let x = rng.vec(n * i);
    let t = rng.vec(n * o);
    plan.set_input_f32(ctx(), "x", &x).unwrap();
    plan.set_input_f32(ctx(), "t", &t).unwrap();
    plan.step(ctx()).unwrap();

    let names = ["w1", "b1", "w2", "b2"];
    let p: Vec<f64> = names
        .iter()
        .flat_map(|n| f64s(&store.get(n).unwrap().to_vec_f32(ctx()).unwrap()))
        .collect();
    let (xd, td) = (f64s(&x), f64s(&t));
    let f = |p: &[f64]| mlp_ref(&xd, &td, p, n, i, h, o);
    // The loss is O(1) and sums ~N·O·H products of O(1) terms: f32 rounding leaves ~1e-6
    // relative; 1e-5 absolute is ten times that.
    let got_loss = plan.read_f32(ctx(), loss).unwrap();
    assert_close(&got_loss, &[f(&p)], 1e-5, 1e-5, "loss");
    // h = 1e-6 in f64: truncation O(h²) and rounding O(1e-16/h) are both ~1e-10, far below
    // the f32 gradients' own error (~1e-6 relative on O(1) sums), hence atol 2e-5.
    let want = numeric_grad(&p, 1e-6, f);
    let mut at = 0;
    for (name, d) in names.iter().zip(&grads) {
        let got = plan.read_f32(ctx(), *d).unwrap();
        assert_close(&got, &want[at..at + got.len()], 2e-5, 1e-4, name);
        at += got.len();
    }
}

#[test]
fn two_layer_mlp_learns_xor() {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 2], DType::F32).unwrap();
    let t = g.input("t", &[4], DType::U32).unwrap();
    let w1 = g.param("w1", &[2, 8], Init::XavierUniform).unwrap();
    let b1 = g.param("b1", &[8], Init::Zeros).unwrap();
    let w2 = g.param("w2", &[8, 2], Init::XavierUniform).unwrap();
    let b2 = g.param("b2", &[2], Init::Zeros).unwrap();
    let hid = g.matmul_with(x, w1, Some(b1), Default::default()).unwrap();
    let hid = g.activation(hid, Activation::Tanh).unwrap();
    let logits = g
        .matmul_with(hid, w2, Some(b2), Default::default())
        .unwrap();
    let loss = g.cross_entropy(logits, t, Default::default()).unwrap();
    let mut store = ParamStore::new(3);
    let spec = PlanSpec {
        outputs: vec![logits],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(0.05)))),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    plan.set_input_f32(ctx(), "x", &[0., 0., 0., 1., 1., 0., 1., 1.])
        .unwrap();
    plan.set_input_u32(ctx(), "t", &[0, 1, 1, 0]).unwrap();
    for _ in 0..300 {
        plan.step(ctx()).unwrap();
    }
    let l = plan.read_f32(ctx(), loss).unwrap()[0];
    let logits = plan.read_f32(ctx(), logits).unwrap();
    let predicted: Vec<u32> = logits.chunks(2).map(|r| (r[1] > r[0]) as u32).collect();
    assert_eq!(predicted, [0, 1, 1, 0], "XOR after 300 Adam steps");
    // A separable 4-point problem: once it is solved the loss keeps falling towards 0.
    assert!(l < 0.05, "XOR loss {l} after 300 steps");
}

#[test]
fn deep_mlp_plan_uses_under_half_the_naive_memory() {
    let (batch, width, depth) = (64, 128, 12);
    let mut g = Graph::new();
    let mut h = g.input("x", &[batch, width], DType::F32).unwrap();
    let t = g.input("t", &[batch], DType::U32).unwrap();
    for l in 0..depth {
        let w = g
            .param(&format!("w{l}"), &[width, width], Init::XavierUniform)
            .unwrap();
        let b = g.param(&format!("b{l}"), &[width], Init::Zeros).unwrap();
        h = g.matmul_with(h, w, Some(b), Default::default()).unwrap();
        h = g.relu(h).unwrap();
    }
    let loss = g.cross_entropy(h, t, Default::default()).unwrap();
    let mut store = ParamStore::new(1);
    let spec = PlanSpec {
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-3)))),
        ..Default::default()
    };
    let plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let s = plan.stats();
    // The backward needs every layer's ReLU output (12 × 32 KiB) and the input; everything else
    // (pre-activations, activation gradients, weight gradients, consumed by their update at
    // once) lives briefly. Measured: 0.89 MB of 2.40 MB naive, 37%.
    assert!(
        (s.peak_bytes as f64) < 0.4 * s.naive_bytes as f64,
        "peak {} bytes vs naive {} bytes",
        s.peak_bytes,
        s.naive_bytes
    );
}

#[test]
fn same_seed_same_data_gives_bitwise_identical_losses() {
    let run = || {
        let (n, i, h, o) = (16, 4, 8, 3);
        let (g, loss, _) = mlp_graph(n, i, h, o);
        let mut store = ParamStore::new(11);
        let spec = PlanSpec {
            watch: vec![loss],
            training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-2)))),
            ..Default::default()
        };
        let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
        let mut rng = Rng::new(5);
        let x = rng.vec(n * i);
        let t = rng.vec(n * o);
        plan.set_input_f32(ctx(), "x", &x).unwrap();
        plan.set_input_f32(ctx(), "t", &t).unwrap();
        for _ in 0..20 {
            plan.step(ctx()).unwrap();
        }
        let readings = plan.flush_readings(ctx()).unwrap();
        assert_eq!(readings.len(), 20, "one reading per step");
        readings
            .iter()
            .map(|r| r.values[0][0].to_bits())
            .collect::<Vec<u32>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b, "losses differ between two identical runs");
    assert!(
        f32::from_bits(a[19]) < f32::from_bits(a[0]),
        "the loss should fall over 20 steps"
    );
}

#[test]
fn bad_input_gets_clear_errors() {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 3], DType::F32).unwrap();
    let w = g.param("w", &[5, 2], Init::XavierUniform).unwrap();
    let line = line!() + 1;
    let e = g.matmul(x, w).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Shape { op: "matmul", .. }), "{msg}");
    assert!(msg.contains("[4, 3]") && msg.contains("[5, 2]"), "{msg}");
    assert!(
        msg.contains(&format!("graph.rs:{line}")),
        "call site missing: {msg}"
    );

    let w = g.param("w_ok", &[3, 2], Init::XavierUniform).unwrap();
    let y = g.matmul(x, w).unwrap();
    assert_eq!(g.meta(y).unwrap(), &Meta::f32(&[4, 2]));
    let loss = g.mean_all(y).unwrap();
    let mut store = ParamStore::new(0);
    let spec = PlanSpec {
        outputs: vec![loss],
        ..Default::default()
    };
    let plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let e = plan.set_input_f32(ctx(), "z", &[0.0; 12]).unwrap_err();
    assert!(
        e.to_string().contains("'z'") && e.to_string().contains("x"),
        "{e}"
    );
    let e = plan.set_input_f32(ctx(), "x", &[0.0; 11]).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::Length {
                expected: 12,
                got: 11,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("'x'") && msg.contains("[4, 3]"), "{msg}");
    let e = g.get("nope").unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn detach_stops_gradients_and_unused_branches_are_not_planned() {
    let mut g = Graph::new();
    let x = g.input("x", &[3, 2], DType::F32).unwrap();
    let w = g.param("w", &[2, 2], Init::XavierUniform).unwrap();
    let y = g.matmul(x, w).unwrap();
    let frozen = g.detach(y).unwrap();
    let sq = g.mul(frozen, y).unwrap();
    let loss = g.sum_all(sq).unwrap();
    // d/dw Σ stop(y)·y = xᵀ·stop(y): half of what Σ y² would give.
    let dw = g.grad(loss, &[w]).unwrap()[0];
    let only_frozen = g.sum_all(frozen).unwrap();
    let e = g.clone().grad(only_frozen, &[w]).unwrap_err();
    assert!(
        e.to_string().contains("does not depend on parameter 'w'"),
        "{e}"
    );

    let mut store = ParamStore::new(3);
    let spec = PlanSpec {
        outputs: vec![dw],
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let xs = [0.5f32, -1.0, 2.0, 0.25, -0.75, 1.5];
    plan.set_input_f32(ctx(), "x", &xs).unwrap();
    plan.step(ctx()).unwrap();
    let wv = f64s(&store.get("w").unwrap().to_vec_f32(ctx()).unwrap());
    let mut want = vec![0.0f64; 4];
    for r in 0..3 {
        for c in 0..2 {
            let yv: f64 = (0..2).map(|k| xs[r * 2 + k] as f64 * wv[k * 2 + c]).sum();
            for k in 0..2 {
                want[k * 2 + c] += xs[r * 2 + k] as f64 * yv;
            }
        }
    }
    // Three-term sums of O(1) products: 1e-5 covers f32 rounding many times over.
    assert_close(
        &plan.read_f32(ctx(), dw).unwrap(),
        &want,
        1e-5,
        1e-5,
        "dw through detach",
    );

    // Nodes no requested value needs (the loss itself, `only_frozen`, a branch added now) are
    // dropped: recompiling with one more unused branch plans the same dispatches.
    g.sum_all(y).unwrap();
    let again = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    assert_eq!(again.stats().dispatches, plan.stats().dispatches);
}
