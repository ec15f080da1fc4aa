//! `matmul_block` of `shaders/matmul/register.wgsl` (see its header): one invocation's
//! `T x T` block of C from storage buffers, rows `row0 ..`, columns `col_base + j·col_step`,
//! every accumulator a named scalar: per k, `T + T` loads feed `T·T` FMAs.

use super::{w, Emitter};

/// Rows and columns of C per invocation (`TM`, `TN` in the file).
const T: usize = 32;
/// FMAs written per line in the k loop.
const FMAS_PER_LINE: usize = 8;

pub(super) fn entry_points() -> String {
    let mut e = Emitter::default();
    w!(e, "// One invocation's {T}x{T} block of C: rows row0 .. row0 + {}, columns col_base + j·col_step for", T - 1);
    w!(
        e,
        "// j < {T}, batch bat. Both entry points differ only in how lanes map to blocks."
    );
    e.line("fn matmul_block(row0: u32, col_base: u32, col_step: u32, bat: u32) {");
    for line in [
        "    let a_base = bat * params.a_batch_stride;",
        "    let b_base = bat * params.b_batch_stride;",
        "    var a_rs = params.k;",
        "    var a_ks = 1u;",
        "    if params.trans_a != 0u {",
        "        a_rs = 1u;",
        "        a_ks = params.m;",
        "    }",
        "    var b_cs = 1u;",
        "    var b_ks = params.n;",
        "    if params.trans_b != 0u {",
        "        b_cs = params.k;",
        "        b_ks = 1u;",
        "    }",
        "    let last_row = params.m - 1u;",
        "    let last_col = params.n - 1u;",
    ] {
        e.line(line);
    }
    // Clamped row and column bases: edge rows and columns load valid elements, never stored.
    for i in 0..T {
        w!(
            e,
            "    let a{i} = a_base + min(row0 + {i}u, last_row) * a_rs;"
        );
    }
    for j in 0..T {
        w!(e, "    let col{j} = col_base + {j}u * col_step;");
        w!(e, "    let b{j} = b_base + min(col{j}, last_col) * b_cs;");
    }
    for i in 0..T {
        let vars: Vec<String> = (0..T).map(|j| format!("var c{i}_{j} = 0.0;")).collect();
        w!(e, "    {}", vars.join(" "));
    }
    e.line("    for (var kk = 0u; kk < params.k; kk++) {");
    e.line("        let ak = kk * a_ks;");
    e.line("        let bk = kk * b_ks;");
    for j in 0..T {
        w!(e, "        let y{j} = b[b{j} + bk];");
    }
    for i in 0..T {
        w!(e, "        let x{i} = a[a{i} + ak];");
        for chunk in (0..T).collect::<Vec<_>>().chunks(FMAS_PER_LINE) {
            let fmas: Vec<String> = chunk
                .iter()
                .map(|j| format!("c{i}_{j} = fma(x{i}, y{j}, c{i}_{j});"))
                .collect();
            w!(e, "        {}", fmas.join(" "));
        }
    }
    e.line("    }");
    for j in 0..T {
        w!(e, "    if col{j} < params.n {{");
        w!(e, "        var bias{j} = 0.0;");
        e.line("        if params.has_bias != 0u {");
        w!(e, "            bias{j} = bias[col{j}];");
        e.line("        }");
        for i in 0..T {
            w!(e, "        if row0 + {i}u < params.m {{ c[(bat * params.m + row0 + {i}u) * params.n + col{j}] = c{i}_{j} + bias{j}; }}");
        }
        e.line("    }");
    }
    e.line("}");
    e.finish()
}
