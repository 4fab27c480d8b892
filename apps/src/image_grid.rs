//! Image grids of training (`reals.png`, `fakes*.png`): which images go where,
//! chosen as the official `setup_snapshot_image_grid` chooses them, and writing
//! a grid as a PNG.

use crate::numpy_rng::RandomState;
use std::path::Path;

/// Grid size and the dataset indices of its cells, row by row.
///
/// Unconditional sets: the official `gw x gh` (7..32 by 4..32 cells from the
/// image size) filled with a shuffled sample. Conditional sets: one row per
/// class (at most 32), each row that class's images in a shuffled order, so a
/// collapsed class shows as a row of near-identical images.
pub fn grid_indices(
    classes: Option<&[u64]>,
    len: usize,
    height: usize,
    width: usize,
    seed: u32,
) -> (usize, usize, Vec<usize>) {
    let mut rnd = RandomState::new(seed);
    let gw = (7680 / width.max(1)).clamp(7, 32);
    let official_gh = (4320 / height.max(1)).clamp(4, 32);
    match classes {
        None => {
            let mut all: Vec<usize> = (0..len).collect();
            rnd.shuffle(&mut all);
            let cells = (0..gw * official_gh)
                .map(|i| all[i % all.len().max(1)])
                .collect();
            (gw, official_gh, cells)
        }
        Some(classes) => {
            let mut groups: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
            for (i, &c) in classes.iter().enumerate().take(len) {
                groups.entry(c).or_default().push(i);
            }
            for g in groups.values_mut() {
                rnd.shuffle(g);
            }
            let order: Vec<u64> = groups.keys().copied().collect();
            let gh = order.len().clamp(1, 32);
            let mut cells = Vec::with_capacity(gw * gh);
            for y in 0..gh {
                let g = &groups[&order[y % order.len()]];
                cells.extend((0..gw).map(|x| g[x % g.len()]));
            }
            (gw, gh, cells)
        }
    }
}

/// Lays out `n = gw * gh` images (NCHW floats in `drange`) as one image and
/// returns its HWC bytes, rounding like the official `np.rint(..).clip(0, 255)`.
pub fn tile(
    images: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    gw: usize,
    gh: usize,
    drange: (f32, f32),
) -> Vec<u8> {
    let (lo, hi) = drange;
    let scale = 255.0 / (hi - lo);
    let (gw_px, plane) = (gw * width, height * width);
    let mut out = vec![0u8; gh * height * gw_px * channels];
    for gy in 0..gh {
        for gx in 0..gw {
            let img = &images[(gy * gw + gx) * channels * plane..][..channels * plane];
            for y in 0..height {
                for x in 0..width {
                    let o = ((gy * height + y) * gw_px + gx * width + x) * channels;
                    for c in 0..channels {
                        let v = ((img[c * plane + y * width + x] - lo) * scale).round_ties_even();
                        out[o + c] = v.clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
    }
    out
}

/// Encodes HWC bytes (1 or 3 channels) as PNG.
pub fn encode_png(
    hwc: &[u8],
    height: usize,
    width: usize,
    channels: usize,
) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, width as u32, height as u32);
        enc.set_color(if channels == 1 {
            png::ColorType::Grayscale
        } else {
            png::ColorType::Rgb
        });
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(std::io::Error::other)?;
        w.write_image_data(hwc).map_err(std::io::Error::other)?;
    }
    Ok(buf)
}

/// Writes PNG bytes to `path` atomically.
pub fn save_png(
    path: &Path,
    hwc: &[u8],
    height: usize,
    width: usize,
    channels: usize,
) -> std::io::Result<Vec<u8>> {
    let png = encode_png(hwc, height, width, channels)?;
    crate::atomic_file::write(path, &png)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_grids_have_one_row_per_class() {
        let classes = [2u64, 0, 1, 0, 2, 2, 1];
        let (gw, gh, cells) = grid_indices(Some(&classes), classes.len(), 32, 32, 0);
        assert_eq!((gw, gh), (32, 3));
        for (row, want) in [0u64, 1, 2].iter().enumerate() {
            assert!(cells[row * gw..(row + 1) * gw]
                .iter()
                .all(|&i| classes[i] == *want));
        }
        let (gw, gh, cells) = grid_indices(None, 10, 64, 64, 0);
        assert_eq!((gw, gh, cells.len()), (32, 32, 1024));
        assert!(cells.iter().all(|&i| i < 10));
    }

    #[test]
    fn tiles_round_and_clip_like_numpy() {
        // Two 1x2 grayscale images side by side, drange [-1, 1].
        let imgs = [-1.0f32, 1.0, 0.0, 2.0];
        let out = tile(&imgs, 1, 1, 2, 2, 1, (-1.0, 1.0));
        // (0 + 1) * 127.5 = 127.5 -> rint -> 128 (ties to even); 2 -> 382.5 -> 255.
        assert_eq!(out, [0, 255, 128, 255]);
    }
}
