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
/// Seeds the permutation that draws the two real sets: fixed, so every run of a data set is
/// measured against the same images.
const HALVES_SEED: u64 = 0x4a1f;

/// How generated images compare with real ones, from [`ImageScorer::quality`].
#[derive(Clone, Debug, PartialEq)]
pub struct SampleQuality {
    /// The Fréchet distance in the classifier's features (lower is better; read it against
    /// [`ImageScorer::real_floor`]).
    pub frechet: f64,
    /// Classes the classifier assigns at least 5 % of the generated images to: all of them for
    /// a generator that covers the data, few for one that has collapsed onto some modes.
    pub classes_covered: usize,
    /// Entropy of the predicted-class histogram, in bits: log2(classes) when the classes are
    /// equally common (3.32 for ten digits), 0 when every image is one class.
    pub class_entropy: f64,
    /// The generated images' mean pairwise feature distance over the real images': about 1 when
    /// samples vary as much as the data, near 0 when they collapse onto a few images.
    pub spread: f64,
    /// Generated images per predicted class.
    pub histogram: Vec<usize>,
}

impl SampleQuality {
    /// The four figures as evaluation scores: `frechet_distance`, `classes_covered`,
    /// `class_entropy`, `spread`.
    pub fn scores(&self) -> crate::train::Scores {
        crate::train::Scores::from([
            ("frechet_distance".to_string(), self.frechet),
            ("classes_covered".to_string(), self.classes_covered as f64),
            ("class_entropy".to_string(), self.class_entropy),
            ("spread".to_string(), self.spread),
        ])
    }
}

/// The mean Euclidean distance between all pairs of rows of `features` (`[n, FEATURES]`).
fn mean_pairwise_distance(features: &[f32]) -> f64 {
    let rows: Vec<&[f32]> = features.chunks(FEATURES).collect();
    let (mut sum, mut pairs) = (0.0f64, 0usize);
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let d2: f64 = a
                .iter()
                .zip(*b)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum();
            sum += d2.sqrt();
            pairs += 1;
        }
    }
    sum / pairs.max(1) as f64
}

/// A classifier trained on labelled images, whose features measure generated ones.
pub struct ImageScorer {
    plan: Plan,
    features: Var,
    logits: Var,
    classes: usize,
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
        let spec = PlanSpec::eval(vec![features, logits]);
        let plan = Plan::compile(ctx, &g, &mut store, &spec)?;
        Ok(ImageScorer {
            plan,
            features,
            logits,
            classes,
            per_image: set.per_image(),
            final_loss,
        })
    }

    /// The features `[n, 64]` of `n` images (`n x C x S x S` floats), `n` a multiple of 64.
    pub fn features(&mut self, ctx: &Context, images: &[f32]) -> Result<Vec<f32>> {
        Ok(self.features_and_classes(ctx, images)?.0)
    }

    /// The features `[n, 64]` and the predicted class of each of `n` images, `n` a multiple
    /// of 64: one step and two read-backs per 64 images.
    pub fn features_and_classes(
        &mut self,
        ctx: &Context,
        images: &[f32],
    ) -> Result<(Vec<f32>, Vec<usize>)> {
        let chunk = BATCH * self.per_image;
        if images.is_empty() || !images.len().is_multiple_of(chunk) {
            return Err(Error::Length {
                during: format!("ImageScorer::features: whole batches of {BATCH} images"),
                expected: images.len().div_ceil(chunk).max(1) * chunk,
                got: images.len(),
            });
        }
        let mut out = Vec::with_capacity(images.len() / self.per_image * FEATURES);
        let mut classes = Vec::with_capacity(images.len() / self.per_image);
        for batch in images.chunks(chunk) {
            self.plan.set_input_f32(ctx, "x", batch)?;
            self.plan.step(ctx)?;
            out.extend(self.plan.read_f32(ctx, self.features)?);
            let logits = self.plan.read_f32(ctx, self.logits)?;
            classes.extend(logits.chunks(self.classes).map(|row| {
                (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
                    .unwrap_or(0)
            }));
        }
        Ok((out, classes))
    }

    /// How `fake` images compare with `real` ones (both `n x C x S x S` floats, counts
    /// multiples of 64): the Fréchet distance, and the three signals of a generator that covers
    /// only some of the data (see [`SampleQuality`]).
    pub fn quality(&mut self, ctx: &Context, fake: &[f32], real: &[f32]) -> Result<SampleQuality> {
        let real_features = self.features(ctx, real)?;
        self.quality_against(ctx, fake, &real_features)
    }

    /// [`ImageScorer::quality`] against real images already in features
    /// ([`ImageScorer::features`]): what a probe that measures every epoch computes once.
    pub fn quality_against(
        &mut self,
        ctx: &Context,
        fake: &[f32],
        real_features: &[f32],
    ) -> Result<SampleQuality> {
        let rf = real_features;
        let (ff, fake_classes) = self.features_and_classes(ctx, fake)?;
        let mut histogram = vec![0usize; self.classes];
        for &c in &fake_classes {
            histogram[c] += 1;
        }
        let n = fake_classes.len().max(1) as f64;
        let classes_covered = histogram.iter().filter(|&&k| k as f64 >= 0.05 * n).count();
        let class_entropy: f64 = histogram
            .iter()
            .filter(|&&k| k > 0)
            .map(|&k| {
                let p = k as f64 / n;
                -p * p.log2()
            })
            .sum();
        // One class gives -(1 · log2 1) = -0, which prints as "-0.0000".
        let class_entropy = class_entropy.abs();
        Ok(SampleQuality {
            frechet: frechet_distance(&ff, rf, FEATURES)?,
            classes_covered,
            class_entropy,
            spread: mean_pairwise_distance(&ff) / mean_pairwise_distance(rf).max(1e-12),
            histogram,
        })
    }

    /// The Fréchet distance between two image sets in the classifier's features.
    pub fn frechet(&mut self, ctx: &Context, a: &[f32], b: &[f32]) -> Result<f64> {
        let (fa, fb) = (self.features(ctx, a)?, self.features(ctx, b)?);
        frechet_distance(&fa, &fb, FEATURES)
    }

    /// Two disjoint sets of `n` images of `data` each (`n` rounded down to a multiple of 64, at
    /// most half the set), drawn by a fixed permutation: the distance between them is the floor
    /// a generator is read against. Drawn rather than cut by position, because class folders
    /// load class by class: the first half of a sorted set holds only the first classes.
    pub fn real_halves(data: &LabelledImages, n: usize) -> (Vec<f32>, Vec<f32>) {
        let half = data.set.count / 2;
        let n = n.min(half / BATCH * BATCH);
        let order = Batches::new(data.set.count, data.set.count, HALVES_SEED, 0)
            .next()
            .unwrap_or_default();
        let first = &order[..n];
        let second = &order[half..half + n];
        let per = data.set.per_image();
        (
            image_batch(&data.set.images, per, first),
            image_batch(&data.set.images, per, second),
        )
    }

    /// [`ImageScorer::frechet`] between the two [`ImageScorer::real_halves`] of `data`.
    pub fn real_floor(&mut self, ctx: &Context, data: &LabelledImages, n: usize) -> Result<f64> {
        let (a, b) = ImageScorer::real_halves(data, n);
        self.frechet(ctx, &a, &b)
    }
}

/// What a generator's samples are measured against every epoch: a scorer trained on the
/// labelled real images, a fixed set of `count` of them, and the distance between two such
/// sets (the floor a perfect generator would reach).
pub struct QualityProbe {
    scorer: ImageScorer,
    /// The fixed real images, in the scorer's features (computed once).
    real_features: Vec<f32>,
    /// Images a measurement compares: pass this many samples to [`QualityProbe::measure`].
    pub count: usize,
    /// The Fréchet distance between two halves of the real data, `count` images each.
    pub floor: f64,
}

impl QualityProbe {
    /// The fewest labelled images a probe measures with: two sets of 256, so that each set's
    /// covariance over the 64 features rests on four times as many samples as it has
    /// dimensions.
    pub const MIN_IMAGES: usize = 512;

    /// A probe over `data`, or `None` when it cannot measure: no labels, or fewer than
    /// [`QualityProbe::MIN_IMAGES`]. It compares `count` images, rounded down to a multiple of
    /// 64 and to at most half the set (a folder of 1,800 digits is measured on 896).
    pub fn new(
        ctx: &Context,
        data: &LabelledImages,
        count: usize,
        seed: u64,
    ) -> Result<Option<QualityProbe>> {
        let count = count.min(data.set.count / 2) / BATCH * BATCH;
        if data.labels.is_empty() || 2 * count < Self::MIN_IMAGES {
            return Ok(None);
        }
        let mut scorer = ImageScorer::train(ctx, data, seed)?;
        let (real, other) = ImageScorer::real_halves(data, count);
        let real_features = scorer.features(ctx, &real)?;
        let floor = frechet_distance(&scorer.features(ctx, &other)?, &real_features, FEATURES)?;
        Ok(Some(QualityProbe {
            scorer,
            real_features,
            count,
            floor,
        }))
    }

    /// The scorer's final training loss (a check that it learnt).
    pub fn scorer_loss(&self) -> f32 {
        self.scorer.final_loss
    }

    /// How `fake` ([`count`](Self::count) images) compares with the probe's real images.
    pub fn measure(&mut self, ctx: &Context, fake: &[f32]) -> Result<SampleQuality> {
        self.scorer.quality_against(ctx, fake, &self.real_features)
    }
}
