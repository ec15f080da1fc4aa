//! `to_texture`: an image-shaped f32 tensor written into a host's RGBA texture, on the GPU, in
//! one call: how a game or a visualiser shows a model's output without a round trip through the
//! CPU.
//!
//! Dimension letters: N images, C channels (1 to 4), H rows, W columns; the texture is W texels
//! wide and H high.
//! - shapes: `[H, W]`, or planar `[C, H, W]` / `[N, C, H, W]` ([`ImageLayout::Planar`], kiln's
//!   convolution layout), or interleaved `[H, W, C]` / `[N, H, W, C]`
//!   ([`ImageLayout::Interleaved`], what a per-pixel network such as an MLP over coordinates
//!   produces). A batch picks one image with [`ToTextureOptions::image`].
//! - forward: `texel[y, x] = (m(c0), m(c1), m(c2), m(c3))`, `m(v) = (v - lo) / (hi - lo)` for the
//!   [`ValueRange`] `[lo, hi]`. One channel is grey (replicated to RGB), two are red and green,
//!   and alpha is 1 unless the tensor has four channels. `rgba8unorm` clamps to `[0, 1]` and
//!   rounds to 8 bits; `rgba16float` and `rgba32float` store `m(v)` unclamped.
//! - backward: none. A texture is an end point (what a host draws), not a value in a graph, so
//!   this op has no graph node, no chain rule and no lowering.
//!
//! The texture must be 2-D with one layer, exactly W×H at mip level 0, in one of [`FORMATS`],
//! and created with [`wgpu::TextureUsages::STORAGE_BINDING`] (add `TEXTURE_BINDING` to sample it
//! afterwards). [`prepare`] returns a [`Dispatch`] that a host records into its own encoder every
//! frame ([`Dispatch::record_into`]) without allocating; [`copy_to_texture`] (and
//! [`Tensor::copy_to_texture`]) prepares, records and submits at once.
//!
//! Kernel: `shaders/to_texture.wgsl`, one entry point per texture format.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::kernels::{run, Binding, Dispatch, Kernel};
use crate::tensor::Tensor;

use super::check_f32;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
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
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Texels per workgroup side (`TILE` in the shader).
const TILE: u32 = 8;

/// The texture formats [`prepare`] writes: WebGPU's RGBA formats that every device can bind as
/// write-only storage textures without an optional feature.
pub const FORMATS: &[wgpu::TextureFormat] = &[
    wgpu::TextureFormat::Rgba8Unorm,
    wgpu::TextureFormat::Rgba16Float,
    wgpu::TextureFormat::Rgba32Float,
];

/// Where the channels of an image tensor sit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageLayout {
    /// `[C, H, W]` or `[N, C, H, W]`: one plane per channel, as kiln's convolutions produce.
    #[default]
    Planar,
    /// `[H, W, C]` or `[N, H, W, C]`: a pixel's channels side by side, as a per-pixel network
    /// (rows of a `[H·W, C]` matmul output, reshaped) produces.
    Interleaved,
}

/// The values that map to 0 and 1 in the texture: `lo` becomes black, `hi` full intensity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    /// Mapped to 0.
    pub lo: f32,
    /// Mapped to 1.
    pub hi: f32,
}

impl ValueRange {
    /// `[0, 1]`: values stored as they are (a sigmoid's output).
    pub const UNIT: ValueRange = ValueRange { lo: 0.0, hi: 1.0 };
    /// `[-1, 1]`: a tanh output, such as a DCGAN generator's.
    pub const SIGNED: ValueRange = ValueRange { lo: -1.0, hi: 1.0 };
}

impl Default for ValueRange {
    fn default() -> ValueRange {
        ValueRange::UNIT
    }
}

/// How [`prepare`] reads the tensor.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ToTextureOptions {
    /// The values that map to 0 and 1.
    pub range: ValueRange,
    /// Planar `[C, H, W]` or interleaved `[H, W, C]` (a 2-D `[H, W]` tensor is the same in both).
    pub layout: ImageLayout,
    /// Which image of a batch (`[N, ..]`) to write; 0 for a single image.
    pub image: usize,
}

/// An image tensor's dimensions, as [`shape`] reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    /// Images in the batch (1 without a batch axis).
    pub n: usize,
    /// Channels, 1 to 4.
    pub c: usize,
    /// Rows: the texture's height.
    pub h: usize,
    /// Columns: the texture's width.
    pub w: usize,
}

/// Reads `x` as an image batch in `layout`: `[N, C, H, W]` for a planar one, `[N, H, W, C]` for
/// an interleaved one, with N and C optional. Errors name the op and the shape.
pub fn shape(x: &[usize], layout: ImageLayout) -> Result<ImageShape> {
    let expected = match layout {
        ImageLayout::Planar => "an image [H, W], [C, H, W] or [N, C, H, W] with C in 1..=4",
        ImageLayout::Interleaved => "an image [H, W], [H, W, C] or [N, H, W, C] with C in 1..=4",
    };
    let s = match (layout, x) {
        (_, &[h, w]) => ImageShape { n: 1, c: 1, h, w },
        (ImageLayout::Planar, &[c, h, w]) => ImageShape { n: 1, c, h, w },
        (ImageLayout::Planar, &[n, c, h, w]) => ImageShape { n, c, h, w },
        (ImageLayout::Interleaved, &[h, w, c]) => ImageShape { n: 1, c, h, w },
        (ImageLayout::Interleaved, &[n, h, w, c]) => ImageShape { n, c, h, w },
        _ => return Err(shape_error("to_texture", expected, &[x])),
    };
    if !(1..=4).contains(&s.c) || s.n == 0 || s.h == 0 || s.w == 0 {
        return Err(shape_error("to_texture", expected, &[x]));
    }
    Ok(s)
}

fn entry(format: wgpu::TextureFormat) -> Result<&'static str> {
    match format {
        wgpu::TextureFormat::Rgba8Unorm => Ok("to_texture_forward_rgba8unorm"),
        wgpu::TextureFormat::Rgba16Float => Ok("to_texture_forward_rgba16float"),
        wgpu::TextureFormat::Rgba32Float => Ok("to_texture_forward_rgba32float"),
        other => Err(Error::Unsupported(format!(
            "to_texture writes {FORMATS:?} textures, not {other:?}; create the target in one of \
             those (for an sRGB or BGRA swapchain, write an Rgba8Unorm texture and draw it)"
        ))),
    }
}

/// Checks `texture` against the image `x` and the options, and prepares the kernel writing it.
/// Record the returned [`Dispatch`] into any encoder on the context's device, as often as
/// needed: it holds its bind group (and through it the texture), and recording allocates
/// nothing. Errors: a non-f32 tensor, a shape that is not an image, a texture of another size
/// (both shapes named), a texture without `STORAGE_BINDING`, a format outside [`FORMATS`], a
/// batch index past the batch, an empty value range. The texture must belong to the context's
/// device: wgpu 30 panics inside `create_bind_group` on a texture of another `wgpu::Instance`
/// (a second `Context::new`, say), which kiln cannot detect beforehand.
pub fn prepare(
    ctx: &Context,
    x: &Tensor,
    texture: &wgpu::Texture,
    opts: ToTextureOptions,
) -> Result<Dispatch> {
    check_f32("to_texture", &[x])?;
    let s = shape(x.shape(), opts.layout)?;
    let size = texture.size();
    let texture_shape = [
        size.depth_or_array_layers as usize,
        size.height as usize,
        size.width as usize,
    ];
    if texture.dimension() != wgpu::TextureDimension::D2 || size.depth_or_array_layers != 1 {
        return Err(Error::Unsupported(format!(
            "to_texture writes a 2-D texture with one layer, got a {:?} texture of \
             {} layers",
            texture.dimension(),
            size.depth_or_array_layers
        )));
    }
    if s.h != size.height as usize || s.w != size.width as usize {
        return Err(shape_error(
            "to_texture",
            format!(
                "a texture as large as the image: H = texture height, W = texture width \
                 (the texture is [layers, height, width] = {texture_shape:?})"
            ),
            &[x.shape(), &texture_shape],
        ));
    }
    if !texture
        .usage()
        .contains(wgpu::TextureUsages::STORAGE_BINDING)
    {
        return Err(Error::Unsupported(format!(
            "to_texture needs a texture created with wgpu::TextureUsages::STORAGE_BINDING; this \
             one has {:?}",
            texture.usage()
        )));
    }
    let entry = entry(texture.format())?;
    if opts.image >= s.n {
        return Err(shape_error(
            "to_texture",
            format!("image index {} below the batch size N", opts.image),
            &[x.shape()],
        ));
    }
    let range = opts.range.hi - opts.range.lo;
    if !(range.is_finite() && range != 0.0) {
        return Err(Error::Unsupported(format!(
            "to_texture needs a value range with lo != hi, both finite; got [{}, {}]",
            opts.range.lo, opts.range.hi
        )));
    }
    if x.numel() > u32::MAX as usize {
        return Err(Error::Unsupported(format!(
            "to_texture indexes with 32 bits; the tensor {:?} has {} elements",
            x.shape(),
            x.numel()
        )));
    }
    let plane = s.h * s.w;
    let (row_stride, pixel_stride, channel_stride) = match opts.layout {
        ImageLayout::Planar => (s.w, 1, plane),
        ImageLayout::Interleaved => (s.w * s.c, s.c, 1),
    };
    let p = Params {
        width: s.w as u32,
        height: s.h as u32,
        channels: s.c as u32,
        base: (opts.image * s.c * plane) as u32,
        row_stride: row_stride as u32,
        pixel_stride: pixel_stride as u32,
        channel_stride: channel_stride as u32,
        lo: opts.range.lo,
        inv_range: 1.0 / range,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    // In a scope, so that wgpu's validation of the view comes back as an error.
    let view = ctx.scoped("creating to_texture's texture view", || {
        texture.create_view(&wgpu::TextureViewDescriptor {
            label: Some("kiln.to_texture"),
            dimension: Some(wgpu::TextureViewDimension::D2),
            base_mip_level: 0,
            mip_level_count: Some(1),
            base_array_layer: 0,
            array_layer_count: Some(1),
            ..Default::default()
        })
    })?;
    let grid = [size.width.div_ceil(TILE), size.height.div_ceil(TILE), 1];
    Kernel::new("to_texture", entry).dispatch_bindings(
        ctx,
        &p,
        &[Binding::Tensor(x), Binding::Texture(&view)],
        grid,
    )
}

/// Writes the image `x` into `texture` now: [`prepare`], record, submit (does not wait). A host
/// that does this every frame should [`prepare`] once and record the dispatch into its own
/// encoder instead, which allocates nothing per frame.
pub fn copy_to_texture(
    ctx: &Context,
    x: &Tensor,
    texture: &wgpu::Texture,
    opts: ToTextureOptions,
) -> Result<()> {
    run(ctx, &[prepare(ctx, x, texture, opts)?])?;
    Ok(())
}

impl Tensor {
    /// Writes this image-shaped tensor into `texture` on the GPU, in one call: see
    /// [`to_texture`](crate::ops::to_texture) for the shapes, formats and value mapping.
    pub fn copy_to_texture(
        &self,
        ctx: &Context,
        texture: &wgpu::Texture,
        opts: ToTextureOptions,
    ) -> Result<()> {
        copy_to_texture(ctx, self, texture, opts)
    }
}
