//! `matmul_forward` of `shaders/matmul/texture.wgsl` (see its header for the layout): one
//! invocation accumulates a `TM x TN` block of C, four k-steps per pass, `TM + TN` texel
//! fetches feeding `4·TM·TN` FMAs, every accumulator and operand a named vec4. Both operands
//! arrive packed as op(A) and op(B) row-major, A's texels 4 k-values of a row, B's 4 columns of
//! a k-row; so there is one body for every transpose, and each k-value of A scales a texel of
//! B into a vec4 of accumulators (`TM·TN/4` of them: vector FMAs, and a quarter of the values
//! LLVM allocates registers for).

use super::{w, Emitter};

/// Rows of C per invocation.
pub(crate) const TM: usize = 32;
/// Columns of C per invocation.
pub(crate) const TN: usize = 16;

pub(super) fn entry_points() -> String {
    [forward(Store::Scalar), forward(Store::Vec4)].join("\n\n")
}

/// How an invocation stores its block of C.
#[derive(Clone, Copy, PartialEq)]
enum Store {
    /// `matmul_forward`: element by element, each behind its bounds check, for any N.
    Scalar,
    /// `matmul_forward4`: `TN / 4` vec4 stores a row, for N a multiple of 4 (rows start on
    /// whole vec4s). On lavapipe each storage access is a loop over the lanes, so this is a
    /// quarter of the epilogue's loops, and half the LLVM time of the whole kernel (1.2 s
    /// against 2.3 s at its first dispatch).
    Vec4,
}

fn forward(store: Store) -> String {
    let groups = TN / 4;
    let mut e = Emitter::default();
    e.line("@compute @workgroup_size(8, 1, 1)");
    match store {
        Store::Scalar => e.line("fn matmul_forward("),
        Store::Vec4 => e.line("fn matmul_forward4("),
    }
    e.line("    @builtin(workgroup_id) wid: vec3<u32>,");
    e.line("    @builtin(local_invocation_index) lid: u32,");
    e.line(") {");
    e.line("    let p = params;");
    e.line("    let lanes_m = 8u / p.lanes_n;");
    w!(
        e,
        "    let row0 = (wid.y * lanes_m + lid / p.lanes_n) * {TM}u;"
    );
    w!(
        e,
        "    let col0 = (wid.x * p.lanes_n + lid % p.lanes_n) * {TN}u;"
    );
    e.line("    let a_base = wid.z * p.a_batch_texels;");
    e.line("    let b_base = wid.z * p.b_batch_texels + col0 / 4u;");
    e.line("    let aw = p.a_row_texels;");
    e.line("    let bw = p.b_row_texels;");
    e.line("    // c{i}_{g}: row row0 + i, columns col0 + 4g .. + 4");
    for i in 0..TM {
        for g in 0..groups {
            w!(e, "    var c{i}_{g} = vec4(0.0);");
        }
    }
    e.line("    for (var ks = 0u; ks < p.k_steps; ks++) {");
    e.line("        // A: texels of 4 k-values of one row of op(A)");
    e.line("        let at = a_base + row0 * aw + ks;");
    for i in 0..TM {
        w!(
            e,
            "        let a{i} = textureLoad(ta, texel_at(at + {i}u * aw), 0);"
        );
    }
    e.line("        // B: k-rows of op(B), 4 columns a texel; rows past K read as zeros (A's");
    e.line("        // texels are zero there, but what the texture holds may not be finite)");
    e.line("        let k0 = ks * 4u;");
    e.line("        let bt = b_base + k0 * bw;");
    for kk in 0..4 {
        for g in 0..groups {
            let load = format!("textureLoad(tb, texel_at(bt + {kk}u * bw + {g}u), 0)");
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
    for i in 0..TM {
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
    for i in 0..TM {
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
