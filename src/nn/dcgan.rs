//! DCGAN (Radford et al., and PyTorch's `examples/dcgan`): a generator of transposed
//! convolutions with batch norm and ReLU ending in tanh, and a discriminator of strided
//! convolutions with LeakyReLU(0.2) and batch norm (none on its first layer), both initialised
//! from N(0, 0.02) (batch-norm scales from N(1, 0.02)).
//!
//! Shapes for image size S (32 or 64), C channels, latent Z, widths G and F:
//! - generator: `z [B, Z, 1, 1]` → ConvT(k4 s1 p0) `[B, G·2^(n-1), 4, 4]` → n−1 ConvT(k4 s2 p1)
//!   halving the width and doubling the side → ConvT(k4 s2 p1) to `[B, C, S, S]`, tanh;
//!   n = log2(S) − 2 blocks with batch norm and ReLU.
//! - discriminator: `x [B, C, S, S]` → Conv(k4 s2 p1) `[B, F, S/2, S/2]` LeakyReLU → n−1 Conv(k4
//!   s2 p1) doubling the width with batch norm and LeakyReLU → Conv(k4 s1 p0) to `[B, 1, 1, 1]`,
//!   returned as logits `[B]`.
//!
//! Parameters are named `generator.*` and `discriminator.*`, so each side's training plan lists
//! its own with [`Generator::trainable_names`] / [`Discriminator::trainable_names`]; the config
//! is a [`crate::gan::Players`], so [`crate::gan::Gan`] trains it.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::gan::{Network, Players};
use crate::graph::{Graph, Mode, ParamStore, Plan, PlanSpec, Var};
use crate::ops::elementwise::Activation;
use crate::tensor::DType;

use super::{BatchNorm2d, Conv2d, ConvTranspose2d};

/// Sizes of a DCGAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DcganConfig {
    /// Image side S: 32 or 64.
    pub size: usize,
    /// Image channels C: 1 or 3.
    pub channels: usize,
    /// Latent size Z.
    pub latent: usize,
    /// Generator width G (its last hidden layer's channels).
    pub g_width: usize,
    /// Discriminator width F (its first layer's channels).
    pub d_width: usize,
}

impl DcganConfig {
    /// Blocks n between the 4x4 map and the image: log2(S) − 2; an error for a size other
    /// than 32 or 64, or channels, latent or a width outside [1, 2^16] (a config read from a
    /// checkpoint is the user's file).
    fn blocks(&self) -> Result<usize> {
        let max = super::limits::MAX_WIDTH;
        for (field, value) in [
            ("channels", self.channels),
            ("latent", self.latent),
            ("g_width", self.g_width),
            ("d_width", self.d_width),
        ] {
            if !(1..=max).contains(&value) {
                return Err(Error::Unsupported(format!(
                    "dcgan config: {field} = {value} is outside [1, {max}]"
                )));
            }
        }
        match self.size {
            32 => Ok(3),
            64 => Ok(4),
            s => Err(Error::Unsupported(format!(
                "dcgan: image size must be 32 or 64, got {s}"
            ))),
        }
    }
}

/// The generator's layers.
#[derive(Clone, Debug)]
pub struct Generator {
    layers: Vec<(ConvTranspose2d, Option<BatchNorm2d>)>,
    latent: usize,
}

/// Which weights a [`Generator::sampler`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeneratorWeights {
    /// The trained weights, `generator.*`.
    Trained,
    /// Their moving average, `ema.generator.*`, kept when the generator's plan trains with
    /// [`crate::train::Training::ema_decay`] ([`crate::gan::GanConfig::ema_decay`]).
    Average,
}

impl GeneratorWeights {
    fn prefix(self) -> String {
        match self {
            GeneratorWeights::Trained => "generator".into(),
            GeneratorWeights::Average => crate::train::ema_name("generator"),
        }
    }
}

impl Generator {
    /// Declares the generator in `g`.
    pub fn new(g: &mut Graph, cfg: DcganConfig) -> Result<Generator> {
        Generator::named(g, cfg, "generator")
    }

    /// Declares the generator in `g` with its parameters named under `prefix`.
    fn named(g: &mut Graph, cfg: DcganConfig, prefix: &str) -> Result<Generator> {
        let n = cfg.blocks()?;
        let mut layers = Vec::new();
        let mut c_in = cfg.latent;
        for i in 0..n {
            let c_out = cfg.g_width << (n - 1 - i);
            let (stride, padding) = if i == 0 { (1, 0) } else { (2, 1) };
            let name = format!("{prefix}.{i}");
            let conv = ConvTranspose2d::new(
                g,
                &format!("{name}.conv"),
                c_in,
                c_out,
                4,
                stride,
                padding,
                false,
            )?;
            let bn = BatchNorm2d::new(g, &format!("{name}.bn"), c_out)?;
            layers.push((conv, Some(bn)));
            c_in = c_out;
        }
        let out = ConvTranspose2d::new(
            g,
            &format!("{prefix}.{n}.conv"),
            c_in,
            cfg.channels,
            4,
            2,
            1,
            false,
        )?;
        layers.push((out, None));
        Ok(Generator {
            layers,
            latent: cfg.latent,
        })
    }

    /// `z [B, Z, 1, 1]` → images `[B, C, S, S]` in (−1, 1).
    pub fn forward(&self, g: &mut Graph, z: Var) -> Result<Var> {
        let mut x = z;
        for (conv, bn) in &self.layers {
            x = conv.forward(g, x)?;
            x = match bn {
                Some(bn) => {
                    let y = bn.forward(g, x)?;
                    g.relu(y)?
                }
                None => g.activation(x, Activation::Tanh)?,
            };
        }
        Ok(x)
    }

    /// Latent size Z.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// The generator's trainable parameter names (running statistics excluded).
    pub fn trainable_names(g: &Graph) -> Vec<String> {
        g.trainable_params("generator.")
    }

    /// A plan drawing `n` images from its `z` input (`[n, Z, 1, 1]`) over `store`'s generator
    /// weights (trained or averaged), in train mode as PyTorch's DCGAN samples (batch
    /// statistics), and the images' [`Var`] to read.
    pub fn sampler(
        ctx: &Context,
        cfg: DcganConfig,
        n: usize,
        store: &mut ParamStore,
        weights: GeneratorWeights,
    ) -> Result<(Plan, Var)> {
        let mut g = Graph::new();
        let generator = Generator::named(&mut g, cfg, &weights.prefix())?;
        let z = g.input("z", &[n, cfg.latent, 1, 1], DType::F32)?;
        let images = generator.forward(&mut g, z)?;
        let spec = PlanSpec {
            outputs: vec![images],
            mode: Mode::Train,
            ..Default::default()
        };
        Ok((Plan::compile(ctx, &g, store, &spec)?, images))
    }

    /// `count` images (a multiple of `plan`'s batch) from a [`sampler`](Self::sampler) plan,
    /// on noise seeded by `seed`: one step and one read-back per batch.
    pub fn sample(
        ctx: &Context,
        (plan, images): (&mut Plan, Var),
        cfg: DcganConfig,
        count: usize,
        seed: u64,
    ) -> Result<Vec<f32>> {
        let batch = plan.input_tensor("z")?.shape()[0];
        let mut out = Vec::with_capacity(count * cfg.channels * cfg.size * cfg.size);
        for k in 0..count.div_ceil(batch.max(1)) {
            let noise = crate::data::normal_noise(seed ^ k as u64, batch * cfg.latent);
            plan.set_input_f32(ctx, "z", &noise)?;
            plan.step(ctx)?;
            out.extend(plan.read_f32(ctx, images)?);
        }
        Ok(out)
    }
}

/// The discriminator's layers.
#[derive(Clone, Debug)]
pub struct Discriminator {
    layers: Vec<(Conv2d, Option<BatchNorm2d>)>,
}

impl Discriminator {
    /// Declares the discriminator in `g`.
    pub fn new(g: &mut Graph, cfg: DcganConfig) -> Result<Discriminator> {
        let n = cfg.blocks()?;
        let mut layers = Vec::new();
        let mut c_in = cfg.channels;
        for i in 0..n {
            let c_out = cfg.d_width << i;
            let name = format!("discriminator.{i}");
            let conv = Conv2d::new(g, &format!("{name}.conv"), c_in, c_out, 4, 2, 1, false)?;
            let bn = if i == 0 {
                None
            } else {
                Some(BatchNorm2d::new(g, &format!("{name}.bn"), c_out)?)
            };
            layers.push((conv, bn));
            c_in = c_out;
        }
        let out = Conv2d::new(
            g,
            &format!("discriminator.{n}.conv"),
            c_in,
            1,
            4,
            1,
            0,
            false,
        )?;
        layers.push((out, None));
        Ok(Discriminator { layers })
    }

    /// Images `[B, C, S, S]` → logits `[B]` (and the features before the last layer,
    /// `[B, F·2^(n−1), 4, 4]`, for a feature-space score).
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let mut x = x;
        let last = self.layers.len() - 1;
        for (i, (conv, bn)) in self.layers.iter().enumerate() {
            x = conv.forward(g, x)?;
            if i == last {
                break;
            }
            if let Some(bn) = bn {
                x = bn.forward(g, x)?;
            }
            x = g.activation(x, Activation::LeakyRelu(0.2))?;
        }
        let b = g.shape(x)?[0];
        g.reshape(x, &[b])
    }

    /// The discriminator's trainable parameter names (running statistics excluded).
    pub fn trainable_names(g: &Graph) -> Vec<String> {
        g.trainable_params("discriminator.")
    }
}

impl Players for DcganConfig {
    fn declare(&self, g: &mut Graph) -> Result<(Network, Network)> {
        let generator = Generator::new(g, *self)?;
        let discriminator = Discriminator::new(g, *self)?;
        Ok((
            Box::new(move |g: &mut Graph, z: Var| generator.forward(g, z)),
            Box::new(move |g: &mut Graph, x: Var| discriminator.forward(g, x)),
        ))
    }

    fn noise_shape(&self) -> Vec<usize> {
        vec![self.latent, 1, 1]
    }

    fn sample_shape(&self) -> Vec<usize> {
        vec![self.channels, self.size, self.size]
    }
}
