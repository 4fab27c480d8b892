//! `calc_metrics`: the official flags (`--metrics --network --data --mirror --gpus
//! --verbose`) plus `--device` and `--seed`, resolved against the snapshot the way
//! the official tool resolves them against its pickle.

use anyhow::{bail, Context, Result};
use clap::{ArgAction, Parser};
use std::path::{Path, PathBuf};
use tcgan_core::Device;
use tcgan_nn::metrics::registry::{self, KNOWN, UNAVAILABLE_NOTES};
use tcgan_nn::metrics::MetricResult;

use super::evaluate::{EvalOptions, Evaluator};
use crate::snapshot::Snapshot;

/// click's boolean values.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Ok(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Ok(false),
        _ => Err(format!("{s:?} is not a valid boolean")),
    }
}

fn after_help() -> String {
    format!(
        "Metrics: {KNOWN}.\n\
         fid50k_full / kid50k_full compare 50k generated images with the whole dataset; for small \
         datasets use e.g. fid10k_full. fid_per_class / kid_per_class compare, for each class, as \
         many generated images of that class as the class has real images (results \
         <name>_<class> and their mean <name>).\n\n\
         Not available: {UNAVAILABLE_NOTES}\n\n\
         Each result is printed as a JSON line and appended to metric-<name>.jsonl beside the \
         snapshot. Inception-v3 weights: scripts/fetch-inception.sh (into $TCGAN_CACHE_DIR, \
         default ~/.cache/tcgan)."
    )
}

/// Calculate quality metrics of a network snapshot.
#[derive(Parser, Debug, Clone)]
#[command(name = "calc_metrics", version, after_help = after_help())]
pub struct CalcMetricsArgs {
    /// Network snapshot (network-snapshot-*.safetensors); its G_ema is evaluated.
    #[arg(long, value_name = "PATH")]
    pub network: PathBuf,
    /// Comma-separated list or "none".
    #[arg(long, value_name = "LIST", default_value = "fid50k_full")]
    pub metrics: String,
    /// Dataset to evaluate against (zip or folder) [default: the training data recorded in the
    /// snapshot].
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Whether the dataset was augmented with x-flips during training (used by the legacy
    /// metrics without _full) [default: as recorded in the snapshot, else false].
    #[arg(long, value_name = "BOOL", value_parser = parse_bool, action = ArgAction::Set)]
    pub mirror: Option<bool>,
    /// Number of GPUs. Metrics run on one device (chosen with --device), so only 1 is accepted.
    #[arg(
        long,
        value_name = "INT",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub gpus: i64,
    /// Print optional information (loading, dataset options, progress).
    #[arg(long, value_name = "BOOL", value_parser = parse_bool, action = ArgAction::Set,
          num_args = 0..=1, default_value = "true", default_missing_value = "true")]
    pub verbose: bool,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Seeds the generated images and the KID subsets: the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The metric names of `--metrics` ("none" or empty: no metric), each checked.
pub fn metric_list(s: &str) -> Result<Vec<String>> {
    if s.is_empty() || s.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let names: Vec<String> = s.split(',').map(|m| m.trim().to_string()).collect();
    for n in &names {
        registry::parse(n).with_context(|| format!("--metrics={s}"))?;
    }
    Ok(names)
}

/// Runs the metrics with the Inception network.
pub fn run(args: &CalcMetricsArgs) -> Result<Vec<MetricResult>> {
    run_with(args, &Evaluator::new, &|line| println!("{line}"))
}

/// Runs the metrics with the evaluator `make` builds for the selected device.
pub fn run_with(
    args: &CalcMetricsArgs,
    make: &dyn Fn(&Device) -> Evaluator,
    log: &dyn Fn(&str),
) -> Result<Vec<MetricResult>> {
    if args.gpus < 1 {
        bail!("--gpus must be at least 1");
    }
    if args.gpus > 1 {
        bail!(
            "--gpus={}: tcgan computes metrics on one device; use --gpus=1 and choose the device with --device",
            args.gpus
        );
    }
    let metrics = metric_list(&args.metrics)?;
    let device = crate::device::select(&args.device)?;
    if args.verbose {
        log(&format!(
            "Loading network from \"{}\"...",
            args.network.display()
        ));
    }
    let snap = Snapshot::load(&args.network, &device)?;
    let data = match (&args.data, &snap.training_set) {
        (Some(d), _) => d.clone(),
        (None, Some(ts)) => ts.path.clone(),
        (None, None) => bail!(
            "{}: the snapshot records no training options, so the dataset cannot be looked up; please specify --data",
            args.network.display()
        ),
    };
    let mirror = args
        .mirror
        .or(snap.training_set.as_ref().map(|ts| ts.xflip))
        .unwrap_or(false);
    let k = &snap.g_ema.kwargs;
    if args.verbose {
        log("Dataset options:");
        log(&serde_json::to_string_pretty(&serde_json::json!({
            "path": data.to_string_lossy(),
            "use_labels": k.c_dim != 0,
            "xflip": mirror,
            "resolution": k.img_resolution,
        }))?);
    }
    let run_dir = match args.network.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let opts = EvalOptions {
        data: &data,
        mirror,
        seed: args.seed,
        run_dir: Some(Path::new(&run_dir)),
        snapshot: Some(&args.network),
        progress: args.verbose,
    };
    make(&device).evaluate(&metrics, &snap.g_ema, &opts, log)
}
