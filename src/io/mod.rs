//! Files a training run leaves behind and reads back: [`checkpoint`]s of parameters, optimizer
//! state and metadata in the safetensors format.

pub mod checkpoint;

pub use checkpoint::{load, restore, save, write_atomically, Checkpoint, CHECKPOINT_FILE};
