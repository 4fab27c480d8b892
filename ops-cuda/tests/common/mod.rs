//! Cross-device checks shared by the test binaries: a list of cases (one per
//! op or op variant), and a runner that evaluates a case on a device under
//! test and on a reference device from the same inputs, forward, backward and
//! double backward, and compares every tensor with a stated tolerance.

#![allow(dead_code)]

use tcgan_core::{
    grad, Activation, BiasActSpec, Conv2dSpec, DType, Device, Generator, GridPadding,
    GridSampleSpec, Result, Shape, Tensor, Upfirdn2dSpec,
};

/// Where inputs are drawn from, to stay off kinks and out of poles.
#[derive(Clone, Copy)]
pub enum Domain {
    /// Standard normal, moved at least 0.05 away from zero (kinks at 0).
    AwayFromZero,
    /// Uniform in [0.5, 2].
    Positive,
    /// Standard normal.
    Any,
}

pub struct Case {
    pub name: &'static str,
    /// Input shapes from the drawn dims `d` (each in 1..=5).
    pub shapes: fn(&[usize]) -> Vec<Vec<usize>>,
    pub domain: Domain,
    pub f: fn(&[Tensor]) -> Result<Tensor>,
}

/// Every case runs in each of these: f16 is a storage format that both
/// backends compute as f32 (core's `F16ViaF32`), so it checks the casts and
/// that every op accepts f16 tensors end to end.
pub const DTYPES: [DType; 3] = [DType::F32, DType::F64, DType::F16];

/// The architecture's tolerance: `max|a-b| <= max_abs` and
/// `|a-b|_2 / |b|_2 <= rel_l2`. `max_abs` is scaled by `max(1, max|b|)`.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub max_abs: f64,
    pub rel_l2: f64,
}

/// f32: a few ulps of accumulated rounding on both sides (different summation
/// orders, fused multiply-adds on the GPU); f64: the same, 9 decades tighter;
/// f16: both sides compute in f32 and round once, so an f32 difference can
/// move a result across one f16 rounding boundary (2^-11 relative).
pub fn tolerance(dtype: DType) -> Tol {
    match dtype {
        DType::F32 => Tol {
            max_abs: 1e-4,
            rel_l2: 2e-5,
        },
        DType::F64 => Tol {
            max_abs: 1e-12,
            rel_l2: 1e-11,
        },
        DType::F16 => Tol {
            max_abs: 2e-3,
            rel_l2: 1e-3,
        },
    }
}

/// One failed comparison: what, where, both values, how far over budget.
#[derive(Debug)]
pub struct Mismatch(pub String);

pub fn compare(what: &str, ours: &[f64], reference: &[f64], tol: Tol) -> Result<(), Mismatch> {
    if ours.len() != reference.len() {
        return Err(Mismatch(format!(
            "{what}: {} values, reference has {}",
            ours.len(),
            reference.len()
        )));
    }
    let scale = reference.iter().fold(1f64, |m, v| m.max(v.abs()));
    let (mut worst, mut at, mut d2, mut r2) = (0f64, 0usize, 0f64, 0f64);
    for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        let d = (a - b).abs();
        // NaN in either (and not both) is a mismatch of infinite size.
        let d = if a.is_nan() != b.is_nan() {
            f64::INFINITY
        } else if a.is_nan() {
            0.0
        } else {
            d
        };
        if d > worst {
            worst = d;
            at = i;
        }
        if d.is_finite() {
            d2 += d * d;
        }
        r2 += b * b;
    }
    let max_abs = tol.max_abs * scale;
    let rel = if r2 > 0.0 {
        (d2 / r2).sqrt()
    } else {
        d2.sqrt()
    };
    if worst > max_abs || rel > tol.rel_l2 {
        return Err(Mismatch(format!(
            "{what}: element {at}: ours {:.9e}, reference {:.9e}; max_abs {worst:.3e} ({:.1}x the budget {max_abs:.1e}), rel_l2 {rel:.3e} ({:.1}x the budget {:.1e})",
            ours[at],
            reference[at],
            worst / max_abs,
            rel / tol.rel_l2,
            tol.rel_l2
        )));
    }
    Ok(())
}

/// Inputs of a case as host values (drawn once, uploaded to both devices).
pub struct Inputs {
    pub shapes: Vec<Vec<usize>>,
    pub xs: Vec<Vec<f64>>,
    /// Weights of the outputs in L, and of the gradients in H.
    pub r: Vec<f64>,
    pub us: Vec<Vec<f64>>,
}

fn draw(g: &mut Generator, n: usize, domain: Domain) -> Vec<f64> {
    match domain {
        Domain::Any => g.normal_vec(n),
        Domain::Positive => g.uniform_vec(n, 0.5, 2.0),
        Domain::AwayFromZero => g
            .normal_vec(n)
            .into_iter()
            .map(|x| {
                if x.abs() < 0.05 {
                    x.signum() * 0.05 + x
                } else {
                    x
                }
            })
            .collect(),
    }
}

pub fn inputs(
    case: &Case,
    seed: u64,
    d: &[usize],
    out_numel: impl Fn(&[Vec<usize>]) -> usize,
) -> Inputs {
    let mut g = Generator::new(seed);
    let shapes = (case.shapes)(d);
    let xs: Vec<Vec<f64>> = shapes
        .iter()
        .map(|s| draw(&mut g, s.iter().product(), case.domain))
        .collect();
    let r = draw(&mut g, out_numel(&shapes), Domain::Any);
    let us = shapes
        .iter()
        .map(|s| draw(&mut g, s.iter().product(), Domain::Any))
        .collect();
    Inputs { shapes, xs, r, us }
}

fn upload(v: &[f64], shape: &[usize], dtype: DType, dev: &Device) -> Result<Tensor> {
    Tensor::from_vec(v.to_vec(), shape.to_vec(), dev)?.to_dtype(dtype)
}

/// Forward output, first-order gradients and second-order gradients of one
/// case on one device, as host values (second order empty when the first
/// gradient does not depend on the inputs).
pub struct Evaluation {
    pub y: Vec<f64>,
    pub grads: Vec<Vec<f64>>,
    pub second: Vec<Vec<f64>>,
}

pub fn evaluate(case: &Case, inp: &Inputs, dtype: DType, dev: &Device) -> Result<Evaluation> {
    let xs: Vec<Tensor> = inp
        .xs
        .iter()
        .zip(&inp.shapes)
        .map(|(v, s)| upload(v, s, dtype, dev)?.requires_grad_(true))
        .collect::<Result<_>>()?;
    let y = (case.f)(&xs)?;
    let r = upload(&inp.r, y.dims(), dtype, dev)?;
    let l = y.mul(&r)?.sum_all()?;
    let refs: Vec<&Tensor> = xs.iter().collect();
    let gs = grad(&[&l], &[], &refs, true)?;
    let mut h: Option<Tensor> = None;
    for ((g, u), s) in gs.iter().zip(&inp.us).zip(&inp.shapes) {
        let term = g.mul(&upload(u, s, dtype, dev)?)?.sum_all()?;
        h = Some(match h {
            Some(h) => h.add(&term)?,
            None => term,
        });
    }
    let second = match h {
        Some(h) if h.requires_grad() => grad(&[&h], &[], &refs, false)?
            .iter()
            .map(|t| t.to_vec_f64())
            .collect::<Result<_>>()?,
        _ => Vec::new(),
    };
    Ok(Evaluation {
        y: y.to_vec_f64()?,
        grads: gs.iter().map(|t| t.to_vec_f64()).collect::<Result<_>>()?,
        second,
    })
}

/// Runs a case on both devices and compares everything.
pub fn check(
    case: &Case,
    seed: u64,
    d: &[usize],
    dtype: DType,
    dut: &Device,
    reference: &Device,
) -> Result<(), Mismatch> {
    let err = |what: &str, e: tcgan_core::Error| Mismatch(format!("{what}: {e}"));
    // The output size comes from a reference run on the drawn shapes.
    let probe = inputs(case, seed, d, |_| 0);
    let probe_xs: Vec<Tensor> = probe
        .xs
        .iter()
        .zip(&probe.shapes)
        .map(|(v, s)| upload(v, s, DType::F64, reference))
        .collect::<Result<_>>()
        .map_err(|e| err("inputs", e))?;
    let n_out = (case.f)(&probe_xs)
        .map_err(|e| err("reference forward", e))?
        .numel();
    let inp = inputs(case, seed, d, |_| n_out);
    let want = evaluate(case, &inp, dtype, reference).map_err(|e| err("reference", e))?;
    let got = evaluate(case, &inp, dtype, dut).map_err(|e| err("device under test", e))?;
    let tol = tolerance(dtype);
    compare("forward", &got.y, &want.y, tol)?;
    if got.grads.len() != want.grads.len() || got.second.len() != want.second.len() {
        return Err(Mismatch("different numbers of gradients".into()));
    }
    for (i, (a, b)) in got.grads.iter().zip(&want.grads).enumerate() {
        compare(&format!("gradient of input {i}"), a, b, tol)?;
    }
    for (i, (a, b)) in got.second.iter().zip(&want.second).enumerate() {
        compare(&format!("second-order gradient of input {i}"), a, b, tol)?;
    }
    Ok(())
}

fn s(v: &[usize]) -> Vec<usize> {
    v.to_vec()
}

/// `bias_act` along axis 1 with the bias scaled down, so that `x + b` stays off
/// the kinks at 0 (the inputs are drawn at least 0.05 away from zero).
fn bias_act_case(x: &[Tensor], act: Activation, clamp: Option<f64>) -> Result<Tensor> {
    let spec = BiasActSpec {
        clamp,
        ..BiasActSpec::new(act)
    };
    x[0].bias_act(Some(&x[1].mul_scalar(0.01)?), 1, &spec)
}

/// A fixed, asymmetric FIR filter on the device of `like`: 2-D `[3, 4]` or 1-D
/// with 5 taps.
fn fir(separable: bool, like: &Tensor) -> Result<Tensor> {
    if separable {
        Tensor::from_vec(vec![0.1f64, -0.3, 0.7, 0.25, 0.05], [5], like.device())
    } else {
        let v: Vec<f64> = (0..12).map(|i| ((i * 7 % 5) as f64 - 1.5) * 0.3).collect();
        Tensor::from_vec(v, [3, 4], like.device())
    }
}

/// `upfirdn2d(x, fir(separable))^2` (squared so that the gradient depends on `x`).
fn upfirdn(
    x: &Tensor,
    separable: bool,
    up: [usize; 2],
    down: [usize; 2],
    pad: [isize; 4],
    flip_filter: bool,
    gain: f64,
) -> Result<Tensor> {
    let spec = Upfirdn2dSpec {
        up,
        down,
        pad,
        flip_filter,
        gain,
    };
    x.upfirdn2d(&fir(separable, x)?, &spec)?.square()
}

macro_rules! case {
    ($name:expr, $shapes:expr, $domain:expr, $f:expr) => {
        Case {
            name: $name,
            shapes: $shapes,
            domain: $domain,
            f: $f,
        }
    };
}

/// One entry per op or kernel path; a new op adds its line here.
pub fn cases() -> Vec<Case> {
    use Domain::*;
    let u = |d: &[usize]| vec![s(&[d[0], d[1], d[2]])];
    let two = |d: &[usize]| vec![s(&[d[0], d[1], d[2]]), s(&[d[0], d[1], d[2]])];
    let bcast = |d: &[usize]| vec![s(&[d[0], d[1], d[2]]), s(&[d[1], 1])];
    // x and a bias along axis 1.
    let bcast_b = |d: &[usize]| vec![s(&[d[0], d[1], d[2]]), s(&[d[1]])];
    let img = |d: &[usize]| vec![s(&[d[0], 2, d[1] + 3, d[2] + 3])];
    vec![
        case!("neg", u, Any, |x| x[0].neg()),
        case!("exp", u, Any, |x| x[0].exp()),
        case!("log", u, Positive, |x| x[0].log()),
        case!("sqrt", u, Positive, |x| x[0].sqrt()),
        case!("rsqrt", u, Positive, |x| x[0].rsqrt()),
        case!("recip", u, Positive, |x| x[0].recip()),
        case!("abs", u, AwayFromZero, |x| x[0].abs()),
        case!("sign", u, AwayFromZero, |x| x[0].sign()?.mul(&x[0])),
        case!("square", u, Any, |x| x[0].square()),
        case!("tanh", u, Any, |x| x[0].tanh()),
        case!("sigmoid", u, Any, |x| x[0].sigmoid()),
        case!("softplus", u, Any, |x| x[0].mul_scalar(3.0)?.softplus()),
        case!("relu", u, AwayFromZero, |x| x[0].relu()),
        case!("leaky_relu", u, AwayFromZero, |x| x[0].leaky_relu(0.2)),
        case!("elu", u, AwayFromZero, |x| x[0].elu()),
        case!("selu", u, AwayFromZero, |x| x[0].selu()),
        case!("swish", u, Any, |x| x[0].swish()),
        case!("powf", u, Positive, |x| x[0].powf(2.5)),
        case!("powf_cube", u, Any, |x| x[0].powf(3.0)),
        case!("powf_neg", u, Positive, |x| x[0].powf(-1.5)),
        case!("affine", u, Any, |x| x[0].affine(-1.5, 0.25)),
        case!("clamp", u, Any, |x| x[0]
            .mul_scalar(2.0)?
            .clamp(-1.013, 0.987)),
        case!("add", bcast, Any, |x| x[0].add(&x[1])),
        case!("add_same_shape", two, Any, |x| x[0].add(&x[1])),
        case!("sub", bcast, Any, |x| x[0].sub(&x[1])),
        case!("mul", bcast, Any, |x| x[0].mul(&x[1])),
        case!("div", bcast, Positive, |x| x[0].div(&x[1])),
        case!("maximum", two, Any, |x| x[0].maximum(&x[1])),
        case!("minimum", two, Any, |x| x[0].minimum(&x[1])),
        case!("pow", two, Positive, |x| x[0].pow(&x[1])),
        case!("compare", two, Any, |x| x[0]
            .ge(&x[1])?
            .add(&x[0].lt(&x[1])?.mul_scalar(2.0)?)?
            .add(&x[0].eq_(&x[0])?)?
            .mul(&x[1])),
        case!("where_cond", bcast, Any, |x| Tensor::where_cond(
            &x[0].gt(&x[1])?,
            &x[0].square()?,
            &x[1].mul_scalar(3.0)?
        )),
        case!("sum", u, Any, |x| x[0].sum(&[0, 2])),
        case!("sum_keepdim", u, Any, |x| x[0].sum_keepdim(&[1])),
        case!("sum_all", u, Any, |x| x[0].square()?.sum_all()),
        case!(
            "sum_long_rows",
            |d| vec![s(&[d[0], 300 * d[1]])],
            Any,
            |x| x[0].square()?.sum(&[1])
        ),
        case!(
            "sum_wide_cols",
            |d| vec![s(&[d[0], 20, 33 * d[2]])],
            Any,
            |x| x[0].square()?.sum(&[1])
        ),
        case!(
            "sum_interleaved",
            |d| vec![s(&[d[0] + 1, d[1], d[2] + 1, 3])],
            Any,
            |x| x[0].square()?.sum(&[0, 2])
        ),
        case!("mean", u, Any, |x| x[0].square()?.mean(&[-1])),
        case!("var", |d| vec![s(&[d[0], d[1], d[2] + 1])], Any, |x| x[0]
            .var(&[2], true, true)),
        case!("max", u, Any, |x| x[0].max(&[1])),
        case!(
            "max_long_rows",
            |d| vec![s(&[d[0], 257 * d[1]])],
            Any,
            |x| x[0].max(&[1])
        ),
        case!("min", u, Any, |x| x[0].min_keepdim(&[0, 2])),
        case!("reshape", u, Any, |x| x[0].reshape_infer(&[-1])?.square()),
        case!("permute", |d| vec![s(&[d[0], d[1], d[2], 2])], Any, |x| x
            [0]
        .permute(&[2, 0, 3, 1])?
        .square()),
        case!("transpose", u, Any, |x| x[0].transpose(0, 2)?.exp()),
        case!("narrow", |d| vec![s(&[d[0], d[1] + 2, d[2]])], Any, |x| x
            [0]
        .narrow(1, 1, x[0].dim(1) - 2)?
        .square()),
        case!("pad", u, Any, |x| x[0]
            .pad(&[(1, 0), (0, 2), (2, 1)])?
            .square()),
        case!(
            "pad_crop",
            |d| vec![s(&[d[0], d[1] + 3, d[2] + 1])],
            Any,
            |x| x[0].pad(&[(0, 1), (-1, -2), (1, -1)])?.square()
        ),
        case!(
            "concat",
            |d| vec![s(&[d[0], d[1], d[2]]), s(&[d[0], 2, d[2]])],
            Any,
            |x| { Tensor::concat(&[&x[0], &x[1].square()?], 1) }
        ),
        case!("stack", two, Any, |x| Tensor::stack(
            &[&x[0], &x[1].exp()?],
            2
        )),
        case!("repeat", u, Any, |x| x[0].repeat(&[2, 1, 3])?.square()),
        case!("broadcast_as", |d| vec![s(&[d[1], 1])], Any, |x| x[0]
            .broadcast_as([3, x[0].dim(0), 2])?
            .square()),
        case!("flip", u, Any, |x| x[0].flip(&[0, 2])?.square()),
        case!("index_select", u, Any, |x| x[0]
            .index_select(2, &[0, 0, x[0].dim(2) - 1])?
            .square()),
        case!("index_add", u, Any, |x| x[0].square()?.index_add(
            0,
            &(0..x[0].dim(0)).map(|i| i % 2).collect::<Vec<_>>(),
            2
        )),
        case!("gather", u, Any, |x| {
            let (a, b, c) = (x[0].dim(0), x[0].dim(1), x[0].dim(2));
            let idx: Vec<usize> = (0..a * b * 2).map(|i| (i * 7) % c).collect();
            x[0].gather(2, &idx, &Shape::new([a, b, 2]))?.square()
        }),
        case!("scatter_add", u, Any, |x| {
            let (a, b, c) = (x[0].dim(0), x[0].dim(1), x[0].dim(2));
            let idx: Vec<usize> = (0..a * b * c).map(|i| (i * 5) % 3).collect();
            x[0].square()?.scatter_add(2, &idx, &Shape::new([a, b, 3]))
        }),
        case!("to_dtype_roundtrip", u, Any, |x| {
            let other = if x[0].dtype() == DType::F32 {
                DType::F64
            } else {
                DType::F32
            };
            x[0].to_dtype(other)?.square()?.to_dtype(x[0].dtype())
        }),
        case!(
            "matmul",
            |d| vec![s(&[d[0], d[1]]), s(&[d[1], d[2]])],
            Any,
            |x| x[0].matmul(&x[1])?.square()
        ),
        case!(
            "matmul_large",
            |d| vec![s(&[17 * d[0], 33 * d[1]]), s(&[33 * d[1], 9 * d[2]])],
            Any,
            |x| x[0].matmul(&x[1])?.square()
        ),
        case!(
            "matmul_batched_broadcast",
            |d| vec![s(&[2, d[0], d[1]]), s(&[d[1], d[2]])],
            Any,
            |x| x[0].matmul(&x[1])?.square()
        ),
        case!(
            "matmul_ta",
            |d| vec![s(&[2, d[1], d[0]]), s(&[2, d[1], d[2]])],
            Any,
            |x| x[0].matmul_t(&x[1], true, false)?.square()
        ),
        case!(
            "matmul_tb",
            |d| vec![s(&[d[0], d[1]]), s(&[3, d[2], d[1]])],
            Any,
            |x| x[0].matmul_t(&x[1], false, true)?.square()
        ),
        case!(
            "matmul_ta_tb",
            |d| vec![s(&[d[1], d[0]]), s(&[d[2], d[1]])],
            Any,
            |x| x[0].matmul_t(&x[1], true, true)?.square()
        ),
        case!(
            "conv2d",
            |d| vec![s(&[d[0], 2, d[1] + 2, d[2] + 3]), s(&[3, 2, 3, 3])],
            Any,
            |x| x[0].conv2d(&x[1], 1, 1, 1)?.square()
        ),
        case!(
            "conv2d_wide",
            |d| vec![s(&[d[0], 8, d[1] + 9, d[2] + 9]), s(&[12, 8, 3, 3])],
            Any,
            |x| x[0].conv2d(&x[1], 1, 1, 1)?.square()
        ),
        case!(
            "conv2d_stride2_pad0",
            |d| vec![s(&[d[0], 2, d[1] + 3, d[2] + 2]), s(&[2, 2, 2, 3])],
            Any,
            |x| x[0].conv2d(&x[1], 2, 0, 1)?.square()
        ),
        case!(
            "conv2d_groups",
            |d| vec![s(&[d[0], 4, d[1] + 2, d[2] + 2]), s(&[6, 2, 3, 3])],
            Any,
            |x| x[0].conv2d(&x[1], 2, 1, 2)?.square()
        ),
        case!(
            "conv2d_1x1",
            |d| vec![s(&[d[0], 3, d[1], d[2]]), s(&[2, 3, 1, 1])],
            Any,
            |x| x[0].conv2d(&x[1], 1, 0, 1)?.square()
        ),
        case!(
            "conv2d_1x1_groups",
            |d| vec![s(&[d[0], 4, d[1], d[2]]), s(&[6, 2, 1, 1])],
            Any,
            |x| x[0].conv2d(&x[1], 1, 0, 2)?.square()
        ),
        case!(
            "conv_transpose2d",
            |d| vec![s(&[d[0], 2, d[1], d[2]]), s(&[2, 3, 3, 3])],
            Any,
            |x| x[0].conv_transpose2d(&x[1], 2, 0, 0, 1)?.square()
        ),
        case!(
            "conv_transpose2d_pad_outpad_groups",
            |d| vec![s(&[d[0], 4, d[1] + 1, d[2] + 1]), s(&[4, 1, 3, 3])],
            Any,
            |x| x[0].conv_transpose2d(&x[1], 2, 1, 1, 2)?.square()
        ),
        case!(
            "conv_transpose2d_1x1",
            |d| vec![s(&[d[0], 3, d[1], d[2]]), s(&[3, 2, 1, 1])],
            Any,
            |x| x[0].conv_transpose2d(&x[1], 1, 0, 0, 1)?.square()
        ),
        case!(
            "conv2d_weight_grad",
            |d| vec![
                s(&[d[0], 2, d[1] + 2, d[2] + 2]),
                s(&[d[0], 3, d[1] + 2, d[2] + 2])
            ],
            Any,
            |x| {
                let spec = Conv2dSpec {
                    stride: [1, 1],
                    padding: [1, 1],
                    groups: 1,
                };
                x[0].conv2d_weight_grad(&x[1], &Shape::new([3, 2, 3, 3]), &spec)?
                    .square()
            }
        ),
        case!(
            "grid_sample_zeros",
            |d| vec![s(&[2, d[0], d[1] + 1, d[2] + 2])],
            Any,
            |x| {
                let g = Generator::new(7).uniform(
                    [2, 3, 4, 2],
                    -1.3,
                    1.3,
                    x[0].dtype(),
                    x[0].device(),
                )?;
                let spec = GridSampleSpec {
                    padding: GridPadding::Zeros,
                    align_corners: false,
                };
                x[0].grid_sample(&g, &spec)?.square()
            }
        ),
        case!(
            "grid_sample_border_aligned",
            |d| vec![s(&[2, d[0], d[1] + 1, d[2] + 1])],
            Any,
            |x| {
                let g = Generator::new(8).uniform(
                    [2, 2, 5, 2],
                    -1.3,
                    1.3,
                    x[0].dtype(),
                    x[0].device(),
                )?;
                let spec = GridSampleSpec {
                    padding: GridPadding::Border,
                    align_corners: true,
                };
                x[0].grid_sample(&g, &spec)?.square()
            }
        ),
        case!(
            "max_pool2d_3x3_s2",
            |d| vec![s(&[d[0], 2, d[1] + 2, d[2] + 3])],
            Any,
            |x| x[0].max_pool2d(3, 2, 0)?.square()
        ),
        case!(
            "avg_pool2d_pad_exclude",
            |d| vec![s(&[d[0], 2, d[1] + 1, d[2] + 2])],
            Any,
            |x| x[0].avg_pool2d(3, 1, 1, false)?.square()
        ),
        case!(
            "avg_pool2d_include_pad_s2",
            |d| vec![s(&[d[0], 3, d[1] + 2, d[2] + 2])],
            Any,
            |x| x[0].avg_pool2d(3, 2, 1, true)?.square()
        ),
        // ---- StyleGAN fused ops: bias_act, upfirdn2d, modulate_weight ----
        case!("bias_act_linear", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Linear,
            None
        )),
        case!("bias_act_relu", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Relu,
            None
        )),
        case!("bias_act_lrelu", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Lrelu,
            None
        )),
        case!("bias_act_tanh", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Tanh,
            None
        )),
        case!(
            "bias_act_sigmoid",
            bcast_b,
            AwayFromZero,
            |x| bias_act_case(x, Activation::Sigmoid, None)
        ),
        case!("bias_act_elu", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Elu,
            None
        )),
        case!("bias_act_selu", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Selu,
            None
        )),
        case!("bias_act_softplus", bcast_b, AwayFromZero, |x| {
            bias_act_case(x, Activation::Softplus, None)
        }),
        case!("bias_act_swish", bcast_b, AwayFromZero, |x| bias_act_case(
            x,
            Activation::Swish,
            None
        )),
        case!("bias_act_lrelu_clamp", bcast_b, AwayFromZero, |x| {
            bias_act_case(x, Activation::Lrelu, Some(0.987))
        }),
        case!(
            "bias_act_tanh_clamp_alpha_gain",
            bcast_b,
            AwayFromZero,
            |x| {
                let spec = BiasActSpec {
                    act: Activation::Tanh,
                    alpha: 0.3,
                    gain: 1.7,
                    clamp: Some(1.013),
                };
                x[0].bias_act(Some(&x[1].mul_scalar(0.01)?), 1, &spec)
            }
        ),
        case!("bias_act_no_bias_dim0", u, AwayFromZero, |x| x[0].bias_act(
            None,
            0,
            &BiasActSpec::new(Activation::Swish)
        )),
        case!(
            "bias_act_lrelu_clamp_nchw",
            |d| vec![s(&[d[0], d[1] + 1, d[2] + 2, 3]), s(&[d[1] + 1])],
            AwayFromZero,
            |x| bias_act_case(x, Activation::Lrelu, Some(1.5))
        ),
        case!(
            "bias_act_grad_selu",
            |d| vec![s(&[d[0], d[1], d[2]]), s(&[d[0], d[1], d[2]]), s(&[d[1]])],
            AwayFromZero,
            |x| {
                let spec = BiasActSpec::new(Activation::Selu);
                x[0].bias_act_grad(&x[1], Some(&x[2].mul_scalar(0.01)?), 1, &spec)
            }
        ),
        case!(
            "bias_act_grad_sigmoid_clamp",
            |d| vec![s(&[d[0], d[1], d[2]]), s(&[d[0], d[1], d[2]]), s(&[d[1]])],
            AwayFromZero,
            |x| {
                let spec = BiasActSpec {
                    clamp: Some(0.613),
                    ..BiasActSpec::new(Activation::Sigmoid)
                };
                x[0].bias_act_grad(&x[1], Some(&x[2].mul_scalar(0.01)?), 1, &spec)
            }
        ),
        case!("upfirdn2d_up2_pad", img, Any, |x| upfirdn(
            &x[0],
            false,
            [2, 2],
            [1, 1],
            [2, 1, 2, 1],
            false,
            4.0
        )),
        case!("upfirdn2d_down2_flip", img, Any, |x| upfirdn(
            &x[0],
            false,
            [1, 1],
            [2, 2],
            [1, 2, 1, 1],
            true,
            1.0
        )),
        case!("upfirdn2d_crop_gain", img, Any, |x| upfirdn(
            &x[0],
            false,
            [1, 1],
            [1, 1],
            [-1, 2, 1, -1],
            false,
            2.5
        )),
        case!("upfirdn2d_aniso", img, Any, |x| upfirdn(
            &x[0],
            false,
            [2, 1],
            [1, 2],
            [2, 1, 0, 1],
            false,
            1.0
        )),
        case!("upfirdn2d_separable_up_down", img, Any, |x| upfirdn(
            &x[0],
            true,
            [2, 3],
            [3, 2],
            [3, 2, 4, 1],
            false,
            4.0
        )),
        case!("upfirdn2d_separable_flip_crop", img, Any, |x| upfirdn(
            &x[0],
            true,
            [1, 1],
            [2, 1],
            [-1, 2, 1, 1],
            true,
            1.0
        )),
        case!(
            "upfirdn2d_stylegan_up2",
            |d| vec![s(&[d[0], 3, 4 * d[1], 4 * d[2]])],
            Any,
            |x| {
                // The official [1, 3, 3, 1] resampling filter, normalised.
                let f = Tensor::from_vec(vec![0.125f64, 0.375, 0.375, 0.125], [4], x[0].device())?;
                let spec = Upfirdn2dSpec {
                    up: [2, 2],
                    down: [1, 1],
                    pad: [2, 1, 2, 1],
                    flip_filter: false,
                    gain: 4.0,
                };
                x[0].upfirdn2d(&f, &spec)?.square()
            }
        ),
        case!(
            "modulate_weight_demod",
            |d| vec![s(&[d[0] + 1, d[1], 3, 2]), s(&[d[2], d[1]])],
            Any,
            |x| x[0].modulate_weight(&x[1], true, false)
        ),
        case!(
            "modulate_weight_demod_transposed",
            |d| vec![s(&[d[0] + 1, d[1], 2, 2]), s(&[d[2], d[1]])],
            Any,
            |x| x[0].modulate_weight(&x[1], true, true)?.square()
        ),
        case!(
            "modulate_weight",
            |d| vec![s(&[d[0], d[1], 1, 2]), s(&[d[2], d[1]])],
            Any,
            |x| x[0].modulate_weight(&x[1], false, false)?.square()
        ),
        case!(
            "modulate_weight_demod_wide",
            |d| vec![s(&[d[0] + 2, 40 * d[1], 3, 3]), s(&[d[2], 40 * d[1]])],
            Any,
            |x| x[0].modulate_weight(&x[1], true, false)?.square()
        ),
        case!("norm", u, Any, |x| x[0].norm()),
    ]
}
