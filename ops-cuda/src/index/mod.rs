//! index_select / index_add and gather / scatter_add. Index lists arrive on the
//! host; they are checked there (an out-of-range index is an error, not a
//! stray GPU access) and the additions get an inverse index built there.

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{float_kernels, no_defines, KernelSource};
use crate::layout::MAX_DIMS;
use crate::storage::CudaStorage;
use cudarc::driver::DeviceRepr;
use tcgan_core::{Result, Shape};

pub const SOURCE: KernelSource = KernelSource {
    name: "index",
    code: include_str!("index.cu"),
    kernels: float_kernels!("index_select", "index_add", "gather", "segment_sum"),
    defines: no_defines,
};

/// `(outer, dim, inner)` of a shape split at `axis`.
fn split(shape: &Shape, axis: usize) -> (usize, usize, usize) {
    let d = shape.dims();
    (
        d[..axis].iter().product(),
        d[axis],
        d[axis + 1..].iter().product(),
    )
}

fn check(inner: &Inner, op: &str, index: &[usize], bound: usize) -> Result<Vec<u32>> {
    index
        .iter()
        .map(|&i| {
            if i < bound {
                Ok(i as u32)
            } else {
                Err(inner.err(format!(
                    "{op}: index {i} out of range for a dim of size {bound}"
                )))
            }
        })
        .collect()
}

/// For each target in `0..targets`, the positions that map to it, in order:
/// `starts[t]..starts[t + 1]` indexes `positions`.
fn inverse(targets: usize, map: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; targets + 1];
    for &t in map {
        starts[t as usize + 1] += 1;
    }
    for t in 0..targets {
        starts[t + 1] += starts[t];
    }
    let mut fill = starts.clone();
    let mut positions = vec![0u32; map.len()];
    for (p, &t) in map.iter().enumerate() {
        positions[fill[t as usize] as usize] = p as u32;
        fill[t as usize] += 1;
    }
    (starts, positions)
}

pub fn index_select(
    inner: &Inner,
    x: &CudaStorage,
    shape: &Shape,
    axis: usize,
    index: &[usize],
) -> Result<CudaStorage> {
    let (outer, dim, rest) = split(shape, axis);
    let n = outer * index.len() * rest;
    let out = inner.alloc(n, x.dtype)?;
    if n == 0 {
        return Ok(out);
    }
    let idx = inner.upload_u32(&check(inner, "index_select", index, dim)?)?;
    let (o, xp, ip) = (out.device_ptr(), x.device_ptr(), idx.ptr());
    let (outer32, nidx, dim32, rest32) =
        (outer as u32, index.len() as u32, dim as u32, rest as u32);
    launch!(inner, kname("index_select", x.dtype), grid(n); o, xp, ip, outer32, nidx, dim32, rest32);
    Ok(out)
}

pub fn index_add(
    inner: &Inner,
    src: &CudaStorage,
    src_shape: &Shape,
    axis: usize,
    index: &[usize],
    dim_size: usize,
) -> Result<CudaStorage> {
    let (outer, n, rest) = split(src_shape, axis);
    let total = outer * dim_size * rest;
    let out = inner.alloc(total, src.dtype)?;
    if total == 0 {
        return Ok(out);
    }
    let map = check(inner, "index_add", &index[..index.len().min(n)], dim_size)?;
    let (starts, js) = inverse(dim_size, &map);
    let (starts, js) = (inner.upload_u32(&starts)?, inner.upload_u32(&js)?);
    let (o, sp, st, jp) = (out.device_ptr(), src.device_ptr(), starts.ptr(), js.ptr());
    let (outer32, n32, dim32, rest32) = (outer as u32, n as u32, dim_size as u32, rest as u32);
    launch!(inner, kname("index_add", src.dtype), grid(total); o, sp, st, jp, outer32, n32, dim32, rest32);
    Ok(out)
}

/// Mirrors `struct GatherParams` of index.cu.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct GatherParams {
    rank: i32,
    axis: i32,
    idx_dims: [i32; MAX_DIMS],
    x_strides: [i32; MAX_DIMS],
}

// SAFETY: plain old data with the C layout of the kernel parameter.
unsafe impl DeviceRepr for GatherParams {}

pub fn gather(
    inner: &Inner,
    x: &CudaStorage,
    shape: &Shape,
    axis: usize,
    index: &[usize],
    index_shape: &Shape,
) -> Result<CudaStorage> {
    let n = index.len();
    let out = inner.alloc(n, x.dtype)?;
    if n == 0 {
        return Ok(out);
    }
    let r = index_shape.rank();
    if r > MAX_DIMS {
        return Err(inner.err(format!(
            "gather on rank {r}: the kernel takes at most {MAX_DIMS} dims"
        )));
    }
    let idx = inner.upload_u32(&check(inner, "gather", index, shape.dim(axis))?)?;
    let strides = shape.strides();
    let mut p = GatherParams {
        rank: r as i32,
        axis: axis as i32,
        ..Default::default()
    };
    for (d, &st) in strides.iter().enumerate().take(r) {
        p.idx_dims[d] = index_shape.dim(d) as i32;
        p.x_strides[d] = st as i32;
    }
    let (o, xp, ip, n32) = (out.device_ptr(), x.device_ptr(), idx.ptr(), n as u32);
    launch!(inner, kname("gather", x.dtype), grid(n); o, xp, ip, n32, p);
    Ok(out)
}

pub fn scatter_add(
    inner: &Inner,
    src: &CudaStorage,
    src_shape: &Shape,
    axis: usize,
    index: &[usize],
    out_shape: &Shape,
) -> Result<CudaStorage> {
    let total = out_shape.numel();
    let out = inner.alloc(total, src.dtype)?;
    if total == 0 {
        return Ok(out);
    }
    check(inner, "scatter_add", index, out_shape.dim(axis))?;
    // The output offset of every source element, walked in source order.
    let out_strides = out_shape.strides();
    let r = src_shape.rank();
    let mut coord = vec![0usize; r];
    let mut map = Vec::with_capacity(index.len());
    for &ix in index {
        let off: usize = (0..r)
            .map(|a| if a == axis { ix } else { coord[a] } * out_strides[a])
            .sum();
        map.push(off as u32);
        for a in (0..r).rev() {
            coord[a] += 1;
            if coord[a] < src_shape.dim(a) {
                break;
            }
            coord[a] = 0;
        }
    }
    let (starts, pos) = inverse(total, &map);
    let (starts, pos) = (inner.upload_u32(&starts)?, inner.upload_u32(&pos)?);
    let (o, sp, st, pp, n32) = (
        out.device_ptr(),
        src.device_ptr(),
        starts.ptr(),
        pos.ptr(),
        total as u32,
    );
    launch!(inner, kname("segment_sum", src.dtype), grid(total); o, sp, st, pp, n32);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::inverse;

    #[test]
    fn inverse_index_keeps_source_order() {
        let (starts, pos) = inverse(3, &[2, 0, 2, 2, 0]);
        assert_eq!(starts, vec![0, 2, 2, 5]);
        assert_eq!(pos, vec![1, 4, 0, 2, 3]);
    }
}
