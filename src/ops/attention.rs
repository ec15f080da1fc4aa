//! Placeholder: filled in by the attention work.
