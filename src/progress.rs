//! Progress on stderr: an [`indicatif`] bar (position/total, rate, elapsed, ETA and a message
//! such as `loss 1.234`) when stderr is a terminal, and a plain line every 5 % otherwise (a log
//! file, CI), so logs stay readable and small. Nothing here is drawn unless a caller makes a
//! [`Progress`]: the library prints nothing on its own.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Plain (non-terminal) output prints a line each time this fraction of the total is passed.
const PLAIN_STEPS: u64 = 20;

/// The bar's layout; `{per_sec}` and `{eta}` are indicatif's smoothed estimates.
const TEMPLATE: &str =
    "{prefix} [{bar:30}] {pos}/{len} {per_sec} {elapsed_precise} ETA {eta_precise} {msg}";

/// A progress bar on stderr. Dropping it finishes it.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    total: u64,
    label: String,
    start: Instant,
    terminal: bool,
    plain_printed: u64,
    finished: bool,
}

impl Progress {
    /// A bar counting to `total` (0 when unknown: a spinner, no ETA), headed by `label`.
    pub fn new(total: u64, label: &str) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = if total > 0 {
            ProgressBar::new(total)
        } else {
            ProgressBar::new_spinner()
        };
        // The plain lines replace the bar off a terminal, so indicatif draws nothing there.
        bar.set_draw_target(if terminal {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::hidden()
        });
        if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label.to_string());
        if terminal {
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Progress {
            bar,
            total,
            label: label.to_string(),
            start: Instant::now(),
            terminal,
            plain_printed: 0,
            finished: false,
        }
    }

    /// The position last set.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Moves to `position` with `message` (e.g. `loss 1.234`).
    pub fn set(&mut self, position: u64, message: &str) {
        self.bar.set_position(position);
        if self.bar.message() != message {
            self.bar.set_message(message.to_string());
        }
        if !self.terminal {
            let bucket = (position.min(self.total) * PLAIN_STEPS)
                .checked_div(self.total)
                .unwrap_or(0);
            if bucket > self.plain_printed {
                self.plain_printed = bucket;
                self.print_plain();
            }
        }
    }

    /// Prints `text` on its own line above the bar (a log line in the middle of a run).
    pub fn println(&mut self, text: &str) {
        if self.terminal {
            self.bar.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    /// Draws the final state and ends the line. Called by `drop` if not called before.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.terminal {
            self.bar.abandon();
        } else if self.plain_printed < PLAIN_STEPS || self.total == 0 {
            self.print_plain();
        }
    }

    fn print_plain(&self) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let position = self.bar.position();
        let rate = position as f64 / elapsed.max(1e-9);
        let of_total = if self.total > 0 {
            format!("/{}", self.total)
        } else {
            String::new()
        };
        eprintln!(
            "{} {position}{of_total} ({rate:.2}/s, {elapsed:.0} s) {}",
            self.label,
            self.bar.message()
        );
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
