//! The adversarial training code ([`kiln::gan::Gan`], the one `train_gan` uses) on a game small
//! enough for CI: a generator of one-dimensional samples learns a normal distribution.

use kiln::data::normal_noise;
use kiln::gan::{Gan, GanConfig, GanLoss, Network, Players};
use kiln::nn::Linear;
use kiln::ops::elementwise::Activation;
use kiln::optim::AdamConfig;
use kiln::{DType, Graph, Mode, Optimizer, ParamStore, Plan, PlanSpec, Result, Var};

use super::{ctx, Rng};

/// Two small MLPs: noise [4] → 16 → 1 and sample [1] → 32 → 1 logit.
struct Mlps;

const NOISE: usize = 4;

impl Players for Mlps {
    fn declare(&self, g: &mut Graph) -> Result<(Network, Network)> {
        let g1 = Linear::new(g, "generator.fc1", NOISE, 16)?;
        let g2 = Linear::new(g, "generator.fc2", 16, 1)?;
        let d1 = Linear::new(g, "discriminator.fc1", 1, 32)?;
        let d2 = Linear::new(g, "discriminator.fc2", 32, 1)?;
        let generator: Network = Box::new(move |g: &mut Graph, z: Var| {
            let h = g1.forward(g, z)?;
            let h = g.activation(h, Activation::LeakyRelu(0.2))?;
            g2.forward(g, h)
        });
        let discriminator: Network = Box::new(move |g: &mut Graph, x: Var| {
            let h = d1.forward(g, x)?;
            let h = g.activation(h, Activation::LeakyRelu(0.2))?;
            let logit = d2.forward(g, h)?;
            let b = g.shape(logit)?[0];
            g.reshape(logit, &[b])
        });
        Ok((generator, discriminator))
    }

    fn noise_shape(&self) -> Vec<usize> {
        vec![NOISE]
    }

    fn sample_shape(&self) -> Vec<usize> {
        vec![1]
    }
}

/// Mean and standard deviation of `n` generated samples.
fn generated_moments(store: &mut ParamStore, n: usize, seed: u64) -> (f64, f64) {
    let mut g = Graph::new();
    let (generator, _) = Mlps.declare(&mut g).unwrap();
    let z = g.input("z", &[n, NOISE], DType::F32).unwrap();
    let x = generator(&mut g, z).unwrap();
    let spec = PlanSpec {
        outputs: vec![x],
        mode: Mode::Eval,
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx(), &g, store, &spec).unwrap();
    plan.set_input_f32(ctx(), "z", &normal_noise(seed, n * NOISE))
        .unwrap();
    plan.step(ctx()).unwrap();
    let xs = plan.read_f32(ctx(), x).unwrap();
    let mean = xs.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let var = xs.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

#[test]
fn gan_learns_a_normal_distribution() {
    const MEAN: f64 = 3.0;
    const STD: f64 = 1.5;
    let batch = 64;
    let adam = Optimizer::Adam(AdamConfig {
        beta1: 0.5,
        ..AdamConfig::adam(1e-3)
    });
    let config = GanConfig {
        batch,
        d_optimizer: adam,
        g_optimizer: adam,
        schedule: kiln::optim::Schedule::Constant,
        seed: 11,
        real_label: 1.0,
        loss: GanLoss::NonSaturating,
        ema_decay: None,
    };
    let mut store = ParamStore::new(5);
    let mut gan = Gan::new(ctx(), &Mlps, &mut store, &config).unwrap();
    let (mean0, std0) = generated_moments(&mut store, 2048, 99);

    let mut rng = Rng::new(3);
    let mut readings = Vec::new();
    for step in 0..2500u64 {
        let real: Vec<f32> = normal_noise(1000 + step, batch)
            .iter()
            .map(|&v| (MEAN + STD * v as f64) as f32)
            .collect();
        gan.step(ctx(), &real).unwrap();
        if rng.below(8) == 0 {
            readings.extend(gan.readings(ctx()).unwrap());
        }
    }
    readings.extend(gan.flush_readings(ctx()).unwrap());
    assert_eq!(gan.step_count(), 2500);
    assert!(!readings.is_empty(), "no readings came back");
    let last = readings.last().unwrap();
    assert!(
        last.d_loss.is_finite() && last.g_loss.is_finite(),
        "losses diverged: {last:?}"
    );

    let (mean, std) = generated_moments(&mut store, 2048, 99);
    println!("generated mean {mean0:.3} → {mean:.3} (data {MEAN}), std {std0:.3} → {std:.3} (data {STD}); last reading {last:?}");
    // The untrained generator is centred near 0 with a spread near 0.4, far from the data on
    // both counts. A trained one matches the data's mean within 0.3 (0.2 σ) and its spread
    // within 30 %: a GAN's generator keeps oscillating around the equilibrium by about that
    // much at this learning rate, and a collapsed one (std → 0) or one left where it started
    // fails by far.
    assert!(
        (mean0 - MEAN).abs() > 2.0 && (std0 - STD).abs() > 0.5 * STD,
        "the test needs a generator that starts away from the data ({mean0}, {std0})"
    );
    assert!((mean - MEAN).abs() < 0.3, "mean {mean} vs {MEAN}");
    assert!(
        (std - STD).abs() < 0.3 * STD,
        "std {std} vs {STD} (mean {mean})"
    );
    // Neither player wins outright: D(x) and D(G(z)) stay away from 0 and 1.
    for r in &readings[readings.len() * 3 / 4..] {
        assert!(
            (0.05..0.95).contains(&r.d_real) && (0.05..0.95).contains(&r.d_fake),
            "the game collapsed: {r:?}"
        );
    }
}

/// Runs `net` (the generator or the discriminator of [`Mlps`]) on `x` in an eval plan over
/// `store`.
fn apply(store: &mut ParamStore, discriminator: bool, x: &[f32], width: usize) -> Vec<f32> {
    let n = x.len() / width;
    let mut g = Graph::new();
    let (generator, disc) = Mlps.declare(&mut g).unwrap();
    let input = g.input("x", &[n, width], DType::F32).unwrap();
    let out = if discriminator {
        disc(&mut g, input).unwrap()
    } else {
        generator(&mut g, input).unwrap()
    };
    let mut plan = Plan::compile(ctx(), &g, store, &PlanSpec::eval(vec![out])).unwrap();
    plan.set_input_f32(ctx(), "x", x).unwrap();
    plan.step(ctx()).unwrap();
    plan.read_f32(ctx(), out).unwrap()
}

#[test]
fn each_gan_loss_matches_its_formula() {
    // With learning rate 0 neither step changes a weight, so both losses of step 1 are
    // functions of the initial weights, the real batch and the step's two noise draws (the
    // discriminator's `seed ^ 2`, the generator's `seed ^ 3`), recomputed here in f64 from
    // logits of separate eval plans over the same store.
    let batch = 64;
    let still = Optimizer::Adam(AdamConfig::adam(0.0));
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    for loss in [
        GanLoss::NonSaturating,
        GanLoss::Hinge,
        GanLoss::LeastSquares,
    ] {
        let label = 0.9;
        let config = GanConfig {
            batch,
            d_optimizer: still,
            g_optimizer: still,
            schedule: kiln::optim::Schedule::Constant,
            seed: 21,
            real_label: label,
            loss,
            ema_decay: None,
        };
        let mut store = ParamStore::new(6);
        let mut gan = Gan::new(ctx(), &Mlps, &mut store, &config).unwrap();
        let real: Vec<f32> = normal_noise(77, batch).iter().map(|v| 3.0 + v).collect();
        let z_d = normal_noise(21 ^ 2, batch * NOISE);
        let z_g = normal_noise(21 ^ 3, batch * NOISE);
        let fake_d = apply(&mut store, false, &z_d, NOISE);
        let fake_g = apply(&mut store, false, &z_g, NOISE);
        let logits = |x: &[f32], store: &mut ParamStore| -> Vec<f64> {
            apply(store, true, x, 1).iter().map(|&v| v as f64).collect()
        };
        let (r, f, fg) = (
            logits(&real, &mut store),
            logits(&fake_d, &mut store),
            logits(&fake_g, &mut store),
        );
        gan.step(ctx(), &real).unwrap();
        let got = gan.flush_readings(ctx()).unwrap()[0];
        let label = label as f64;
        let bce = |x: f64, t: f64| softplus(x) - t * x;
        let (d_loss, g_loss) = match loss {
            GanLoss::NonSaturating => (
                mean(r.iter().map(|&x| bce(x, label)).collect())
                    + mean(f.iter().map(|&x| bce(x, 0.0)).collect()),
                mean(fg.iter().map(|&x| bce(x, 1.0)).collect()),
            ),
            GanLoss::Hinge => (
                mean(r.iter().map(|&x| (1.0 - x).max(0.0)).collect())
                    + mean(f.iter().map(|&x| (1.0 + x).max(0.0)).collect()),
                -mean(fg.clone()),
            ),
            GanLoss::LeastSquares => (
                0.5 * mean(r.iter().map(|&x| (x - label).powi(2)).collect())
                    + 0.5 * mean(f.iter().map(|&x| x * x).collect()),
                0.5 * mean(fg.iter().map(|&x| (x - 1.0).powi(2)).collect()),
            ),
        };
        let d_real = mean(r.iter().map(|&x| sigmoid(x)).collect());
        let d_fake = mean(f.iter().map(|&x| sigmoid(x)).collect());
        // Means of 64 O(1) terms computed in f32 (and the logits themselves rounded to f32):
        // a few ulps of the result; 1e-5 relative plus 1e-6 leaves room and catches any wrong
        // sign, target or factor.
        for (what, g, w) in [
            ("d_loss", got.d_loss, d_loss),
            ("g_loss", got.g_loss, g_loss),
            ("d_real", got.d_real, d_real),
            ("d_fake", got.d_fake, d_fake),
        ] {
            assert!(
                (g as f64 - w).abs() <= 1e-6 + 1e-5 * w.abs(),
                "{loss:?} {what}: {g} vs {w}"
            );
        }
    }
    assert_eq!("hinge".parse::<GanLoss>(), Ok(GanLoss::Hinge));
    assert_eq!("ls".parse::<GanLoss>(), Ok(GanLoss::LeastSquares));
    assert!("wasserstein"
        .parse::<GanLoss>()
        .unwrap_err()
        .contains("bce"));
}

#[test]
fn quality_probe_tells_real_images_from_a_collapsed_generator() {
    // Real digits against other real digits: all ten classes covered, entropy near log2(10),
    // spread near 1, distance at the floor. A "generator" that returns one image 512 times:
    // one class, entropy 0, spread 0, a large distance. Four real-looking classes only: four
    // classes covered, entropy near 2 bits.
    use kiln::data::LabelledImages;
    use kiln::metrics::QualityProbe;
    let data = LabelledImages::digits(3, 2048, 32);
    let mut probe = QualityProbe::new(ctx(), &data, 512, 5).unwrap().unwrap();
    assert_eq!(probe.count, 512);
    assert!(
        probe.scorer_loss() < 0.5,
        "classifier loss {}",
        probe.scorer_loss()
    );
    let per = 32 * 32;
    let others = &data.set.images[1536 * per..2048 * per];
    let real = probe.measure(ctx(), others).unwrap();
    assert_eq!(real.classes_covered, 10, "{:?}", real.histogram);
    assert!(
        real.class_entropy > 3.1 && real.class_entropy <= 10f64.log2() + 1e-9,
        "{real:?}"
    );
    assert!((real.spread - 1.0).abs() < 0.2, "{real:?}");
    assert!(
        real.frechet < 3.0 * probe.floor + 1.0,
        "{real:?} floor {}",
        probe.floor
    );

    let one: Vec<f32> = others[..per].repeat(512);
    let collapsed = probe.measure(ctx(), &one).unwrap();
    assert_eq!(collapsed.classes_covered, 1, "{collapsed:?}");
    assert_eq!(collapsed.class_entropy, 0.0);
    assert!(collapsed.spread < 1e-6, "{collapsed:?}");
    assert!(
        collapsed.frechet > 10.0 * real.frechet,
        "{collapsed:?} vs {real:?}"
    );

    let four: Vec<f32> = (0..2048)
        .filter(|&i| data.labels[i] < 4)
        .take(512)
        .flat_map(|i| data.set.images[i * per..(i + 1) * per].to_vec())
        .collect();
    assert_eq!(four.len(), 512 * per);
    let partial = probe.measure(ctx(), &four).unwrap();
    assert_eq!(partial.classes_covered, 4, "{:?}", partial.histogram);
    assert!((partial.class_entropy - 2.0).abs() < 0.2, "{partial:?}");

    // The same images sorted by class, as class folders load: the probe's real set and the
    // floor's must still hold every class (cut by position, the first half held only digits
    // 0-4, and the floor was a distance between two different sets of classes).
    let mut order: Vec<usize> = (0..2048).collect();
    order.sort_by_key(|&i| data.labels[i]);
    let sorted = LabelledImages {
        set: kiln::data::ImageSet {
            images: order
                .iter()
                .flat_map(|&i| data.set.images[i * per..(i + 1) * per].to_vec())
                .collect(),
            ..data.set.clone()
        },
        labels: order.iter().map(|&i| data.labels[i]).collect(),
        classes: data.classes.clone(),
    };
    let mut by_class = QualityProbe::new(ctx(), &sorted, 512, 5).unwrap().unwrap();
    assert!(
        by_class.floor < 3.0 * probe.floor + 1.0,
        "floor {} on class-sorted data, {} shuffled",
        by_class.floor,
        probe.floor
    );
    let real_sorted = by_class.measure(ctx(), others).unwrap();
    assert!(
        real_sorted.frechet < 3.0 * by_class.floor + 1.0,
        "{real_sorted:?} floor {}",
        by_class.floor
    );
}

#[test]
fn game_warnings_name_a_pinned_discriminator() {
    use kiln::train::EpochEnd;
    let end = |d_x: f64, d_g_z: f64| EpochEnd {
        epoch: 3,
        step: 300,
        dir: std::env::temp_dir(),
        means: vec![("d_x".into(), d_x), ("d_g_z".into(), d_g_z)],
    };
    assert!(kiln::gan::game_warnings(&end(0.7, 0.3)).is_empty());
    let w = kiln::gan::game_warnings(&end(0.99, 0.01));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("D(x) averaged 0.990") && w[0].contains("winning"),
        "{w:?}"
    );
    assert!(w[1].contains("D(G(z))") && w[1].contains("near 0"), "{w:?}");
    let w = kiln::gan::game_warnings(&end(0.6, 0.97));
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("losing"), "{w:?}");
    assert!(kiln::gan::game_warnings(&end(f64::NAN, f64::NAN)).is_empty());
}

#[test]
fn train_gan_scores_a_folder_of_class_folders_and_says_when_it_cannot() {
    // The example end to end on the user's own files: 520 digits as PNGs in ten class
    // folders, then the same images loose in one folder. Tiny networks and one epoch of eight
    // step pairs: what is checked is the plumbing (labels from folder names, a score every
    // epoch, the summary), not the samples.
    let bin = std::env::current_exe().unwrap();
    let bin = bin
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/train_gan");
    assert!(
        bin.is_file(),
        "{} is missing: `cargo test` builds it",
        bin.display()
    );
    let root = std::env::temp_dir().join(format!("kiln-gan-folders-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    super::images::write_digit_folder(&root.join("classes"), 52, Some(&names));
    super::images::write_digit_folder(&root.join("loose"), 52, None);
    let run = |data: &str| -> (String, serde_json::Value) {
        let out = root.join(format!("run-{data}"));
        let output = std::process::Command::new(&bin)
            .args([
                "--data",
                root.join(data).to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .args([
                "--epochs",
                "1",
                "--batch",
                "64",
                "--latent",
                "8",
                "--g-width",
                "8",
                "--d-width",
                "8",
            ])
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "train_gan --data {data} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        (stdout, serde_json::from_str(&summary).unwrap())
    };

    let (stdout, summary) = run("classes");
    assert!(
        stdout.contains("labels: 10 classes from the folder names"),
        "{stdout}"
    );
    assert_eq!(
        summary["labels"].as_array().map(Vec::len),
        Some(10),
        "{summary}"
    );
    assert_eq!(summary["steps"].as_u64(), Some(8), "{summary}");
    let covered = summary["classes_covered"].as_f64().unwrap();
    assert!((1.0..=10.0).contains(&covered), "{summary}");
    assert!(
        summary["frechet_distance"].as_f64().unwrap() > 0.0,
        "{summary}"
    );
    assert!(
        summary["frechet_distance_real_halves"].as_f64().unwrap() > 0.0,
        "{summary}"
    );
    assert!(
        summary["quality"].as_str().unwrap().contains("256 samples"),
        "{summary}"
    );

    let (stdout, summary) = run("loose");
    assert!(stdout.contains("coverage is not measured"), "{stdout}");
    assert!(summary.get("classes_covered").is_none(), "{summary}");
    assert!(
        summary["frechet_distance_real_halves"].is_null(),
        "{summary}"
    );
    assert!(
        summary["quality"].as_str().unwrap().contains("no labels"),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_schedule_sets_both_players_rates_and_ends_the_updates_at_zero() {
    // A cosine from the base rates to zero over 4 step pairs: step t runs at
    // ½(1 + cos(πt/4)) · base, so the last step pair, at rate 0, changes no weight.
    let (d_rate, g_rate) = (1e-3f32, 3e-3f32);
    let config = GanConfig {
        batch: 16,
        d_optimizer: Optimizer::Adam(AdamConfig::adam(d_rate)),
        g_optimizer: Optimizer::Adam(AdamConfig::adam(g_rate)),
        schedule: kiln::optim::Schedule::WarmupCosine {
            warmup: 0,
            total: 4,
            min_factor: 0.0,
        },
        seed: 5,
        real_label: 1.0,
        loss: GanLoss::NonSaturating,
        ema_decay: None,
    };
    let mut store = ParamStore::new(8);
    let mut gan = Gan::new(ctx(), &Mlps, &mut store, &config).unwrap();
    let real: Vec<f32> = normal_noise(9, 16).iter().map(|v| 3.0 + v).collect();
    let weights = |store: &ParamStore| -> Vec<f32> {
        ["generator.fc1.weight", "discriminator.fc1.weight"]
            .iter()
            .flat_map(|name| store.get(name).unwrap().to_vec_f32(ctx()).unwrap())
            .collect()
    };
    let mut before = Vec::new();
    for t in 1..=4u64 {
        before = weights(&store);
        gan.step(ctx(), &real).unwrap();
        // The planned factor, in f64: the rates are f32, so 1e-6 relative covers rounding.
        let factor = 0.5 * (1.0 + (std::f64::consts::PI * t as f64 / 4.0).cos());
        let (d, g) = gan.learning_rates();
        for (what, got, base) in [("D", d, d_rate), ("G", g, g_rate)] {
            let want = factor * base as f64;
            assert!(
                (got as f64 - want).abs() <= 1e-6 * base as f64,
                "step {t} {what}: rate {got}, want {want}"
            );
        }
    }
    gan.flush_readings(ctx()).unwrap();
    assert_eq!(gan.learning_rates(), (0.0, 0.0));
    assert_eq!(weights(&store), before, "a step at rate 0 changed a weight");
}
