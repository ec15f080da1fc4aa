//! A terminal progress bar without crates: bar, position/total, a smoothed rate, elapsed time,
//! ETA and a free-form message (`loss 1.234`), redrawn in place on stderr at most ten times a
//! second. When stderr is not a terminal (a log file, CI), it prints a plain line every 5 %
//! instead, so logs stay readable and small.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Shortest time between two redraws on a terminal.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// Rate samples are taken at most this often, so that fast loops do not measure jitter.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// Weight of the newest rate sample in the exponential moving average: about the last ten
/// samples (2.5 s) matter, quick enough to follow a change of speed, slow enough to be read.
const SMOOTHING: f64 = 0.2;
/// Plain (non-terminal) output prints a line each time this fraction of the total is passed.
const PLAIN_STEPS: u64 = 20;

/// A progress bar on stderr. Dropping it finishes it.
#[derive(Debug)]
pub struct Progress {
    total: u64,
    label: String,
    position: u64,
    message: String,
    start: Instant,
    last_draw: Option<Instant>,
    sample_at: Instant,
    sample_position: u64,
    rate: Option<f64>,
    terminal: bool,
    plain_printed: u64,
    plain_position: Option<u64>,
    finished: bool,
}

impl Progress {
    /// A bar counting to `total` (0 when unknown: no bar and no ETA), headed by `label`.
    pub fn new(total: u64, label: &str) -> Progress {
        let now = Instant::now();
        Progress {
            total,
            label: label.to_string(),
            position: 0,
            message: String::new(),
            start: now,
            last_draw: None,
            sample_at: now,
            sample_position: 0,
            rate: None,
            terminal: std::io::stderr().is_terminal(),
            plain_printed: 0,
            plain_position: None,
            finished: false,
        }
    }

    /// The position last set.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Moves to `position` with `message` (e.g. `loss 1.234`) and redraws if it is time to.
    pub fn set(&mut self, position: u64, message: &str) {
        let now = Instant::now();
        self.position = position;
        if self.message != message {
            self.message = message.to_string();
        }
        let dt = now.duration_since(self.sample_at);
        if dt >= SAMPLE_EVERY {
            let done = position.saturating_sub(self.sample_position) as f64;
            self.rate = Some(smooth(self.rate, done / dt.as_secs_f64()));
            self.sample_at = now;
            self.sample_position = position;
        }
        if self.terminal {
            let due = self
                .last_draw
                .is_none_or(|t| now.duration_since(t) >= REDRAW_EVERY);
            if due || (self.total > 0 && position >= self.total) {
                self.draw(now);
            }
        } else if let Some(bucket) =
            (position.min(self.total) * PLAIN_STEPS).checked_div(self.total)
        {
            if bucket > self.plain_printed {
                self.plain_printed = bucket;
                self.print_plain(now);
            }
        }
    }

    /// Prints `text` on its own line above the bar (a log line in the middle of a run).
    pub fn println(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        // A progress display must never stop a training run: write errors are dropped.
        if self.terminal {
            let _ = write!(err, "\r\x1b[K{text}\n");
            drop(err);
            self.draw(Instant::now());
        } else {
            let _ = writeln!(err, "{text}");
        }
    }

    /// Draws the final state and ends the line. Called by `drop` if not called before.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let now = Instant::now();
        let elapsed = now.duration_since(self.start).as_secs_f64();
        if elapsed > 0.0 && self.position > 0 {
            // The overall average is the honest figure for a run that is over.
            self.rate = Some(self.position as f64 / elapsed);
        }
        if self.terminal {
            self.draw(now);
            let _ = writeln!(std::io::stderr());
        } else if self.plain_position != Some(self.position) {
            self.print_plain(now);
        }
    }

    fn line(&self, now: Instant, width: usize) -> String {
        let elapsed = now.duration_since(self.start).as_secs_f64();
        // Before the first sample the average so far is the best guess there is.
        let rate = self.rate.or_else(|| {
            (elapsed > 0.05 && self.position > 0).then(|| self.position as f64 / elapsed)
        });
        render(
            &self.label,
            self.position,
            self.total,
            rate,
            elapsed,
            &self.message,
            width,
        )
    }

    fn draw(&mut self, now: Instant) {
        self.last_draw = Some(now);
        // One column spare: writing the last column makes some terminals wrap before `\r`.
        let line = self.line(now, terminal_width() - 1);
        let _ = write!(std::io::stderr().lock(), "\r{line}\x1b[K");
    }

    fn print_plain(&mut self, now: Instant) {
        self.plain_position = Some(self.position);
        let line = self.line(now, usize::MAX);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The moving average after a new sample (the first sample is taken as it is).
fn smooth(old: Option<f64>, sample: f64) -> f64 {
    match old {
        Some(r) => SMOOTHING * sample + (1.0 - SMOOTHING) * r,
        None => sample,
    }
}

/// Columns of the terminal: `$COLUMNS` when the shell exports it, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c| c >= 20)
        .unwrap_or(100)
}

/// Seconds as `h:mm:ss` (hours grow past 9 as needed); `?:??:??` when unknown or not finite.
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "?:??:??".to_string();
    }
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A rate per second, readable at any speed: `0.50/s` becomes `2.0 s/it`, thousands take a
/// `k`, millions an `M`; `?/s` when not yet measured.
pub fn format_rate(rate: Option<f64>) -> String {
    match rate {
        Some(r) if r.is_finite() && r > 0.0 => {
            if r < 1.0 {
                format!("{:.1} s/it", 1.0 / r)
            } else if r < 10.0 {
                format!("{r:.2}/s")
            } else if r < 1e3 {
                format!("{r:.1}/s")
            } else if r < 1e6 {
                format!("{:.1}k/s", r / 1e3)
            } else {
                format!("{:.1}M/s", r / 1e6)
            }
        }
        Some(0.0) => "0/s".to_string(),
        _ => "?/s".to_string(),
    }
}

/// Seconds left at `rate` items per second, when it can be known.
pub fn eta(position: u64, total: u64, rate: Option<f64>) -> Option<f64> {
    match rate {
        Some(r) if total > 0 && r.is_finite() && r > 0.0 => {
            Some(total.saturating_sub(position) as f64 / r)
        }
        _ => None,
    }
}

/// One line of the display, cut to `width` characters:
/// `label [#####>    ] 120/1000 45.6/s 0:00:03<0:00:19 message`.
pub fn render(
    label: &str,
    position: u64,
    total: u64,
    rate: Option<f64>,
    elapsed: f64,
    message: &str,
    width: usize,
) -> String {
    let remaining = eta(position, total, rate).map_or(f64::NAN, |s| s);
    let counts = if total > 0 {
        format!("{position}/{total}")
    } else {
        position.to_string()
    };
    let mut tail = format!(
        "{counts} {} {}",
        format_rate(rate),
        format_duration(elapsed)
    );
    if total > 0 {
        tail.push('<');
        tail.push_str(&format_duration(remaining));
    }
    if !message.is_empty() {
        tail.push(' ');
        tail.push_str(message);
    }
    let mut line = String::new();
    if !label.is_empty() {
        line.push_str(label);
        line.push(' ');
    }
    if total > 0 {
        // The bar takes what is left of a terminal line, between 10 and 30 cells.
        let used = line.chars().count() + tail.chars().count() + 3;
        let cells = width.saturating_sub(used).clamp(10, 30);
        let frac = (position as f64 / total as f64).clamp(0.0, 1.0);
        let full = (frac * cells as f64).floor() as usize;
        line.push('[');
        line.push_str(&"=".repeat(full));
        if full < cells {
            line.push('>');
            line.push_str(&" ".repeat(cells - full - 1));
        }
        line.push_str("] ");
    }
    line.push_str(&tail);
    if line.chars().count() > width {
        line = line.chars().take(width.saturating_sub(1)).collect();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hours_minutes_seconds() {
        assert_eq!(format_duration(0.0), "0:00:00");
        assert_eq!(format_duration(59.4), "0:00:59");
        assert_eq!(format_duration(59.6), "0:01:00");
        assert_eq!(format_duration(3725.0), "1:02:05");
        assert_eq!(format_duration(36.0 * 3600.0 + 1.0), "36:00:01");
        assert_eq!(format_duration(f64::NAN), "?:??:??");
        assert_eq!(format_duration(f64::INFINITY), "?:??:??");
        assert_eq!(format_duration(-1.0), "?:??:??");
    }

    #[test]
    fn rates_read_at_any_speed() {
        assert_eq!(format_rate(None), "?/s");
        assert_eq!(format_rate(Some(0.0)), "0/s");
        assert_eq!(format_rate(Some(0.25)), "4.0 s/it");
        assert_eq!(format_rate(Some(3.456)), "3.46/s");
        assert_eq!(format_rate(Some(45.67)), "45.7/s");
        assert_eq!(format_rate(Some(12_345.0)), "12.3k/s");
        assert_eq!(format_rate(Some(2.5e6)), "2.5M/s");
        assert_eq!(format_rate(Some(f64::NAN)), "?/s");
    }

    #[test]
    fn eta_is_remaining_over_rate() {
        assert_eq!(eta(250, 1000, Some(50.0)), Some(15.0));
        assert_eq!(eta(1000, 1000, Some(50.0)), Some(0.0));
        assert_eq!(eta(1200, 1000, Some(50.0)), Some(0.0));
        assert_eq!(eta(10, 1000, None), None);
        assert_eq!(eta(10, 1000, Some(0.0)), None);
        assert_eq!(eta(10, 0, Some(5.0)), None);
    }

    #[test]
    fn smoothing_follows_a_change_of_speed() {
        let mut r = smooth(None, 100.0);
        assert_eq!(r, 100.0);
        for _ in 0..30 {
            r = smooth(Some(r), 200.0);
        }
        assert!((r - 200.0).abs() < 0.2, "{r}");
    }

    #[test]
    fn lines_hold_every_part_and_fit() {
        let line = render("train", 250, 1000, Some(50.0), 5.0, "loss 1.234", 80);
        // 80 columns less the 51 of the rest leave 29 cells; a quarter of them is 7.
        let bar = format!("[{}>{}]", "=".repeat(7), " ".repeat(21));
        assert_eq!(
            line,
            format!("train {bar} 250/1000 50.0/s 0:00:05<0:00:15 loss 1.234")
        );
        assert_eq!(line.chars().count(), 80);
        let done = render("", 7, 7, Some(2.0), 3.5, "", 100);
        assert!(done.starts_with(&format!("[{}]", "=".repeat(30))), "{done}");
        let unknown = render("gen", 42, 0, None, 61.0, "", 100);
        assert_eq!(unknown, "gen 42 ?/s 0:01:01");
        let narrow = render("a long label", 1, 2, None, 0.0, "a long message here", 30);
        assert_eq!(narrow.chars().count(), 29);
    }
}
