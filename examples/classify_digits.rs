//! Trains a small convolutional classifier through kiln's `Trainer`: the example to copy for a
//! model of your own. Data: kiln's built-in handwritten digits, or `--data DIR` holding one
//! folder of images per class. Writes `metrics.csv`, `eval.csv` (held-out accuracy per epoch),
//! `checkpoint.safetensors` (with the model's config) and `summary.json` into `--out`.
//!
//! ```sh
//! cargo run --release --example classify_digits
//! cargo run --release --example classify_digits -- --data photos/ --epochs 8   # resized to 28x28 gray
//! ```

use std::path::PathBuf;

use clap::Parser;
use kiln::data::{Batches, LabelledImages};
use kiln::nn::{Conv2d, Linear};
use kiln::ops::elementwise::Activation::LeakyRelu;
use kiln::train::{classifier_accuracy, TrainOptions};
use kiln::{AdamConfig, Context, DType, Graph, Optimizer, ParamStore, Plan, PlanSpec, Result};
use kiln::{Trainer, Var};

#[path = "common/device.rs"]
mod device;

/// Train a convolutional classifier on digits or on your own class folders.
#[derive(Parser)]
struct Args {
    /// A folder with one subfolder of images per class (default: the built-in digits).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The run's folder.
    #[arg(long, default_value = "runs/classify_digits")]
    out: PathBuf,
    /// Passes over the training images.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    batch: u16,
    #[command(flatten)]
    device: device::DeviceArgs,
}

/// Images are resized to 28x28 grayscale.
const SIZE: usize = 28;

/// The model's sizes, saved in every checkpoint.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Config {
    classes: usize,
}

/// `[B, 1, 28, 28]` images -> `[B, classes]` logits: two strided convolutions, a linear layer.
fn classifier(g: &mut Graph, cfg: Config, x: Var) -> Result<Var> {
    let conv1 = Conv2d::new(g, "conv1", 1, 16, 4, 2, 1, true)?; // -> [B, 16, 14, 14]
    let conv2 = Conv2d::new(g, "conv2", 16, 32, 4, 2, 1, true)?; // -> [B, 32, 7, 7]
    let out = Linear::new(g, "out", 32 * 7 * 7, cfg.classes)?;
    let h = conv1.forward(g, x)?;
    let h = g.activation(h, LeakyRelu(0.1))?;
    let h = conv2.forward(g, h)?;
    let h = g.activation(h, LeakyRelu(0.1))?;
    let h = g.reshape(h, &[g.shape(h)?[0], 32 * 7 * 7])?;
    out.forward(g, h)
}

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<()> {
    let (ctx, b) = (args.device.context()?, args.batch as usize);
    let all = LabelledImages::from_folder_or_digits(args.data.as_deref(), SIZE, 12_000)?;
    println!("{}", all.summary());
    let (train, heldout) = all.split(0.1, 1);
    let classes = all.classes.len();
    let cfg = Config { classes };

    // One graph, two plans over the same weights: the training step, and the logits in eval mode.
    let mut g = Graph::new();
    let x = g.input("x", &[b, 1, SIZE, SIZE], DType::F32)?;
    let y = g.input("y", &[b], DType::U32)?;
    let logits = classifier(&mut g, cfg, x)?;
    let loss = g.cross_entropy(logits, y, Default::default())?;
    let mut store = ParamStore::new(1);
    let spec = PlanSpec::training(loss, Optimizer::Adam(AdamConfig::adam(2e-3)));
    let mut plan = Plan::compile(&ctx, &g, &mut store, &spec)?;
    let mut eval = Plan::compile(&ctx, &g, &mut store, &PlanSpec::eval(vec![logits]))?;

    let options = TrainOptions::new(args.epochs).show_progress();
    let mut run = Trainer::new(&ctx, &args.out, options.counting("images"), &cfg)?;
    let report = run.fit(
        &ctx,
        &mut plan,
        &store,
        |epoch| Batches::over(&train, b, epoch as u64).full(),
        |ctx, plan, idx| {
            let (images, labels) = all.batch(&idx);
            plan.set_input_f32(ctx, "x", &images)?;
            plan.set_input_u32(ctx, "y", &labels)?;
            plan.step(ctx)?;
            Ok(b)
        },
        |ctx, _, _| {
            let feed = |ctx: &Context, eval: &Plan, idx: &[usize]| {
                let (images, labels) = all.batch(idx);
                eval.set_input_f32(ctx, "x", &images)?;
                Ok(labels)
            };
            let accuracy = classifier_accuracy(ctx, &mut eval, logits, &heldout, feed)?;
            Ok(vec![("heldout_accuracy".into(), accuracy)])
        },
    )?;
    if let Some(accuracy) = report.score("heldout_accuracy") {
        println!("held-out accuracy {:.2}%", 100.0 * accuracy);
    }
    Ok(())
}
