//! Parameters by name: [`ParamStore`] owns every trainable tensor, so that plans compiled from
//! different graphs (a training and an inference graph, a GAN's two steps) share weights without
//! copies; [`Init`] fills a parameter the first time a store meets its name.

use std::collections::BTreeMap;

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::tensor::{numel, DType, Tensor};

/// How a parameter starts. Fans: a 2-D weight is `[in, out]` (kiln's `x·W` layout); a weight
/// with more axes is `[out, in, k..]` (PyTorch's convolutions): fan_in = in·Πk, fan_out = out·Πk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros (biases, LayerNorm's beta).
    Zeros,
    /// All ones (LayerNorm's gamma).
    Ones,
    /// N(mean, std²) (GPT-2 and DCGAN use std 0.02).
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        std: f32,
    },
    /// U(-a, a) with a = √(6 / (fan_in + fan_out)), Glorot and Bengio's uniform.
    XavierUniform,
    /// N(0, 2 / (fan_in + fan_out)).
    XavierNormal,
    /// U(lo, hi).
    Uniform {
        /// Lower bound.
        lo: f32,
        /// Upper bound.
        hi: f32,
    },
}

impl Init {
    /// N(0, std²).
    pub fn normal(std: f32) -> Init {
        Init::Normal { mean: 0.0, std }
    }

    /// The initial values for `shape`, from a generator seeded by `seed`.
    pub fn sample(&self, shape: &[usize], seed: u64) -> Vec<f32> {
        let n = numel(shape);
        let mut rng = SplitMix(seed);
        let (fan_in, fan_out) = fans(shape);
        let glorot = 2.0 / (fan_in + fan_out).max(1) as f64;
        match *self {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Normal { mean, std } => (0..n)
                .map(|_| (mean as f64 + std as f64 * rng.normal()) as f32)
                .collect(),
            Init::XavierUniform => {
                let a = (3.0 * glorot).sqrt();
                (0..n)
                    .map(|_| (a * (2.0 * rng.unit() - 1.0)) as f32)
                    .collect()
            }
            Init::XavierNormal => (0..n)
                .map(|_| (glorot.sqrt() * rng.normal()) as f32)
                .collect(),
            Init::Uniform { lo, hi } => (0..n)
                .map(|_| (lo as f64 + (hi - lo) as f64 * rng.unit()) as f32)
                .collect(),
        }
    }
}

fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [i, o] => (*i, *o),
        [o, i, rest @ ..] => {
            let k: usize = rest.iter().product();
            (i * k, o * k)
        }
    }
}

/// SplitMix64 (Steele et al.): tiny, full-period, and good enough to draw initial weights.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box-Muller.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// FNV-1a of a name, so a parameter's initial values depend on its name and the store's seed,
/// not on the order in which graphs declare parameters.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Every parameter tensor, by name. Plans compiled against one store share its tensors.
#[derive(Debug)]
pub struct ParamStore {
    seed: u64,
    tensors: BTreeMap<String, Tensor>,
}

impl ParamStore {
    /// An empty store; `seed` decides every initial value.
    pub fn new(seed: u64) -> ParamStore {
        ParamStore {
            seed,
            tensors: BTreeMap::new(),
        }
    }

    /// The tensor of a parameter, if the store has it.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Parameter names and tensors, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Tensor)> {
        self.tensors.iter()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Total f32 elements over all parameters.
    pub fn numel(&self) -> usize {
        self.tensors.values().map(Tensor::numel).sum()
    }

    /// Overwrites a parameter's values in place (loading a checkpoint): every plan holding it
    /// sees the new values. Creates it if the store does not have it yet.
    pub fn write(
        &mut self,
        ctx: &Context,
        name: &str,
        shape: &[usize],
        data: &[f32],
    ) -> Result<()> {
        match self.tensors.get(name) {
            Some(t) if t.shape() != shape => Err(shape_error(
                "param_store",
                format!("parameter '{name}' of its existing shape"),
                &[t.shape(), shape],
            )),
            Some(t) => t.write_f32(ctx, data),
            None => {
                let t = Tensor::from_f32(ctx, shape, data)?;
                self.tensors.insert(name.to_string(), t);
                Ok(())
            }
        }
    }

    /// The parameter's tensor, created and initialised on first use. A parameter the store
    /// already has must be declared with the same shape.
    pub(crate) fn get_or_init(
        &mut self,
        ctx: &Context,
        name: &str,
        shape: &[usize],
        init: Init,
    ) -> Result<Tensor> {
        if let Some(t) = self.tensors.get(name) {
            if t.shape() != shape || t.dtype() != DType::F32 {
                return Err(Error::Graph(format!(
                    "parameter '{name}' is declared with shape {shape:?} but the store holds {:?}",
                    t.shape()
                )));
            }
            return Ok(t.clone());
        }
        let data = init.sample(shape, self.seed ^ name_hash(name));
        let t = Tensor::from_f32(ctx, shape, &data)?;
        self.tensors.insert(name.to_string(), t.clone());
        Ok(t)
    }

    /// The tensor `name`, created on first use as a copy of `source`'s current values (a
    /// parameter's moving average starts at the parameter).
    pub(crate) fn get_or_copy(
        &mut self,
        ctx: &Context,
        name: &str,
        source: &Tensor,
    ) -> Result<Tensor> {
        if let Some(t) = self.tensors.get(name) {
            if t.shape() != source.shape() || t.dtype() != DType::F32 {
                return Err(Error::Graph(format!(
                    "'{name}' must be f32 of shape {:?}, like its source, but the store holds {:?}",
                    source.shape(),
                    t.shape()
                )));
            }
            return Ok(t.clone());
        }
        let t = Tensor::from_f32(ctx, source.shape(), &source.to_vec_f32(ctx)?)?;
        self.tensors.insert(name.to_string(), t.clone());
        Ok(t)
    }
}
