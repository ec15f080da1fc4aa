//! `kmeans`: the centroid update of spherical k-means, the training step of the IVF index's
//! coarse quantiser (the assignment step is [`topk`](super::topk) with k = 1).
//!
//! Dimension letters: S points, C centroids, D dimension (a multiple of 4).
//! - forward: for each centroid c with members `members[offsets[c] .. offsets[c+1]]` (point
//!   indices, from a counting sort of the assignment), `centroids[c] = s / |s|` with
//!   `s = Σ_m points[m]`. A centroid with no members keeps its value; one whose members sum to
//!   exactly zero becomes zero.
//! - Not differentiable.
//!
//! Kernel: `shaders/kmeans.wgsl`.

use crate::context::Context;
use crate::error::{shape_error, Error, Result};
use crate::kernels::{grid_for, run, Dispatch, Kernel};
use crate::tensor::{DType, Tensor};

use super::check_f32;

/// Invocations per workgroup in `shaders/kmeans.wgsl`.
const WG: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    clusters: u32,
    d4: u32,
    _pad0: u32,
    _pad1: u32,
}
const _: () = assert!(std::mem::size_of::<Params>().is_multiple_of(16));

/// Checks points `[S, D]`, members `[M]`, offsets `[C + 1]` and centroids `[C, D]`, D a positive
/// multiple of 4.
pub fn shape(
    points: &[usize],
    members: &[usize],
    offsets: &[usize],
    centroids: &[usize],
) -> Result<()> {
    let ok = points.len() == 2
        && centroids.len() == 2
        && points[1] == centroids[1]
        && points[1] > 0
        && points[1].is_multiple_of(4)
        && members.len() == 1
        && offsets == [centroids[0] + 1];
    if !ok {
        return Err(shape_error(
            "kmeans",
            "points [S, D], members [M], offsets [C + 1], centroids [C, D], D a multiple of 4",
            &[points, members, offsets, centroids],
        ));
    }
    Ok(())
}

/// Prepares the update of `centroids` in place. The caller guarantees that `offsets` ascend
/// within `[0, M]` and that members index rows of `points` (the kernel does not check).
pub fn forward(
    ctx: &Context,
    points: &Tensor,
    members: &Tensor,
    offsets: &Tensor,
    centroids: &Tensor,
) -> Result<Dispatch> {
    shape(
        points.shape(),
        members.shape(),
        offsets.shape(),
        centroids.shape(),
    )?;
    check_f32("kmeans", &[points, centroids])?;
    for t in [members, offsets] {
        if t.dtype() != DType::U32 {
            return Err(Error::DType {
                op: "kmeans",
                message: format!("members and offsets are u32, got {:?}", t.dtype()),
            });
        }
    }
    let c = centroids.shape()[0];
    let p = Params {
        clusters: c as u32,
        d4: (points.shape()[1] / 4) as u32,
        _pad0: 0,
        _pad1: 0,
    };
    Kernel::new("kmeans", "kmeans_update").dispatch(
        ctx,
        &p,
        &[points, members, offsets, centroids],
        grid_for(c, WG),
    )
}

/// Runs the update now: counting-sorts `assignment` (one centroid index per point, each below
/// C) on the host, uploads the member lists and updates `centroids` in place.
pub fn update(
    ctx: &Context,
    points: &Tensor,
    assignment: &[u32],
    centroids: &Tensor,
) -> Result<()> {
    let c = centroids.shape().first().copied().unwrap_or(0);
    let s = points.shape().first().copied().unwrap_or(0);
    if assignment.len() != s || assignment.iter().any(|&a| a as usize >= c) {
        return Err(shape_error(
            "kmeans",
            format!("one assignment below C = {c} per point"),
            &[points.shape(), &[assignment.len()], centroids.shape()],
        ));
    }
    let mut offsets = vec![0u32; c + 1];
    for &a in assignment {
        offsets[a as usize + 1] += 1;
    }
    for i in 0..c {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut members = vec![0u32; s];
    for (i, &a) in assignment.iter().enumerate() {
        members[fill[a as usize] as usize] = i as u32;
        fill[a as usize] += 1;
    }
    let members = Tensor::from_u32(ctx, &[s.max(1)], &{
        let mut m = members;
        m.resize(s.max(1), 0);
        m
    })?;
    let offsets = Tensor::from_u32(ctx, &[c + 1], &offsets)?;
    run(ctx, &[forward(ctx, points, &members, &offsets, centroids)?])?;
    Ok(())
}
