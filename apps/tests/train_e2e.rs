//! End to end: tiny models train on the bundled data with finite losses and
//! write their files; a run cut in two by a resume ends bit-identical to one
//! run; N data-parallel ranks match one rank with the same batch; and the
//! binary refuses bad input with a clear message, writing nothing.

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tcgan_apps::dataset::{DatasetOptions, ImageFolderDataset};
use tcgan_apps::training::config::{resolve, DatasetInfo, TrainingOptions};
use tcgan_apps::training::options::TrainArgs;
use tcgan_apps::training::run_dir::Logger;
use tcgan_apps::training::training_loop::{run, DataSource, RunSetup};
use tcgan_nn::checkpoint::Checkpoint;

fn emoji() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emoji32.zip")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcgan-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A tiny transitional configuration: 4-16 channels, z = w = 16, batch 4.
fn tiny(extra: &[&str]) -> (TrainingOptions, Arc<ImageFolderDataset>) {
    let mut argv = vec![
        "train",
        "--outdir=unused",
        "--data=unused",
        "--cond=1",
        "--t_start_kimg=0.016",
        "--t_end_kimg=0.048",
        "--cbase=128",
        "--cmax=16",
        "--map=1",
        "--batch=4",
        "--tick=0.016",
        "--snap=2",
        "--subset=64",
        "--seed=3",
    ];
    argv.extend_from_slice(extra);
    let args = TrainArgs::try_parse_from(argv).unwrap();
    let probe = ImageFolderDataset::open(
        &emoji(),
        &DatasetOptions {
            use_labels: true,
            ..Default::default()
        },
    )
    .unwrap();
    let info = DatasetInfo {
        name: "emoji32".into(),
        path: emoji().display().to_string(),
        resolution: 32,
        num_images: probe.raw_len(),
        has_labels: true,
    };
    let (_, mut o) = resolve(&args, &info).unwrap();
    o.G_kwargs.z_dim = 16;
    o.G_kwargs.w_dim = 16;
    let ds = ImageFolderDataset::open(
        &emoji(),
        &DatasetOptions {
            use_labels: true,
            max_size: args.subset,
            xflip: false,
            random_seed: 3,
            resolution: Some(32),
        },
    )
    .unwrap();
    (o, Arc::new(ds))
}

fn train(
    o: &TrainingOptions,
    ds: &Arc<ImageFolderDataset>,
    dir: &Path,
    resume: Option<PathBuf>,
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let setup = RunSetup {
        options: o.clone(),
        data: DataSource::Dataset(ds.clone()),
        run_dir: Some(dir.to_path_buf()),
        resume,
        max_steps: None,
        fixed_transition: None,
        metrics: None,
    };
    run(&setup, "cpu", &Logger::stdout_only())
        .unwrap()
        .last_snapshot
        .unwrap()
}

fn tensors(path: &Path) -> Vec<(String, Vec<f32>)> {
    let ck = Checkpoint::read(path).unwrap();
    let dev = tcgan_ops_cpu::cpu();
    let mut out: Vec<(String, Vec<f32>)> = Vec::new();
    for prefix in ["G", "D", "G_ema", "opt_G", "opt_D", "loss"] {
        let mut st: Vec<_> = ck.state(prefix, &dev).unwrap().into_iter().collect();
        st.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, t) in st {
            let v = t.to_host().unwrap().into_f32();
            out.push((format!("{prefix}.{k}"), v));
        }
    }
    out
}

#[test]
fn a_tiny_run_writes_its_files_with_finite_losses() {
    let (mut o, ds) = tiny(&[]);
    o.total_kimg = 0.032;
    let dir = scratch("files");
    let snap = train(&o, &ds, &dir, None);
    for f in [
        "reals.png",
        "fakes_init.png",
        "stats.jsonl",
        "network-snapshot-000000.032.safetensors",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    assert_eq!(snap, dir.join("network-snapshot-000000.032.safetensors"));
    assert!(std::fs::read_dir(&dir).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("events.out.tfevents.")));
    let stats = std::fs::read_to_string(dir.join("stats.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = stats
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "ticks at 4, 16 and 32 images");
    let last = lines.last().unwrap();
    for k in [
        "Loss/G/loss",
        "Loss/D/loss",
        "Loss/scores/real",
        "Progress/transition",
        "Progress/augment",
    ] {
        let m = last[k]["mean"]
            .as_f64()
            .unwrap_or_else(|| panic!("{k} missing or not finite: {last}"));
        assert!(m.is_finite());
    }
    assert!(
        (last["Progress/transition"]["mean"].as_f64().unwrap() - 0.5).abs() < 1e-9,
        "at 32 images, half way from 16 to 48"
    );
    assert!(last["timestamp"].as_f64().is_some());
    let ck = Checkpoint::read(&snap).unwrap();
    assert_eq!(ck.networks(), ["D", "G", "G_ema"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_fp16_run_trains_its_f16_blocks_with_finite_losses() {
    let (o32, ds) = tiny(&[]);
    let (mut o16, _) = tiny(&["--fp16=1"]);
    assert!(o16.fp16 && !o32.fp16);
    o16.total_kimg = 0.016;
    let mut o32 = o32;
    o32.total_kimg = 0.016;
    let dir = scratch("fp16");
    let s16 = tensors(&train(&o16, &ds, &dir.join("f16"), None));
    let s32 = tensors(&train(&o32, &ds, &dir.join("f32"), None));
    // The first tick holds the first step, with both regularizations.
    let stats = std::fs::read_to_string(dir.join("f16/stats.jsonl")).unwrap();
    for line in stats.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["Loss/G/loss"]["mean"]
            .as_f64()
            .is_some_and(f64::is_finite));
    }
    let first: serde_json::Value = serde_json::from_str(stats.lines().next().unwrap()).unwrap();
    for k in ["Loss/D/loss", "Loss/r1_penalty", "Loss/pl_penalty"] {
        assert!(
            first[k]["mean"].as_f64().is_some_and(f64::is_finite),
            "{k} missing or not finite: {first}"
        );
    }
    // Same start, same data: the f16 blocks move the weights a little differently.
    let (mut differ, mut total) = (0usize, 0usize);
    for ((k16, a), (k32, b)) in s16.iter().zip(&s32) {
        assert_eq!(k16, k32);
        assert!(a.iter().all(|v| v.is_finite()), "{k16} not finite");
        if k16.starts_with("G_ema.synthesis.b32.conv1.weight") {
            let d = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            let m = b.iter().map(|y| y.abs()).fold(0f32, f32::max);
            assert!(d > 0.0 && d < 0.05 * m, "{k16}: max difference {d} of {m}");
        }
        differ += usize::from(a != b);
        total += 1;
    }
    assert!(
        differ > total / 4,
        "only {differ} of {total} tensors changed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resuming_continues_bit_for_bit() {
    let (mut o, ds) = tiny(&[]);
    // 32 steps of 4 images: every lazy regularization phase runs, twice.
    o.total_kimg = 0.128;
    let whole = scratch("whole");
    let a = train(&o, &ds, &whole, None);

    let (first, second) = (scratch("first"), scratch("second"));
    let mut half = o.clone();
    half.total_kimg = 0.064;
    let mid = train(&half, &ds, &first, None);
    let b = train(&o, &ds, &second, Some(mid));

    let (ta, tb) = (tensors(&a), tensors(&b));
    assert_eq!(ta.len(), tb.len());
    for ((ka, va), (kb, vb)) in ta.iter().zip(&tb) {
        assert_eq!(ka, kb);
        let same = va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{ka} differs after the resume");
    }
    let state = |p: &Path| {
        Checkpoint::read(p)
            .unwrap()
            .metadata("training_state")
            .unwrap()
            .to_string()
    };
    let (sa, sb): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&state(&a)).unwrap(),
        serde_json::from_str(&state(&b)).unwrap(),
    );
    for k in [
        "cur_nimg",
        "cur_tick",
        "batch_idx",
        "augment_p",
        "opt_g_step",
        "opt_d_step",
    ] {
        assert_eq!(sa[k], sb[k], "{k}");
    }
    for d in [whole, first, second] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn data_parallel_ranks_match_one_rank_with_the_same_batch() {
    // One rank with 2 rounds of 2 images vs 2 ranks of 2 images each, for 4
    // steps: every phase runs at step 0, and the ADA statistic is summed over
    // the ranks after step 3. Only the association of the gradient sums
    // differs, so the results agree to rounding (over many steps the kinks of
    // lrelu and clamp amplify it). The path-length
    // running mean is per rank (as official), so it is off here. The Adam
    // moments are compared too: unlike the weights (Adam normalises the step),
    // they would show a wrongly scaled gradient.
    let (mut o, ds) = tiny(&["--batch-gpu=2"]);
    o.total_kimg = 0.016;
    o.loss_kwargs.pl_weight = 0.0;
    let one = scratch("dp1");
    let a = train(&o, &ds, &one, None);
    let mut o2 = o.clone();
    o2.num_gpus = 2;
    let two = scratch("dp2");
    let b = train(&o2, &ds, &two, None);
    for ((ka, va), (_, vb)) in tensors(&a).iter().zip(&tensors(&b)) {
        if ka.ends_with("w_avg") {
            continue; // tracked per rank, as official
        }
        let worst = va
            .iter()
            .zip(vb)
            .map(|(x, y)| (x - y).abs() / (1.0 + x.abs()))
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{ka}: ranks and rounds differ by {worst}");
    }
    std::fs::remove_dir_all(one).unwrap();
    std::fs::remove_dir_all(two).unwrap();
}

fn train_bin(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let dir = scratch("bad");
    let out = dir.join("runs");
    let outs = format!("--outdir={}", out.display());
    let data = format!("--data={}", emoji().display());

    let (code, err) = train_bin(&[
        &outs,
        &format!("--data={}", dir.join("missing.zip").display()),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("missing.zip"), "{err}");

    let corrupt = dir.join("corrupt.zip");
    std::fs::write(&corrupt, b"PK\x03\x04 not really a zip").unwrap();
    let (code, err) = train_bin(&[&outs, &format!("--data={}", corrupt.display())]);
    assert_ne!(code, 0);
    assert!(err.contains("corrupt.zip"), "{err}");

    let (code, err) = train_bin(&[
        &outs,
        &data,
        "--cond=1",
        "--t_start_kimg=5",
        "--t_end_kimg=2",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("t_start_kimg"), "{err}");

    let (code, err) = train_bin(&[
        &outs,
        &data,
        "--cond=1",
        "--resume",
        &dir.join("nope.safetensors").display().to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("nope.safetensors"), "{err}");

    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, [8u8, 0, 0, 0, 0, 0, 0, 0, b'{']).unwrap();
    let (code, err) = train_bin(&[
        &outs,
        &data,
        "--cond=1",
        &format!("--resume={}", truncated.display()),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("truncated.safetensors"), "{err}");
    assert!(!out.exists(), "nothing may be created for rejected input");

    // An outdir below a file cannot be created.
    let blocker = dir.join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let (code, err) = train_bin(&[
        &format!("--outdir={}", blocker.join("runs").display()),
        &data,
        "--kimg=0.004",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--outdir"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A zip of `n` images of the bundled set spread over its classes, with their
/// labels (`dataset.json`) or without.
fn small_copy(dir: &Path, n: usize, labels: bool) -> PathBuf {
    use std::io::Read;
    let mut zin = zip::ZipArchive::new(std::fs::File::open(emoji()).unwrap()).unwrap();
    let mut json = String::new();
    zin.by_name("dataset.json")
        .unwrap()
        .read_to_string(&mut json)
        .unwrap();
    let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
    let all = meta["labels"].as_array().unwrap();
    let step = all.len() / n;
    let picked: Vec<&serde_json::Value> = all.iter().step_by(step).take(n).collect();
    let dst = dir.join(if labels { "small.zip" } else { "plain.zip" });
    let mut zout = zip::ZipWriter::new(std::fs::File::create(&dst).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for entry in &picked {
        let name = entry[0].as_str().unwrap();
        zout.start_file(name, stored).unwrap();
        std::io::copy(&mut zin.by_name(name).unwrap(), &mut zout).unwrap();
    }
    if labels {
        zout.start_file("dataset.json", stored).unwrap();
        let text = serde_json::json!({ "labels": picked }).to_string();
        std::io::Write::write_all(&mut zout, text.as_bytes()).unwrap();
    }
    zout.finish().unwrap();
    dst
}

#[test]
fn cond_on_a_dataset_without_labels_is_refused() {
    let dir = scratch("nolabels");
    // A copy of part of the bundled set without dataset.json.
    let dst = small_copy(&dir, 40, false);
    let (code, err) = train_bin(&[
        &format!("--outdir={}", dir.join("runs").display()),
        &format!("--data={}", dst.display()),
        "--cond=1",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("labels"), "{err}");
    assert!(!dir.join("runs").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_killed_run_leaves_every_snapshot_whole_and_resumable() {
    let dir = scratch("kill");
    let out = dir.join("runs");
    let common = [
        format!("--outdir={}", out.display()),
        format!("--data={}", emoji().display()),
        "--cond=1".into(),
        "--t_end_kimg=0.1".into(),
        "--cbase=128".into(),
        "--cmax=16".into(),
        "--map=1".into(),
        "--batch=4".into(),
        "--subset=64".into(),
        "--aug=noaug".into(),
        "--metrics=none".into(),
        // A snapshot at every step, so that the kill likely lands in a write.
        "--tick=0.004".into(),
        "--snap=1".into(),
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(&common)
        .arg("--kimg=10")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let snapshots = |run: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(run)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        v.retain(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("network-snapshot-") && n.ends_with(".safetensors")
        });
        v.sort();
        v
    };
    let run_dir = || {
        std::fs::read_dir(&out)
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path())
    };
    let start = std::time::Instant::now();
    while run_dir().map_or(0, |r| snapshots(&r).len()) < 3 && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let run = run_dir().expect("a run directory");
    let snaps = snapshots(&run);
    assert!(snaps.len() >= 3, "{snaps:?}");
    for s in &snaps {
        Checkpoint::read(s).unwrap_or_else(|e| panic!("{} is not whole: {e}", s.display()));
    }
    // The newest one resumes.
    let last = snaps.last().unwrap();
    let state: serde_json::Value = serde_json::from_str(
        Checkpoint::read(last)
            .unwrap()
            .metadata("training_state")
            .unwrap(),
    )
    .unwrap();
    let kimg = state["cur_nimg"].as_u64().unwrap() as f64 / 1000.0 + 0.004;
    let status = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(&common)
        .arg(format!("--kimg={kimg}"))
        .arg(format!("--resume={}", last.display()))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dry_run_prints_the_resolved_official_options() {
    let dir = scratch("dry");
    let out = Command::new(env!("CARGO_BIN_EXE_train"))
        .args([
            &format!("--outdir={}", dir.display()),
            &format!("--data={}", emoji().display()),
            "--cond=1",
            "--t_end_kimg=200",
            "--gpus=2",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let json_start = text.find('{').unwrap();
    let json_end = text.find("\n}\n").unwrap() + 2;
    let o: serde_json::Value = serde_json::from_str(&text[json_start..json_end]).unwrap();
    // auto at 32x32 on 2 GPUs: mb = max(min(2 * min(4096 // 32, 32), 64), 2) = 64,
    // mbstd = min(64 // 2, 4) = 4, gamma = 0.0002 * 32^2 / 64, ema = 64 * 10 / 32.
    assert_eq!(o["batch_size"], 64);
    assert_eq!(o["batch_gpu"], 32);
    assert_eq!(o["D_kwargs"]["epilogue_kwargs"]["mbstd_group_size"], 4);
    assert!((o["loss_kwargs"]["r1_gamma"].as_f64().unwrap() - 0.0032).abs() < 1e-12);
    assert_eq!(o["ema_kimg"], 20.0);
    assert_eq!(o["G_kwargs"]["synthesis_kwargs"]["channel_base"], 16384);
    assert_eq!(o["mode"], "transitional");
    assert!(text.contains("Dry run; exiting."));
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "a dry run creates nothing"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn metrics_are_evaluated_at_snapshots() {
    // Needs the Inception weights, which .ci/run fetches (scripts/fetch-inception.sh).
    let dir = scratch("metrics");
    let out = dir.join("runs");
    // Per-class FID generates as many images per class as the data set has:
    // 48 in all here, a few seconds of Inception.
    let data = small_copy(&dir, 48, true);
    let status = Command::new(env!("CARGO_BIN_EXE_train"))
        .args([
            &format!("--outdir={}", out.display()),
            &format!("--data={}", data.display()),
            "--cond=1",
            "--cbase=128",
            "--cmax=16",
            "--map=1",
            "--batch=4",
            "--kimg=0.004",
            "--metrics=fid_per_class",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let run = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let lines = std::fs::read_to_string(run.join("metric-fid_per_class.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    let fid = v["results"]["fid_per_class"].as_f64().unwrap();
    assert!(fid.is_finite() && fid > 0.0, "{v}");
    assert!(
        v["snapshot_pkl"]
            .as_str()
            .unwrap()
            .starts_with("network-snapshot-"),
        "{v}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
