//! [`SentenceEncoder`]: a BERT-family encoder plus sentence-transformers' pooling and
//! normalisation, run as padded batches on kiln's eval plans.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::{Graph, Init, Mode, ParamStore, Plan, PlanSpec, Var};
use crate::nn::{LayerNorm, Linear, TextEncoder};
use crate::ops::attention::AttentionOptions;
use crate::tensor::{DType, Tensor};

use super::config::{required, BertConfig, Pooling, SentenceConfig};
use super::weights;

/// Texts per batch unless [`SentenceEncoder::set_batch_size`] says otherwise.
pub const DEFAULT_BATCH: usize = 32;

/// The shortest padded length a plan is compiled for: shorter buckets would each cost a plan
/// for little saving.
const MIN_LEN_BUCKET: usize = 16;

/// A plan compiled for one (batch, padded length) shape, and its `[B, D]` output.
struct Compiled {
    plan: Plan,
    out: Var,
}

/// A pretrained sentence encoder: tokenizer, BERT encoder, pooling and (optionally) L2
/// normalisation, loaded from a Hugging Face / sentence-transformers model folder.
///
/// Texts are tokenised by the folder's `tokenizer.json` through the `tokenizers` crate and
/// truncated to `max_seq_length` word pieces, `[CLS]` and `[SEP]` included (256 for
/// all-MiniLM-L6-v2; the rest of a longer text is ignored, as sentence-transformers does).
/// Texts are sorted by length and run in padded batches: the padded length is rounded up to a
/// power of two (at least 16, at most `max_seq_length`) and the batch to a power of two (at
/// most the batch size), a key-padding mask hides the padding from attention and pooling, and
/// one eval [`Plan`] is compiled per such shape and kept, so repeated calls create no
/// pipelines.
pub struct SentenceEncoder {
    dir: PathBuf,
    config: BertConfig,
    sentence: SentenceConfig,
    tokenizer: Tokenizer,
    store: ParamStore,
    plans: HashMap<(usize, usize), Compiled>,
    batch_size: usize,
}

impl std::fmt::Debug for SentenceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEncoder")
            .field("dir", &self.dir)
            .field("config", &self.config)
            .field("sentence", &self.sentence)
            .field("plans", &self.plans.len())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl SentenceEncoder {
    /// Loads the model folder `dir`: `config.json`, `model.safetensors`, `tokenizer.json`, and
    /// when present `modules.json` (pooling and normalisation) and `sentence_bert_config.json`
    /// (`max_seq_length`). Nothing is downloaded: a missing file is an [`Error::Io`] naming it
    /// and saying how to fetch the reference model; every tensor is checked against the config
    /// (name, shape, dtype) before any is uploaded.
    pub fn load(ctx: &Context, dir: impl AsRef<Path>) -> Result<SentenceEncoder> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(Error::Io {
                path: dir.display().to_string(),
                message: format!("no such model folder; {}", super::config::FETCH_HINT),
            });
        }
        let config = BertConfig::load(&dir)?;
        let sentence = SentenceConfig::load(&dir, &config)?;
        // Every file is checked before the (large) weights are read.
        let tokenizer_path = required(&dir, "tokenizer.json")?;
        required(&dir, "model.safetensors")?;
        let tokenizer = load_tokenizer(&tokenizer_path, sentence.max_seq_length)?;
        let mut store = ParamStore::new(0);
        weights::load_into(ctx, &dir, &config, &mut store)?;
        Ok(SentenceEncoder {
            dir,
            config,
            sentence,
            tokenizer,
            store,
            plans: HashMap::new(),
            batch_size: DEFAULT_BATCH,
        })
    }

    /// The encoder's `config.json`.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Pooling, normalisation and the length limit.
    pub fn sentence_config(&self) -> &SentenceConfig {
        &self.sentence
    }

    /// Width of a sentence embedding.
    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// Word pieces per text, `[CLS]` and `[SEP]` included; longer texts are truncated.
    pub fn max_seq_length(&self) -> usize {
        self.sentence.max_seq_length
    }

    /// The parameters, by Hugging Face name (Linear weights stored `[in, out]`).
    pub fn params(&self) -> &ParamStore {
        &self.store
    }

    /// Plans compiled so far, one per (batch, padded length) bucket used.
    pub fn plans_compiled(&self) -> usize {
        self.plans.len()
    }

    /// Sets the most texts run in one batch (at least 1); compiled plans are kept.
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// Word-piece ids of each text as the model sees them: `[CLS] .. [SEP]`, truncated to
    /// [`max_seq_length`](Self::max_seq_length).
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode(*t, true)
                    .map(|e| e.get_ids().to_vec())
                    .map_err(|e| Error::Data {
                        path: self.dir.join("tokenizer.json").display().to_string(),
                        line: 0,
                        message: format!("cannot tokenise {t:?}: {e}"),
                    })
            })
            .collect()
    }

    /// Paragraphs (split at blank lines) packed into chunks of at most the model's length in word
    /// pieces; each chunk after the first starts with the previous chunk's last paragraph when it
    /// fits, so a passage that straddles a boundary is whole in one of them. A paragraph longer
    /// than the model's length becomes windows of words overlapping by a quarter.
    pub fn chunks(&self, text: &str) -> Vec<String> {
        // [CLS] and [SEP] take two of the model's positions.
        let max = self.max_seq_length();
        let limit = max.saturating_sub(2).max(8);
        // tokenize truncates to the model's length, so a text that fills it counts as too long.
        let pieces = |s: &str| match self.tokenize(&[s]) {
            Ok(t) if t[0].len() < max => t[0].len().saturating_sub(2),
            _ => usize::MAX,
        };
        let mut paragraphs: Vec<(String, usize)> = Vec::new();
        for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            let para = para.split_whitespace().collect::<Vec<_>>().join(" ");
            let n = pieces(&para);
            if n <= limit {
                paragraphs.push((para, n));
                continue;
            }
            // Windows of words: a word is at least one piece, so `limit` words may be too many;
            // shrink until the window fits.
            let words: Vec<&str> = para.split(' ').collect();
            let mut start = 0;
            while start < words.len() {
                let mut end = (start + limit).min(words.len());
                while end > start + 1 && pieces(&words[start..end].join(" ")) > limit {
                    end = start + (end - start) * 3 / 4;
                }
                let window = words[start..end].join(" ");
                let n = pieces(&window);
                // (One word too long for the model: the encoder truncates it.)
                paragraphs.push((window, n.min(limit)));
                if end == words.len() {
                    break;
                }
                // Overlap by a quarter of the window, always moving forward.
                let next = end - (end - start) / 4;
                start = if next > start { next } else { end };
            }
        }
        let join = |ps: &[(String, usize)]| {
            let texts: Vec<&str> = ps.iter().map(|(p, _)| p.as_str()).collect();
            texts.join("\n\n")
        };
        let mut chunks = Vec::new();
        let mut current: Vec<(String, usize)> = Vec::new();
        let mut size = 0;
        for (para, n) in paragraphs {
            if !current.is_empty() && size + n > limit {
                chunks.push(join(&current));
                // The next chunk opens with this one's last paragraph when both fit.
                let last = current.pop().filter(|(_, m)| m + n <= limit);
                size = last.as_ref().map_or(0, |(_, m)| *m);
                current = last.into_iter().collect();
            }
            size += n;
            current.push((para, n));
        }
        if !current.is_empty() {
            chunks.push(join(&current));
        }
        chunks
    }

    /// The sentence embeddings of `texts`, one vector of [`dim`](Self::dim) floats each, in
    /// order.
    pub fn embed(&mut self, ctx: &Context, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let flat = self.embed_tensor(ctx, texts)?.to_vec_f32(ctx)?;
        Ok(flat.chunks(self.dim()).map(<[f32]>::to_vec).collect())
    }

    /// The sentence embeddings of `texts` as one GPU tensor `[N, D]`, row i for text i.
    /// At least one text.
    pub fn embed_tensor(&mut self, ctx: &Context, texts: &[&str]) -> Result<Tensor> {
        let ids = self.tokenize(texts)?;
        self.embed_ids(ctx, &ids)
    }

    /// As [`embed_tensor`](Self::embed_tensor) from word-piece ids (each row as
    /// [`tokenize`](Self::tokenize) gives it: at most `max_seq_length` ids below the vocabulary
    /// size).
    pub fn embed_ids(&mut self, ctx: &Context, ids: &[Vec<u32>]) -> Result<Tensor> {
        let max = self.sentence.max_seq_length;
        let vocab = self.config.vocab_size;
        if ids.is_empty() {
            return Err(Error::Graph("sentence encoder: no texts to embed".into()));
        }
        for (i, row) in ids.iter().enumerate() {
            if row.len() > max {
                return Err(Error::Graph(format!(
                    "sentence encoder: text {i} has {} word pieces, more than max_seq_length \
                     {max} (tokenize truncates)",
                    row.len()
                )));
            }
            if let Some(&bad) = row.iter().find(|&&t| t as usize >= vocab) {
                return Err(Error::Graph(format!(
                    "sentence encoder: text {i} has word-piece id {bad}, outside the \
                     vocabulary of {vocab}"
                )));
            }
        }
        let d = self.dim();
        let result = Tensor::zeros(ctx, &[ids.len(), d], DType::F32)?;
        // Longest first, so each batch pads its texts to similar lengths.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let row_bytes = (d * 4) as u64;
        for chunk in order.chunks(self.batch_size) {
            let longest = chunk.iter().map(|&i| ids[i].len()).max().unwrap_or(0);
            let t = bucket_len(longest, max);
            let b = chunk.len().next_power_of_two().min(self.batch_size);
            let mut tokens = vec![0u32; b * t];
            let mut mask = vec![0u32; b * t];
            let mut pool = vec![0f32; b * t];
            for (r, &i) in chunk.iter().enumerate() {
                let row = &ids[i];
                tokens[r * t..r * t + row.len()].copy_from_slice(row);
                mask[r * t..r * t + row.len()].fill(1);
                pool_weights(
                    self.sentence.pooling,
                    row.len(),
                    &mut pool[r * t..(r + 1) * t],
                );
            }
            let compiled = self.plan(ctx, b, t)?;
            compiled.plan.set_input_u32(ctx, "input_ids", &tokens)?;
            compiled.plan.set_input_u32(ctx, "attention_mask", &mask)?;
            compiled.plan.set_input_f32(ctx, "pool_weights", &pool)?;
            compiled.plan.step(ctx)?;
            let out = compiled.plan.output(compiled.out)?;
            let mut encoder =
                ctx.device()
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("sentence_encoder gather"),
                    });
            // Submitted after the step and before the plan's next one, so the rows are read
            // before the plan overwrites its output.
            for (r, &i) in chunk.iter().enumerate() {
                encoder.copy_buffer_to_buffer(
                    out.buffer(),
                    out.offset() + r as u64 * row_bytes,
                    result.buffer(),
                    result.offset() + i as u64 * row_bytes,
                    row_bytes,
                );
            }
            ctx.submit(encoder.finish())?;
        }
        Ok(result)
    }

    /// Where the time of one batch of `batch` texts of `len` word pieces goes: each dispatch
    /// timed on its own ([`Plan::profile`]), `(kernel label, seconds)` in step order. The
    /// padded shape is bucketed as [`embed_ids`](Self::embed_ids) does, and every text is word
    /// piece 0 repeated (the cost does not depend on the ids).
    pub fn profile(
        &mut self,
        ctx: &Context,
        batch: usize,
        len: usize,
    ) -> Result<Vec<(String, f64)>> {
        let len = len.clamp(1, self.sentence.max_seq_length);
        let t = bucket_len(len, self.sentence.max_seq_length);
        let b = batch.max(1);
        let mut mask = vec![0u32; b * t];
        let mut pool = vec![0f32; b * t];
        for r in 0..b {
            mask[r * t..r * t + len].fill(1);
            pool_weights(self.sentence.pooling, len, &mut pool[r * t..(r + 1) * t]);
        }
        let compiled = self.plan(ctx, b, t)?;
        compiled
            .plan
            .set_input_u32(ctx, "input_ids", &vec![0; b * t])?;
        compiled.plan.set_input_u32(ctx, "attention_mask", &mask)?;
        compiled.plan.set_input_f32(ctx, "pool_weights", &pool)?;
        compiled.plan.profile(ctx)
    }

    /// The plan for batch `b` and padded length `t`, compiled on first use.
    fn plan(&mut self, ctx: &Context, b: usize, t: usize) -> Result<&mut Compiled> {
        if !self.plans.contains_key(&(b, t)) {
            let (graph, out) = self.graph(b, t)?;
            let spec = PlanSpec {
                outputs: vec![out],
                mode: Mode::Eval,
                ..PlanSpec::default()
            };
            let plan = Plan::compile(ctx, &graph, &mut self.store, &spec)?;
            self.plans.insert((b, t), Compiled { plan, out });
        }
        self.plans
            .get_mut(&(b, t))
            .ok_or_else(|| Error::Graph("sentence encoder: plan cache lost a plan".into()))
    }

    /// The eval graph for `b` texts padded to `t` word pieces.
    ///
    /// Inputs: `input_ids [B,T]` u32, `attention_mask [B,T]` u32 (1 real, 0 padding),
    /// `pool_weights [B,1,T]` f32 (the pooling's weight per token, 0 on padding). Output
    /// `[B, D]`. The encoder is Hugging Face's `BertModel`: post-norm layers
    /// `x = LN(x + Attn(x))`, `x = LN(x + W2 act(W1 x))`.
    fn graph(&self, b: usize, t: usize) -> Result<(Graph, Var)> {
        let c = &self.config;
        let d = c.hidden_size;
        let heads = c.num_attention_heads;
        let eps = c.layer_norm_eps as f32;
        let act = c.activation().map_err(Error::Graph)?;
        let mut g = Graph::new();
        let ids = g.input("input_ids", &[b, t], DType::U32)?;
        let mask = g.input("attention_mask", &[b, t], DType::U32)?;
        let pool = g.input("pool_weights", &[b, 1, t], DType::F32)?;
        let positions: Vec<u32> = (0..b).flat_map(|_| 0..t as u32).collect();
        let positions = g.constant_u32(&[b, t], &positions)?;
        // Single texts are segment 0 throughout, as the tokenizer's template gives them.
        let types = g.constant_u32(&[b, t], &vec![0; b * t])?;

        let table = |g: &mut Graph, name: &str, rows: usize| {
            g.param(
                &format!("embeddings.{name}.weight"),
                &[rows, d],
                Init::Zeros,
            )
        };
        let word = table(&mut g, "word_embeddings", c.vocab_size)?;
        let pos = table(&mut g, "position_embeddings", c.max_position_embeddings)?;
        let typ = table(&mut g, "token_type_embeddings", c.type_vocab_size)?;
        let x = g.embedding(ids, word)?;
        let p = g.embedding(positions, pos)?;
        let y = g.embedding(types, typ)?;
        let x = g.add(x, p)?;
        let x = g.add(x, y)?;
        let mut x =
            LayerNorm::with_eps(&mut g, "embeddings.LayerNorm", d, eps)?.forward(&mut g, x)?;

        let split = |g: &mut Graph, v: Var| -> Result<Var> {
            let v = g.reshape(v, &[b, t, heads, d / heads])?;
            g.transpose12(v)
        };
        for i in 0..c.num_hidden_layers {
            let l = format!("encoder.layer.{i}");
            let lin = |g: &mut Graph, name: &str, fan_in: usize, fan_out: usize| {
                Linear::new(g, &format!("{l}.{name}"), fan_in, fan_out)
            };
            let q = lin(&mut g, "attention.self.query", d, d)?.forward(&mut g, x)?;
            let k = lin(&mut g, "attention.self.key", d, d)?.forward(&mut g, x)?;
            let v = lin(&mut g, "attention.self.value", d, d)?.forward(&mut g, x)?;
            let (q, k, v) = (split(&mut g, q)?, split(&mut g, k)?, split(&mut g, v)?);
            let o = g.attention(q, k, v, Some(mask), AttentionOptions::default())?;
            let o = g.transpose12(o)?;
            let o = g.reshape(o, &[b, t, d])?;
            let o = lin(&mut g, "attention.output.dense", d, d)?.forward(&mut g, o)?;
            let s = g.add(x, o)?;
            let ln1 =
                LayerNorm::with_eps(&mut g, &format!("{l}.attention.output.LayerNorm"), d, eps)?;
            x = ln1.forward(&mut g, s)?;
            let h =
                lin(&mut g, "intermediate.dense", d, c.intermediate_size)?.forward(&mut g, x)?;
            let h = g.activation(h, act)?;
            let h = lin(&mut g, "output.dense", c.intermediate_size, d)?.forward(&mut g, h)?;
            let s = g.add(x, h)?;
            let ln2 = LayerNorm::with_eps(&mut g, &format!("{l}.output.LayerNorm"), d, eps)?;
            x = ln2.forward(&mut g, s)?;
        }

        // Pooling: one batched [1,T]·[T,D] product per text with the host-made weights.
        let pooled = g.matmul(pool, x)?;
        let pooled = g.reshape(pooled, &[b, d])?;
        if !self.sentence.normalize {
            return Ok((g, pooled));
        }
        let out = l2_normalize(&mut g, pooled, b, d)?;
        Ok((g, out))
    }
}

/// Retrieval code written against [`TextEncoder`] runs on the pretrained encoder unchanged.
impl TextEncoder for SentenceEncoder {
    fn dim(&self) -> usize {
        SentenceEncoder::dim(self)
    }

    fn embed(&mut self, ctx: &Context, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        SentenceEncoder::embed(self, ctx, texts)
    }
}

/// `x / max(‖x‖, ~1e-12)` per row of `x [B, D]`, from existing ops: the row `z = [x, -x]` has
/// mean 0 and variance `‖x‖²/D`, so a layer norm of `z` with gamma `1/√D`, beta 0 and eps
/// `1e-24/D` is `[x, -x] / sqrt(‖x‖² + 1e-24)`; the first half of each row is the answer. A
/// zero row stays zero (no NaN). `[x, -x]` is one product with the constant `[I, -I]`, which
/// is exact (each output sums one term and zeros).
fn l2_normalize(g: &mut Graph, x: Var, b: usize, d: usize) -> Result<Var> {
    let mut both = vec![0f32; d * 2 * d];
    for i in 0..d {
        both[i * 2 * d + i] = 1.0;
        both[i * 2 * d + d + i] = -1.0;
    }
    let both = g.constant(&[d, 2 * d], &both)?;
    let z = g.matmul(x, both)?;
    let gamma = g.constant(&[2 * d], &vec![1.0 / (d as f32).sqrt(); 2 * d])?;
    let beta = g.constant(&[2 * d], &vec![0.0; 2 * d])?;
    let n = g.layer_norm(z, gamma, beta, 1e-24 / d as f32)?;
    // Row r of [B, 2D] is rows 2r (x / ‖x‖) and 2r + 1 (its negation) of [2B, D].
    let halves = g.reshape(n, &[2 * b, d])?;
    let firsts: Vec<u32> = (0..b as u32).map(|r| 2 * r).collect();
    let firsts = g.constant_u32(&[b], &firsts)?;
    g.embedding(firsts, halves)
}

/// The pooling's weight per token of a text of `n` real tokens, into `row` (its padded row;
/// padding keeps 0).
fn pool_weights(pooling: Pooling, n: usize, row: &mut [f32]) {
    if n == 0 {
        return;
    }
    match pooling {
        Pooling::Mean => row[..n].fill(1.0 / n as f32),
        Pooling::MeanSqrtLen => row[..n].fill(1.0 / (n as f32).sqrt()),
        Pooling::Cls => row[0] = 1.0,
    }
}

/// The padded length for a batch whose longest text has `n` word pieces.
fn bucket_len(n: usize, max: usize) -> usize {
    n.next_power_of_two().max(MIN_LEN_BUCKET).min(max)
}

/// The folder's tokenizer, truncating to `max_len` word pieces (special tokens included) and
/// never padding (the encoder pads).
fn load_tokenizer(path: &Path, max_len: usize) -> Result<Tokenizer> {
    let io = |message: String| Error::Io {
        path: path.display().to_string(),
        message,
    };
    let mut tokenizer =
        Tokenizer::from_file(path).map_err(|e| io(format!("not a usable tokenizer: {e}")))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            direction: TruncationDirection::Right,
            max_length: max_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }))
        .map_err(|e| io(format!("cannot truncate to {max_len}: {e}")))?;
    Ok(tokenizer)
}
