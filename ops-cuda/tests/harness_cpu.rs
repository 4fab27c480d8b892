//! Checks the cross-device harness itself without a GPU: every case runs on
//! the CPU as both device under test and reference (so any difference is a
//! harness bug), and the comparison rejects a perturbed result.

mod common;

use common::{cases, check, compare, tolerance};
use tcgan_core::DType;
use tcgan_ops_cpu::cpu;

#[test]
fn every_case_runs_and_matches_itself() {
    let dev = cpu();
    for case in cases() {
        for dtype in common::DTYPES {
            for (seed, d) in [(1u64, [1, 1, 1]), (2, [2, 3, 4])] {
                if let Err(m) = check(&case, seed, &d, dtype, &dev, &dev) {
                    panic!("{} ({dtype:?}, dims {d:?}): {}", case.name, m.0);
                }
            }
        }
    }
}

#[test]
fn comparison_rejects_a_perturbation_beyond_the_budget() {
    let reference = vec![1.0, -2.0, 3.0];
    let tol = tolerance(DType::F32);
    assert!(compare("x", &reference, &reference, tol).is_ok());
    let mut off = reference.clone();
    off[1] += 3.0 * tol.max_abs * 3.0;
    let m = compare("x", &off, &reference, tol).unwrap_err();
    assert!(m.0.contains("element 1"), "{}", m.0);
    let mut nan = reference.clone();
    nan[2] = f64::NAN;
    assert!(compare("x", &nan, &reference, tol).is_err());
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = cases().iter().map(|c| c.name).collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n);
}
