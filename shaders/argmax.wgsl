// argmax.wgsl: index of the largest value of each row, and one step of greedy decoding.
// forward:      out[r] = argmax_c x[r,c] (the first index among ties; NaNs are never chosen
//               over a number, since every comparison with NaN is false)
// greedy step:  for each batch row b: id = argmax_c logits[b,t,c]; ids[b,t] = id and, when
//               t + 1 < T, tokens[b,t+1] = id, so the decoder's next input is written on the GPU
//               and a whole decode runs as one submission.
// Not differentiable: there is no backward.
// Grid: one invocation per row (rows are short, a vocabulary; a scan in registers beats a
// workgroup reduction's barriers on CPU drivers and is enough for the few rows of decoding).
// WG = 64: a multiple of common subgroup widths.
// Bindings (group 0): forward 0 params, 1 x, 2 out; greedy 0 params, 1 logits, 2 ids, 3 tokens.

struct Params {
    rows: u32,
    cols: u32,
    // Greedy step: the position t and the sequence length T.
    t: u32,
    seq: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

fn row_argmax(base: u32, cols: u32) -> u32 {
    var best = 0u;
    var best_value = x[base];
    for (var c = 1u; c < cols; c++) {
        let v = x[base + c];
        if v > best_value || (best_value != best_value && v == v) {
            best = c;
            best_value = v;
        }
    }
    return best;
}

@compute @workgroup_size(WG)
fn argmax_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = flat_group(wid, num) * WG + lid;
    if r < params.rows {
        out[r] = row_argmax(r * params.cols, params.cols);
    }
}

@group(0) @binding(3) var<storage, read_write> tokens: array<u32>;

@compute @workgroup_size(WG)
fn argmax_greedy_step(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = flat_group(wid, num) * WG + lid;
    if b >= params.rows {
        return;
    }
    let at = b * params.seq + params.t;
    let id = row_argmax(at * params.cols, params.cols);
    out[at] = id;
    if params.t + 1u < params.seq {
        tokens[at + 1u] = id;
    }
}
