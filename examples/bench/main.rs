//! The kiln benchmark: prints the adapter, then each case's figure beside a baseline measured
//! in the same run, and their ratio.
//!
//! `cargo run --release --example bench [-- --json FILE] [--quick] [--only GROUP]`, GROUP one of
//! matmul, softmax, attention, block, decode, batch_norm, search, encoder, and `peers` (the
//! peer's two training steps, `peers_lm` or `peers_dcgan` alone: run each in its own process
//! for a cold first step). `--profile-first-step` breaks the LM's first and second steps and
//! the DCGAN's second step pair down by kernel (the first-step figures then mean nothing), and
//! the attention cases' fused and unfused forward+backward.
//!
//! `encoder` needs `KILN_MINILM_DIR` (`.ci/fetch_minilm.sh DIR`) and is skipped without it.

mod attention;
mod batch_norm;
mod block;
mod decode;
mod encoder;
mod figure;
mod matmul;
mod peers;
mod search;
mod softmax;

use figure::Figure;

fn main() -> kiln::Result<()> {
    let process_start = std::time::Instant::now();
    let args: Vec<String> = std::env::args().collect();
    // The value after flag `name`, if given.
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let json = flag("--json");
    let quick = args.iter().any(|a| a == "--quick");
    // `--only GROUP` runs one group of cases (`peers` covers `peers_lm` and `peers_dcgan`).
    let only = flag("--only");
    let wanted = |group: &str| {
        only.as_deref()
            .is_none_or(|o| o == group || (o == "peers" && group.starts_with("peers_")))
    };
    let profile_first = args.iter().any(|a| a == "--profile-first-step");
    // `--backend NAMES` and `--adapter NAME`, as every example takes them.
    let mut options = kiln::ContextOptions::default();
    if let Some(names) = flag("--backend") {
        let backends = kiln::context::parse_backends(&names).map_err(kiln::Error::NoAdapter)?;
        options = options.backends(backends);
    }
    if let Some(name) = flag("--adapter") {
        options = options.adapter(name);
    }
    let ctx = kiln::Context::with_options(options)?;
    println!("adapter: {}", ctx.adapter_summary());
    println!("{}", kiln::ops::matmul::choice(&ctx));
    let mut figures: Vec<Figure> = Vec::new();
    // The matmul cases print each figure as it is measured (the slow variants take a while).
    if wanted("matmul") {
        figures.extend(matmul::run(&ctx, quick)?);
    }
    if wanted("softmax") {
        figures.extend(softmax::run(&ctx)?);
    }
    if wanted("batch_norm") {
        figures.extend(batch_norm::run(&ctx)?);
    }
    if wanted("attention") {
        let attention = attention::run(&ctx, profile_first)?;
        for f in &attention {
            println!("{}", f.line());
        }
        figures.extend(attention);
    }
    if wanted("block") {
        let block = block::run(&ctx)?;
        for f in &block {
            println!("{}", f.line());
        }
        figures.extend(block);
    }
    if wanted("decode") {
        let decode = decode::run(&ctx)?;
        for f in &decode {
            println!("{}", f.line());
        }
        figures.extend(decode);
    }
    if wanted("search") {
        figures.extend(search::run(&ctx, quick)?);
    }
    if wanted("peers_lm") {
        figures.extend(peers::run_lm(&ctx, process_start, profile_first)?);
    }
    if wanted("peers_dcgan") {
        figures.extend(peers::run_dcgan(&ctx, process_start, profile_first)?);
    }
    if wanted("encoder") {
        figures.extend(encoder::run(&ctx)?);
    }
    if let Some(path) = json {
        let body: Vec<String> = figures.iter().map(|f| format!("  {}", f.json())).collect();
        let text = format!("[\n{}\n]\n", body.join(",\n"));
        std::fs::write(&path, text)
            .map_err(|e| kiln::Error::Unsupported(format!("writing {path}: {e}")))?;
        println!("wrote {path}");
    }
    Ok(())
}
