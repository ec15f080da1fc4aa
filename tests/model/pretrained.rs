//! `kiln::pretrained`: a BERT sentence encoder loaded from a Hugging Face folder.
//!
//! Model-free tests build a tiny random BERT folder (config.json, model.safetensors,
//! tokenizer.json, sentence-transformers' pooling files) in a temporary directory and check
//! kiln against a plain f64 CPU forward of the same weights, plus the errors bad folders get.
//! The parity tests against the real all-MiniLM-L6-v2 and the committed sentence-transformers
//! reference need the model: they are ignored unless run with `--ignored` and
//! `KILN_MINILM_DIR` set (`.ci/fetch_minilm.sh DIR` fetches it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kiln::pretrained::{read_texts, SentenceEncoder};
use kiln::Error;
use safetensors::tensor::{Dtype, TensorView};
use serde_json::json;

use super::*;

const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "dog", "sat", "on", "mat",
    "hello", "world", "big", "red", "run", "##s", "##ing", "##ed", ".", ",", "!", "?", "cafe",
    "猫", "is",
];
const D: usize = 16;
const HEADS: usize = 2;
const LAYERS: usize = 2;
const FF: usize = 24;
const MAX_POS: usize = 16;
const MAX_SEQ: usize = 12;
const EPS: f64 = 1e-12;

/// A tiny BERT's tensors by Hugging Face name, in the file's layout (Linear weights
/// `[out, in]`), as f64 after rounding through the dtype they are stored in.
struct Tiny {
    tensors: BTreeMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Tiny {
    fn new(seed: u64, round: impl Fn(f32) -> f32) -> Tiny {
        let mut rng = Rng::new(seed);
        let mut tensors = BTreeMap::new();
        let mut add = |name: String, shape: &[usize], scale: f64, offset: f64| {
            let n: usize = shape.iter().product();
            let v: Vec<f64> = rng
                .vec(n)
                .iter()
                .map(|&x| round((offset + scale * x as f64) as f32) as f64)
                .collect();
            tensors.insert(name, (shape.to_vec(), v));
        };
        add(
            "embeddings.word_embeddings.weight".into(),
            &[VOCAB.len(), D],
            1.0,
            0.0,
        );
        add(
            "embeddings.position_embeddings.weight".into(),
            &[MAX_POS, D],
            0.5,
            0.0,
        );
        add(
            "embeddings.token_type_embeddings.weight".into(),
            &[2, D],
            0.5,
            0.0,
        );
        add("embeddings.LayerNorm.weight".into(), &[D], 0.2, 1.0);
        add("embeddings.LayerNorm.bias".into(), &[D], 0.1, 0.0);
        for i in 0..LAYERS {
            let l = format!("encoder.layer.{i}");
            let mut linear = |name: String, fan_in: usize, fan_out: usize| {
                let s = 1.5 / (fan_in as f64).sqrt();
                add(format!("{name}.weight"), &[fan_out, fan_in], s, 0.0);
                add(format!("{name}.bias"), &[fan_out], 0.1, 0.0);
            };
            for part in ["query", "key", "value"] {
                linear(format!("{l}.attention.self.{part}"), D, D);
            }
            linear(format!("{l}.attention.output.dense"), D, D);
            linear(format!("{l}.intermediate.dense"), D, FF);
            linear(format!("{l}.output.dense"), FF, D);
            for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
                add(format!("{l}.{ln}.weight"), &[D], 0.2, 1.0);
                add(format!("{l}.{ln}.bias"), &[D], 0.1, 0.0);
            }
        }
        // Unused by the encoder, present in real checkpoints: must be ignored.
        add("pooler.dense.weight".into(), &[D, D], 0.1, 0.0);
        Tiny { tensors }
    }

    fn get(&self, name: &str) -> &[f64] {
        &self.tensors[name].1
    }

    /// Writes the folder: every file a sentence-transformers MiniLM folder has that kiln reads.
    fn write(&self, dir: &Path, dtype: Dtype, skip: Option<&str>, reshape: Option<&str>) {
        std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
        let config = json!({
            "architectures": ["BertModel"], "model_type": "bert",
            "vocab_size": VOCAB.len(), "hidden_size": D, "num_hidden_layers": LAYERS,
            "num_attention_heads": HEADS, "intermediate_size": FF, "hidden_act": "gelu",
            "max_position_embeddings": MAX_POS, "type_vocab_size": 2, "layer_norm_eps": EPS,
            "position_embedding_type": "absolute", "pad_token_id": 0
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let modules = json!([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
        ]);
        std::fs::write(dir.join("modules.json"), modules.to_string()).unwrap();
        let pooling = json!({"word_embedding_dimension": D, "pooling_mode_cls_token": false,
            "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false,
            "pooling_mode_mean_sqrt_len_tokens": false});
        std::fs::write(dir.join("1_Pooling/config.json"), pooling.to_string()).unwrap();
        let sbert = json!({"max_seq_length": MAX_SEQ, "do_lower_case": false});
        std::fs::write(dir.join("sentence_bert_config.json"), sbert.to_string()).unwrap();
        std::fs::write(dir.join("tokenizer.json"), tokenizer_json().to_string()).unwrap();

        let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, (shape, v)) in &self.tensors {
            if Some(name.as_str()) == skip {
                continue;
            }
            let mut shape = shape.clone();
            if Some(name.as_str()) == reshape {
                shape[0] -= 1;
            }
            let n: usize = shape.iter().product();
            let bytes: Vec<u8> = v[..n]
                .iter()
                .flat_map(|&x| match dtype {
                    Dtype::F16 => half::f16::from_f64(x).to_le_bytes().to_vec(),
                    Dtype::BF16 => half::bf16::from_f64(x).to_le_bytes().to_vec(),
                    _ => (x as f32).to_le_bytes().to_vec(),
                })
                .collect();
            owned.push((name.clone(), shape, bytes));
        }
        // A buffer of another dtype, as real checkpoints carry (position_ids is I64).
        let ids: Vec<u8> = (0..MAX_POS as i64).flat_map(|i| i.to_le_bytes()).collect();
        owned.push(("embeddings.position_ids".into(), vec![1, MAX_POS], ids));
        let views: Vec<(String, TensorView)> = owned
            .iter()
            .map(|(n, s, b)| {
                let dt = if n == "embeddings.position_ids" {
                    Dtype::I64
                } else {
                    dtype
                };
                (n.clone(), TensorView::new(dt, s.clone(), b).unwrap())
            })
            .collect();
        let bytes = safetensors::serialize(views, None).unwrap();
        std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
    }

    /// The f64 CPU forward of one text's ids: BERT (post-norm), mean pooling, L2 norm.
    fn embed(&self, ids: &[u32]) -> Vec<f64> {
        let n = ids.len();
        let w = |name: &str| self.get(name);
        let word = w("embeddings.word_embeddings.weight");
        let pos = w("embeddings.position_embeddings.weight");
        let typ = w("embeddings.token_type_embeddings.weight");
        let mut x: Vec<Vec<f64>> = (0..n)
            .map(|t| {
                (0..D)
                    .map(|c| word[ids[t] as usize * D + c] + pos[t * D + c] + typ[c])
                    .collect()
            })
            .collect();
        let ln = |x: &mut Vec<Vec<f64>>, name: &str| {
            let (g, b) = (w(&format!("{name}.weight")), w(&format!("{name}.bias")));
            for row in x.iter_mut() {
                let mean = row.iter().sum::<f64>() / D as f64;
                let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / D as f64;
                for (c, v) in row.iter_mut().enumerate() {
                    *v = (*v - mean) / (var + EPS).sqrt() * g[c] + b[c];
                }
            }
        };
        let linear = |x: &[Vec<f64>], name: &str, fan_out: usize| -> Vec<Vec<f64>> {
            let (wt, b) = (w(&format!("{name}.weight")), w(&format!("{name}.bias")));
            let fan_in = x[0].len();
            x.iter()
                .map(|row| {
                    (0..fan_out)
                        .map(|o| {
                            b[o] + (0..fan_in)
                                .map(|i| wt[o * fan_in + i] * row[i])
                                .sum::<f64>()
                        })
                        .collect()
                })
                .collect()
        };
        ln(&mut x, "embeddings.LayerNorm");
        let dh = D / HEADS;
        for i in 0..LAYERS {
            let l = format!("encoder.layer.{i}");
            let q = linear(&x, &format!("{l}.attention.self.query"), D);
            let k = linear(&x, &format!("{l}.attention.self.key"), D);
            let v = linear(&x, &format!("{l}.attention.self.value"), D);
            let mut o = vec![vec![0.0; D]; n];
            for h in 0..HEADS {
                let cols = h * dh..(h + 1) * dh;
                for a in 0..n {
                    let s: Vec<f64> = (0..n)
                        .map(|j| {
                            cols.clone().map(|c| q[a][c] * k[j][c]).sum::<f64>()
                                / (dh as f64).sqrt()
                        })
                        .collect();
                    let m = s.iter().cloned().fold(f64::MIN, f64::max);
                    let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for c in cols.clone() {
                        o[a][c] = (0..n).map(|j| e[j] / z * v[j][c]).sum();
                    }
                }
            }
            let o = linear(&o, &format!("{l}.attention.output.dense"), D);
            for (r, orow) in x.iter_mut().zip(&o) {
                r.iter_mut().zip(orow).for_each(|(a, b)| *a += b);
            }
            ln(&mut x, &format!("{l}.attention.output.LayerNorm"));
            let mut h = linear(&x, &format!("{l}.intermediate.dense"), FF);
            for v in h.iter_mut().flatten() {
                *v = 0.5 * *v * (1.0 + erf(*v / 2f64.sqrt()));
            }
            let h = linear(&h, &format!("{l}.output.dense"), D);
            for (r, hrow) in x.iter_mut().zip(&h) {
                r.iter_mut().zip(hrow).for_each(|(a, b)| *a += b);
            }
            ln(&mut x, &format!("{l}.output.LayerNorm"));
        }
        let mean: Vec<f64> = (0..D)
            .map(|c| x.iter().map(|r| r[c]).sum::<f64>() / n as f64)
            .collect();
        let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
        mean.iter().map(|v| v / norm).collect()
    }
}

/// erf as `2/√π ∫₀ˣ e^{-t²} dt` by composite Simpson with 2000 intervals (error ~h⁴·max|f⁗|,
/// below 1e-12 for |x| <= 6), and ±1 beyond 6, where 1 - |erf| < 3e-17.
fn erf(x: f64) -> f64 {
    if x.abs() > 6.0 {
        return x.signum();
    }
    let n = 2000;
    let h = x / n as f64;
    let f = |t: f64| (-t * t).exp();
    let inner: f64 = (1..n)
        .map(|i| if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * h))
        .sum();
    (f(0.0) + inner + f(x)) * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
}

/// A WordPiece tokenizer.json over [`VOCAB`], with BERT's normaliser, pre-tokenizer and
/// `[CLS] .. [SEP]` template, as Hugging Face writes them.
fn tokenizer_json() -> serde_json::Value {
    let vocab: serde_json::Map<String, serde_json::Value> = VOCAB
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), json!(i)))
        .collect();
    let added: Vec<serde_json::Value> = VOCAB[..5]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
}

/// A fresh temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("kiln-pretrained-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const TEXTS: &[&str] = &[
    "The cats sat on the mat.",
    "hello",
    "",
    "A big red dog is running, the cat is sat on a mat!",
    "Café 猫?",
    "zebra",
    "the the the the the the the the the the the the the the the",
];

#[test]
fn tiny_bert_tokenizes_with_truncation() {
    let tmp = TempDir::new("tok");
    Tiny::new(1, |x| x).write(&tmp.0, Dtype::F32, None, None);
    let enc = SentenceEncoder::load(ctx(), &tmp.0).unwrap();
    let ids = enc.tokenize(TEXTS).unwrap();
    // [CLS]=2 the=5 cat=7 ##s=17 sat=9 on=10 the mat=11 .=20 [SEP]=3
    assert_eq!(ids[0], vec![2, 5, 7, 17, 9, 10, 5, 11, 20, 3]);
    assert_eq!(ids[1], vec![2, 12, 3]);
    assert_eq!(ids[2], vec![2, 3], "an empty text is [CLS] [SEP]");
    // Lower-cased, accents stripped, CJK split per character; unknown words are [UNK].
    assert_eq!(ids[4], vec![2, 24, 25, 23, 3]);
    assert_eq!(ids[5], vec![2, 1, 3]);
    // Longer than max_seq_length: truncated to it, [SEP] kept last.
    assert_eq!(ids[6].len(), MAX_SEQ);
    assert_eq!(ids[6], [&[2u32][..], &[5; MAX_SEQ - 2], &[3]].concat());
    assert_eq!(enc.max_seq_length(), MAX_SEQ);
}

#[test]
fn chunks_fit_the_model_and_keep_every_paragraph() {
    let tmp = TempDir::new("chunks");
    Tiny::new(1, |x| x).write(&tmp.0, Dtype::F32, None, None);
    let enc = SentenceEncoder::load(ctx(), &tmp.0).unwrap();
    // MAX_SEQ 12 leaves 10 word pieces a chunk: three short paragraphs (4, 4 and 7 pieces)
    // and one of 30 words that only windows of words can hold.
    let short = [
        "the cat sat.",
        "on the mat.",
        "the big red dog is on the mat.",
    ];
    let long = vec!["the"; 30].join(" ");
    let text = format!("{}\n\n{}\n\n\n{}\n\n{long}", short[0], short[1], short[2]);
    let chunks = enc.chunks(&text);
    for c in &chunks {
        // Every word here is one piece, and a final "." another: counted without the
        // tokenizer, which truncates and so cannot show a chunk that is too long.
        let pieces: usize = c
            .split_whitespace()
            .map(|w| 1 + usize::from(w.ends_with('.')))
            .sum();
        assert!(pieces <= MAX_SEQ - 2, "{c:?} has {pieces} pieces");
        assert_eq!(
            enc.tokenize(&[c.as_str()]).unwrap()[0].len(),
            pieces + 2,
            "{c:?}"
        );
    }
    for p in short {
        assert!(
            chunks.iter().any(|c| c.contains(p)),
            "{p:?} is in no chunk: {chunks:?}"
        );
    }
    // The long paragraph: windows of at most 10 words that overlap and cover all 30.
    let windows: Vec<usize> = chunks
        .iter()
        .filter(|c| c.split(' ').all(|w| w == "the"))
        .map(|c| c.split(' ').count())
        .collect();
    assert!(
        windows.iter().all(|&n| (1..=10).contains(&n)),
        "{windows:?}"
    );
    assert!(
        windows.iter().sum::<usize>() > 30,
        "no overlap: {windows:?}"
    );
    assert!(enc.chunks("").is_empty() && enc.chunks("\n\n \n").is_empty());
}

#[test]
fn tiny_bert_matches_cpu_reference_in_padded_batches() {
    let tmp = TempDir::new("ref");
    let tiny = Tiny::new(2, |x| x);
    tiny.write(&tmp.0, Dtype::F32, None, None);
    let mut enc = SentenceEncoder::load(ctx(), &tmp.0).unwrap();
    let ids = enc.tokenize(TEXTS).unwrap();
    // Batches of 3 so that texts of lengths 2..12 share padded batches (and one is padded
    // with an empty row).
    enc.set_batch_size(3);
    let got = enc.embed(ctx(), TEXTS).unwrap();
    assert_eq!(got.len(), TEXTS.len());
    for (i, (g, row)) in got.iter().zip(&ids).enumerate() {
        // f32 through 2 layers of width 16: each value carries a few ulps of the unit-norm
        // output per op (about 20 ops deep, each ~1e-7 relative); 2e-5 leaves a 10x margin.
        assert_close(
            g,
            &tiny.embed(row),
            2e-5,
            0.0,
            &format!("text {i} {:?}", TEXTS[i]),
        );
        let norm: f32 = g.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "text {i}: norm {norm}");
    }
}

#[test]
fn tiny_bert_padding_invariance_and_plan_reuse() {
    let tmp = TempDir::new("pad");
    Tiny::new(3, |x| x).write(&tmp.0, Dtype::F32, None, None);
    let mut enc = SentenceEncoder::load(ctx(), &tmp.0).unwrap();
    let alone = enc.embed(ctx(), &["hello"]).unwrap();
    // In a batch of 8 padded to 16 word pieces beside longer texts.
    let batch = enc.embed(ctx(), TEXTS).unwrap();
    // Padding changes only the number of zero terms in the masked sums, and the kernels'
    // tiling: a few f32 ulps of a unit vector, well inside 1e-6.
    assert_close(
        &batch[1],
        &f64s(&alone[0]),
        1e-6,
        0.0,
        "hello alone vs in a batch",
    );
    let plans = enc.plans_compiled();
    let pipelines = ctx().pipelines_created();
    let again = enc.embed(ctx(), TEXTS).unwrap();
    assert_eq!(again, batch, "the same texts give the same vectors");
    assert_eq!(
        enc.plans_compiled(),
        plans,
        "no new plan for shapes already seen"
    );
    assert_eq!(
        ctx().pipelines_created(),
        pipelines,
        "no new pipeline on a repeated call"
    );
    let t = enc.embed_tensor(ctx(), TEXTS).unwrap();
    assert_eq!(t.shape(), &[TEXTS.len(), D]);
    assert_eq!(t.to_vec_f32(ctx()).unwrap(), batch.concat());
    let profile = enc.profile(ctx(), 2, 5).unwrap();
    assert!(
        profile.iter().any(|(label, _)| label.contains("attention")),
        "{profile:?}"
    );
}

#[test]
fn tiny_bert_half_precision_checkpoints_load_as_f32() {
    for (tag, dtype, round) in [
        (
            "f16",
            Dtype::F16,
            (|x: f32| half::f16::from_f32(x).to_f32()) as fn(f32) -> f32,
        ),
        ("bf16", Dtype::BF16, |x: f32| {
            half::bf16::from_f32(x).to_f32()
        }),
    ] {
        // Weights representable in the half type: the f32 and the half file hold the same
        // values, so the embeddings must be identical.
        let tiny = Tiny::new(4, round);
        let (full, halfd) = (TempDir::new(&format!("{tag}-32")), TempDir::new(tag));
        tiny.write(&full.0, Dtype::F32, None, None);
        tiny.write(&halfd.0, dtype, None, None);
        let mut a = SentenceEncoder::load(ctx(), &full.0).unwrap();
        let mut b = SentenceEncoder::load(ctx(), &halfd.0).unwrap();
        for (name, t) in a.params().iter() {
            let u = b.params().get(name).unwrap();
            assert_eq!(
                t.to_vec_f32(ctx()).unwrap(),
                u.to_vec_f32(ctx()).unwrap(),
                "{tag}: {name}"
            );
        }
        assert_eq!(
            a.embed(ctx(), TEXTS).unwrap(),
            b.embed(ctx(), TEXTS).unwrap(),
            "{tag}"
        );
    }
}

#[test]
fn missing_files_name_the_file_and_how_to_fetch() {
    let tmp = TempDir::new("missing");
    let tiny = Tiny::new(5, |x| x);
    let err = SentenceEncoder::load(ctx(), tmp.0.join("nowhere"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nowhere") && err.contains("fetch_minilm.sh"),
        "{err}"
    );
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "1_Pooling/config.json",
    ] {
        tiny.write(&tmp.0, Dtype::F32, None, None);
        std::fs::remove_file(tmp.0.join(file)).unwrap();
        let err = SentenceEncoder::load(ctx(), &tmp.0).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(file) && msg.contains("fetch_minilm.sh"),
            "{file}: {msg}"
        );
    }
}

#[test]
fn bad_tensors_are_named_with_both_shapes() {
    let tmp = TempDir::new("bad");
    let tiny = Tiny::new(6, |x| x);
    let name = "encoder.layer.1.intermediate.dense.weight";
    tiny.write(&tmp.0, Dtype::F32, None, Some(name));
    let msg = SentenceEncoder::load(ctx(), &tmp.0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("model.safetensors"), "{msg}");
    assert!(
        msg.contains(name) && msg.contains("[23, 16]") && msg.contains("[24, 16]"),
        "{msg}"
    );

    let name = "encoder.layer.0.attention.self.key.bias";
    tiny.write(&tmp.0, Dtype::F32, Some(name), None);
    let msg = SentenceEncoder::load(ctx(), &tmp.0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains(name) && msg.contains("missing"), "{msg}");

    // A config that implies other shapes than the file holds.
    tiny.write(&tmp.0, Dtype::F32, None, None);
    let path = tmp.0.join("config.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"intermediate_size\":24", "\"intermediate_size\":32"),
    )
    .unwrap();
    let msg = SentenceEncoder::load(ctx(), &tmp.0)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("encoder.layer.0.intermediate.dense.weight") && msg.contains("[32, 16]"),
        "{msg}"
    );

    // Not JSON at all, and an unsupported activation.
    std::fs::write(&path, "{ not json").unwrap();
    let msg = SentenceEncoder::load(ctx(), &tmp.0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("config.json"), "{msg}");
    std::fs::write(&path, text.replace("\"gelu\"", "\"swish\"")).unwrap();
    let msg = SentenceEncoder::load(ctx(), &tmp.0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("swish"), "{msg}");
}

#[test]
fn bad_ids_and_non_utf8_files_are_errors() {
    let tmp = TempDir::new("ids");
    Tiny::new(7, |x| x).write(&tmp.0, Dtype::F32, None, None);
    let mut enc = SentenceEncoder::load(ctx(), &tmp.0).unwrap();
    let msg = enc
        .embed_ids(ctx(), &[vec![2, 999, 3]])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("999") && msg.contains("vocabulary"), "{msg}");
    let msg = enc
        .embed_ids(ctx(), &[vec![5; MAX_SEQ + 1]])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("max_seq_length"), "{msg}");
    assert!(enc.embed(ctx(), &[]).unwrap().is_empty());

    let file = tmp.0.join("texts.txt");
    std::fs::write(&file, b"hello\r\nthe cat\n\xff\xfe bad\n").unwrap();
    let err = read_texts(&file).unwrap_err();
    assert!(matches!(err, Error::Data { line: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("UTF-8"), "{err}");
    std::fs::write(&file, "hello\r\nthe cat\n\nlast").unwrap();
    assert_eq!(read_texts(&file).unwrap(), ["hello", "the cat", "", "last"]);
}

// ---- parity with sentence-transformers (needs the real model) ----

fn minilm_dir() -> PathBuf {
    match std::env::var_os("KILN_MINILM_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            panic!("set KILN_MINILM_DIR to an all-MiniLM-L6-v2 folder (.ci/fetch_minilm.sh DIR)")
        }
    }
}

#[test]
#[ignore = "needs KILN_MINILM_DIR=<all-MiniLM-L6-v2 folder> (.ci/fetch_minilm.sh DIR)"]
fn minilm_matches_sentence_transformers() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm_reference.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let want_ids: Vec<Vec<u32>> = cases
        .iter()
        .map(|c| {
            c["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();

    let start = std::time::Instant::now();
    let mut enc = SentenceEncoder::load(ctx(), minilm_dir()).unwrap();
    let loaded = start.elapsed().as_secs_f64();
    assert_eq!(enc.dim(), 384);
    assert_eq!(enc.max_seq_length(), 256);
    let ids = enc.tokenize(&texts).unwrap();
    for (i, (got, want)) in ids.iter().zip(&want_ids).enumerate() {
        assert_eq!(got, want, "token ids of text {i} {:?}", texts[i]);
    }
    assert!(
        ids.iter().any(|r| r.len() == 256),
        "the long text is truncated to 256"
    );

    // Batches of 8: the long text pads only its own batch to 256.
    enc.set_batch_size(8);
    let start = std::time::Instant::now();
    let got = enc.embed(ctx(), &texts).unwrap();
    let embedded = start.elapsed().as_secs_f64();
    let mut worst = (1.0f64, 0usize);
    for (i, (g, c)) in got.iter().zip(cases).enumerate() {
        let want: Vec<f64> = c["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let dot: f64 = g.iter().zip(&want).map(|(a, b)| *a as f64 * b).sum();
        let na = g.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
        let nb = want.iter().map(|b| b * b).sum::<f64>().sqrt();
        let cos = dot / (na * nb);
        if cos < worst.0 {
            worst = (cos, i);
        }
    }
    println!(
        "minilm parity: min cosine {:.9} (1 - cos = {:.1e}, text {} {:?}); load {loaded:.1} s, \
         embed {embedded:.1} s",
        worst.0,
        1.0 - worst.0,
        worst.1,
        texts[worst.1]
    );
    assert!(
        worst.0 >= 0.9999,
        "min cosine {} at text {} {:?}",
        worst.0,
        worst.1,
        texts[worst.1]
    );
}
