//! Sentence-encoder case of the benchmark: all-MiniLM-L6-v2 (from `KILN_MINILM_DIR`, fetched by
//! `.ci/fetch_minilm.sh`) embedding batches of 64 texts of exactly 32 and 128 word pieces, in
//! sentences/s and word pieces/s, end to end (upload, encoder, pooling, normalisation,
//! readback). No baseline runs in this process; the line names kiln's share in matmul.

use kiln::pretrained::SentenceEncoder;
use kiln::{Context, Result};

use crate::figure::{median_seconds, Figure};

/// Batch size of every case.
const BATCH: usize = 64;

pub fn run(ctx: &Context) -> Result<Vec<Figure>> {
    let Some(dir) = std::env::var_os("KILN_MINILM_DIR") else {
        println!(
            "encoder: skipped (set KILN_MINILM_DIR; .ci/fetch_minilm.sh DIR fetches the model)"
        );
        return Ok(Vec::new());
    };
    let mut enc = SentenceEncoder::load(ctx, dir)?;
    enc.set_batch_size(BATCH);
    let mut figures = Vec::new();
    for (pieces, runs) in [(32usize, 3usize), (128, 1)] {
        // [CLS] + word pieces 1000.. + [SEP]: every text exactly `pieces` long.
        let ids: Vec<Vec<u32>> = (0..BATCH as u32)
            .map(|i| {
                let body = (0..pieces as u32 - 2).map(|j| 1000 + (i * 31 + j * 7) % 20000);
                std::iter::once(101).chain(body).chain([102]).collect()
            })
            .collect();
        let mut failed = None;
        let t = median_seconds(runs, || {
            if let Err(e) = enc.embed_ids(ctx, &ids).and_then(|t| t.to_vec_f32(ctx)) {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let profile = enc.profile(ctx, BATCH, pieces)?;
        let all: f64 = profile.iter().map(|(_, s)| s).sum();
        let in_matmul: f64 = profile
            .iter()
            .filter(|(label, _)| label.contains("matmul"))
            .map(|(_, s)| s)
            .sum();
        let matmul = in_matmul / all.max(f64::MIN_POSITIVE);
        for (unit, value) in [
            ("sent/s", BATCH as f64 / t),
            ("tokens/s", (BATCH * pieces) as f64 / t),
        ] {
            let f = Figure {
                name: "MiniLM-L6 encode".into(),
                shape: format!("{BATCH}x{pieces} pieces"),
                kiln: value,
                unit,
                baseline: None,
                baseline_name: String::new(),
                higher_is_better: true,
            };
            println!(
                "{}  ({:.2} s/batch, {:.0}% of dispatch time in matmul)",
                f.line(),
                t,
                100.0 * matmul
            );
            figures.push(f);
        }
    }
    Ok(figures)
}
