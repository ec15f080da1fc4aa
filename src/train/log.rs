//! The run's logs: CSV files appended epoch by epoch, and the curves kept for the report.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A CSV file whose rows are buffered and appended on [`CsvLog::flush`].
pub(crate) struct CsvLog {
    path: PathBuf,
    columns: usize,
    rows: Vec<Vec<String>>,
}

impl CsvLog {
    /// Starts `path` with `header`, or, when `append` and the file exists (a resumed run),
    /// keeps what it holds and adds to it.
    pub(crate) fn open(path: &Path, header: Vec<String>, append: bool) -> Result<CsvLog> {
        if !append || !path.exists() {
            std::fs::write(path, format!("{}\n", header.join(",")))
                .map_err(|e| io_error(path, e))?;
        }
        Ok(CsvLog {
            path: path.to_path_buf(),
            columns: header.len(),
            rows: Vec::new(),
        })
    }

    /// Buffers one row (as many fields as the header: missing ones are left empty).
    pub(crate) fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.columns, String::new());
        self.rows.push(row);
    }

    /// Appends the buffered rows to the file.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| io_error(&self.path, e))?;
        let mut text = String::new();
        for row in self.rows.drain(..) {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        f.write_all(text.as_bytes())
            .map_err(|e| io_error(&self.path, e))
    }
}

/// One `(step, value)` series per reading name.
pub(crate) struct Curves {
    series: Vec<(String, Vec<(f64, f64)>)>,
}

impl Curves {
    pub(crate) fn new(names: &[String]) -> Curves {
        Curves {
            series: names.iter().map(|n| (n.clone(), Vec::new())).collect(),
        }
    }

    pub(crate) fn push(&mut self, k: usize, step: u64, value: f64) {
        if let Some((_, points)) = self.series.get_mut(k) {
            points.push((step as f64, value));
        }
    }

    /// The mean of each series over its points past step `after` (NaN where there are none).
    pub(crate) fn means_after(&self, after: u64) -> Vec<(String, f64)> {
        self.series
            .iter()
            .map(|(name, points)| {
                let (sum, n) = points
                    .iter()
                    .filter(|(s, _)| *s > after as f64)
                    .fold((0.0, 0usize), |(sum, n), (_, v)| (sum + v, n + 1));
                let mean = if n == 0 { f64::NAN } else { sum / n as f64 };
                (name.clone(), mean)
            })
            .collect()
    }

    pub(crate) fn into_named(self) -> Vec<(String, Vec<(f64, f64)>)> {
        self.series
    }
}
