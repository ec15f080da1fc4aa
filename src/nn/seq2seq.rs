//! `Seq2Seq`: the encoder-decoder Transformer of "Attention Is All You Need" over one shared
//! token vocabulary, with the graphs a training run needs and greedy decoding on the GPU.
//!
//! - [`Seq2Seq::new`] declares the parameters in a graph (every graph of the same config names
//!   the same parameters, so plans over one [`ParamStore`](crate::ParamStore) share them).
//! - [`Seq2Seq::training_graph`]: teacher forcing, inputs `src`, `src_mask`, `tgt_in`,
//!   `tgt_out`, a label-smoothed cross-entropy that ignores padding.
//! - [`Translator`]: an encoder plan that also projects every decoder layer's cross-attention
//!   keys and values once per source, and a step plan that decodes one position per step over
//!   key-value caches; greedy decoding of a whole batch is one submission (the next input
//!   written by the argmax kernel, nothing read back until the end), beam search one step and
//!   one small read-back per position. [`Translator::full_window`] re-runs the whole decoder
//!   per position instead: the reference the cached decoder is tested against.
//!
//! Dimension letters: B batch, Ts source length, Tt target length, D model width, V vocabulary.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::{Graph, Mode, ParamStore, Plan, PlanSpec, Var};
use crate::kernels::{record_all, Dispatch};
use crate::ops::argmax;
use crate::ops::cross_entropy::CrossEntropyOptions;
use crate::ops::matmul::MatmulOptions;
use crate::tensor::{DType, Tensor};
use crate::Init;

use super::{
    DecoderLayer, Embedding, EncoderLayer, KvCache, LayerNorm, Linear, PositionalEncoding,
    ResidualNorm, TransformerOptions,
};

/// Token ids every vocabulary reserves: padding, begin and end of sequence.
pub const PAD: u32 = 0;
/// Begin of sequence: the decoder's first input.
pub const BOS: u32 = 1;
/// End of sequence: the decoder's last target.
pub const EOS: u32 = 2;

/// Sizes and options of a [`Seq2Seq`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Seq2SeqConfig {
    /// Vocabulary size V (shared by source and target, specials included).
    pub vocab: usize,
    /// Model width D.
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// Encoder layers.
    pub encoder_layers: usize,
    /// Decoder layers.
    pub decoder_layers: usize,
    /// Feed-forward width.
    pub d_ff: usize,
    /// Dropout on sub-layer outputs and embeddings (training plans only).
    pub dropout: f32,
    /// Post-norm (the paper) or pre-norm.
    pub norm: ResidualNorm,
    /// Source length Ts (padded).
    pub max_src: usize,
    /// Target length Tt (padded, BOS or EOS included).
    pub max_tgt: usize,
    /// Label smoothing ε of the loss.
    pub label_smoothing: f32,
    /// The output projection is the embedding, transposed (the paper's weight sharing), plus
    /// a bias `generator.bias`: a decoder state that carries a source token's embedding then
    /// scores that token highest, which is what copying needs.
    pub tie_embeddings: bool,
}

impl Seq2SeqConfig {
    /// The paper's post-norm model with `layers` encoder and decoder layers, label smoothing
    /// 0.1, no dropout, untied embeddings, and lengths of 1 (set them, or
    /// [`Seq2SeqConfig::fit_lengths`]).
    pub fn new(vocab: usize, d_model: usize, heads: usize, layers: usize, d_ff: usize) -> Self {
        Seq2SeqConfig {
            vocab,
            d_model,
            heads,
            encoder_layers: layers,
            decoder_layers: layers,
            d_ff,
            dropout: 0.0,
            norm: ResidualNorm::Post,
            max_src: 1,
            max_tgt: 1,
            label_smoothing: 0.1,
            tie_embeddings: false,
        }
    }

    /// Every size within [`super::limits`] (and each table within 2³⁰ values), `heads`
    /// dividing `d_model`, dropout and label smoothing in [0, 1); else an error naming the
    /// field. A config read from a checkpoint is the user's file.
    pub fn check(&self) -> Result<()> {
        use super::limits::*;
        let c = self;
        super::check_config(
            "seq2seq",
            &[
                ("vocab", c.vocab, 1, MAX_VOCAB),
                ("d_model", c.d_model, 1, MAX_WIDTH),
                ("encoder_layers", c.encoder_layers, 1, MAX_LAYERS),
                ("decoder_layers", c.decoder_layers, 1, MAX_LAYERS),
                ("d_ff", c.d_ff, 1, 16 * MAX_WIDTH),
                ("max_src", c.max_src, 1, MAX_LENGTH),
                ("max_tgt", c.max_tgt, 1, MAX_LENGTH),
            ],
            (c.heads, c.d_model),
            &[
                ("max_src x d_model", c.max_src.saturating_mul(c.d_model)),
                ("max_tgt x d_model", c.max_tgt.saturating_mul(c.d_model)),
                ("vocab x d_model", c.vocab.saturating_mul(c.d_model)),
                ("d_model x d_model", c.d_model.saturating_mul(c.d_model)),
                ("d_model x d_ff", c.d_model.saturating_mul(c.d_ff)),
            ],
            &[
                ("dropout", c.dropout),
                ("label_smoothing", c.label_smoothing),
            ],
        )
    }

    /// The shape of its batches of `batch` examples.
    pub fn batch_shape(&self, batch: usize) -> crate::data::BatchShape {
        crate::data::BatchShape {
            batch,
            src_len: self.max_src,
            tgt_len: self.max_tgt,
        }
    }

    /// Lengths that hold the longest source and target (+ EOS) of `pairs`, at most `cap`
    /// tokens (+1): longer examples are cut when batched, and counted as cut.
    pub fn fit_lengths(self, pairs: &[(Vec<u32>, Vec<u32>)], cap: usize) -> Self {
        let longest =
            |f: fn(&(Vec<u32>, Vec<u32>)) -> usize| pairs.iter().map(f).max().unwrap_or(1);
        Seq2SeqConfig {
            max_src: longest(|p| p.0.len()).clamp(1, cap.max(1)),
            max_tgt: (longest(|p| p.1.len()) + 1).min(cap + 1),
            ..self
        }
    }
}

/// The model's layers, as declared in one graph.
#[derive(Clone, Debug)]
pub struct Seq2Seq {
    /// The configuration.
    pub cfg: Seq2SeqConfig,
    embed: Embedding,
    encoder: Vec<EncoderLayer>,
    decoder: Vec<DecoderLayer>,
    /// Pre-norm stacks end with a norm (post-norm layers end normalised already).
    encoder_norm: Option<LayerNorm>,
    decoder_norm: Option<LayerNorm>,
    /// Untied output projection `generator`, or `None` when tied to `embed`.
    out: Option<Linear>,
    /// The tied projection's bias `generator.bias` `[V]`.
    out_bias: Option<Var>,
}

/// The values of a training graph.
#[derive(Clone, Copy, Debug)]
pub struct Seq2SeqTraining {
    /// The mean loss over real target tokens, `[1]`.
    pub loss: Var,
    /// `[B, Tt, V]`.
    pub logits: Var,
}

impl Seq2Seq {
    /// Declares the model's parameters in `g`.
    pub fn new(g: &mut Graph, cfg: Seq2SeqConfig) -> Result<Seq2Seq> {
        cfg.check()?;
        let d = cfg.d_model;
        let opts = TransformerOptions {
            norm: cfg.norm,
            dropout: cfg.dropout,
            ..Default::default()
        };
        // N(0, 1/D) scaled by √D on lookup: unit-variance token vectors, as the paper's √D
        // factor intends, next to positions of magnitude ~1.
        let embed = Embedding::with_init(
            g,
            "embed",
            cfg.vocab,
            d,
            Init::normal(1.0 / (d as f32).sqrt()),
        )?;
        let encoder = (0..cfg.encoder_layers)
            .map(|i| EncoderLayer::new(g, &format!("encoder.{i}"), d, cfg.heads, cfg.d_ff, opts))
            .collect::<Result<Vec<_>>>()?;
        let decoder = (0..cfg.decoder_layers)
            .map(|i| DecoderLayer::new(g, &format!("decoder.{i}"), d, cfg.heads, cfg.d_ff, opts))
            .collect::<Result<Vec<_>>>()?;
        let (encoder_norm, decoder_norm) = match cfg.norm {
            ResidualNorm::Pre => (
                Some(LayerNorm::new(g, "encoder.norm", d)?),
                Some(LayerNorm::new(g, "decoder.norm", d)?),
            ),
            ResidualNorm::Post => (None, None),
        };
        let (out, out_bias) = if cfg.tie_embeddings {
            (
                None,
                Some(g.param("generator.bias", &[cfg.vocab], Init::Zeros)?),
            )
        } else {
            (Some(Linear::new(g, "generator", d, cfg.vocab)?), None)
        };
        Ok(Seq2Seq {
            cfg,
            embed,
            encoder,
            decoder,
            encoder_norm,
            decoder_norm,
            out,
            out_bias,
        })
    }

    /// Token ids `[B, T]` -> `√D · embed + PE`, with dropout, `[B, T, D]`.
    fn embed(&self, g: &mut Graph, ids: Var) -> Result<Var> {
        let x = self.embed.forward(g, ids)?;
        let x = g.scale(x, (self.cfg.d_model as f32).sqrt(), 0.0)?;
        let x = PositionalEncoding::new().forward(g, x)?;
        g.dropout(x, self.cfg.dropout)
    }

    /// `src [B, Ts]`, `src_mask [B, Ts]` (1 real, 0 padding) -> memory `[B, Ts, D]`.
    pub fn encode(&self, g: &mut Graph, src: Var, src_mask: Var) -> Result<Var> {
        let mut x = self.embed(g, src)?;
        for layer in &self.encoder {
            x = layer.forward(g, x, Some(src_mask), false)?;
        }
        match &self.encoder_norm {
            Some(norm) => norm.forward(g, x),
            None => Ok(x),
        }
    }

    /// The decoder's last hidden states `[B, Tt, D]` for `tgt_in [B, Tt]` over `memory`.
    fn decode_hidden(&self, g: &mut Graph, tgt_in: Var, memory: Var, src_mask: Var) -> Result<Var> {
        let mut x = self.embed(g, tgt_in)?;
        for layer in &self.decoder {
            x = layer.forward(g, x, memory, None, Some(src_mask))?;
        }
        match &self.decoder_norm {
            Some(norm) => norm.forward(g, x),
            None => Ok(x),
        }
    }

    /// `tgt_in [B, Tt]` over `memory [B, Ts, D]` -> logits `[B, Tt, V]`.
    pub fn decode(&self, g: &mut Graph, tgt_in: Var, memory: Var, src_mask: Var) -> Result<Var> {
        let x = self.decode_hidden(g, tgt_in, memory, src_mask)?;
        self.logits(g, x)
    }

    /// Every decoder layer's cross-attention keys and values for `memory [B, Ts, D]`, each
    /// `[B, H, Ts, Dh]`: made once per source, reused by every [`decode_step`](Self::decode_step).
    pub fn cross_keys_values(&self, g: &mut Graph, memory: Var) -> Result<Vec<(Var, Var)>> {
        self.decoder
            .iter()
            .map(|layer| layer.cross_attn.project_key_value(g, memory))
            .collect()
    }

    /// One decoding step: `token [B, 1]` at `position [B]` over the self-attention `caches`
    /// and the encoder's `cross` keys and values (masked by `src_mask [B, Ts]`) -> logits
    /// `[B, 1, V]`, row `position` of [`decode`](Self::decode) over the prefix. Eval only.
    pub fn decode_step(
        &self,
        g: &mut Graph,
        token: Var,
        position: Var,
        caches: &[KvCache],
        cross: &[(Var, Var)],
        src_mask: Var,
    ) -> Result<Var> {
        if caches.len() != self.decoder.len() || cross.len() != self.decoder.len() {
            return Err(Error::Graph(format!(
                "decode_step: {} caches and {} cross keys/values for {} decoder layers",
                caches.len(),
                cross.len(),
                self.decoder.len()
            )));
        }
        let x = self.embed.forward(g, token)?;
        let x = g.scale(x, (self.cfg.d_model as f32).sqrt(), 0.0)?;
        let mut x = PositionalEncoding::new().forward_at(g, x, position, self.cfg.max_tgt)?;
        for ((layer, cache), kv) in self.decoder.iter().zip(caches).zip(cross) {
            x = layer.forward_cached(g, x, *cache, position, *kv, Some(src_mask))?;
        }
        if let Some(norm) = &self.decoder_norm {
            x = norm.forward(g, x)?;
        }
        self.logits(g, x)
    }

    /// The output projection: decoder states `[B, T, D]` -> logits `[B, T, V]`.
    fn logits(&self, g: &mut Graph, x: Var) -> Result<Var> {
        match &self.out {
            Some(out) => out.forward(g, x),
            None => {
                let shape = g.shape(x)?.to_vec();
                let (b, t, d) = (shape[0], shape[1], shape[2]);
                let flat = g.reshape(x, &[b * t, d])?;
                let opts = MatmulOptions {
                    trans_a: false,
                    trans_b: true,
                };
                let logits = g.matmul_with(flat, self.embed.weight, self.out_bias, opts)?;
                g.reshape(logits, &[b, t, self.cfg.vocab])
            }
        }
    }

    /// The teacher-forced training graph at batch `batch`: inputs `src`, `src_mask` `[B, Ts]`,
    /// `tgt_in`, `tgt_out` `[B, Tt]` (u32), loss ignoring [`PAD`] targets.
    pub fn training_graph(
        cfg: Seq2SeqConfig,
        batch: usize,
    ) -> Result<(Graph, Seq2Seq, Seq2SeqTraining)> {
        let mut g = Graph::new();
        let model = Seq2Seq::new(&mut g, cfg)?;
        let src = g.input("src", &[batch, cfg.max_src], DType::U32)?;
        let src_mask = g.input("src_mask", &[batch, cfg.max_src], DType::U32)?;
        let tgt_in = g.input("tgt_in", &[batch, cfg.max_tgt], DType::U32)?;
        let tgt_out = g.input("tgt_out", &[batch, cfg.max_tgt], DType::U32)?;
        let memory = model.encode(&mut g, src, src_mask)?;
        let logits = model.decode(&mut g, tgt_in, memory, src_mask)?;
        let opts = CrossEntropyOptions {
            ignore_index: Some(PAD),
            label_smoothing: cfg.label_smoothing,
        };
        let loss = g.cross_entropy(logits, tgt_out, opts)?;
        Ok((g, model, Seq2SeqTraining { loss, logits }))
    }

    /// Writes a batch into a training plan's four inputs (`src`, `src_mask`, `tgt_in`,
    /// `tgt_out`); returns the real tokens it holds, source and target, for a rate.
    pub fn feed(ctx: &Context, plan: &Plan, batch: &crate::data::Seq2SeqBatch) -> Result<usize> {
        plan.set_input_u32(ctx, "src", &batch.src)?;
        plan.set_input_u32(ctx, "src_mask", &batch.src_mask)?;
        plan.set_input_u32(ctx, "tgt_in", &batch.tgt_in)?;
        plan.set_input_u32(ctx, "tgt_out", &batch.tgt_out)?;
        Ok(batch.tokens + batch.src_mask.iter().filter(|&&m| m != 0).count())
    }

    /// A graph of batch 1 at the example's true lengths (no padding) whose output is the last
    /// decoder layer's cross-attention, averaged over heads: `[Tt, Ts]`. Inputs `src [1, Ts]`,
    /// `tgt_in [1, Tt]`.
    pub fn cross_attention_graph(cfg: Seq2SeqConfig, ts: usize, tt: usize) -> Result<(Graph, Var)> {
        let mut g = Graph::new();
        let model = Seq2Seq::new(&mut g, cfg)?;
        let src = g.input("src", &[1, ts], DType::U32)?;
        let mask = g.constant_u32(&[1, ts], &vec![1; ts])?;
        let tgt_in = g.input("tgt_in", &[1, tt], DType::U32)?;
        let memory = model.encode(&mut g, src, mask)?;
        let (last, rest) = model
            .decoder
            .split_last()
            .ok_or_else(|| Error::Graph("the model has no decoder layer".into()))?;
        let mut x = model.embed(&mut g, tgt_in)?;
        for layer in rest {
            x = layer.forward(&mut g, x, memory, None, Some(mask))?;
        }
        let weights = last.cross_attention_weights(&mut g, x, memory)?;
        let heads = cfg.heads;
        let w = g.reshape(weights, &[heads, tt * ts])?;
        let mean = g.mean(w, 0)?;
        let mean = g.reshape(mean, &[tt, ts])?;
        Ok((g, mean))
    }
}

/// Decoding on the GPU at a fixed batch size: greedy for a whole batch, or beam search for one
/// source with the batch as the beam. See the module doc for the two decoders.
pub struct Translator {
    cfg: Seq2SeqConfig,
    batch: usize,
    decoder: Decoder,
}

enum Decoder {
    /// Cached: the encoder (with cross keys and values) and a one-position step plan.
    Cached(Box<CachedDecoder>),
    /// The whole decoder per position.
    Full(Box<FullDecoder>),
}

struct FullDecoder {
    encoder: Plan,
    decoder: Plan,
    memory_out: Tensor,
    steps: Vec<Dispatch>,
    ids: Tensor,
}

struct CachedDecoder {
    encoder: Plan,
    step: Plan,
    logprobs: Var,
    /// `[B]` u32 holding t, copied into the step's `position` before step t.
    positions: Vec<Tensor>,
    /// argmax of the step's log-probabilities into its own `token` input.
    pick: Dispatch,
    /// `[Tt, B]`: the picked ids, time-major so each step's column is one copy.
    ids: Tensor,
    /// Every self-attention cache (keys and values of each layer), and a scratch of one
    /// cache's size for reordering beams.
    caches: Vec<Tensor>,
    scratch: Tensor,
}

fn copy(
    encoder: &mut wgpu::CommandEncoder,
    from: &Tensor,
    from_at: u64,
    to: &Tensor,
    to_at: u64,
    bytes: u64,
) {
    encoder.copy_buffer_to_buffer(
        from.buffer(),
        from.offset() + from_at,
        to.buffer(),
        to.offset() + to_at,
        bytes,
    );
}

impl Translator {
    /// The cached decoder for `batch` sequences at a time, over the parameters in `store`.
    pub fn new(
        ctx: &Context,
        cfg: Seq2SeqConfig,
        batch: usize,
        store: &mut ParamStore,
    ) -> Result<Translator> {
        let mut ge = Graph::new();
        let model = Seq2Seq::new(&mut ge, cfg)?;
        let src = ge.input("src", &[batch, cfg.max_src], DType::U32)?;
        let src_mask = ge.input("src_mask", &[batch, cfg.max_src], DType::U32)?;
        let memory = model.encode(&mut ge, src, src_mask)?;
        let cross = model.cross_keys_values(&mut ge, memory)?;
        let outputs = cross.iter().flat_map(|&(k, v)| [k, v]).collect();
        let encoder = Plan::compile(ctx, &ge, store, &PlanSpec::eval(outputs))?;

        let mut gd = Graph::new();
        let model = Seq2Seq::new(&mut gd, cfg)?;
        let dh = cfg.d_model / cfg.heads.max(1);
        let mut bound = vec![(
            "src_mask".to_string(),
            encoder.input_tensor("src_mask")?.clone(),
        )];
        let mut cross_in = Vec::new();
        for (i, (k, v)) in cross.iter().enumerate() {
            let shape = [batch, cfg.heads, cfg.max_src, dh];
            let (kn, vn) = (format!("cross.{i}.keys"), format!("cross.{i}.values"));
            cross_in.push((
                gd.input(&kn, &shape, DType::F32)?,
                gd.input(&vn, &shape, DType::F32)?,
            ));
            bound.push((kn, encoder.output(*k)?.clone()));
            bound.push((vn, encoder.output(*v)?.clone()));
        }
        let token = gd.input("token", &[batch, 1], DType::U32)?;
        let position = gd.input("position", &[batch], DType::U32)?;
        let mask = gd.input("src_mask", &[batch, cfg.max_src], DType::U32)?;
        let caches = (0..cfg.decoder_layers)
            .map(|i| {
                let name = format!("cache.{i}");
                KvCache::new(&mut gd, &name, batch, cfg.heads, cfg.max_tgt, dh)
            })
            .collect::<Result<Vec<_>>>()?;
        let logits = model.decode_step(&mut gd, token, position, &caches, &cross_in, mask)?;
        let logits = gd.reshape(logits, &[batch, cfg.vocab])?;
        let logprobs = gd.log_softmax(logits)?;
        let spec = PlanSpec {
            bound_inputs: bound,
            ..PlanSpec::eval(vec![logprobs])
        };
        let step = Plan::compile(ctx, &gd, store, &spec)?;

        let positions = (0..cfg.max_tgt)
            .map(|t| Tensor::from_u32(ctx, &[batch], &vec![t as u32; batch]))
            .collect::<Result<Vec<_>>>()?;
        let token_in = step.input_tensor("token")?.reshape(&[batch])?;
        let pick = argmax::forward(ctx, step.output(logprobs)?, &token_in)?;
        let mut cache_tensors = Vec::new();
        for i in 0..cfg.decoder_layers {
            for part in ["keys", "values"] {
                cache_tensors.push(step.input_tensor(&format!("cache.{i}.{part}"))?.clone());
            }
        }
        let shape = [batch, cfg.heads, cfg.max_tgt, dh];
        let cached = CachedDecoder {
            ids: Tensor::zeros(ctx, &[cfg.max_tgt, batch], DType::U32)?,
            scratch: Tensor::zeros(ctx, &shape, DType::F32)?,
            caches: cache_tensors,
            encoder,
            step,
            logprobs,
            positions,
            pick,
        };
        Ok(Translator {
            cfg,
            batch,
            decoder: Decoder::Cached(Box::new(cached)),
        })
    }

    /// The uncached decoder: the whole decoder re-run for each output position.
    pub fn full_window(
        ctx: &Context,
        cfg: Seq2SeqConfig,
        batch: usize,
        store: &mut ParamStore,
    ) -> Result<Translator> {
        let eval = |outputs| PlanSpec {
            outputs,
            mode: Mode::Eval,
            ..Default::default()
        };
        let mut ge = Graph::new();
        let model = Seq2Seq::new(&mut ge, cfg)?;
        let src = ge.input("src", &[batch, cfg.max_src], DType::U32)?;
        let src_mask = ge.input("src_mask", &[batch, cfg.max_src], DType::U32)?;
        let memory = model.encode(&mut ge, src, src_mask)?;
        let encoder = Plan::compile(ctx, &ge, store, &eval(vec![memory]))?;

        let mut gd = Graph::new();
        let model = Seq2Seq::new(&mut gd, cfg)?;
        let mem_in = gd.input("memory", &[batch, cfg.max_src, cfg.d_model], DType::F32)?;
        let src_mask = gd.input("src_mask", &[batch, cfg.max_src], DType::U32)?;
        let tgt_in = gd.input("tgt_in", &[batch, cfg.max_tgt], DType::U32)?;
        let logits = model.decode(&mut gd, tgt_in, mem_in, src_mask)?;
        let decoder = Plan::compile(ctx, &gd, store, &eval(vec![logits]))?;

        let ids = Tensor::zeros(ctx, &[batch, cfg.max_tgt], DType::U32)?;
        let logits_t = decoder.output(logits)?.clone();
        let tokens = decoder.input_tensor("tgt_in")?.clone();
        let steps = (0..cfg.max_tgt)
            .map(|t| argmax::greedy_step(ctx, &logits_t, t, &ids, &tokens))
            .collect::<Result<Vec<_>>>()?;
        Ok(Translator {
            cfg,
            batch,
            decoder: Decoder::Full(Box::new(FullDecoder {
                memory_out: encoder.output(memory)?.clone(),
                encoder,
                decoder,
                steps,
                ids,
            })),
        })
    }

    /// Sequences decoded at once.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Decodes up to `batch` sources (each `[Ts]` ids, padded with [`PAD`]; `masks` 1 on real
    /// tokens): returns each output's ids up to (not including) its first [`EOS`].
    pub fn translate(
        &mut self,
        ctx: &Context,
        src: &[u32],
        src_mask: &[u32],
    ) -> Result<Vec<Vec<u32>>> {
        let (b, ts, tt) = (self.batch, self.cfg.max_src, self.cfg.max_tgt);
        let d = self.cfg.d_model;
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.translate"),
            });
        let ids = match &mut self.decoder {
            Decoder::Cached(c) => {
                c.encoder.set_input_u32(ctx, "src", src)?;
                c.encoder.set_input_u32(ctx, "src_mask", src_mask)?;
                c.step.set_input_u32(ctx, "token", &vec![BOS; b])?;
                c.encoder.record(ctx, &mut encoder)?;
                let position = c.step.input_tensor("position")?.clone();
                let token = c.step.input_tensor("token")?.clone();
                let column = (b * 4) as u64;
                for t in 0..tt {
                    copy(&mut encoder, &c.positions[t], 0, &position, 0, column);
                    c.step.record(ctx, &mut encoder)?;
                    record_all(&mut encoder, std::slice::from_ref(&c.pick));
                    copy(&mut encoder, &token, 0, &c.ids, t as u64 * column, column);
                }
                ctx.submit(encoder.finish())?;
                let time_major = c.ids.to_vec_u32(ctx)?;
                (0..b)
                    .flat_map(|r| (0..tt).map(move |t| (r, t)))
                    .map(|(r, t)| time_major[t * b + r])
                    .collect::<Vec<u32>>()
            }
            Decoder::Full(f) => {
                let FullDecoder {
                    encoder: enc,
                    decoder,
                    memory_out,
                    steps,
                    ids,
                } = f.as_mut();
                enc.set_input_u32(ctx, "src", src)?;
                enc.set_input_u32(ctx, "src_mask", src_mask)?;
                decoder.set_input_u32(ctx, "src_mask", src_mask)?;
                let mut start = vec![PAD; b * tt];
                for row in start.chunks_mut(tt) {
                    row[0] = BOS;
                }
                decoder.set_input_u32(ctx, "tgt_in", &start)?;
                enc.record(ctx, &mut encoder)?;
                let memory_in = decoder.input_tensor("memory")?.clone();
                copy(
                    &mut encoder,
                    memory_out,
                    0,
                    &memory_in,
                    0,
                    (b * ts * d * 4) as u64,
                );
                for step in steps.iter() {
                    decoder.record(ctx, &mut encoder)?;
                    record_all(&mut encoder, std::slice::from_ref(step));
                }
                ctx.submit(encoder.finish())?;
                ids.to_vec_u32(ctx)?
            }
        };
        Ok(ids
            .chunks(tt)
            .map(|row| row.iter().copied().take_while(|&id| id != EOS).collect())
            .collect())
    }

    /// Beam search for one source (ids without BOS/EOS, cut to `max_src`) with the batch as the
    /// beam width K: each step extends every live hypothesis by every token, keeps the K best
    /// by summed log-probability (the caches reordered to follow them), and sets aside those
    /// that end in EOS; the answer is the finished hypothesis of best score / length^alpha
    /// (length counted with its EOS; alpha = 0 prefers short outputs, 1 is the per-token
    /// mean). One step and one read-back of K·V log-probabilities per output position.
    pub fn translate_beam(&mut self, ctx: &Context, src: &[u32], alpha: f32) -> Result<Vec<u32>> {
        let (k, ts, tt, v) = (
            self.batch,
            self.cfg.max_src,
            self.cfg.max_tgt,
            self.cfg.vocab,
        );
        let Decoder::Cached(c) = &mut self.decoder else {
            return Err(Error::Unsupported(
                "beam search needs the cached decoder (Translator::new)".into(),
            ));
        };
        let src = &src[..src.len().min(ts)];
        let mut ids = vec![PAD; k * ts];
        let mut mask = vec![0u32; k * ts];
        for r in 0..k {
            ids[r * ts..r * ts + src.len()].copy_from_slice(src);
            mask[r * ts..r * ts + src.len()]
                .iter_mut()
                .for_each(|m| *m = 1);
        }
        c.encoder.set_input_u32(ctx, "src", &ids)?;
        c.encoder.set_input_u32(ctx, "src_mask", &mask)?;
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        c.encoder.record(ctx, &mut encoder)?;
        ctx.submit(encoder.finish())?;

        let norm = |score: f64, len: usize| score / (len as f64).powf(alpha as f64);
        // Live hypotheses: (tokens, summed log-probability). Only the first exists at t = 0,
        // so the K rows of the first step (all BOS, identical) expand it once.
        let mut live: Vec<(Vec<u32>, f64)> = vec![(Vec::new(), 0.0)];
        let mut finished: Vec<(Vec<u32>, f64)> = Vec::new();
        let row_bytes = c.scratch.byte_size() / k as u64;
        for t in 0..tt {
            let tokens: Vec<u32> = (0..k)
                .map(|r| {
                    live.get(r)
                        .and_then(|(h, _)| h.last().copied())
                        .unwrap_or(BOS)
                })
                .collect();
            c.step.set_input_u32(ctx, "token", &tokens)?;
            c.step.set_input_u32(ctx, "position", &vec![t as u32; k])?;
            c.step.step(ctx)?;
            let lp = c.step.read_f32(ctx, c.logprobs)?;
            let mut candidates: Vec<(f64, usize, u32)> = Vec::with_capacity(live.len() * v);
            for (r, (_, score)) in live.iter().enumerate() {
                for (id, &l) in lp[r * v..(r + 1) * v].iter().enumerate() {
                    candidates.push((score + l as f64, r, id as u32));
                }
            }
            candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let mut next: Vec<(Vec<u32>, f64)> = Vec::with_capacity(k);
            let mut parents = Vec::with_capacity(k);
            for (score, r, id) in candidates {
                if next.len() == k {
                    break;
                }
                let mut h = live[r].0.clone();
                if id == EOS || t + 1 == tt {
                    if id != EOS {
                        h.push(id);
                    }
                    finished.push((h, score));
                    continue;
                }
                h.push(id);
                next.push((h, score));
                parents.push(r);
            }
            // Stop when no live hypothesis can still beat the best finished one. Log-probabilities
            // are at most 0, so a live score s can only fall, and its normalised score is at
            // best s / (Tt + 1)^alpha (no further cost, the longest length): an exact bound for
            // any alpha >= 0 (for alpha = 0, the score itself). Stopping once K hypotheses have
            // finished instead cut off longer, better ones: an EOS taken early by a weak
            // hypothesis counts as finished (number words: 98.1 % against greedy's 99.9 %).
            let best_done = finished
                .iter()
                .map(|(h, s)| norm(*s, h.len() + 1))
                .fold(f64::MIN, f64::max);
            let optimistic = ((tt + 1) as f64).powf(alpha.max(0.0) as f64);
            let best_live = next
                .iter()
                .map(|(_, s)| *s / optimistic)
                .fold(f64::MIN, f64::max);
            if next.is_empty() || best_done >= best_live {
                live = next;
                break;
            }
            // The caches follow the hypotheses: row j takes its parent's row.
            if parents.iter().enumerate().any(|(j, &p)| j != p) {
                let mut encoder = ctx.device().create_command_encoder(&Default::default());
                for cache in &c.caches {
                    for (j, &p) in parents.iter().enumerate() {
                        let (from, to) = (p as u64 * row_bytes, j as u64 * row_bytes);
                        copy(&mut encoder, cache, from, &c.scratch, to, row_bytes);
                    }
                    let bytes = parents.len() as u64 * row_bytes;
                    copy(&mut encoder, &c.scratch, 0, cache, 0, bytes);
                }
                ctx.submit(encoder.finish())?;
            }
            live = next;
        }
        let best = finished
            .into_iter()
            .chain(live)
            .map(|(h, s)| (norm(s, h.len() + 1), h))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        Ok(best.map(|(_, h)| h).unwrap_or_default())
    }

    /// Decodes every source in `sources` (ids without BOS/EOS, cut to `max_src`), `batch` at
    /// a time with the last batch padded: one output per source, in order.
    pub fn translate_all(&mut self, ctx: &Context, sources: &[Vec<u32>]) -> Result<Vec<Vec<u32>>> {
        let shape = self.cfg.batch_shape(self.batch);
        let mut out = Vec::with_capacity(sources.len());
        for chunk in sources.chunks(self.batch.max(1)) {
            let examples: Vec<(&[u32], &[u32])> =
                chunk.iter().map(|s| (s.as_slice(), &[][..])).collect();
            let batch = crate::data::Seq2SeqBatch::new(&examples, shape)?;
            let decoded = self.translate(ctx, &batch.src, &batch.src_mask)?;
            out.extend(decoded.into_iter().take(chunk.len()));
        }
        Ok(out)
    }

    /// Decodes every source of `examples` (source, wanted output) as
    /// [`translate_all`](Self::translate_all) does: the fraction decoded exactly as wanted
    /// (0 for no examples; a wanted output holding the unknown id never counts, since an
    /// unknown decoded for an unknown says nothing), and the outputs in order.
    pub fn exact_match(
        &mut self,
        ctx: &Context,
        examples: &[(Vec<u32>, Vec<u32>)],
    ) -> Result<(f64, Vec<Vec<u32>>)> {
        let sources: Vec<Vec<u32>> = examples.iter().map(|(s, _)| s.clone()).collect();
        let outputs = self.translate_all(ctx, &sources)?;
        let right = examples
            .iter()
            .zip(&outputs)
            .filter(|((_, want), got)| matches(want, got))
            .count();
        Ok((right as f64 / examples.len().max(1) as f64, outputs))
    }

    /// The fraction of `examples` (source, wanted output) that
    /// [`translate_beam`](Self::translate_beam) decodes exactly as wanted (0 for none).
    pub fn beam_exact_match(
        &mut self,
        ctx: &Context,
        examples: &[(Vec<u32>, Vec<u32>)],
        alpha: f32,
    ) -> Result<f64> {
        let mut right = 0;
        for (src, want) in examples {
            right += matches(want, &self.translate_beam(ctx, src, alpha)?) as usize;
        }
        Ok(right as f64 / examples.len().max(1) as f64)
    }

    /// Decodes `src` and returns the output with the last decoder layer's cross-attention
    /// over it, averaged over heads: `[Tt, Ts]` row-major, Tt = output length + 1 (the EOS
    /// step), Ts = `src.len()`. Compiles a probe plan at the example's true lengths over
    /// `store`'s weights (for pictures, not for a loop).
    pub fn cross_attention(
        &mut self,
        ctx: &Context,
        store: &mut ParamStore,
        src: &[u32],
    ) -> Result<(Vec<u32>, Vec<f32>)> {
        let output = self
            .translate_all(ctx, &[src.to_vec()])?
            .pop()
            .unwrap_or_default();
        let src = &src[..src.len().min(self.cfg.max_src)];
        let (graph, weights) =
            Seq2Seq::cross_attention_graph(self.cfg, src.len().max(1), output.len() + 1)?;
        let spec = PlanSpec::eval(vec![weights]);
        let mut probe = Plan::compile(ctx, &graph, store, &spec)?;
        probe.set_input_u32(ctx, "src", src)?;
        probe.set_input_u32(ctx, "tgt_in", &[&[BOS][..], &output].concat())?;
        probe.step(ctx)?;
        Ok((output, probe.read_f32(ctx, weights)?))
    }

    /// [`cross_attention`](Self::cross_attention) for `src` as a labelled heatmap PNG at
    /// `path`: output tokens down (then `<eos>`), source tokens across, each named by `label`.
    #[cfg(feature = "viz")]
    pub fn cross_attention_png(
        &mut self,
        ctx: &Context,
        store: &mut ParamStore,
        src: &[u32],
        label: impl Fn(&[u32]) -> String,
        path: &std::path::Path,
    ) -> Result<()> {
        let (output, weights) = self.cross_attention(ctx, store, src)?;
        let src = &src[..src.len().min(self.cfg.max_src)];
        let mut rows: Vec<String> = output.iter().map(|id| label(&[*id])).collect();
        rows.push("<eos>".into());
        let cols: Vec<String> = src.iter().map(|id| label(&[*id])).collect();
        let title = format!("cross-attention: {} -> {}", label(src), label(&output));
        let (r, c) = (rows.len(), cols.len().max(1));
        crate::viz::heatmap(path, &weights, r, c, &rows, &cols, &title)
    }
}

/// Whether `got` is exactly `want`, which must hold no unknown id (see
/// [`Translator::exact_match`]).
fn matches(want: &[u32], got: &[u32]) -> bool {
    want == got && !want.contains(&crate::data::vocab::UNK)
}

#[cfg(test)]
mod tests {
    use super::matches;
    use crate::data::vocab::UNK;

    #[test]
    fn an_unknown_decoded_for_an_unknown_is_no_match() {
        assert!(matches(&[5, 6, 7], &[5, 6, 7]));
        assert!(!matches(&[5, 6, 7], &[5, 6]));
        assert!(!matches(&[5, UNK, 7], &[5, UNK, 7]));
    }
}
