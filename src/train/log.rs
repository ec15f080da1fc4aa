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
    /// Starts `path` with `header`, or, for a run resumed from the checkpoint of step
    /// `resumed_at`, keeps what the file holds up to that step and adds to it.
    ///
    /// The logs are flushed before the checkpoint is saved, so a run killed between the two
    /// (or in the middle of an append) leaves rows the checkpoint does not cover; the resumed
    /// run takes those steps again, and its rows replace them rather than repeat them. A row
    /// whose `step` is past `resumed_at`, and a last line cut short, are dropped; the file is
    /// rewritten atomically.
    pub(crate) fn open(
        path: &Path,
        header: Vec<String>,
        resumed_at: Option<u64>,
    ) -> Result<CsvLog> {
        let columns = header.len();
        let kept = match resumed_at {
            Some(step) if path.exists() => {
                let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
                Some(rows_up_to(&text, step))
            }
            _ => None,
        };
        let text = kept.unwrap_or_else(|| format!("{}\n", header.join(",")));
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::io::checkpoint::write_atomically(dir, path, text.as_bytes())?;
        Ok(CsvLog {
            path: path.to_path_buf(),
            columns,
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

/// The header and the complete rows of CSV `text` whose `step` column is at most `step` (every
/// complete row if there is no such column), each line with its newline.
fn rows_up_to(text: &str, step: u64) -> String {
    let mut lines = text.split_inclusive('\n').filter(|l| l.ends_with('\n'));
    let Some(header) = lines.next() else {
        return String::new();
    };
    let at = header.trim_end().split(',').position(|c| c == "step");
    let mut out = header.to_string();
    for line in lines {
        let row_step = at.and_then(|i| line.trim_end().split(',').nth(i)?.parse::<u64>().ok());
        if row_step.is_none_or(|s| s <= step) {
            out.push_str(line);
        }
    }
    out
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_log_drops_rows_past_its_checkpoint_and_a_torn_line() {
        let text = "step,epoch,loss\n1,0,2.5\n2,0,2.0\n3,1,1.5\n4,1,1.";
        assert_eq!(rows_up_to(text, 2), "step,epoch,loss\n1,0,2.5\n2,0,2.0\n");
        assert_eq!(
            rows_up_to(text, 9),
            "step,epoch,loss\n1,0,2.5\n2,0,2.0\n3,1,1.5\n"
        );
        // eval.csv keeps its step in the second column.
        let eval = "epoch,step,acc\n1,2,0.5\n2,4,0.7\n";
        assert_eq!(rows_up_to(eval, 3), "epoch,step,acc\n1,2,0.5\n");
        assert_eq!(rows_up_to("", 3), "");
    }

    #[test]
    fn opening_for_a_resumed_run_rewrites_the_file_up_to_its_step() {
        let dir = std::env::temp_dir().join(format!("kiln-csvlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let header = vec!["step".to_string(), "loss".to_string()];
        std::fs::write(&path, "step,loss\n1,3\n2,2\n3,1\n").unwrap();
        let mut log = CsvLog::open(&path, header.clone(), Some(2)).unwrap();
        log.push(vec!["3".into(), "0.5".into()]);
        log.flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "step,loss\n1,3\n2,2\n3,0.5\n"
        );
        // A fresh run starts the file over.
        CsvLog::open(&path, header, None).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "step,loss\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
