// common.wgsl: helpers prepended to every kiln shader by the loader (src/kernels/mod.rs).
// Only functions and constants live here, so each shader stays valid WGSL with them prepended.

// Flat workgroup index of a grid folded into x and y (kernels::grid_1d): WebGPU allows at most
// 65,535 workgroups per dimension, so large 1-D jobs use two.
fn flat_group(wid: vec3<u32>, num: vec3<u32>) -> u32 {
    return wid.x + wid.y * num.x;
}

// Stand-in for -inf in masks: WGSL has no infinity literal, and exp(NEG_LARGE - m) is exactly 0
// for any finite m that matters, so masked scores drop out of a softmax without NaNs.
const NEG_LARGE: f32 = -1.0e30;

// Where texel t of a packed operand sits in its texture: 4096 texels a row
// (ops::matmul::PACKED_WIDTH), so a texture holds any operand of up to
// 4096 x max_texture_dimension_2d texels, laid out linearly.
fn texel_at(t: u32) -> vec2<u32> {
    return vec2<u32>(t & 4095u, t >> 12u);
}
