//! `bias_act` with the official argument conventions: `None` picks the
//! activation's default alpha and gain, and no clamping.

use crate::{Error, Result};
use tcgan_core::Tensor;
pub use tcgan_core::{Activation, BiasActSpec};

/// The activation called `name` in the official code (`"lrelu"`, `"linear"`, ...).
pub fn activation(name: &str) -> Result<Activation> {
    Activation::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
        Error::config(
            "bias_act",
            format!("unknown activation {name:?} (known: {})", known.join(", ")),
        )
    })
}

/// The spec of `bias_act(act=act, alpha=alpha, gain=gain, clamp=clamp)`.
pub fn spec(
    act: Activation,
    alpha: Option<f64>,
    gain: Option<f64>,
    clamp: Option<f64>,
) -> BiasActSpec {
    BiasActSpec {
        act,
        alpha: alpha.unwrap_or(act.default_alpha()),
        gain: gain.unwrap_or(act.default_gain()),
        clamp,
    }
}

/// `clamp(act(x + b) * gain, -clamp, clamp)`, `b` broadcast along `dim`.
pub fn bias_act(
    x: &Tensor,
    b: Option<&Tensor>,
    dim: usize,
    act: Activation,
    alpha: Option<f64>,
    gain: Option<f64>,
    clamp: Option<f64>,
) -> Result<Tensor> {
    Ok(x.bias_act(b, dim, &spec(act, alpha, gain, clamp))?)
}
