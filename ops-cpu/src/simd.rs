//! Loops that vectorise far better with AVX2 + FMA than with the SSE2 baseline
//! a portable build targets: compiled twice, and picked at run time from the
//! CPU's features (as the `gemm` crate does for matrix products).

use crate::storage::CpuElement;

/// `out[i] = out[i] + c * x[i]` (fused multiply-add on CPUs that have it).
#[inline(always)]
fn axpy_body<T: CpuElement>(out: &mut [T], c: T, x: &[T]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.mul_add(c, *o);
    }
}

/// `out[i] = c * x[i]`.
#[inline(always)]
fn scale_body<T: CpuElement>(out: &mut [T], c: T, x: &[T]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = c * v;
    }
}

/// `sum x[i]^2` accumulated in f64 in eight independent lanes.
#[inline(always)]
fn sum_squares_body<T: CpuElement>(x: &[T]) -> f64 {
    let mut lanes = [0f64; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            let v = v.to_f64();
            *l += v * v;
        }
    }
    let rest: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| v.to_f64() * v.to_f64())
        .sum();
    lanes.iter().sum::<f64>() + rest
}

/// `out[i] = a[i] * c`.
#[inline(always)]
fn mul_scalar_body<T: CpuElement>(out: &mut [T], a: &[T], c: T) {
    for (o, &v) in out.iter_mut().zip(a) {
        *o = v * c;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sum_squares<T: CpuElement>(x: &[T]) -> f64 {
        sum_squares_body(x)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn mul_scalar<T: CpuElement>(out: &mut [T], a: &[T], c: T) {
        mul_scalar_body(out, a, c)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn axpy<T: CpuElement>(out: &mut [T], c: T, x: &[T]) {
        axpy_body(out, c, x)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scale<T: CpuElement>(out: &mut [T], c: T, x: &[T]) {
        scale_body(out, c, x)
    }

    pub fn has_avx2_fma() -> bool {
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *HAS.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }
}

/// `out[i] += c * x[i]` over the common length, rounded once per element
/// (a fused multiply-add) on every CPU.
pub fn axpy<T: CpuElement>(out: &mut [T], c: T, x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { x86::axpy(out, c, x) };
    }
    axpy_body(out, c, x)
}

/// `out[i] = c * x[i]` over the common length.
pub fn scale<T: CpuElement>(out: &mut [T], c: T, x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { x86::scale(out, c, x) };
    }
    scale_body(out, c, x)
}

/// `sum x[i]^2` in f64 (eight partial sums: vectorises, and rounds less than
/// one running sum). The result does not depend on the CPU's features.
pub fn sum_squares<T: CpuElement>(x: &[T]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { x86::sum_squares(x) };
    }
    sum_squares_body(x)
}

/// `out[i] = a[i] * c` over the common length.
pub fn mul_scalar<T: CpuElement>(out: &mut [T], a: &[T], c: T) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { x86::mul_scalar(out, a, c) };
    }
    mul_scalar_body(out, a, c)
}
