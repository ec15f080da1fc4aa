//! to_texture: image tensors written into RGBA storage textures, read back through
//! copy_texture_to_buffer and compared texel by texel with a plain-loop reference.

use super::*;
use kiln::ops::to_texture::{self, ImageLayout, ToTextureOptions, ValueRange};
use kiln::wgpu;
use kiln::Error;

/// The reference: texel (y, x) of image `n` of `x` as RGBA in f64, before any format's rounding.
/// Dimensions as `to_texture::ImageShape`; `clamp` as rgba8unorm does.
#[allow(clippy::too_many_arguments)]
fn reference(
    x: &[f32],
    layout: ImageLayout,
    (n, c, h, w): (usize, usize, usize, usize),
    range: ValueRange,
    clamp: bool,
) -> Vec<[f64; 4]> {
    let (lo, hi) = (range.lo as f64, range.hi as f64);
    let mut out = Vec::new();
    for y in 0..h {
        for xx in 0..w {
            let mut ch = [0.0f64; 4];
            for (k, v) in ch.iter_mut().enumerate().take(c) {
                let at = match layout {
                    ImageLayout::Planar => ((n * c + k) * h + y) * w + xx,
                    ImageLayout::Interleaved => ((n * h + y) * w + xx) * c + k,
                };
                let m = (x[at] as f64 - lo) / (hi - lo);
                *v = if clamp { m.clamp(0.0, 1.0) } else { m };
            }
            let texel = match c {
                1 => [ch[0], ch[0], ch[0], 1.0],
                2 => [ch[0], ch[1], 0.0, 1.0],
                3 => [ch[0], ch[1], ch[2], 1.0],
                _ => ch,
            };
            out.push(texel);
        }
    }
    out
}

fn texture(
    c: &Context,
    w: u32,
    h: u32,
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    c.device().create_texture(&wgpu::TextureDescriptor {
        label: Some("test target"),
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

fn target(c: &Context, w: u32, h: u32, format: wgpu::TextureFormat) -> wgpu::Texture {
    texture(
        c,
        w,
        h,
        format,
        wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_SRC,
    )
}

/// The texture's texels, rows packed tightly (the copy's rows are padded to 256 bytes).
fn read_texture(c: &Context, t: &wgpu::Texture, bytes_per_texel: u32) -> Vec<u8> {
    let size = t.size();
    let row = size.width * bytes_per_texel;
    let padded = row.next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let staging = c.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("texture readback"),
        size: (padded * size.height) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = c.device().create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        t.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &staging,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(size.height),
            },
        },
        size,
    );
    let index = c.submit(encoder.finish()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |r| tx.send(r).unwrap());
    c.wait(Some(index)).unwrap();
    loop {
        if let Ok(r) = rx.try_recv() {
            r.unwrap();
            break;
        }
        c.device()
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
    }
    let mapped = staging.slice(..).get_mapped_range().unwrap();
    let mut out = Vec::new();
    for y in 0..size.height {
        let start = (y * padded) as usize;
        out.extend_from_slice(&mapped[start..start + row as usize]);
    }
    out
}

/// Writes `x` into a fresh rgba8unorm texture and checks every texel against the reference.
/// Tolerance ±1 in u8: Vulkan's float→unorm conversion may return either of the two nearest
/// 8-bit values, and the kernel's f32 `(v - lo) * (1 / (hi - lo))` can land on the other side of
/// a rounding midpoint than the f64 reference; anything further off is a wrong texel.
fn check_rgba8(shape: &[usize], layout: ImageLayout, image: usize, range: ValueRange, seed: u64) {
    let s = to_texture::shape(shape, layout).unwrap();
    let mut rng = Rng::new(seed);
    // Values past both ends of the range, so the clamp is exercised.
    let span = (range.hi - range.lo) as f64;
    let data: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| rng.uniform(range.lo as f64 - 0.2 * span, range.hi as f64 + 0.2 * span) as f32)
        .collect();
    let x = upload(shape, &data);
    let t = target(
        ctx(),
        s.w as u32,
        s.h as u32,
        wgpu::TextureFormat::Rgba8Unorm,
    );
    let opts = ToTextureOptions {
        range,
        layout,
        image,
    };
    x.copy_to_texture(ctx(), &t, opts).unwrap();
    let got = read_texture(ctx(), &t, 4);
    let want = reference(&data, layout, (image, s.c, s.h, s.w), range, true);
    assert_eq!(got.len(), want.len() * 4);
    for (i, texel) in want.iter().enumerate() {
        for k in 0..4 {
            let w8 = (texel[k] * 255.0).round();
            let g8 = got[i * 4 + k] as f64;
            assert!(
                (g8 - w8).abs() <= 1.0,
                "{shape:?} {layout:?} image {image}: texel {i} (y {}, x {}) channel {k}: got {g8}, want {w8}",
                i / s.w,
                i % s.w
            );
        }
    }
}

#[test]
fn rgba8_planar_awkward_sizes_one_and_three_channels() {
    for &(h, w) in &[(1, 1), (3, 7), (33, 65)] {
        check_rgba8(&[h, w], ImageLayout::Planar, 0, ValueRange::UNIT, 1);
        check_rgba8(&[1, h, w], ImageLayout::Planar, 0, ValueRange::SIGNED, 2);
        check_rgba8(&[3, h, w], ImageLayout::Planar, 0, ValueRange::SIGNED, 3);
    }
}

#[test]
fn rgba8_batch_index_and_interleaved_layouts() {
    check_rgba8(&[3, 3, 5, 7], ImageLayout::Planar, 2, ValueRange::SIGNED, 4);
    check_rgba8(&[2, 4, 3, 7], ImageLayout::Planar, 1, ValueRange::UNIT, 5);
    check_rgba8(&[2, 3, 7, 33], ImageLayout::Planar, 0, ValueRange::UNIT, 6);
    check_rgba8(
        &[7, 3, 3],
        ImageLayout::Interleaved,
        0,
        ValueRange::SIGNED,
        7,
    );
    check_rgba8(
        &[3, 5, 7, 2],
        ImageLayout::Interleaved,
        2,
        ValueRange::UNIT,
        8,
    );
    check_rgba8(
        &[2, 33, 65, 4],
        ImageLayout::Interleaved,
        1,
        ValueRange { lo: -3.0, hi: 5.0 },
        9,
    );
}

#[test]
fn float_formats_store_the_mapped_values_unclamped() {
    let range = ValueRange { lo: -2.0, hi: 3.0 };
    for (format, bytes) in [
        (wgpu::TextureFormat::Rgba32Float, 16),
        (wgpu::TextureFormat::Rgba16Float, 8),
    ] {
        for (shape, layout) in [
            (vec![3usize, 7], ImageLayout::Planar),
            (vec![2, 7, 3], ImageLayout::Planar),
            (vec![7, 3, 4], ImageLayout::Interleaved),
        ] {
            let s = to_texture::shape(&shape, layout).unwrap();
            let data: Vec<f32> = Rng::new(10)
                .vec(shape.iter().product())
                .iter()
                .map(|v| v * 4.0)
                .collect();
            let x = upload(&shape, &data);
            let t = target(ctx(), s.w as u32, s.h as u32, format);
            let opts = ToTextureOptions {
                range,
                layout,
                image: 0,
            };
            to_texture::copy_to_texture(ctx(), &x, &t, opts).unwrap();
            let raw = read_texture(ctx(), &t, bytes);
            let got: Vec<f32> = if bytes == 16 {
                bytemuck::cast_slice(&raw).to_vec()
            } else {
                bytemuck::cast_slice::<u8, u16>(&raw)
                    .iter()
                    .map(|&h| half::f16::from_bits(h).to_f32())
                    .collect()
            };
            let want: Vec<f64> = reference(&data, layout, (0, s.c, s.h, s.w), range, false)
                .into_iter()
                .flatten()
                .collect();
            // rgba32float: (v - lo) * inv_range in f32 is off by a few ulps (2^-24 each) of
            // values below 1.6 in magnitude: 1e-6 absolute covers it. rgba16float: Vulkan lets
            // the conversion to half round to nearest or toward zero (lavapipe truncates), so
            // the error is up to one half ulp, a relative 2^-10 ≈ 9.8e-4; half's subnormal
            // spacing is 6e-8: rtol 1e-3 with the same atol.
            let rtol = if bytes == 16 { 0.0 } else { 1e-3 };
            assert_close(&got, &want, 1e-6, rtol, &format!("{format:?} {shape:?}"));
        }
    }
}

#[test]
fn a_prepared_dispatch_records_into_a_host_encoder() {
    // The per-frame path: prepare once, record into the host's encoder, the host submits.
    // A context of its own: the object counter is per context and other tests run in parallel.
    let own = Context::new().unwrap();
    let c = &own;
    let data = Rng::new(11).vec(3 * 5 * 7);
    let x = Tensor::from_f32(c, &[3, 5, 7], &data).unwrap();
    let t = target(c, 7, 5, wgpu::TextureFormat::Rgba32Float);
    let opts = ToTextureOptions {
        range: ValueRange::SIGNED,
        ..Default::default()
    };
    let prepared = to_texture::prepare(c, &x, &t, opts).unwrap();
    let objects = c.objects_created();
    let mut encoder = c.device().create_command_encoder(&Default::default());
    prepared.record_into(&mut encoder);
    prepared.record_into(&mut encoder);
    c.queue().submit([encoder.finish()]);
    assert_eq!(c.objects_created(), objects, "recording created objects");
    let got: Vec<f32> = bytemuck::cast_slice(&read_texture(c, &t, 16)).to_vec();
    let want: Vec<f64> = reference(&data, ImageLayout::Planar, (0, 3, 5, 7), opts.range, false)
        .into_iter()
        .flatten()
        .collect();
    // As for rgba32float above.
    assert_close(&got, &want, 1e-6, 0.0, "recorded to_texture");
}

#[test]
fn bad_textures_and_shapes_are_errors() {
    let c = ctx();
    let x = upload(&[3, 5, 7], &[0.0; 105]);
    let opts = ToTextureOptions::default();
    let rgba8 = wgpu::TextureFormat::Rgba8Unorm;

    let err = to_texture::prepare(c, &x, &target(c, 5, 7, rgba8), opts).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            Error::Shape {
                op: "to_texture",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        msg.contains("[3, 5, 7]") && msg.contains("[1, 7, 5]"),
        "{msg}"
    );

    let sampled_only = texture(c, 7, 5, rgba8, wgpu::TextureUsages::TEXTURE_BINDING);
    let err = to_texture::prepare(c, &x, &sampled_only, opts).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("STORAGE_BINDING"), "{err}");

    let r32 = target(c, 7, 5, wgpu::TextureFormat::R32Float);
    let err = to_texture::prepare(c, &x, &r32, opts).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(
        err.to_string().contains("R32Float") && err.to_string().contains("Rgba8Unorm"),
        "{err}"
    );

    let five = upload(&[5, 5, 7], &[0.0; 175]);
    let err = to_texture::prepare(c, &five, &target(c, 7, 5, rgba8), opts).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Shape {
                op: "to_texture",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("[5, 5, 7]"), "{err}");

    let batch = upload(&[2, 3, 5, 7], &[0.0; 210]);
    let past = ToTextureOptions { image: 2, ..opts };
    let err = to_texture::prepare(c, &batch, &target(c, 7, 5, rgba8), past).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Shape {
                op: "to_texture",
                ..
            }
        ),
        "{err:?}"
    );

    let empty = ToTextureOptions {
        range: ValueRange { lo: 1.0, hi: 1.0 },
        ..opts
    };
    let err = to_texture::prepare(c, &x, &target(c, 7, 5, rgba8), empty).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");

    let ids = upload_u32(&[5, 7], &[0; 35]);
    let err = to_texture::prepare(c, &ids, &target(c, 7, 5, rgba8), opts).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                op: "to_texture",
                ..
            }
        ),
        "{err:?}"
    );
}
