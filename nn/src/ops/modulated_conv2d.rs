//! The modulated convolution of StyleGAN2's synthesis layers: the weight is
//! scaled per sample by the styles, optionally demodulated, and either applied
//! as one grouped convolution (fused) or by scaling the activations before and
//! after a shared convolution (not fused; the same up to rounding). With f16
//! activations the weights and styles are prepared in f32 and rounded for use.

use super::conv2d_resample::{conv2d_resample, conv2d_resample_transposed};
use crate::{Error, Result};
use tcgan_core::{DType, Tensor};

/// Arguments of `modulated_conv2d` besides the tensors (official defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModConvArgs {
    pub up: usize,
    pub down: usize,
    /// Padding w.r.t. the upsampled image, `[x0, x1, y0, y1]`.
    pub padding: [isize; 4],
    pub demodulate: bool,
    /// False = convolution, true = correlation (like `conv2d`).
    pub flip_weight: bool,
    pub fused_modconv: bool,
}

impl Default for ModConvArgs {
    fn default() -> Self {
        ModConvArgs {
            up: 1,
            down: 1,
            padding: [0; 4],
            demodulate: true,
            flip_weight: true,
            fused_modconv: true,
        }
    }
}

/// `x [N, I, H, W]`, `weight [O, I, kh, kw]`, `styles [N, I]`; `noise` is added
/// after demodulation (it must broadcast to the output); `resample_filter`
/// comes from `setup_filter` when resampling.
pub fn modulated_conv2d(
    x: &Tensor,
    weight: &Tensor,
    styles: &Tensor,
    noise: Option<&Tensor>,
    resample_filter: Option<&Tensor>,
    args: &ModConvArgs,
) -> Result<Tensor> {
    if weight.rank() != 4 {
        return Err(Error::shape(
            "modulated_conv2d weight",
            "[O, I, kh, kw]",
            weight.dims(),
        ));
    }
    let (o, i, kh, kw) = (weight.dim(0), weight.dim(1), weight.dim(2), weight.dim(3));
    if x.rank() != 4 || x.dim(1) != i {
        return Err(Error::shape(
            "modulated_conv2d x",
            format!("[N, {i}, H, W]"),
            x.dims(),
        ));
    }
    let n = x.dim(0);
    if styles.dims() != [n, i] {
        return Err(Error::shape(
            "modulated_conv2d styles",
            format!("[{n}, {i}]"),
            styles.dims(),
        ));
    }

    // With f16 activations, scale weight and styles to a maximum of about one
    // so that the products cannot overflow; demodulation cancels the scales.
    let dtype = x.dtype();
    let (weight, styles) = if dtype == DType::F16 && args.demodulate {
        let fan_in = ((i * kh * kw) as f64).sqrt();
        (
            weight.div(&weight.abs()?.max_keepdim(&[1, 2, 3])?.mul_scalar(fan_in)?)?,
            styles.div(&styles.abs()?.max_keepdim(&[1])?)?,
        )
    } else {
        (weight.clone(), styles.clone())
    };
    let (weight, styles) = (&weight, &styles);

    if args.fused_modconv {
        // Per-sample (demodulated) weights, one grouped convolution over the
        // batch; a transposed convolution reads them transposed.
        let (h, wd) = (x.dim(2), x.dim(3));
        let x = x.reshape([1, n * i, h, wd])?;
        let x = if args.up > 1 {
            let wt = weight
                .modulate_weight(styles, args.demodulate, true)?
                .reshape([n * i, o, kh, kw])?
                .to_dtype(dtype)?;
            conv2d_resample_transposed(
                &x,
                &wt,
                resample_filter,
                args.up,
                args.down,
                args.padding,
                n,
                args.flip_weight,
                false,
            )?
        } else {
            let w = weight
                .modulate_weight(styles, args.demodulate, false)?
                .reshape([n * o, i, kh, kw])?
                .to_dtype(dtype)?;
            conv2d_resample(
                &x,
                &w,
                resample_filter,
                args.up,
                args.down,
                args.padding,
                n,
                args.flip_weight,
                false,
            )?
        };
        let x = x.reshape([n, o, x.dim(2), x.dim(3)])?;
        return match noise {
            Some(noise) => Ok(x.add(&noise.to_dtype(dtype)?)?),
            None => Ok(x),
        };
    }

    // Demodulation coefficients without forming the per-sample weights:
    // sum_{i,k} (weight[o,i,k] styles[n,i])^2 = sum_i styles[n,i]^2 sum_k weight[o,i,k]^2.
    let dcoefs = if args.demodulate {
        let wsq = weight.square()?.sum(&[2, 3])?; // [O, I]
        Some(
            styles
                .square()?
                .matmul_t(&wsq, false, true)?
                .add_scalar(tcgan_core::DEMOD_EPS)?
                .rsqrt()?
                .to_dtype(dtype)?,
        )
    } else {
        None
    };
    let noise = noise.map(|z| z.to_dtype(dtype)).transpose()?;

    // Scale the activations before and after one shared convolution.
    let x = x.mul(&styles.reshape([n, i, 1, 1])?.to_dtype(dtype)?)?;
    let x = conv2d_resample(
        &x,
        &weight.to_dtype(dtype)?,
        resample_filter,
        args.up,
        args.down,
        args.padding,
        1,
        args.flip_weight,
        false,
    )?;
    Ok(match (&dcoefs, &noise) {
        (Some(d), Some(noise)) => x.mul(&d.reshape([n, o, 1, 1])?)?.add(noise)?,
        (Some(d), None) => x.mul(&d.reshape([n, o, 1, 1])?)?,
        (None, Some(noise)) => x.add(noise)?,
        (None, None) => x,
    })
}
