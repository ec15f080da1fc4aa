//! The user's own images: a folder of PNG, JPEG and BMP files, centre-cropped to squares,
//! resized and scaled to [-1, 1] as `N x C x H x W` floats, plus fixed-batch gathering.
//!
//! A file that does not decode is skipped, counted and named in [`ImageSet::summary`], so one
//! bad download does not stop a run; a folder with no usable image at all is an error.

use std::path::{Path, PathBuf};

#[cfg(feature = "images")]
use image::imageops::FilterType;
#[cfg(feature = "images")]
use image::DynamicImage;

#[cfg(feature = "images")]
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
    /// One line for the log, e.g. `loaded 120 images from faces/ (64x64 RGB); skipped 2:
    /// a.png (...), b.jpg (...)`.
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
                "; skipped {}: {}",
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

#[cfg(feature = "images")]
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

#[cfg(feature = "images")]
/// Every image file under `dir`, recursively, in sorted order so a run repeats on any
/// filesystem. Symlinked folders inside it are not followed (a link cycle would never end) but
/// recorded in `skipped`, as is a subfolder that cannot be listed, rather than stopping the
/// load.
fn walk(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, String)>,
) -> std::io::Result<()> {
    let mut entries: Vec<(PathBuf, bool, bool)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| {
            let kind = e.file_type().ok();
            let is_link = kind.is_some_and(|t| t.is_symlink());
            (e.path(), kind.is_some_and(|t| t.is_dir()), is_link)
        })
        .collect();
    entries.sort();
    for (path, is_dir, is_link) in entries {
        if is_link && path.is_dir() {
            skipped.push((
                path,
                "a link to a folder (not followed: links can loop)".into(),
            ));
        } else if is_link && !path.exists() {
            skipped.push((path, "a link to nothing".into()));
        } else if is_dir {
            if let Err(e) = walk(&path, found, skipped) {
                skipped.push((path, format!("cannot read folder: {e}")));
            }
        } else if is_image(&path) && path.is_file() {
            found.push(path);
        }
    }
    Ok(())
}

/// The largest image [`load_image_dir`] decodes, in pixels (64 Mpx, 8192 x 8192): checked
/// from the file's header before decoding, so a small file that claims a huge image (an image
/// bomb) costs neither the memory nor the time to decode it. Images are resized to training
/// sizes of a few hundred pixels, so nothing a model could use is lost.
pub const MAX_IMAGE_PIXELS: u64 = 64 << 20;

#[cfg(feature = "images")]
/// Decodes one file, trusting its bytes over its extension (a PNG saved as `.jpg` still
/// loads), refusing from its header an image larger than [`MAX_IMAGE_PIXELS`].
fn decode(path: &Path) -> std::result::Result<DynamicImage, String> {
    let open = || {
        image::ImageReader::open(path)
            .map_err(|e| e.to_string())?
            .with_guessed_format()
            .map_err(|e| e.to_string())
    };
    let (w, h) = open()?.into_dimensions().map_err(|e| e.to_string())?;
    let pixels = w as u64 * h as u64;
    if pixels > MAX_IMAGE_PIXELS {
        return Err(format!(
            "{w}x{h} is {:.0} megapixels, over the {} megapixel limit (not decoded)",
            pixels as f64 / (1u64 << 20) as f64,
            MAX_IMAGE_PIXELS >> 20
        ));
    }
    open()?.decode().map_err(|e| e.to_string())
}

#[cfg(feature = "images")]
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

/// Images with a class label each: a folder of class folders, or the built-in digits.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledImages {
    /// The images, `N x C x S x S` floats in [-1, 1].
    pub set: ImageSet,
    /// The class of each image, an index into `classes`.
    pub labels: Vec<u32>,
    /// Class names: the folders' names in sorted order, or `"0"`..`"9"` for the digits.
    pub classes: Vec<String>,
}

impl LabelledImages {
    /// `count` built-in digits ([`super::digit_images`]) of `size x size`, labelled 0-9.
    pub fn digits(seed: u64, count: usize, size: usize) -> LabelledImages {
        let (images, labels) = super::digit_images(seed, count, size);
        LabelledImages {
            set: ImageSet {
                images,
                count,
                size,
                channels: 1,
                dir: PathBuf::from("built-in digits"),
                skipped: Vec::new(),
            },
            labels,
            classes: (0..10).map(|d| d.to_string()).collect(),
        }
    }
}

impl LabelledImages {
    #[cfg(feature = "images")]
    /// The class folders of `dir` ([`load_image_classes`]), or without one `digits` built-in
    /// digits; `size x size` grayscale either way.
    pub fn from_folder_or_digits(dir: Option<&Path>, size: usize, digits: usize) -> Result<Self> {
        match dir {
            Some(dir) => load_image_classes(dir, size, 1),
            None => Ok(LabelledImages::digits(1, digits, size)),
        }
    }

    #[cfg(feature = "images")]
    /// Every image under `dir`: labelled by its class folder ([`load_image_classes`]) when
    /// `dir` holds two or more subfolders with images and no image of its own (the
    /// `DIR/0/*.png … DIR/9/*.png` layout of a labelled set), unlabelled otherwise
    /// ([`load_image_dir`]). Either way every image is used; only the labels depend on the
    /// layout, and a folder's layout never invents classes.
    pub fn from_folder(dir: &Path, size: usize, channels: usize) -> Result<LabelledImages> {
        let set = load_image_dir(dir, size, channels)?;
        let name = dir.display().to_string();
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| data_error(&name, 0, format!("cannot read the folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let loose = entries.iter().any(|p| p.is_file() && is_image(p));
        let classes = entries
            .iter()
            .filter(|p| p.is_dir())
            .filter(|p| {
                let (mut found, mut skipped) = (Vec::new(), Vec::new());
                walk(p, &mut found, &mut skipped).is_ok() && !found.is_empty()
            })
            .count();
        if loose || classes < 2 {
            return Ok(LabelledImages::unlabelled(set));
        }
        load_image_classes(dir, size, channels)
    }

    /// Images without labels (a folder to generate from): `labels` and `classes` are empty.
    pub fn unlabelled(set: ImageSet) -> LabelledImages {
        LabelledImages {
            set,
            labels: Vec::new(),
            classes: Vec::new(),
        }
    }

    /// MNIST's IDX images at `path` as `size x size` ([`super::idx_to_images`]), labelled
    /// from the label file beside them (`...-images-idx3-ubyte` → `...-labels-idx1-ubyte`)
    /// when it exists and matches; unlabelled otherwise.
    pub fn from_idx(path: &Path, size: usize) -> Result<LabelledImages> {
        let (bytes, count, rows, cols) = super::read_idx_images(path)?;
        let set = ImageSet {
            images: super::idx_to_images(&bytes, count, rows, cols, size),
            count,
            size,
            channels: 1,
            dir: path.to_path_buf(),
            skipped: Vec::new(),
        };
        let name = path
            .display()
            .to_string()
            .replace("images-idx3", "labels-idx1");
        match super::read_idx_labels(Path::new(&name)) {
            Ok(labels) if labels.len() == count && name != path.display().to_string() => {
                let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
                Ok(LabelledImages {
                    set,
                    labels: labels.into_iter().map(u32::from).collect(),
                    classes: (0..classes).map(|c| c.to_string()).collect(),
                })
            }
            _ => Ok(LabelledImages::unlabelled(set)),
        }
    }

    /// A held-out split of the image indices: `(train, heldout)`, `heldout_fraction` of them
    /// held out, chosen by `seed`.
    pub fn split(&self, heldout_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
        super::split_pairs((0..self.set.count).collect(), heldout_fraction, seed)
    }

    /// The images at `indices` as one `[B, C, S, S]` batch, and their labels.
    pub fn batch(&self, indices: &[usize]) -> (Vec<f32>, Vec<u32>) {
        let labels = indices
            .iter()
            .map(|&i| self.labels.get(i).copied().unwrap_or(0))
            .collect();
        (
            image_batch(&self.set.images, self.set.per_image(), indices),
            labels,
        )
    }
}

#[cfg(feature = "images")]
/// Loads `dir/<class>/**` for every subfolder `<class>` of `dir` (sorted by name; the class
/// index is its place in that order; a class may be a link to a folder, whose own links are
/// not followed), each image as [`load_image_dir`] does. Unreadable files are listed in the
/// result's `skipped`; a class folder with no usable image, or a `dir` with fewer than two
/// class folders, is an [`Error::Data`](crate::Error::Data) naming the folder.
pub fn load_image_classes(dir: &Path, size: usize, channels: usize) -> Result<LabelledImages> {
    let name = dir.display().to_string();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| data_error(&name, 0, format!("cannot read the folder: {e}")))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    if folders.len() < 2 {
        let found = match folders.first() {
            Some(one) => format!("only one, {}", one.display()),
            None => "none".to_string(),
        };
        return Err(data_error(
            name,
            0,
            format!(
                "a classifier needs two class folders at least, found {found}: put each \
                 class's images in a subfolder named after it"
            ),
        ));
    }
    let mut all = ImageSet {
        images: Vec::new(),
        count: 0,
        size,
        channels,
        dir: dir.to_path_buf(),
        skipped: Vec::new(),
    };
    let (mut labels, mut classes) = (Vec::new(), Vec::new());
    for (k, folder) in folders.iter().enumerate() {
        let set = load_image_dir(folder, size, channels)?;
        labels.extend(std::iter::repeat_n(k as u32, set.count));
        all.images.extend(set.images);
        all.count += set.count;
        all.skipped.extend(set.skipped);
        let class = folder.file_name().map(|n| n.to_string_lossy().into_owned());
        classes.push(class.unwrap_or_default());
    }
    Ok(LabelledImages {
        set: all,
        labels,
        classes,
    })
}

impl LabelledImages {
    /// One line for the log: [`ImageSet::summary`] with the classes and their counts, e.g.
    /// `loaded 40 images from pets/ (28x28 gray); skipped 1: …; 2 classes: cat 20, dog 20`.
    pub fn summary(&self) -> String {
        let mut counts = vec![0usize; self.classes.len()];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l as usize) {
                *c += 1;
            }
        }
        let classes: Vec<String> = self
            .classes
            .iter()
            .zip(&counts)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        format!(
            "{}; {} classes: {}",
            self.set.summary(),
            self.classes.len(),
            classes.join(", ")
        )
    }
}

#[cfg(feature = "images")]
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
