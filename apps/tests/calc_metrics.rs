//! calc_metrics and the evaluation the training loop calls: reproducibility, the
//! per-class metrics against their global forms, the results file, bad input, and
//! (release builds) one run with the real Inception network.

mod fixtures;

use std::path::Path;

use clap::Parser;
use fixtures::*;
use tcgan_apps::metrics::calc_metrics::{run_with, CalcMetricsArgs};
use tcgan_apps::metrics::{evaluate, EvalOptions, Evaluator};
use tcgan_nn::metrics::cache::StatsCache;
use tcgan_nn::metrics::MetricResult;

const EXE: &str = env!("CARGO_BIN_EXE_calc_metrics");

fn args(list: &[&str]) -> CalcMetricsArgs {
    CalcMetricsArgs::try_parse_from(std::iter::once("calc_metrics").chain(list.iter().copied()))
        .unwrap()
}

/// Runs calc_metrics in-process with the stand-in feature network.
fn run_stub(a: &CalcMetricsArgs, cache: Option<&Path>) -> Vec<MetricResult> {
    let make = |d: &tcgan_core::Device| {
        Evaluator::with_extractor(Box::new(QuadrantMeans), cache.map(StatsCache::new), d)
    };
    run_with(a, &make, &|_| {}).unwrap()
}

fn values(rs: &[MetricResult]) -> Vec<(String, f64)> {
    rs.iter().flat_map(|r| r.results.clone()).collect()
}

#[test]
fn same_seed_gives_the_same_numbers_and_each_run_appends_its_line() {
    let dir = scratch("calc_same_seed");
    let data = write_dataset(&dir, &[40, 24], true);
    let snap = dir.join("network-snapshot-000010.safetensors");
    write_snapshot(&snap, &tiny_generator(2, 3, 1), Some((&data, false)));
    let cache = dir.join("cache");
    let net = snap.to_str().unwrap();
    let list = "--metrics=kid1k_full,fid_per_class,kid_per_class";
    let a = args(&["--network", net, list, "--seed=7", "--verbose=false"]);
    let first = values(&run_stub(&a, Some(&cache)));
    // The second run takes the real statistics from the cache.
    let second = values(&run_stub(&a, Some(&cache)));
    assert_eq!(first, second);
    let no_cache = values(&run_stub(&a, None));
    assert_eq!(first, no_cache);
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "kid1k_full",
            "fid_per_class",
            "fid_per_class_0",
            "fid_per_class_1",
            "kid_per_class",
            "kid_per_class_0",
            "kid_per_class_1"
        ]
    );
    assert!(first.iter().all(|(_, v)| v.is_finite()), "{first:?}");
    let (fid0, fid1) = (first[2].1, first[3].1);
    assert!(fid0 > 0.0 && fid1 > 0.0);
    assert!((first[1].1 - (fid0 + fid1) / 2.0).abs() < 1e-12);

    let other = values(&run_stub(
        &args(&["--network", net, list, "--seed=8", "--verbose=false"]),
        Some(&cache),
    ));
    assert_ne!(first[0].1, other[0].1, "another seed, other images");

    // One official JSON line per run and metric, beside the snapshot.
    let text = std::fs::read_to_string(dir.join("metric-kid1k_full.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let l = &lines[0];
    assert_eq!(l["metric"], "kid1k_full");
    assert_eq!(l["results"]["kid1k_full"].as_f64().unwrap(), first[0].1);
    assert_eq!(l["snapshot_pkl"], "network-snapshot-000010.safetensors");
    assert_eq!(l["num_gpus"], 1);
    assert!(l["timestamp"].as_f64().unwrap() > 1.6e9);
    let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 7);
    let per_class = std::fs::read_to_string(dir.join("metric-fid_per_class.jsonl")).unwrap();
    assert!(per_class.contains("\"fid_per_class_1\": "), "{per_class}");
}

/// With one class, fid_per_class / kid_per_class see the same real images, the same
/// latents and the same labels as fid1k_full / kid1k_full: the numbers are equal.
#[test]
fn one_class_per_class_metrics_equal_the_global_ones() {
    let dir = scratch("calc_one_class");
    let data = write_dataset(&dir, &[1000], true);
    let g = tiny_generator(1, 3, 2);
    let device = tcgan_ops_cpu::cpu();
    let ev = Evaluator::with_extractor(Box::new(QuadrantMeans), None, &device);
    let opts = EvalOptions {
        data: &data,
        mirror: false,
        seed: 11,
        run_dir: None,
        snapshot: None,
        progress: false,
    };
    let names: Vec<String> = ["fid1k_full", "fid_per_class", "kid1k_full", "kid_per_class"]
        .map(String::from)
        .to_vec();
    let r = values(&ev.evaluate(&names, &g, &opts, &|_| {}).unwrap());
    let get = |n: &str| r.iter().find(|(k, _)| k == n).unwrap().1;
    assert!(get("fid1k_full") > 0.0);
    assert_eq!(get("fid_per_class_0"), get("fid1k_full"));
    assert_eq!(get("fid_per_class"), get("fid1k_full"));
    assert_eq!(get("kid_per_class_0"), get("kid1k_full"));
}

#[test]
fn evaluation_leaves_the_generator_mode_and_reports_through_log() {
    let dir = scratch("calc_eval_api");
    let data = write_dataset(&dir, &[6, 6], true);
    let g = tiny_generator(2, 3, 3);
    g.set_training(true);
    let w_avg = g.mapping.w_avg.as_ref().unwrap().to_vec_f32().unwrap();
    let device = tcgan_ops_cpu::cpu();
    let ev = Evaluator::with_extractor(Box::new(QuadrantMeans), None, &device);
    let snap = dir.join("network-snapshot-000004.safetensors");
    let opts = EvalOptions {
        data: &data,
        mirror: true,
        seed: 0,
        run_dir: Some(&dir),
        snapshot: Some(&snap),
        progress: false,
    };
    let lines = std::cell::RefCell::new(Vec::new());
    let r = ev
        .evaluate(&["fid_per_class".into()], &g, &opts, &|l| {
            lines.borrow_mut().push(l.to_string())
        })
        .unwrap();
    assert!(g.mapping.is_training(), "training mode restored");
    assert_eq!(
        g.mapping.w_avg.as_ref().unwrap().to_vec_f32().unwrap(),
        w_avg,
        "w_avg untouched (evaluation runs in eval mode)"
    );
    let lines = lines.into_inner();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("{\"results\": {\"fid_per_class\": "));
    assert_eq!(
        lines[0].trim(),
        std::fs::read_to_string(dir.join("metric-fid_per_class.jsonl"))
            .unwrap()
            .trim()
    );
    assert_eq!(r[0].results.len(), 3);
    // No metrics: nothing to do, nothing loaded.
    let none = evaluate(&[], &g, &opts, &device, &|_| {}).unwrap();
    assert!(none.is_empty());
}

#[test]
fn data_and_mirror_default_to_the_snapshot_options() {
    let dir = scratch("calc_defaults");
    let data = write_dataset(&dir, &[4, 4], true);
    let g = tiny_generator(2, 3, 4);
    let with = dir.join("with.safetensors");
    write_snapshot(&with, &g, Some((&data, true)));
    let without = dir.join("without.safetensors");
    write_snapshot(&without, &g, None);
    let fid = |snap: &Path, extra: &[&str]| {
        let mut a = vec!["--network", snap.to_str().unwrap(), "--metrics=fid1k"];
        a.extend_from_slice(extra);
        a.push("--verbose=0");
        values(&run_stub(&args(&a), None))[0].1
    };
    let d = data.to_str().unwrap();
    // The legacy fid1k mirrors the real images when training did: the snapshot's
    // dataset and mirroring are used unless given.
    let recorded = fid(&with, &[]);
    assert_eq!(recorded, fid(&without, &["--data", d, "--mirror=1"]));
    assert_eq!(recorded, fid(&with, &["--mirror", "yes"]));
    assert_ne!(recorded, fid(&with, &["--mirror=0"]));
    assert_eq!(
        fid(&without, &["--data", d]),
        fid(&with, &["--mirror=false"])
    );
}

fn write_fixture(dir: &Path) -> (String, String, String) {
    let data = write_dataset(dir, &[3, 3], true);
    let unlabeled = write_dataset(&dir.join("u"), &[6], false);
    let snap = dir.join("network-snapshot-000000.safetensors");
    write_snapshot(&snap, &tiny_generator(2, 3, 5), Some((&data, false)));
    (
        snap.to_str().unwrap().into(),
        data.to_str().unwrap().into(),
        unlabeled.to_str().unwrap().into(),
    )
}

fn fails(args: &[&str], env: &[(&str, &Path)], wants: &[&str]) {
    let r = run_bin(EXE, args, env);
    assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    for w in wants {
        assert!(
            r.stderr.contains(w),
            "{args:?}: wanted {w:?} in {}",
            r.stderr
        );
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = scratch("calc_bad_input");
    let (snap, data, unlabeled) = write_fixture(&dir);
    let missing = dir.join("missing.safetensors");
    let missing = missing.to_str().unwrap();
    fails(&["--network", missing], &[], &[missing, "no such file"]);
    let corrupt = dir.join("corrupt.safetensors");
    std::fs::write(&corrupt, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1").unwrap();
    let corrupt = corrupt.to_str().unwrap();
    fails(&["--network", corrupt], &[], &[corrupt, "safetensors"]);
    fails(
        &["--network", &snap, "--metrics=fid50k_ful"],
        &[],
        &["unknown metric `fid50k_ful`", "fid50k_full"],
    );
    fails(
        &["--network", &snap, "--metrics=pr50k3_full"],
        &[],
        &["VGG16", "pr50k3_full_inception"],
    );
    fails(&["--network", &snap, "--metrics=is50k"], &[], &["logits"]);
    fails(&["--network", &snap, "--gpus=2"], &[], &["one device"]);
    fails(&["--network", &snap, "--gpus=0"], &[], &["at least 1"]);
    fails(
        &[
            "--network",
            &snap,
            "--metrics=fid_per_class",
            "--data",
            &unlabeled,
        ],
        &[],
        &[&unlabeled, "no labels"],
    );
    let uncond = dir.join("uncond.safetensors");
    write_snapshot(&uncond, &tiny_generator(0, 3, 6), None);
    let uncond = uncond.to_str().unwrap();
    fails(
        &[
            "--network",
            uncond,
            "--metrics=kid_per_class",
            "--data",
            &unlabeled,
        ],
        &[],
        &["kid_per_class needs a conditional network"],
    );
    fails(
        &["--network", uncond, "--metrics=kid1k_full"],
        &[],
        &[uncond, "please specify --data"],
    );
    let missing_data = dir.join("nothing.zip");
    fails(
        &["--network", &snap, "--data", missing_data.to_str().unwrap()],
        &[],
        &["nothing.zip"],
    );
    // Everything else is fine: the missing Inception weights are named, with the fix.
    let empty = dir.join("empty-cache");
    std::fs::create_dir_all(&empty).unwrap();
    fails(
        &[
            "--network",
            &snap,
            "--metrics=fid_per_class",
            "--data",
            &data,
        ],
        &[("TCGAN_CACHE_DIR", &empty)],
        &["default_1.pt", "fetch-inception.sh"],
    );
    // Nothing was appended by the failed runs.
    assert!(!dir.join("metric-fid_per_class.jsonl").exists());
}

#[test]
fn help_says_which_metrics_are_unavailable() {
    let r = run_bin(EXE, &["--help"], &[]);
    assert_eq!(r.code, 0);
    for w in [
        "--metrics",
        "--network",
        "--data",
        "--mirror",
        "--gpus",
        "--seed",
        "VGG16",
        "is50k",
    ] {
        assert!(
            r.stdout.contains(w),
            "{w} missing from --help:\n{}",
            r.stdout
        );
    }
}

/// The real Inception network on a handful of images (release builds only: Inception
/// on the CPU is slow unoptimised). Needs scripts/fetch-inception.sh to have run.
#[test]
#[cfg_attr(debug_assertions, ignore = "runs in release builds only")]
fn real_inception_per_class_run_is_reproducible() {
    let weights = tcgan_nn::inception::default_weights_path();
    assert!(
        weights.is_file(),
        "{} is missing: run scripts/fetch-inception.sh",
        weights.display()
    );
    let dir = scratch("calc_real_inception");
    let (snap, _, _) = write_fixture(&dir);
    // A private cache folder that sees the weights, so the user's cache is untouched.
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(&weights, cache.join("default_1.pt")).unwrap();
    let run = || {
        let r = run_bin(
            EXE,
            &[
                "--network",
                &snap,
                "--metrics=fid_per_class,kid_per_class",
                "--seed=3",
                "--verbose=false",
            ],
            &[("TCGAN_CACHE_DIR", &cache)],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let lines: Vec<serde_json::Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{}", r.stdout);
        lines
            .iter()
            .map(|l| l["results"].clone())
            .collect::<Vec<_>>()
    };
    let first = run();
    let second = run(); // real statistics from the cache this time
    assert_eq!(first, second);
    let fid = first[0]["fid_per_class"].as_f64().unwrap();
    let kid = first[1]["kid_per_class"].as_f64().unwrap();
    println!("fid_per_class {fid}, kid_per_class {kid}");
    assert!(fid.is_finite() && fid > 0.0);
    assert!(kid.is_finite());
    assert!(
        std::fs::read_dir(cache.join("gan-metrics"))
            .unwrap()
            .count()
            >= 2
    );
}
