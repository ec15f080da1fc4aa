//! Placeholder: filled in by the optim work.
