//! Kernels of the fused bias + activation (+ gain, clamp) and of its gradient:
//! one pass over memory each. The activation is chosen outside the loop so the
//! inner loop is a single inlined function of one element.

use crate::parallel::CHUNK;
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::backend::{SELU_ALPHA, SELU_SCALE};
use tcgan_core::{Activation, BiasActSpec, BiasLayout, Result, Storage};

#[inline(always)]
fn sigmoid<T: CpuElement>(z: T) -> T {
    T::one() / (T::one() + (-z).exp())
}

/// `(act(z), act'(z))` with PyTorch's formulas (softplus with beta 1 and
/// threshold 20, elu with alpha 1).
#[inline(always)]
fn act_and_deriv<T: CpuElement>(act: Activation, z: T, alpha: T) -> (T, T) {
    let (zero, one) = (T::zero(), T::one());
    match act {
        Activation::Linear => (z, one),
        Activation::Relu => {
            if z > zero {
                (z, one)
            } else {
                (zero, zero)
            }
        }
        Activation::Lrelu => {
            if z > zero {
                (z, one)
            } else {
                (z * alpha, alpha)
            }
        }
        Activation::Tanh => {
            let t = z.tanh();
            (t, one - t * t)
        }
        Activation::Sigmoid => {
            let s = sigmoid(z);
            (s, s * (one - s))
        }
        Activation::Elu => {
            if z > zero {
                (z, one)
            } else {
                (z.exp_m1(), z.exp())
            }
        }
        Activation::Selu => {
            let (s, a) = (T::from_f64(SELU_SCALE), T::from_f64(SELU_ALPHA));
            if z > zero {
                (s * z, s)
            } else {
                (s * a * z.exp_m1(), s * a * z.exp())
            }
        }
        Activation::Softplus => {
            if z > T::from_f64(20.0) {
                (z, one)
            } else {
                let e = z.exp();
                (e.ln_1p(), e / (e + one))
            }
        }
        Activation::Swish => {
            let s = sigmoid(z);
            (z * s, s + z * s * (one - s))
        }
    }
}

/// Runs `f(channel, out_row, row_offset)` over rows of `layout.inner` elements,
/// in parallel over fixed-size groups of rows.
fn for_rows<T: CpuElement>(
    out: &mut [T],
    layout: BiasLayout,
    f: impl Fn(usize, &mut [T], usize) + Sync + Send,
) {
    let inner = layout.inner.max(1);
    let rows_per_chunk = (CHUNK / inner).max(1);
    let run = |ci: usize, chunk: &mut [T]| {
        for (j, row) in chunk.chunks_mut(inner).enumerate() {
            let r = ci * rows_per_chunk + j;
            f(r % layout.channels.max(1), row, r * inner);
        }
    };
    if out.len() <= rows_per_chunk * inner {
        run(0, out);
    } else {
        out.par_chunks_mut(rows_per_chunk * inner)
            .enumerate()
            .for_each(|(ci, c)| run(ci, c));
    }
}

/// The activation and its parameters, resolved once per call.
macro_rules! with_act {
    ($act:expr, $a:ident => $body:expr) => {
        match $act {
            Activation::Linear => {
                let $a = Activation::Linear;
                $body
            }
            Activation::Relu => {
                let $a = Activation::Relu;
                $body
            }
            Activation::Lrelu => {
                let $a = Activation::Lrelu;
                $body
            }
            Activation::Tanh => {
                let $a = Activation::Tanh;
                $body
            }
            Activation::Sigmoid => {
                let $a = Activation::Sigmoid;
                $body
            }
            Activation::Elu => {
                let $a = Activation::Elu;
                $body
            }
            Activation::Selu => {
                let $a = Activation::Selu;
                $body
            }
            Activation::Softplus => {
                let $a = Activation::Softplus;
                $body
            }
            Activation::Swish => {
                let $a = Activation::Swish;
                $body
            }
        }
    };
}

fn clamp_bounds<T: CpuElement>(spec: &BiasActSpec) -> (T, T) {
    match spec.clamp {
        Some(c) => (T::from_f64(-c), T::from_f64(c)),
        None => (T::neg_infinity(), T::infinity()),
    }
}

pub fn bias_act<T: CpuElement>(
    x: &Storage,
    b: Option<&Storage>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let b = b.map(slice::<T>).transpose()?;
    let (alpha, gain) = (T::from_f64(spec.alpha), T::from_f64(spec.gain));
    let (lo, hi) = clamp_bounds::<T>(spec);
    let mut out = uninit_vec::<T>(x.len());
    with_act!(spec.act, act => for_rows(&mut out, layout, |c, row, off| {
        let bias = b.map_or(T::zero(), |b| b[c]);
        let n = row.len();
        for (o, &v) in row.iter_mut().zip(&x[off..off + n]) {
            let y = act_and_deriv(act, v + bias, alpha).0 * gain;
            // NaN stays NaN, as in PyTorch's clamp.
            *o = if y < lo { lo } else if y > hi { hi } else { y };
        }
    }));
    Ok(wrap(out))
}

pub fn bias_act_grad<T: CpuElement>(
    dy: &Storage,
    x: &Storage,
    b: Option<&Storage>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Result<Storage> {
    let (dy, x) = (slice::<T>(dy)?, slice::<T>(x)?);
    let b = b.map(slice::<T>).transpose()?;
    let (alpha, gain) = (T::from_f64(spec.alpha), T::from_f64(spec.gain));
    let (lo, hi) = clamp_bounds::<T>(spec);
    let clamped = spec.clamp.is_some();
    let mut out = uninit_vec::<T>(x.len());
    with_act!(spec.act, act => for_rows(&mut out, layout, |c, row, off| {
        let bias = b.map_or(T::zero(), |b| b[c]);
        let n = row.len();
        for ((o, &v), &g) in row.iter_mut().zip(&x[off..off + n]).zip(&dy[off..off + n]) {
            let (a, d) = act_and_deriv(act, v + bias, alpha);
            let pass = !clamped || {
                let y = a * gain;
                y >= lo && y <= hi
            };
            *o = if pass { g * gain * d } else { T::zero() };
        }
    }));
    Ok(wrap(out))
}
