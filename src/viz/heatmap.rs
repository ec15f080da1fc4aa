//! Heatmaps: a matrix as coloured cells (viridis-like), with row and column labels; made for
//! cross-attention weights (output characters as rows, input characters as columns).

use std::path::Path;

use image::{Rgb, RgbImage};

use super::font::{draw_text, draw_text_vertical, fill, text_height, text_width};
use super::save_png;
use crate::error::{Error, Result};

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
/// Colour of a NaN or infinite cell: outside the colormap, so it cannot pass for a value.
const NOT_FINITE: Rgb<u8> = Rgb([255, 0, 255]);

/// Control points of a viridis-like colormap (sampled from matplotlib's viridis): dark blue
/// to yellow, with luminance rising monotonically so the order of values survives greyscale
/// and colour-blind eyes.
const VIRIDIS: [(f32, [f32; 3]); 5] = [
    (0.0, [68.0, 1.0, 84.0]),
    (0.25, [59.0, 82.0, 139.0]),
    (0.5, [33.0, 145.0, 140.0]),
    (0.75, [94.0, 201.0, 98.0]),
    (1.0, [253.0, 231.0, 37.0]),
];

/// The colormap at `t` in [0, 1] (clamped), linear between control points.
pub fn colormap(t: f32) -> Rgb<u8> {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    for pair in VIRIDIS.windows(2) {
        let ((t0, c0), (t1, c1)) = (pair[0], pair[1]);
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            let mix = |k: usize| (c0[k] + f * (c1[k] - c0[k])).round() as u8;
            return Rgb([mix(0), mix(1), mix(2)]);
        }
    }
    Rgb([253, 231, 37])
}

/// Writes a heatmap PNG of `values` (`rows` x `cols`, row-major): each cell coloured by its
/// value between the matrix's finite minimum (dark) and maximum (yellow), rows labelled on the
/// left, columns on top, a colour bar with the range on the right. Cells are 4 to 32 pixels
/// so that both small and long sequences fit; labels are drawn when they fit (every k-th
/// otherwise). NaN or infinite cells are magenta. `row_labels` and `col_labels` must each be
/// empty or have one label per row or column.
pub fn heatmap(
    path: &Path,
    values: &[f32],
    rows: usize,
    cols: usize,
    row_labels: &[String],
    col_labels: &[String],
    title: &str,
) -> Result<()> {
    if values.len() != rows * cols {
        return Err(Error::Length {
            during: format!("heatmap of {rows}x{cols} values"),
            expected: rows * cols,
            got: values.len(),
        });
    }
    for (labels, n, what) in [(row_labels, rows, "row"), (col_labels, cols, "column")] {
        if !labels.is_empty() && labels.len() != n {
            return Err(Error::Length {
                during: format!("heatmap {what} labels"),
                expected: n,
                got: labels.len(),
            });
        }
    }
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let cell = (640 / rows.max(cols).max(1)).clamp(4, 32) as i32;
    let line = text_height(1) as i32;
    let label_every = ((line + 1) as f32 / cell as f32).ceil().max(1.0) as usize;
    let widest =
        |labels: &[String]| labels.iter().map(|l| text_width(l, 1)).max().unwrap_or(0) as i32;
    let left = 10 + widest(row_labels) + 6;
    let col_space = if col_labels.iter().all(|l| text_width(l, 1) as i32 <= cell) {
        line
    } else {
        widest(col_labels)
    };
    let top = 10 + text_height(2) as i32 + 8 + col_space + 6;
    let grid_w = cell * cols as i32;
    let grid_h = cell * rows as i32;
    let bar_x = left + grid_w + 16;
    let width = (bar_x + 16 + 8 + text_width("-0.000e-00", 1) as i32 + 10)
        .max(text_width(title, 2) as i32 + 20);
    let height = top + grid_h.max(60) + 12;
    let mut img = RgbImage::from_pixel(width as u32, height as u32, WHITE);

    let span = hi - lo;
    for r in 0..rows {
        for c in 0..cols {
            let v = values[r * cols + c];
            let color = if !v.is_finite() {
                NOT_FINITE
            } else if span > 0.0 {
                colormap((v - lo) / span)
            } else {
                colormap(0.5)
            };
            fill(
                &mut img,
                left + c as i32 * cell,
                top + r as i32 * cell,
                cell,
                cell,
                color,
            );
        }
    }
    for (r, label) in row_labels.iter().enumerate() {
        if r % label_every == 0 {
            let w = text_width(label, 1) as i32;
            let y = top + r as i32 * cell + (cell - line + 1) / 2;
            draw_text(&mut img, left - 6 - w, y, label, BLACK, 1);
        }
    }
    // Labels as narrow as a cell (characters) read upright; longer ones are turned.
    let upright = col_labels.iter().all(|l| text_width(l, 1) as i32 <= cell);
    for (c, label) in col_labels.iter().enumerate() {
        if c % label_every == 0 {
            let w = text_width(label, 1) as i32;
            if upright {
                let x = left + c as i32 * cell + (cell - w + 1) / 2;
                draw_text(&mut img, x, top - 4 - line, label, BLACK, 1);
            } else {
                let x = left + c as i32 * cell + (cell - line + 1) / 2;
                draw_text_vertical(&mut img, x, top - 6 - w, label, BLACK, 1);
            }
        }
    }

    // Colour bar: top is the maximum.
    let bar_h = grid_h.max(60);
    for y in 0..bar_h {
        let t = 1.0 - y as f32 / (bar_h - 1).max(1) as f32;
        fill(&mut img, bar_x, top + y, 16, 1, colormap(t));
    }
    if lo <= hi {
        draw_text(&mut img, bar_x + 22, top, &format_value(hi), BLACK, 1);
        draw_text(
            &mut img,
            bar_x + 22,
            top + bar_h - line,
            &format_value(lo),
            BLACK,
            1,
        );
    }
    draw_text(&mut img, 10, 8, title, BLACK, 2);
    save_png(&img, path)
}

fn format_value(v: f32) -> String {
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}
