//! Execution of the colour augmentations: one 4x4 homogeneous matrix per
//! sample applied to the RGB values of every pixel (a batched 3x3 product
//! plus an offset); for 1-channel images the first three rows are averaged.

use super::geometric::dims4;
use super::matrices::Mat4;
use crate::{Error, Result};
use tcgan_core::Tensor;

/// `C[:, :3, :3] @ rgb + C[:, :3, 3]` per sample of `images` `[N, C, H, W]`,
/// for `C` = 3 or 1 channels.
pub fn apply_color(images: &Tensor, color: &[Mat4]) -> Result<Tensor> {
    let [n, c, h, w] = dims4(images)?;
    if color.len() != n {
        return Err(Error::config(
            "AugmentPipe colour stage",
            format!("{} colour matrices for a batch of {n}", color.len()),
        ));
    }
    let host = |v: Vec<f64>, shape: Vec<usize>| -> Result<Tensor> {
        Ok(Tensor::from_vec(v, shape, images.device())?.to_dtype(images.dtype())?)
    };
    match c {
        3 => {
            let m: Vec<f64> = color
                .iter()
                .flat_map(|cm| cm[..3].iter().flat_map(|row| row[..3].to_vec()))
                .collect();
            let offset: Vec<f64> = color.iter().flat_map(|cm| cm[..3].iter().map(|r| r[3])).collect();
            let x = images.reshape([n, 3, h * w])?;
            let y = host(m, vec![n, 3, 3])?
                .matmul(&x)?
                .add(&host(offset, vec![n, 3, 1])?)?;
            Ok(y.reshape([n, c, h, w])?)
        }
        1 => {
            // Rows 0..2 averaged: out = x * sum(mean[:3]) + mean[3].
            let mean = |cm: &Mat4, k: usize| (cm[0][k] + cm[1][k] + cm[2][k]) / 3.0;
            let gain: Vec<f64> = color
                .iter()
                .map(|cm| mean(cm, 0) + mean(cm, 1) + mean(cm, 2))
                .collect();
            let offset: Vec<f64> = color.iter().map(|cm| mean(cm, 3)).collect();
            Ok(images
                .mul(&host(gain, vec![n, 1, 1, 1])?)?
                .add(&host(offset, vec![n, 1, 1, 1])?)?)
        }
        _ => Err(Error::config(
            "AugmentPipe",
            format!("colour augmentations need RGB (3 channels) or L (1 channel) images, got {c} channels"),
        )),
    }
}
