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
//! Files are chunked by paragraphs up to the model's length in word pieces, consecutive chunks
//! sharing their boundary paragraph; a paragraph longer than the model's length is cut into
//! overlapping windows of words. The index lives in `--index DIR` (default `runs/index`):
//! `vectors.safetensors` and `meta.jsonl`, written atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use kiln::index::{Meta, VectorIndex};
use kiln::pretrained::SentenceEncoder;
use kiln::progress::Progress;
use kiln::{Context, Error, Result};

const USAGE: &str = "semantic_search --model DIR [--index DIR] [--add PATH]...
  [--query TEXT] [--k N] [--queries FILE.jsonl --json FILE] [--embed FILE --out FILE]";

struct Args {
    model: PathBuf,
    index: PathBuf,
    add: Vec<PathBuf>,
    query: Option<String>,
    k: usize,
    queries: Option<PathBuf>,
    json: Option<PathBuf>,
    embed: Option<PathBuf>,
    out: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        model: PathBuf::new(),
        index: PathBuf::from("runs/index"),
        add: Vec::new(),
        query: None,
        k: 10,
        queries: None,
        json: None,
        embed: None,
        out: PathBuf::from("embeddings.safetensors"),
    };
    let mut model = None;
    let mut it = std::env::args().skip(1);
    let bad = |m: String| Error::Unsupported(format!("{m}\nusage: {USAGE}"));
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("usage: {USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| bad(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--model" => model = Some(PathBuf::from(value)),
            "--index" => args.index = PathBuf::from(value),
            "--add" => args.add.push(PathBuf::from(value)),
            "--query" => args.query = Some(value),
            "--k" => {
                args.k = value
                    .parse()
                    .map_err(|_| bad(format!("--k wants a number, got {value:?}")))?
            }
            "--queries" => args.queries = Some(PathBuf::from(value)),
            "--json" => args.json = Some(PathBuf::from(value)),
            "--embed" => args.embed = Some(PathBuf::from(value)),
            "--out" => args.out = PathBuf::from(value),
            _ => return Err(bad(format!("unknown flag {flag}"))),
        }
    }
    args.model = model.ok_or_else(|| {
        bad("--model DIR is required (get all-MiniLM-L6-v2 with .ci/fetch_minilm.sh DIR)".into())
    })?;
    if args.add.is_empty() && args.query.is_none() && args.queries.is_none() && args.embed.is_none()
    {
        return Err(bad(
            "nothing to do: give --add, --query, --queries or --embed".into(),
        ));
    }
    if args.queries.is_some() != args.json.is_some() {
        return Err(bad("--queries and --json go together".into()));
    }
    Ok(args)
}

fn main() {
    if let Err(e) = parse_args().and_then(run) {
        eprintln!("semantic_search: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let ctx = Context::new()?;
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
    if args.query.is_some() || args.queries.is_some() {
        let index = open_index(&ctx, &args.index, encoder.dim(), false)?;
        if let Some(q) = &args.query {
            query(&ctx, &mut encoder, &index, q, args.k)?;
        }
        if let (Some(q), Some(json)) = (&args.queries, &args.json) {
            query_file(&ctx, &mut encoder, &index, q, json, args.k)?;
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The index in `dir`, or a new one when there is none and `create` is set. An index made with
/// another model (another dimension) is an error.
fn open_index(ctx: &Context, dir: &Path, dim: usize, create: bool) -> Result<VectorIndex> {
    let index = if dir.join("meta.jsonl").exists() {
        VectorIndex::load(ctx, dir)?
    } else if create {
        VectorIndex::new(ctx, dim)?
    } else {
        return Err(Error::Unsupported(format!(
            "no index in {}: build one with --add PATH",
            dir.display()
        )));
    };
    if index.dim() != dim {
        return Err(Error::Unsupported(format!(
            "the index in {} holds {}-dimensional vectors but the model makes {dim}: it was \
             built with another model",
            dir.display(),
            index.dim()
        )));
    }
    Ok(index)
}

/// A piece of a document to embed, with where it came from.
struct Chunk {
    text: String,
    source: String,
    position: u64,
}

/// Every `.txt`/`.md` file under `path` (or `path` itself), sorted, or a JSON Lines file's
/// records, as chunks.
fn chunks_of(encoder: &SentenceEncoder, path: &Path) -> Result<Vec<Chunk>> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        return jsonl_records(path).map(|records| {
            records
                .into_iter()
                .flat_map(|(line, id, text)| {
                    chunk_text(encoder, &text)
                        .into_iter()
                        .enumerate()
                        .map(move |(k, text)| Chunk {
                            text,
                            source: id.clone(),
                            position: if k == 0 {
                                line as u64
                            } else {
                                line as u64 + k as u64
                            },
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        });
    }
    let mut files = Vec::new();
    collect_files(path, &mut files)?;
    if files.is_empty() {
        return Err(Error::Unsupported(format!(
            "{}: no .txt or .md files there (or a .jsonl file of {{\"id\", \"text\"}} records)",
            path.display()
        )));
    }
    let mut out = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|e| io_error(&file, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Error::Data {
                path: file.display().to_string(),
                line,
                message: "not UTF-8: texts must be UTF-8".into(),
            }
        })?;
        for (k, text) in chunk_text(encoder, &text).into_iter().enumerate() {
            out.push(Chunk {
                text,
                source: file.display().to_string(),
                position: k as u64,
            });
        }
    }
    Ok(out)
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| io_error(path, e))?
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

/// `(line, id, text)` of each record of a JSON Lines file; a bad line names the file and line.
fn jsonl_records(path: &Path) -> Result<Vec<(usize, String, String)>> {
    let lines = kiln::pretrained::read_texts(path)?;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::Data {
            path: path.display().to_string(),
            line: i + 1,
            message,
        };
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let text = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| bad("no string field \"text\"".into()))?;
        let id = match v.get("id") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => return Err(bad("no field \"id\" (a string or a number)".into())),
        };
        out.push((i + 1, id, text.to_string()));
    }
    Ok(out)
}

/// Paragraphs (split at blank lines) packed into chunks of at most the model's length in word
/// pieces; each chunk after the first starts with the previous chunk's last paragraph when it
/// fits, so a passage that straddles a boundary is whole in one of them. A paragraph longer
/// than the model's length becomes windows of words overlapping by a quarter.
fn chunk_text(encoder: &SentenceEncoder, text: &str) -> Vec<String> {
    // [CLS] and [SEP] take two of the model's positions.
    let limit = encoder.max_seq_length().saturating_sub(2).max(8);
    let pieces = |s: &str| {
        encoder
            .tokenize(&[s])
            .map(|t| t[0].len().saturating_sub(2))
            .unwrap_or(usize::MAX)
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
            paragraphs.push((window, n));
            if end == words.len() {
                break;
            }
            // Overlap by a quarter of the window, always moving forward.
            let next = end - (end - start) / 4;
            start = if next > start { next } else { end };
        }
    }
    let mut chunks = Vec::new();
    let mut current: Vec<(String, usize)> = Vec::new();
    let mut size = 0;
    for (para, n) in paragraphs {
        if !current.is_empty() && size + n > limit {
            chunks.push(join(&current));
            let last = current.pop();
            current.clear();
            size = 0;
            if let Some((p, m)) = last {
                if m + n <= limit {
                    current.push((p, m));
                    size = m;
                }
            }
        }
        size += n;
        current.push((para, n));
    }
    if !current.is_empty() {
        chunks.push(join(&current));
    }
    chunks
}

fn join(paragraphs: &[(String, usize)]) -> String {
    paragraphs
        .iter()
        .map(|(p, _)| p.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Embeds the chunks of `path` into `index`, with a progress bar.
fn add(
    ctx: &Context,
    encoder: &mut SentenceEncoder,
    index: &mut VectorIndex,
    path: &Path,
) -> Result<()> {
    let chunks = chunks_of(encoder, path)?;
    if chunks.is_empty() {
        return Err(Error::Unsupported(format!(
            "{}: nothing to index (empty)",
            path.display()
        )));
    }
    let start = Instant::now();
    let mut bar = Progress::new(chunks.len() as u64, "embed");
    let batch = 64;
    for (k, group) in chunks.chunks(batch).enumerate() {
        let texts: Vec<&str> = group.iter().map(|c| c.text.as_str()).collect();
        let vectors: Vec<f32> = encoder.embed(ctx, &texts)?.into_iter().flatten().collect();
        let metas = group
            .iter()
            .map(|c| Meta {
                text: c.text.clone(),
                source: c.source.clone(),
                position: c.position,
            })
            .collect();
        index.add(ctx, &vectors, metas)?;
        let done = (k * batch + group.len()) as u64;
        bar.set(
            done,
            &format!(
                "{:.1} chunks/s",
                done as f64 / start.elapsed().as_secs_f64().max(1e-9)
            ),
        );
    }
    bar.finish();
    eprintln!(
        "added {} chunks from {} in {:.1} s",
        chunks.len(),
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn query(
    ctx: &Context,
    encoder: &mut SentenceEncoder,
    index: &VectorIndex,
    text: &str,
    k: usize,
) -> Result<()> {
    let q = encoder.embed(ctx, &[text])?.concat();
    let hits = index.search(ctx, &q, k)?;
    for (rank, hit) in hits.first().into_iter().flatten().enumerate() {
        let meta = index.meta(hit.id).cloned().unwrap_or_default();
        let mut snippet: String = meta.text.chars().take(240).collect();
        if snippet.len() < meta.text.len() {
            snippet.push('…');
        }
        println!(
            "{:>2}. {:.4}  {} #{}\n    {}",
            rank + 1,
            hit.score,
            meta.source,
            meta.position,
            snippet.replace('\n', " ")
        );
    }
    Ok(())
}

/// Answers every query of a JSON Lines file into `json`: a list of
/// `{"id", "hits": [{"id", "source", "position", "score"}]}`.
fn query_file(
    ctx: &Context,
    encoder: &mut SentenceEncoder,
    index: &VectorIndex,
    path: &Path,
    json: &Path,
    k: usize,
) -> Result<()> {
    let records = jsonl_records(path)?;
    let start = Instant::now();
    let mut out = Vec::new();
    for group in records.chunks(64) {
        let texts: Vec<&str> = group.iter().map(|(_, _, t)| t.as_str()).collect();
        let q: Vec<f32> = encoder.embed(ctx, &texts)?.into_iter().flatten().collect();
        let hits = index.search(ctx, &q, k)?;
        for ((_, id, _), hits) in group.iter().zip(hits) {
            let hits: Vec<serde_json::Value> = hits
                .iter()
                .map(|h| {
                    let meta = index.meta(h.id).cloned().unwrap_or_default();
                    serde_json::json!({
                        "id": h.id,
                        "source": meta.source,
                        "position": meta.position,
                        "score": h.score,
                    })
                })
                .collect();
            out.push(serde_json::json!({ "id": id, "hits": hits }));
        }
    }
    let text = serde_json::to_string_pretty(&out)
        .map_err(|e| Error::Unsupported(format!("cannot write JSON: {e}")))?;
    std::fs::write(json, text).map_err(|e| io_error(json, e))?;
    eprintln!(
        "{} queries in {:.2} s → {}",
        records.len(),
        start.elapsed().as_secs_f64(),
        json.display()
    );
    Ok(())
}

/// One embedding per line of `path`, written as the safetensors tensor `embeddings`
/// `[lines, dim]` to `out`, atomically.
fn embed_file(ctx: &Context, encoder: &mut SentenceEncoder, path: &Path, out: &Path) -> Result<()> {
    let lines = kiln::pretrained::read_texts(path)?;
    let start = Instant::now();
    let mut bar = Progress::new(lines.len() as u64, "embed");
    let mut flat = Vec::with_capacity(lines.len() * encoder.dim());
    for group in lines.chunks(64) {
        let texts: Vec<&str> = group.iter().map(String::as_str).collect();
        if !texts.is_empty() {
            flat.extend(encoder.embed(ctx, &texts)?.into_iter().flatten());
        }
        bar.set((flat.len() / encoder.dim()) as u64, "");
    }
    bar.finish();
    let bytes: Vec<u8> = flat.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = safetensors::tensor::TensorView::new(
        safetensors::Dtype::F32,
        vec![lines.len(), encoder.dim()],
        &bytes,
    )
    .map_err(|e| Error::Unsupported(format!("cannot build the embeddings tensor: {e}")))?;
    let data = safetensors::serialize([("embeddings", view)], None)
        .map_err(|e| Error::Unsupported(format!("cannot serialise the embeddings: {e}")))?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    kiln::io::write_atomically(dir, out, &data)?;
    eprintln!(
        "{} embeddings of {} dimensions in {:.1} s → {}",
        lines.len(),
        encoder.dim(),
        start.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
