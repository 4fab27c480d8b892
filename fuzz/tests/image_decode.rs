//! Fuzz target `image_decode` over its seed corpus: never panics, errors are errors.
//! Longer runs: `TCGAN_FUZZ_ITERS=1000000 cargo test -p tcgan-fuzz --release --test image_decode`.

#[test]
fn fuzz_image_decode() {
    tcgan_fuzz::fuzz(
        "image_decode",
        1500,
        8192,
        tcgan_fuzz::targets::image_decode,
    );
}
