//! Semantic search from the command line: a pretrained sentence encoder (all-MiniLM-L6-v2 from
//! a Hugging Face folder, fetched once with `.ci/fetch_minilm.sh DIR`) embeds your files into a
//! GPU vector index; queries find the nearest chunks.
//!
//! ```sh
//! cargo run --release --example semantic_search -- --model DIR --add notes/        # .txt/.md, recursively
//! cargo run --release --example semantic_search -- --model DIR --add docs.jsonl    # {"id": .., "text": ..} a line
//! cargo run --release --example semantic_search -- --model DIR --query "how do I resume training?" --k 5
//! cargo run --release --example semantic_search -- --model DIR --queries q.jsonl --json hits.json
//! cargo run --release --example semantic_search -- --model DIR --embed lines.txt --out emb.safetensors
//! ```
//! Files are chunked by paragraphs up to the model's length in word pieces
//! ([`SentenceEncoder::chunks`]). A JSON Lines record's `"id"` (any JSON value but `null`) is
//! kept with each of its chunks ([`Meta::user_id`]) and comes back as the hit's `"id"`; the
//! index's own number for the chunk is its `"slot"`. `--query` prints one JSON object per hit,
//! best first. The index lives in `--index DIR` (default `runs/index`): `vectors.safetensors`
//! and `meta.jsonl`, written atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{ArgGroup, Parser};
use serde::Deserialize;
use serde_json::{json, Value};

use kiln::index::{Hit, Meta, VectorIndex, KMAX};
use kiln::pretrained::{read_texts, SentenceEncoder};
use kiln::progress::Progress;
use kiln::{Context, Error, Result};

#[path = "common/device.rs"]
mod device;

/// Semantic search over your files with a pretrained sentence encoder and kiln's GPU index.
#[derive(Parser)]
#[command(group(ArgGroup::new("action").required(true).multiple(true)
    .args(["add", "query", "queries", "embed"])))]
struct Args {
    /// The sentence encoder's Hugging Face folder (get all-MiniLM-L6-v2 with
    /// `.ci/fetch_minilm.sh DIR`).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// The index folder (vectors.safetensors and meta.jsonl), created by --add.
    #[arg(long, value_name = "DIR", default_value = "runs/index")]
    index: PathBuf,
    /// A .txt/.md file, a folder of them (recursively), or a JSON Lines file of
    /// {"id": .., "text": ..} records to add to the index; repeatable.
    #[arg(long, value_name = "PATH")]
    add: Vec<PathBuf>,
    /// A query: its hits are printed as JSON Lines, best first.
    #[arg(long, value_name = "TEXT", value_parser = kiln::train::flags::text)]
    query: Option<String>,
    /// Hits per query, 1 to 64 (the index's top-k limit).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=KMAX as u64))]
    k: u64,
    /// A JSON Lines file of {"id": .., "text": ..} queries, answered into --json.
    #[arg(long, value_name = "FILE", requires = "json")]
    queries: Option<PathBuf>,
    /// Where the answers to --queries go: [{"id", "hits": [{"id", "slot", "source",
    /// "position", "score"}]}].
    #[arg(long, value_name = "FILE", requires = "queries")]
    json: Option<PathBuf>,
    /// A text file whose lines are embedded one by one into --out.
    #[arg(long, value_name = "FILE")]
    embed: Option<PathBuf>,
    /// Where --embed writes its safetensors tensor `embeddings` [lines, dim].
    #[arg(long, value_name = "FILE", default_value = "embeddings.safetensors")]
    out: PathBuf,
    #[command(flatten)]
    device: device::DeviceArgs,
}

/// Texts embedded per call to the encoder.
const BATCH: usize = 64;

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("semantic_search: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let ctx = args.device.context()?;
    eprintln!("adapter: {}", ctx.adapter_summary());
    let mut encoder = SentenceEncoder::load(&ctx, &args.model)?;
    eprintln!(
        "model: {} ({} dimensions, at most {} word pieces)",
        args.model.display(),
        encoder.dim(),
        encoder.max_seq_length()
    );
    if let Some(path) = &args.embed {
        embed_file(&ctx, &mut encoder, path, &args.out)?;
    }
    if !args.add.is_empty() {
        let mut index = open_index(&ctx, &args.index, encoder.dim(), true)?;
        for path in &args.add {
            add(&ctx, &mut encoder, &mut index, path)?;
        }
        index.save(&ctx, &args.index)?;
        eprintln!("index: {} chunks in {}", index.len(), args.index.display());
    }
    if args.query.is_none() && args.queries.is_none() {
        return Ok(());
    }
    let index = open_index(&ctx, &args.index, encoder.dim(), false)?;
    let k = args.k as usize;
    if let Some(text) = &args.query {
        let q = encoder.embed(&ctx, &[text.as_str()])?.concat();
        for (rank, hit) in index.search(&ctx, &q, k)?.concat().iter().enumerate() {
            let mut line = hit_json(&index, hit);
            line["rank"] = json!(rank + 1);
            line["text"] = json!(index.meta(hit.id).map(|m| &m.text));
            println!("{line}");
        }
    }
    if let (Some(queries), Some(json)) = (&args.queries, &args.json) {
        query_file(&ctx, &mut encoder, &index, queries, json, k)?;
    }
    Ok(())
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The index in `dir`, or a new one when there is none and `create` is set. (An index made
/// with another model has another dimension: adding to it or searching it is an error.)
fn open_index(ctx: &Context, dir: &Path, dim: usize, create: bool) -> Result<VectorIndex> {
    if dir.join(kiln::index::file::META_FILE).exists() {
        VectorIndex::load(ctx, dir)
    } else if create {
        VectorIndex::new(ctx, dim)
    } else {
        Err(Error::Unsupported(format!(
            "no index in {}: build one with --add PATH",
            dir.display()
        )))
    }
}

/// The embeddings of `texts`, flat (`dim` floats each), computed `BATCH` at a time under a
/// progress bar.
fn embed_all(ctx: &Context, encoder: &mut SentenceEncoder, texts: &[&str]) -> Result<Vec<f32>> {
    let start = Instant::now();
    let mut bar = Progress::new(texts.len() as u64, "embed");
    let mut flat = Vec::with_capacity(texts.len() * encoder.dim());
    for group in texts.chunks(BATCH) {
        flat.extend(encoder.embed(ctx, group)?.into_iter().flatten());
        let done = flat.len() / encoder.dim();
        let rate = done as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set(done as u64, &format!("{rate:.1} texts/s"));
    }
    bar.finish();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("embedded {} texts in {secs:.1} s", texts.len());
    Ok(flat)
}

/// Embeds the chunks of `path` (see [`chunks_of`]) into `index`.
fn add(
    ctx: &Context,
    encoder: &mut SentenceEncoder,
    index: &mut VectorIndex,
    path: &Path,
) -> Result<()> {
    let metas = chunks_of(encoder, path)?;
    if metas.is_empty() {
        return Err(Error::Unsupported(format!(
            "{}: nothing to index (no text in it, or no .txt or .md files there)",
            path.display()
        )));
    }
    let texts: Vec<&str> = metas.iter().map(|m| m.text.as_str()).collect();
    let vectors = embed_all(ctx, encoder, &texts)?;
    eprintln!("added {} chunks from {}", metas.len(), path.display());
    index.add(ctx, &vectors, metas)?;
    Ok(())
}

/// The chunks of `path` ([`SentenceEncoder::chunks`]), each with where it came from: a JSON Lines file's records (every
/// chunk keeps its record's `"id"`), or every `.txt`/`.md` file under `path` (or `path`
/// itself), sorted. `position` is the chunk's number in its record or file.
fn chunks_of(encoder: &SentenceEncoder, path: &Path) -> Result<Vec<Meta>> {
    // (source, the caller's id, text) of each document.
    let mut docs: Vec<(String, Option<Value>, String)> = Vec::new();
    if path.extension().is_some_and(|e| e == "jsonl") {
        let source = path.display().to_string();
        for Record { id, text } in jsonl_records(path)? {
            docs.push((source.clone(), Some(id), text));
        }
    } else {
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        for file in files {
            docs.push((
                file.display().to_string(),
                None,
                read_texts(&file)?.join("\n"),
            ));
        }
    }
    let mut metas = Vec::new();
    for (source, user_id, text) in docs {
        for (k, text) in encoder.chunks(&text).into_iter().enumerate() {
            let (source, user_id, position) = (source.clone(), user_id.clone(), k as u64);
            metas.push(Meta {
                text,
                source,
                position,
                user_id,
            });
        }
    }
    Ok(metas)
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if std::fs::metadata(path).map_err(io_error(path))?.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io_error(path))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let is_symlink = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        if p.is_dir() && !is_symlink {
            collect_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "txt" || e == "md") {
            out.push(p);
        }
    }
    Ok(())
}

/// A line of a JSON Lines corpus or queries file.
#[derive(Deserialize)]
struct Record {
    /// The caller's id: any JSON value but `null`.
    id: Value,
    text: String,
}

/// The records of a JSON Lines file. Blank lines are passed over; a line that is not a record
/// with an `"id"` and a non-empty `"text"` is left out and named on stderr (the first few,
/// with the count), so one bad line costs only itself. No record at all is an error naming
/// the first bad line.
fn jsonl_records(path: &Path) -> Result<Vec<Record>> {
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in read_texts(path)?.iter().enumerate() {
        let why = match serde_json::from_str::<Record>(line) {
            _ if line.trim().is_empty() => continue,
            Ok(r) if r.id.is_null() => "\"id\" is null".to_string(),
            Ok(r) if r.text.trim().is_empty() => "\"text\" is empty".to_string(),
            Ok(r) => {
                out.push(r);
                continue;
            }
            Err(e) => e.to_string(),
        };
        bad.push(Error::Data {
            path: path.display().to_string(),
            line: i + 1,
            message: format!("{why}; want {{\"id\": .., \"text\": \"..\"}}"),
        });
    }
    if out.is_empty() {
        if let Some(first) = bad.into_iter().next() {
            return Err(first);
        }
    } else if !bad.is_empty() {
        eprintln!("{}: left out {} bad line(s):", path.display(), bad.len());
        for e in bad.iter().take(5) {
            eprintln!("  {e}");
        }
    }
    Ok(out)
}

/// One hit as the output shows it: the caller's id (`null` for a chunk of a plain file), the
/// index's slot, where the chunk came from and its score.
fn hit_json(index: &VectorIndex, hit: &Hit) -> Value {
    // Search returns live vectors only, and every live vector has its metadata.
    let meta = index.meta(hit.id).cloned().unwrap_or_default();
    json!({
        "id": meta.user_id,
        "slot": hit.id,
        "source": meta.source,
        "position": meta.position,
        "score": hit.score,
    })
}

/// Answers every query of a JSON Lines file into `json`: a list of
/// `{"id", "hits": [{"id", "slot", "source", "position", "score"}]}`, each query under its own
/// id and each hit under the id of the record it came from.
fn query_file(
    ctx: &Context,
    encoder: &mut SentenceEncoder,
    index: &VectorIndex,
    path: &Path,
    json: &Path,
    k: usize,
) -> Result<()> {
    let records = jsonl_records(path)?;
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let queries = embed_all(ctx, encoder, &texts)?;
    let mut out = Vec::with_capacity(records.len());
    for (group, q) in records
        .chunks(BATCH)
        .zip(queries.chunks(BATCH * encoder.dim()))
    {
        for (Record { id, .. }, hits) in group.iter().zip(index.search(ctx, q, k)?) {
            let hits: Vec<Value> = hits.iter().map(|h| hit_json(index, h)).collect();
            out.push(json!({ "id": id, "hits": hits }));
        }
    }
    let text = serde_json::to_string_pretty(&out)
        .map_err(|e| Error::Unsupported(format!("cannot write JSON: {e}")))?;
    write(json, text.as_bytes())?;
    eprintln!("{} queries answered → {}", records.len(), json.display());
    Ok(())
}

/// One embedding per line of `path`, written as the safetensors tensor `embeddings`
/// `[lines, dim]` to `out`, atomically.
fn embed_file(ctx: &Context, encoder: &mut SentenceEncoder, path: &Path, out: &Path) -> Result<()> {
    let lines = read_texts(path)?;
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let flat = embed_all(ctx, encoder, &texts)?;
    let bytes: Vec<u8> = flat.iter().flat_map(|v| v.to_le_bytes()).collect();
    let shape = vec![lines.len(), encoder.dim()];
    let data = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &bytes)
        .and_then(|view| safetensors::serialize([("embeddings", view)], None))
        .map_err(|e| Error::Unsupported(format!("cannot serialise the embeddings: {e}")))?;
    write(out, &data)?;
    let (n, d) = (lines.len(), encoder.dim());
    eprintln!("{n} embeddings of {d} dimensions → {}", out.display());
    Ok(())
}

/// Writes `bytes` to `path` atomically (creating its folder).
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    kiln::io::write_atomically(dir.unwrap_or(Path::new(".")), path, bytes)
}
