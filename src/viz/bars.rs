//! Bar charts: a few named figures side by side (the retrieval demo's accuracies), each bar
//! labelled with its value.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::font::{draw_text, fill, text_width};
use super::plot::{nice_ticks, tick_label, PALETTE};
use super::save_png;
use crate::error::{Error, Result};

const WIDTH: u32 = 800;
const HEIGHT: u32 = 500;
const LEFT: i32 = 70;
const RIGHT: i32 = WIDTH as i32 - 20;
const TOP: i32 = 40;
const BOTTOM: i32 = HEIGHT as i32 - 60;
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

/// Draws one bar per `(label, value)` from zero up to `y_max` (or the largest value when
/// `None`), each with its value printed above it, and writes an 800x500 PNG to `path`.
/// Values must be finite and non-negative.
pub fn bar_chart(
    path: &Path,
    bars: &[(&str, f64)],
    title: &str,
    y_label: &str,
    y_max: Option<f64>,
) -> Result<()> {
    if let Some((label, v)) = bars.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::Unsupported(format!(
            "bar_chart: bar {label:?} has value {v}; bars need finite values ≥ 0"
        )));
    }
    let largest = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let top = y_max.unwrap_or(largest).max(largest).max(1e-12);
    let ticks = nice_ticks(0.0, top);
    let top = ticks.last().copied().unwrap_or(top).max(top);
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        top
    };
    let py = |y: f64| BOTTOM as f64 - y / top * (BOTTOM - TOP) as f64;

    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, WHITE);
    for &t in &ticks {
        let y = py(t).round() as i32;
        fill(&mut img, LEFT, y, RIGHT - LEFT, 1, GRID);
        let label = tick_label(t, step);
        let w = text_width(&label, 1) as i32;
        draw_text(&mut img, LEFT - 8 - w, y - 3, &label, BLACK, 1);
    }
    fill(&mut img, LEFT, TOP, 1, BOTTOM - TOP + 1, BLACK);
    fill(&mut img, LEFT, BOTTOM, RIGHT - LEFT + 1, 1, BLACK);

    let slot = (RIGHT - LEFT) / bars.len().max(1) as i32;
    for (i, (label, value)) in bars.iter().enumerate() {
        let x0 = LEFT + i as i32 * slot + slot / 6;
        let w = slot * 2 / 3;
        let y = py(*value).round() as i32;
        fill(&mut img, x0, y, w, BOTTOM - y, PALETTE[i % PALETTE.len()]);
        let text = tick_label(*value, step / 10.0);
        let tw = text_width(&text, 1) as i32;
        draw_text(&mut img, x0 + (w - tw) / 2, y - 12, &text, BLACK, 1);
        let lw = text_width(label, 1) as i32;
        draw_text(&mut img, x0 + (w - lw) / 2, BOTTOM + 10, label, BLACK, 1);
    }
    let tw = text_width(title, 2) as i32;
    draw_text(&mut img, (WIDTH as i32 - tw) / 2, 10, title, BLACK, 2);
    draw_text(&mut img, 6, TOP - 14, y_label, BLACK, 1);
    save_png(&img, path)
}
