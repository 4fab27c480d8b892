//! Every CUDA op against the CPU backend on proptest-drawn shapes: forward,
//! backward and double backward, in f32, f64 and f16, with the tolerances of
//! `common::tolerance`. A custom harness, so that without a GPU the cases are
//! reported as skipped (with the reason), not as passed.
//!
//! Usage: cuda_vs_cpu [NAME_FILTER]; PROPTEST_CASES (default 8) and
//! PROPTEST_RNG_SEED (default 20221) tune the draws.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::process::ExitCode;
use tcgan_ops_cpu::cpu;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    // libtest's flags (cargo test passes some) are not ours; a free argument filters cases.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cases: Vec<_> = common::cases()
        .into_iter()
        .filter(|c| filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .collect();
    let total = cases.len() * common::DTYPES.len();
    let gpu = match tcgan_ops_cuda::cuda(0) {
        Ok(d) => d,
        Err(e) => {
            println!("cuda_vs_cpu: every case skipped: no usable GPU: {e}");
            println!("0 passed, 0 failed, {total} skipped");
            return ExitCode::SUCCESS;
        }
    };
    if let Some(d) = tcgan_ops_cuda::describe(0) {
        println!("{d}");
    }
    let reference = cpu();
    let config = Config {
        cases: env_u64("PROPTEST_CASES", 8) as u32,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(env_u64("PROPTEST_RNG_SEED", 20221)),
        ..Config::default()
    };
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        for dtype in common::DTYPES {
            let mut runner = TestRunner::new(config.clone());
            let strategy = (any::<u64>(), 1usize..=5, 1usize..=5, 1usize..=5);
            let outcome = runner.run(&strategy, |(seed, d0, d1, d2)| {
                common::check(case, seed, &[d0, d1, d2], dtype, &gpu, &reference)
                    .map_err(|m| TestCaseError::fail(m.0))
            });
            match outcome {
                Ok(()) => {
                    passed += 1;
                    println!("{:<40} {:<4} ok", case.name, dtype.name());
                }
                Err(e) => {
                    failed += 1;
                    println!("{:<40} {:<4} FAILED: {e}", case.name, dtype.name());
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed, 0 skipped");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
