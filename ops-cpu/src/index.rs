//! Kernels of index_select / index_add and gather / scatter_add.

use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use tcgan_core::{Result, Shape, Storage};

/// `(outer, dim, inner)` of a shape split at `axis`.
fn split(shape: &Shape, axis: usize) -> (usize, usize, usize) {
    let d = shape.dims();
    (
        d[..axis].iter().product(),
        d[axis],
        d[axis + 1..].iter().product(),
    )
}

pub fn index_select<T: CpuElement>(
    x: &Storage,
    shape: &Shape,
    axis: usize,
    index: &[usize],
) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let (outer, dim, inner) = split(shape, axis);
    let mut out = Vec::with_capacity(outer * index.len() * inner);
    for o in 0..outer {
        for &i in index {
            let s = (o * dim + i) * inner;
            out.extend_from_slice(&x[s..s + inner]);
        }
    }
    Ok(wrap(out))
}

pub fn index_add<T: CpuElement>(
    src: &Storage,
    shape: &Shape,
    axis: usize,
    index: &[usize],
    dim_size: usize,
) -> Result<Storage> {
    let src = slice::<T>(src)?;
    let (outer, n, inner) = split(shape, axis);
    let mut out = uninit_vec::<T>(outer * dim_size * inner);
    for o in 0..outer {
        for (j, &i) in index.iter().enumerate().take(n) {
            let s = (o * n + j) * inner;
            let d = (o * dim_size + i) * inner;
            for (a, &v) in out[d..d + inner].iter_mut().zip(&src[s..s + inner]) {
                *a = *a + v;
            }
        }
    }
    Ok(wrap(out))
}

/// Calls `f(pos_in_index, offset_in_full)` for every element of an index laid
/// out in `index_shape`, where the full tensor has `full_shape`.
fn walk(
    index: &[usize],
    index_shape: &Shape,
    full_shape: &Shape,
    axis: usize,
    mut f: impl FnMut(usize, usize),
) {
    let full_strides = full_shape.strides();
    let r = index_shape.rank();
    let mut coord = vec![0usize; r];
    for (p, &ix) in index.iter().enumerate() {
        let mut off = 0;
        for a in 0..r {
            off += if a == axis { ix } else { coord[a] } * full_strides[a];
        }
        f(p, off);
        for a in (0..r).rev() {
            coord[a] += 1;
            if coord[a] < index_shape.dim(a) {
                break;
            }
            coord[a] = 0;
        }
    }
}

pub fn gather<T: CpuElement>(
    x: &Storage,
    shape: &Shape,
    axis: usize,
    index: &[usize],
    index_shape: &Shape,
) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let mut out = uninit_vec::<T>(index.len());
    walk(index, index_shape, shape, axis, |p, off| out[p] = x[off]);
    Ok(wrap(out))
}

pub fn scatter_add<T: CpuElement>(
    src: &Storage,
    src_shape: &Shape,
    axis: usize,
    index: &[usize],
    out_shape: &Shape,
) -> Result<Storage> {
    let src = slice::<T>(src)?;
    let mut out = uninit_vec::<T>(out_shape.numel());
    walk(index, src_shape, out_shape, axis, |p, off| {
        out[off] = out[off] + src[p]
    });
    Ok(wrap(out))
}
