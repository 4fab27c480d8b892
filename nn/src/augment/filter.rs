//! Image-space filtering: a bank of four band-pass filters built from the
//! sym2 wavelet, mixed per sample by the drawn band gains into one
//! symmetric FIR filter, applied separably (rows, then columns) after a
//! reflect padding.

use super::geometric::{dims4, reflect_pad2d};
use crate::ops::wavelet;
use crate::{Error, Result};
use tcgan_core::Tensor;

/// Full 1-D convolution (`numpy.convolve`).
fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// The official `Hz_fbank`: 4 bands (low to high frequency) of 43 taps each,
/// rounded to f32 as the official buffer is.
pub fn hz_fbank() -> Vec<Vec<f64>> {
    let lo = wavelet("sym2").expect("sym2 is tabulated");
    // H(-z): alternate signs.
    let hi: Vec<f64> = lo
        .iter()
        .enumerate()
        .map(|(k, &v)| if k % 2 == 0 { v } else { -v })
        .collect();
    let rev = |v: &[f64]| v.iter().rev().copied().collect::<Vec<_>>();
    let lo2: Vec<f64> = convolve(lo, &rev(lo)).iter().map(|v| v / 2.0).collect();
    let hi2: Vec<f64> = convolve(&hi, &rev(&hi)).iter().map(|v| v / 2.0).collect();
    let mut bank: Vec<Vec<f64>> = (0..4)
        .map(|i| vec![if i == 0 { 1.0 } else { 0.0 }])
        .collect();
    for i in 1..4 {
        for row in bank.iter_mut() {
            // Insert a zero after every tap (drop the trailing one), then
            // low-pass: the previous bands move down one octave.
            let mut up = vec![0.0; 2 * row.len() - 1];
            for (k, &v) in row.iter().enumerate() {
                up[2 * k] = v;
            }
            *row = convolve(&up, &lo2);
        }
        let len = bank[i].len();
        let start = (len - hi2.len()) / 2;
        for (k, &v) in hi2.iter().enumerate() {
            bank[i][start + k] += v;
        }
    }
    bank.into_iter()
        .map(|row| row.into_iter().map(|v| v as f32 as f64).collect())
        .collect()
}

/// Filters each sample of `images` `[N, C, H, W]` with `gain[n] @ fbank`
/// along x then y (cross-correlation, as `conv2d`), after reflect-padding by
/// half the filter length; H and W must exceed that padding.
pub fn apply_imgfilter(images: &Tensor, gain: &[[f64; 4]], fbank: &[Vec<f64>]) -> Result<Tensor> {
    let [n, c, h, w] = dims4(images)?;
    if gain.len() != n || fbank.len() != 4 {
        return Err(Error::config(
            "AugmentPipe imgfilter stage",
            format!("{} band gains for a batch of {n}", gain.len()),
        ));
    }
    let taps = fbank[0].len();
    let p = taps / 2;
    if h <= p || w <= p {
        return Err(Error::config(
            "AugmentPipe",
            format!("imgfilter reflect-pads by {p} and needs images larger than that, got {h}x{w}"),
        ));
    }
    // One filter per (sample, channel): the channels of a sample share it.
    let mut filters = Vec::with_capacity(n * c * taps);
    for g in gain {
        let f: Vec<f64> = (0..taps)
            .map(|k| (0..4).map(|b| g[b] * fbank[b][k]).sum())
            .collect();
        for _ in 0..c {
            filters.extend_from_slice(&f);
        }
    }
    let weights = Tensor::from_vec(filters, [n * c, 1, 1, taps], images.device())?
        .to_dtype(images.dtype())?;
    let x = images.reshape([1, n * c, h, w])?;
    let x = reflect_pad2d(&x, [p, p, p, p])?;
    let x = x.conv2d(&weights, 1, 0, n * c)?;
    let x = x.conv2d(&weights.reshape([n * c, 1, taps, 1])?, 1, 0, n * c)?;
    Ok(x.reshape([n, c, h, w])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_bank_is_a_partition_of_unity() {
        let bank = hz_fbank();
        assert_eq!(bank.len(), 4);
        assert!(bank.iter().all(|r| r.len() == 43));
        // The bands sum to a unit impulse: unit gains leave the image as is.
        for k in 0..43 {
            let s: f64 = bank.iter().map(|r| r[k]).sum();
            let want = if k == 21 { 1.0 } else { 0.0 };
            assert!((s - want).abs() < 1e-6, "tap {k}: {s}");
        }
        // Every band is symmetric; the lowest passes DC, the others do not.
        for r in &bank {
            for k in 0..43 {
                assert!((r[k] - r[42 - k]).abs() < 1e-7);
            }
        }
        let dc: Vec<f64> = bank.iter().map(|r| r.iter().sum()).collect();
        assert!(
            (dc[0] - 1.0).abs() < 1e-6 && dc[1..].iter().all(|d| d.abs() < 1e-6),
            "{dc:?}"
        );
    }
}
