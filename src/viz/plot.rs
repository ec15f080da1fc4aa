//! Line plots: loss curves with axes, round-number ticks, a legend and an optional log-scale y.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::font::{draw_text, draw_text_vertical, fill, text_height, text_width};
use super::save_png;
use crate::error::Result;

/// Width of a plot in pixels.
pub const WIDTH: u32 = 800;
/// Height of a plot in pixels.
pub const HEIGHT: u32 = 500;

// The plot area inside the margins that hold the title, tick labels and axis labels.
const LEFT: i32 = 80;
const RIGHT: i32 = WIDTH as i32 - 20;
const TOP: i32 = 36;
const BOTTOM: i32 = HEIGHT as i32 - 50;

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

/// Series colours (Tableau's first eight), cycled when there are more series.
pub(super) const PALETTE: [Rgb<u8>; 8] = [
    Rgb([31, 119, 180]),
    Rgb([255, 127, 14]),
    Rgb([44, 160, 44]),
    Rgb([214, 39, 40]),
    Rgb([148, 103, 189]),
    Rgb([140, 86, 75]),
    Rgb([227, 119, 194]),
    Rgb([127, 127, 127]),
];

/// Draws every `(name, points)` series as a coloured polyline on shared axes and writes an
/// 800x500 PNG to `path`. With `log_y` the y axis is logarithmic (ticks at powers of ten).
///
/// Points with a NaN or infinite coordinate (and, with `log_y`, a y ≤ 0) cannot be drawn:
/// they are skipped, the line joins their neighbours, and the title says how many were
/// skipped, so a diverging run does not look clean.
pub fn line_plot(
    path: &Path,
    series: &[(&str, &[(f64, f64)])],
    title: &str,
    x_label: &str,
    y_label: &str,
    log_y: bool,
) -> Result<()> {
    let drawable = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
    let map_y = |y: f64| if log_y { y.log10() } else { y };
    let mut skipped = 0usize;
    let mut xs = Range::empty();
    let mut ys = Range::empty();
    for (_, points) in series {
        for p in points.iter() {
            if drawable(p) {
                xs.add(p.0);
                ys.add(map_y(p.1));
            } else {
                skipped += 1;
            }
        }
    }
    let (x_lo, x_hi) = xs.padded();
    let (y_lo, y_hi) = ys.padded();
    // A log axis does not widen to its ticks (that could add decades), so pad it a little
    // to keep the extreme points off the frame.
    let (y_lo, y_hi) = if log_y {
        let pad = 0.04 * (y_hi - y_lo);
        (y_lo - pad, y_hi + pad)
    } else {
        (y_lo, y_hi)
    };
    let x_ticks = nice_ticks(x_lo, x_hi);
    let (x_lo, x_hi) = (
        x_lo.min(x_ticks.first().copied().unwrap_or(x_lo)),
        x_hi.max(x_ticks.last().copied().unwrap_or(x_hi)),
    );
    let y_ticks = if log_y {
        log_ticks(y_lo, y_hi)
    } else {
        nice_ticks(y_lo, y_hi)
    };
    let (y_lo, y_hi) = if log_y {
        (y_lo, y_hi)
    } else {
        (
            y_lo.min(y_ticks.first().copied().unwrap_or(y_lo)),
            y_hi.max(y_ticks.last().copied().unwrap_or(y_hi)),
        )
    };
    let px = |x: f64| LEFT as f64 + (x - x_lo) / (x_hi - x_lo) * (RIGHT - LEFT) as f64;
    let py = |y: f64| BOTTOM as f64 - (y - y_lo) / (y_hi - y_lo) * (BOTTOM - TOP) as f64;

    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, WHITE);
    let x_step = tick_step(&x_ticks);
    for &t in &x_ticks {
        let x = px(t).round() as i32;
        fill(&mut img, x, TOP, 1, BOTTOM - TOP, GRID);
        fill(&mut img, x, BOTTOM, 1, 5, BLACK);
        let label = tick_label(t, x_step);
        let w = text_width(&label, 1) as i32;
        draw_text(&mut img, x - w / 2, BOTTOM + 8, &label, BLACK, 1);
    }
    let y_step = tick_step(&y_ticks);
    for &t in &y_ticks {
        let y = py(t).round() as i32;
        fill(&mut img, LEFT, y, RIGHT - LEFT, 1, GRID);
        fill(&mut img, LEFT - 5, y, 5, 1, BLACK);
        let label = if log_y {
            power_label(t)
        } else {
            tick_label(t, y_step)
        };
        let w = text_width(&label, 1) as i32;
        draw_text(&mut img, LEFT - 8 - w, y - 3, &label, BLACK, 1);
    }
    fill(&mut img, LEFT, TOP, 1, BOTTOM - TOP + 1, BLACK);
    fill(&mut img, LEFT, BOTTOM, RIGHT - LEFT + 1, 1, BLACK);

    for (i, (_, points)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut last: Option<(f64, f64)> = None;
        for p in points.iter().filter(|p| drawable(p)) {
            let here = (px(p.0), py(map_y(p.1)));
            match last {
                Some(from) => line(&mut img, from, here, color),
                None => fill(&mut img, here.0 as i32, here.1 as i32, 1, 1, color),
            }
            last = Some(here);
        }
    }

    // Legend in the top-right corner of the plot area, on a white box over the lines.
    if !series.is_empty() {
        let widest = series
            .iter()
            .map(|(n, _)| text_width(n, 1))
            .max()
            .unwrap_or(0) as i32;
        let row = text_height(1) as i32 + 4;
        let (w, h) = (widest + 34, row * series.len() as i32 + 6);
        let (x0, y0) = (RIGHT - w - 8, TOP + 8);
        fill(&mut img, x0, y0, w, h, WHITE);
        outline(&mut img, x0, y0, w, h, GRID);
        for (i, (name, _)) in series.iter().enumerate() {
            let y = y0 + 5 + i as i32 * row;
            fill(&mut img, x0 + 6, y + 3, 18, 2, PALETTE[i % PALETTE.len()]);
            draw_text(&mut img, x0 + 28, y, name, BLACK, 1);
        }
    }

    let mut heading = title.to_string();
    if skipped > 0 {
        let what = if log_y {
            "non-finite or non-positive"
        } else {
            "non-finite"
        };
        heading.push_str(&format!(" ({skipped} {what} points skipped)"));
    }
    let w = text_width(&heading, 2) as i32;
    draw_text(
        &mut img,
        (WIDTH as i32 - w).max(0) / 2,
        8,
        &heading,
        BLACK,
        2,
    );
    let w = text_width(x_label, 1) as i32;
    draw_text(
        &mut img,
        (LEFT + RIGHT - w) / 2,
        HEIGHT as i32 - 16,
        x_label,
        BLACK,
        1,
    );
    let h = text_width(y_label, 1) as i32;
    draw_text_vertical(&mut img, 6, (TOP + BOTTOM - h) / 2, y_label, BLACK, 1);
    save_png(&img, path)
}

/// Smallest and largest of the values seen.
struct Range {
    lo: f64,
    hi: f64,
}

impl Range {
    fn empty() -> Range {
        Range {
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }

    fn add(&mut self, v: f64) {
        self.lo = self.lo.min(v);
        self.hi = self.hi.max(v);
    }

    /// The range, widened when it is empty or a single value so the axis has a span.
    fn padded(&self) -> (f64, f64) {
        if self.lo > self.hi {
            (0.0, 1.0)
        } else if self.hi - self.lo <= 1e-12 * self.lo.abs().max(1e-300) {
            let pad = (self.lo.abs() * 0.1).max(0.5);
            (self.lo - pad, self.hi + pad)
        } else {
            (self.lo, self.hi)
        }
    }
}

/// Round-number ticks covering [lo, hi]: about five, spaced 1, 2 or 5 times a power of ten,
/// from the last multiple of the step at or below `lo` to the first at or above `hi`.
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    // Multiplying the integer index (not accumulating) keeps 0.1·3 from printing as 0.30000004.
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Ticks for a log axis whose span is [lo, hi] in log10 units: every power of ten inside it,
/// thinned to at most eight; with fewer than three decades, 1, 2 and 5 of each (so a span
/// such as 27..915 reads 50, 100, 200, 500); when fewer than two of those fit, the round
/// ticks of the span itself.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let first = lo.ceil() as i64;
    let last = hi.floor() as i64;
    if last - first < 3 {
        let one_two_five: Vec<f64> = (first - 1..=last)
            .flat_map(|k| [1.0f64, 2.0, 5.0].map(|m| k as f64 + m.log10()))
            .filter(|t| *t >= lo && *t <= hi)
            .collect();
        if one_two_five.len() >= 2 {
            return one_two_five;
        }
        return nice_ticks(lo, hi)
            .into_iter()
            .filter(|t| *t >= lo && *t <= hi)
            .collect();
    }
    let every = ((last - first) / 8 + 1).max(1);
    (first..=last)
        .filter(|k| (k - first) % every == 0)
        .map(|k| k as f64)
        .collect()
}

fn tick_step(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => b - a,
        _ => 1.0,
    }
}

/// A tick value with as many decimals as its step needs, in scientific notation when the
/// numbers are very large or very small.
pub fn tick_label(value: f64, step: f64) -> String {
    let v = if value.abs() < step * 1e-9 {
        0.0
    } else {
        value
    };
    if !(1e-4..1e6).contains(&step) {
        return format!("{v:.1e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// The label of a log-axis tick at log10 value `e`: plain for 0.001..10000, else `1e-5`.
fn power_label(e: f64) -> String {
    let v = 10f64.powf(e);
    if (-3.0..=4.0).contains(&e) {
        let decimals = (-e.floor()).max(0.0) as usize;
        format!("{v:.decimals$}")
    } else if e.fract() == 0.0 {
        format!("1e{}", e as i64)
    } else {
        format!("{v:.1e}")
    }
}

/// A one-pixel line between two points (Bresenham), clipped to the image.
fn line(img: &mut RgbImage, from: (f64, f64), to: (f64, f64), color: Rgb<u8>) {
    let (mut x0, mut y0) = (from.0.round() as i64, from.1.round() as i64);
    let (x1, y1) = (to.0.round() as i64, to.1.round() as i64);
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    loop {
        if x0 >= 0 && y0 >= 0 && (x0 as u32) < img.width() && (y0 as u32) < img.height() {
            img.put_pixel(x0 as u32, y0 as u32, color);
        }
        if x0 == x1 && y0 == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
}

fn outline(img: &mut RgbImage, x: i32, y: i32, w: i32, h: i32, color: Rgb<u8>) {
    fill(img, x, y, w, 1, color);
    fill(img, x, y + h - 1, w, 1, color);
    fill(img, x, y, 1, h, color);
    fill(img, x + w - 1, y, 1, h, color);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        // Span 0.74 over five ticks wants 0.148 each, rounded up to 0.2.
        let t = nice_ticks(0.13, 0.87);
        assert_eq!(t.len(), 6, "{t:?}");
        assert_eq!((t[0], t[1], t[5]), (0.0, 0.2, 1.0));
        assert_eq!(nice_ticks(-3.0, -3.0), Vec::<f64>::new());
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(2500.0, 500.0), "2500");
        assert_eq!(tick_label(-1e-17, 0.2), "0.0");
        assert_eq!(power_label(-2.0), "0.01");
        assert_eq!(power_label(-6.0), "1e-6");
        assert_eq!(power_label(1.0), "10");
    }

    #[test]
    fn a_log_axis_under_three_decades_reads_one_two_five() {
        // 27..915: one power of ten inside, so 1-2-5 ticks: 50, 100, 200, 500.
        let labels: Vec<String> = log_ticks(27f64.log10(), 915f64.log10())
            .into_iter()
            .map(power_label)
            .collect();
        assert_eq!(labels, ["50", "100", "200", "500"]);
        // 0.001..1000: six decades, powers of ten only.
        assert_eq!(
            log_ticks(-3.0, 3.0),
            vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
        );
        // 31..39: no 1-2-5 tick inside, round ticks of the log span instead.
        assert!(!log_ticks(31f64.log10(), 39f64.log10()).is_empty());
    }
}
