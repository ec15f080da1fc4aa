//! Placeholder: filled in by the embedding work.
