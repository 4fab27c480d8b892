//! Fuzz target `snapshot` (the reader behind `--resume`, `generate` and
//! `calc_metrics`): random and truncated files never panic.
//! Longer runs: `TCGAN_FUZZ_ITERS=100000 cargo test -p tcgan-fuzz --release --test snapshot`.

#[test]
fn fuzz_snapshot() {
    tcgan_fuzz::fuzz("snapshot", 2_000, 1 << 16, tcgan_fuzz::targets::snapshot);
    tcgan_fuzz::targets::cleanup();
}

/// Every truncation of a valid snapshot is an error, never a panic.
#[test]
fn truncated_snapshots_are_errors() {
    let seed = &tcgan_fuzz::load_corpus("snapshot")[0];
    assert!(
        tcgan_fuzz::targets::snapshot(seed),
        "the seed itself is accepted"
    );
    for len in (0..seed.len()).step_by(97) {
        assert!(
            !tcgan_fuzz::targets::snapshot(&seed[..len]),
            "a file cut at {len} bytes was accepted"
        );
    }
    tcgan_fuzz::targets::cleanup();
}

/// The seed: a snapshot of tiny networks with a training state, as `train`
/// writes it. Rewrite it with `cargo test -p tcgan-fuzz --test snapshot -- --ignored`.
#[test]
#[ignore = "rewrites fuzz/corpus/snapshot"]
fn write_seed_corpus() {
    use tcgan_core::{DType, Generator as Rng};
    use tcgan_nn::checkpoint::CheckpointWriter;
    use tcgan_nn::networks::{Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs};
    use tcgan_nn::Init;
    let dev = tcgan_ops_cpu::cpu();
    let mut rng = Rng::new(0);
    let mut init = Init::new(&mut rng, &dev, DType::F32);
    let gk: GeneratorKwargs = serde_json::from_str(
        r#"{"z_dim": 4, "c_dim": 2, "w_dim": 4, "img_resolution": 8, "img_channels": 3,
            "mapping_kwargs": {"num_layers": 1}, "synthesis_kwargs": {"channel_base": 16, "channel_max": 4}}"#,
    )
    .unwrap();
    let dk: DiscriminatorKwargs = serde_json::from_str(
        r#"{"c_dim": 2, "img_resolution": 8, "img_channels": 3, "channel_base": 16, "channel_max": 4,
            "mapping_kwargs": {"num_layers": 1}, "epilogue_kwargs": {"mbstd_group_size": 2}}"#,
    )
    .unwrap();
    let g = Generator::new(&mut init, &gk).unwrap();
    let d = Discriminator::new(&mut init, &dk).unwrap();
    let mut w = CheckpointWriter::new();
    w.add_network("G", &g).unwrap();
    w.add_network("D", &d).unwrap();
    w.add_network("G_ema", &g).unwrap();
    let pl = tcgan_core::Tensor::zeros([], DType::F32, &dev).unwrap();
    w.add_tensor("loss.pl_mean", &pl).unwrap();
    w.set_metadata("training_state", r#"{"cur_nimg":64,"cur_tick":2,"batch_idx":16,"augment_p":0.01,"ada_sum":3.0,"ada_count":8.0,"ada_last_r_t":0.5,"opt_g_step":0,"opt_d_step":0}"#).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/snapshot");
    w.write(&dir.join("tiny.safetensors")).unwrap();
}
