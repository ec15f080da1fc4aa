// to_texture.wgsl: an image-shaped f32 tensor written into an RGBA storage texture.
// forward:  out[y,x] = (m(c0), m(c1), m(c2), m(c3)) with m(v) = (v - lo) * inv_range, where a
//           missing channel is filled in: C=1 gives (m(c0), m(c0), m(c0), 1), C=2 gives
//           (m(c0), m(c1), 0, 1), C=3 gives alpha 1. rgba8unorm clamps m(v) to [0, 1] before the
//           store (the store's own conversion to 8 bits rounds); the float formats store m(v).
//           cK = x[base + y*row_stride + x*pixel_stride + K*channel_stride]: one formula covers
//           planar [C, H, W] and interleaved [H, W, C] layouts and the image index of a batch.
// backward: none (a texture is not a tensor; nothing downstream of it is differentiated).
// Grid: one invocation per texel, 8x8 tiles, ceil(W/8) x ceil(H/8) workgroups; texture sizes are
// at most 8192 by default, so a dimension needs at most 1024 workgroups and no folding.
// WG = 8x8 = 64: square tiles keep a workgroup's reads within 8 rows of a planar image; 64 is a
// multiple of common subgroup widths and a quarter of the 256-invocation limit.
// Bindings (group 0), every entry point: 0 params, 1 x (read), 2 the texture (write). One entry
// point per texture format, because the format is part of a storage texture's type.

struct Params {
    width: u32,
    height: u32,
    channels: u32,
    base: u32,
    row_stride: u32,
    pixel_stride: u32,
    channel_stride: u32,
    lo: f32,
    inv_range: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const TILE: u32 = 8u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var out_rgba8unorm: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(2) var out_rgba16float: texture_storage_2d<rgba16float, write>;
@group(0) @binding(2) var out_rgba32float: texture_storage_2d<rgba32float, write>;

fn mapped(at: u32) -> f32 {
    return (x[at] - params.lo) * params.inv_range;
}

// The texel at (col, row), before any clamping. Only channels the tensor has are read.
fn texel(col: u32, row: u32) -> vec4<f32> {
    let at = params.base + row * params.row_stride + col * params.pixel_stride;
    let s = params.channel_stride;
    let c0 = mapped(at);
    switch params.channels {
        case 1u: {
            return vec4<f32>(c0, c0, c0, 1.0);
        }
        case 2u: {
            return vec4<f32>(c0, mapped(at + s), 0.0, 1.0);
        }
        case 3u: {
            return vec4<f32>(c0, mapped(at + s), mapped(at + 2u * s), 1.0);
        }
        default: {
            return vec4<f32>(c0, mapped(at + s), mapped(at + 2u * s), mapped(at + 3u * s));
        }
    }
}

@compute @workgroup_size(TILE, TILE)
fn to_texture_forward_rgba8unorm(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height {
        return;
    }
    let v = clamp(texel(gid.x, gid.y), vec4<f32>(0.0), vec4<f32>(1.0));
    textureStore(out_rgba8unorm, gid.xy, v);
}

@compute @workgroup_size(TILE, TILE)
fn to_texture_forward_rgba16float(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height {
        return;
    }
    textureStore(out_rgba16float, gid.xy, texel(gid.x, gid.y));
}

@compute @workgroup_size(TILE, TILE)
fn to_texture_forward_rgba32float(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height {
        return;
    }
    textureStore(out_rgba32float, gid.xy, texel(gid.x, gid.y));
}
