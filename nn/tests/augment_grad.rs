//! Gradient checks through the whole augmentation pipe in f64, with the
//! parameters drawn once and held fixed: first-order gradients with respect
//! to the images against central differences, second-order ones (the
//! gradient of `sum(dL/dx * u)`, built with `create_graph`) against central
//! differences of the first gradient, and the R1 shape (a penalty on the
//! image gradient, differentiated with respect to a weight of the critic).
//!
//! `L = sum(aug(x)^2 * r)` is quadratic in `x` (the pipe is affine in the
//! images), so central differences are exact up to rounding at any step:
//! the tolerances leave room for rounding only, not for a wrong rule.

use tcgan_core::{grad, DType, Generator, Tensor};
use tcgan_nn::augment::{AugmentKwargs, AugmentParams, AugmentPipe};
use tcgan_ops_cpu::cpu;

const EPS: f64 = 1e-3;

struct Setup {
    pipe: AugmentPipe,
    params: AugmentParams,
    x: Tensor,
    r: Tensor,
    u: Tensor,
}

fn setup(kwargs: AugmentKwargs, p: f64, shape: [usize; 4], seed: u64) -> Setup {
    let dev = cpu();
    let mut pipe = AugmentPipe::new(kwargs, &dev).unwrap();
    pipe.p = p;
    let mut g = Generator::new(seed);
    let params = pipe.draw(shape, &mut g, None).unwrap();
    let x = g.uniform(shape, -1.0, 1.0, DType::F64, &dev).unwrap();
    let r = g.normal(shape, DType::F64, &dev).unwrap();
    let u = g.normal(shape, DType::F64, &dev).unwrap();
    Setup {
        pipe,
        params,
        x,
        r,
        u,
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec_f64().unwrap()
}

fn with_value(t: &Tensor, i: usize, v: f64) -> Tensor {
    let mut d = values(t);
    d[i] = v;
    Tensor::from_vec(d, t.shape().clone(), &cpu()).unwrap()
}

fn loss(s: &Setup, x: &Tensor) -> Tensor {
    let y = s.pipe.apply(x, &s.params, None).unwrap();
    y.square().unwrap().mul(&s.r).unwrap().sum_all().unwrap()
}

fn first_grad(s: &Setup, x: &Tensor, create_graph: bool) -> Tensor {
    let l = loss(s, x);
    grad(&[&l], &[], &[x], create_graph).unwrap().remove(0)
}

/// H(x) = sum(dL/dx * u).
fn second(s: &Setup, x: &Tensor) -> Tensor {
    first_grad(s, x, true).mul(&s.u).unwrap().sum_all().unwrap()
}

fn leaf(t: &Tensor) -> Tensor {
    t.detach().requires_grad_(true).unwrap()
}

fn assert_close(what: &str, i: usize, analytic: f64, numeric: f64, scale: f64) {
    let tol = 1e-9 * scale + 1e-7 * numeric.abs();
    assert!(
        (analytic - numeric).abs() <= tol,
        "{what}, element {i}: analytic {analytic:.12e}, numeric {numeric:.12e}, |diff| {:.3e} > {tol:.3e}",
        (analytic - numeric).abs()
    );
}

/// Checks the first and second order at `elements` (all when `None`).
fn check(s: &Setup, elements: Option<Vec<usize>>) {
    let n = s.x.numel();
    let elements = elements.unwrap_or_else(|| (0..n).collect());
    let base = values(&s.x);

    let g1 = values(&first_grad(s, &leaf(&s.x), false));
    let scale1 = g1.iter().map(|v| v.abs()).fold(1.0, f64::max);
    let g2 = {
        let x = leaf(&s.x);
        values(&grad(&[&second(s, &x)], &[], &[&x], false).unwrap()[0])
    };
    let scale2 = g2.iter().map(|v| v.abs()).fold(1.0, f64::max);
    assert!(
        g2.iter().any(|v| v.abs() > 1e-3),
        "the second-order gradient should not vanish"
    );
    for &i in &elements {
        let plus = leaf(&with_value(&s.x, i, base[i] + EPS));
        let minus = leaf(&with_value(&s.x, i, base[i] - EPS));
        let num1 = (loss(s, &plus).to_scalar().unwrap() - loss(s, &minus).to_scalar().unwrap())
            / (2.0 * EPS);
        assert_close("first order", i, g1[i], num1, scale1);
        let num2 = (second(s, &plus).to_scalar().unwrap() - second(s, &minus).to_scalar().unwrap())
            / (2.0 * EPS);
        assert_close("second order", i, g2[i], num2, scale2);
    }
}

fn bgc() -> AugmentKwargs {
    AugmentKwargs::preset("bgc").unwrap()
}

#[test]
fn bgc_rgb_every_element() {
    let s = setup(bgc(), 1.0, [2, 3, 8, 8], 1);
    assert!(s.params.g_inv.is_some() && s.params.color.is_some());
    check(&s, None);
}

#[test]
fn bgc_grayscale_every_element() {
    let s = setup(bgc(), 1.0, [2, 1, 8, 8], 2);
    check(&s, None);
}

#[test]
fn bgc_low_p_keeps_the_resampling_path() {
    // At p = 0 every matrix is the identity, yet the resampling still runs.
    let s = setup(bgc(), 0.0, [2, 3, 8, 8], 3);
    check(&s, None);
}

#[test]
fn bgcfnc_sampled_elements() {
    // imgfilter reflect-pads by 21: the images must be larger than that.
    let s = setup(
        AugmentKwargs::preset("bgcfnc").unwrap(),
        1.0,
        [2, 3, 24, 24],
        4,
    );
    assert!(s.params.filter_gain.is_some() && s.params.noise.is_some());
    let mut g = Generator::new(5);
    let picks = (0..40)
        .map(|_| g.below(s.x.numel() as u64) as usize)
        .collect();
    check(&s, Some(picks));
}

/// R1 through the pipe: `D(x) = sum(w * tanh(aug(x)))`, penalty
/// `|dD/dx|^2`, differentiated with respect to `w` (the double backward the
/// Dreg phase takes through grid_sample's adjoint).
#[test]
fn r1_penalty_through_the_pipe_differentiates_in_the_critic_weights() {
    let s = setup(bgc(), 1.0, [2, 3, 8, 8], 6);
    let penalty = |w: &Tensor| -> Tensor {
        let x = leaf(&s.x);
        let y = s.pipe.apply(&x, &s.params, None).unwrap();
        let d = y.tanh().unwrap().mul(w).unwrap().sum_all().unwrap();
        let gx = grad(&[&d], &[], &[&x], true).unwrap().remove(0);
        gx.square().unwrap().sum_all().unwrap()
    };
    let w0 = s.r.clone();
    let w = leaf(&w0);
    let analytic = values(&grad(&[&penalty(&w)], &[], &[&w], false).unwrap()[0]);
    let scale = analytic.iter().map(|v| v.abs()).fold(1.0, f64::max);
    let base = values(&w0);
    let mut g = Generator::new(8);
    for _ in 0..30 {
        let i = g.below(base.len() as u64) as usize;
        // dD/dx is linear in w, so the penalty is quadratic in w.
        let lp = penalty(&with_value(&w0, i, base[i] + EPS))
            .to_scalar()
            .unwrap();
        let lm = penalty(&with_value(&w0, i, base[i] - EPS))
            .to_scalar()
            .unwrap();
        assert_close("d R1 / d w", i, analytic[i], (lp - lm) / (2.0 * EPS), scale);
    }
}
