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

/// Activation codes for the const parameter of the kernels: the activation
/// is then fixed at compile time and the inner loop vectorises.
const LINEAR: u8 = 0;
const RELU: u8 = 1;
const LRELU: u8 = 2;
const TANH: u8 = 3;
const SIGMOID: u8 = 4;
const ELU: u8 = 5;
const SELU: u8 = 6;
const SOFTPLUS: u8 = 7;
const SWISH: u8 = 8;

/// `(act(z), act'(z))` with PyTorch's formulas (softplus with beta 1 and
/// threshold 20, elu with alpha 1).
#[inline(always)]
fn act_and_deriv<T: CpuElement, const A: u8>(z: T, alpha: T) -> (T, T) {
    let (zero, one) = (T::zero(), T::one());
    match A {
        RELU => {
            if z > zero {
                (z, one)
            } else {
                (zero, zero)
            }
        }
        LRELU => {
            if z > zero {
                (z, one)
            } else {
                (z * alpha, alpha)
            }
        }
        TANH => {
            let t = z.tanh();
            (t, one - t * t)
        }
        SIGMOID => {
            let s = sigmoid(z);
            (s, s * (one - s))
        }
        ELU => {
            if z > zero {
                (z, one)
            } else {
                (z.exp_m1(), z.exp())
            }
        }
        SELU => {
            let (s, a) = (T::from_f64(SELU_SCALE), T::from_f64(SELU_ALPHA));
            if z > zero {
                (s * z, s)
            } else {
                (s * a * z.exp_m1(), s * a * z.exp())
            }
        }
        SOFTPLUS => {
            if z > T::from_f64(20.0) {
                (z, one)
            } else {
                let e = z.exp();
                (e.ln_1p(), e / (e + one))
            }
        }
        SWISH => {
            let s = sigmoid(z);
            (z * s, s + z * s * (one - s))
        }
        _ => (z, one),
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

/// Calls `$f::<T, CODE>(args)` with the activation's code as a constant.
macro_rules! with_act {
    ($act:expr, $f:ident::<$t:ty>($($arg:expr),*)) => {
        match $act {
            Activation::Linear => $f::<$t, LINEAR>($($arg),*),
            Activation::Relu => $f::<$t, RELU>($($arg),*),
            Activation::Lrelu => $f::<$t, LRELU>($($arg),*),
            Activation::Tanh => $f::<$t, TANH>($($arg),*),
            Activation::Sigmoid => $f::<$t, SIGMOID>($($arg),*),
            Activation::Elu => $f::<$t, ELU>($($arg),*),
            Activation::Selu => $f::<$t, SELU>($($arg),*),
            Activation::Softplus => $f::<$t, SOFTPLUS>($($arg),*),
            Activation::Swish => $f::<$t, SWISH>($($arg),*),
        }
    };
}

fn clamp_bounds<T: CpuElement>(spec: &BiasActSpec) -> (T, T) {
    match spec.clamp {
        Some(c) => (T::from_f64(-c), T::from_f64(c)),
        None => (T::neg_infinity(), T::infinity()),
    }
}

fn forward<T: CpuElement, const A: u8>(
    x: &[T],
    b: Option<&[T]>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Vec<T> {
    let (alpha, gain) = (T::from_f64(spec.alpha), T::from_f64(spec.gain));
    let (lo, hi) = clamp_bounds::<T>(spec);
    let mut out = uninit_vec::<T>(x.len());
    let clamped = spec.clamp.is_some();
    for_rows(&mut out, layout, |c, row, off| {
        let bias = b.map_or(T::zero(), |b| b[c]);
        let n = row.len();
        let src = &x[off..off + n];
        if clamped {
            for (o, &v) in row.iter_mut().zip(src) {
                let y = act_and_deriv::<T, A>(v + bias, alpha).0 * gain;
                // Two independent selects vectorise; NaN stays NaN, as in
                // PyTorch's clamp.
                let y = if y < lo { lo } else { y };
                *o = if y > hi { hi } else { y };
            }
        } else {
            for (o, &v) in row.iter_mut().zip(src) {
                *o = act_and_deriv::<T, A>(v + bias, alpha).0 * gain;
            }
        }
    });
    out
}

fn gradient<T: CpuElement, const A: u8>(
    dy: &[T],
    x: &[T],
    b: Option<&[T]>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Vec<T> {
    let (alpha, gain) = (T::from_f64(spec.alpha), T::from_f64(spec.gain));
    let (lo, hi) = clamp_bounds::<T>(spec);
    let clamped = spec.clamp.is_some();
    let mut out = uninit_vec::<T>(x.len());
    for_rows(&mut out, layout, |c, row, off| {
        let bias = b.map_or(T::zero(), |b| b[c]);
        let n = row.len();
        let pairs = row.iter_mut().zip(&x[off..off + n]).zip(&dy[off..off + n]);
        if clamped {
            for ((o, &v), &g) in pairs {
                let (a, d) = act_and_deriv::<T, A>(v + bias, alpha);
                let y = a * gain;
                let inside = (y >= lo) & (y <= hi);
                let d = if inside { d } else { T::zero() };
                *o = g * gain * d;
            }
        } else {
            for ((o, &v), &g) in pairs {
                *o = g * gain * act_and_deriv::<T, A>(v + bias, alpha).1;
            }
        }
    });
    out
}

pub fn bias_act<T: CpuElement>(
    x: &Storage,
    b: Option<&Storage>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let b = b.map(slice::<T>).transpose()?;
    Ok(wrap(with_act!(spec.act, forward::<T>(x, b, layout, spec))))
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
    Ok(wrap(with_act!(
        spec.act,
        gradient::<T>(dy, x, b, layout, spec)
    )))
}
