//! Our resize against Pillow 13.0's `Image.resize` on a synthetic 37x53 image (with a hard
//! edge, where Lanczos overshoots and clipping matters): up and down, non-square, both filters,
//! RGB and L. Expected outputs: `tests/data/resize_expected.safetensors` (see data/README.md).

mod common;

use common::*;
use tcgan_apps::dataset::resample::{resize, ResizeFilter};

#[test]
fn resize_is_byte_identical_to_pillow() {
    let t = read_tensors(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/resize_expected.safetensors"),
    );
    let src = tensor_image(&t["src"]);
    let gray = src.to_channels(3); // identity; the L input is channel 0 of src
    let l = tcgan_apps::dataset::Image::new(
        src.width,
        src.height,
        1,
        gray.data.chunks_exact(3).map(|p| p[0]).collect(),
    );
    let mut checked = 0;
    for (key, value) in &t {
        let Some((filter, rest)) = key.split_once('/') else {
            continue;
        };
        let filter = match filter {
            "lanczos" => ResizeFilter::Lanczos,
            "box" => ResizeFilter::Box,
            _ => continue,
        };
        let (mode, size) = rest.split_once('/').unwrap();
        let (w, h) = size.split_once('x').unwrap();
        let (w, h): (usize, usize) = (w.parse().unwrap(), h.parse().unwrap());
        let input = if mode == "rgb" { &src } else { &l };
        let got = resize(input, w, h, filter);
        let want = tensor_image(value);
        assert_eq!(max_abs_diff(&got, &want), 0, "{key}");
        checked += 1;
    }
    assert_eq!(checked, 72);
}
