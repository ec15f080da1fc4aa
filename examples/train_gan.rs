//! Trains a DCGAN (Radford et al.; PyTorch's `examples/dcgan`) on kiln: a generator of
//! transposed convolutions and a discriminator of strided convolutions, trained against each
//! other with Adam (lr 2e-4, β1 0.5) and the non-saturating generator loss, as two plans over
//! one parameter store.
//!
//! Built-in data (the default): handwritten-looking digits drawn from strokes with random
//! thickness, slant, scale and offset, 32x32 grayscale. Your own: `--data DIR` (every PNG,
//! JPEG and BMP under it, center-cropped and resized) or `--idx FILE` (MNIST's IDX images).
//!
//! ```sh
//! cargo run --release --example train_gan                         # digits, to runs/gan
//! cargo run --release --example train_gan -- --data faces/ --size 64 --channels 3
//! cargo run --release --example train_gan -- --resume runs/gan
//! cargo run --release --example train_gan -- --checkpoint runs/gan --sample 64
//! ```
//! Writes `samples_epoch_N.png` (an 8x8 grid from a fixed noise batch, every epoch),
//! `metrics.csv`, `loss.png`, `summary.json` (with a Fréchet distance in the feature space of a
//! classifier kiln trains on the same data, beside the distance between two halves of the real
//! data for scale) and `checkpoint.safetensors` into `--out`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kiln::data::{self, normal_noise};
use kiln::gan::{Gan, GanConfig, GanReading};
use kiln::io::checkpoint;
use kiln::nn::{DcganConfig, Generator, Linear};
use kiln::ops::elementwise::Activation;
use kiln::ops::optim::AdamConfig;
use kiln::progress::Progress;
use kiln::{
    Context, DType, Error, Graph, Mode, Optimizer, ParamStore, Plan, PlanSpec, Result, Training,
    Var,
};

const USAGE: &str = "train_gan [--data DIR | --idx FILE] [--size 32|64] [--channels 1|3]
  [--epochs N] [--batch N] [--latent N] [--g-width N] [--d-width N] [--count N] [--out DIR]
  [--resume DIR] [--checkpoint DIR --sample N] [--seed N]";

/// Flags, with working defaults.
#[derive(Clone, Debug)]
struct Args {
    data: Option<PathBuf>,
    idx: Option<PathBuf>,
    size: usize,
    channels: usize,
    epochs: usize,
    batch: usize,
    latent: usize,
    g_width: usize,
    d_width: usize,
    /// Built-in digits generated.
    count: usize,
    out: PathBuf,
    resume: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    sample: Option<usize>,
    seed: u64,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            data: None,
            idx: None,
            size: 32,
            channels: 1,
            epochs: 4,
            batch: 64,
            latent: 32,
            g_width: 32,
            d_width: 16,
            count: 6400,
            out: PathBuf::from("runs/gan"),
            resume: None,
            checkpoint: None,
            sample: None,
            seed: 1,
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    let bad =
        |flag: &str, v: &str| Error::Unsupported(format!("{flag}: cannot use '{v}'\n{USAGE}"));
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| Error::Unsupported(format!("{flag} needs a value\n{USAGE}")))?;
        let num = |v: &str| v.parse::<usize>().map_err(|_| bad(&flag, v));
        match flag.as_str() {
            "--data" => a.data = Some(PathBuf::from(value)),
            "--idx" => a.idx = Some(PathBuf::from(value)),
            "--size" => a.size = num(&value)?,
            "--channels" => a.channels = num(&value)?,
            "--epochs" => a.epochs = num(&value)?,
            "--batch" => a.batch = num(&value)?.max(2),
            "--latent" => a.latent = num(&value)?,
            "--g-width" => a.g_width = num(&value)?,
            "--d-width" => a.d_width = num(&value)?,
            "--count" => a.count = num(&value)?,
            "--out" => a.out = PathBuf::from(value),
            "--resume" => a.resume = Some(PathBuf::from(value)),
            "--checkpoint" => a.checkpoint = Some(PathBuf::from(value)),
            "--sample" => a.sample = Some(num(&value)?),
            "--seed" => a.seed = num(&value)? as u64,
            _ => return Err(bad(&flag, &value)),
        }
    }
    Ok(a)
}

fn main() {
    if let Err(e) = parse_args().and_then(run) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Real images `[N, C, S, S]` in [-1, 1] and labels where the data has them.
struct Images {
    pixels: Vec<f32>,
    count: usize,
    labels: Option<Vec<u32>>,
    name: String,
}

fn load_images(args: &Args) -> Result<Images> {
    let per = args.channels * args.size * args.size;
    if let Some(dir) = &args.data {
        let set = data::load_image_dir(dir, args.size, args.channels)?;
        println!("{}", set.summary());
        return Ok(Images {
            count: set.images.len() / per,
            pixels: set.images,
            labels: None,
            name: dir.display().to_string(),
        });
    }
    if let Some(path) = &args.idx {
        if args.channels != 1 {
            return Err(Error::Unsupported(
                "IDX images are grayscale: use --channels 1".into(),
            ));
        }
        let (bytes, n, rows, cols) = data::read_idx_images(path)?;
        let pixels = data::idx_to_images(&bytes, n, rows, cols, args.size);
        // MNIST's labels sit beside the images, `...-images-idx3-ubyte` → `...-labels-idx1-ubyte`.
        let labels_path = PathBuf::from(
            path.display()
                .to_string()
                .replace("images-idx3", "labels-idx1"),
        );
        let labels = data::read_idx_labels(&labels_path)
            .ok()
            .filter(|l| l.len() == n)
            .map(|l| l.into_iter().map(u32::from).collect());
        return Ok(Images {
            pixels,
            count: n,
            labels,
            name: path.display().to_string(),
        });
    }
    if args.channels != 1 {
        return Err(Error::Unsupported(
            "the built-in digits are grayscale: use --channels 1".into(),
        ));
    }
    let (pixels, labels) = data::digit_images(args.seed, args.count, args.size);
    Ok(Images {
        pixels,
        count: args.count,
        labels: Some(labels),
        name: "built-in digits".into(),
    })
}

fn run(args: Args) -> Result<()> {
    let ctx = Context::new()?;
    println!("adapter: {}", ctx.adapter_summary());
    let cfg = DcganConfig {
        size: args.size,
        channels: args.channels,
        latent: args.latent,
        g_width: args.g_width,
        d_width: args.d_width,
    };
    if let (Some(dir), Some(n)) = (&args.checkpoint, args.sample) {
        return sample(&ctx, cfg, dir, n, &args);
    }
    train(&ctx, cfg, &args)
}

/// A plan producing `n` images from the `z` input, in train mode as PyTorch's example samples
/// (batch statistics).
fn sampler(
    ctx: &Context,
    cfg: DcganConfig,
    n: usize,
    store: &mut ParamStore,
) -> Result<(Plan, Var)> {
    let mut g = Graph::new();
    let gen = Generator::new(&mut g, cfg)?;
    let z = g.input("z", &[n, cfg.latent, 1, 1], DType::F32)?;
    let images = gen.forward(&mut g, z)?;
    let spec = PlanSpec {
        outputs: vec![images],
        mode: Mode::Train,
        ..Default::default()
    };
    Ok((Plan::compile(ctx, &g, store, &spec)?, images))
}

fn train(ctx: &Context, cfg: DcganConfig, args: &Args) -> Result<()> {
    let start = Instant::now();
    std::fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, e))?;
    let images = load_images(args)?;
    let per = cfg.channels * cfg.size * cfg.size;
    println!(
        "data: {} ({} images {}x{}x{})",
        images.name, images.count, cfg.channels, cfg.size, cfg.size
    );
    let b = args.batch;
    if images.count < b {
        return Err(Error::Unsupported(format!(
            "{} images are fewer than one batch of {b}: use --batch",
            images.count
        )));
    }

    let mut store = ParamStore::new(args.seed);
    let adam = Optimizer::Adam(AdamConfig {
        beta1: 0.5,
        ..AdamConfig::adam(2e-4)
    });
    let gan_config = GanConfig {
        batch: b,
        d_optimizer: adam,
        g_optimizer: adam,
        seed: args.seed,
    };
    let mut gan = Gan::new(ctx, &cfg, &mut store, &gan_config)?;
    let (mut fixed_plan, fixed_images) = sampler(ctx, cfg, 64, &mut store)?;
    fixed_plan.set_input_f32(ctx, "z", &normal_noise(args.seed ^ 0xf1, 64 * cfg.latent))?;

    let mut first_epoch = 0;
    if let Some(dir) = &args.resume {
        let ck = checkpoint::load(&dir.join(checkpoint::CHECKPOINT_FILE))?;
        checkpoint::restore(ctx, &ck, &mut store, &gan.optimizer_state())?;
        let step = ck.step().unwrap_or(0);
        gan.set_step_count(step);
        first_epoch = ck
            .metadata
            .get("epoch")
            .and_then(|e| e.parse().ok())
            .unwrap_or(0);
        println!("resumed at epoch {first_epoch}, step {step}");
    }
    let (ds, gs) = gan.stats();
    println!(
        "plans: {} + {} dispatches per step pair; D-step intermediates {:.1} MiB (naive {:.1} MiB)",
        ds.dispatches,
        gs.dispatches,
        ds.peak_bytes as f64 / 1048576.0,
        ds.naive_bytes as f64 / 1048576.0
    );

    let steps_per_epoch = images.count / b;
    let total = (steps_per_epoch * args.epochs) as u64;
    let mut bar = Progress::new(total, "train");
    let metrics_path = args.out.join("metrics.csv");
    if args.resume.is_none() || !metrics_path.exists() {
        std::fs::write(
            &metrics_path,
            "step,epoch,d_loss,g_loss,d_x,d_g_z,images_per_s,elapsed_s\n",
        )
        .map_err(|e| io_error(&metrics_path, e))?;
    }
    let mut rows = Vec::new();
    let (mut d_curve, mut g_curve) = (Vec::new(), Vec::new());
    let mut last = GanReading {
        step: 0,
        d_loss: f32::NAN,
        g_loss: f32::NAN,
        d_real: f32::NAN,
        d_fake: f32::NAN,
    };
    let train_start = Instant::now();
    let first_step = gan.step_count();
    let mut seen = 0usize;
    let record = |r: &GanReading,
                  epoch: usize,
                  last: &mut GanReading,
                  rows: &mut Vec<String>,
                  d_curve: &mut Vec<(f64, f64)>,
                  g_curve: &mut Vec<(f64, f64)>| {
        *last = *r;
        d_curve.push((r.step as f64, r.d_loss as f64));
        g_curve.push((r.step as f64, r.g_loss as f64));
        let elapsed = train_start.elapsed().as_secs_f64();
        rows.push(format!(
            "{},{epoch},{},{},{},{},{:.1},{elapsed:.2}",
            r.step,
            r.d_loss,
            r.g_loss,
            r.d_real,
            r.d_fake,
            (r.step - first_step) as f64 * b as f64 / elapsed
        ));
    };
    for epoch in first_epoch..args.epochs {
        for chunk in data::Batches::new(images.count, b, args.seed, epoch as u64) {
            if chunk.len() < b {
                continue; // a static graph takes full batches; the remainder is reshuffled next epoch
            }
            gan.step(ctx, &data::image_batch(&images.pixels, per, &chunk))?;
            seen += b;
            for r in gan.readings(ctx)? {
                record(&r, epoch, &mut last, &mut rows, &mut d_curve, &mut g_curve);
            }
            let rate = seen as f64 / train_start.elapsed().as_secs_f64();
            bar.set(
                gan.step_count().min(total),
                &format!(
                    "D {:.3} G {:.3} D(x) {:.2} D(G(z)) {:.2} {rate:.0} img/s",
                    last.d_loss, last.g_loss, last.d_real, last.d_fake
                ),
            );
        }
        for r in gan.flush_readings(ctx)? {
            record(&r, epoch, &mut last, &mut rows, &mut d_curve, &mut g_curve);
        }
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&metrics_path)
                .map_err(|e| io_error(&metrics_path, e))?;
            for row in rows.drain(..) {
                writeln!(f, "{row}").map_err(|e| io_error(&metrics_path, e))?;
            }
        }
        fixed_plan.step(ctx)?;
        let grid = fixed_plan.read_f32(ctx, fixed_images)?;
        let path = args.out.join(format!("samples_epoch_{}.png", epoch + 1));
        kiln::viz::image_grid(&path, &grid, 64, cfg.channels, cfg.size, cfg.size, 8)?;
        bar.println(&format!(
            "epoch {} ({:.0} s): D {:.3} G {:.3} D(x) {:.2} D(G(z)) {:.2}; wrote {}",
            epoch + 1,
            start.elapsed().as_secs_f64(),
            last.d_loss,
            last.g_loss,
            last.d_real,
            last.d_fake,
            path.display()
        ));
        let mut meta = BTreeMap::new();
        meta.insert("epoch".to_string(), (epoch + 1).to_string());
        for (k, v) in [
            ("size", cfg.size),
            ("channels", cfg.channels),
            ("latent", cfg.latent),
            ("g_width", cfg.g_width),
            ("d_width", cfg.d_width),
        ] {
            meta.insert(k.to_string(), v.to_string());
        }
        checkpoint::save(
            ctx,
            &args.out,
            &store,
            &gan.optimizer_state(),
            gan.step_count(),
            &meta,
        )?;
    }
    bar.finish();
    kiln::viz::line_plot(
        &args.out.join("loss.png"),
        &[("discriminator", &d_curve), ("generator", &g_curve)],
        "train_gan: losses",
        "step",
        "loss",
        false,
    )?;
    let score = quality_score(ctx, cfg, &images, &mut store, args)?;
    let images_per_s = seen as f64 / train_start.elapsed().as_secs_f64().max(1e-9);
    let wall = start.elapsed().as_secs_f64();
    let (fd, fd_real) = match score {
        Some((a, b)) => (format!("{a:.3}"), format!("{b:.3}")),
        None => ("null".into(), "null".into()),
    };
    let summary = format!(
        "{{\n  \"data\": {:?},\n  \"steps\": {},\n  \"images_per_s\": {images_per_s:.1},\n  \"wall_s\": {wall:.1},\n  \"frechet_distance\": {fd},\n  \"frechet_distance_real_halves\": {fd_real},\n  \"d_x\": {},\n  \"d_g_z\": {},\n  \"adapter\": {:?}\n}}\n",
        images.name,
        gan.step_count(),
        last.d_real,
        last.d_fake,
        ctx.adapter_summary()
    );
    let path = args.out.join("summary.json");
    std::fs::write(&path, &summary).map_err(|e| io_error(&path, e))?;
    println!("{summary}");
    Ok(())
}

/// A small classifier kiln trains on the labelled real images; its penultimate features give
/// the Fréchet distance between generated and real images, reported beside the distance
/// between two halves of the real data (the floor a perfect generator would reach). `None`
/// for unlabelled data.
fn quality_score(
    ctx: &Context,
    cfg: DcganConfig,
    images: &Images,
    store: &mut ParamStore,
    args: &Args,
) -> Result<Option<(f64, f64)>> {
    let Some(labels) = &images.labels else {
        println!("score: the data has no labels, so no classifier to measure samples with");
        return Ok(None);
    };
    let classes = labels.iter().copied().max().unwrap_or(0) as usize + 1;
    let (b, per) = (64usize, cfg.channels * cfg.size * cfg.size);
    let features = 64;
    let build = |g: &mut Graph, x: Var| -> Result<(Var, Var)> {
        let c1 = kiln::nn::Conv2d::new(g, "scorer.conv1", cfg.channels, 16, 4, 2, 1, true)?;
        let c2 = kiln::nn::Conv2d::new(g, "scorer.conv2", 16, 32, 4, 2, 1, true)?;
        let fc = Linear::new(
            g,
            "scorer.fc",
            32 * (cfg.size / 4) * (cfg.size / 4),
            features,
        )?;
        let out = Linear::new(g, "scorer.out", features, classes)?;
        let h = c1.forward(g, x)?;
        let h = g.activation(h, Activation::LeakyRelu(0.2))?;
        let h = c2.forward(g, h)?;
        let h = g.activation(h, Activation::LeakyRelu(0.2))?;
        let bsz = g.shape(h)?[0];
        let h = g.reshape(h, &[bsz, 32 * (cfg.size / 4) * (cfg.size / 4)])?;
        let f = fc.forward(g, h)?;
        let f = g.relu(f)?;
        let logits = out.forward(g, f)?;
        Ok((f, logits))
    };
    let mut g = Graph::new();
    let x = g.input("x", &[b, cfg.channels, cfg.size, cfg.size], DType::F32)?;
    let y = g.input("y", &[b], DType::U32)?;
    let (_, logits) = build(&mut g, x)?;
    let loss = g.cross_entropy(logits, y, Default::default())?;
    let spec = PlanSpec {
        watch: vec![loss],
        training: Some(Training::new(loss, Optimizer::Adam(AdamConfig::adam(2e-3)))),
        ..Default::default()
    };
    let mut plan = Plan::compile(ctx, &g, store, &spec)?;
    let steps = 300.min(4 * images.count / b);
    let (mut done, mut epoch) = (0, 0u64);
    while done < steps {
        for chunk in data::Batches::new(images.count, b, args.seed ^ 0x5c, epoch) {
            if chunk.len() < b || done >= steps {
                continue;
            }
            plan.set_input_f32(ctx, "x", &data::image_batch(&images.pixels, per, &chunk))?;
            let ys: Vec<u32> = chunk.iter().map(|&k| labels[k]).collect();
            plan.set_input_u32(ctx, "y", &ys)?;
            plan.step(ctx)?;
            done += 1;
        }
        epoch += 1;
    }
    let trained = plan.flush_readings(ctx)?;
    let last = trained.last().map_or(f32::NAN, |r| r.values[0][0]);

    // Features of real and generated images, 512 of each, in batches of b.
    let mut fg = Graph::new();
    let fx = fg.input("x", &[b, cfg.channels, cfg.size, cfg.size], DType::F32)?;
    let (feat, _) = build(&mut fg, fx)?;
    let fspec = PlanSpec {
        outputs: vec![feat],
        mode: Mode::Eval,
        ..Default::default()
    };
    let mut fplan = Plan::compile(ctx, &fg, store, &fspec)?;
    let (mut gen_plan, gen_images) = sampler(ctx, cfg, b, store)?;
    let n = 512.min(images.count / 2 / b * b).max(b);
    let mut real_a = Vec::new();
    let mut real_b = Vec::new();
    let mut fake = Vec::new();
    for k in 0..n / b {
        for (half, out) in [(0, &mut real_a), (1, &mut real_b)] {
            let idx: Vec<usize> = (0..b)
                .map(|i| half * images.count / 2 + k * b + i)
                .collect();
            fplan.set_input_f32(ctx, "x", &data::image_batch(&images.pixels, per, &idx))?;
            fplan.step(ctx)?;
            out.extend(fplan.read_f32(ctx, feat)?);
        }
        gen_plan.set_input_f32(
            ctx,
            "z",
            &normal_noise(args.seed ^ 0xfeed ^ k as u64, b * cfg.latent),
        )?;
        gen_plan.step(ctx)?;
        let generated = gen_plan.read_f32(ctx, gen_images)?;
        fplan.set_input_f32(ctx, "x", &generated)?;
        fplan.step(ctx)?;
        fake.extend(fplan.read_f32(ctx, feat)?);
    }
    let fd = kiln::metrics::frechet_distance(&fake, &real_a, features)?;
    let floor = kiln::metrics::frechet_distance(&real_b, &real_a, features)?;
    println!(
        "score: Fréchet distance {fd:.3} in the features of a classifier trained here (final loss {last:.3}); two halves of the real data: {floor:.3}"
    );
    Ok(Some((fd, floor)))
}

/// Writes `n` new images from a trained generator as a grid.
fn sample(ctx: &Context, cfg: DcganConfig, dir: &Path, n: usize, args: &Args) -> Result<()> {
    let ck = checkpoint::load(&dir.join(checkpoint::CHECKPOINT_FILE))?;
    let num = |k: &str, default: usize| {
        ck.metadata
            .get(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let cfg = DcganConfig {
        size: num("size", cfg.size),
        channels: num("channels", cfg.channels),
        latent: num("latent", cfg.latent),
        g_width: num("g_width", cfg.g_width),
        d_width: num("d_width", cfg.d_width),
    };
    let mut store = ParamStore::new(0);
    let (mut plan, images) = sampler(ctx, cfg, n.max(2), &mut store)?;
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    plan.set_input_f32(
        ctx,
        "z",
        &normal_noise(args.seed ^ 0x5a, n.max(2) * cfg.latent),
    )?;
    plan.step(ctx)?;
    let pixels = plan.read_f32(ctx, images)?;
    let path = args.out.join("samples.png");
    std::fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, e))?;
    let cols = (n as f64).sqrt().ceil() as usize;
    kiln::viz::image_grid(
        &path,
        &pixels,
        n,
        cfg.channels,
        cfg.size,
        cfg.size,
        cols.max(1),
    )?;
    println!("wrote {n} samples to {}", path.display());
    Ok(())
}
