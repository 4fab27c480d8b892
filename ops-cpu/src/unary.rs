//! Kernels of the elementwise functions of one tensor.

use crate::parallel::{for_chunks, CHUNK};
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use tcgan_core::backend::{UnaryOp, SELU_ALPHA, SELU_SCALE};
use tcgan_core::{Result, Storage};

/// Maps one element; the match on `op` is hoisted out of the loop by `apply`.
#[inline(always)]
fn softplus<T: CpuElement>(x: T) -> T {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

#[inline(always)]
fn sigmoid<T: CpuElement>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

fn apply<T: CpuElement>(x: &[T], f: impl Fn(T) -> T + Sync + Send) -> Vec<T> {
    let mut out = uninit_vec::<T>(x.len());
    for_chunks(&mut out, CHUNK, |off, o| {
        let len = o.len();
        for (o, &v) in o.iter_mut().zip(&x[off..off + len]) {
            *o = f(v);
        }
    });
    out
}

pub fn unary<T: CpuElement>(op: UnaryOp, x: &Storage) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let c = |v: f64| T::from_f64(v);
    let (zero, one) = (T::zero(), T::one());
    use UnaryOp::*;
    let out = match op {
        Neg => apply(x, |v| -v),
        Exp => apply(x, |v| v.exp()),
        Log => apply(x, |v| v.ln()),
        Sqrt => apply(x, |v| v.sqrt()),
        Rsqrt => apply(x, |v| one / v.sqrt()),
        Recip => apply(x, |v| one / v),
        Abs => apply(x, |v| v.abs()),
        Sign => apply(x, |v| {
            if v > zero {
                one
            } else if v < zero {
                -one
            } else {
                v // keeps 0 and NaN as they are
            }
        }),
        Square => apply(x, |v| v * v),
        Tanh => apply(x, |v| v.tanh()),
        Sigmoid => apply(x, sigmoid),
        Softplus => apply(x, softplus),
        Relu => apply(x, |v| if v > zero { v } else { zero }),
        Step => apply(x, |v| if v > zero { one } else { zero }),
        LeakyRelu(a) => {
            let a = c(a);
            apply(x, move |v| if v > zero { v } else { v * a })
        }
        LeakyStep(a) => {
            let a = c(a);
            apply(x, move |v| if v > zero { one } else { a })
        }
        Elu => apply(x, |v| if v > zero { v } else { v.exp_m1() }),
        Selu => {
            let (s, a) = (c(SELU_SCALE), c(SELU_ALPHA));
            apply(
                x,
                move |v| if v > zero { s * v } else { s * a * v.exp_m1() },
            )
        }
        Swish => apply(x, |v| v * sigmoid(v)),
        PowScalar(p) => {
            if p == 2.0 {
                apply(x, |v| v * v)
            } else if p == 3.0 {
                apply(x, |v| v * v * v)
            } else if p == 0.5 {
                apply(x, |v| v.sqrt())
            } else {
                let p = c(p);
                apply(x, move |v| v.powf(p))
            }
        }
        Affine { mul, add } => {
            let (m, a) = (c(mul), c(add));
            apply(x, move |v| v * m + a)
        }
        Clamp { lo, hi } => {
            let (lo, hi) = (c(lo), c(hi));
            // NaN stays NaN, as in PyTorch.
            apply(x, move |v| {
                if v < lo {
                    lo
                } else if v > hi {
                    hi
                } else {
                    v
                }
            })
        }
        InRange { lo, hi } => {
            let (lo, hi) = (c(lo), c(hi));
            apply(x, move |v| if v >= lo && v <= hi { one } else { zero })
        }
    };
    Ok(wrap(out))
}
