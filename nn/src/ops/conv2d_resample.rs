//! 2-D convolution with optional up/downsampling, with the official padding
//! arithmetic: padding is given w.r.t. the upsampled image and applied once,
//! and each case takes the official fast path (a strided convolution for
//! down=2, a transposed convolution followed by the FIR filter for up=2), so
//! results match to rounding.

use super::upfirdn2d::{fdiv, filter_size, upfirdn2d};
use crate::{Error, Result};
use tcgan_core::{Conv2dSpec, ConvTranspose2dSpec, Tensor};

/// `conv2d` or `conv_transpose2d`, flipping the kernel first when
/// `flip_weight` is false (the conv ops compute a correlation).
fn conv2d_wrapper(
    x: &Tensor,
    w: &Tensor,
    stride: usize,
    padding: [usize; 2],
    groups: usize,
    transpose: bool,
    flip_weight: bool,
) -> Result<Tensor> {
    let w = if flip_weight {
        w.clone()
    } else {
        w.flip(&[2, 3])?
    };
    let y = if transpose {
        x.conv_transpose2d_spec(
            &w,
            &ConvTranspose2dSpec {
                stride: [stride; 2],
                padding,
                output_padding: [0, 0],
                groups,
            },
        )?
    } else {
        x.conv2d_spec(
            &w,
            &Conv2dSpec {
                stride: [stride; 2],
                padding,
                groups,
            },
        )?
    };
    Ok(y)
}

/// The padding `[x0, x1, y0, y1]` after accounting for up/downsampling with a
/// filter of `(fw, fh)`.
fn resample_padding(padding: [isize; 4], f: Option<&Tensor>, up: usize, down: usize) -> [isize; 4] {
    let (fw, fh) = filter_size(f);
    let (fw, fh) = (fw as isize, fh as isize);
    let [mut px0, mut px1, mut py0, mut py1] = padding;
    let (upi, downi) = (up as isize, down as isize);
    if up > 1 {
        px0 += fdiv(fw + upi - 1, 2);
        px1 += fdiv(fw - upi, 2);
        py0 += fdiv(fh + upi - 1, 2);
        py1 += fdiv(fh - upi, 2);
    }
    if down > 1 {
        px0 += fdiv(fw - downi + 1, 2);
        px1 += fdiv(fw - downi, 2);
        py0 += fdiv(fh - downi + 1, 2);
        py1 += fdiv(fh - downi, 2);
    }
    [px0, px1, py0, py1]
}

/// The upsampling path: a transposed strided convolution with `wt`, already in
/// `conv_transpose2d`'s layout `[groups * I/g, O/g, kh, kw]`, then the filter
/// (and the downsampling filter when `down > 1`). `pad` is `resample_padding`'s.
#[allow(clippy::too_many_arguments)]
fn upsampling_path(
    x: &Tensor,
    wt: &Tensor,
    f: Option<&Tensor>,
    up: usize,
    down: usize,
    pad: [isize; 4],
    groups: usize,
    flip_weight: bool,
    flip_filter: bool,
) -> Result<Tensor> {
    let (kh, kw) = (wt.dim(2) as isize, wt.dim(3) as isize);
    let upi = up as isize;
    let [mut px0, mut px1, mut py0, mut py1] = pad;
    px0 -= kw - 1;
    px1 -= kw - upi;
    py0 -= kh - 1;
    py1 -= kh - upi;
    let pxt = (-px0).min(-px1).max(0);
    let pyt = (-py0).min(-py1).max(0);
    let x = conv2d_wrapper(
        x,
        wt,
        up,
        [pyt as usize, pxt as usize],
        groups,
        true,
        !flip_weight,
    )?;
    let x = upfirdn2d(
        &x,
        f,
        [1, 1],
        [1, 1],
        [px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt],
        flip_filter,
        (up * up) as f64,
    )?;
    if down > 1 {
        return upfirdn2d(&x, f, [1, 1], [down, down], [0; 4], flip_filter, 1.0);
    }
    Ok(x)
}

/// `conv2d_resample` with `up > 1` for a weight given already transposed as
/// `[groups * I/g, O/g, kh, kw]` (e.g. by `Tensor::modulate_weight(.., true)`),
/// which spares a copy of the weight.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_resample_transposed(
    x: &Tensor,
    wt: &Tensor,
    f: Option<&Tensor>,
    up: usize,
    down: usize,
    padding: [isize; 4],
    groups: usize,
    flip_weight: bool,
    flip_filter: bool,
) -> Result<Tensor> {
    if x.rank() != 4 || wt.rank() != 4 || up < 2 || down == 0 || groups == 0 {
        return Err(Error::config(
            "conv2d_resample_transposed",
            format!(
                "x {:?}, weight {:?}, up {up}: needs 4-D tensors and up >= 2",
                x.dims(),
                wt.dims()
            ),
        ));
    }
    let pad = resample_padding(padding, f, up, down);
    upsampling_path(x, wt, f, up, down, pad, groups, flip_weight, flip_filter)
}

/// `conv2d_resample(x, w, f, up, down, padding, groups, flip_weight, flip_filter)`:
/// `x [N, C, H, W]`, `w [O, C / groups, kh, kw]`, `f` a filter from
/// `setup_filter` (or `None`), `padding` `[x0, x1, y0, y1]`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_resample(
    x: &Tensor,
    w: &Tensor,
    f: Option<&Tensor>,
    up: usize,
    down: usize,
    padding: [isize; 4],
    groups: usize,
    flip_weight: bool,
    flip_filter: bool,
) -> Result<Tensor> {
    if x.rank() != 4 || w.rank() != 4 {
        return Err(Error::config(
            "conv2d_resample",
            format!("x {:?} and w {:?} must both be 4-D", x.dims(), w.dims()),
        ));
    }
    if up == 0 || down == 0 || groups == 0 {
        return Err(Error::config(
            "conv2d_resample",
            "up, down and groups must be >= 1",
        ));
    }
    let (out_channels, in_per_group, kh, kw) = (w.dim(0), w.dim(1), w.dim(2), w.dim(3));
    let pad = resample_padding(padding, f, up, down);
    let [px0, px1, py0, py1] = pad;

    // 1x1 kernel, downsampling only: downsample first, then convolve.
    if kw == 1 && kh == 1 && down > 1 && up == 1 {
        let x = upfirdn2d(x, f, [1, 1], [down, down], pad, flip_filter, 1.0)?;
        return conv2d_wrapper(&x, w, 1, [0, 0], groups, false, flip_weight);
    }
    // 1x1 kernel, upsampling only: convolve first, then upsample.
    if kw == 1 && kh == 1 && up > 1 && down == 1 {
        let x = conv2d_wrapper(x, w, 1, [0, 0], groups, false, flip_weight)?;
        return upfirdn2d(&x, f, [up, up], [1, 1], pad, flip_filter, (up * up) as f64);
    }
    // Downsampling only: filter, then a strided convolution.
    if down > 1 && up == 1 {
        let x = upfirdn2d(x, f, [1, 1], [1, 1], pad, flip_filter, 1.0)?;
        return conv2d_wrapper(&x, w, down, [0, 0], groups, false, flip_weight);
    }
    // Upsampling (and maybe downsampling): a transposed strided convolution,
    // then the filter.
    if up > 1 {
        let wt = if groups == 1 {
            w.transpose(0, 1)?
        } else {
            w.reshape([groups, out_channels / groups, in_per_group, kh, kw])?
                .transpose(1, 2)?
                .reshape([groups * in_per_group, out_channels / groups, kh, kw])?
        };
        return upsampling_path(x, &wt, f, up, down, pad, groups, flip_weight, flip_filter);
    }
    // No resampling: a plain convolution when its symmetric padding suffices.
    if up == 1 && down == 1 && px0 == px1 && py0 == py1 && px0 >= 0 && py0 >= 0 {
        return conv2d_wrapper(
            x,
            w,
            1,
            [py0 as usize, px0 as usize],
            groups,
            false,
            flip_weight,
        );
    }
    // The generic path (here: no resampling, uneven or negative padding).
    let x = upfirdn2d(
        x,
        if up > 1 { f } else { None },
        [up, up],
        [1, 1],
        pad,
        flip_filter,
        (up * up) as f64,
    )?;
    let x = conv2d_wrapper(&x, w, 1, [0, 0], groups, false, flip_weight)?;
    if down > 1 {
        return upfirdn2d(&x, f, [1, 1], [down, down], [0; 4], flip_filter, 1.0);
    }
    Ok(x)
}
