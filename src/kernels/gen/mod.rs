//! Kernels generated in Rust: the entry points whose bodies must be unrolled.
//!
//! naga does not unroll loops, and llvmpipe keeps WGSL arrays (and registers indexed by a loop
//! counter) in memory, so the fastest kernels name every accumulator and every fetch: a 32x16
//! matmul tile is 512 scalars. Writing that by hand is unreadable and error-prone; committing
//! the output of a script means the text and its generator can drift. Instead each family is a
//! Rust function that prints its unrolled entry points from a few constants, appended at
//! pipeline-creation time to the family's hand-written part (`shaders/<family>.wgsl`: structs,
//! bindings, helpers and the kernels that need no unrolling). `tests/ops/shaders.rs` validates
//! the whole text with naga like every other shader, and [`crate::kernels::source`] returns it
//! for a reader who wants to see the kernel that runs.

mod attention_texture;
mod matmul_register;
mod matmul_texture;

/// A WGSL text built line by line.
#[derive(Default)]
pub(crate) struct Emitter {
    text: String,
}

impl Emitter {
    /// Appends one line (its indentation included).
    pub(crate) fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    /// The text, without its last newline (the caller joins entry points).
    pub(crate) fn finish(mut self) -> String {
        self.text.pop();
        self.text
    }
}

/// `w!(e, "format", args..)`: one formatted line into emitter `e`.
macro_rules! w {
    ($e:expr, $($fmt:tt)*) => {
        $e.line(format!($($fmt)*))
    };
}
pub(crate) use w;

/// The generated entry points of shader `name`, or `None` for a shader that is only its file.
pub(crate) fn entry_points(name: &str) -> Option<String> {
    match name {
        "matmul_register" => Some(matmul_register::entry_points()),
        "matmul_texture" => Some(matmul_texture::entry_points()),
        "attention_texture" => Some(attention_texture::entry_points()),
        _ => None,
    }
}
