//! `model.safetensors`: every tensor the config implies, checked for name, shape and dtype
//! before anything is built, then widened to f32 and written into a [`ParamStore`].

use std::fs;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::ParamStore;
use crate::io::checkpoint::widen;

use super::config::{required, BertConfig};

/// How a tensor goes from the file into the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// As stored.
    Plain,
    /// A `torch.nn.Linear` weight `[out, in]`, transposed into kiln's `[in, out]`.
    Linear,
}

/// One tensor the config implies: its Hugging Face name (without a `bert.` prefix), its shape
/// in the file, and how it is stored.
struct Expected {
    name: String,
    shape: Vec<usize>,
    layout: Layout,
}

/// Every tensor a [`BertConfig`] implies, by Hugging Face name. The pooler (`pooler.dense`) and
/// buffers such as `embeddings.position_ids` are not used and not required.
fn expected(c: &BertConfig) -> Vec<Expected> {
    let d = c.hidden_size;
    let plain = |name: String, shape: &[usize]| Expected {
        name,
        shape: shape.to_vec(),
        layout: Layout::Plain,
    };
    let mut out = vec![
        plain(
            "embeddings.word_embeddings.weight".into(),
            &[c.vocab_size, d],
        ),
        plain(
            "embeddings.position_embeddings.weight".into(),
            &[c.max_position_embeddings, d],
        ),
        plain(
            "embeddings.token_type_embeddings.weight".into(),
            &[c.type_vocab_size, d],
        ),
        plain("embeddings.LayerNorm.weight".into(), &[d]),
        plain("embeddings.LayerNorm.bias".into(), &[d]),
    ];
    let linear = |out: &mut Vec<Expected>, name: String, fan_in: usize, fan_out: usize| {
        out.push(Expected {
            name: format!("{name}.weight"),
            shape: vec![fan_out, fan_in],
            layout: Layout::Linear,
        });
        out.push(plain(format!("{name}.bias"), &[fan_out]));
    };
    for i in 0..c.num_hidden_layers {
        let l = format!("encoder.layer.{i}");
        for part in ["query", "key", "value"] {
            linear(&mut out, format!("{l}.attention.self.{part}"), d, d);
        }
        linear(&mut out, format!("{l}.attention.output.dense"), d, d);
        for ln in [
            format!("{l}.attention.output.LayerNorm"),
            format!("{l}.output.LayerNorm"),
        ] {
            out.push(plain(format!("{ln}.weight"), &[d]));
            out.push(plain(format!("{ln}.bias"), &[d]));
        }
        linear(
            &mut out,
            format!("{l}.intermediate.dense"),
            d,
            c.intermediate_size,
        );
        linear(
            &mut out,
            format!("{l}.output.dense"),
            c.intermediate_size,
            d,
        );
    }
    out
}

/// Reads `DIR/model.safetensors`, checks every tensor `config` implies (present, of the shape
/// the config gives, f32/f16/bf16) before loading any, and writes them into `store` under their
/// Hugging Face names (a `bert.` prefix in the file is dropped), Linear weights transposed to
/// `[in, out]`. Every problem found is listed in one [`Error::Io`] naming the file; a wrong
/// shape names the tensor, the shape the config implies and the shape in the file.
pub(crate) fn load_into(
    ctx: &Context,
    dir: &Path,
    config: &BertConfig,
    store: &mut ParamStore,
) -> Result<()> {
    let path = required(dir, "model.safetensors")?;
    let io = |message: String| Error::Io {
        path: path.display().to_string(),
        message,
    };
    let bytes = fs::read(&path).map_err(|e| io(format!("cannot read: {e}")))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| io(format!("not a valid safetensors file: {e:?}")))?;
    let names = file.names();
    let has = |n: &str| names.contains(&n);
    // Checkpoints saved from BertForPreTraining and friends prefix the encoder with "bert.".
    let prefix = if !has("embeddings.word_embeddings.weight")
        && has("bert.embeddings.word_embeddings.weight")
    {
        "bert."
    } else {
        ""
    };
    let want = expected(config);
    let mut problems = Vec::new();
    for e in &want {
        let name = format!("{prefix}{}", e.name);
        match file.tensor(&name) {
            Err(_) => problems.push(format!(
                "tensor '{name}' {:?} is missing (config.json implies it)",
                e.shape
            )),
            Ok(view) => {
                if view.shape() != e.shape.as_slice() {
                    problems.push(format!(
                        "tensor '{name}' has shape {:?}, config.json implies {:?}",
                        view.shape(),
                        e.shape
                    ));
                }
                if !matches!(view.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16) {
                    problems.push(format!(
                        "tensor '{name}' is {:?}; only F32, F16 and BF16 load",
                        view.dtype()
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(io(format!(
            "does not match config.json: {}",
            problems.join("; ")
        )));
    }
    for e in &want {
        let name = format!("{prefix}{}", e.name);
        let view = file
            .tensor(&name)
            .map_err(|err| io(format!("tensor '{name}': {err:?}")))?;
        let values = widen(view.dtype(), view.data())
            .ok_or_else(|| io(format!("tensor '{name}' has dtype {:?}", view.dtype())))?;
        match e.layout {
            Layout::Plain => store.write(ctx, &e.name, &e.shape, &values)?,
            Layout::Linear => {
                let (rows, cols) = (e.shape[0], e.shape[1]);
                let mut t = vec![0.0f32; values.len()];
                for r in 0..rows {
                    for c in 0..cols {
                        t[c * rows + r] = values[r * cols + c];
                    }
                }
                store.write(ctx, &e.name, &[cols, rows], &t)?;
            }
        }
    }
    Ok(())
}
