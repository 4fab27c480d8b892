//! FIR filtering with resampling, with the official conventions: filters made
//! by `setup_filter`, padding given as an int, `[x, y]` or `[x0, x1, y0, y1]`,
//! and `upsample2d` / `downsample2d` padding the image so that its size scales
//! exactly by the factor.

use crate::{Error, Result};
use tcgan_core::{DType, Device, Tensor, Upfirdn2dSpec};

/// Python's `a // b` (rounds towards minus infinity) for `b > 0`.
pub(crate) fn fdiv(a: isize, b: isize) -> isize {
    a.div_euclid(b)
}

/// Padding `[x0, x1, y0, y1]` from the official forms: `[p]`, `[px, py]` or
/// `[x0, x1, y0, y1]`.
pub fn parse_padding(p: &[isize]) -> Result<[isize; 4]> {
    match *p {
        [a] => Ok([a, a, a, a]),
        [x, y] => Ok([x, x, y, y]),
        [x0, x1, y0, y1] => Ok([x0, x1, y0, y1]),
        _ => Err(Error::config(
            "padding",
            format!("expected 1, 2 or 4 values, got {p:?}"),
        )),
    }
}

/// `(fw, fh)` of a filter; `(1, 1)` for none.
pub fn filter_size(f: Option<&Tensor>) -> (usize, usize) {
    match f {
        None => (1, 1),
        Some(f) if f.rank() == 1 => (f.dim(0), f.dim(0)),
        Some(f) => (f.dim(1), f.dim(0)),
    }
}

/// The official `setup_filter`: `values` of `shape` (`[]`, `[taps]` or
/// `[fh, fw]`); a 1-D filter of fewer than 8 taps becomes its outer product
/// unless `separable` says otherwise; then normalised to sum 1, flipped, and
/// scaled by `gain^(ndim / 2)`. The result has `dtype` (f32 in the networks,
/// like the official buffers).
#[allow(clippy::too_many_arguments)] // the official signature
pub fn setup_filter(
    values: &[f64],
    shape: &[usize],
    normalize: bool,
    flip_filter: bool,
    gain: f64,
    separable: Option<bool>,
    device: &Device,
    dtype: DType,
) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    if values.is_empty() || n != values.len() || shape.len() > 2 {
        return Err(Error::config(
            "setup_filter",
            format!(
                "{} values do not make a filter of shape {shape:?}",
                values.len()
            ),
        ));
    }
    let mut shape = if shape.is_empty() {
        vec![1]
    } else {
        shape.to_vec()
    };
    let mut f = values.to_vec();
    let separable = separable.unwrap_or(shape.len() == 1 && f.len() >= 8);
    if shape.len() == 1 && !separable {
        f = f
            .iter()
            .flat_map(|&a| values.iter().map(move |&b| a * b))
            .collect();
        shape = vec![values.len(), values.len()];
    }
    if separable && shape.len() != 1 {
        return Err(Error::config(
            "setup_filter",
            "a 2-D filter cannot be separable",
        ));
    }
    // The official code works in float32: round first, as it does.
    let mut f: Vec<f64> = f.into_iter().map(|v| v as f32 as f64).collect();
    if normalize {
        let sum: f64 = f.iter().sum();
        f.iter_mut().for_each(|v| *v /= sum);
    }
    if flip_filter {
        f.reverse();
    }
    let g = gain.powf(shape.len() as f64 / 2.0);
    f.iter_mut().for_each(|v| *v *= g);
    Ok(Tensor::from_vec(f, shape, device)?.to_dtype(dtype)?)
}

/// `upfirdn2d(x, f, up, down, padding, flip_filter, gain)`; `f = None` is the
/// identity filter. `up`, `down` are `[x, y]`; `padding` is `[x0, x1, y0, y1]`.
pub fn upfirdn2d(
    x: &Tensor,
    f: Option<&Tensor>,
    up: [usize; 2],
    down: [usize; 2],
    padding: [isize; 4],
    flip_filter: bool,
    gain: f64,
) -> Result<Tensor> {
    let spec = Upfirdn2dSpec {
        up,
        down,
        pad: padding,
        flip_filter,
        gain,
    };
    match f {
        Some(f) => Ok(x.upfirdn2d(f, &spec)?),
        None => {
            let one = Tensor::ones([1, 1], x.dtype(), x.device())?;
            Ok(x.upfirdn2d(&one, &spec)?)
        }
    }
}

/// Upsamples by `up` so that the output is exactly `up` times the input, then
/// applies the user `padding` on top; the gain is `up_x * up_y` times `gain`.
pub fn upsample2d(
    x: &Tensor,
    f: Option<&Tensor>,
    up: [usize; 2],
    padding: [isize; 4],
    flip_filter: bool,
    gain: f64,
) -> Result<Tensor> {
    let (fw, fh) = filter_size(f);
    let (fw, fh) = (fw as isize, fh as isize);
    let [upx, upy] = up.map(|v| v as isize);
    let p = [
        padding[0] + fdiv(fw + upx - 1, 2),
        padding[1] + fdiv(fw - upx, 2),
        padding[2] + fdiv(fh + upy - 1, 2),
        padding[3] + fdiv(fh - upy, 2),
    ];
    upfirdn2d(
        x,
        f,
        up,
        [1, 1],
        p,
        flip_filter,
        gain * (up[0] * up[1]) as f64,
    )
}

/// Downsamples by `down` so that the output is exactly the input divided by
/// `down`, with the user `padding` (w.r.t. the input) on top.
pub fn downsample2d(
    x: &Tensor,
    f: Option<&Tensor>,
    down: [usize; 2],
    padding: [isize; 4],
    flip_filter: bool,
    gain: f64,
) -> Result<Tensor> {
    let (fw, fh) = filter_size(f);
    let (fw, fh) = (fw as isize, fh as isize);
    let [dx, dy] = down.map(|v| v as isize);
    let p = [
        padding[0] + fdiv(fw - dx + 1, 2),
        padding[1] + fdiv(fw - dx, 2),
        padding[2] + fdiv(fh - dy + 1, 2),
        padding[3] + fdiv(fh - dy, 2),
    ];
    upfirdn2d(x, f, [1, 1], down, p, flip_filter, gain)
}

/// Filters without resampling, padded so that the output keeps the input size
/// (plus the user `padding`).
pub fn filter2d(
    x: &Tensor,
    f: Option<&Tensor>,
    padding: [isize; 4],
    flip_filter: bool,
    gain: f64,
) -> Result<Tensor> {
    let (fw, fh) = filter_size(f);
    let (fw, fh) = (fw as isize, fh as isize);
    let p = [
        padding[0] + fdiv(fw, 2),
        padding[1] + fdiv(fw - 1, 2),
        padding[2] + fdiv(fh, 2),
        padding[3] + fdiv(fh - 1, 2),
    ];
    upfirdn2d(x, f, [1, 1], [1, 1], p, flip_filter, gain)
}
