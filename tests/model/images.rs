//! Image data: the built-in digits (range, ink, determinism, distinct classes, a picture to look
//! at), folders of the user's PNG/JPEG/BMP files (odd sizes, a corrupt file, an empty folder,
//! centre-crop), MNIST's IDX files (round trip, truncation, gzip) and batch gathering.
//! CPU only: nothing here touches the GPU.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln::data::digits::digit_images;
use kiln::data::idx::{idx_to_images, read_idx_images, read_idx_labels};
use kiln::data::images::{image_batch, load_image_dir, ImageSet, LabelledImages};
use kiln::Error;

/// A fresh, empty folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kiln-images-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_message(e: Error) -> (String, String) {
    match e {
        Error::Data { path, message, .. } => (path, message),
        other => panic!("expected Error::Data, got {other:?}"),
    }
}

/// Fraction of pixels with more ink than background (value > 0).
fn ink_fraction(img: &[f32]) -> f64 {
    img.iter().filter(|&&v| v > 0.0).count() as f64 / img.len() as f64
}

/// Writes `count` built-in digits of each class in `classes` as 32x32 PNGs under
/// `dir/<class name>/`, or straight into `dir` when `names` is `None`.
pub fn write_digit_folder(dir: &std::path::Path, per_class: usize, names: Option<&[&str]>) {
    let (images, labels) = digit_images(9, per_class * 10, 32);
    for (i, (image, &label)) in images.chunks(32 * 32).zip(&labels).enumerate() {
        let folder = match names {
            Some(names) => dir.join(names[label as usize]),
            None => dir.to_path_buf(),
        };
        std::fs::create_dir_all(&folder).unwrap();
        let bytes: Vec<u8> = image
            .iter()
            .map(|&v| ((v + 1.0) * 127.5).round() as u8)
            .collect();
        image::GrayImage::from_raw(32, 32, bytes)
            .unwrap()
            .save(folder.join(format!("{i:04}.png")))
            .unwrap();
    }
}

#[test]
fn class_folders_label_a_folder_and_other_layouts_stay_unlabelled() {
    let names = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let labelled = TempDir::new("classes");
    write_digit_folder(&labelled.0, 3, Some(&names));
    let set = LabelledImages::from_folder(&labelled.0, 32, 1).unwrap();
    assert_eq!(set.set.count, 30);
    let mut sorted = names.map(String::from).to_vec();
    sorted.sort();
    assert_eq!(set.classes, sorted, "classes are the folder names, sorted");
    // Image k of the folder walk belongs to the k-th folder in sorted order: the label of
    // each image is its folder's index in `classes`.
    assert_eq!(set.labels.len(), 30);
    for (k, class) in sorted.iter().enumerate() {
        let n = set.labels.iter().filter(|&&l| l == k as u32).count();
        assert_eq!(n, 3, "class {class}");
    }
    let first_eight = sorted.iter().position(|c| c == "eight").unwrap() as u32;
    assert_eq!(set.labels[..3], [first_eight; 3], "'eight' sorts first");

    // Loose images, or loose images beside class folders, or one folder only: no labels.
    let loose = TempDir::new("loose");
    write_digit_folder(&loose.0, 2, None);
    let set = LabelledImages::from_folder(&loose.0, 32, 1).unwrap();
    assert_eq!(
        (set.set.count, set.labels.len(), set.classes.len()),
        (20, 0, 0)
    );
    write_digit_folder(&loose.0.join("more"), 1, Some(&names));
    let set = LabelledImages::from_folder(&loose.0, 32, 1).unwrap();
    assert_eq!(
        (set.set.count, set.classes.len()),
        (30, 0),
        "loose images beside folders"
    );
    let one = TempDir::new("one-folder");
    write_digit_folder(&one.0.join("all"), 2, None);
    let set = LabelledImages::from_folder(&one.0, 32, 1).unwrap();
    assert_eq!(
        (set.set.count, set.classes.len()),
        (20, 0),
        "a single folder is no class set"
    );
}

#[test]
fn class_folders_need_two_classes_follow_a_linked_class_and_name_what_they_skip() {
    use kiln::data::images::load_image_classes;
    let one = TempDir::new("one-class");
    write_digit_folder(&one.0, 2, Some(&["a"; 10]));
    let err = load_image_classes(&one.0, 28, 1).unwrap_err().to_string();
    assert!(
        err.contains("two class folders at least, found only one"),
        "{err}"
    );

    let names = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let source = TempDir::new("link-source");
    write_digit_folder(&source.0, 2, Some(&names));
    let linked = TempDir::new("linked-classes");
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        std::fs::create_dir_all(linked.0.join("real")).unwrap();
        for entry in std::fs::read_dir(source.0.join("zero")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, linked.0.join("real").join(path.file_name().unwrap())).unwrap();
        }
        // A class that is a link to a folder is followed; a link inside a class is not.
        symlink(source.0.join("one"), linked.0.join("via-link")).unwrap();
        symlink(source.0.join("two"), linked.0.join("real").join("nested")).unwrap();
        let set = load_image_classes(&linked.0, 28, 1).unwrap();
        assert_eq!(set.classes, ["real", "via-link"]);
        assert_eq!(set.set.count, 4);
        let summary = set.summary();
        assert!(
            summary.contains("2 classes: real 2, via-link 2"),
            "{summary}"
        );
        assert!(
            summary.contains("nested (a link to a folder (not followed"),
            "{summary}"
        );
    }
}

#[test]
fn digits_grid_png_for_a_look() {
    // Ten rows of 0..9: one glance shows whether each digit is recognisable and how much the
    // jitter varies them. The picture stays in the temp dir for a human to open.
    let (images, labels) = digit_images(7, 100, 32);
    assert_eq!(labels[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let path = std::env::temp_dir().join("kiln-digits-grid.png");
    kiln::viz::grid::image_grid(&path, &images, 100, 1, 32, 32, 10).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
}

#[test]
fn digits_range_and_ink() {
    let size = 32;
    let (images, labels) = digit_images(11, 500, size);
    assert_eq!(images.len(), 500 * size * size);
    assert_eq!(labels.len(), 500);
    assert!(images.iter().all(|v| (-1.0..=1.0).contains(v)));
    // Anti-aliasing leaves values strictly between the two ends on stroke edges.
    assert!(images.iter().any(|&v| v > -0.9 && v < 0.9));
    // Ink bands: a 20-ish pixel glyph with 2-4 pixel strokes covers roughly 5%-30% of a 32x32
    // image ('1' least, '8' and '0' most); outside that a digit is empty or a blob.
    for (img, &label) in images.chunks(size * size).zip(&labels) {
        let f = ink_fraction(img);
        let (lo, hi) = if label == 1 {
            (0.02, 0.16)
        } else {
            (0.06, 0.4)
        };
        assert!(
            (lo..=hi).contains(&f),
            "digit {label}: ink fraction {f:.3} outside [{lo}, {hi}]"
        );
        // Background must dominate the border: a glyph clipped by the edge is a bad sample.
        let border: Vec<f32> = (0..size)
            .flat_map(|i| {
                [
                    img[i],
                    img[(size - 1) * size + i],
                    img[i * size],
                    img[i * size + size - 1],
                ]
            })
            .collect();
        assert!(
            ink_fraction(&border) < 0.05,
            "digit {label} touches the border"
        );
    }
}

#[test]
fn digits_deterministic_from_seed() {
    let a = digit_images(3, 20, 32);
    let b = digit_images(3, 20, 32);
    assert_eq!(a, b);
    let c = digit_images(4, 20, 32);
    assert_eq!(a.1, c.1);
    assert_ne!(a.0, c.0);
    // Every image is jittered: two '3's from one seed differ.
    let per = 32 * 32;
    assert_ne!(a.0[3 * per..4 * per], a.0[13 * per..14 * per]);
    // A longer set extends a shorter one.
    let d = digit_images(3, 30, 32);
    assert_eq!(d.0[..20 * per], a.0[..]);
    // Other sizes work and keep the range.
    let (big, _) = digit_images(3, 10, 64);
    assert_eq!(big.len(), 10 * 64 * 64);
    assert!(big.iter().all(|v| (-1.0..=1.0).contains(v)));
}

#[test]
fn digits_classes_have_distinct_means() {
    let per = 32 * 32;
    let (images, labels) = digit_images(5, 1000, 32);
    let mut means = vec![vec![0f64; per]; 10];
    for (img, &l) in images.chunks(per).zip(&labels) {
        for (m, &v) in means[l as usize].iter_mut().zip(img) {
            *m += v as f64 / 100.0;
        }
    }
    // Root-mean-square distance between class means, per pixel, on the [-1, 1] scale. Distinct
    // glyphs differ on a good part of their strokes; 0.15 is far above the sampling noise of a
    // 100-sample mean (per-pixel std ≤ 1, so ≈ 0.1 per pixel, ≈ 0.003 averaged over 1024).
    for a in 0..10 {
        for b in a + 1..10 {
            let d: f64 = means[a]
                .iter()
                .zip(&means[b])
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                / per as f64;
            let d = d.sqrt();
            assert!(d > 0.15, "mean images of {a} and {b} too close: {d:.3}");
        }
    }
}

/// Writes a `w x h` RGB image whose pixel is `f(x, y)`.
fn write_rgb(path: &PathBuf, w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    img.save(path).unwrap();
}

#[test]
fn image_dir_mixed_formats_and_a_corrupt_file() {
    let dir = TempDir::new("mixed");
    let sub = dir.0.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    write_rgb(&dir.0.join("a.png"), 37, 21, |x, y| {
        [x as u8 * 6, y as u8 * 10, 128]
    });
    write_rgb(&dir.0.join("b.JPG"), 50, 90, |_, y| [200, y as u8, 30]);
    write_rgb(&sub.join("c.bmp"), 16, 16, |x, _| [x as u8 * 16, 0, 255]);
    std::fs::write(dir.0.join("broken.png"), b"not a png at all").unwrap();
    std::fs::write(dir.0.join("notes.txt"), b"ignored").unwrap();
    // A PNG under a JPEG name: decoded by its bytes, not its extension.
    write_rgb(&dir.0.join("d.png"), 9, 9, |_, _| [0, 255, 0]);
    std::fs::rename(dir.0.join("d.png"), dir.0.join("d.jpeg")).unwrap();

    let set: ImageSet = load_image_dir(&dir.0, 24, 3).unwrap();
    assert_eq!(set.count, 4);
    assert_eq!(set.images.len(), 4 * 3 * 24 * 24);
    assert_eq!(set.per_image(), 3 * 24 * 24);
    assert!(set.images.iter().all(|v| (-1.0..=1.0).contains(v)));
    assert_eq!(set.skipped.len(), 1);
    assert!(set.skipped[0].0.ends_with("broken.png"));
    let summary = set.summary();
    assert!(summary.starts_with("loaded 4 images from "), "{summary}");
    assert!(summary.contains("(24x24 RGB)"), "{summary}");
    assert!(summary.contains("skipped 1: broken.png ("), "{summary}");

    // Sorted order: a.png, b.JPG, (broken.png skipped), d.jpeg, sub/c.bmp. b is red 200 everywhere
    // (JPEG is lossy: allow a few levels), c has blue 255.
    let per = 3 * 24 * 24;
    let b_red = &set.images[per..per + 24 * 24];
    let mean: f32 = b_red.iter().sum::<f32>() / b_red.len() as f32;
    assert!(
        (mean - (200.0 / 127.5 - 1.0)).abs() < 0.05,
        "b red mean {mean}"
    );
    let d_green = &set.images[2 * per + 24 * 24..2 * per + 2 * 24 * 24];
    assert!(d_green.iter().all(|&v| v > 0.95), "d green channel");
    let c_blue = &set.images[3 * per + 2 * 24 * 24..4 * per];
    assert!(c_blue.iter().all(|&v| v > 0.95), "c blue channel");

    let gray = load_image_dir(&dir.0, 8, 1).unwrap();
    assert_eq!(gray.images.len(), 4 * 8 * 8);
    assert!(gray.summary().contains("(8x8 gray)"));
}

/// A 54-byte BMP header for a `w x h` 24-bit image with no pixel data after it: what an
/// image bomb looks like to a header reader.
fn bmp_header(w: u32, h: u32) -> Vec<u8> {
    let row = (w as u64 * 3).div_ceil(4) * 4;
    let data = row * h as u64;
    let mut b = Vec::with_capacity(54);
    b.extend_from_slice(b"BM");
    b.extend_from_slice(&((54 + data).min(u32::MAX as u64) as u32).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&(w as i32).to_le_bytes());
    b.extend_from_slice(&(h as i32).to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&(data.min(u32::MAX as u64) as u32).to_le_bytes());
    b.extend_from_slice(&[0; 16]);
    b
}

#[test]
fn image_dir_refuses_huge_images_from_the_header() {
    // 9000 x 9000 is 81 Mpx (243 MB as RGB, under the image crate's own 512 MiB limit, so it
    // would be decoded in full); 20000 x 20000 is 400 Mpx. Both are refused from the header,
    // named, and the good image still loads; all of it in well under a second.
    let dir = TempDir::new("bomb");
    write_rgb(&dir.0.join("ok.png"), 12, 12, |x, y| {
        [(x * 20) as u8, (y * 20) as u8, 0]
    });
    std::fs::write(dir.0.join("bomb-81.bmp"), bmp_header(9000, 9000)).unwrap();
    std::fs::write(dir.0.join("bomb-400.bmp"), bmp_header(20000, 20000)).unwrap();
    let start = std::time::Instant::now();
    let (set, peak) = crate::meter::peak_during(|| load_image_dir(&dir.0, 8, 3).unwrap());
    let took = start.elapsed().as_secs_f64();
    // Nothing near a decoded bomb (243 MB) is ever held: a megabyte covers the small image.
    assert!(peak < 1 << 20, "held {peak} bytes");
    assert_eq!(set.count, 1);
    assert_eq!(set.skipped.len(), 2, "{:?}", set.skipped);
    for (path, why) in &set.skipped {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(name.starts_with("bomb-"), "{name}");
        assert!(why.contains("megapixel limit"), "{name}: {why}");
    }
    assert!(set.summary().contains("bomb-400.bmp"), "{}", set.summary());
    assert!(took < 1.0, "took {took:.2} s");
    assert_eq!(kiln::data::images::MAX_IMAGE_PIXELS, 64 << 20);
}

#[test]
fn image_dir_center_crop() {
    // 60 x 20: a black square [0, 20) | white middle [20, 40) split black/white at x = 30 |
    // white [40, 60). The centre crop is x in [20, 40): left half black, right half white.
    let dir = TempDir::new("crop");
    write_rgb(&dir.0.join("wide.png"), 60, 20, |x, _| {
        if x < 30 {
            [0, 0, 0]
        } else {
            [255, 255, 255]
        }
    });
    // And a tall one: 10 x 40, top 20 rows black, bottom white; the crop is rows [15, 25).
    write_rgb(&dir.0.join("tall.png"), 10, 40, |_, y| {
        if y < 20 {
            [0, 0, 0]
        } else {
            [255, 255, 255]
        }
    });
    let set = load_image_dir(&dir.0, 10, 1).unwrap();
    assert_eq!(set.count, 2);
    // Sorted: tall.png then wide.png. Away from the split (where Lanczos rings) pixels are
    // exact ends within filter overshoot clamping; test columns/rows 0-2 and 7-9.
    let (tall, wide) = set.images.split_at(100);
    for r in 0..10 {
        for c in [0, 1, 2] {
            assert!(wide[r * 10 + c] < -0.95, "wide left ({r}, {c})");
            assert!(wide[r * 10 + 9 - c] > 0.95, "wide right ({r}, {c})");
            assert!(tall[c * 10 + r] < -0.95, "tall top ({c}, {r})");
            assert!(tall[(9 - c) * 10 + r] > 0.95, "tall bottom ({c}, {r})");
        }
    }
    // The split sits in the middle: the image's mean is mid-gray.
    let mean: f32 = wide.iter().sum::<f32>() / 100.0;
    assert!(mean.abs() < 0.05, "wide mean {mean}");
}

#[test]
fn image_dir_errors() {
    let dir = TempDir::new("empty");
    let (path, message) = data_message(load_image_dir(&dir.0, 32, 1).unwrap_err());
    assert_eq!(path, dir.0.display().to_string());
    assert!(message.contains("no .png"), "{message}");

    std::fs::write(dir.0.join("x.jpg"), b"garbage").unwrap();
    let (path, message) = data_message(load_image_dir(&dir.0, 32, 1).unwrap_err());
    assert_eq!(path, dir.0.display().to_string());
    assert!(message.contains("x.jpg"), "{message}");

    let missing = dir.0.join("nope");
    let (path, message) = data_message(load_image_dir(&missing, 32, 1).unwrap_err());
    assert!(path.ends_with("nope"));
    assert!(message.contains("no such folder"), "{message}");

    let (_, message) = data_message(load_image_dir(&dir.0, 32, 2).unwrap_err());
    assert!(message.contains("not 2"), "{message}");
}

fn idx_images_file(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3];
    for v in [n, rows, cols] {
        bytes.extend(v.to_be_bytes());
    }
    bytes.extend(pixels);
    bytes
}

#[test]
fn idx_round_trip_and_padding() {
    let dir = TempDir::new("idx");
    let (n, rows, cols) = (3usize, 28usize, 28usize);
    let pixels: Vec<u8> = (0..n * rows * cols).map(|i| (i * 7 % 256) as u8).collect();
    let images_path = dir.0.join("images-idx3-ubyte");
    std::fs::write(&images_path, idx_images_file(3, 28, 28, &pixels)).unwrap();
    let labels_path = dir.0.join("labels-idx1-ubyte");
    let mut label_bytes = vec![0, 0, 8, 1, 0, 0, 0, 3];
    label_bytes.extend([7, 0, 9]);
    std::fs::write(&labels_path, &label_bytes).unwrap();

    let (got, gn, gr, gc) = read_idx_images(&images_path).unwrap();
    assert_eq!((gn, gr, gc), (n, rows, cols));
    assert_eq!(got, pixels);
    assert_eq!(read_idx_labels(&labels_path).unwrap(), vec![7, 0, 9]);

    // 28 → 32 pads 2 pixels of background on each side and keeps pixels exact.
    let f = idx_to_images(&got, n, rows, cols, 32);
    assert_eq!(f.len(), n * 32 * 32);
    for i in 0..n {
        for r in 0..32 {
            for c in 0..32 {
                let v = f[i * 1024 + r * 32 + c];
                if (2..30).contains(&r) && (2..30).contains(&c) {
                    let want = pixels[i * 784 + (r - 2) * 28 + c - 2] as f32 / 127.5 - 1.0;
                    assert!((v - want).abs() < 1e-6);
                } else {
                    assert_eq!(v, -1.0);
                }
            }
        }
    }
    // 28 → 14 resizes: a uniform image stays uniform.
    let flat = vec![255u8; 28 * 28];
    let small = idx_to_images(&flat, 1, 28, 28, 14);
    assert_eq!(small.len(), 14 * 14);
    assert!(small.iter().all(|&v| (v - 1.0).abs() < 1e-6));
}

#[test]
fn idx_errors() {
    let dir = TempDir::new("idxbad");
    let truncated = dir.0.join("short-idx3-ubyte");
    std::fs::write(&truncated, idx_images_file(2, 28, 28, &[0u8; 1000])).unwrap();
    let (path, message) = data_message(read_idx_images(&truncated).unwrap_err());
    assert!(path.ends_with("short-idx3-ubyte"));
    assert!(message.contains("truncated"), "{message}");

    let long = dir.0.join("long-idx3-ubyte");
    std::fs::write(&long, idx_images_file(1, 2, 2, &[0u8; 5])).unwrap();
    let (_, message) = data_message(read_idx_images(&long).unwrap_err());
    assert!(message.contains("size mismatch"), "{message}");

    let header_only = dir.0.join("hdr-idx1-ubyte");
    std::fs::write(&header_only, [0, 0, 8, 1, 0]).unwrap();
    let (_, message) = data_message(read_idx_labels(&header_only).unwrap_err());
    assert!(message.contains("truncated"), "{message}");

    let gz = dir.0.join("train-images-idx3-ubyte.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let (path, message) = data_message(read_idx_images(&gz).unwrap_err());
    assert!(path.ends_with(".gz"));
    assert!(message.contains("gunzip"), "{message}");
    assert!(message.contains("train-images-idx3-ubyte.gz"), "{message}");

    // Labels read as images: the magic is named.
    let labels = dir.0.join("labels-idx1-ubyte");
    std::fs::write(&labels, [0, 0, 8, 1, 0, 0, 0, 1, 5]).unwrap();
    let (_, message) = data_message(read_idx_images(&labels).unwrap_err());
    assert!(message.contains("0x00000801"), "{message}");
}

#[test]
fn batch_gathers_rows_in_order() {
    let images: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let batch = image_batch(&images, 3, &[2, 0, 2]);
    assert_eq!(batch, vec![6.0, 7.0, 8.0, 0.0, 1.0, 2.0, 6.0, 7.0, 8.0]);
    assert!(image_batch(&images, 3, &[]).is_empty());
}
