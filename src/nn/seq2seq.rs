//! `Seq2Seq`: the encoder-decoder Transformer of "Attention Is All You Need" over one shared
//! token vocabulary, with the graphs a training run needs and greedy decoding on the GPU.
//!
//! - [`Seq2Seq::new`] declares the parameters in a graph (every graph of the same config names
//!   the same parameters, so plans over one [`ParamStore`](crate::ParamStore) share them).
//! - [`Seq2Seq::training_graph`]: teacher forcing, inputs `src`, `src_mask`, `tgt_in`,
//!   `tgt_out`, a label-smoothed cross-entropy that ignores padding.
//! - [`Translator`]: an encoder plan and a decoder plan at a decoding batch size, plus one
//!   greedy step per output position; a whole batch decodes in one submission, the next
//!   decoder input written by the argmax kernel, never read back until the end.
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
    DecoderLayer, Embedding, EncoderLayer, LayerNorm, Linear, PositionalEncoding, ResidualNorm,
    TransformerOptions,
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

/// Greedy decoding of a batch on the GPU: an encoder plan, a decoder plan and one argmax step
/// per output position, all recorded into one submission.
pub struct Translator {
    cfg: Seq2SeqConfig,
    batch: usize,
    encoder: Plan,
    decoder: Plan,
    memory_out: Tensor,
    steps: Vec<Dispatch>,
    ids: Tensor,
}

impl Translator {
    /// Plans for decoding `batch` sequences at a time, over the parameters in `store`.
    pub fn new(
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
            memory_out: encoder.output(memory)?.clone(),
            encoder,
            decoder,
            steps,
            ids,
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
        self.encoder.set_input_u32(ctx, "src", src)?;
        self.encoder.set_input_u32(ctx, "src_mask", src_mask)?;
        self.decoder.set_input_u32(ctx, "src_mask", src_mask)?;
        let mut start = vec![PAD; b * tt];
        for row in start.chunks_mut(tt) {
            row[0] = BOS;
        }
        self.decoder.set_input_u32(ctx, "tgt_in", &start)?;
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.translate"),
            });
        self.encoder.record(ctx, &mut encoder)?;
        let memory_in = self.decoder.input_tensor("memory")?;
        encoder.copy_buffer_to_buffer(
            self.memory_out.buffer(),
            self.memory_out.offset(),
            memory_in.buffer(),
            memory_in.offset(),
            (b * ts * self.cfg.d_model * 4) as u64,
        );
        for step in &self.steps {
            self.decoder.record(ctx, &mut encoder)?;
            record_all(&mut encoder, std::slice::from_ref(step));
        }
        ctx.submit(encoder.finish())?;
        let ids = self.ids.to_vec_u32(ctx)?;
        Ok(ids
            .chunks(tt)
            .map(|row| row.iter().copied().take_while(|&id| id != EOS).collect())
            .collect())
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
    /// (0 for no examples), and the outputs in order.
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
            .filter(|((_, want), got)| want == *got)
            .count();
        Ok((right as f64 / examples.len().max(1) as f64, outputs))
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
}
