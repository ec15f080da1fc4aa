// embed_in_wgpu_app.wgsl: the host's own shader in examples/embed_in_wgpu_app.rs, not kiln's.
// A full-screen triangle; the fragment shader draws three panels side by side: the target
// (kiln's input tensor), the generator's output (kiln's output tensor), both read as storage
// buffers, and the texture kiln's to_texture kernel wrote, with a dark gutter between panels.
// Bindings (group 0): 0 target_rgb, 1 model_rgb, 2 kiln_texture. SIZE: the picture's side,
// set by the host through the pipeline's constants.

override SIZE: u32 = 64u;

// kiln's tensors, bound as they are: [SIZE*SIZE, 3] floats in [-1, 1].
@group(0) @binding(0) var<storage, read> target_rgb: array<f32>;
@group(0) @binding(1) var<storage, read> model_rgb: array<f32>;
// The texture kiln's to_texture kernel wrote (rgba8unorm, [-1, 1] mapped to [0, 1]).
@group(0) @binding(2) var kiln_texture: texture_2d<f32>;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VsOut {
    let p = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    var out: VsOut;
    out.pos = vec4<f32>(p * 2.0 - 1.0, 0.0, 1.0);
    out.uv = vec2<f32>(p.x, 1.0 - p.y);
    return out;
}

@fragment
fn fs_main(v: VsOut) -> @location(0) vec4<f32> {
    let panel = min(u32(v.uv.x * 3.0), 2u);
    let local = vec2<f32>(fract(v.uv.x * 3.0), v.uv.y);
    let px = min(vec2<u32>(local * f32(SIZE)), vec2<u32>(SIZE - 1u));
    let at = (px.y * SIZE + px.x) * 3u;
    // Buffers: [-1, 1] to [0, 1], as kiln's to_texture maps ValueRange::SIGNED.
    var c: vec3<f32>;
    if panel > 0u && local.x * f32(SIZE) < 0.5 {
        c = vec3<f32>(0.0); // a dark gutter between panels
    } else if panel == 0u {
        c = vec3<f32>(target_rgb[at], target_rgb[at + 1u], target_rgb[at + 2u]) * 0.5 + 0.5;
    } else if panel == 1u {
        c = vec3<f32>(model_rgb[at], model_rgb[at + 1u], model_rgb[at + 2u]) * 0.5 + 0.5;
    } else {
        c = textureLoad(kiln_texture, px, 0).rgb;
    }
    return vec4<f32>(clamp(c, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
