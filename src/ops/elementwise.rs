//! Placeholder: filled in by the elementwise work.
