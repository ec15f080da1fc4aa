//! [`ImageScorer`]: the feature space a generator is measured in. FID proper uses an Inception
//! network trained on ImageNet; kiln downloads nothing, so it trains a small classifier on the
//! same labelled images the generator learns from, and measures in its penultimate features.
//! The figure to read a distance against is [`ImageScorer::real_floor`], the distance between
//! two halves of the real data: a perfect generator would score about that.
//!
//! Network: `[B, C, S, S]` → conv 4x4/2 (16) → LeakyReLU → conv 4x4/2 (32) → LeakyReLU →
//! linear (64) → ReLU = the features → linear (classes). Adam 2e-3, 300 steps of 64 (at most
//! four epochs), with its own parameter store so it never mixes with the model's weights.

use crate::context::Context;
use crate::data::{image_batch, Batches, LabelledImages};
use crate::error::{Error, Result};
use crate::graph::{Graph, ParamStore, Plan, PlanSpec, Var};
use crate::nn::{Conv2d, Linear};
use crate::ops::elementwise::Activation;
use crate::optim::{AdamConfig, Optimizer};
use crate::tensor::DType;

use super::frechet_distance;

/// Images per step of the scorer's plans.
const BATCH: usize = 64;
/// Width of the feature layer.
const FEATURES: usize = 64;

/// A classifier trained on labelled images, whose features measure generated ones.
pub struct ImageScorer {
    plan: Plan,
    features: Var,
    per_image: usize,
    /// The classifier's training loss at its last step (a check that it learnt).
    pub final_loss: f32,
}

/// `[B, C, S, S]` → (features `[B, 64]`, logits `[B, classes]`).
fn network(
    g: &mut Graph,
    x: Var,
    channels: usize,
    size: usize,
    classes: usize,
) -> Result<(Var, Var)> {
    let flat = 32 * (size / 4) * (size / 4);
    let c1 = Conv2d::new(g, "scorer.conv1", channels, 16, 4, 2, 1, true)?;
    let c2 = Conv2d::new(g, "scorer.conv2", 16, 32, 4, 2, 1, true)?;
    let fc = Linear::new(g, "scorer.fc", flat, FEATURES)?;
    let out = Linear::new(g, "scorer.out", FEATURES, classes)?;
    let h = c1.forward(g, x)?;
    let h = g.activation(h, Activation::LeakyRelu(0.2))?;
    let h = c2.forward(g, h)?;
    let h = g.activation(h, Activation::LeakyRelu(0.2))?;
    let h = g.reshape(h, &[BATCH, flat])?;
    let f = fc.forward(g, h)?;
    let f = g.relu(f)?;
    let logits = out.forward(g, f)?;
    Ok((f, logits))
}

impl ImageScorer {
    /// Trains the classifier on `data` (which must have labels and at least one batch of 64
    /// images of a side divisible by 4), seeded by `seed`.
    pub fn train(ctx: &Context, data: &LabelledImages, seed: u64) -> Result<ImageScorer> {
        let set = &data.set;
        if data.labels.len() != set.count || set.count < BATCH || !set.size.is_multiple_of(4) {
            return Err(Error::Unsupported(format!(
                "ImageScorer: needs at least {BATCH} labelled images of a side divisible by 4 \
                 (got {} images, {} labels, side {})",
                set.count,
                data.labels.len(),
                set.size
            )));
        }
        let classes = data.classes.len().max(2);
        let shape = [BATCH, set.channels, set.size, set.size];
        let mut g = Graph::new();
        let x = g.input("x", &shape, DType::F32)?;
        let y = g.input("y", &[BATCH], DType::U32)?;
        let (features, logits) = network(&mut g, x, set.channels, set.size, classes)?;
        let loss = g.cross_entropy(logits, y, Default::default())?;
        let mut store = ParamStore::new(seed ^ 0x5c0e);
        let spec = PlanSpec::training(loss, Optimizer::Adam(AdamConfig::adam(2e-3)));
        let mut train = Plan::compile(ctx, &g, &mut store, &spec)?;
        let steps = 300.min(4 * set.count / BATCH);
        let mut done = 0;
        for epoch in 0.. {
            for chunk in Batches::new(set.count, BATCH, seed ^ 0x5c, epoch).full() {
                if done == steps {
                    break;
                }
                let (images, labels) = data.batch(&chunk);
                train.set_input_f32(ctx, "x", &images)?;
                train.set_input_u32(ctx, "y", &labels)?;
                train.step(ctx)?;
                done += 1;
            }
            if done == steps {
                break;
            }
        }
        let final_loss = train
            .flush_readings(ctx)?
            .last()
            .map_or(f32::NAN, |r| r.values[0][0]);
        let plan = Plan::compile(ctx, &g, &mut store, &PlanSpec::eval(vec![features]))?;
        Ok(ImageScorer {
            plan,
            features,
            per_image: set.per_image(),
            final_loss,
        })
    }

    /// The features `[n, 64]` of `n` images (`n x C x S x S` floats), `n` a multiple of 64.
    pub fn features(&mut self, ctx: &Context, images: &[f32]) -> Result<Vec<f32>> {
        let chunk = BATCH * self.per_image;
        if images.is_empty() || !images.len().is_multiple_of(chunk) {
            return Err(Error::Length {
                during: format!("ImageScorer::features: whole batches of {BATCH} images"),
                expected: images.len().div_ceil(chunk).max(1) * chunk,
                got: images.len(),
            });
        }
        let mut out = Vec::with_capacity(images.len() / self.per_image * FEATURES);
        for batch in images.chunks(chunk) {
            self.plan.set_input_f32(ctx, "x", batch)?;
            self.plan.step(ctx)?;
            out.extend(self.plan.read_f32(ctx, self.features)?);
        }
        Ok(out)
    }

    /// The Fréchet distance between two image sets in the classifier's features.
    pub fn frechet(&mut self, ctx: &Context, a: &[f32], b: &[f32]) -> Result<f64> {
        let (fa, fb) = (self.features(ctx, a)?, self.features(ctx, b)?);
        frechet_distance(&fa, &fb, FEATURES)
    }

    /// The images of `data` split in two halves of `n` each (`n` a multiple of 64, at most
    /// half the set): the distance between them is the floor a generator is read against.
    pub fn real_halves(data: &LabelledImages, n: usize) -> (Vec<f32>, Vec<f32>) {
        let half = data.set.count / 2;
        let n = n.min(half / BATCH * BATCH);
        let first: Vec<usize> = (0..n).collect();
        let second: Vec<usize> = (half..half + n).collect();
        let per = data.set.per_image();
        (
            image_batch(&data.set.images, per, &first),
            image_batch(&data.set.images, per, &second),
        )
    }

    /// [`ImageScorer::frechet`] between the two [`ImageScorer::real_halves`] of `data`.
    pub fn real_floor(&mut self, ctx: &Context, data: &LabelledImages, n: usize) -> Result<f64> {
        let (a, b) = ImageScorer::real_halves(data, n);
        self.frechet(ctx, &a, &b)
    }
}
