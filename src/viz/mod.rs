//! PNG pictures of a training run that people look at: loss curves ([`plot::line_plot`]),
//! attention maps ([`heatmap::heatmap`]), sample grids ([`grid::image_grid`]) and bar charts
//! ([`bars::bar_chart`]), drawn on the
//! CPU with a hand-drawn [`font`] and written with the `image` crate.

pub mod bars;
pub mod font;
pub mod grid;
pub mod heatmap;
pub mod plot;

pub use bars::bar_chart;
pub use grid::image_grid;
pub use heatmap::heatmap;
pub use plot::line_plot;

use std::path::Path;

use image::RgbImage;

use crate::error::{Error, Result};

/// Writes `img` as a PNG, reporting failures as [`Error::Io`] naming the path.
fn save_png(img: &RgbImage, path: &Path) -> Result<()> {
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: format!("cannot write the PNG: {e}"),
        })
}
