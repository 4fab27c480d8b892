//! Execution of the geometric augmentations as the official pipe does it:
//! reflect-pad the batch, upsample 2x with the sym6 wavelet filter, resample
//! with one bilinear `grid_sample` per sample's inverse matrix, filter and
//! downsample back. The matrices and padding are worked out on the host.

use super::matrices::{apply3, matmul, scale2d, scale2d_inv, translate2d, translate2d_inv, Mat3};
use crate::ops::{downsample2d, upsample2d};
use crate::{Error, Result};
use tcgan_core::{GridPadding, GridSampleSpec, Tensor};

/// The geometric stage of one batch of `[N, C, height, width]` images:
/// the reflect padding and every form of the inverse matrices.
#[derive(Debug, Clone, PartialEq)]
pub struct GeomPlan {
    pub height: usize,
    pub width: usize,
    /// `len(Hz_geom) // 4`: the margin (in input pixels) the filters need.
    pub hz_pad: usize,
    /// Reflect padding `[mx0, mx1, my0, my1]` (left, right, top, bottom).
    pub pad: [usize; 4],
    /// Inverse transforms in pixel units, as given.
    pub g_inv_pixel: Vec<Mat3>,
    /// After re-centring on the padded image.
    pub g_inv_padded: Vec<Mat3>,
    /// In the normalised coordinates of `affine_grid` (rows 0 and 1 used).
    pub g_inv_final: Vec<Mat3>,
}

impl GeomPlan {
    /// The plan for inverse matrices `g_inv_pixel` on images of
    /// `height x width`, with a geometric filter of `filter_taps` taps.
    pub fn new(
        g_inv_pixel: Vec<Mat3>,
        height: usize,
        width: usize,
        filter_taps: usize,
    ) -> Result<Self> {
        if g_inv_pixel.is_empty() {
            return Err(Error::config(
                "AugmentPipe",
                "an empty batch has nothing to augment",
            ));
        }
        if height < 2 || width < 2 {
            return Err(Error::config(
                "AugmentPipe",
                format!(
                    "geometric augmentations need images of at least 2x2, got {height}x{width}"
                ),
            ));
        }
        let hz_pad = filter_taps / 4;
        let (cx, cy) = ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0);
        // How far the transformed corners reach beyond the image, over the
        // whole batch: [-x, -y, x, y] maxima.
        let mut reach = [f64::NEG_INFINITY; 4];
        for g in &g_inv_pixel {
            for corner in [
                [-cx, -cy, 1.0],
                [cx, -cy, 1.0],
                [cx, cy, 1.0],
                [-cx, cy, 1.0],
            ] {
                let [x, y, _] = apply3(g, corner);
                reach[0] = reach[0].max(-x);
                reach[1] = reach[1].max(-y);
                reach[2] = reach[2].max(x);
                reach[3] = reach[3].max(y);
            }
        }
        let hp = hz_pad as f64 * 2.0;
        let base = [hp - cx, hp - cy, hp - cx, hp - cy];
        let limit = [width - 1, height - 1, width - 1, height - 1];
        let mut margin = [0usize; 4];
        for k in 0..4 {
            let m = reach[k] + base[k];
            if !m.is_finite() {
                return Err(Error::config(
                    "AugmentPipe",
                    "the inverse geometric transform is not finite",
                ));
            }
            margin[k] = m.max(0.0).min(limit[k] as f64).ceil() as usize;
        }
        let [mx0, my0, mx1, my1] = margin;
        let pad = [mx0, mx1, my0, my1];

        let (pw, ph) = (width + mx0 + mx1, height + my0 + my1);
        // The grid_sample output: the image plus the filter margin, at 2x.
        let (sw, sh) = ((width + hz_pad * 2) * 2, (height + hz_pad * 2) * 2);
        let recentre = translate2d(
            (mx0 as f64 - mx1 as f64) / 2.0,
            (my0 as f64 - my1 as f64) / 2.0,
        );
        let (up, up_inv) = (scale2d(2.0, 2.0), scale2d_inv(2.0, 2.0));
        let (half, half_inv) = (translate2d(-0.5, -0.5), translate2d_inv(-0.5, -0.5));
        let to_norm = scale2d(2.0 / (2 * pw) as f64, 2.0 / (2 * ph) as f64);
        let from_norm = scale2d_inv(2.0 / sw as f64, 2.0 / sh as f64);
        let mut g_inv_padded = Vec::with_capacity(g_inv_pixel.len());
        let mut g_inv_final = Vec::with_capacity(g_inv_pixel.len());
        for g in &g_inv_pixel {
            let padded = matmul(&recentre, g);
            let g2 = matmul(&matmul(&up, &padded), &up_inv);
            let g2 = matmul(&matmul(&half, &g2), &half_inv);
            g_inv_final.push(matmul(&matmul(&to_norm, &g2), &from_norm));
            g_inv_padded.push(padded);
        }
        Ok(GeomPlan {
            height,
            width,
            hz_pad,
            pad,
            g_inv_pixel,
            g_inv_padded,
            g_inv_final,
        })
    }

    /// `[height, width]` of the `grid_sample` output.
    pub fn sampled_hw(&self) -> [usize; 2] {
        [
            (self.height + self.hz_pad * 2) * 2,
            (self.width + self.hz_pad * 2) * 2,
        ]
    }
}

/// `torch.nn.functional.pad(x, [l, r, t, b], mode='reflect')` on the last two
/// axes: mirrored without repeating the edge; every amount must be smaller
/// than its axis. Built from crops, flips and a concatenation, so it is
/// differentiable to any order.
pub fn reflect_pad2d(x: &Tensor, lrtb: [usize; 4]) -> Result<Tensor> {
    let r = x.rank();
    if r < 2 {
        return Err(Error::shape("reflect_pad2d", "[..., H, W]", x.dims()));
    }
    let [l, rt, t, b] = lrtb;
    let x = reflect_axis(x, r - 1, l, rt)?;
    reflect_axis(&x, r - 2, t, b)
}

fn reflect_axis(x: &Tensor, axis: usize, before: usize, after: usize) -> Result<Tensor> {
    let n = x.dim(axis);
    if before >= n.max(1) || after >= n.max(1) {
        return Err(Error::config(
            "reflect_pad2d",
            format!("padding ({before}, {after}) must be smaller than the size {n} of axis {axis}"),
        ));
    }
    if before == 0 && after == 0 {
        return Ok(x.clone());
    }
    let ax = axis as isize;
    let mut parts = Vec::with_capacity(3);
    if before > 0 {
        parts.push(x.narrow(axis, 1, before)?.flip(&[ax])?);
    }
    parts.push(x.clone());
    if after > 0 {
        parts.push(x.narrow(axis, n - 1 - after, after)?.flip(&[ax])?);
    }
    let refs: Vec<&Tensor> = parts.iter().collect();
    Ok(Tensor::concat(&refs, axis)?)
}

/// `torch.nn.functional.affine_grid(theta, [N, C, ho, wo], align_corners=False)`
/// for `theta` = rows 0 and 1 of each matrix: `[N, ho, wo, 2]` sampling
/// positions `A [x, y] + t`, as one broadcast sum of an x term `[N, 1, wo, 2]`
/// and a y term `[N, ho, 1, 2]`, both built from small host tensors.
pub fn affine_grid(theta: &[Mat3], ho: usize, wo: usize, like: &Tensor) -> Result<Tensor> {
    let n = theta.len();
    let host = |v: Vec<f64>, shape: [usize; 4]| -> Result<Tensor> {
        Ok(Tensor::from_vec(v, shape, like.device())?.to_dtype(like.dtype())?)
    };
    let column = |k: usize| -> Result<Tensor> {
        host(
            theta.iter().flat_map(|m| [m[0][k], m[1][k]]).collect(),
            [n, 1, 1, 2],
        )
    };
    // Pixel centres in [-1, 1].
    let centres = |len: usize| -> Vec<f64> {
        (0..len)
            .map(|j| (2 * j + 1) as f64 / len as f64 - 1.0)
            .collect()
    };
    let xs = host(centres(wo), [1, 1, wo, 1])?;
    let ys = host(centres(ho), [1, ho, 1, 1])?;
    let along_x = xs.mul(&column(0)?)?;
    let along_y = ys.mul(&column(1)?)?.add(&column(2)?)?;
    Ok(along_x.add(&along_y)?)
}

/// Named intermediate images of the stages, for comparisons while debugging.
pub type Trace = Vec<(&'static str, Tensor)>;

/// Runs the geometric stage of `plan` on `images` `[N, C, H, W]` with the
/// geometric filter `hz_geom` (`setup_filter(sym6)`, separable).
pub fn apply_geometric(
    images: &Tensor,
    plan: &GeomPlan,
    hz_geom: &Tensor,
    mut trace: Option<&mut Trace>,
) -> Result<Tensor> {
    let [n, _, h, w] = dims4(images)?;
    if (h, w) != (plan.height, plan.width) || n != plan.g_inv_pixel.len() {
        return Err(Error::shape(
            "AugmentPipe geometric stage",
            format!(
                "[{}, C, {}, {}]",
                plan.g_inv_pixel.len(),
                plan.height,
                plan.width
            ),
            images.dims(),
        ));
    }
    let mut record = |name: &'static str, t: &Tensor| {
        if let Some(tr) = trace.as_deref_mut() {
            tr.push((name, t.clone()));
        }
    };
    let padded = reflect_pad2d(images, plan.pad)?;
    record("img_padded", &padded);
    let up = upsample2d(&padded, Some(hz_geom), [2, 2], [0; 4], false, 1.0)?;
    record("img_upsampled", &up);
    let [sh, sw] = plan.sampled_hw();
    let grid = affine_grid(&plan.g_inv_final, sh, sw, images)?;
    let spec = GridSampleSpec {
        padding: GridPadding::Zeros,
        align_corners: false,
    };
    let sampled = up.grid_sample(&grid, &spec)?;
    record("img_grid_sampled", &sampled);
    let crop = -2 * plan.hz_pad as isize;
    let out = downsample2d(&sampled, Some(hz_geom), [2, 2], [crop; 4], true, 1.0)?;
    record("img_geom", &out);
    Ok(out)
}

pub(crate) fn dims4(x: &Tensor) -> Result<[usize; 4]> {
    match *x.dims() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::shape("AugmentPipe", "[N, C, H, W]", x.dims())),
    }
}
