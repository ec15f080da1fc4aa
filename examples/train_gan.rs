//! Trains a DCGAN (Radford et al.; PyTorch's `examples/dcgan`) through kiln's `Trainer`: a
//! generator of transposed convolutions and a discriminator of strided convolutions, trained
//! against each other with Adam (β1 0.5; the discriminator at 2e-4, the generator at 4e-4) and
//! the non-saturating generator loss, as two plans over one parameter store.
//!
//! Built-in data (the default): handwritten-looking digits drawn from strokes with random
//! thickness, slant, scale and offset, 32x32 grayscale. Your own: `--data DIR` (every PNG,
//! JPEG and BMP under it, center-cropped and resized) or `--idx FILE` (MNIST's IDX images).
//!
//! ```sh
//! cargo run --release --example train_gan                         # digits, to runs/gan
//! cargo run --release --example train_gan -- --data faces/ --size 64 --channels 3
//! cargo run --release --example train_gan -- --resume runs/gan --epochs 6
//! cargo run --release --example train_gan -- --checkpoint runs/gan --sample 64
//! ```
//! Writes into `--out`: `samples_epoch_N.png` (an 8x8 grid from a fixed noise batch, every
//! epoch, scaled up to 512 pixels and more), `progress.png` (one fixed sample per epoch, left to
//! right), `metrics.csv` (losses, D(x), D(G(z)) per step), `eval.csv` (per epoch, on 1,024
//! samples: the Fréchet distance in the features of a classifier trained here on the real
//! data, the classes covered by at least 5 % of samples, the class histogram's entropy in bits,
//! and the samples' feature spread against the real data's), `loss.png`, `quality.png`,
//! `coverage.png`, `summary.json` (with the distance between two halves of the real data for
//! scale, and any epoch whose D(x) or D(G(z)) stayed pinned near 0 or 1) and
//! `checkpoint.safetensors`.

use std::path::{Path, PathBuf};

use clap::Parser;
use kiln::data::{self, normal_noise, Batches, LabelledImages};
use kiln::gan::{Gan, GanConfig, GanLoss};
use kiln::io::checkpoint;
use kiln::metrics::QualityProbe;
use kiln::nn::{DcganConfig, Generator, GeneratorWeights};
use kiln::optim::Schedule;
use kiln::train::{Scores, TrainOptions};
use kiln::{AdamConfig, Context, Error, Optimizer, ParamStore, Result, Trainer};
use serde_json::json;

#[path = "common/device.rs"]
mod device;

/// Train a DCGAN on digits, an image folder or MNIST's IDX files.
#[derive(Parser, Debug)]
struct Args {
    /// A folder of PNG/JPEG/BMP images (default: the built-in digits).
    #[arg(long, conflicts_with = "idx")]
    data: Option<PathBuf>,
    /// An IDX image file (MNIST's `train-images-idx3-ubyte`; its labels file is used if beside).
    #[arg(long)]
    idx: Option<PathBuf>,
    /// Image side.
    #[arg(long, default_value = "32", value_parser = ["32", "64"])]
    size: String,
    /// Channels: 1 (gray) or 3 (RGB).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
    channels: u8,
    /// Step pairs of the whole run, in whole epochs (at least one); the same budget suits a
    /// folder of 1,800 images and one of 60,000.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u32).range(1..))]
    steps: u32,
    /// Epochs of the whole run, instead of --steps.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    epochs: Option<u32>,
    /// Images per step (real and generated alike).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(2..=4096))]
    batch: u32,
    /// Latent size Z.
    #[arg(long, default_value_t = 32)]
    latent: usize,
    /// Generator width (its last hidden layer's channels).
    #[arg(long, default_value_t = 32)]
    g_width: usize,
    /// Discriminator width (its first layer's channels).
    #[arg(long, default_value_t = 16)]
    d_width: usize,
    /// Built-in digits generated.
    #[arg(long, default_value_t = 6400)]
    count: usize,
    /// The run's folder (default: the --resume folder, else runs/gan).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run saved in this folder (its model config is used, not the size flags).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// A trained run's folder, with --sample.
    #[arg(long, requires = "sample")]
    checkpoint: Option<PathBuf>,
    /// Draws this many images from --checkpoint's generator into `--out/samples.png`.
    #[arg(long, requires = "checkpoint", value_parser = clap::value_parser!(u32).range(2..=1024))]
    sample: Option<u32>,
    /// The discriminator's Adam learning rate.
    #[arg(long, default_value_t = 2e-4, value_parser = kiln::train::flags::learning_rate)]
    lr_d: f32,
    /// The generator's Adam learning rate (twice the discriminator's: measured better at this
    /// budget, see the README).
    #[arg(long, default_value_t = 4e-4, value_parser = kiln::train::flags::learning_rate)]
    lr_g: f32,
    /// Both learning rates over the run: constant, or falling along a cosine to zero at the
    /// last step.
    #[arg(long, value_enum, default_value_t = LrSchedule::Constant)]
    lr_schedule: LrSchedule,
    /// The discriminator's target for real images (below 1: one-sided label smoothing).
    #[arg(long, default_value_t = 1.0, value_parser = kiln::train::flags::fraction)]
    real_label: f32,
    /// The game's losses: bce (non-saturating), hinge or ls (least squares).
    #[arg(long, default_value = "bce")]
    loss: GanLoss,
    /// Decay of the moving average of the generator's weights that grids, scores and
    /// --sample draw from (0: the trained weights themselves).
    #[arg(long, default_value_t = 0.999, value_parser = ema_decay)]
    ema: f32,
    /// Seeds data, weights and noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    device: device::DeviceArgs,
}

impl Args {
    fn out(&self) -> PathBuf {
        kiln::train::run_dir(self.out.as_deref(), self.resume.as_deref(), "runs/gan")
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LrSchedule {
    Constant,
    Cosine,
}

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("error: {e}");
        if let kiln::Error::Interrupted { dir, .. } = &e {
            eprintln!("continue with the same command and --resume {dir}");
            std::process::exit(130);
        }
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<()> {
    let ctx = args.device.context()?;
    println!("adapter: {}", ctx.adapter_summary());
    if let (Some(dir), Some(n)) = (&args.checkpoint, args.sample) {
        return sample(&ctx, dir, n as usize, args);
    }
    train(&ctx, args)
}

fn load_images(args: &Args, size: usize, channels: usize) -> Result<LabelledImages> {
    let gray_only = |what: &str| Error::Unsupported(format!("{what} are grayscale: --channels 1"));
    match (&args.data, &args.idx) {
        (Some(dir), _) if channels == 1 || channels == 3 => {
            let images = LabelledImages::from_folder(dir, size, channels)?;
            println!("{}", images.set.summary());
            match images.classes.len() {
                0 => println!("labels: none (no class folders): coverage is not measured"),
                n => println!("labels: {n} classes from the folder names"),
            }
            Ok(images)
        }
        (Some(_), _) => Err(Error::Unsupported("--channels is 1 or 3".into())),
        (None, _) if channels != 1 => Err(gray_only("IDX files and the built-in digits")),
        (None, Some(path)) => LabelledImages::from_idx(path, size),
        (None, None) => Ok(LabelledImages::digits(args.seed, args.count, size)),
    }
}

fn train(ctx: &Context, args: &Args) -> Result<()> {
    let resumed = args.resume.as_ref().map(checkpoint::load).transpose()?;
    let cfg: DcganConfig = match &resumed {
        Some(ck) => ck.config()?,
        None => DcganConfig {
            size: args.size.parse().unwrap_or(32),
            channels: args.channels as usize,
            latent: args.latent,
            g_width: args.g_width,
            d_width: args.d_width,
        },
    };
    let images = load_images(args, cfg.size, cfg.channels)?;
    let (count, b, per) = (
        images.set.count,
        args.batch as usize,
        images.set.per_image(),
    );
    println!(
        "data: {} ({count} images {}x{}x{})",
        images.set.dir.display(),
        cfg.channels,
        cfg.size,
        cfg.size
    );
    if count < b {
        return Err(Error::Unsupported(format!(
            "{count} images are fewer than one batch of {b}: use --batch"
        )));
    }

    let per_epoch = count / b;
    let epochs = match args.epochs {
        Some(e) => e as usize,
        None => ((args.steps as usize + per_epoch / 2) / per_epoch).max(1),
    };
    let schedule = match args.lr_schedule {
        LrSchedule::Constant => Schedule::Constant,
        LrSchedule::Cosine => Schedule::WarmupCosine {
            warmup: 0,
            total: (epochs * per_epoch) as u64,
            min_factor: 0.0,
        },
    };
    let mut store = ParamStore::new(args.seed);
    let adam = |lr: f32| {
        Optimizer::Adam(AdamConfig {
            beta1: 0.5,
            ..AdamConfig::adam(lr)
        })
    };
    let gan_config = GanConfig {
        batch: b,
        d_optimizer: adam(args.lr_d),
        g_optimizer: adam(args.lr_g),
        schedule,
        seed: args.seed,
        real_label: args.real_label,
        loss: args.loss,
        ema_decay: (args.ema > 0.0).then_some(args.ema),
    };
    let mut gan = Gan::new(ctx, &cfg, &mut store, &gan_config)?;
    let weights = match gan_config.ema_decay {
        Some(_) => GeneratorWeights::Average,
        None => GeneratorWeights::Trained,
    };
    let (mut fixed, fixed_images) = Generator::sampler(ctx, cfg, 64, &mut store, weights)?;
    fixed.set_input_f32(ctx, "z", &normal_noise(args.seed ^ 0xf1, 64 * cfg.latent))?;
    // Measured every epoch: 1,024 samples against 1,024 real images, in the features of a
    // classifier trained here on the labelled real images.
    let mut probe = QualityProbe::new(ctx, &images, 1024, args.seed)?;
    match &probe {
        Some(p) => println!(
            "score: two halves of the real data: Fréchet distance {:.3} (classifier loss {:.3})",
            p.floor,
            p.scorer_loss()
        ),
        None => println!(
            "score: unavailable (needs {} labelled images or more; class folders label a \
             --data folder)",
            QualityProbe::MIN_IMAGES
        ),
    }
    let (mut judged, judged_images) = Generator::sampler(ctx, cfg, 64, &mut store, weights)?;
    let score_every = epochs.div_ceil(10);
    println!(
        "budget: {epochs} epochs of {per_epoch} step pairs ({} in all){}",
        epochs * per_epoch,
        match score_every {
            1 => String::new(),
            k => format!(", scored every {k} epochs and at the end"),
        }
    );
    let options = TrainOptions::new(epochs)
        .show_progress()
        .stop_on_ctrl_c()
        .counting("images");
    let mut run = Trainer::new(ctx, args.out(), options, &cfg)?;
    if let Some(ck) = &resumed {
        run.resume(ctx, ck, &mut store, &mut gan)?;
    }
    let (ds, gs) = gan.stats();
    println!(
        "plans: {} + {} dispatches per step pair",
        ds.dispatches, gs.dispatches
    );
    let (mut progress, mut warnings) = (Vec::new(), Vec::new());
    let report = run.fit(
        ctx,
        &mut gan,
        &store,
        |epoch| Batches::new(count, b, args.seed, epoch as u64).full(),
        |ctx, gan, chunk| {
            gan.step(ctx, &data::image_batch(&images.set.images, per, &chunk))?;
            Ok(b)
        },
        |ctx, _, end| {
            // The fixed noise's images, so the grids are comparable across the run.
            fixed.step(ctx)?;
            let grid = fixed.read_f32(ctx, fixed_images)?;
            let path = end.dir.join(format!("samples_epoch_{}.png", end.epoch));
            let side = cfg.size;
            kiln::viz::image_grid(&path, &grid, 64, cfg.channels, side, side, 8)?;
            // One fixed sample per epoch, left to right: how one noise vector's image evolves.
            progress.extend_from_slice(&grid[..per]);
            let shown = progress.len() / per;
            let path = end.dir.join("progress.png");
            kiln::viz::image_grid(&path, &progress, shown, cfg.channels, side, side, shown)?;
            for w in kiln::gan::game_warnings(end) {
                eprintln!("warning: {w}");
                warnings.push(w);
            }
            // At most about ten scores a run (a small folder runs 30 epochs of a few seconds
            // each): every `score_every`-th epoch and the last.
            let scored = end.epoch % score_every == 0 || end.epoch == epochs;
            let Some(probe) = probe.as_mut().filter(|_| scored) else {
                return Ok(Scores::new());
            };
            let seed = args.seed ^ 0xfeed ^ ((end.epoch as u64) << 20);
            let fake =
                Generator::sample(ctx, (&mut judged, judged_images), cfg, probe.count, seed)?;
            Ok(probe.measure(ctx, &fake)?.scores())
        },
    )?;
    report.plot(
        args.out().join("loss.png"),
        &["d_loss", "g_loss"],
        "train_gan: losses",
        false,
    )?;
    if probe.is_some() {
        // The plots' bitmap font is ASCII.
        let title = "train_gan: Frechet distance to real digits per epoch";
        report.plot(
            args.out().join("quality.png"),
            &["frechet_distance"],
            title,
            true,
        )?;
        let title = "train_gan: mode coverage per epoch";
        let names = ["classes_covered", "class_entropy", "spread"];
        report.plot(args.out().join("coverage.png"), &names, title, false)?;
    }
    let last = |name: &str| kiln::train::number(report.last(name).unwrap_or(f64::NAN));
    let extra = json!({
        "data": images.set.dir.display().to_string(),
        "frechet_distance_real_halves": probe.as_ref().map(|p| kiln::train::number(p.floor)),
        "labels": images.classes,
        "quality": match &probe {
            Some(p) if score_every == 1 => format!("measured every epoch on {} samples", p.count),
            Some(p) => format!(
                "measured every {score_every} epochs and at the end, on {} samples",
                p.count
            ),
            None if images.classes.is_empty() => {
                "unavailable: the images have no labels (put each class in a folder of its own)"
                    .to_string()
            }
            None => format!(
                "unavailable: fewer than {} labelled images",
                QualityProbe::MIN_IMAGES
            ),
        },
        "d_x": last("d_x"),
        "d_g_z": last("d_g_z"),
        "warnings": warnings,
    });
    run.write_summary(&report, extra)?;
    let summary = std::fs::read_to_string(args.out().join("summary.json")).unwrap_or_default();
    println!("{summary}");
    Ok(())
}

/// A moving average's decay: 0 (none) or in (0, 1).
fn ema_decay(text: &str) -> std::result::Result<f32, String> {
    match text.parse::<f32>() {
        Ok(d) if d == 0.0 || (d > 0.0 && d < 1.0) => Ok(d),
        _ => Err(format!(
            "a decay is 0 (off) or between 0 and 1, got '{text}'"
        )),
    }
}

/// Writes `n` new images from a trained generator (its moving average where the run kept one) as a grid, rebuilt from the checkpoint alone.
fn sample(ctx: &Context, dir: &Path, n: usize, args: &Args) -> Result<()> {
    let ck = checkpoint::load(dir)?;
    let cfg: DcganConfig = ck.config()?;
    let mut store = ParamStore::new(0);
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    let averaged = store
        .iter()
        .any(|(name, _)| name.starts_with("ema.generator."));
    let weights = if averaged {
        GeneratorWeights::Average
    } else {
        GeneratorWeights::Trained
    };
    let (mut plan, images) = Generator::sampler(ctx, cfg, n, &mut store, weights)?;
    plan.set_input_f32(ctx, "z", &normal_noise(args.seed ^ 0x5a, n * cfg.latent))?;
    plan.step(ctx)?;
    let pixels = plan.read_f32(ctx, images)?;
    std::fs::create_dir_all(args.out()).map_err(|e| Error::Io {
        path: args.out().display().to_string(),
        message: e.to_string(),
    })?;
    let path = args.out().join("samples.png");
    let cols = (n as f64).sqrt().ceil() as usize;
    kiln::viz::image_grid(&path, &pixels, n, cfg.channels, cfg.size, cfg.size, cols)?;
    println!("wrote {n} samples to {}", path.display());
    Ok(())
}
