//! `matmul_forward` of `shaders/matmul/texture.wgsl` (see its header for the layout): one
//! invocation accumulates a `TM x TN` block of C, four k-steps per pass, `TM + TN` texel
//! fetches feeding `4·TM·TN` FMAs, every accumulator and operand a named scalar or vec4.

use super::{w, Emitter};

/// Rows of C per invocation.
pub(crate) const TM: usize = 32;
/// Columns of C per invocation.
pub(crate) const TN: usize = 16;

pub(super) fn entry_points() -> String {
    let mut e = Emitter::default();
    e.line("@compute @workgroup_size(8, 1, 1)");
    e.line("fn matmul_forward(");
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
    // Operand values for one pass: a{i} is row i's 4 k-values, b{j} column j's.
    for i in 0..TM {
        w!(e, "    var a{i}: vec4<f32>;");
    }
    for j in 0..TN {
        w!(e, "    var b{j}: vec4<f32>;");
    }
    e.line("    for (var ks = 0u; ks < p.k_steps; ks++) {");
    e.line("        if TRANS_A {");
    e.line(
        "            // texels hold 4 rows of one k: rows k = 4ks + s, texel column row0 / 4 + g",
    );
    e.line("            let at = a_base + ks * 4u * aw + row0 / 4u;");
    fetch_transposed(&mut e, "x", "ta", "at", "aw", TM);
    for i in 0..TM {
        w!(e, "            a{i} = {};", gathered("x", i));
    }
    e.line("        } else {");
    e.line("            // texels hold 4 k-values of one row");
    e.line("            let at = a_base + row0 * aw + ks;");
    for i in 0..TM {
        w!(
            e,
            "            a{i} = textureLoad(ta, texel_at(at + {i}u * aw), 0);"
        );
    }
    e.line("        }");
    e.line("        if TRANS_B {");
    e.line("            // texels hold 4 k-values of one column");
    e.line("            let bt = b_base + col0 * bw + ks;");
    for j in 0..TN {
        w!(
            e,
            "            b{j} = textureLoad(tb, texel_at(bt + {j}u * bw), 0);"
        );
    }
    e.line("        } else {");
    e.line("            // texels hold 4 columns of one k");
    e.line("            let bt = b_base + ks * 4u * bw + col0 / 4u;");
    fetch_transposed(&mut e, "y", "tb", "bt", "bw", TN);
    for j in 0..TN {
        w!(e, "            b{j} = {};", gathered("y", j));
    }
    e.line("        }");
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
        for j in 0..TN {
            w!(
                e,
                "        if col0 + {j}u < p.n {{ c[r + {j}u] = c{i}_{j} + bias{j}; }}"
            );
        }
        e.line("    }");
    }
    e.line("}");
    e.finish()
}

/// `{v}{s}_{g}`: texel g (of `count / 4`) of the 4 k-rows s of a transposed operand.
fn fetch_transposed(e: &mut Emitter, v: &str, tex: &str, base: &str, width: &str, count: usize) {
    for s in 0..4 {
        for g in 0..count / 4 {
            w!(e, "            let {v}{s}_{g} = textureLoad({tex}, texel_at({base} + {s}u * {width} + {g}u), 0);");
        }
    }
}

/// Element `i`'s 4 k-values gathered from the transposed texels `{v}{s}_{g}`.
fn gathered(v: &str, i: usize) -> String {
    let (g, c) = (i / 4, i % 4);
    let comps: Vec<String> = (0..4).map(|s| format!("{v}{s}_{g}[{c}]")).collect();
    format!("vec4<f32>({})", comps.join(", "))
}
