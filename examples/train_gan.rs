//! Trains a DCGAN (Radford et al.; PyTorch's `examples/dcgan`) through kiln's `Trainer`: a
//! generator of transposed convolutions and a discriminator of strided convolutions, trained
//! against each other with Adam (lr 2e-4, β1 0.5) and the non-saturating generator loss, as two
//! plans over one parameter store.
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
//! Writes `samples_epoch_N.png` (an 8x8 grid from a fixed noise batch, every epoch),
//! `metrics.csv`, `loss.png`, `summary.json` (with a Fréchet distance in the feature space of a
//! classifier kiln trains on the same data, beside the distance between two halves of the real
//! data for scale) and `checkpoint.safetensors` into `--out`.

use std::path::{Path, PathBuf};

use clap::Parser;
use kiln::data::{self, normal_noise, Batches, LabelledImages};
use kiln::gan::{Gan, GanConfig};
use kiln::io::checkpoint;
use kiln::metrics::ImageScorer;
use kiln::nn::{DcganConfig, Generator};
use kiln::train::{Scores, TrainOptions};
use kiln::{AdamConfig, Context, DType, Error, Graph, Mode, Optimizer, ParamStore, Plan};
use kiln::{PlanSpec, Result, Trainer, Var};
use serde_json::json;

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
    /// Epochs of the whole run.
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// Images per step (real and generated alike).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(2..=4096))]
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
    /// The run's folder.
    #[arg(long, default_value = "runs/gan")]
    out: PathBuf,
    /// Continue the run saved in this folder (its model config is used, not the size flags).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// A trained run's folder, with --sample.
    #[arg(long, requires = "sample")]
    checkpoint: Option<PathBuf>,
    /// Draws this many images from --checkpoint's generator into `--out/samples.png`.
    #[arg(long, requires = "checkpoint", value_parser = clap::value_parser!(u32).range(2..=1024))]
    sample: Option<u32>,
    /// Seeds data, weights and noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<()> {
    let ctx = Context::new()?;
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
            let set = data::load_image_dir(dir, size, channels)?;
            println!("{}", set.summary());
            Ok(LabelledImages::unlabelled(set))
        }
        (Some(_), _) => Err(Error::Unsupported("--channels is 1 or 3".into())),
        (None, _) if channels != 1 => Err(gray_only("IDX files and the built-in digits")),
        (None, Some(path)) => LabelledImages::from_idx(path, size),
        (None, None) => Ok(LabelledImages::digits(args.seed, args.count, size)),
    }
}

/// A plan producing `n` images from its `z` input, in train mode as PyTorch's example samples
/// (batch statistics).
fn sampler(
    ctx: &Context,
    cfg: DcganConfig,
    n: usize,
    store: &mut ParamStore,
) -> Result<(Plan, Var)> {
    let mut g = Graph::new();
    let generator = Generator::new(&mut g, cfg)?;
    let z = g.input("z", &[n, cfg.latent, 1, 1], DType::F32)?;
    let images = generator.forward(&mut g, z)?;
    let spec = PlanSpec {
        outputs: vec![images],
        mode: Mode::Train,
        ..Default::default()
    };
    Ok((Plan::compile(ctx, &g, store, &spec)?, images))
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
    let (mut fixed, fixed_images) = sampler(ctx, cfg, 64, &mut store)?;
    fixed.set_input_f32(ctx, "z", &normal_noise(args.seed ^ 0xf1, 64 * cfg.latent))?;
    let options = TrainOptions::new(args.epochs)
        .show_progress()
        .counting("images");
    let mut run = Trainer::new(ctx, &args.out, options, &cfg)?;
    if let Some(ck) = &resumed {
        run.resume(ctx, ck, &mut store, &mut gan)?;
        println!(
            "resumed after epoch {}, step {}",
            run.first_epoch(),
            gan.step_count()
        );
    }
    let (ds, gs) = gan.stats();
    println!(
        "plans: {} + {} dispatches per step pair",
        ds.dispatches, gs.dispatches
    );
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
            kiln::viz::image_grid(&path, &grid, 64, cfg.channels, cfg.size, cfg.size, 8)?;
            Ok(Scores::new())
        },
    )?;
    report.plot(
        args.out.join("loss.png"),
        &["d_loss", "g_loss"],
        "train_gan: losses",
        false,
    )?;
    let (fd, floor) = match quality_score(ctx, cfg, &images, &mut store, args.seed)? {
        Some((fd, floor)) => (json!(fd), json!(floor)),
        None => (json!(null), json!(null)),
    };
    let last = |name: &str| kiln::train::number(report.last(name).unwrap_or(f64::NAN));
    let extra = json!({
        "data": images.set.dir.display().to_string(),
        "frechet_distance": fd,
        "frechet_distance_real_halves": floor,
        "d_x": last("d_x"),
        "d_g_z": last("d_g_z"),
    });
    run.write_summary(&report, extra)?;
    println!(
        "{}",
        std::fs::read_to_string(args.out.join("summary.json")).unwrap_or_default()
    );
    Ok(())
}

/// The Fréchet distance of 512 generated images to the real ones, in the features of a
/// classifier trained on the labelled real images, and the distance between two halves of the
/// real data (the floor a perfect generator would reach). `None` for unlabelled data.
fn quality_score(
    ctx: &Context,
    cfg: DcganConfig,
    images: &LabelledImages,
    store: &mut ParamStore,
    seed: u64,
) -> Result<Option<(f64, f64)>> {
    if images.labels.is_empty() || images.set.count < 128 {
        println!("score: needs 128 labelled images or more (a classifier to measure with)");
        return Ok(None);
    }
    let mut scorer = ImageScorer::train(ctx, images, seed)?;
    let (real_a, real_b) = ImageScorer::real_halves(images, 512);
    // Generated in batches of 64, as the generator trains (batch norm uses batch statistics).
    let (mut generator, generated) = sampler(ctx, cfg, 64, store)?;
    let mut fake = Vec::with_capacity(real_a.len());
    for k in 0..real_a.len() / images.set.per_image() / 64 {
        let noise = normal_noise(seed ^ 0xfeed ^ k as u64, 64 * cfg.latent);
        generator.set_input_f32(ctx, "z", &noise)?;
        generator.step(ctx)?;
        fake.extend(generator.read_f32(ctx, generated)?);
    }
    let fd = scorer.frechet(ctx, &fake, &real_a)?;
    let floor = scorer.frechet(ctx, &real_b, &real_a)?;
    println!(
        "score: Fréchet distance {fd:.3} in the features of a classifier trained here (final loss {:.3}); two halves of the real data: {floor:.3}",
        scorer.final_loss
    );
    Ok(Some((fd, floor)))
}

/// Writes `n` new images from a trained generator as a grid, rebuilt from the checkpoint alone.
fn sample(ctx: &Context, dir: &Path, n: usize, args: &Args) -> Result<()> {
    let ck = checkpoint::load(dir)?;
    let cfg: DcganConfig = ck.config()?;
    let mut store = ParamStore::new(0);
    let (mut plan, images) = sampler(ctx, cfg, n, &mut store)?;
    checkpoint::restore(ctx, &ck, &mut store, &[])?;
    plan.set_input_f32(ctx, "z", &normal_noise(args.seed ^ 0x5a, n * cfg.latent))?;
    plan.step(ctx)?;
    let pixels = plan.read_f32(ctx, images)?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::Io {
        path: args.out.display().to_string(),
        message: e.to_string(),
    })?;
    let path = args.out.join("samples.png");
    let cols = (n as f64).sqrt().ceil() as usize;
    kiln::viz::image_grid(&path, &pixels, n, cfg.channels, cfg.size, cfg.size, cols)?;
    println!("wrote {n} samples to {}", path.display());
    Ok(())
}
