//! Fuzz target `dataset_json` over its seed corpus: never panics, errors are errors.
//! Longer runs: `TCGAN_FUZZ_ITERS=1000000 cargo test -p tcgan-fuzz --release --test dataset_json`.

#[test]
fn fuzz_dataset_json() {
    tcgan_fuzz::fuzz(
        "dataset_json",
        3000,
        4096,
        tcgan_fuzz::targets::dataset_json,
    );
}
