//! `matmul_forward` of `shaders/matmul/texture.wgsl` (see its header for the layout): one
//! invocation accumulates a `TM x TN` block of C, four k-steps per pass, `TM + TN` texel
//! fetches feeding `4·TM·TN` FMAs, every accumulator and operand a named scalar or vec4. Both
//! operands arrive packed with K along their texels, so there is one body for every transpose.

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
    e.line("    let b_base = wid.z * p.b_batch_texels;");
    e.line("    let aw = p.a_row_texels;");
    e.line("    let bw = p.b_row_texels;");
    for i in 0..TM {
        for j in 0..TN {
            w!(e, "    var c{i}_{j} = 0.0;");
        }
    }
    e.line("    for (var ks = 0u; ks < p.k_steps; ks++) {");
    e.line("        // texels hold 4 k-values of one row of op(A), of one column of op(B)");
    e.line("        let at = a_base + row0 * aw + ks;");
    for i in 0..TM {
        w!(
            e,
            "        let a{i} = textureLoad(ta, texel_at(at + {i}u * aw), 0);"
        );
    }
    e.line("        let bt = b_base + col0 * bw + ks;");
    for j in 0..TN {
        w!(
            e,
            "        let b{j} = textureLoad(tb, texel_at(bt + {j}u * bw), 0);"
        );
    }
    for i in 0..TM {
        for j in 0..TN {
            let terms: Vec<String> = "xyzw"
                .chars()
                .map(|x| format!("a{i}.{x} * b{j}.{x}"))
                .collect();
            w!(e, "        c{i}_{j} = c{i}_{j} + {};", terms.join(" + "));
        }
    }
    e.line("    }");
    e.line("    let c_base = wid.z * p.m * p.n;");
    for j in 0..TN {
        w!(e, "    var bias{j} = 0.0;");
    }
    e.line("    if p.has_bias != 0u {");
    for j in 0..TN {
        w!(e, "        bias{j} = bias[min(col0 + {j}u, p.n - 1u)];");
    }
    e.line("    }");
    for i in 0..TM {
        w!(e, "    if row0 + {i}u < p.m {{");
        w!(e, "        let r = c_base + (row0 + {i}u) * p.n + col0;");
        match store {
            Store::Scalar => {
                for j in 0..TN {
                    w!(
                        e,
                        "        if col0 + {j}u < p.n {{ c[r + {j}u] = c{i}_{j} + bias{j}; }}"
                    );
                }
            }
            Store::Vec4 => {
                for g in 0..TN / 4 {
                    let comps: Vec<String> = (4 * g..4 * g + 4)
                        .map(|j| format!("c{i}_{j} + bias{j}"))
                        .collect();
                    w!(
                        e,
                        "        if col0 + {}u < p.n {{ c4[r / 4u + {g}u] = vec4<f32>({}); }}",
                        4 * g,
                        comps.join(", ")
                    );
                }
            }
        }
        e.line("    }");
    }
    e.line("}");
    e.finish()
}
