//! Plans: no wgpu object is created per step, recording into a caller's encoder matches a
//! self-submitted step, several plans share parameters, an inference plan with another batch
//! size reuses trained weights, a regression reaches its stated loss, schedules and initialisers.

use kiln::ops::elementwise::Activation;
use kiln::optim::{AdamConfig, SgdConfig};
use kiln::{
    Context, DType, Graph, Init, Mode, Optimizer, ParamStore, Plan, PlanSpec, Schedule, Training,
    Var,
};

use super::*;

/// A small classifier over `[batch, 4]` inputs into 3 classes; params named with `prefix`.
fn classifier(g: &mut Graph, prefix: &str, batch: usize) -> (Var, Var) {
    let x = g.input("x", &[batch, 4], DType::F32).unwrap();
    let w1 = g
        .param(&format!("{prefix}w1"), &[4, 16], Init::XavierUniform)
        .unwrap();
    let b1 = g.param(&format!("{prefix}b1"), &[16], Init::Zeros).unwrap();
    let w2 = g
        .param(&format!("{prefix}w2"), &[16, 3], Init::XavierUniform)
        .unwrap();
    let h = g.matmul_with(x, w1, Some(b1), Default::default()).unwrap();
    let h = g.activation(h, Activation::GeluErf).unwrap();
    let logits = g.matmul(h, w2).unwrap();
    (x, logits)
}

fn train_plan(batch: usize, store: &mut ParamStore) -> (Plan, Var, Var) {
    let mut g = Graph::new();
    let (_, logits) = classifier(&mut g, "", batch);
    let t = g.input("t", &[batch], DType::U32).unwrap();
    let loss = g.cross_entropy(logits, t, Default::default()).unwrap();
    let spec = PlanSpec {
        outputs: vec![logits, loss],
        watch: vec![loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-2)))),
        ..Default::default()
    };
    (
        Plan::compile(ctx(), &g, store, &spec).unwrap(),
        logits,
        loss,
    )
}

fn feed(plan: &Plan, batch: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let x = rng.vec(batch * 4);
    let t: Vec<u32> = (0..batch).map(|_| rng.below(3) as u32).collect();
    plan.set_input_f32(ctx(), "x", &x).unwrap();
    plan.set_input_u32(ctx(), "t", &t).unwrap();
}

#[test]
fn a_planned_step_creates_no_wgpu_objects() {
    // A context of its own: the counters are per context, and other tests run in parallel.
    let own = Context::new().unwrap();
    let mut g = Graph::new();
    let (_, logits) = classifier(&mut g, "", 8);
    let t = g.input("t", &[8], DType::U32).unwrap();
    let loss = g.cross_entropy(logits, t, Default::default()).unwrap();
    let spec = PlanSpec {
        watch: vec![loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(1e-2)))),
        ..Default::default()
    };
    let mut store = ParamStore::new(1);
    let mut plan = Plan::compile(&own, &g, &mut store, &spec).unwrap();
    plan.set_input_f32(&own, "x", &Rng::new(1).vec(32)).unwrap();
    plan.set_input_u32(&own, "t", &[0, 1, 2, 0, 1, 2, 0, 1])
        .unwrap();
    plan.step(&own).unwrap();
    let (objects, pipelines) = (own.objects_created(), own.pipelines_created());
    for _ in 0..5 {
        plan.step(&own).unwrap();
        plan.readings(&own).unwrap();
    }
    plan.flush_readings(&own).unwrap();
    assert_eq!(
        own.objects_created(),
        objects,
        "buffers or bind groups created per step"
    );
    assert_eq!(
        own.pipelines_created(),
        pipelines,
        "pipelines created per step"
    );
    assert!(plan.stats().dispatches > 0);
}

#[test]
fn recording_into_a_host_encoder_matches_a_submitted_step() {
    let run = |host: bool| {
        let mut store = ParamStore::new(2);
        let (mut plan, logits, loss) = train_plan(8, &mut store);
        feed(&plan, 8, 2);
        for _ in 0..3 {
            if host {
                let mut encoder = ctx().device().create_command_encoder(&Default::default());
                plan.record(ctx(), &mut encoder).unwrap();
                ctx().queue().submit([encoder.finish()]);
            } else {
                plan.step(ctx()).unwrap();
            }
        }
        let mut out = plan.read_f32(ctx(), logits).unwrap();
        out.extend(plan.read_f32(ctx(), loss).unwrap());
        out.extend(store.get("w1").unwrap().to_vec_f32(ctx()).unwrap());
        out.iter().map(|x| x.to_bits()).collect::<Vec<u32>>()
    };
    assert_eq!(run(true), run(false));
}

/// A plan training with `ema_decay` keeps `ema.<name>` equal to the moving average of the
/// parameter's values after each step, with the warm-up, starting from the initial weights.
#[test]
fn a_plan_keeps_the_moving_average_of_its_weights() {
    let mut g = Graph::new();
    let x = g.input("x", &[5, 3], DType::F32).unwrap();
    let w = g.param("w", &[3, 2], Init::XavierUniform).unwrap();
    let y = g.matmul(x, w).unwrap();
    let y2 = g.mul(y, y).unwrap();
    let loss = g.mean_all(y2).unwrap();
    let spec = PlanSpec {
        training: Some(Training {
            ema_decay: Some(0.5),
            ..Training::new(loss, Optimizer::Sgd(SgdConfig::new(0.2, 0.0)))
        }),
        ..Default::default()
    };
    let mut store = ParamStore::new(8);
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    plan.set_input_f32(ctx(), "x", &Rng::new(2).vec(15))
        .unwrap();
    let read = |name: &str| store.get(name).unwrap().to_vec_f32(ctx()).unwrap();
    assert_eq!(
        read("ema.w"),
        read("w"),
        "the average starts at the weights"
    );
    let mut want: Vec<f64> = read("w").iter().map(|&v| v as f64).collect();
    for step in 1..=12u64 {
        plan.step(ctx()).unwrap();
        let d = (0.5f64).min((1.0 + step as f64) / (10.0 + step as f64));
        for (a, &p) in want.iter_mut().zip(&read("w")) {
            *a = d * *a + (1.0 - d) * p as f64;
        }
    }
    assert_ne!(read("ema.w"), read("w"), "the average is not the weights");
    // Twelve steps of a·d + p·(1-d), each rounded in f32: well under 1e-6 for O(1) weights.
    assert_close(&read("ema.w"), &want, 1e-6, 1e-6, "ema.w");
    let bad = PlanSpec {
        training: Some(Training {
            ema_decay: Some(1.0),
            ..Training::new(loss, Optimizer::Sgd(SgdConfig::new(0.2, 0.0)))
        }),
        ..Default::default()
    };
    let msg = Plan::compile(ctx(), &g, &mut store, &bad)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ema_decay") && msg.contains('1'), "{msg}");
}

/// Two plans over shared weights, each updating only its own: the GAN pattern.
#[test]
fn two_plans_share_parameters_and_update_only_their_own() {
    let mut g = Graph::new();
    let z = g.input("z", &[6, 4], DType::F32).unwrap();
    let gw = g.param("gen.w", &[4, 4], Init::XavierUniform).unwrap();
    let dw = g.param("disc.w", &[4, 1], Init::XavierUniform).unwrap();
    let fake = g.matmul(z, gw).unwrap();
    let fake = g.activation(fake, Activation::Tanh).unwrap();
    let score = g.matmul(fake, dw).unwrap();
    let d_loss = g.mean_all(score).unwrap();
    let g_loss = g.scale(d_loss, -1.0, 0.0).unwrap();
    let sgd = Optimizer::Sgd(SgdConfig::new(0.1, 0.0));
    let spec = |loss: Var, names: &[&str]| PlanSpec {
        outputs: vec![loss],
        training: Some(Training {
            params: Some(names.iter().map(|s| s.to_string()).collect()),
            ..Training::new(loss, sgd)
        }),
        ..Default::default()
    };
    let mut store = ParamStore::new(3);
    let mut d_plan = Plan::compile(ctx(), &g, &mut store, &spec(d_loss, &["disc.w"])).unwrap();
    let mut g_plan = Plan::compile(ctx(), &g, &mut store, &spec(g_loss, &["gen.w"])).unwrap();
    let zs = Rng::new(4).vec(24);
    d_plan.set_input_f32(ctx(), "z", &zs).unwrap();
    g_plan.set_input_f32(ctx(), "z", &zs).unwrap();
    let read = |name: &str| store.get(name).unwrap().to_vec_f32(ctx()).unwrap();
    let (g0, d0) = (read("gen.w"), read("disc.w"));

    d_plan.step(ctx()).unwrap();
    let (g1, d1) = (read("gen.w"), read("disc.w"));
    assert_eq!(g0, g1, "the discriminator step changed the generator");
    assert_ne!(
        d0, d1,
        "the discriminator step did not change the discriminator"
    );

    g_plan.step(ctx()).unwrap();
    let (g2, d2) = (read("gen.w"), read("disc.w"));
    assert_eq!(d1, d2, "the generator step changed the discriminator");
    assert_ne!(g1, g2, "the generator step did not change the generator");
    // The generator plan saw the discriminator's update: its loss is -mean(tanh(z·G1)·D1).
    let mut want = 0.0f64;
    for r in 0..6 {
        for c in 0..4 {
            let h: f64 = (0..4)
                .map(|k| zs[r * 4 + k] as f64 * g1[k * 4 + c] as f64)
                .sum();
            want -= h.tanh() * d1[c] as f64;
        }
    }
    want /= 6.0;
    let got = g_plan.read_f32(ctx(), g_loss).unwrap();
    // Sums of 4 products of O(1) terms, then a mean: f32 leaves ~1e-7; 1e-5 is generous.
    assert_close(
        &got,
        &[want],
        1e-5,
        1e-5,
        "generator loss over the shared weights",
    );
}

#[test]
fn an_inference_plan_with_another_batch_size_reuses_trained_weights() {
    let mut store = ParamStore::new(5);
    let (mut plan, _, _) = train_plan(8, &mut store);
    feed(&plan, 8, 5);
    for _ in 0..10 {
        plan.step(ctx()).unwrap();
    }
    let mut g = Graph::new();
    let (_, single) = classifier(&mut g, "", 1);
    let spec = PlanSpec {
        outputs: vec![single],
        mode: Mode::Eval,
        ..Default::default()
    };
    let objects = ctx().objects_created();
    let params_before = store.len();
    let mut infer = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    assert_eq!(
        store.len(),
        params_before,
        "the eval plan made new parameters"
    );
    assert!(ctx().objects_created() > objects);
    let mut rng = Rng::new(5);
    let x = rng.vec(8 * 4);
    // The reference uses the weights as training left them (the training plan's own logits
    // predate its last update).
    let w1 = f64s(&store.get("w1").unwrap().to_vec_f32(ctx()).unwrap());
    let b1 = f64s(&store.get("b1").unwrap().to_vec_f32(ctx()).unwrap());
    let w2 = f64s(&store.get("w2").unwrap().to_vec_f32(ctx()).unwrap());
    for row in 0..3 {
        infer
            .set_input_f32(ctx(), "x", &x[row * 4..row * 4 + 4])
            .unwrap();
        infer.step(ctx()).unwrap();
        let got = infer.read_f32(ctx(), single).unwrap();
        let want: Vec<f64> = (0..3)
            .map(|c| {
                (0..16)
                    .map(|j| {
                        let z = b1[j]
                            + (0..4)
                                .map(|k| x[row * 4 + k] as f64 * w1[k * 16 + j])
                                .sum::<f64>();
                        let gelu = 0.5 * z * (1.0 + erf(z / std::f64::consts::SQRT_2));
                        gelu * w2[j * 3 + c]
                    })
                    .sum()
            })
            .collect();
        // 16-term sums of O(1) products and GELU's 1.2e-6 relative error: 2e-5 absolute.
        assert_close(&got, &want, 2e-5, 1e-4, "eval logits");
    }
}

/// erf by its Maclaurin series (|z| < 3 here), accurate to f64 rounding.
fn erf(z: f64) -> f64 {
    let mut term = z;
    let mut sum = z;
    for n in 1..200 {
        term *= -z * z / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn linear_regression_reaches_its_stated_loss() {
    // y = 3 x0 - 2 x1 + 0.5 x2 + 1, exactly representable by one linear layer: Adam at 0.05 for
    // 300 full-batch steps drives the mean squared error below 1e-4.
    let n = 64;
    let mut g = Graph::new();
    let x = g.input("x", &[n, 3], DType::F32).unwrap();
    let y = g.input("y", &[n, 1], DType::F32).unwrap();
    let w = g.param("w", &[3, 1], Init::Zeros).unwrap();
    let b = g.param("b", &[1], Init::Zeros).unwrap();
    let pred = g.matmul_with(x, w, Some(b), Default::default()).unwrap();
    let neg = g.scale(y, -1.0, 0.0).unwrap();
    let diff = g.add(pred, neg).unwrap();
    let sq = g.mul(diff, diff).unwrap();
    let loss = g.mean_all(sq).unwrap();
    let mut store = ParamStore::new(0);
    let spec = PlanSpec {
        outputs: vec![loss],
        training: Some(Training {
            schedule: Schedule::WarmupCosine {
                warmup: 10,
                total: 300,
                min_factor: 0.01,
            },
            ..Training::new(loss, Optimizer::Adam(AdamConfig::adam(0.05)))
        }),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let mut rng = Rng::new(9);
    let xs = rng.vec(n * 3);
    let ys: Vec<f32> = xs
        .chunks(3)
        .map(|r| 3.0 * r[0] - 2.0 * r[1] + 0.5 * r[2] + 1.0)
        .collect();
    plan.set_input_f32(ctx(), "x", &xs).unwrap();
    plan.set_input_f32(ctx(), "y", &ys).unwrap();
    for _ in 0..300 {
        plan.step(ctx()).unwrap();
    }
    let l = plan.read_f32(ctx(), loss).unwrap()[0];
    assert!(l < 1e-4, "regression MSE {l} after 300 steps");
    let w = store.get("w").unwrap().to_vec_f32(ctx()).unwrap();
    assert_close(&w, &[3.0, -2.0, 0.5], 2e-2, 0.0, "fitted weights");
}

#[test]
fn schedules_follow_their_formulas() {
    let (peak, noam) = Schedule::noam(512, 4000);
    // "Attention Is All You Need": lr = 512^-0.5 · min(t^-0.5, t · 4000^-1.5).
    for t in [1u64, 100, 4000, 10_000] {
        let want = 512f64.powf(-0.5) * (t as f64).powf(-0.5).min(t as f64 * 4000f64.powf(-1.5));
        let got = peak as f64 * noam.factor(t) as f64;
        assert!(
            (got - want).abs() <= 1e-6 * want,
            "noam at {t}: {got} vs {want}"
        );
    }
    let cos = Schedule::WarmupCosine {
        warmup: 10,
        total: 110,
        min_factor: 0.1,
    };
    assert!((cos.factor(5) - 0.5).abs() < 1e-6);
    assert!((cos.factor(10) - 1.0).abs() < 1e-6);
    assert!((cos.factor(60) - 0.55).abs() < 1e-6, "{}", cos.factor(60));
    assert!((cos.factor(110) - 0.1).abs() < 1e-6);
    assert!((cos.factor(500) - 0.1).abs() < 1e-6);
    assert_eq!(Schedule::Constant.factor(7), 1.0);
}

#[test]
fn initialisers_have_their_stated_distributions() {
    let n = 200_000usize;
    let mean_std = |v: &[f32]| {
        let m = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / v.len() as f64;
        (m, var.sqrt())
    };
    let normal = Init::normal(0.02).sample(&[n], 1);
    let (m, s) = mean_std(&normal);
    // Standard errors: mean 0.02/√n ≈ 4.5e-5, std ≈ 0.02/√(2n) ≈ 3.2e-5; allow 5 of them.
    assert!(
        m.abs() < 2.3e-4 && (s - 0.02).abs() < 1.6e-4,
        "normal: {m} {s}"
    );
    let xavier = Init::XavierUniform.sample(&[400, 500], 2);
    let bound = (6.0f64 / 900.0).sqrt();
    assert!(xavier.iter().all(|&x| (x as f64).abs() <= bound));
    let (_, s) = mean_std(&xavier);
    // U(-a, a) has std a/√3.
    assert!((s - bound / 3f64.sqrt()).abs() < 1e-3, "xavier std {s}");
    assert_ne!(
        Init::normal(1.0).sample(&[8], 1),
        Init::normal(1.0).sample(&[8], 2)
    );
    assert_eq!(
        Init::normal(1.0).sample(&[8], 1),
        Init::normal(1.0).sample(&[8], 1)
    );
}

#[test]
fn clipping_scales_the_update_to_the_global_norm() {
    // loss = Σ x·W + Σ b·k: dW[i,j] = Σ_r x[r,i], db = k. With SGD at lr 1 and no momentum the
    // step is -coef·g, so the change of the parameters has exactly the clipped norm.
    let mut g = Graph::new();
    let x = g.input("x", &[5, 3], DType::F32).unwrap();
    let w = g.param("w", &[3, 2], Init::XavierUniform).unwrap();
    let b = g.param("b", &[4], Init::Zeros).unwrap();
    let k = g.constant(&[4], &[3.0, -4.0, 12.0, 0.5]).unwrap();
    let y = g.matmul(x, w).unwrap();
    let s1 = g.sum_all(y).unwrap();
    let bk = g.mul(b, k).unwrap();
    let s2 = g.sum_all(bk).unwrap();
    let loss = g.add(s1, s2).unwrap();
    let mut store = ParamStore::new(1);
    let max_norm = 2.0f32;
    let spec = PlanSpec {
        training: Some(Training {
            clip_norm: Some(max_norm),
            ..Training::new(loss, Optimizer::Sgd(SgdConfig::new(1.0, 0.0)))
        }),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, &mut store, &spec).unwrap();
    let xs = Rng::new(3).vec(15);
    plan.set_input_f32(ctx(), "x", &xs).unwrap();
    let read = |n: &str| f64s(&store.get(n).unwrap().to_vec_f32(ctx()).unwrap());
    let (w0, b0) = (read("w"), read("b"));
    plan.step(ctx()).unwrap();
    let (w1, b1) = (read("w"), read("b"));
    let mut grad_sq = [3.0f64, -4.0, 12.0, 0.5].iter().map(|v| v * v).sum::<f64>();
    for i in 0..3 {
        let col: f64 = (0..5).map(|r| xs[r * 3 + i] as f64).sum();
        grad_sq += 2.0 * col * col;
    }
    let norm = grad_sq.sqrt();
    let stats = plan.clip_stats().unwrap().to_vec_f32(ctx()).unwrap();
    // The norm is a sum of ten O(10) squares in f32: ~1e-6 relative.
    assert_close(&stats[1..], &[norm], 0.0, 1e-5, "global norm");
    let coef = max_norm as f64 / (norm + 1e-6);
    assert_close(&stats[..1], &[coef], 0.0, 1e-5, "clip coefficient");
    let moved: f64 = w0
        .iter()
        .zip(&w1)
        .chain(b0.iter().zip(&b1))
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        (moved - max_norm as f64).abs() < 1e-4,
        "update norm {moved}, want {max_norm}"
    );
}

#[test]
fn dropout_masks_in_train_and_is_the_identity_in_eval() {
    let n = 4096;
    let build = || {
        let mut g = Graph::new();
        let w = g.param("w", &[n], Init::Ones).unwrap();
        let c = g.input("c", &[n], DType::F32).unwrap();
        let y = g.dropout(w, 0.25).unwrap();
        let y2 = g.dropout(w, 0.25).unwrap();
        let yc = g.mul(y, c).unwrap();
        let loss = g.sum_all(yc).unwrap();
        let dw = g.grad(loss, &[w]).unwrap()[0];
        (g, y, y2, dw)
    };
    let (g, y, y2, dw) = build();
    let mut store = ParamStore::new(1);
    let spec = |mode| PlanSpec {
        outputs: vec![y, y2, dw],
        mode,
        seed: 42,
        ..Default::default()
    };
    let mut train = Plan::compile(ctx(), &g, &mut store, &spec(Mode::Train)).unwrap();
    let cs = Rng::new(8).vec(n);
    train.set_input_f32(ctx(), "c", &cs).unwrap();
    train.step(ctx()).unwrap();
    let ys = train.read_f32(ctx(), y).unwrap();
    let ys2 = train.read_f32(ctx(), y2).unwrap();
    let dws = train.read_f32(ctx(), dw).unwrap();
    let scale = 1.0 / 0.75f32;
    for i in 0..n {
        assert!(ys[i] == 0.0 || ys[i] == scale, "y[{i}] = {}", ys[i]);
        // The backward recomputes the forward's mask: dw = mask·c/(1-p) = y·c here (w = 1).
        assert_eq!(dws[i], ys[i] * cs[i], "dw[{i}]");
    }
    let kept = ys.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
    // Binomial(4096, 0.75): std 0.0068; 5 std is 0.034.
    assert!((kept - 0.75).abs() < 0.034, "kept fraction {kept}");
    assert_ne!(ys, ys2, "two dropout sites share a mask");
    train.step(ctx()).unwrap();
    assert_ne!(
        train.read_f32(ctx(), y).unwrap(),
        ys,
        "the mask did not change with the step"
    );

    let mut eval = Plan::compile(ctx(), &g, &mut store, &spec(Mode::Eval)).unwrap();
    eval.set_input_f32(ctx(), "c", &cs).unwrap();
    eval.step(ctx()).unwrap();
    assert!(eval.read_f32(ctx(), y).unwrap().iter().all(|&v| v == 1.0));
    assert_eq!(eval.read_f32(ctx(), dw).unwrap(), cs);
    let dispatches_eval = eval.stats().dispatches;
    assert!(
        dispatches_eval < train.stats().dispatches,
        "eval dropout should cost nothing"
    );

    // Same seed, same step: the same masks in a second plan.
    let (g2, y_again, _, _) = build();
    let mut store2 = ParamStore::new(1);
    let spec2 = PlanSpec {
        outputs: vec![y_again],
        seed: 42,
        ..Default::default()
    };
    let mut again = Plan::compile(ctx(), &g2, &mut store2, &spec2).unwrap();
    again.set_input_f32(ctx(), "c", &cs).unwrap();
    again.step(ctx()).unwrap();
    assert_eq!(again.read_f32(ctx(), y_again).unwrap(), ys);
}

#[test]
fn inputs_are_set_by_var_as_by_name() {
    let mut g = Graph::new();
    let (x, logits) = classifier(&mut g, "", 2);
    let mut store = ParamStore::new(5);
    let mut plan = Plan::compile(ctx(), &g, &mut store, &PlanSpec::eval(vec![logits])).unwrap();
    let data: Vec<f32> = (0..8).map(|i| i as f32 * 0.25 - 1.0).collect();
    plan.set_input_f32(ctx(), "x", &data).unwrap();
    plan.step(ctx()).unwrap();
    let by_name = plan.read_f32(ctx(), logits).unwrap();
    let unknown = String::from("y");
    assert!(
        plan.set_input_f32(ctx(), &unknown, &data).is_err(),
        "no input is named y"
    );
    plan.set_input_f32(ctx(), "x", &[0.0; 8]).unwrap();
    plan.set_input_f32(ctx(), x, &data).unwrap();
    plan.step(ctx()).unwrap();
    assert_eq!(plan.read_f32(ctx(), logits).unwrap(), by_name);
    // A value that is not an input, and an input of another graph, are errors that say so.
    let err = plan
        .set_input_f32(ctx(), logits, &data)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an input"), "{err}");
    let mut other = Graph::new();
    let (foreign, _) = classifier(&mut other, "", 2);
    assert!(plan.set_input_f32(ctx(), foreign, &data).is_err());
}

/// A small training plan (x [8, 3] @ w, loss mean(y²), Adam) on a context of its own, its input
/// set, for the fault tests: a fault there leaves the shared context clean.
fn plan_on_own_context() -> (kiln::Context, kiln::Plan, kiln::ParamStore) {
    use kiln::{Context, DType, Graph, Init, Optimizer, ParamStore, Plan, PlanSpec};
    let c = Context::new().unwrap();
    let mut g = Graph::new();
    let x = g.input("x", &[8, 3], DType::F32).unwrap();
    let w = g.param("w", &[3, 2], Init::normal(0.5)).unwrap();
    let y = g.matmul(x, w).unwrap();
    let sq = g.mul(y, y).unwrap();
    let loss = g.mean_all(sq).unwrap();
    let mut store = ParamStore::new(1);
    let spec = PlanSpec::training(loss, Optimizer::Adam(AdamConfig::adam(0.01)));
    let plan = Plan::compile(&c, &g, &mut store, &spec).unwrap();
    plan.set_input_f32(&c, "x", &Rng::new(2).vec(24)).unwrap();
    (c, plan, store)
}

#[test]
fn a_device_lost_during_training_is_an_error_within_the_readings_ring() {
    // Steps, then the device is destroyed (what a driver reset or an unplugged GPU looks like
    // to wgpu). wgpu reports the loss once the queue has drained (WebGPU makes work on a lost
    // device a silent no-op), so a step may still return Ok; within the readings ring's depth
    // a call returns the error, every call after it does too, and nothing panics or hangs.
    use kiln::Error;
    let (c, mut plan, store) = plan_on_own_context();
    for _ in 0..3 {
        plan.step(&c).unwrap();
    }
    c.device().destroy();
    let start = std::time::Instant::now();
    let lost =
        |r: &kiln::Result<()>| matches!(r, Err(Error::DeviceLost(_)) | Err(Error::Wgpu { .. }));
    let mut results = Vec::new();
    for _ in 0..8 {
        results.push(plan.step(&c));
    }
    results.push(plan.flush_readings(&c).map(|_| ()));
    results.push(store.get("w").unwrap().to_vec_f32(&c).map(|_| ()));
    let first = results.iter().position(lost);
    assert!(first.is_some_and(|i| i <= 4), "{results:?}");
    assert!(
        results[first.unwrap_or(0)..].iter().all(lost),
        "{results:?}"
    );
    let took = start.elapsed().as_secs_f64();
    assert!(took < 60.0, "{took:.1} s");
}

#[test]
fn a_device_lost_while_idle_is_an_error_from_the_next_call() {
    // The device is destroyed once the queue has drained (between epochs, say): the very next
    // step returns Error::DeviceLost, as does every call after it.
    use kiln::Error;
    let (c, mut plan, store) = plan_on_own_context();
    plan.step(&c).unwrap();
    plan.flush_readings(&c).unwrap();
    c.device().destroy();
    let first = plan.step(&c);
    assert!(matches!(first, Err(Error::DeviceLost(_))), "{first:?}");
    let later = [
        plan.step(&c),
        plan.flush_readings(&c).map(|_| ()),
        store.get("w").unwrap().to_vec_f32(&c).map(|_| ()),
    ];
    assert!(
        later.iter().all(|r| matches!(r, Err(Error::DeviceLost(_)))),
        "{later:?}"
    );
}

#[test]
fn a_validation_error_during_a_step_is_an_error_from_that_call() {
    // An input buffer destroyed under a compiled plan (what a host that frees a bound buffer
    // does): the step's submission fails wgpu's validation, and that very call returns
    // Error::Wgpu, as does every later one; nothing panics or hangs.
    let (c, mut plan, _store) = plan_on_own_context();
    plan.step(&c).unwrap();
    plan.input_tensor("x").unwrap().buffer().destroy();
    let start = std::time::Instant::now();
    for attempt in 0..3 {
        let result = plan.step(&c);
        assert!(
            matches!(result, Err(kiln::Error::Wgpu { .. })),
            "attempt {attempt}: {result:?}"
        );
    }
    assert!(start.elapsed().as_secs_f64() < 30.0);
}
