//! Kernels that move data without arithmetic: broadcast, permute, pad/crop,
//! concat and flip.

use crate::parallel::CHUNK;
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use crate::strided::{broadcast_strides, for_each_row, merge_axes};
use rayon::prelude::*;
use tcgan_core::{Result, Shape, Storage};

/// Copies `x` read through `strides` into a new contiguous buffer of `dims`.
fn gather_strided<T: CpuElement>(x: &[T], dims: &[usize], strides: Vec<usize>) -> Vec<T> {
    let n: usize = dims.iter().product();
    let mut out = uninit_vec::<T>(n);
    let (dims, [strides]) = merge_axes(dims, [strides]);
    for_each_row(&mut out, &dims, &[strides], |row, [o], [s]| {
        if s == 1 {
            row.copy_from_slice(&x[o..o + row.len()]);
        } else if s == 0 {
            row.fill(x[o]);
        } else {
            for (i, v) in row.iter_mut().enumerate() {
                *v = x[o + i * s];
            }
        }
    });
    out
}

pub fn broadcast_to<T: CpuElement>(x: &Storage, shape: &Shape, out: &Shape) -> Result<Storage> {
    let x = slice::<T>(x)?;
    Ok(wrap(gather_strided(
        x,
        out.dims(),
        broadcast_strides(shape, out),
    )))
}

/// Output axis i is input axis perm[i].
pub fn permute_slice<T: CpuElement>(x: &[T], shape: &Shape, perm: &[usize]) -> Vec<T> {
    let own = shape.strides();
    let dims: Vec<usize> = perm.iter().map(|&p| shape.dim(p)).collect();
    let strides: Vec<usize> = perm.iter().map(|&p| own[p]).collect();
    gather_strided(x, &dims, strides)
}

pub fn permute<T: CpuElement>(x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage> {
    Ok(wrap(permute_slice(slice::<T>(x)?, shape, perm)))
}

pub fn pad<T: CpuElement>(
    x: &Storage,
    shape: &Shape,
    pads: &[(isize, isize)],
    value: f64,
) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let r = shape.rank();
    let out_dims: Vec<usize> = shape
        .dims()
        .iter()
        .zip(pads)
        .map(|(&d, &(a, b))| (d as isize + a + b) as usize)
        .collect();
    let value = T::from_f64(value);
    let n: usize = out_dims.iter().product();
    let mut out = vec![value; n];
    if n == 0 || x.is_empty() {
        return Ok(wrap(out));
    }
    if r == 0 {
        return Ok(wrap(x.to_vec()));
    }
    let in_strides = shape.strides();
    let inner_out = out_dims[r - 1];
    let (lo, _) = pads[r - 1];
    // Columns of an output row that come from the input row.
    let c0 = lo.max(0) as usize;
    let c1 = ((shape.dim(r - 1) as isize + lo).min(inner_out as isize)).max(c0 as isize) as usize;
    let src0 = (c0 as isize - lo) as usize;
    let outer_dims = &out_dims[..r - 1];
    let fill_row = |row_i: usize, row: &mut [T]| {
        // Map the output row's coordinates to the input; skip padded rows.
        let mut rem = row_i;
        let mut off = 0usize;
        for a in (0..r - 1).rev() {
            let o = (rem % outer_dims[a]) as isize;
            rem /= outer_dims[a];
            let i = o - pads[a].0;
            if i < 0 || i >= shape.dim(a) as isize {
                return;
            }
            off += i as usize * in_strides[a];
        }
        if c1 > c0 {
            row[c0..c1].copy_from_slice(&x[off + src0..off + src0 + (c1 - c0)]);
        }
    };
    let inner = inner_out.max(1);
    if n > CHUNK {
        let rows_per_chunk = (CHUNK / inner).max(1);
        out.par_chunks_mut(rows_per_chunk * inner)
            .enumerate()
            .for_each(|(ci, chunk)| {
                for (j, row) in chunk.chunks_mut(inner).enumerate() {
                    fill_row(ci * rows_per_chunk + j, row);
                }
            });
    } else {
        for (row_i, row) in out.chunks_mut(inner).enumerate() {
            fill_row(row_i, row);
        }
    }
    Ok(wrap(out))
}

pub fn concat<T: CpuElement>(xs: &[(&Storage, &Shape)], axis: usize) -> Result<Storage> {
    let first = xs[0].1;
    let outer: usize = first.dims()[..axis].iter().product();
    let blocks: Vec<(&[T], usize)> = xs
        .iter()
        .map(|(s, sh)| Ok((slice::<T>(s)?, sh.dims()[axis..].iter().product())))
        .collect::<Result<_>>()?;
    let total: usize = blocks.iter().map(|b| b.1).sum();
    let mut out = Vec::with_capacity(outer * total);
    for o in 0..outer {
        for (x, len) in &blocks {
            out.extend_from_slice(&x[o * len..(o + 1) * len]);
        }
    }
    Ok(wrap(out))
}

pub fn flip<T: CpuElement>(x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let r = shape.rank();
    let own = shape.strides();
    // Read each flipped axis backwards: start at its last element, step -stride.
    // Done with an explicit loop because strides here are unsigned.
    let inner = shape.dim(r - 1);
    let flip_inner = axes.contains(&(r - 1));
    let mut out = uninit_vec::<T>(x.len());
    for (row_i, row) in out.chunks_mut(inner.max(1)).enumerate() {
        let mut rem = row_i;
        let mut off = 0;
        for a in (0..r - 1).rev() {
            let d = shape.dim(a);
            let mut i = rem % d;
            rem /= d;
            if axes.contains(&a) {
                i = d - 1 - i;
            }
            off += i * own[a];
        }
        let src = &x[off..off + inner];
        if flip_inner {
            for (v, &s) in row.iter_mut().zip(src.iter().rev()) {
                *v = s;
            }
        } else {
            row.copy_from_slice(src);
        }
    }
    Ok(wrap(out))
}
