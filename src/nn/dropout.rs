//! `Dropout`: inverted dropout as a layer.

use crate::error::{Error, Result};
use crate::graph::{Graph, Var};

/// Zeroes each element with probability `p` and scales the rest by `1/(1 - p)` in
/// [`Mode::Train`](crate::Mode::Train); the identity in [`Mode::Eval`](crate::Mode::Eval).
/// Shape-preserving: `x [..] -> [..]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// Drop probability, in `[0, 1)`.
    pub p: f32,
}

impl Dropout {
    /// Dropout with drop probability `p` in `[0, 1)`.
    pub fn new(p: f32) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::Graph(format!(
                "dropout probability {p} is outside [0, 1)"
            )));
        }
        Ok(Dropout { p })
    }

    /// `x` with dropout applied; `p == 0` returns `x` itself and adds no node.
    #[track_caller]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        if self.p == 0.0 {
            return Ok(x);
        }
        g.dropout(x, self.p)
    }
}
