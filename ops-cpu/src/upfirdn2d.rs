//! Kernel of `upfirdn2d`, per plane: the zero-inserted and padded (or
//! cropped) image is laid out in a scratch buffer, every filter tap is then one
//! long multiply-add over the whole flattened buffer (rows keep the padded
//! width, so a tap is a plain shift; the columns past the valid width are
//! computed and dropped), and the output picks every `down`-th row and column.
//! Long contiguous loops vectorise; planes of StyleGAN's sizes fit in cache.
//! A separable 1-D filter runs as two such passes, x then y.

use crate::simd::{axpy, scale};
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{Result, Shape, Storage, Upfirdn2dSpec};

struct Pass<'a, T> {
    /// Effective filter, already reversed (unless flipped) and scaled: `[fh, fw]`.
    fe: &'a [T],
    fh: usize,
    fw: usize,
    up: [usize; 2],
    down: [usize; 2],
    pad: [isize; 4],
}

/// Sizes of one pass over an `h x w` plane.
#[derive(Clone, Copy)]
struct Geom {
    h: usize,
    w: usize,
    /// The padded, upsampled image.
    ph: usize,
    pw: usize,
    /// Rows of the full-resolution filter output (before keeping every down-th).
    fullh: usize,
    oh: usize,
    ow: usize,
}

impl<T: CpuElement> Pass<'_, T> {
    fn geom(&self, h: usize, w: usize) -> Geom {
        let [upx, upy] = self.up;
        let [downx, downy] = self.down;
        let [px0, px1, py0, py1] = self.pad;
        let ph = ((h * upy) as isize + py0 + py1) as usize;
        let pw = ((w * upx) as isize + px0 + px1) as usize;
        let fullh = ph + 1 - self.fh;
        Geom {
            h,
            w,
            ph,
            pw,
            fullh,
            oh: (fullh - 1) / downy + 1,
            ow: (pw - self.fw) / downx + 1,
        }
    }

    /// Writes the padded, zero-inserted image of `src` into `p` (`ph x pw`).
    fn layout(&self, g: &Geom, src: &[T], p: &mut [T]) {
        let [upx, upy] = self.up;
        let [px0, _, py0, _] = self.pad;
        p.fill(T::zero());
        for iy in 0..g.h {
            let u = (iy * upy) as isize + py0;
            if u < 0 || u >= g.ph as isize {
                continue;
            }
            let dst = &mut p[u as usize * g.pw..(u as usize + 1) * g.pw];
            let row = &src[iy * g.w..(iy + 1) * g.w];
            // Input columns whose position ix * upx + px0 lies inside the row.
            let first = if px0 < 0 {
                ((-px0) as usize).div_ceil(upx)
            } else {
                0
            };
            let last = ((g.pw as isize - 1 - px0).max(-1) + 1) as usize; // ix * upx < pw - px0
            let end = last.div_ceil(upx).min(g.w);
            if first >= end {
                continue;
            }
            let v0 = ((first * upx) as isize + px0) as usize;
            if upx == 1 {
                dst[v0..v0 + end - first].copy_from_slice(&row[first..end]);
            } else {
                for (j, &v) in row[first..end].iter().enumerate() {
                    dst[v0 + j * upx] = v;
                }
            }
        }
    }

    /// `full[j] = sum_taps fe[ky, kx] * p[j + ky * pw + kx]` for every `j` of
    /// the `fullh` rows of width `pw`.
    fn correlate(&self, g: &Geom, p: &[T], full: &mut [T]) {
        // The last valid output of the last row ends before the buffer does.
        let len = (g.fullh - 1) * g.pw + (g.pw + 1 - self.fw);
        let out = &mut full[..len];
        for ky in 0..self.fh {
            for kx in 0..self.fw {
                let c = self.fe[ky * self.fw + kx];
                let src = &p[ky * g.pw + kx..ky * g.pw + kx + len];
                if ky == 0 && kx == 0 {
                    scale(out, c, src);
                } else {
                    axpy(out, c, src);
                }
            }
        }
    }

    fn run(&self, x: &[T], planes: usize, h: usize, w: usize) -> (Vec<T>, [usize; 2]) {
        let g = self.geom(h, w);
        let [downx, downy] = self.down;
        let plane_out = g.oh * g.ow;
        let mut out = uninit_vec::<T>(planes * plane_out);
        if plane_out == 0 {
            return (out, [g.oh, g.ow]);
        }
        let work = |first: usize, dst: &mut [T]| {
            let mut p = vec![T::zero(); g.ph * g.pw];
            let mut full = vec![T::zero(); g.fullh * g.pw];
            for (k, o) in dst.chunks_mut(plane_out).enumerate() {
                let src = &x[(first + k) * h * w..(first + k + 1) * h * w];
                self.layout(&g, src, &mut p);
                self.correlate(&g, &p, &mut full);
                for (oy, orow) in o.chunks_mut(g.ow).enumerate() {
                    let frow = &full[oy * downy * g.pw..];
                    if downx == 1 {
                        orow.copy_from_slice(&frow[..g.ow]);
                    } else {
                        for (ox, v) in orow.iter_mut().enumerate() {
                            *v = frow[ox * downx];
                        }
                    }
                }
            }
        };
        // Groups of planes per task, sized by work rather than by thread count,
        // so the result never depends on the number of threads.
        let per_task = (1 << 16) / (g.ph * g.pw * self.fh * self.fw).max(1) + 1;
        out.par_chunks_mut(per_task * plane_out)
            .enumerate()
            .for_each(|(t, dst)| work(t * per_task, dst));
        (out, [g.oh, g.ow])
    }
}

/// `f` reversed along both axes unless `flip_filter` (a true convolution), times `gain`.
fn effective<T: CpuElement>(f: &[T], flip_filter: bool, gain: f64) -> Vec<T> {
    let g = T::from_f64(gain);
    let mut fe: Vec<T> = f.iter().map(|&v| v * g).collect();
    if !flip_filter {
        fe.reverse();
    }
    fe
}

pub fn upfirdn2d<T: CpuElement>(
    (x, xs): (&Storage, &Shape),
    (f, fs): (&Storage, &Shape),
    spec: &Upfirdn2dSpec,
) -> Result<Storage> {
    let (x, f) = (slice::<T>(x)?, slice::<T>(f)?);
    let (planes, h, w) = (xs.dim(0) * xs.dim(1), xs.dim(2), xs.dim(3));
    if fs.rank() == 2 {
        // Reversing the row-major 2-D array reverses both axes.
        let fe = effective(f, spec.flip_filter, spec.gain);
        let pass = Pass {
            fe: &fe,
            fh: fs.dim(0),
            fw: fs.dim(1),
            up: spec.up,
            down: spec.down,
            pad: spec.pad,
        };
        return Ok(wrap(pass.run(x, planes, h, w).0));
    }
    let taps = fs.dim(0);
    let fe = effective(f, spec.flip_filter, spec.gain.sqrt());
    let [px0, px1, py0, py1] = spec.pad;
    let along_x = Pass {
        fe: &fe,
        fh: 1,
        fw: taps,
        up: [spec.up[0], 1],
        down: [spec.down[0], 1],
        pad: [px0, px1, 0, 0],
    };
    let (tmp, [h1, w1]) = along_x.run(x, planes, h, w);
    let along_y = Pass {
        fe: &fe,
        fh: taps,
        fw: 1,
        up: [1, spec.up[1]],
        down: [1, spec.down[1]],
        pad: [0, 0, py0, py1],
    };
    Ok(wrap(along_y.run(&tmp, planes, h1, w1).0))
}
