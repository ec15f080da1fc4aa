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
//! for a reader who wants to see the kernel that runs (`KILN_DUMP_WGSL=DIR` writes every module
//! a run creates).
//!
//! A family whose unrolled sizes vary takes a typed tile ([`AttentionTile`]); [`Generated`]
//! names one family at one tile, and is part of the pipeline key, so each tile is its own
//! module and its own pipelines. [`Generated::all`] lists every one any op may choose, which is
//! what `tests/ops/shaders.rs` validates.
//!
//! To add a family: a `gen/<family>.rs` with a function that returns the entry points (built
//! with [`Emitter`] and [`w!`]) from its tile, a `Generated` variant for it (its shader file in
//! [`Generated::shader`], every tile in [`Generated::all`]), and the op's `Kernel` built with
//! [`crate::kernels::Kernel::generated`].

mod attention_texture;
mod matmul_register;
mod matmul_texture;

pub use attention_texture::AttentionTile;
pub use matmul_texture::MatmulTile;

/// One generated family at one tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Generated {
    /// `shaders/matmul/register.wgsl`'s 32x32 block.
    MatmulRegister,
    /// `shaders/matmul/texture.wgsl`'s multiply at one tile.
    MatmulTexture(MatmulTile),
    /// `shaders/attention_texture.wgsl`'s forward, dQ and dK/dV at one tile.
    AttentionTexture(AttentionTile),
}

impl Generated {
    /// Every generated module an op may create: each family at each of its tiles.
    pub fn all() -> Vec<Generated> {
        let mut all = vec![Generated::MatmulRegister];
        all.extend(MatmulTile::ALL.map(Generated::MatmulTexture));
        all.extend(AttentionTile::ALL.map(Generated::AttentionTexture));
        all
    }

    /// Whether the module uses subgroup operations (a tile with broadcast).
    pub fn uses_subgroups(&self) -> bool {
        match self {
            Generated::MatmulRegister => false,
            Generated::MatmulTexture(t) => t.broadcast,
            Generated::AttentionTexture(t) => t.broadcast,
        }
    }

    /// The hand-written file (by stem in [`crate::kernels::SHADERS`]) the entry points join.
    pub fn shader(&self) -> &'static str {
        match self {
            Generated::MatmulRegister => "matmul_register",
            Generated::MatmulTexture(_) => "matmul_texture",
            Generated::AttentionTexture(_) => "attention_texture",
        }
    }

    /// The family's first tile (one without subgroups), for a kernel that names none.
    pub fn default_for(shader: &str) -> Option<Generated> {
        Generated::all().into_iter().find(|g| g.shader() == shader)
    }

    /// `shader` or `shader.<tile>`: the module's label and its file name when dumped.
    pub fn module_name(&self) -> String {
        match self {
            Generated::AttentionTexture(t) => format!("{}.{}", self.shader(), t.name()),
            Generated::MatmulTexture(t) => format!("{}.{}", self.shader(), t.name()),
            Generated::MatmulRegister => self.shader().to_string(),
        }
    }

    /// The generated entry points.
    pub(crate) fn entry_points(&self) -> String {
        match self {
            Generated::MatmulRegister => matmul_register::entry_points(),
            Generated::MatmulTexture(t) => matmul_texture::entry_points(t),
            Generated::AttentionTexture(t) => attention_texture::entry_points(t),
        }
    }
}

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
