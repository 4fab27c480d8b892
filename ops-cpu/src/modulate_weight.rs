//! Kernel of the modulated-conv weight preparation: per `(n, o)` the products
//! `weight * styles` and (for demodulation) their sum of squares, accumulated
//! in f64; then the scaled values are written in the requested layout.

use crate::simd::{mul_scalar, sum_squares};
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{Result, Storage};

pub fn modulate_weight<T: CpuElement>(
    weight: &Storage,
    styles: &Storage,
    [n, o, i, k]: [usize; 4],
    demodulate: bool,
    transpose: bool,
) -> Result<Storage> {
    let (w, s) = (slice::<T>(weight)?, slice::<T>(styles)?);
    let row = i * k;
    let mut out = uninit_vec::<T>(n * o * row);
    if row == 0 || n * o == 0 {
        return Ok(wrap(out));
    }
    // `[N, O, I, K]`: each (n, o) row is written, then scaled in place.
    let modulate = |r: usize, dst: &mut [T]| -> T {
        let (ni, oi) = (r / o, r % o);
        let st = &s[ni * i..(ni + 1) * i];
        let wr = &w[oi * row..(oi + 1) * row];
        for ((d, src), &sc) in dst.chunks_mut(k).zip(wr.chunks(k)).zip(st) {
            mul_scalar(d, src, sc);
        }
        if demodulate {
            T::from_f64(1.0 / (sum_squares(dst) + tcgan_core::DEMOD_EPS).sqrt())
        } else {
            T::one()
        }
    };
    if !transpose {
        out.par_chunks_mut(row).enumerate().for_each(|(r, dst)| {
            let d = modulate(r, dst);
            if demodulate {
                for v in dst.iter_mut() {
                    *v = *v * d;
                }
            }
        });
        return Ok(wrap(out));
    }
    // `[N, I, O, K]`: the coefficients first, then each (n, i) row.
    let dcoef: Vec<T> = (0..n * o)
        .into_par_iter()
        .map_init(|| vec![T::zero(); row], |tmp, r| modulate(r, tmp))
        .collect();
    let orow = o * k;
    out.par_chunks_mut(orow).enumerate().for_each(|(r, dst)| {
        let (ni, ii) = (r / i, r % i);
        let sc = s[ni * i + ii];
        for ((d, &dc), oi) in dst
            .chunks_mut(k)
            .zip(&dcoef[ni * o..(ni + 1) * o])
            .zip(0..o)
        {
            let src = &w[(oi * i + ii) * k..(oi * i + ii + 1) * k];
            for (dv, &wv) in d.iter_mut().zip(src) {
                *dv = (wv * sc) * dc;
            }
        }
    });
    Ok(wrap(out))
}
