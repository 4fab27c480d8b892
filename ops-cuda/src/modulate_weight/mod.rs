//! The modulated-conv weight preparation (see modulate_weight.cu).

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{float_kernels, KernelSource};
use crate::storage::CudaStorage;
use tcgan_core::{Result, DEMOD_EPS};

fn defines() -> String {
    // `{:?}` prints the shortest decimal that reads back as the same f64.
    format!("#define TC_DEMOD_EPS {DEMOD_EPS:?}\n")
}

pub const SOURCE: KernelSource = KernelSource {
    name: "modulate_weight",
    code: include_str!("modulate_weight.cu"),
    kernels: float_kernels!("modulate_demod_coef", "modulate_weight"),
    defines,
};

/// Threads per warp: the coefficient kernel gives each `(n, o)` one warp.
const WARP: usize = 32;

/// `dims = [N, O, I, K]`, `weight [O, I, K]`, `styles [N, I]`.
pub fn modulate_weight(
    inner: &Inner,
    weight: &CudaStorage,
    styles: &CudaStorage,
    [n, o, i, k]: [usize; 4],
    demodulate: bool,
    transpose: bool,
) -> Result<CudaStorage> {
    let dtype = weight.dtype;
    if weight.len != o * i * k || styles.len != n * i || styles.dtype != dtype {
        return Err(inner.err(format!(
            "modulate_weight: weight {weight:?} and styles {styles:?} do not match [N, O, I, K] = {:?}",
            [n, o, i, k]
        )));
    }
    let total = (n * o)
        .checked_mul(i * k)
        .ok_or_else(|| inner.err(format!("modulate_weight: {:?} is too large", [n, o, i, k])))?;
    let out = inner.alloc(total, dtype)?;
    if total == 0 {
        return Ok(out);
    }
    // total > 0 and below 2^31 (alloc checked it): every factor fits in u32.
    let (o32, in32, k32) = (o as u32, i as u32, k as u32);
    let (wp, sp) = (weight.device_ptr(), styles.device_ptr());
    let dcoef = if demodulate {
        let rows = n * o;
        let d = inner.alloc(rows, dtype)?;
        let (dp, rows32) = (d.device_ptr(), rows as u32);
        launch!(inner, kname("modulate_demod_coef", dtype), grid(rows * WARP);
            dp, wp, sp, rows32, o32, in32, k32);
        Some(d)
    } else {
        None
    };
    let (op, dp, total32) = (
        out.device_ptr(),
        dcoef.as_ref().map_or(0, |d| d.device_ptr()),
        total as u32,
    );
    let (demod, trans) = (demodulate as i32, transpose as i32);
    launch!(inner, kname("modulate_weight", dtype), grid(total);
        op, wp, sp, dp, total32, o32, in32, k32, demod, trans);
    Ok(out)
}
