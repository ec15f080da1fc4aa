//! The user's own images: a folder of PNG, JPEG and BMP files, centre-cropped to squares,
//! resized and scaled to [-1, 1] as `N x C x H x W` floats, plus fixed-batch gathering.
//!
//! A file that does not decode is skipped, counted and named in [`ImageSet::summary`], so one
//! bad download does not stop a run; a folder with no usable image at all is an error.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::DynamicImage;

use super::data_error;
use crate::Result;

/// The images of a folder, ready for training.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// `count x channels x size x size` floats in [-1, 1], images in sorted path order.
    pub images: Vec<f32>,
    /// Images loaded, `N`.
    pub count: usize,
    /// Side of every image, `H = W`.
    pub size: usize,
    /// Channels `C`: 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// The folder, as the caller named it.
    pub dir: PathBuf,
    /// Every file with an image extension (or subfolder) that could not be used, and why.
    pub skipped: Vec<(PathBuf, String)>,
}

impl ImageSet {
    /// One line for the log, e.g. `loaded 120 images from faces/ (64x64 RGB); skipped 2
    /// unreadable: a.png (...), b.jpg (...)`.
    pub fn summary(&self) -> String {
        let kind = if self.channels == 1 { "gray" } else { "RGB" };
        let mut line = format!(
            "loaded {} image{} from {} ({}x{} {kind})",
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.dir.display(),
            self.size,
            self.size
        );
        if !self.skipped.is_empty() {
            let names: Vec<String> = self
                .skipped
                .iter()
                .map(|(path, why)| {
                    let name = path.strip_prefix(&self.dir).unwrap_or(path);
                    format!("{} ({why})", name.display())
                })
                .collect();
            line.push_str(&format!(
                "; skipped {} unreadable: {}",
                self.skipped.len(),
                names.join(", ")
            ));
        }
        line
    }

    /// Floats per image, `C·H·W`.
    pub fn per_image(&self) -> usize {
        self.channels * self.size * self.size
    }
}

/// Whether `path` names a file this loader reads (by extension, any case).
fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| {
            matches!(
                e.to_ascii_lowercase().as_str(),
                "png" | "jpg" | "jpeg" | "bmp"
            )
        })
        .unwrap_or(false)
}

/// Every image file under `dir`, recursively, in sorted order so a run repeats on any
/// filesystem. Symlinked folders are not followed (a link cycle would never end); a subfolder
/// that cannot be listed is recorded in `skipped` rather than stopping the load.
fn walk(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, String)>,
) -> std::io::Result<()> {
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| (e.path(), e.file_type().map(|t| t.is_dir()).unwrap_or(false)))
        .collect();
    entries.sort();
    for (path, is_dir) in entries {
        if is_dir {
            if let Err(e) = walk(&path, found, skipped) {
                skipped.push((path, format!("cannot read folder: {e}")));
            }
        } else if is_image(&path) && path.is_file() {
            found.push(path);
        }
    }
    Ok(())
}

/// Decodes one file, trusting its bytes over its extension (a PNG saved as `.jpg` still
/// loads).
fn decode(path: &Path) -> std::result::Result<DynamicImage, String> {
    image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())
}

/// Loads every `.png`, `.jpg`, `.jpeg` and `.bmp` under `dir` (recursively, sorted by path):
/// each is centre-cropped to a square, resized to `size x size` with a Lanczos-3 filter,
/// converted to grayscale (`channels = 1`) or RGB (`channels = 3`) and scaled from [0, 255] to
/// [-1, 1]. Files that fail to decode are listed in [`ImageSet::skipped`].
///
/// A missing or unreadable folder, `channels` other than 1 or 3, `size` 0, or no usable image
/// is an [`Error::Data`](crate::Error::Data) naming the folder.
pub fn load_image_dir(dir: &Path, size: usize, channels: usize) -> Result<ImageSet> {
    let name = dir.display().to_string();
    if channels != 1 && channels != 3 {
        return Err(data_error(
            name,
            0,
            format!("images need 1 (grayscale) or 3 (RGB) channels, not {channels}"),
        ));
    }
    if size == 0 || size > u32::MAX as usize {
        return Err(data_error(
            name,
            0,
            format!("image size must be positive, got {size}"),
        ));
    }
    if !dir.is_dir() {
        return Err(data_error(
            name,
            0,
            "no such folder (give a folder of .png/.jpg/.bmp images)",
        ));
    }
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    walk(dir, &mut files, &mut skipped)
        .map_err(|e| data_error(&name, 0, format!("cannot read the image folder: {e}")))?;
    let mut images = Vec::new();
    let mut count = 0;
    for path in files {
        match decode(&path) {
            Ok(img) => {
                push_image(&img, size, channels, &mut images);
                count += 1;
            }
            Err(e) => skipped.push((path, e.to_string())),
        }
    }
    if count == 0 {
        let why = if skipped.is_empty() {
            "no .png, .jpg, .jpeg or .bmp files in this folder or below".to_string()
        } else {
            format!(
                "none of its {} image files could be read (first: {}: {})",
                skipped.len(),
                skipped[0].0.display(),
                skipped[0].1
            )
        };
        return Err(data_error(name, 0, why));
    }
    Ok(ImageSet {
        images,
        count,
        size,
        channels,
        dir: dir.to_path_buf(),
        skipped,
    })
}

/// Crops `img` to its centred square, resizes it and appends it as `C x H x W` floats in
/// [-1, 1].
fn push_image(img: &DynamicImage, size: usize, channels: usize, out: &mut Vec<f32>) {
    let (w, h) = (img.width(), img.height());
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let s = size as u32;
    let resized = if side == s {
        square
    } else {
        square.resize_exact(s, s, FilterType::Lanczos3)
    };
    let scale = |v: u8| v as f32 / 127.5 - 1.0;
    if channels == 1 {
        out.extend(resized.to_luma8().as_raw().iter().map(|&v| scale(v)));
    } else {
        let rgb = resized.to_rgb8();
        let raw = rgb.as_raw();
        for c in 0..3 {
            out.extend(raw.iter().skip(c).step_by(3).map(|&v| scale(v)));
        }
    }
}

/// Gathers the images at `indices` (each `per_image` floats) from `images` into one batch,
/// in the order given. An index past the end gives a zero image there, rather than a panic in
/// a training loop; callers draw indices below `images.len() / per_image`.
pub fn image_batch(images: &[f32], per_image: usize, indices: &[usize]) -> Vec<f32> {
    let mut batch = vec![0f32; indices.len() * per_image];
    for (row, &i) in batch.chunks_mut(per_image.max(1)).zip(indices) {
        if let Some(src) = images.get(i * per_image..(i + 1) * per_image) {
            row.copy_from_slice(src);
        }
    }
    batch
}
