//! Kernels of conv2d, conv_transpose2d and the conv2d weight gradient: im2col /
//! col2im around one GEMM per (image, group), split over threads by image.

use crate::gemm::{gemm, Mat, Threads};
use crate::storage::{scratch_vec, slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{Conv2dSpec, ConvTranspose2dSpec, Result, Shape, Storage};

/// Geometry of one convolution, in the forward (conv2d) direction: `c` input
/// channels per group at `h x w`, `o` output channels per group at `ho x wo`.
#[derive(Clone, Copy, Debug)]
struct Geom {
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    ho: usize,
    wo: usize,
    kh: usize,
    kw: usize,
    stride: [usize; 2],
    pad: [usize; 2],
}

impl Geom {
    fn krows(&self) -> usize {
        self.c * self.kh * self.kw
    }
    fn in_len(&self) -> usize {
        self.c * self.h * self.w
    }
    fn out_len(&self) -> usize {
        self.o * self.ho * self.wo
    }
    /// A 1x1, stride-1, unpadded convolution is a plain matrix product.
    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == [1, 1] && self.pad == [0, 0]
    }
    /// The output columns `ox` whose input column `ox * s + kx - p` is inside.
    fn valid_cols(&self, kx: usize) -> (usize, usize) {
        let (s, p) = (self.stride[1], self.pad[1] as isize);
        let first = (p - kx as isize).max(0) as usize;
        let lo = first.div_ceil(s);
        let last = self.w as isize - 1 + p - kx as isize; // largest ox * s
        let hi = if last < 0 {
            0
        } else {
            (last as usize / s + 1).min(self.wo)
        };
        (lo.min(hi), hi)
    }
}

/// `col[(ci, ky, kx), (oy, ox)] = x[ci, oy*s + ky - p, ox*s + kx - p]` (0 outside).
fn im2col<T: CpuElement>(x: &[T], g: &Geom, col: &mut [T]) {
    let (ho, wo) = (g.ho, g.wo);
    let (sy, sx) = (g.stride[0], g.stride[1]);
    for ci in 0..g.c {
        let plane = &x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let r = (ci * g.kh + ky) * g.kw + kx;
                let dst = &mut col[r * ho * wo..(r + 1) * ho * wo];
                let (lo, hi) = g.valid_cols(kx);
                for oy in 0..ho {
                    let row = &mut dst[oy * wo..(oy + 1) * wo];
                    let iy = (oy * sy + ky) as isize - g.pad[0] as isize;
                    if iy < 0 || iy >= g.h as isize || lo >= hi {
                        row.fill(T::zero());
                        continue;
                    }
                    let src = &plane[iy as usize * g.w..(iy as usize + 1) * g.w];
                    row[..lo].fill(T::zero());
                    row[hi..].fill(T::zero());
                    let ix0 = lo * sx + kx - g.pad[1];
                    if sx == 1 {
                        row[lo..hi].copy_from_slice(&src[ix0..ix0 + (hi - lo)]);
                    } else {
                        for (j, v) in row[lo..hi].iter_mut().enumerate() {
                            *v = src[ix0 + j * sx];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: `x[ci, iy, ix] += col[(ci, ky, kx), (oy, ox)]`.
fn col2im<T: CpuElement>(col: &[T], g: &Geom, x: &mut [T]) {
    let (ho, wo) = (g.ho, g.wo);
    let (sy, sx) = (g.stride[0], g.stride[1]);
    for ci in 0..g.c {
        let plane = &mut x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let r = (ci * g.kh + ky) * g.kw + kx;
                let src = &col[r * ho * wo..(r + 1) * ho * wo];
                let (lo, hi) = g.valid_cols(kx);
                if lo >= hi {
                    continue;
                }
                for oy in 0..ho {
                    let iy = (oy * sy + ky) as isize - g.pad[0] as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let dst = &mut plane[iy as usize * g.w..(iy as usize + 1) * g.w];
                    let row = &src[oy * wo + lo..oy * wo + hi];
                    let ix0 = lo * sx + kx - g.pad[1];
                    if sx == 1 {
                        for (d, &v) in dst[ix0..ix0 + (hi - lo)].iter_mut().zip(row) {
                            *d = *d + v;
                        }
                    } else {
                        for (j, &v) in row.iter().enumerate() {
                            dst[ix0 + j * sx] = dst[ix0 + j * sx] + v;
                        }
                    }
                }
            }
        }
    }
}

/// `[C, H, W]` -> `[H, W, C]`, so that the patches of a weight gradient are
/// contiguous runs of channels.
fn to_channels_last<T: CpuElement>(x: &[T], c: usize, hw: usize, out: &mut [T]) {
    const TILE: usize = 32;
    for c0 in (0..c).step_by(TILE) {
        for p0 in (0..hw).step_by(TILE) {
            for ci in c0..(c0 + TILE).min(c) {
                for p in p0..(p0 + TILE).min(hw) {
                    out[p * c + ci] = x[ci * hw + p];
                }
            }
        }
    }
}

/// `colt[(oy, ox), (ky, kx, ci)] = xt[oy*s + ky - p, ox*s + kx - p, ci]` from a
/// channels-last input: the transposed im2col, in the row-major layout that
/// the GEMM of a weight gradient reads fastest.
fn im2col_t<T: CpuElement>(xt: &[T], g: &Geom, colt: &mut [T]) {
    let c = g.c;
    let row_len = g.kh * g.kw * c;
    for oy in 0..g.ho {
        for ox in 0..g.wo {
            let row = &mut colt[(oy * g.wo + ox) * row_len..][..row_len];
            for ky in 0..g.kh {
                let iy = (oy * g.stride[0] + ky) as isize - g.pad[0] as isize;
                for kx in 0..g.kw {
                    let ix = (ox * g.stride[1] + kx) as isize - g.pad[1] as isize;
                    let dst = &mut row[(ky * g.kw + kx) * c..][..c];
                    if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                        dst.fill(T::zero());
                    } else {
                        dst.copy_from_slice(&xt[(iy as usize * g.w + ix as usize) * c..][..c]);
                    }
                }
            }
        }
    }
}

/// Runs `job(index, out_chunk, threads)` over consecutive chunks of `out`:
/// one thread per chunk when there are enough chunks, else all threads inside.
fn run_jobs<T: CpuElement>(
    out: &mut [T],
    chunk: usize,
    job: impl Fn(usize, &mut [T], Threads) + Sync + Send,
) {
    if chunk == 0 {
        return;
    }
    let jobs = out.len() / chunk;
    if jobs > 1 && jobs >= rayon::current_num_threads() {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| job(i, c, Threads::One));
    } else {
        out.chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| job(i, c, Threads::All));
    }
}

fn forward_geom(
    xs: &Shape,
    ws: &Shape,
    ho: usize,
    wo: usize,
    stride: [usize; 2],
    pad: [usize; 2],
    groups: usize,
) -> Geom {
    Geom {
        c: xs.dim(1) / groups,
        h: xs.dim(2),
        w: xs.dim(3),
        o: ws.dim(0) / groups,
        ho,
        wo,
        kh: ws.dim(2),
        kw: ws.dim(3),
        stride,
        pad,
    }
}

pub fn conv2d<T: CpuElement>(
    (x, xs): (&Storage, &Shape),
    (w, ws): (&Storage, &Shape),
    spec: &Conv2dSpec,
) -> Result<Storage> {
    let (x, w) = (slice::<T>(x)?, slice::<T>(w)?);
    let groups = spec.groups;
    let [ho, wo] = spec
        .output_hw([xs.dim(2), xs.dim(3)], [ws.dim(2), ws.dim(3)])
        .expect("checked by the core");
    let g = forward_geom(xs, ws, ho, wo, spec.stride, spec.padding, groups);
    let mut out = uninit_vec::<T>(xs.dim(0) * groups * g.out_len());
    run_jobs(&mut out, g.out_len(), |job, dst, threads| {
        let (n, gi) = (job / groups, job % groups);
        let xg = &x[(n * groups + gi) * g.in_len()..][..g.in_len()];
        let wg = Mat::rows(
            &w[gi * g.o * g.krows()..][..g.o * g.krows()],
            g.o,
            g.krows(),
        );
        if g.is_pointwise() {
            gemm(dst, wg, Mat::rows(xg, g.c, ho * wo), false, threads);
        } else {
            let mut col = scratch_vec::<T>(g.krows() * ho * wo);
            im2col(xg, &g, &mut col);
            gemm(dst, wg, Mat::rows(&col, g.krows(), ho * wo), false, threads);
        }
    });
    Ok(wrap(out))
}

pub fn conv_transpose2d<T: CpuElement>(
    (x, xs): (&Storage, &Shape),
    (w, ws): (&Storage, &Shape),
    spec: &ConvTranspose2dSpec,
) -> Result<Storage> {
    let (x, w) = (slice::<T>(x)?, slice::<T>(w)?);
    let groups = spec.groups;
    let [ho, wo] = spec
        .output_hw([xs.dim(2), xs.dim(3)], [ws.dim(2), ws.dim(3)])
        .expect("checked by the core");
    // Seen from the forward conv2d it is the adjoint of: input = our output.
    let cin_g = xs.dim(1) / groups;
    let cout_g = ws.dim(1);
    let g = Geom {
        c: cout_g,
        h: ho,
        w: wo,
        o: cin_g,
        ho: xs.dim(2),
        wo: xs.dim(3),
        kh: ws.dim(2),
        kw: ws.dim(3),
        stride: spec.stride,
        pad: spec.padding,
    };
    let mut out = uninit_vec::<T>(xs.dim(0) * groups * g.in_len());
    run_jobs(&mut out, g.in_len(), |job, dst, threads| {
        let (n, gi) = (job / groups, job % groups);
        let xg = Mat::rows(
            &x[(n * groups + gi) * g.out_len()..][..g.out_len()],
            cin_g,
            g.ho * g.wo,
        );
        // w_g is [cin_g, cout_g*kh*kw]; we need its transpose.
        let wg = Mat::rows_t(
            &w[gi * cin_g * g.krows()..][..cin_g * g.krows()],
            cin_g,
            g.krows(),
        );
        if g.is_pointwise() {
            gemm(dst, wg, xg, false, threads);
        } else {
            let mut col = scratch_vec::<T>(g.krows() * g.ho * g.wo);
            gemm(&mut col, wg, xg, false, threads);
            col2im(&col, &g, dst);
        }
    });
    Ok(wrap(out))
}

pub fn conv2d_weight_grad<T: CpuElement>(
    (x, xs): (&Storage, &Shape),
    (dy, dys): (&Storage, &Shape),
    ws: &Shape,
    spec: &Conv2dSpec,
) -> Result<Storage> {
    let (x, dy) = (slice::<T>(x)?, slice::<T>(dy)?);
    let groups = spec.groups;
    let n = xs.dim(0);
    let g = forward_geom(
        xs,
        ws,
        dys.dim(2),
        dys.dim(3),
        spec.stride,
        spec.padding,
        groups,
    );
    let wlen = g.o * g.krows();
    let hw = g.ho * g.wo;
    // dW_g[o, (ky, kx, ci)] = sum_n dY_ng[o, :] . colT_ng[:, (ky, kx, ci)], both
    // operands row-major; the kernel-major result is permuted to OIHW at the end.
    let image_grad = |ni: usize, gi: usize, dst: &mut [T], threads: Threads| {
        let xg = &x[(ni * groups + gi) * g.in_len()..][..g.in_len()];
        let dyg = Mat::rows(
            &dy[(ni * groups + gi) * g.out_len()..][..g.out_len()],
            g.o,
            hw,
        );
        let mut xt = scratch_vec::<T>(g.in_len());
        to_channels_last(xg, g.c, g.h * g.w, &mut xt);
        if g.is_pointwise() {
            gemm(dst, dyg, Mat::rows(&xt, hw, g.c), false, threads);
        } else {
            let mut colt = scratch_vec::<T>(hw * g.krows());
            im2col_t(&xt, &g, &mut colt);
            gemm(dst, dyg, Mat::rows(&colt, hw, g.krows()), false, threads);
        }
    };
    let mut khwc = uninit_vec::<T>(groups * wlen);
    // The strategy depends on the shapes only, never on the thread count, so
    // the summation order (and the rounding) is the same on any machine.
    if n == 1 {
        run_jobs(&mut khwc, wlen, |gi, dst, t| image_grad(0, gi, dst, t));
    } else if n > 1 {
        // One partial per image in parallel, then a sum in image order.
        for gi in 0..groups {
            let mut partial = uninit_vec::<T>(n * wlen);
            partial
                .par_chunks_mut(wlen)
                .enumerate()
                .for_each(|(ni, dst)| image_grad(ni, gi, dst, Threads::One));
            let dst = &mut khwc[gi * wlen..(gi + 1) * wlen];
            dst.par_chunks_mut(4096).enumerate().for_each(|(ci, d)| {
                let c0 = ci * 4096;
                d.copy_from_slice(&partial[c0..c0 + d.len()]);
                for ni in 1..n {
                    for (a, &v) in d.iter_mut().zip(&partial[ni * wlen + c0..]) {
                        *a = *a + v;
                    }
                }
            });
        }
    }
    // [O, kh, kw, C] -> [O, C, kh, kw]
    let kk = g.kh * g.kw;
    let mut out = uninit_vec::<T>(groups * wlen);
    if kk == 1 {
        out.copy_from_slice(&khwc);
    } else {
        for (src, dst) in khwc.chunks(kk * g.c).zip(out.chunks_mut(kk * g.c)) {
            for k in 0..kk {
                for ci in 0..g.c {
                    dst[ci * kk + k] = src[k * g.c + ci];
                }
            }
        }
    }
    Ok(wrap(out))
}
