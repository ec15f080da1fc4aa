//! Pictures.
pub mod font;
pub mod grid;
pub mod heatmap;
pub mod plot;
