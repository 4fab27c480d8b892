//! Execution of the image-space corruptions: additive RGB noise of a drawn
//! per-sample strength, and cutout (a square of zeros at a drawn centre).

use super::geometric::dims4;
use super::params::{CutoutParams, NoiseParams};
use crate::{Error, Result};
use tcgan_core::Tensor;

/// `images + randn([N, C, H, W]) * sigma[n]`, the field drawn from the
/// generator state in `noise`.
pub fn apply_noise(images: &Tensor, noise: &NoiseParams) -> Result<Tensor> {
    let [n, c, h, w] = dims4(images)?;
    if noise.sigma.len() != n {
        return Err(Error::config(
            "AugmentPipe noise stage",
            format!("{} noise strengths for a batch of {n}", noise.sigma.len()),
        ));
    }
    // Samples that drew no noise add exact zeros: skip the whole field then.
    if noise.sigma.iter().all(|&s| s == 0.0) {
        return Ok(images.clone());
    }
    let mut field_rng = noise.field.clone();
    let field = field_rng.normal([n, c, h, w], images.dtype(), images.device())?;
    let sigma = Tensor::from_vec(noise.sigma.clone(), [n, 1, 1, 1], images.device())?
        .to_dtype(images.dtype())?;
    Ok(images.add(&field.mul(&sigma)?)?)
}

/// Zeroes, per sample, the pixels whose centres lie within half the size of
/// the cutout centre along both axes (relative coordinates).
pub fn apply_cutout(images: &Tensor, cutout: &CutoutParams) -> Result<Tensor> {
    let [n, _, h, w] = dims4(images)?;
    if cutout.size.len() != n || cutout.center.len() != n {
        return Err(Error::config(
            "AugmentPipe cutout stage",
            format!("{} cutouts for a batch of {n}", cutout.size.len()),
        ));
    }
    // keep = |x - cx| >= size/2 OR |y - cy| >= size/2, as two small masks.
    let keep = |len: usize, axis: usize| -> Vec<f64> {
        (0..n)
            .flat_map(|i| {
                let (size, centre) = (cutout.size[i], cutout.center[i][axis]);
                (0..len).map(move |k| {
                    let pos = (k as f64 + 0.5) / len as f64;
                    f64::from(u8::from((pos - centre).abs() >= size / 2.0))
                })
            })
            .collect()
    };
    let dev = images.device();
    let mask_x = Tensor::from_vec(keep(w, 0), [n, 1, 1, w], dev)?;
    let mask_y = Tensor::from_vec(keep(h, 1), [n, 1, h, 1], dev)?;
    let mask = mask_x.maximum(&mask_y)?.to_dtype(images.dtype())?;
    Ok(images.mul(&mask)?)
}
