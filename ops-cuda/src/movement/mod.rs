//! Data movement without arithmetic: broadcast, permute and flip are strided
//! copies; pad / crop and concat have their own kernels.

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{float_kernels, no_defines, KernelSource};
use crate::layout::{broadcast_strides, contiguous_strides, Layout, MAX_DIMS};
use crate::storage::CudaStorage;
use cudarc::driver::DeviceRepr;
use tcgan_core::{Result, Shape};

pub const SOURCE: KernelSource = KernelSource {
    name: "movement",
    code: include_str!("movement.cu"),
    kernels: float_kernels!("copy_strided", "pad", "copy_rows"),
    defines: no_defines,
};

/// A new contiguous tensor of `n` elements read from `x` through operand 0 of `l`.
pub fn copy_strided(inner: &Inner, x: &CudaStorage, n: usize, l: &Layout) -> Result<CudaStorage> {
    let out = inner.alloc(n, x.dtype)?;
    if n == 0 {
        return Ok(out);
    }
    if l.is_contiguous(0) {
        inner.copy_dtod(
            out.device_ptr(),
            x.device_ptr(),
            n * x.dtype.size_in_bytes(),
        )?;
        return Ok(out);
    }
    let (o, xp, n32, l) = (out.device_ptr(), x.device_ptr(), n as u32, *l);
    launch!(inner, kname("copy_strided", x.dtype), grid(n); o, xp, n32, l);
    Ok(out)
}

pub fn broadcast_to(
    inner: &Inner,
    x: &CudaStorage,
    shape: &Shape,
    out: &Shape,
) -> Result<CudaStorage> {
    let l = Layout::new(out.dims(), &[broadcast_strides(shape, out)], &[0])
        .map_err(|e| inner.err(e))?;
    copy_strided(inner, x, out.numel(), &l)
}

/// Output axis i is input axis perm[i].
pub fn permute(
    inner: &Inner,
    x: &CudaStorage,
    shape: &Shape,
    perm: &[usize],
) -> Result<CudaStorage> {
    let own = contiguous_strides(shape);
    let dims: Vec<usize> = perm.iter().map(|&p| shape.dim(p)).collect();
    let strides: Vec<isize> = perm.iter().map(|&p| own[p]).collect();
    let l = Layout::new(&dims, &[strides], &[0]).map_err(|e| inner.err(e))?;
    copy_strided(inner, x, shape.numel(), &l)
}

pub fn flip(inner: &Inner, x: &CudaStorage, shape: &Shape, axes: &[usize]) -> Result<CudaStorage> {
    let mut strides = contiguous_strides(shape);
    let mut offset = 0isize;
    for &a in axes {
        if shape.dim(a) > 0 {
            offset += (shape.dim(a) as isize - 1) * strides[a];
        }
        strides[a] = -strides[a];
    }
    let l = Layout::new(shape.dims(), &[strides], &[offset]).map_err(|e| inner.err(e))?;
    copy_strided(inner, x, shape.numel(), &l)
}

/// Mirrors `struct PadParams` of movement.cu.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct PadParams {
    rank: i32,
    out_dims: [i32; MAX_DIMS],
    in_dims: [i32; MAX_DIMS],
    in_strides: [i32; MAX_DIMS],
    before: [i32; MAX_DIMS],
}

// SAFETY: plain old data with the C layout of the kernel parameter.
unsafe impl DeviceRepr for PadParams {}

pub fn pad(
    inner: &Inner,
    x: &CudaStorage,
    shape: &Shape,
    pads: &[(isize, isize)],
    value: f64,
) -> Result<CudaStorage> {
    let r = shape.rank();
    let out_dims: Vec<usize> = shape
        .dims()
        .iter()
        .zip(pads)
        .map(|(&d, &(a, b))| (d as isize + a + b) as usize)
        .collect();
    let n: usize = out_dims.iter().product();
    if r == 0 {
        return copy_strided(
            inner,
            x,
            n,
            &Layout::new(&[], &[vec![]], &[0]).map_err(|e| inner.err(e))?,
        );
    }
    if r > MAX_DIMS {
        return Err(inner.err(format!(
            "pad of a rank-{r} tensor: the kernel takes at most {MAX_DIMS} dims"
        )));
    }
    let out = inner.alloc(n, x.dtype)?;
    if n == 0 {
        return Ok(out);
    }
    let strides = shape.strides();
    let mut p = PadParams {
        rank: r as i32,
        ..Default::default()
    };
    for d in 0..r {
        p.out_dims[d] = out_dims[d] as i32;
        p.in_dims[d] = shape.dim(d) as i32;
        p.in_strides[d] = strides[d] as i32;
        p.before[d] = pads[d].0 as i32;
    }
    let (o, xp, n32) = (out.device_ptr(), x.device_ptr(), n as u32);
    launch!(inner, kname("pad", x.dtype), grid(n); o, xp, n32, p, value);
    Ok(out)
}

pub fn concat(inner: &Inner, xs: &[(&CudaStorage, &Shape)], axis: usize) -> Result<CudaStorage> {
    let first = xs[0].1;
    let outer: usize = first.dims()[..axis].iter().product();
    let lens: Vec<usize> = xs
        .iter()
        .map(|(_, s)| s.dims()[axis..].iter().product())
        .collect();
    let total: usize = lens.iter().sum();
    let dtype = xs[0].0.dtype;
    let out = inner.alloc(outer * total, dtype)?;
    let mut col = 0usize;
    for ((x, _), &len) in xs.iter().zip(&lens) {
        if outer * len > 0 {
            let (o, xp) = (out.device_ptr(), x.device_ptr());
            let (rows, cols, ld, off) = (outer as u32, len as u32, total as u32, col as u32);
            launch!(inner, kname("copy_rows", dtype), grid(outer * len); o, xp, rows, cols, ld, off);
        }
        col += len;
    }
    Ok(out)
}
