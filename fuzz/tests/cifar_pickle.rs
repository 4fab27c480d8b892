//! Fuzz target `cifar_pickle` over its seed corpus: never panics, errors are errors.
//! Longer runs: `TCGAN_FUZZ_ITERS=1000000 cargo test -p tcgan-fuzz --release --test cifar_pickle`.

#[test]
fn fuzz_cifar_pickle() {
    tcgan_fuzz::fuzz(
        "cifar_pickle",
        3000,
        8192,
        tcgan_fuzz::targets::cifar_pickle,
    );
}
