//! Sinusoidal positional encodings ("Attention Is All You Need", section 3.5).

use std::panic::Location;

use crate::error::{shape_error, Result};
use crate::graph::{Graph, Var};

/// The `[T, D]` table (row-major) `PE[pos, 2i] = sin(pos / 10000^(2i/D))`,
/// `PE[pos, 2i+1] = cos(pos / 10000^(2i/D))`. An odd `D` ends on a sine column.
pub fn sinusoidal_positions(t: usize, d: usize) -> Vec<f32> {
    let mut table = vec![0.0f32; t * d];
    for pos in 0..t {
        for c in 0..d {
            // Columns 2i and 2i+1 share the frequency of their even column.
            let even = (c - c % 2) as f64;
            let angle = pos as f64 / 10000f64.powf(even / d as f64);
            table[pos * d + c] = if c % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    table
}

/// Adds [`sinusoidal_positions`] to `x [B, T, D]`. The table is a graph constant of the graph's
/// own `T`, uploaded once when a plan is compiled; nothing is learned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PositionalEncoding;

impl PositionalEncoding {
    /// The (parameter-free) encoding.
    pub fn new() -> Self {
        PositionalEncoding
    }

    /// `x [B, T, D] -> x + PE [B, T, D]`, the table broadcast over the batch.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let at = Location::caller();
        let shape = g.shape(x)?.to_vec();
        let &[b, t, d] = shape.as_slice() else {
            return Err(shape_error("positional_encoding", "x [B, T, D]", &[&shape]).at(at));
        };
        let table = g.constant(&[t * d], &sinusoidal_positions(t, d))?;
        // add_row broadcasts a row over the leading axes: seen as [B, T·D], the whole table is
        // one row.
        let flat = g.reshape(x, &[b, t * d])?;
        let y = g.add_row(flat, table)?;
        g.reshape(y, &shape)
    }

    /// `x [B, 1, D]` at `position [B]` (u32) -> `x + PE[position]`: one decoding step's
    /// encoding, looked up in a `[window, D]` table (a graph constant). A position past the
    /// table reads zeros; decoders refuse such a step before it runs.
    #[track_caller]
    pub fn forward_at(&self, g: &mut Graph, x: Var, position: Var, window: usize) -> Result<Var> {
        let at = Location::caller();
        let shape = g.shape(x)?.to_vec();
        let &[b, 1, d] = shape.as_slice() else {
            return Err(shape_error("positional_encoding", "x [B, 1, D]", &[&shape]).at(at));
        };
        let table = g.constant(&[window, d], &sinusoidal_positions(window, d))?;
        let pe = g.embedding(position, table)?;
        let pe = g.reshape(pe, &[b, 1, d])?;
        g.add(x, pe)
    }
}
