//! One measured figure of the benchmark, and how it prints and serialises.

/// A measurement: kiln's figure beside a baseline measured in the same run, where one exists.
pub struct Figure {
    /// Case name, e.g. `matmul` or `attention_fwd_bwd`.
    pub name: String,
    /// Shape in words, e.g. `1024x1024x1024`.
    pub shape: String,
    /// kiln's figure.
    pub kiln: f64,
    /// Unit of `kiln` and `baseline` (`GFLOP/s`, `GB/s`, `ms`, `MiB`).
    pub unit: &'static str,
    /// The baseline's figure, in the same unit.
    pub baseline: Option<f64>,
    /// What the baseline is (`matrixmultiply sgemm, 2 threads`, `unfused composition`).
    pub baseline_name: String,
    /// Whether a larger figure is better (throughput) or a smaller one (time, memory).
    pub higher_is_better: bool,
}

impl Figure {
    /// kiln's advantage over the baseline: > 1 means kiln is better.
    pub fn ratio(&self) -> Option<f64> {
        let b = self.baseline?;
        Some(if self.higher_is_better {
            self.kiln / b
        } else {
            b / self.kiln
        })
    }

    /// One aligned line for the terminal.
    pub fn line(&self) -> String {
        let base = match (self.baseline, self.ratio()) {
            (Some(b), Some(r)) => format!(
                "{b:>10.2} {:<6} x{r:<6.2} vs {}",
                self.unit, self.baseline_name
            ),
            _ => String::new(),
        };
        format!(
            "{:<24} {:<22} {:>10.2} {:<8} {base}",
            self.name, self.shape, self.kiln, self.unit
        )
    }

    /// A JSON object (hand-written: the fields are plain, and the format is fixed).
    pub fn json(&self) -> String {
        let num = |v: f64| {
            if v.is_finite() {
                format!("{v}")
            } else {
                "null".into()
            }
        };
        let mut s = format!(
            "{{\"name\": {:?}, \"shape\": {:?}, \"kiln\": {}, \"unit\": {:?}",
            self.name,
            self.shape,
            num(self.kiln),
            self.unit
        );
        if let Some(b) = self.baseline {
            s += &format!(
                ", \"baseline\": {}, \"baseline_name\": {:?}",
                num(b),
                self.baseline_name
            );
        }
        if let Some(r) = self.ratio() {
            s += &format!(", \"ratio\": {}", num(r));
        }
        s + "}"
    }
}

/// Median of wall-clock seconds of `runs` calls to `f`, after one warm-up call.
pub fn median_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

/// Prints a plan profile (`(kernel label, seconds)` per dispatch, each timed alone) summed by
/// kernel, the `top` largest first, under `title`.
pub fn print_by_kernel(title: &str, times: &[(String, f64)], top: usize) {
    let mut by_kernel: Vec<(&str, f64, usize)> = Vec::new();
    for (label, secs) in times {
        match by_kernel.iter_mut().find(|(l, _, _)| l == label) {
            Some(entry) => {
                entry.1 += secs;
                entry.2 += 1;
            }
            None => by_kernel.push((label, *secs, 1)),
        }
    }
    by_kernel.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = by_kernel.iter().map(|k| k.1).sum();
    println!(
        "{title}: {:.1} ms over {} dispatches, each timed alone, by kernel:",
        total * 1e3,
        times.len()
    );
    for (label, secs, count) in by_kernel.iter().take(top) {
        println!(
            "  {label:<48} {count:>3}x {:>9.1} ms {:>5.1}%",
            secs * 1e3,
            100.0 * secs / total
        );
    }
}
