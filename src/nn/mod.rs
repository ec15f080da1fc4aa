//! Layers: plain structs holding the [`Var`](crate::Var)s of their parameters, built into a
//! [`Graph`](crate::Graph) by `new(g, name, ..)` and applied by `forward(&self, g, x, ..)`.
//!
//! Parameter names follow PyTorch's, `"{name}.weight"` and `"{name}.bias"` (LayerNorm's gamma
//! and beta are its `.weight` and `.bias`), so that a checkpoint reads naturally. A layer used
//! twice in one graph shares its parameters; two layers need two names.
//!
//! Dimension letters: B batch, T time (Tq queries, Tk keys), D model width, H heads,
//! Dh = D / H head width, V vocabulary.
//!
//! Pieces: [`Linear`], [`Conv2d`], [`ConvTranspose2d`], [`Embedding`], [`LayerNorm`],
//! [`BatchNorm2d`], [`Dropout`], [`FeedForward`], [`MultiHeadAttention`],
//! [`PositionalEncoding`], [`residual`] wiring, and the [`EncoderLayer`] / [`DecoderLayer`]
//! built from them. [`TextEncoder`] is what retrieval asks of a text embedding model.
//!
//! Every builder is `#[track_caller]`: a shape error points at the line that built the layer
//! or called `forward`, not at kiln.

mod attention;
mod batch_norm;
mod contrastive;
mod conv;
mod dcgan;
mod dropout;
mod embedding;
mod feed_forward;
mod linear;
mod lm;
mod norm;
mod position;
mod seq2seq;
mod text_encoder;
mod transformer;

pub use attention::{KvCache, MultiHeadAttention, MultiHeadAttentionOptions};
pub use batch_norm::BatchNorm2d;
pub use contrastive::{
    distinct_batches, pool_weights, ContrastiveConfig, ContrastiveEmbedder, ContrastiveEncoder,
};
pub use conv::{Conv2d, ConvTranspose2d};
pub use dcgan::{DcganConfig, Discriminator, Generator, GeneratorWeights};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use feed_forward::{FeedForward, FeedForwardOptions};
pub use linear::{Linear, LinearOptions};
pub use lm::{pick_token, LanguageModel, LmConfig, Sampler, Sampling};
pub use norm::{residual, LayerNorm, ResidualNorm};
pub use position::{sinusoidal_positions, PositionalEncoding};
pub use seq2seq::{Seq2Seq, Seq2SeqConfig, Seq2SeqTraining, Translator, BOS, EOS, PAD};
pub use text_encoder::TextEncoder;
pub use transformer::{DecoderLayer, EncoderLayer, TransformerOptions};

/// The sizes a model config read from a user's file may ask for. Past them a config is an
/// error, never an allocation that aborts the process or a graph of a million layers.
pub mod limits {
    /// Window or sequence length.
    pub const MAX_LENGTH: usize = 1 << 16;
    /// Model width.
    pub const MAX_WIDTH: usize = 1 << 16;
    /// Layers.
    pub const MAX_LAYERS: usize = 1024;
    /// Vocabulary.
    pub const MAX_VOCAB: usize = 1 << 24;
    /// Values in one table (a position table, an embedding).
    pub const MAX_TABLE: usize = 1 << 30;
}

/// Checks a config's sizes: each `(field, value, low, high)` in range, each `(what, values)`
/// table within [`limits::MAX_TABLE`], `heads` dividing `d_model`, each `(field, p)` in [0, 1);
/// else an error naming `model` and the field.
fn check_config(
    model: &str,
    ranges: &[(&str, usize, usize, usize)],
    (heads, d_model): (usize, usize),
    tables: &[(&str, usize)],
    probabilities: &[(&str, f32)],
) -> crate::Result<()> {
    let fail = |what: String| Err(crate::Error::Unsupported(format!("{model} config: {what}")));
    for &(field, value, low, high) in ranges {
        if !(low..=high).contains(&value) {
            return fail(format!("{field} = {value} is outside [{low}, {high}]"));
        }
    }
    if heads == 0 || !d_model.is_multiple_of(heads) {
        return fail(format!("heads ({heads}) must divide d_model ({d_model})"));
    }
    for &(what, values) in tables {
        if values > limits::MAX_TABLE {
            return fail(format!("{what} is {values} values, past 2^30"));
        }
    }
    for &(field, p) in probabilities {
        if !(0.0..1.0).contains(&p) {
            return fail(format!("{field} = {p} is outside [0, 1)"));
        }
    }
    Ok(())
}
