//! `matmul_forward` of `shaders/matmul/texture.wgsl` (see its header for the layout): one
//! invocation accumulates a `TM x TN` block of C ([`MatmulTile`]), four k-steps per pass,
//! `TM + TN` texel fetches feeding `4·TM·TN` FMAs, every accumulator and operand a named vec4. Both operands
//! arrive packed as op(A) and op(B) row-major, A's texels 4 k-values of a row, B's 4 columns of
//! a k-row; so there is one body for every transpose, and each k-value of A scales a texel of
//! B into a vec4 of accumulators (`TM·TN/4` of them: vector FMAs, and a quarter of the values
//! LLVM allocates registers for).

use super::{w, Emitter};

/// What the generator takes: one invocation's block of C and whether lanes share fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatmulTile {
    /// Rows of C per invocation (`TM`): a multiple of 8.
    pub rows: usize,
    /// Columns of C per invocation (`TN`): a multiple of 8.
    pub cols: usize,
    /// Adds the `*_share_a` and `*_share_b` entry points, whose lanes fetch what they have in
    /// common once between them and hand it round with subgroup broadcasts (needs subgroups,
    /// [`crate::Context::subgroups`]).
    pub broadcast: bool,
}

impl MatmulTile {
    /// Every tile the variant race may choose (`kernels::variants`).
    ///
    /// With broadcast, a k-step of a lane sharing A's rows fetches `rows / 8 + cols` texels
    /// for `4·rows·cols` FMAs: 20 for 2,048 at 32x16, 16 at 64x8 (the same accumulators).
    /// Without, `rows + cols`: 48 at 32x16. Measured on lavapipe (two cores, 1024³): 36 GFLOP/s
    /// at 32x16, 51 with broadcast.
    pub const ALL: [MatmulTile; 3] = [
        MatmulTile::new(32, 16, false),
        MatmulTile::new(32, 16, true),
        MatmulTile::new(64, 8, true),
    ];

    const fn new(rows: usize, cols: usize, broadcast: bool) -> MatmulTile {
        MatmulTile {
            rows,
            cols,
            broadcast,
        }
    }

    /// The tile a context uses when nothing measured or pinned one, and the incumbent a
    /// challenger must beat by the race's margin: 64x8 with broadcast where the context has
    /// subgroups ([`crate::Context::subgroups`]), else 32x16. Measured on lavapipe, the 2-layer
    /// LM's step is 199-212 ms at 32x16 with broadcast and 199-208 ms at 64x8, but from 64
    /// columns every multiply of that model takes 64x8's shared-rows entry point, so its
    /// first step compiles one multiply pipeline, not two: 4.3-4.4 s cold, against 5.4 s.
    pub fn default_for(subgroups: bool) -> MatmulTile {
        if subgroups {
            MatmulTile::new(64, 8, true)
        } else {
            MatmulTile::new(32, 16, false)
        }
    }

    /// A short name for reports, the tuning file and [`crate::kernels::ENV_MATMUL_TILE`]:
    /// `m32n16`, `m32n16b` with broadcast.
    pub fn name(&self) -> String {
        let b = if self.broadcast { "b" } else { "" };
        format!("m{}n{}{b}", self.rows, self.cols)
    }

    /// The tile of [`Self::ALL`] named `name` (as [`Self::name`] writes it, case-insensitive).
    pub fn parse(name: &str) -> Option<MatmulTile> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

pub(super) fn entry_points(t: &MatmulTile) -> String {
    let shares: &[Share] = if t.broadcast {
        &[Share::None, Share::Rows, Share::Cols]
    } else {
        &[Share::None]
    };
    let mut entries = Vec::new();
    for &share in shares {
        for store in [Store::Scalar, Store::Vec4] {
            entries.push(forward(t, store, share));
        }
    }
    entries.join("\n\n")
}

/// What the 8 lanes of a workgroup have in common, and so fetch once between them and hand
/// round with subgroup broadcasts.
#[derive(Clone, Copy, PartialEq)]
enum Share {
    /// Nothing: lanes_n lanes along N, the rest along M (`matmul_forward`, `matmul_forward4`).
    None,
    /// The rows (all 8 lanes along N): each lane fetches `rows / 8` of the `rows` A texels of a
    /// k-step (`*_share_a`).
    Rows,
    /// The columns (all 8 lanes along M): each lane fetches `cols / 8` of the `cols` B texels of a
    /// k-step (`*_share_b`).
    Cols,
}

impl Share {
    fn suffix(self) -> &'static str {
        match self {
            Share::None => "",
            Share::Rows => "_share_a",
            Share::Cols => "_share_b",
        }
    }
}

/// How an invocation stores its block of C.
#[derive(Clone, Copy, PartialEq)]
enum Store {
    /// `matmul_forward`: element by element, each behind its bounds check, for any N.
    Scalar,
    /// `matmul_forward4`: `cols / 4` vec4 stores a row, for N a multiple of 4 (rows start on
    /// whole vec4s). On lavapipe each storage access is a loop over the lanes, so this is a
    /// quarter of the epilogue's loops, and half the LLVM time of the whole kernel (1.2 s
    /// against 2.3 s at its first dispatch).
    Vec4,
}

fn forward(t: &MatmulTile, store: Store, share: Share) -> String {
    let (tm, tn) = (t.rows, t.cols);
    let groups = tn / 4;
    let mut e = Emitter::default();
    e.line("@compute @workgroup_size(8, 1, 1)");
    let four = if store == Store::Vec4 { "4" } else { "" };
    w!(e, "fn matmul_forward{four}{}(", share.suffix());
    e.line("    @builtin(workgroup_id) wid: vec3<u32>,");
    e.line("    @builtin(local_invocation_index) lid: u32,");
    if share != Share::None {
        e.line("    @builtin(subgroup_invocation_id) sid: u32,");
    }
    e.line(") {");
    e.line("    let p = params;");
    match share {
        Share::None => {
            e.line("    let lanes_m = 8u / p.lanes_n;");
            w!(
                e,
                "    let row0 = (wid.y * lanes_m + lid / p.lanes_n) * {tm}u;"
            );
            w!(
                e,
                "    let col0 = (wid.x * p.lanes_n + lid % p.lanes_n) * {tn}u;"
            );
        }
        Share::Rows => {
            w!(e, "    let row0 = wid.y * {tm}u;");
            w!(e, "    let col0 = (wid.x * 8u + sid) * {tn}u;");
        }
        Share::Cols => {
            w!(e, "    let row0 = (wid.y * 8u + sid) * {tm}u;");
            w!(e, "    let col0 = wid.x * {tn}u;");
        }
    }
    e.line("    let a_base = wid.z * p.a_batch_texels;");
    e.line("    let b_base = wid.z * p.b_batch_texels + col0 / 4u;");
    e.line("    let aw = p.a_row_texels;");
    e.line("    let bw = p.b_row_texels;");
    e.line("    // c{i}_{g}: row row0 + i, columns col0 + 4g .. + 4");
    for i in 0..tm {
        for g in 0..groups {
            w!(e, "    var c{i}_{g} = vec4(0.0);");
        }
    }
    e.line("    for (var ks = 0u; ks < p.k_steps; ks++) {");
    e.line("        // A: texels of 4 k-values of one row of op(A)");
    e.line("        let at = a_base + row0 * aw + ks;");
    if share == Share::Rows {
        for h in 0..tm / 8 {
            w!(
                e,
                "        let al{h} = textureLoad(ta, texel_at(at + ({}u + sid) * aw), 0);",
                8 * h
            );
        }
        for i in 0..tm {
            w!(
                e,
                "        let a{i} = subgroupBroadcast(al{}, {}u);",
                i / 8,
                i % 8
            );
        }
    } else {
        for i in 0..tm {
            w!(
                e,
                "        let a{i} = textureLoad(ta, texel_at(at + {i}u * aw), 0);"
            );
        }
    }
    e.line("        // B: k-rows of op(B), 4 columns a texel; rows past K read as zeros (A's");
    e.line("        // texels are zero there, but what the texture holds may not be finite)");
    e.line("        let k0 = ks * 4u;");
    e.line("        let bt = b_base + k0 * bw;");
    if share == Share::Cols {
        // Texel q = kk * groups + g of the k-step's 4 x groups, lane sid fetching q = 8h + sid.
        for h in 0..4 * groups / 8 {
            w!(e, "        let bq{h} = {}u + sid;", 8 * h);
            w!(
                e,
                "        let bl{h} = textureLoad(tb, texel_at(bt + (bq{h} / {groups}u) * bw + bq{h} % {groups}u), 0);"
            );
        }
    }
    for kk in 0..4 {
        for g in 0..groups {
            let load = if share == Share::Cols {
                let q = kk * groups + g;
                format!("subgroupBroadcast(bl{}, {}u)", q / 8, q % 8)
            } else {
                format!("textureLoad(tb, texel_at(bt + {kk}u * bw + {g}u), 0)")
            };
            if kk == 0 {
                w!(e, "        let b{kk}_{g} = {load};");
            } else {
                w!(
                    e,
                    "        let b{kk}_{g} = select(vec4(0.0), {load}, k0 + {kk}u < p.k);"
                );
            }
        }
    }
    for i in 0..tm {
        for g in 0..groups {
            w!(
                e,
                "        c{i}_{g} = c{i}_{g} + a{i}.x * b0_{g} + a{i}.y * b1_{g} + a{i}.z * b2_{g} + a{i}.w * b3_{g};"
            );
        }
    }
    e.line("    }");
    e.line("    let c_base = wid.z * p.m * p.n;");
    for g in 0..groups {
        w!(e, "    var bias{g} = vec4(0.0);");
    }
    e.line("    if p.has_bias != 0u {");
    for g in 0..groups {
        let comps: Vec<String> = (0..4)
            .map(|c| format!("bias[min(col0 + {}u, p.n - 1u)]", 4 * g + c))
            .collect();
        w!(e, "        bias{g} = vec4({});", comps.join(", "));
    }
    e.line("    }");
    for i in 0..tm {
        w!(e, "    if row0 + {i}u < p.m {{");
        w!(e, "        let r = c_base + (row0 + {i}u) * p.n + col0;");
        match store {
            Store::Scalar => {
                for g in 0..groups {
                    w!(e, "        let v{g} = c{i}_{g} + bias{g};");
                    for (c, x) in "xyzw".chars().enumerate() {
                        let j = 4 * g + c;
                        w!(
                            e,
                            "        if col0 + {j}u < p.n {{ c[r + {j}u] = v{g}.{x}; }}"
                        );
                    }
                }
            }
            Store::Vec4 => {
                for g in 0..groups {
                    w!(
                        e,
                        "        if col0 + {}u < p.n {{ c4[r / 4u + {g}u] = c{i}_{g} + bias{g}; }}",
                        4 * g
                    );
                }
            }
        }
        e.line("    }");
    }
    e.line("}");
    e.finish()
}
