//! Kernel of `upfirdn2d`: per plane, each output row gathers the input rows its
//! filter taps touch (zero-inserted rows are skipped, never materialised); when
//! the x axis is not upsampled a tap is one shifted (strided) row update, which
//! vectorises. A separable 1-D filter runs as two passes, x then y.

use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{Result, Shape, Storage, Upfirdn2dSpec};

/// For every output index along one axis, the `(tap, input index)` pairs whose
/// upsampled-and-padded position holds a real input sample.
fn taps_along(
    out_len: usize,
    taps: usize,
    down: usize,
    up: usize,
    pad0: isize,
    in_len: usize,
) -> Vec<Vec<(usize, usize)>> {
    (0..out_len)
        .map(|o| {
            (0..taps)
                .filter_map(|k| {
                    let u = (o * down + k) as isize - pad0;
                    let ok = u >= 0 && (u as usize) < in_len * up && u as usize % up == 0;
                    ok.then(|| (k, u as usize / up))
                })
                .collect()
        })
        .collect()
}

/// The output columns `o` with `0 <= o * down + k - pad0 < in_len` (no upsampling).
fn valid_range(
    out_len: usize,
    k: usize,
    down: usize,
    pad0: isize,
    in_len: usize,
) -> (usize, usize) {
    let first = pad0 - k as isize; // o * down >= first
    let lo = if first <= 0 {
        0
    } else {
        (first as usize).div_ceil(down)
    };
    let last = in_len as isize - 1 + pad0 - k as isize; // o * down <= last
    let hi = if last < 0 {
        0
    } else {
        (last as usize / down + 1).min(out_len)
    };
    (lo.min(hi), hi)
}

struct Pass<'a, T> {
    /// Effective filter, already reversed (unless flipped) and scaled: `[fh, fw]`.
    fe: &'a [T],
    fh: usize,
    fw: usize,
    up: [usize; 2],
    down: [usize; 2],
    pad: [isize; 4],
}

impl<T: CpuElement> Pass<'_, T> {
    fn out_hw(&self, h: usize, w: usize) -> [usize; 2] {
        let [upx, upy] = self.up;
        let [downx, downy] = self.down;
        let [px0, px1, py0, py1] = self.pad;
        let oh = ((h * upy) as isize + py0 + py1 - self.fh as isize) as usize / downy + 1;
        let ow = ((w * upx) as isize + px0 + px1 - self.fw as isize) as usize / downx + 1;
        [oh, ow]
    }

    fn run(&self, x: &[T], planes: usize, h: usize, w: usize) -> (Vec<T>, [usize; 2]) {
        let [oh, ow] = self.out_hw(h, w);
        let [upx, upy] = self.up;
        let [downx, downy] = self.down;
        let [px0, _, py0, _] = self.pad;
        let rows = taps_along(oh, self.fh, downy, upy, py0, h);
        let cols = (upx > 1).then(|| taps_along(ow, self.fw, downx, upx, px0, w));
        let ranges: Vec<(usize, usize)> = (0..self.fw)
            .map(|kx| valid_range(ow, kx, downx, px0, w))
            .collect();
        let mut out = uninit_vec::<T>(planes * oh * ow);
        let plane = |p: usize, dst: &mut [T]| {
            let src = &x[p * h * w..(p + 1) * h * w];
            for (oy, yrow) in dst.chunks_mut(ow).enumerate() {
                yrow.fill(T::zero());
                for &(ky, iy) in &rows[oy] {
                    let xrow = &src[iy * w..(iy + 1) * w];
                    let frow = &self.fe[ky * self.fw..(ky + 1) * self.fw];
                    match &cols {
                        None => {
                            for (kx, &coef) in frow.iter().enumerate() {
                                let (lo, hi) = ranges[kx];
                                if lo >= hi {
                                    continue;
                                }
                                let ix0 = (lo * downx + kx) as isize - px0;
                                let ix0 = ix0 as usize;
                                if downx == 1 {
                                    for (o, &v) in yrow[lo..hi].iter_mut().zip(&xrow[ix0..]) {
                                        *o = *o + coef * v;
                                    }
                                } else {
                                    for (j, o) in yrow[lo..hi].iter_mut().enumerate() {
                                        *o = *o + coef * xrow[ix0 + j * downx];
                                    }
                                }
                            }
                        }
                        Some(cols) => {
                            for (o, taps) in yrow.iter_mut().zip(cols) {
                                let mut acc = *o;
                                for &(kx, ix) in taps {
                                    acc = acc + frow[kx] * xrow[ix];
                                }
                                *o = acc;
                            }
                        }
                    }
                }
            }
        };
        let len = oh * ow;
        if len > 0 {
            if planes > 1 {
                out.par_chunks_mut(len)
                    .enumerate()
                    .for_each(|(p, dst)| plane(p, dst));
            } else if planes == 1 {
                plane(0, &mut out);
            }
        }
        (out, [oh, ow])
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
