//! NVIDIA's resize to 299x299: `affine_grid` with a pure-scale theta, then
//! `grid_sample(bilinear, padding_mode='border', align_corners=False)`.
//! With theta's offset `1/W - 1/299` the source coordinate of output pixel `j`
//! works out to `j * W / 299` (TensorFlow's legacy bilinear resize), so the
//! resize is separable: `Ry @ img @ Rx^T` with two small matrices whose rows
//! hold the two bilinear weights, clamped to the border.

use tcgan_core::{Device, Result, Tensor};

/// The output size of the resize.
pub const SIZE: usize = 299;

/// `R [SIZE, n]`: row `j` interpolates input samples `0..n` at `j * n / SIZE`.
pub fn interpolation_matrix(n: usize) -> Vec<f32> {
    let mut r = vec![0.0f64; SIZE * n];
    for j in 0..SIZE {
        let x = (j as f64 * n as f64 / SIZE as f64).clamp(0.0, (n - 1) as f64);
        let i0 = x.floor() as usize;
        let f = x - i0 as f64;
        let i1 = (i0 + 1).min(n - 1);
        r[j * n + i0] += 1.0 - f;
        r[j * n + i1] += f;
    }
    r.into_iter().map(|v| v as f32).collect()
}

/// `x [B, H, W]` float -> `[B, SIZE, SIZE]`.
pub fn resize_planes(x: &Tensor, device: &Device) -> Result<Tensor> {
    let (h, w) = (x.dim(1), x.dim(2));
    let ry = Tensor::from_vec(interpolation_matrix(h), [SIZE, h], device)?;
    let rx = Tensor::from_vec(interpolation_matrix(w), [SIZE, w], device)?;
    // Along x first (one product for the whole batch), then along y per plane.
    let xw = x.matmul_t(&rx, false, true)?; // [B, H, SIZE]
    ry.unsqueeze(0)?.matmul(&xw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_to_one_and_identity_size_is_identity() {
        for n in [1, 2, 32, 40, 72, 299, 512] {
            let r = interpolation_matrix(n);
            for j in 0..SIZE {
                let s: f32 = r[j * n..(j + 1) * n].iter().sum();
                assert!((s - 1.0).abs() < 1e-6, "n={n} row {j} sums to {s}");
            }
        }
        // At 299 the source coordinate of j is j itself.
        let r = interpolation_matrix(SIZE);
        for j in 0..SIZE {
            assert_eq!(r[j * SIZE + j], 1.0);
        }
    }

    #[test]
    fn upsampling_interpolates_between_neighbours() {
        // n = 2: x = j * 2 / 299; the last rows clamp to the border sample.
        let r = interpolation_matrix(2);
        assert_eq!(r[0], 1.0);
        let j = 100;
        let x = j as f32 * 2.0 / 299.0;
        assert!((r[j * 2 + 1] - (x - x.floor())).abs() < 1e-6);
        assert!((r[298 * 2 + 1] - 1.0).abs() < 1e-7);
    }
}
