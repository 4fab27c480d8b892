//! train: trains a class-conditional GAN with transitional conditioning (or a
//! plain conditional / unconditional StyleGAN2-ADA) with the official flags.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tcgan_apps::dataset::{DatasetOptions, ImageFolderDataset};
use tcgan_apps::metrics::{evaluate, EvalOptions};
use tcgan_apps::training::config::{resolve, DatasetInfo};
use tcgan_apps::training::options::{DeviceKind, TrainArgs};
use tcgan_apps::training::run_dir::{next_run_dir, Logger};
use tcgan_apps::training::training_loop::{run, DataSource, MetricsFn, RunSetup};
use tcgan_apps::training::{bench, config::TrainingOptions};

fn main() -> ExitCode {
    let args = TrainArgs::parse();
    match train(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn device_name(args: &TrainArgs) -> &'static str {
    match args.device.unwrap_or(DeviceKind::Cpu) {
        DeviceKind::Cpu => "cpu",
        DeviceKind::Cuda => "cuda",
    }
}

fn train(args: TrainArgs) -> Result<()> {
    if let Some(name) = &args.bench {
        return bench::run_bench(name, args.p, device_name(&args), args.fp16.unwrap_or(false));
    }
    let outdir = args.outdir.clone().context("--outdir is required")?;
    let data = args.data.clone().context("--data is required")?;
    let seed = args.seed.unwrap_or(0);
    // Open once to learn the data set's size, resolution and labels.
    let probe = ImageFolderDataset::open(
        &data,
        &DatasetOptions {
            use_labels: true,
            ..Default::default()
        },
    )
    .with_context(|| format!("--data: cannot use {}", data.display()))?;
    let info = DatasetInfo {
        name: probe.name().to_string(),
        path: data.display().to_string(),
        resolution: probe.resolution(),
        num_images: probe.raw_len(),
        has_labels: probe.has_labels(),
    };
    drop(probe);
    let (desc, mut options) = resolve(&args, &info).map_err(|e| anyhow::anyhow!("{e}"))?;
    let run_dir = next_run_dir(&outdir, &desc);
    options.run_dir = run_dir.display().to_string();

    println!(
        "\nTraining options:\n{}\n",
        serde_json::to_string_pretty(&options)?
    );
    print_summary(&options, &run_dir);
    if args.dry_run {
        println!("Dry run; exiting.");
        return Ok(());
    }

    let dataset = ImageFolderDataset::open(
        &data,
        &DatasetOptions {
            use_labels: options.training_set_kwargs.use_labels,
            max_size: args.subset,
            xflip: options.training_set_kwargs.xflip,
            random_seed: seed as u32,
            resolution: Some(info.resolution),
        },
    )
    .with_context(|| format!("--data: cannot use {}", data.display()))?;
    if let Some(resume) = &args.resume {
        // Fail before creating anything if the snapshot is unreadable.
        tcgan_apps::training::state::stored_options(resume)?;
    }
    if !options.metrics.is_empty() {
        // The metrics need the Inception weights: say so now, not after hours.
        let weights = tcgan_nn::inception::default_weights_path();
        if !weights.exists() {
            anyhow::bail!(
                "--metrics={} needs the Inception weights {}: run scripts/fetch-inception.sh, or train with --metrics=none",
                options.metrics.join(","),
                weights.display()
            );
        }
    }

    println!("Creating output directory...");
    std::fs::create_dir_all(&outdir)
        .with_context(|| format!("--outdir: cannot create {}", outdir.display()))?;
    std::fs::create_dir(&run_dir)
        .with_context(|| format!("--outdir: cannot create {}", run_dir.display()))?;
    let opts_json = serde_json::to_string_pretty(&options)?;
    tcgan_apps::atomic_file::write(&run_dir.join("training_options.json"), opts_json.as_bytes())
        .with_context(|| {
            format!(
                "writing {}",
                run_dir.join("training_options.json").display()
            )
        })?;
    let log = Logger::with_file(&run_dir.join("log.txt"))
        .with_context(|| format!("creating {}", run_dir.join("log.txt").display()))?;
    log.line(&format!("Training options:\n{opts_json}"));
    log.line(&format!("Num images:  {}", dataset.len()));
    log.line(&format!(
        "Image shape: [{}, {}, {}]",
        dataset.num_channels(),
        dataset.resolution(),
        dataset.resolution()
    ));
    log.line(&format!(
        "Label shape: [{}]",
        if options.training_set_kwargs.use_labels {
            dataset.label_dim()
        } else {
            0
        }
    ));

    let setup = RunSetup {
        data: DataSource::Dataset(Arc::new(dataset)),
        run_dir: Some(run_dir.clone()),
        resume: args.resume.clone(),
        max_steps: None,
        fixed_transition: None,
        metrics: metrics_fn(&options, &data),
        options,
    };
    let summary = run(&setup, device_name(&args), &log)?;
    if let Some(p) = summary.last_snapshot {
        log.line(&format!("Last snapshot: {}", p.display()));
    }
    Ok(())
}

fn print_summary(o: &TrainingOptions, run_dir: &Path) {
    println!("Output directory:   {}", run_dir.display());
    println!("Training data:      {}", o.training_set_kwargs.path);
    println!("Training duration:  {} kimg", o.total_kimg);
    println!("Number of GPUs:     {}", o.num_gpus);
    println!("Number of images:   {}", o.training_set_kwargs.max_size);
    println!("Image resolution:   {}", o.training_set_kwargs.resolution);
    println!("Conditional model:  {}", o.training_set_kwargs.use_labels);
    println!(
        "Training mode:      {}",
        tcgan_apps::training::training_loop::describe_mode(o.mode)
    );
    if o.mode == tcgan_apps::training::options::Mode::Transitional {
        println!(
            "Transition:         {} -> {} kimg",
            o.t_start_kimg, o.t_end_kimg
        );
    }
    println!("Dataset x-flips:    {}", o.training_set_kwargs.xflip);
    println!();
}

/// Evaluates the run's `--metrics` on a snapshot, as `calc_metrics` would.
fn metrics_fn(o: &TrainingOptions, data: &Path) -> Option<Arc<MetricsFn>> {
    if o.metrics.is_empty() {
        return None;
    }
    let (metrics, data, mirror, seed) = (
        o.metrics.clone(),
        data.to_path_buf(),
        o.training_set_kwargs.xflip,
        o.random_seed,
    );
    Some(Arc::new(move |g_ema, snapshot, run_dir, device, log| {
        let opts = EvalOptions {
            data: &data,
            mirror,
            seed,
            run_dir: Some(run_dir),
            snapshot: Some(snapshot),
            progress: true,
        };
        evaluate(&metrics, g_ema, &opts, device, log)
    }))
}
