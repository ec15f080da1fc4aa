//! [`Tensor`]: a device buffer (or a slice of one) with a static shape and an element type.
//! Tensors hand out their `wgpu::Buffer`, so host applications use them without copies.

use std::sync::Arc;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::serial::Serialized;

/// Element type of a tensor. Both are four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float: activations, weights, gradients.
    F32,
    /// 32-bit unsigned integer: token ids, class labels.
    U32,
}

impl DType {
    /// Bytes per element.
    pub const fn size(self) -> u64 {
        4
    }
}

/// Usage flags of every buffer kiln allocates: bound as storage, copied to and from.
pub const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// A GPU tensor: `shape` elements of `dtype`, row-major, at `offset` bytes into `buffer`.
/// Cloning is cheap and shares the buffer.
#[derive(Clone, Debug)]
pub struct Tensor {
    /// Dropped inside the device's gate (GL; see [`crate::serial`]).
    buffer: Serialized<Arc<wgpu::Buffer>>,
    offset: u64,
    shape: Vec<usize>,
    dtype: DType,
}

/// Number of elements of a shape (1 for a scalar's empty shape).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

impl Tensor {
    /// An uninitialised (zeroed by wgpu) tensor.
    pub fn zeros(ctx: &Context, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let size = (numel(shape) as u64 * dtype.size()).max(4);
        ctx.count_objects(1);
        let buffer = ctx.scoped("allocating a tensor", || {
            ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("kiln.tensor"),
                size,
                usage: TENSOR_USAGE,
                mapped_at_creation: false,
            })
        })?;
        Ok(Tensor {
            buffer: Serialized::new(Arc::new(buffer), ctx.gate()),
            offset: 0,
            shape: shape.to_vec(),
            dtype,
        })
    }

    /// A one-element tensor over the context's shared placeholder buffer, bound for an optional
    /// input that is absent (the kernel is told not to read it).
    pub(crate) fn placeholder(ctx: &Context, dtype: DType) -> Result<Tensor> {
        Ok(Tensor {
            buffer: Serialized::new(ctx.placeholder()?, ctx.gate()),
            offset: 0,
            shape: vec![1],
            dtype,
        })
    }

    /// A tensor at the start of a buffer kiln allocated (a plan's pooled memory).
    pub(crate) fn in_buffer(
        ctx: &Context,
        buffer: Arc<wgpu::Buffer>,
        shape: &[usize],
        dtype: DType,
    ) -> Tensor {
        Tensor {
            buffer: Serialized::new(buffer, ctx.gate()),
            offset: 0,
            shape: shape.to_vec(),
            dtype,
        }
    }

    /// Uploads f32 data.
    pub fn from_f32(ctx: &Context, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        Tensor::upload(
            ctx,
            shape,
            DType::F32,
            bytemuck::cast_slice(data),
            data.len(),
        )
    }

    /// Uploads u32 data (token ids, labels).
    pub fn from_u32(ctx: &Context, shape: &[usize], data: &[u32]) -> Result<Tensor> {
        Tensor::upload(
            ctx,
            shape,
            DType::U32,
            bytemuck::cast_slice(data),
            data.len(),
        )
    }

    fn upload(
        ctx: &Context,
        shape: &[usize],
        dtype: DType,
        bytes: &[u8],
        len: usize,
    ) -> Result<Tensor> {
        if len != numel(shape) {
            return Err(Error::Length {
                during: "uploading a tensor".into(),
                expected: numel(shape),
                got: len,
            });
        }
        let tensor = Tensor::zeros(ctx, shape, dtype)?;
        // A queue write rather than a buffer mapped at creation: mapping panics inside wgpu when
        // the device is lost, a queue write reports an error at the next sync point.
        if !bytes.is_empty() {
            ctx.write_buffer(&tensor.buffer, 0, bytes);
        }
        ctx.check()?;
        Ok(tensor)
    }

    /// Wraps part of an existing buffer (a host's, say) without copying. The buffer needs
    /// `STORAGE` usage (and `COPY_SRC` to be downloaded); `offset` must respect the device's
    /// `min_storage_buffer_offset_alignment`.
    pub fn from_buffer(
        ctx: &Context,
        buffer: Arc<wgpu::Buffer>,
        offset: u64,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Tensor> {
        let align = ctx.device().limits().min_storage_buffer_offset_alignment as u64;
        if !offset.is_multiple_of(align) {
            return Err(Error::Unsupported(format!(
                "a tensor's offset must be a multiple of {align} bytes, got {offset}"
            )));
        }
        if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
            return Err(Error::Unsupported(
                "a buffer wrapped as a tensor needs wgpu::BufferUsages::STORAGE".into(),
            ));
        }
        let bytes = numel(shape) as u64 * dtype.size();
        if offset + bytes > buffer.size() {
            return Err(Error::Unsupported(format!(
                "a tensor of shape {shape:?} at offset {offset} needs {} bytes, the buffer has {}",
                offset + bytes,
                buffer.size()
            )));
        }
        Ok(Tensor {
            buffer: Serialized::new(buffer, ctx.gate()),
            offset,
            shape: shape.to_vec(),
            dtype,
        })
    }

    /// The same data seen with another shape of equal element count.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if numel(shape) != self.numel() {
            return Err(crate::error::shape_error(
                "reshape",
                "the same number of elements",
                &[&self.shape, shape],
            ));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            ..self.clone()
        })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Size in bytes of the tensor's data.
    pub fn byte_size(&self) -> u64 {
        self.numel() as u64 * self.dtype.size()
    }

    /// The underlying buffer; the tensor's data starts at [`Tensor::offset`].
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Byte offset of the tensor's data in [`Tensor::buffer`].
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The binding of this tensor's bytes, for a bind group.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.offset,
            size: wgpu::BufferSize::new(self.byte_size().max(4)),
        })
    }

    /// Copies f32 data into the tensor (same length), through the queue.
    pub fn write_f32(&self, ctx: &Context, data: &[f32]) -> Result<()> {
        self.expect_dtype("write_f32", DType::F32)?;
        self.write_bytes(ctx, bytemuck::cast_slice(data), data.len())
    }

    /// Copies u32 data into the tensor (same length), through the queue.
    pub fn write_u32(&self, ctx: &Context, data: &[u32]) -> Result<()> {
        self.expect_dtype("write_u32", DType::U32)?;
        self.write_bytes(ctx, bytemuck::cast_slice(data), data.len())
    }

    fn write_bytes(&self, ctx: &Context, bytes: &[u8], len: usize) -> Result<()> {
        if len != self.numel() {
            return Err(Error::Length {
                during: "writing a tensor".into(),
                expected: self.numel(),
                got: len,
            });
        }
        if !bytes.is_empty() {
            ctx.write_buffer(&self.buffer, self.offset, bytes);
        }
        Ok(())
    }

    /// Downloads the data as f32 (waits for the GPU).
    pub fn to_vec_f32(&self, ctx: &Context) -> Result<Vec<f32>> {
        self.expect_dtype("to_vec_f32", DType::F32)?;
        self.read_words(ctx)
    }

    /// Downloads the data as u32 (waits for the GPU).
    pub fn to_vec_u32(&self, ctx: &Context) -> Result<Vec<u32>> {
        self.expect_dtype("to_vec_u32", DType::U32)?;
        self.read_words(ctx)
    }

    fn expect_dtype(&self, op: &'static str, want: DType) -> Result<()> {
        if self.dtype != want {
            return Err(Error::DType {
                op,
                message: format!("the tensor holds {:?}, not {want:?}", self.dtype),
            });
        }
        Ok(())
    }

    /// Reads the buffer into a `Vec<T>` of 4-byte words ([`mapped_words`]).
    fn read_words<T: bytemuck::Pod>(&self, ctx: &Context) -> Result<Vec<T>> {
        let size = self.byte_size();
        if size == 0 {
            return Ok(Vec::new());
        }
        // The staging buffer is made, mapped and dropped on this thread alone (GL).
        let _inside = ctx.exclusive();
        ctx.count_objects(1);
        let staging = ctx.scoped("allocating a readback buffer", || {
            ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("kiln.readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })?;
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln.readback"),
            });
        encoder.copy_buffer_to_buffer(&self.buffer, self.offset, &staging, 0, size);
        let index = ctx.submit(encoder.finish())?;
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            // The receiver outlives the wait below; a send error means nobody is listening.
            let _ = tx.send(r);
        });
        ctx.wait(Some(index))?;
        // Another thread polling the same device may be the one that runs the callback, a
        // moment after our wait returns: keep polling until it has, within the wait limit.
        let start = std::time::Instant::now();
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(2)) {
                Ok(Ok(())) => break,
                Ok(Err(e)) => {
                    return Err(Error::Wgpu {
                        during: "mapping a readback buffer".into(),
                        message: e.to_string(),
                    })
                }
                Err(_) if start.elapsed() < crate::context::WAIT_LIMIT => {
                    ctx.poll("mapping a readback buffer")?;
                    ctx.check()?;
                }
                Err(_) => {
                    return Err(Error::Timeout {
                        during: "mapping a readback buffer".into(),
                        seconds: start.elapsed().as_secs_f64(),
                    })
                }
            }
        }
        mapped_words(&staging, "reading a readback buffer")
    }
}

/// Copies a mapped buffer into a `Vec<T>` of 4-byte words and unmaps it: straight into the
/// words, because a byte vector's alignment is the allocator's to choose (an empty one is not
/// 4-aligned, and casting it panicked).
pub(crate) fn mapped_words<T: bytemuck::Pod>(
    buffer: &wgpu::Buffer,
    during: &str,
) -> Result<Vec<T>> {
    let mut words = vec![T::zeroed(); buffer.size() as usize / std::mem::size_of::<T>()];
    {
        let mapped = buffer
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Wgpu {
                during: during.into(),
                message: e.to_string(),
            })?;
        bytemuck::cast_slice_mut::<T, u8>(&mut words).copy_from_slice(&mapped);
    }
    buffer.unmap();
    Ok(words)
}
