//! Max / average pooling, the average-pooling adjoint and the max argmax (see
//! pool2d.cu).

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{float_kernels, no_defines, KernelSource};
use crate::storage::CudaStorage;
use cudarc::driver::DeviceRepr;
use tcgan_core::{DType, Pool2dSpec, PoolKind, Result, Shape};

pub const SOURCE: KernelSource = KernelSource {
    name: "pool2d",
    code: include_str!("pool2d.cu"),
    kernels: float_kernels!("pool2d", "max_pool2d_argmax", "avg_pool2d_backward"),
    defines: no_defines,
};

/// Mirrors `struct PoolParams` of pool2d.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct PoolParams {
    h: i32,
    w: i32,
    ho: i32,
    wo: i32,
    kh: i32,
    kw: i32,
    sh: i32,
    sw: i32,
    ph: i32,
    pw: i32,
    is_max: i32,
    count_include_pad: i32,
}

// SAFETY: a plain #[repr(C)] struct of i32s, laid out as the kernel's struct.
unsafe impl DeviceRepr for PoolParams {}

fn params(inner: &Inner, xs: &Shape, spec: &Pool2dSpec) -> Result<PoolParams> {
    let [ho, wo] = spec
        .output_hw([xs.dim(2), xs.dim(3)])
        .ok_or_else(|| inner.err(format!("pool2d: invalid window {spec:?} for {xs}")))?;
    let (is_max, count_include_pad) = match spec.kind {
        PoolKind::Max => (1, 0),
        PoolKind::Avg { count_include_pad } => (0, count_include_pad as i32),
    };
    let i = |v: usize| v as i32;
    Ok(PoolParams {
        h: i(xs.dim(2)),
        w: i(xs.dim(3)),
        ho: i(ho),
        wo: i(wo),
        kh: i(spec.kernel[0]),
        kw: i(spec.kernel[1]),
        sh: i(spec.stride[0]),
        sw: i(spec.stride[1]),
        ph: i(spec.padding[0]),
        pw: i(spec.padding[1]),
        is_max,
        count_include_pad,
    })
}

pub fn pool2d(
    inner: &Inner,
    x: &CudaStorage,
    xs: &Shape,
    spec: &Pool2dSpec,
) -> Result<CudaStorage> {
    let p = params(inner, xs, spec)?;
    let n = xs.dim(0) * xs.dim(1) * p.ho as usize * p.wo as usize;
    let out = inner.alloc(n, x.dtype)?;
    if n > 0 {
        let (o, xp, n32) = (out.device_ptr(), x.device_ptr(), n as u32);
        launch!(inner, kname("pool2d", x.dtype), grid(n); o, xp, n32, p);
    }
    Ok(out)
}

pub fn avg_pool2d_backward(
    inner: &Inner,
    dy: &CudaStorage,
    xs: &Shape,
    spec: &Pool2dSpec,
) -> Result<CudaStorage> {
    let p = params(inner, xs, spec)?;
    let n = xs.numel();
    let out = inner.alloc(n, dy.dtype)?;
    if n > 0 {
        let (o, g, n32) = (out.device_ptr(), dy.device_ptr(), n as u32);
        launch!(inner, kname("avg_pool2d_backward", dy.dtype), grid(n); o, g, n32, p);
    }
    Ok(out)
}

pub fn max_pool2d_argmax(
    inner: &Inner,
    x: &CudaStorage,
    xs: &Shape,
    spec: &Pool2dSpec,
) -> Result<Vec<usize>> {
    let p = params(inner, xs, spec)?;
    let n = xs.dim(0) * xs.dim(1) * p.ho as usize * p.wo as usize;
    if n == 0 {
        return Ok(Vec::new());
    }
    // 4-byte elements: sized as f32, read back as u32.
    let idx = inner.alloc(n, DType::F32)?;
    let (o, xp, n32) = (idx.device_ptr(), x.device_ptr(), n as u32);
    launch!(inner, kname("max_pool2d_argmax", x.dtype), grid(n); o, xp, n32, p);
    let host: Vec<u32> = inner.download(&idx)?;
    Ok(host.into_iter().map(|v| v as usize).collect())
}
