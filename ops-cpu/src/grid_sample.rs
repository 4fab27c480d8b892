//! Kernels of bilinear grid_sample and its adjoint, with PyTorch's coordinate
//! arithmetic (unnormalize, optional border clamp, four weighted corners).

use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{GridPadding, GridSampleSpec, Result, Shape, Storage};

/// The four corners of one sampling position: flat offsets into a plane and
/// weights; corners outside the input get weight 0 and offset 0.
#[derive(Clone, Copy)]
struct Corners<T> {
    offset: [usize; 4],
    weight: [T; 4],
}

fn source_index<T: CpuElement>(coord: T, size: usize, spec: &GridSampleSpec) -> T {
    let one = T::one();
    let two = one + one;
    let s = T::from_f64(size as f64);
    let mut v = if spec.align_corners {
        (coord + one) / two * (s - one)
    } else {
        ((coord + one) * s - one) / two
    };
    if spec.padding == GridPadding::Border {
        v = v.max(T::zero()).min(s - one);
    }
    v
}

fn corners<T: CpuElement>(gx: T, gy: T, h: usize, w: usize, spec: &GridSampleSpec) -> Corners<T> {
    let ix = source_index(gx, w, spec);
    let iy = source_index(gy, h, spec);
    let (x0, y0) = (ix.floor(), iy.floor());
    let (x1, y1) = (x0 + T::one(), y0 + T::one());
    let weights = [
        (x1 - ix) * (y1 - iy),
        (ix - x0) * (y1 - iy),
        (x1 - ix) * (iy - y0),
        (ix - x0) * (iy - y0),
    ];
    let xs = [x0, x1, x0, x1];
    let ys = [y0, y0, y1, y1];
    let mut c = Corners {
        offset: [0; 4],
        weight: [T::zero(); 4],
    };
    for k in 0..4 {
        let (x, y) = (xs[k].to_f64(), ys[k].to_f64());
        if x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64 {
            c.offset[k] = y as usize * w + x as usize;
            c.weight[k] = weights[k];
        }
    }
    c
}

pub fn grid_sample<T: CpuElement>(
    (x, xs): (&Storage, &Shape),
    (grid, gs): (&Storage, &Shape),
    spec: &GridSampleSpec,
) -> Result<Storage> {
    let (x, grid) = (slice::<T>(x)?, slice::<T>(grid)?);
    let (n, c, h, w) = (xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3));
    let (ho, wo) = (gs.dim(1), gs.dim(2));
    let (plane_in, plane_out) = (h * w, ho * wo);
    let mut out = uninit_vec::<T>(n * c * plane_out);
    out.par_chunks_mut(c * plane_out.max(1))
        .enumerate()
        .for_each(|(ni, o)| {
            let xin = &x[ni * c * plane_in..(ni + 1) * c * plane_in];
            let g = &grid[ni * plane_out * 2..(ni + 1) * plane_out * 2];
            for p in 0..plane_out {
                let k = corners(g[2 * p], g[2 * p + 1], h, w, spec);
                for ci in 0..c {
                    let src = &xin[ci * plane_in..(ci + 1) * plane_in];
                    let mut acc = T::zero();
                    for j in 0..4 {
                        acc = acc + src[k.offset[j]] * k.weight[j];
                    }
                    o[ci * plane_out + p] = acc;
                }
            }
        });
    Ok(wrap(out))
}

pub fn grid_sample_backward<T: CpuElement>(
    (dy, _): (&Storage, &Shape),
    (grid, gs): (&Storage, &Shape),
    xs: &Shape,
    spec: &GridSampleSpec,
) -> Result<Storage> {
    let (dy, grid) = (slice::<T>(dy)?, slice::<T>(grid)?);
    let (n, c, h, w) = (xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3));
    let (ho, wo) = (gs.dim(1), gs.dim(2));
    let (plane_in, plane_out) = (h * w, ho * wo);
    let mut dx = vec![T::zero(); n * c * plane_in];
    // One image per task: each writes only its own slice, in a fixed order.
    dx.par_chunks_mut(c * plane_in.max(1))
        .enumerate()
        .for_each(|(ni, d)| {
            let g = &grid[ni * plane_out * 2..(ni + 1) * plane_out * 2];
            let dyn_ = &dy[ni * c * plane_out..(ni + 1) * c * plane_out];
            for p in 0..plane_out {
                let k = corners(g[2 * p], g[2 * p + 1], h, w, spec);
                for ci in 0..c {
                    let v = dyn_[ci * plane_out + p];
                    let dst = &mut d[ci * plane_in..(ci + 1) * plane_in];
                    for j in 0..4 {
                        dst[k.offset[j]] = dst[k.offset[j]] + v * k.weight[j];
                    }
                }
            }
        });
    Ok(wrap(dx))
}
