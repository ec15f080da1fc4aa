//! MNIST's IDX files: unsigned-byte images (magic `0x00000803`, then big-endian `u32` count,
//! rows, cols) and labels (magic `0x00000801`, then the count), and their conversion to
//! `N x 1 x S x S` floats in [-1, 1].
//!
//! Gzipped files (as MNIST is distributed) are recognised by their magic and rejected with the
//! command that decompresses them: kiln carries no gzip decoder.

use std::path::Path;

use super::{data_error, read_file};
use crate::Result;

/// The magic of an IDX file of unsigned bytes with 3 dimensions (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic of an IDX file of unsigned bytes with 1 dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads the big-endian `u32` at `offset`, if the file holds it.
fn be_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let b = bytes.get(offset..offset + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads the header of an IDX file: checks the magic and returns the `dims` sizes.
fn header(bytes: &[u8], name: &str, magic: u32, what: &str, dims: usize) -> Result<Vec<usize>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(data_error(
            name,
            0,
            format!("this is a gzip file, not a raw IDX file: decompress it first: gunzip {name}"),
        ));
    }
    let found = be_u32(bytes, 0).ok_or_else(|| {
        data_error(
            name,
            0,
            format!(
                "truncated: {} bytes, shorter than the 4-byte IDX magic",
                bytes.len()
            ),
        )
    })?;
    if found != magic {
        return Err(data_error(
            name,
            0,
            format!("not an IDX {what} file: magic {found:#010x}, expected {magic:#010x}"),
        ));
    }
    (0..dims)
        .map(|d| {
            be_u32(bytes, 4 + 4 * d).map(|v| v as usize).ok_or_else(|| {
                data_error(
                    name,
                    0,
                    format!(
                        "truncated header: {} bytes, an IDX {what} header has {}",
                        bytes.len(),
                        4 + 4 * dims
                    ),
                )
            })
        })
        .collect()
}

/// Checks that the payload after a header of `header_len` bytes holds exactly `expected`
/// bytes.
fn check_len(bytes: &[u8], name: &str, header_len: usize, expected: usize) -> Result<()> {
    let got = bytes.len().saturating_sub(header_len);
    if got != expected {
        let kind = if got < expected {
            "truncated"
        } else {
            "size mismatch"
        };
        return Err(data_error(
            name,
            0,
            format!("{kind}: the header promises {expected} data bytes, the file holds {got}"),
        ));
    }
    Ok(())
}

/// Reads an IDX image file: returns its pixels (`n·rows·cols` bytes, row-major, 0 =
/// background as in MNIST), `n`, `rows` and `cols`. A gzip file, a wrong magic, or a file
/// whose length does not match its header is an [`Error::Data`](crate::Error::Data) naming it.
pub fn read_idx_images(path: &Path) -> Result<(Vec<u8>, usize, usize, usize)> {
    let name = path.display().to_string();
    let mut bytes = read_file(path)?;
    let dims = header(&bytes, &name, IMAGES_MAGIC, "image", 3)?;
    let (n, rows, cols) = (dims[0], dims[1], dims[2]);
    let expected = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| data_error(&name, 0, format!("absurd sizes {n} x {rows} x {cols}")))?;
    check_len(&bytes, &name, 16, expected)?;
    bytes.drain(..16);
    Ok((bytes, n, rows, cols))
}

/// Reads an IDX label file: one byte per example. Errors as for [`read_idx_images`].
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let mut bytes = read_file(path)?;
    let n = header(&bytes, &name, LABELS_MAGIC, "label", 1)?[0];
    check_len(&bytes, &name, 8, n)?;
    bytes.drain(..8);
    Ok(bytes)
}

/// Turns `n` images of `rows x cols` bytes into `n x 1 x size x size` floats in [-1, 1]
/// (0 → -1, 255 → +1). When `size` is at least the image, it is centred on a background
/// border (28 → 32 pads 2 pixels each side, keeping MNIST's pixels exact); when smaller, it is
/// resized with a triangle (bilinear) filter. `bytes` shorter than `n·rows·cols` gives
/// background for the missing pixels.
pub fn idx_to_images(bytes: &[u8], n: usize, rows: usize, cols: usize, size: usize) -> Vec<f32> {
    let per = size * size;
    let mut out = vec![-1f32; n * per];
    let scale = |v: u8| v as f32 / 127.5 - 1.0;
    let src_len = rows * cols;
    for i in 0..n {
        let src: Vec<u8> = (0..src_len)
            .map(|p| bytes.get(i * src_len + p).copied().unwrap_or(0))
            .collect();
        let dst = &mut out[i * per..(i + 1) * per];
        if size >= rows && size >= cols {
            let (top, left) = ((size - rows) / 2, (size - cols) / 2);
            for r in 0..rows {
                for c in 0..cols {
                    dst[(top + r) * size + left + c] = scale(src[r * cols + c]);
                }
            }
        } else {
            // Shrink the longer side to `size` keeping the aspect, then centre as above.
            let (small, w, h) = shrink(src, rows, cols, size);
            let (top, left) = ((size - h.min(size)) / 2, (size - w.min(size)) / 2);
            for (r, row) in small.chunks(w.max(1)).take(size).enumerate() {
                for (c, &v) in row.iter().take(size).enumerate() {
                    dst[(top + r) * size + left + c] = scale(v);
                }
            }
        }
    }
    out
}

/// `rows x cols` gray pixels shrunk so the longer side is `size` (aspect kept), with a
/// triangle (bilinear) filter; returns the pixels, width and height.
#[cfg(feature = "images")]
fn shrink(src: Vec<u8>, rows: usize, cols: usize, size: usize) -> (Vec<u8>, usize, usize) {
    match image::GrayImage::from_raw(cols as u32, rows as u32, src) {
        Some(img) => {
            let small = image::DynamicImage::ImageLuma8(img)
                .resize(
                    size as u32,
                    size as u32,
                    image::imageops::FilterType::Triangle,
                )
                .to_luma8();
            let (w, h) = (small.width() as usize, small.height() as usize);
            (small.into_raw(), w, h)
        }
        None => (Vec::new(), 0, 0),
    }
}

/// Without the `images` feature (no image crate): nearest-neighbour shrinking, same sizes.
#[cfg(not(feature = "images"))]
fn shrink(src: Vec<u8>, rows: usize, cols: usize, size: usize) -> (Vec<u8>, usize, usize) {
    let long = rows.max(cols).max(1);
    let (h, w) = (
        (rows * size).div_ceil(long).max(1),
        (cols * size).div_ceil(long).max(1),
    );
    let mut out = Vec::with_capacity(w * h);
    for r in 0..h {
        for c in 0..w {
            let (sr, sc) = ((r * rows / h).min(rows - 1), (c * cols / w).min(cols - 1));
            out.push(src.get(sr * cols + sc).copied().unwrap_or(0));
        }
    }
    (out, w, h)
}
