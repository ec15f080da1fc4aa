//! The built-in image dataset: handwritten-looking digits 0-9 drawn on the CPU from a seed.
//!
//! Each digit is a few strokes (polylines and elliptic arcs) in a glyph box with x in
//! [-0.3, 0.3] and y in [-0.5, 0.5], y pointing down. Every sample jitters the glyph (per-point
//! wobble, per-stroke drift, width, slant as a shear, rotation, scale, offset, stroke thickness)
//! and renders it anti-aliased: a pixel's ink is the part of a unit pixel the thick stroke
//! covers, approximated by `clamp(r + 1/2 - d, 0, 1)` for distance `d` from the pixel centre to
//! the stroke's centre line and half-thickness `r`.
//!
//! Images come out as `N x 1 x S x S` floats in [-1, 1] (background -1, ink +1, the range of a
//! DCGAN generator's tanh), so real and generated samples share one scale.

use super::{mix, Rng};

/// A stroke: its centre line as points in the glyph box.
type Stroke = Vec<(f32, f32)>;

/// `n + 1` points on the ellipse centred `(cx, cy)` with radii `(rx, ry)` from angle `a0` to
/// `a1` degrees (0 = right, 90 = down, since y points down).
fn arc(cx: f32, cy: f32, rx: f32, ry: f32, a0: f32, a1: f32, n: usize) -> Stroke {
    (0..=n)
        .map(|i| {
            let a = (a0 + (a1 - a0) * i as f32 / n as f32).to_radians();
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect()
}

/// The strokes of `digit` (0-9; anything else is taken modulo 10) in one of its common
/// handwritten variants, picked by `variant` (any value; its low bits are used).
fn strokes(digit: u32, variant: u64) -> Vec<Stroke> {
    let pick = |percent: u64| variant % 100 < percent;
    match digit % 10 {
        0 => vec![arc(0.0, 0.0, 0.27, 0.48, -90.0, 275.0, 40)],
        1 => {
            let mut s = vec![vec![(0.06, -0.5), (-0.02, 0.5)]];
            if !pick(25) {
                s.push(vec![(-0.16, -0.3), (0.06, -0.5)]);
            }
            if (variant / 100) % 100 < 25 {
                s.push(vec![(-0.2, 0.5), (0.18, 0.5)]);
            }
            s
        }
        2 => {
            let mut s = arc(0.0, -0.24, 0.26, 0.25, -165.0, 35.0, 20);
            s.push((-0.28, 0.48));
            s.push((0.3, 0.48));
            vec![s]
        }
        3 => {
            let mut s = arc(0.0, -0.26, 0.24, 0.23, -150.0, 90.0, 20);
            s.pop();
            s.push((-0.06, -0.03));
            s.extend(arc(0.0, 0.24, 0.28, 0.26, -90.0, 150.0, 20));
            vec![s]
        }
        // Closed (a slanted left stroke meeting the stem) or open (an upright left stroke).
        4 if pick(35) => vec![
            vec![(-0.2, -0.5), (-0.25, 0.12), (0.3, 0.12)],
            vec![(0.14, -0.5), (0.12, 0.5)],
        ],
        4 => vec![
            vec![(0.1, -0.5), (-0.3, 0.16), (0.3, 0.16)],
            vec![(0.13, -0.2), (0.11, 0.5)],
        ],
        5 => {
            let mut s = vec![(0.27, -0.48), (-0.18, -0.48), (-0.22, -0.04)];
            s.extend(arc(0.0, 0.2, 0.28, 0.29, -125.0, 150.0, 24));
            vec![s]
        }
        6 => {
            let mut s = arc(0.2, 0.22, 0.46, 0.72, -100.0, -180.0, 14);
            s.extend(arc(0.0, 0.23, 0.26, 0.26, 180.0, -180.0, 32));
            vec![s]
        }
        7 => {
            let mut s = vec![vec![(-0.28, -0.48), (0.3, -0.48), (-0.04, 0.5)]];
            if pick(25) {
                s.push(vec![(-0.07, 0.0), (0.24, 0.0)]);
            }
            s
        }
        8 => vec![
            arc(0.0, -0.26, 0.21, 0.23, 90.0, 450.0, 28),
            arc(0.0, 0.24, 0.27, 0.26, -90.0, 270.0, 32),
        ],
        _ => {
            let mut s = arc(0.0, -0.22, 0.26, 0.27, 0.0, 360.0, 32);
            if pick(40) {
                s.extend(arc(-0.05, -0.22, 0.29, 0.72, 0.0, 80.0, 10));
            } else {
                s.extend([(0.24, 0.1), (0.16, 0.5)]);
            }
            vec![s]
        }
    }
}

/// Uniform in `[lo, hi)`.
fn uniform(rng: &mut Rng, lo: f32, hi: f32) -> f32 {
    let u = (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
    lo + (hi - lo) * u
}

/// Renders `digit` jittered by `rng` into `out` (`size * size` floats, overwritten) in [-1, 1].
fn render(digit: u32, rng: &mut Rng, size: usize, out: &mut [f32]) {
    let s = size as f32;
    let height = uniform(rng, 0.56, 0.7) * s;
    let width = height * uniform(rng, 0.8, 1.15);
    let shear = uniform(rng, -0.1, 0.35);
    let angle = uniform(rng, -0.15, 0.15);
    let (sin, cos) = angle.sin_cos();
    let centre = (
        s / 2.0 + uniform(rng, -0.06, 0.06) * s,
        s / 2.0 + uniform(rng, -0.05, 0.05) * s,
    );
    let radius = uniform(rng, 0.035, 0.06) * s;
    let wobble = 0.015;
    let variant = rng.next_u64();
    let strokes: Vec<Stroke> = strokes(digit, variant)
        .into_iter()
        .map(|stroke| {
            let drift = (uniform(rng, -0.025, 0.025), uniform(rng, -0.025, 0.025));
            // A slow sine along the stroke bends it like a hand would; independent per-point
            // noise on top stays small so arcs do not turn jagged.
            let phase = uniform(rng, 0.0, std::f32::consts::TAU);
            let bend = uniform(rng, -0.03, 0.03);
            let n = stroke.len().max(2) as f32 - 1.0;
            stroke
                .iter()
                .enumerate()
                .map(|(i, &(x, y))| {
                    let t = i as f32 / n;
                    let b = bend * (std::f32::consts::PI * t * 1.5 + phase).sin();
                    let x = x + drift.0 + b + uniform(rng, -wobble, wobble);
                    let y = y + drift.1 - b * 0.5 + uniform(rng, -wobble, wobble);
                    let x = x + shear * -y;
                    let (x, y) = (x * width, y * height);
                    (centre.0 + x * cos - y * sin, centre.1 + x * sin + y * cos)
                })
                .collect()
        })
        .collect();
    let mut ink = vec![0f32; size * size];
    for stroke in &strokes {
        for seg in stroke.windows(2) {
            draw_segment(&mut ink, size, seg[0], seg[1], radius);
        }
    }
    for (o, v) in out.iter_mut().zip(&ink) {
        *o = v * 2.0 - 1.0;
    }
}

/// Maxes the coverage of the thick segment `a`-`b` (half-thickness `r`, pixels) into `ink`.
fn draw_segment(ink: &mut [f32], size: usize, a: (f32, f32), b: (f32, f32), r: f32) {
    let reach = r + 1.0;
    let lo = |p: f32, q: f32| ((p.min(q) - reach).floor().max(0.0)) as usize;
    let hi = |p: f32, q: f32| ((p.max(q) + reach).ceil().max(0.0) as usize).min(size);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for py in lo(a.1, b.1)..hi(a.1, b.1) {
        for px in lo(a.0, b.0)..hi(a.0, b.0) {
            let (cx, cy) = (px as f32 + 0.5, py as f32 + 0.5);
            let t = if len2 > 0.0 {
                (((cx - a.0) * dx + (cy - a.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (cx - a.0 - t * dx, cy - a.1 - t * dy);
            let d = (ex * ex + ey * ey).sqrt();
            let cover = (r + 0.5 - d).clamp(0.0, 1.0);
            let p = &mut ink[py * size + px];
            *p = p.max(cover);
        }
    }
}

/// `count` digit images of `size x size`, as `count x 1 x size x size` floats in [-1, 1]
/// (background -1, ink +1), and their labels. Labels cycle 0, 1, ..., 9, 0, ... so every digit
/// is equally common; image `i` depends only on `seed` and `i`, so a longer set extends a
/// shorter one with the same seed.
pub fn digit_images(seed: u64, count: usize, size: usize) -> (Vec<f32>, Vec<u32>) {
    let per = size * size;
    let mut images = vec![-1f32; count * per];
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let label = (i % 10) as u32;
        let mut rng = Rng::new(mix(seed ^ mix(i as u64 ^ 0x00D1_6175)));
        render(label, &mut rng, size, &mut images[i * per..(i + 1) * per]);
        labels.push(label);
    }
    (images, labels)
}
