//! Training: what a plan needs beyond the graph ([`Training`]: the loss, which parameters, the
//! optimizer and schedule from [`crate::optim`], clipping), and the loop every program shares
//! ([`Trainer`]: epochs, `metrics.csv`, evaluation, checkpoints with the model's config,
//! resumption, `summary.json`).

pub mod flags;
mod interrupt;
mod log;
mod trainer;

pub use interrupt::Stopper;

pub use trainer::{
    classifier_accuracy, no_evaluation, number, EpochEnd, Report, Scores, Steps, TrainOptions,
    Trainer,
};

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::graph::Var;
use crate::optim::{Optimizer, Schedule};

/// How a plan trains: which loss, which parameters, how.
#[derive(Clone, Debug)]
pub struct Training {
    /// The scalar loss.
    pub loss: Var,
    /// Names of the parameters this plan updates; `None` updates every parameter of the graph
    /// except state that an op writes in place (batch norm's running statistics).
    /// A GAN's two plans name disjoint sets over shared weights.
    pub params: Option<Vec<String>>,
    /// The update rule.
    pub optimizer: Optimizer,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// Clip the gradients to this global L2 norm (PyTorch's `clip_grad_norm_`), on the GPU.
    pub clip_norm: Option<f32>,
    /// Keep an exponential moving average of every trained parameter, with this decay (warmed
    /// up as [`crate::optim::average_decay`] says), updated on the GPU after each step's
    /// update, in the store as `ema.<name>`: weights to evaluate or sample from, smoother than
    /// the last step's (Polyak averaging; a GAN generator's average gives cleaner samples,
    /// Karras et al. 2018). Checkpoints carry it like any parameter.
    pub ema_decay: Option<f32>,
}

impl Training {
    /// Training of every parameter with `optimizer`, constant rate, no clipping.
    pub fn new(loss: Var, optimizer: Optimizer) -> Training {
        Training {
            loss,
            params: None,
            optimizer,
            schedule: Schedule::Constant,
            clip_norm: None,
            ema_decay: None,
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if let Some(c) = self.clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::Unsupported(format!(
                    "clip_norm must be positive and finite, got {c}"
                )));
            }
        }
        if let Some(d) = self.ema_decay {
            if !(d > 0.0 && d < 1.0) {
                return Err(Error::Unsupported(format!(
                    "ema_decay must lie in (0, 1), got {d}"
                )));
            }
        }
        Ok(())
    }
}

/// The folder a training program writes to: `out` if the user named one, else the folder of
/// the run it resumes (`resume` itself, or the folder of a checkpoint file named there), so
/// that run's history and checkpoint continue in place; else `default`.
pub fn run_dir(out: Option<&Path>, resume: Option<&Path>, default: &str) -> PathBuf {
    match (out, resume) {
        (Some(out), _) => out.to_path_buf(),
        (None, Some(file)) if file.is_file() => match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        },
        (None, Some(dir)) => dir.to_path_buf(),
        (None, None) => PathBuf::from(default),
    }
}

/// The store name of a parameter's moving average ([`Training::ema_decay`]).
pub fn ema_name(param: &str) -> String {
    format!("ema.{param}")
}
