//! Image grids: a batch of generated images tiled into one PNG (the DCGAN sample sheet).

use std::path::Path;

use image::{Rgb, RgbImage};

use super::save_png;
use crate::error::{shape_error, Error, Result};

/// Pixels of border around and between tiles.
pub const BORDER: u32 = 1;
/// A grid narrower than this many pixels is scaled up (nearest neighbour, a whole factor) until
/// it is at least this wide: 32-pixel samples in an 8-wide grid are unreadable at 1:1.
pub const MIN_WIDTH: usize = 512;
/// The border's colour (and that of empty tiles in an unfilled last row).
pub const BORDER_COLOR: Rgb<u8> = Rgb([64, 64, 64]);

/// The whole factor [`image_grid`] scales `cols` tiles of width `w` by: the least that makes
/// the grid at least [`MIN_WIDTH`] pixels wide (1 when it already is).
pub fn scale_for(cols: usize, w: usize) -> usize {
    let b = BORDER as usize;
    let inner = MIN_WIDTH.saturating_sub(b + cols * b);
    inner.div_ceil((cols * w).max(1)).max(1)
}

/// Tiles `n` images (`images` is N x C x H x W, values in [-1, 1], C = 1 grey or 3 RGB) into a
/// grid `cols` tiles wide, each pixel drawn as an s x s block (s = [`scale_for`]: the grid is at
/// least [`MIN_WIDTH`] wide), with a [`BORDER`]-pixel border, and writes it as a PNG.
///
/// Image k sits in row k / cols, column k % cols, its top-left pixel at
/// (BORDER + col·(s·W + BORDER), BORDER + row·(s·H + BORDER)). Values map linearly from
/// [-1, 1] to 0..=255 and are clamped (NaN becomes 0), as a tanh generator's output is meant to
/// be read.
pub fn image_grid(
    path: &Path,
    images: &[f32],
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    cols: usize,
) -> Result<()> {
    if (c != 1 && c != 3) || n == 0 || h == 0 || w == 0 || cols == 0 {
        return Err(shape_error(
            "image_grid",
            format!("N x C x H x W with N, H, W, cols ≥ 1 and C = 1 or 3 (cols = {cols})"),
            &[&[n, c, h, w]],
        ));
    }
    if images.len() != n * c * h * w {
        return Err(Error::Length {
            during: format!("image_grid of {n} x {c} x {h} x {w}"),
            expected: n * c * h * w,
            got: images.len(),
        });
    }
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let b = BORDER as usize;
    let s = scale_for(cols, w);
    let (sw, sh) = (s * w, s * h);
    let width = cols * (sw + b) + b;
    let height = rows * (sh + b) + b;
    let mut img = RgbImage::from_pixel(width as u32, height as u32, BORDER_COLOR);
    let byte = |v: f32| {
        if v.is_nan() {
            0
        } else {
            ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
        }
    };
    for k in 0..n {
        let (x0, y0) = (b + (k % cols) * (sw + b), b + (k / cols) * (sh + b));
        let image = &images[k * c * h * w..(k + 1) * c * h * w];
        for y in 0..h {
            for x in 0..w {
                let at = |ch: usize| byte(image[(ch * h + y) * w + x]);
                let rgb = if c == 1 {
                    let g = at(0);
                    [g, g, g]
                } else {
                    [at(0), at(1), at(2)]
                };
                for dy in 0..s {
                    for dx in 0..s {
                        let (px, py) = (x0 + x * s + dx, y0 + y * s + dy);
                        img.put_pixel(px as u32, py as u32, Rgb(rgb));
                    }
                }
            }
        }
    }
    save_png(&img, path)
}
