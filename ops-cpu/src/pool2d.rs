//! Kernels of max and average pooling and of the adjoint of average pooling:
//! direct loops over each `H x W` plane, planes split over threads.

use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{Pool2dSpec, PoolKind, Result, Shape, Storage};

/// The window of output position `o` along one axis: input range `lo..hi`
/// (clipped to the input) for kernel `k`, stride `s`, padding `p`, size `n`.
#[inline]
fn window(o: usize, k: usize, s: usize, p: usize, n: usize) -> (usize, usize) {
    let start = (o * s) as isize - p as isize;
    let lo = start.max(0) as usize;
    let hi = ((start + k as isize).max(0) as usize).min(n);
    (lo, hi.max(lo))
}

struct Geom {
    h: usize,
    w: usize,
    ho: usize,
    wo: usize,
    spec: Pool2dSpec,
}

impl Geom {
    fn new(xs: &Shape, spec: &Pool2dSpec) -> Geom {
        let [ho, wo] = spec
            .output_hw([xs.dim(2), xs.dim(3)])
            .expect("checked by the core");
        Geom {
            h: xs.dim(2),
            w: xs.dim(3),
            ho,
            wo,
            spec: *spec,
        }
    }
    fn rows(&self, oy: usize) -> (usize, usize) {
        let s = &self.spec;
        window(oy, s.kernel[0], s.stride[0], s.padding[0], self.h)
    }
    fn cols(&self, ox: usize) -> (usize, usize) {
        let s = &self.spec;
        window(ox, s.kernel[1], s.stride[1], s.padding[1], self.w)
    }
    fn divisor(&self, rows: (usize, usize), cols: (usize, usize)) -> f64 {
        match self.spec.kind {
            PoolKind::Avg {
                count_include_pad: true,
            } => (self.spec.kernel[0] * self.spec.kernel[1]) as f64,
            _ => ((rows.1 - rows.0) * (cols.1 - cols.0)).max(1) as f64,
        }
    }
}

/// Planes per parallel task: about 32k output elements each.
fn planes_per_task(plane_len: usize) -> usize {
    (1 << 15) / plane_len.max(1) + 1
}

/// The first maximum of one window (NaN wins, as in PyTorch) and its flat index.
#[inline]
fn window_max<T: CpuElement>(
    plane: &[T],
    w: usize,
    rows: (usize, usize),
    cols: (usize, usize),
) -> (T, usize) {
    let mut best = T::neg_infinity();
    let mut at = rows.0 * w + cols.0;
    for iy in rows.0..rows.1 {
        for (ix, &v) in plane[iy * w + cols.0..iy * w + cols.1].iter().enumerate() {
            if v > best || v.is_nan() {
                best = v;
                at = iy * w + cols.0 + ix;
                if v.is_nan() {
                    return (best, at);
                }
            }
        }
    }
    (best, at)
}

pub fn pool2d<T: CpuElement>((x, xs): (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let g = Geom::new(xs, spec);
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let mut out = uninit_vec::<T>(xs.dim(0) * xs.dim(1) * plane_out);
    if plane_out == 0 {
        return Ok(wrap(out));
    }
    let per = planes_per_task(plane_out);
    out.par_chunks_mut(per * plane_out)
        .enumerate()
        .for_each(|(task, dst)| {
            for (i, dplane) in dst.chunks_mut(plane_out).enumerate() {
                let p = task * per + i;
                let plane = &x[p * plane_in..(p + 1) * plane_in];
                for oy in 0..g.ho {
                    let rows = g.rows(oy);
                    for ox in 0..g.wo {
                        let cols = g.cols(ox);
                        dplane[oy * g.wo + ox] = match g.spec.kind {
                            PoolKind::Max => window_max(plane, g.w, rows, cols).0,
                            PoolKind::Avg { .. } => {
                                let mut sum = T::zero();
                                for iy in rows.0..rows.1 {
                                    for &v in &plane[iy * g.w + cols.0..iy * g.w + cols.1] {
                                        sum = sum + v;
                                    }
                                }
                                sum / T::from_f64(g.divisor(rows, cols))
                            }
                        };
                    }
                }
            }
        });
    Ok(wrap(out))
}

pub fn avg_pool2d_backward<T: CpuElement>(
    (dy, dys): (&Storage, &Shape),
    xs: &Shape,
    spec: &Pool2dSpec,
) -> Result<Storage> {
    let dy = slice::<T>(dy)?;
    let g = Geom::new(xs, spec);
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let mut out = vec![T::zero(); dys.dim(0) * dys.dim(1) * plane_in];
    if plane_in == 0 {
        return Ok(wrap(out));
    }
    let per = planes_per_task(plane_in);
    out.par_chunks_mut(per * plane_in)
        .enumerate()
        .for_each(|(task, dst)| {
            for (i, dplane) in dst.chunks_mut(plane_in).enumerate() {
                let p = task * per + i;
                let gplane = &dy[p * plane_out..(p + 1) * plane_out];
                for oy in 0..g.ho {
                    let rows = g.rows(oy);
                    for ox in 0..g.wo {
                        let cols = g.cols(ox);
                        let v = gplane[oy * g.wo + ox] / T::from_f64(g.divisor(rows, cols));
                        for iy in rows.0..rows.1 {
                            for d in &mut dplane[iy * g.w + cols.0..iy * g.w + cols.1] {
                                *d = *d + v;
                            }
                        }
                    }
                }
            }
        });
    Ok(wrap(out))
}

pub fn max_pool2d_argmax<T: CpuElement>(
    (x, xs): (&Storage, &Shape),
    spec: &Pool2dSpec,
) -> Result<Vec<usize>> {
    let x = slice::<T>(x)?;
    let g = Geom::new(xs, spec);
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let mut out = vec![0usize; xs.dim(0) * xs.dim(1) * plane_out];
    if plane_out == 0 {
        return Ok(out);
    }
    let per = planes_per_task(plane_out);
    out.par_chunks_mut(per * plane_out)
        .enumerate()
        .for_each(|(task, dst)| {
            for (i, dplane) in dst.chunks_mut(plane_out).enumerate() {
                let p = task * per + i;
                let plane = &x[p * plane_in..(p + 1) * plane_in];
                for oy in 0..g.ho {
                    let rows = g.rows(oy);
                    for ox in 0..g.wo {
                        dplane[oy * g.wo + ox] = window_max(plane, g.w, rows, g.cols(ox)).1;
                    }
                }
            }
        });
    Ok(out)
}
