//! Bilinear grid_sample and its adjoint (see grid_sample.cu).

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{float_kernels, no_defines, KernelSource};
use crate::storage::CudaStorage;
use tcgan_core::{GridPadding, GridSampleSpec, Result, Shape};

pub const SOURCE: KernelSource = KernelSource {
    name: "grid_sample",
    code: include_str!("grid_sample.cu"),
    kernels: float_kernels!("grid_sample", "grid_sample_backward"),
    defines: no_defines,
};

fn dims(inner: &Inner, xs: &Shape, gs: &Shape) -> Result<[u32; 5]> {
    let plane_out = gs.dim(1) * gs.dim(2);
    let sizes = [xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3), plane_out];
    if sizes.iter().any(|&v| v > i32::MAX as usize) || xs.numel() > i32::MAX as usize {
        return Err(inner.err(format!(
            "grid_sample: {xs} is too large for 32-bit indexing"
        )));
    }
    Ok(sizes.map(|v| v as u32))
}

pub fn grid_sample(
    inner: &Inner,
    x: &CudaStorage,
    xs: &Shape,
    g: &CudaStorage,
    gs: &Shape,
    spec: &GridSampleSpec,
) -> Result<CudaStorage> {
    let [n, c, h, w, plane_out] = dims(inner, xs, gs)?;
    let out = inner.alloc(n as usize * c as usize * plane_out as usize, x.dtype)?;
    if out.len == 0 || xs.numel() == 0 {
        return Ok(out);
    }
    let (o, xp, gp) = (out.device_ptr(), x.device_ptr(), g.device_ptr());
    let (align, border) = (
        spec.align_corners as i32,
        (spec.padding == GridPadding::Border) as i32,
    );
    launch!(inner, kname("grid_sample", x.dtype), grid((n * plane_out) as usize);
        o, xp, gp, n, c, h, w, plane_out, align, border);
    Ok(out)
}

pub fn grid_sample_backward(
    inner: &Inner,
    dy: &CudaStorage,
    g: &CudaStorage,
    gs: &Shape,
    xs: &Shape,
    spec: &GridSampleSpec,
) -> Result<CudaStorage> {
    let [n, c, h, w, plane_out] = dims(inner, xs, gs)?;
    let dx = crate::fill::fill(inner, 0.0, xs.numel(), dy.dtype)?;
    if xs.numel() == 0 || plane_out == 0 {
        return Ok(dx);
    }
    let (d, dyp, gp) = (dx.device_ptr(), dy.device_ptr(), g.device_ptr());
    let (align, border) = (
        spec.align_corners as i32,
        (spec.padding == GridPadding::Border) as i32,
    );
    launch!(inner, kname("grid_sample_backward", dy.dtype), grid((n * c) as usize);
        d, dyp, gp, n, c, h, w, plane_out, align, border);
    Ok(dx)
}
