//! The fused-attention kernels of `shaders/attention_texture.wgsl` (see its header): forward,
//! dQ and dK/dV, `R` rows per invocation over blocks of `KB` keys (queries for dK/dV). The
//! per-row accumulators (O, dQ, dK, dV: `R` rows x D) are indexed by the head-dimension chunk,
//! so that loop is unrolled, for D up to `4·max_d4`, each chunk behind `if g < D4` (an override
//! constant, folded when the pipeline is made). Loops whose accumulators do not depend on the
//! chunk (the score dot products) stay loops.

use super::{w, Emitter};

/// What the generator takes: the unrolled sizes of one invocation's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttentionTile {
    /// Rows (queries, or keys in dK/dV) per invocation.
    pub rows: usize,
    /// Keys (or queries in dK/dV) per block.
    pub keys: usize,
    /// Texel columns of the head dimension unrolled: head sizes up to `4·max_d4`.
    pub max_d4: usize,
    /// The workgroup's 8 lanes share each block's keys (queries in dK/dV): a lane fetches
    /// `keys / 8` of them and subgroup broadcasts hand them round, where without it every lane
    /// fetches all `keys` (the same texels). Needs subgroups ([`crate::Context::subgroups`]).
    pub broadcast: bool,
}

impl AttentionTile {
    /// Every tile `ops::attention` may run: for short sequences 4 rows and 8-key blocks, for
    /// long ones 8 rows and 16-key blocks, each for head sizes up to 64 and up to 128.
    ///
    /// Measured on lavapipe (two cores). Long: at D = 128, B8 H8 T256, forward / fwd+bwd,
    /// 8 rows 95 / 404 ms, 4 rows 131 / 547, 2 rows 212 / 857; 4 rows with 8-key blocks
    /// 136 / 566; at D = 64, T256, fwd+bwd 8 rows with 16 keys 211 ms, 4 rows with 8 keys
    /// 309. Short: in the 2-layer LM step (T64, D32) the three kernels take 30-33 ms at every
    /// tile, but their LLVM time at the first dispatch is 7.1 s with 8 rows and 16 keys,
    /// 4.8 s with 8 and 8, 2.3 s with 4 and 16 and 1.6 s with 4 and 8: a cold first step is
    /// mostly this compile, so short sequences take the small tile.
    ///
    /// Each comes with and without broadcast. With it, at B8 H8 T256 (the long tiles), the
    /// kernels of D = 128 went from 69 / 143 / 107 ms (forward / dK,dV / dQ) to 43 / 100 / 77,
    /// of D = 64 from 34 / 70 / 52 to 22 / 44 / 33; 8 rows with 32-key blocks and broadcast
    /// measured slower (50 ms forward, 116 dK,dV at D = 128), 16 rows took minutes of LLVM.
    pub const ALL: [AttentionTile; 8] = [
        AttentionTile::new(4, 8, 16, false),
        AttentionTile::new(4, 8, 32, false),
        AttentionTile::new(8, 16, 16, false),
        AttentionTile::new(8, 16, 32, false),
        AttentionTile::new(4, 8, 16, true),
        AttentionTile::new(4, 8, 32, true),
        AttentionTile::new(8, 16, 16, true),
        AttentionTile::new(8, 16, 32, true),
    ];

    /// Query and key counts from which the long tiles are used.
    pub const LONG: usize = 128;

    const fn new(rows: usize, keys: usize, max_d4: usize, broadcast: bool) -> AttentionTile {
        AttentionTile {
            rows,
            keys,
            max_d4,
            broadcast,
        }
    }

    /// The tile for head size `d` (a multiple of 4) over `tq` queries and `tk` keys: the
    /// smallest head-size class that holds `d`, long tiles once both counts reach
    /// [`Self::LONG`], with broadcast or not as asked; `None` past the largest head size.
    pub fn for_shape(d: usize, tq: usize, tk: usize, broadcast: bool) -> Option<AttentionTile> {
        let long = tq.min(tk) >= Self::LONG;
        Self::ALL
            .into_iter()
            .find(|t| (t.rows == 8) == long && 4 * t.max_d4 >= d && t.broadcast == broadcast)
    }

    /// The largest head size any tile holds.
    pub const fn max_head_dim() -> usize {
        4 * Self::ALL[Self::ALL.len() - 1].max_d4
    }

    /// Rows one workgroup covers: 8 lanes of `rows` rows.
    pub fn rows_per_group(&self) -> usize {
        8 * self.rows
    }

    /// A short name for file names and labels: `r8k16d64`, `r8k16d64b` with broadcast.
    pub fn name(&self) -> String {
        let b = if self.broadcast { "b" } else { "" };
        format!("r{}k{}d{}{b}", self.rows, self.keys, 4 * self.max_d4)
    }
}

pub(super) fn entry_points(t: &AttentionTile) -> String {
    [forward(t), dq(t), dkdv(t)].join("\n\n")
}

/// `j0 + 0.. j0 + t.keys - 1` as `+`-joined `f(j)` terms.
fn sum(t: &AttentionTile, f: impl Fn(usize) -> String) -> String {
    (0..t.keys).map(f).collect::<Vec<_>>().join(" + ")
}

fn open(e: &mut Emitter, t: &AttentionTile, name: &str) {
    e.line("@compute @workgroup_size(8)");
    w!(e, "fn {name}(");
    e.line("    @builtin(workgroup_id) wid: vec3<u32>,");
    e.line("    @builtin(local_invocation_index) lid: u32,");
    if t.broadcast {
        e.line("    @builtin(subgroup_invocation_id) sid: u32,");
    }
    e.line(") {");
}

/// The texel bases of a block's rows `start + 0 .. start + t.keys - 1` of `base`, each clamped
/// to `limit - 1`: `{var}{j}` per row, or with broadcast `{var}l{h}` for this lane's share
/// (rows `start + 8h + sid`). Also the stats texel of each row as `st{j}` (`stl{h}`) if asked.
fn block_bases(
    e: &mut Emitter,
    t: &AttentionTile,
    var: &str,
    base: &str,
    start: &str,
    limit: &str,
    stats: bool,
) {
    if t.broadcast {
        for h in 0..t.keys / 8 {
            w!(
                e,
                "        let {var}row{h} = {base} + min({start} + {}u + sid, {limit} - 1u);",
                8 * h
            );
            w!(e, "        let {var}l{h} = {var}row{h} * D4;");
            if stats {
                w!(
                    e,
                    "        let stl{h} = textureLoad(tex_stats, texel_at({var}row{h}), 0);"
                );
            }
        }
        if stats {
            for j in 0..t.keys {
                w!(
                    e,
                    "        let st{j} = subgroupBroadcast(stl{}, {}u);",
                    j / 8,
                    j % 8
                );
            }
        }
    } else {
        for j in 0..t.keys {
            w!(
                e,
                "        let {var}row{j} = {base} + min({start} + {j}u, {limit} - 1u);"
            );
            w!(e, "        let {var}{j} = {var}row{j} * D4;");
            if stats {
                w!(
                    e,
                    "        let st{j} = textureLoad(tex_stats, texel_at({var}row{j}), 0);"
                );
            }
        }
    }
}

/// `let {name}{j} = {fetch}({var}{j} + {col})` for each row of a block (see [`block_bases`]):
/// with broadcast, this lane's `t.keys / 8` fetches and a broadcast per row.
fn block_fetch(
    e: &mut Emitter,
    t: &AttentionTile,
    indent: &str,
    name: &str,
    fetch: &str,
    var: &str,
    col: &str,
) {
    if t.broadcast {
        for h in 0..t.keys / 8 {
            w!(e, "{indent}let {name}l{h} = {fetch}({var}l{h} + {col});");
        }
        for j in 0..t.keys {
            w!(
                e,
                "{indent}let {name}{j} = subgroupBroadcast({name}l{}, {}u);",
                j / 8,
                j % 8
            );
        }
    } else {
        for j in 0..t.keys {
            w!(e, "{indent}let {name}{j} = {fetch}({var}{j} + {col});");
        }
    }
}

/// Lane rows row0 + lid + 8r of one (b,h) (wid.y), returning past `limit`.
fn rows_prologue(e: &mut Emitter, t: &AttentionTile, limit: &str) {
    e.line("    let p = params;");
    e.line("    let bh = wid.y;");
    e.line("    let b = bh / p.heads;");
    w!(e, "    let row0 = wid.x * {}u;", 8 * t.rows);
    e.line("    let q_base = bh * p.tq;");
    e.line("    let k_base = bh * p.tk;");
    w!(e, "    if row0 >= {limit} {{");
    e.line("        return;");
    e.line("    }");
}

/// `mk{t}`: keys j0 + 4t .. j0 + 4t + 3 kept by the padding mask.
fn mask_block(e: &mut Emitter, t: &AttentionTile) {
    for t in 0..t.keys / 4 {
        w!(e, "        var mk{t} = vec4<f32>(1.0);");
    }
    e.line("        if HAS_MASK {");
    for t in 0..t.keys / 4 {
        w!(e, "            mk{t} = mask_texel(b, j0, {t}u);");
    }
    e.line("        }");
}

/// The key-block loop header and the block's clamped key texel bases `kt{j}`.
fn key_block(e: &mut Emitter, t: &AttentionTile) {
    w!(
        e,
        "    let k_end = key_end(min(row0 + {}u, p.tq) - 1u);",
        8 * t.rows
    );
    w!(e, "    for (var j0 = 0u; j0 < k_end; j0 += {}u) {{", t.keys);
    block_bases(e, t, "kt", "k_base", "j0", "p.tk", false);
}

fn visible(e: &mut Emitter, r: usize, j: usize) {
    w!(e, "        let vis{r}_{j} = j0 + {j}u < p.tk && mk{}[{}] != 0.0 && causal_ok(i{r}, j0 + {j}u);", j / 4, j % 4);
}

fn forward(t: &AttentionTile) -> String {
    let mut e = Emitter::default();
    open(&mut e, t, "attention_forward_tex");
    rows_prologue(&mut e, t, "p.tq");
    for r in 0..t.rows {
        w!(e, "    let i{r} = row0 + lid + {}u;", 8 * r);
        w!(e, "    let qt{r} = (q_base + min(i{r}, p.tq - 1u)) * D4;");
        w!(e, "    var m{r} = NEG_LARGE;");
        w!(e, "    var l{r} = 0.0;");
        for g in 0..t.max_d4 {
            w!(e, "    var o{r}_{g} = vec4<f32>(0.0);");
        }
    }
    key_block(&mut e, t);
    for r in 0..t.rows {
        for j in 0..t.keys {
            w!(e, "        var s{r}_{j} = 0.0;");
        }
    }
    e.line("        for (var g = 0u; g < D4; g++) {");
    for r in 0..t.rows {
        w!(e, "            let q{r} = fetch_q(qt{r} + g);");
    }
    block_fetch(&mut e, t, "            ", "k", "fetch_k", "kt", "g");
    for r in 0..t.rows {
        for j in 0..t.keys {
            w!(e, "            s{r}_{j} += dot(q{r}, k{j});");
        }
    }
    e.line("        }");
    mask_block(&mut e, t);
    for r in 0..t.rows {
        for j in 0..t.keys {
            visible(&mut e, r, j);
        }
    }
    for r in 0..t.rows {
        for j in 0..t.keys {
            w!(
                e,
                "        s{r}_{j} = select(NEG_LARGE, s{r}_{j} * p.scale, vis{r}_{j});"
            );
        }
        let max = (1..t.keys).fold(format!("s{r}_0"), |m, j| format!("max({m}, s{r}_{j})"));
        w!(e, "        let mn{r} = max(m{r}, {max});");
        w!(e, "        let alpha{r} = exp(m{r} - mn{r});");
        for j in 0..t.keys {
            w!(
                e,
                "        let p{r}_{j} = select(0.0, exp(s{r}_{j} - mn{r}), vis{r}_{j});"
            );
        }
        w!(
            e,
            "        l{r} = l{r} * alpha{r} + {};",
            sum(t, |j| format!("p{r}_{j}"))
        );
        w!(e, "        m{r} = mn{r};");
    }
    for g in 0..t.max_d4 {
        w!(e, "        if {g}u < D4 {{");
        block_fetch(
            &mut e,
            t,
            "            ",
            "v",
            "fetch_v",
            "kt",
            &format!("{g}u"),
        );
        for r in 0..t.rows {
            let terms = sum(t, |j| format!("p{r}_{j} * v{j}"));
            w!(e, "            o{r}_{g} = o{r}_{g} * alpha{r} + {terms};");
        }
        e.line("        }");
    }
    e.line("    }");
    for r in 0..t.rows {
        w!(e, "    if i{r} < p.tq {{");
        w!(e, "        let inv = select(0.0, 1.0 / l{r}, l{r} > 0.0);");
        w!(e, "        let row = q_base + i{r};");
        for g in 0..t.max_d4 {
            w!(e, "        if {g}u < D4 {{");
            for c in 0..4 {
                w!(
                    e,
                    "            out_o[row * D4 * 4u + {}u] = o{r}_{g}[{c}] * inv;",
                    4 * g + c
                );
            }
            e.line("        }");
        }
        w!(
            e,
            "        out_lse[row] = select(NEG_LARGE, m{r} + log(l{r}), l{r} > 0.0);"
        );
        e.line("    }");
    }
    e.line("}");
    e.finish()
}

fn dq(t: &AttentionTile) -> String {
    let mut e = Emitter::default();
    open(&mut e, t, "attention_backward_dq_tex");
    rows_prologue(&mut e, t, "p.tq");
    for r in 0..t.rows {
        w!(e, "    let i{r} = row0 + lid + {}u;", 8 * r);
        w!(e, "    let qrow{r} = q_base + min(i{r}, p.tq - 1u);");
        w!(e, "    let qt{r} = qrow{r} * D4;");
        w!(
            e,
            "    let st{r} = textureLoad(tex_stats, texel_at(qrow{r}), 0);"
        );
        for g in 0..t.max_d4 {
            w!(e, "    var a{r}_{g} = vec4<f32>(0.0);");
        }
    }
    key_block(&mut e, t);
    for r in 0..t.rows {
        for j in 0..t.keys {
            w!(e, "        var s{r}_{j} = 0.0;");
            w!(e, "        var dp{r}_{j} = 0.0;");
        }
    }
    e.line("        for (var g = 0u; g < D4; g++) {");
    for r in 0..t.rows {
        w!(e, "            let q{r} = fetch_q(qt{r} + g);");
        w!(e, "            let do{r} = fetch_do(qt{r} + g);");
    }
    block_fetch(&mut e, t, "            ", "k", "fetch_k", "kt", "g");
    block_fetch(&mut e, t, "            ", "v", "fetch_v", "kt", "g");
    for r in 0..t.rows {
        for j in 0..t.keys {
            w!(e, "            s{r}_{j} += dot(q{r}, k{j});");
            w!(e, "            dp{r}_{j} += dot(do{r}, v{j});");
        }
    }
    e.line("        }");
    mask_block(&mut e, t);
    for r in 0..t.rows {
        for j in 0..t.keys {
            visible(&mut e, r, j);
            w!(e, "        let ds{r}_{j} = select(0.0, exp(s{r}_{j} * p.scale - st{r}.x), vis{r}_{j}) * (dp{r}_{j} - st{r}.y);");
        }
    }
    for g in 0..t.max_d4 {
        w!(e, "        if {g}u < D4 {{");
        block_fetch(
            &mut e,
            t,
            "            ",
            "k",
            "fetch_k",
            "kt",
            &format!("{g}u"),
        );
        for r in 0..t.rows {
            w!(
                e,
                "            a{r}_{g} += {};",
                sum(t, |j| format!("ds{r}_{j} * k{j}"))
            );
        }
        e.line("        }");
    }
    e.line("    }");
    for r in 0..t.rows {
        w!(e, "    if i{r} < p.tq {{");
        for g in 0..t.max_d4 {
            w!(e, "        if {g}u < D4 {{");
            for c in 0..4 {
                w!(
                    e,
                    "            out_grad[qt{r} * 4u + {}u] = a{r}_{g}[{c}] * p.scale;",
                    4 * g + c
                );
            }
            e.line("        }");
        }
        e.line("    }");
    }
    e.line("}");
    e.finish()
}

fn dkdv(t: &AttentionTile) -> String {
    let mut e = Emitter::default();
    open(&mut e, t, "attention_backward_dkdv_tex");
    rows_prologue(&mut e, t, "p.tk");
    for r in 0..t.rows {
        w!(e, "    let j{r} = row0 + lid + {}u;", 8 * r);
        w!(e, "    let kt{r} = (k_base + min(j{r}, p.tk - 1u)) * D4;");
        w!(e, "    var kept{r} = j{r} < p.tk;");
        e.line("    if HAS_MASK {");
        w!(e, "        let jc = min(j{r}, p.tk - 1u);");
        e.line("        let flags = textureLoad(tex_mask, texel_at(b * p.mask_row_texels + jc / 4u), 0);");
        w!(e, "        kept{r} = kept{r} && flags[jc % 4u] != 0.0;");
        e.line("    }");
        for g in 0..t.max_d4 {
            w!(e, "    var dk{r}_{g} = vec4<f32>(0.0);");
            w!(e, "    var dv{r}_{g} = vec4<f32>(0.0);");
        }
    }
    w!(
        e,
        "    for (var i0 = query_start(row0); i0 < p.tq; i0 += {}u) {{",
        t.keys
    );
    block_bases(&mut e, t, "qt", "q_base", "i0", "p.tq", true);
    for r in 0..t.rows {
        for i in 0..t.keys {
            w!(e, "        var s{r}_{i} = 0.0;");
            w!(e, "        var dp{r}_{i} = 0.0;");
        }
    }
    e.line("        for (var g = 0u; g < D4; g++) {");
    for r in 0..t.rows {
        w!(e, "            let k{r} = fetch_k(kt{r} + g);");
        w!(e, "            let v{r} = fetch_v(kt{r} + g);");
    }
    block_fetch(&mut e, t, "            ", "q", "fetch_q", "qt", "g");
    block_fetch(&mut e, t, "            ", "do", "fetch_do", "qt", "g");
    for r in 0..t.rows {
        for i in 0..t.keys {
            w!(e, "            s{r}_{i} += dot(k{r}, q{i});");
            w!(e, "            dp{r}_{i} += dot(v{r}, do{i});");
        }
    }
    e.line("        }");
    for r in 0..t.rows {
        for i in 0..t.keys {
            w!(e, "        let vis{r}_{i} = kept{r} && i0 + {i}u < p.tq && causal_ok(i0 + {i}u, j{r});");
            w!(e, "        let pr{r}_{i} = select(0.0, exp(s{r}_{i} * p.scale - st{i}.x), vis{r}_{i});");
            w!(
                e,
                "        let ds{r}_{i} = pr{r}_{i} * (dp{r}_{i} - st{i}.y);"
            );
        }
    }
    for g in 0..t.max_d4 {
        w!(e, "        if {g}u < D4 {{");
        let col = format!("{g}u");
        block_fetch(&mut e, t, "            ", "q", "fetch_q", "qt", &col);
        block_fetch(&mut e, t, "            ", "do", "fetch_do", "qt", &col);
        for r in 0..t.rows {
            w!(
                e,
                "            dv{r}_{g} += {};",
                sum(t, |i| format!("pr{r}_{i} * do{i}"))
            );
            w!(
                e,
                "            dk{r}_{g} += {};",
                sum(t, |i| format!("ds{r}_{i} * q{i}"))
            );
        }
        e.line("        }");
    }
    e.line("    }");
    for r in 0..t.rows {
        w!(e, "    if j{r} < p.tk {{");
        for g in 0..t.max_d4 {
            w!(e, "        if {g}u < D4 {{");
            for c in 0..4 {
                let at = 4 * g + c;
                w!(
                    e,
                    "            out_grad[kt{r} * 4u + {at}u] = dk{r}_{g}[{c}] * p.scale;"
                );
                w!(
                    e,
                    "            out_dv[kt{r} * 4u + {at}u] = dv{r}_{g}[{c}];"
                );
            }
            e.line("        }");
        }
        e.line("    }");
    }
    e.line("}");
    e.finish()
}
