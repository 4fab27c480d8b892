//! Minibatch standard deviation: the discriminator's epilogue appends, per
//! group of samples, the average standard deviation of the features.

use crate::{Error, Result};
use tcgan_core::Tensor;

/// Appends `num_channels` channels to `x [N, C, H, W]`. Groups have
/// `min(group_size, N)` samples (the whole batch for `None`); the reshape puts
/// the group index in the outer axis, so samples `i, i + N/G, i + 2N/G, ...`
/// form a group.
pub fn minibatch_std(x: &Tensor, group_size: Option<usize>, num_channels: usize) -> Result<Tensor> {
    if x.rank() != 4 {
        return Err(Error::shape(
            "minibatch_std input",
            "[N, C, H, W]",
            x.dims(),
        ));
    }
    let (n, c, h, w) = (x.dim(0), x.dim(1), x.dim(2), x.dim(3));
    let g = group_size.map_or(n, |s| s.min(n));
    let f = num_channels;
    if g == 0 || n % g != 0 || f == 0 || c % f != 0 {
        return Err(Error::config(
            "minibatch_std",
            format!(
                "batch {n} must be a multiple of the group size {g}, and {c} channels a multiple of {f}"
            ),
        ));
    }
    let cc = c / f;
    let y = x.reshape([g, n / g, f, cc, h, w])?; // [GnFcHW]
    let y = y.sub(&y.mean_keepdim(&[0])?)?;
    let y = y.square()?.mean(&[0])?; // [nFcHW]
    let y = y.add_scalar(1e-8)?.sqrt()?;
    let y = y.mean(&[2, 3, 4])?; // [nF]
    let y = y.reshape([n / g, f, 1, 1])?.repeat(&[g, 1, h, w])?; // [NFHW]
    Ok(Tensor::concat(&[x, &y], 1)?)
}
