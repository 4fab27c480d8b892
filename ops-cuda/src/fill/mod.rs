//! Constant fill and conversion between f32, f64 and f16.

use crate::device::{ctype, grid, kname, launch, Inner};
use crate::kernels::{no_defines, KernelSource};
use crate::storage::CudaStorage;
use tcgan_core::{DType, Result};

pub const SOURCE: KernelSource = KernelSource {
    name: "fill",
    code: include_str!("fill.cu"),
    kernels: &[
        "fill<float>",
        "fill<double>",
        "fill<tc_half>",
        "cast<float, double>",
        "cast<double, float>",
        "cast<float, tc_half>",
        "cast<tc_half, float>",
        "cast<double, tc_half>",
        "cast<tc_half, double>",
    ],
    defines: no_defines,
};

pub fn fill(inner: &Inner, value: f64, len: usize, dtype: DType) -> Result<CudaStorage> {
    let out = inner.alloc(len, dtype)?;
    if len > 0 {
        let (o, n) = (out.device_ptr(), len as u32);
        launch!(inner, kname("fill", dtype), grid(len); o, n, value);
    }
    Ok(out)
}

pub fn cast(inner: &Inner, x: &CudaStorage, dtype: DType) -> Result<CudaStorage> {
    let out = inner.alloc(x.len, dtype)?;
    if x.len > 0 {
        let (o, xp, n) = (out.device_ptr(), x.device_ptr(), x.len as u32);
        let name = format!("cast<{}, {}>", ctype(x.dtype), ctype(dtype));
        launch!(inner, name, grid(x.len); o, xp, n);
    }
    Ok(out)
}
