//! `x * rsqrt(mean(x^2) + eps)` along one axis: the latent normalisation of
//! the mapping network.

use crate::Result;
use tcgan_core::Tensor;

/// Normalises `x` to unit second moment along `dim` (official eps 1e-8).
pub fn normalize_2nd_moment(x: &Tensor, dim: usize) -> Result<Tensor> {
    let d = dim as isize;
    Ok(x.mul(&x.square()?.mean_keepdim(&[d])?.add_scalar(1e-8)?.rsqrt()?)?)
}
