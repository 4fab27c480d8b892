//! Fuzz target `archive` over its seed corpus: never panics, errors are errors.
//! Longer runs: `TCGAN_FUZZ_ITERS=1000000 cargo test -p tcgan-fuzz --release --test archive`.

#[test]
fn fuzz_archive() {
    tcgan_fuzz::fuzz("archive", 300, 16384, tcgan_fuzz::targets::archive);
    tcgan_fuzz::targets::cleanup();
}
