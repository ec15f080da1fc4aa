//! Vector search cases of the benchmark: `VectorIndex::search` (exact, fused top-k) in
//! queries/s beside a CPU brute force in the same process (`matrixmultiply` SGEMM of the
//! queries against blocks of vectors, then a top-k selection per query), and the IVF mode's
//! recall@10 and speed-up over exact search.
//!
//! Data: dimension 384, unit vectors drawn around 1,000 random centres (noise as wide as the
//! centres' spread), so that clusters overlap the way sentence embeddings do; queries from the
//! same distribution. Exact search costs the same on any data; the IVF figures depend on it.

use kiln::index::{ivf, IndexOptions, IvfOptions, Meta, VectorIndex};
use kiln::{Context, Result};

use crate::figure::Figure;

const D: usize = 384;
const Q: usize = 64;
const K: usize = 10;
const CENTRES: usize = 1000;
/// Vectors generated and added per step (bounds the host copies).
const BATCH: usize = 65536;

/// SplitMix64 uniform in [-1, 1).
fn uniform(state: &mut u64) -> f32 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// `n` unit vectors around `centres`.
fn vectors(state: &mut u64, centres: &[f32], n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * D);
    for _ in 0..n {
        *state = state.wrapping_add(0x2545_F491_4F6C_DD1D);
        let c = (*state >> 33) as usize % CENTRES;
        let start = out.len();
        for j in 0..D {
            out.push(centres[c * D + j] + uniform(state));
        }
        let row = &mut out[start..];
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        row.iter_mut().for_each(|v| *v /= norm);
    }
    out
}

/// Median seconds of `f`, with fewer repetitions for slow cases (at most ~10 s in all).
fn seconds<T>(mut f: impl FnMut() -> Result<T>) -> Result<f64> {
    let t0 = std::time::Instant::now();
    f()?;
    let once = t0.elapsed().as_secs_f64();
    let runs = (10.0 / once.max(1e-6)).clamp(1.0, 7.0) as usize;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = std::time::Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}

/// CPU brute force: SGEMM of the queries against blocks of vectors, then per query a sorted
/// top-k kept by insertion (ties to the smaller index, as kiln does). Returns per-query ids.
fn cpu_search(queries: &[f32], data: &[f32]) -> Vec<Vec<(f32, usize)>> {
    const BLOCK: usize = 16384;
    let n = data.len() / D;
    let mut best: Vec<Vec<(f32, usize)>> = (0..Q).map(|_| Vec::with_capacity(K + 1)).collect();
    let mut scores = vec![0.0f32; Q * BLOCK];
    for start in (0..n).step_by(BLOCK) {
        let b = BLOCK.min(n - start);
        // SAFETY: queries is Q×D, data rows start..start+b are b×D, scores holds Q×BLOCK ≥ Q×b;
        // B = vectorsᵀ is read with row stride 1 and column stride D inside that block.
        unsafe {
            matrixmultiply::sgemm(
                Q,
                D,
                b,
                1.0,
                queries.as_ptr(),
                D as isize,
                1,
                data.as_ptr().add(start * D),
                1,
                D as isize,
                0.0,
                scores.as_mut_ptr(),
                b as isize,
                1,
            );
        }
        for (q, list) in best.iter_mut().enumerate() {
            for (i, &s) in scores[q * b..(q + 1) * b].iter().enumerate() {
                if list.len() == K && s <= list[K - 1].0 {
                    continue;
                }
                let at = list.partition_point(|e| e.0 >= s);
                list.insert(at, (s, start + i));
                list.truncate(K);
            }
        }
    }
    best
}

/// Runs the search cases for 10k, 100k and (unless `quick`) 1M vectors; IVF at 10k only when
/// `quick`, and not past 100k on a CPU adapter.
pub fn run(ctx: &Context, quick: bool) -> Result<Vec<Figure>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    let mut state = 42u64;
    let centres: Vec<f32> = (0..CENTRES * D).map(|_| uniform(&mut state)).collect();
    let queries = vectors(&mut state, &centres, Q);
    let mut sizes = vec![10_000usize, 100_000, 1_000_000];
    if quick {
        sizes.pop();
    }
    let mut figures = Vec::new();
    for n in sizes {
        let mut index = VectorIndex::with_options(ctx, D, IndexOptions::default())?;
        let mut data = Vec::with_capacity(n * D);
        let mut done = 0;
        while done < n {
            let b = BATCH.min(n - done);
            let v = vectors(&mut state, &centres, b);
            index.add(ctx, &v, vec![Meta::default(); b])?;
            data.extend_from_slice(&v);
            done += b;
        }
        let t_kiln = seconds(|| index.search(ctx, &queries, K))?;
        let t_cpu = seconds(|| Ok(cpu_search(&queries, &data)))?;
        // The same answers: recall of kiln's ids against the CPU's (1.0 unless near-ties).
        let exact = index.search(ctx, &queries, K)?;
        let cpu = cpu_search(&queries, &data);
        let agree = exact
            .iter()
            .zip(&cpu)
            .map(|(e, c)| {
                e.iter()
                    .filter(|h| c.iter().any(|x| x.1 as u64 == h.id))
                    .count()
            })
            .sum::<usize>() as f64
            / (Q * K) as f64;
        let f = Figure {
            name: "search exact".into(),
            shape: format!("{n}x{D} q{Q} k{K}"),
            kiln: Q as f64 / t_kiln,
            unit: "queries/s",
            baseline: Some(Q as f64 / t_cpu),
            baseline_name: format!(
                "matrixmultiply sgemm + top-k, {threads} threads; kiln {:.1} ms per batch, \
                 {:.2} GFLOP/s; ids agree {agree:.3}",
                t_kiln * 1e3,
                2.0 * (Q * n * D) as f64 / t_kiln / 1e9
            ),
            higher_is_better: true,
        };
        println!("{}", f.line());
        figures.push(f);
        drop(data);
        // Building the IVF assigns N vectors to sqrt(N) centroids: 768 GFLOP at 1M, many
        // minutes on a CPU driver's ~1-4 GFLOP/s.
        if (ctx.adapter_info().device_type == wgpu::DeviceType::Cpu && n > 100_000)
            || (quick && n > 10_000)
        {
            println!("search ivf at {n}: skipped (--quick, or a CPU adapter: building takes long)");
            continue;
        }
        let nlist = ((n as f64).sqrt().round() as usize).max(1);
        let t0 = std::time::Instant::now();
        index.build_ivf(
            ctx,
            IvfOptions {
                nlist: Some(nlist),
                iterations: 8,
                ..IvfOptions::default()
            },
        )?;
        let build = t0.elapsed().as_secs_f64();
        for nprobe in [8usize, 32] {
            let t_ivf = seconds(|| index.search_approx(ctx, &queries, K, nprobe))?;
            let approx = index.search_approx(ctx, &queries, K, nprobe)?;
            let recall = ivf::recall_at(K, &exact, &approx);
            let f = Figure {
                name: format!("search ivf nprobe {nprobe}"),
                shape: format!("{n}x{D} nlist {nlist}"),
                kiln: Q as f64 / t_ivf,
                unit: "queries/s",
                baseline: Some(Q as f64 / t_kiln),
                baseline_name: format!(
                    "kiln exact search; recall@10 {recall:.3}; built in {build:.1} s"
                ),
                higher_is_better: true,
            };
            println!("{}", f.line());
            figures.push(f);
        }
    }
    Ok(figures)
}
