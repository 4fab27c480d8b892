//! dataset_tool: convert a folder, zip or CIFAR tarball into a training archive (ZIP or folder of
//! PNGs + dataset.json), with the official tool's flags.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use tcgan_apps::dataset::{convert_dataset, ConvertOptions, Geometry, ResizeFilter, Transform};

#[derive(Clone, Copy, ValueEnum)]
enum TransformArg {
    CenterCrop,
    CenterCropWide,
}

#[derive(Clone, Copy, ValueEnum)]
enum FilterArg {
    Box,
    Lanczos,
}

/// Convert an image data set into an archive for training.
///
/// The source is a folder (searched recursively; one sub-folder per class gives the labels,
/// numbered in sorted order of the folder names), a zip of such a folder, or the CIFAR-10/100
/// python tarball. A dataset.json in the source overrides the folder labels. The destination is a
/// .zip (uncompressed, PNGs + dataset.json) or a folder.
#[derive(Parser)]
#[command(name = "dataset_tool", version)]
struct Args {
    /// Input folder, .zip, cifar-10-python.tar.gz or cifar-100-python.tar.gz.
    #[arg(long, value_name = "PATH")]
    source: PathBuf,
    /// Output .zip or folder (an existing folder must be empty).
    #[arg(long, value_name = "PATH")]
    dest: PathBuf,
    /// Output only the first N images of the sorted input list.
    #[arg(long, value_name = "N")]
    max_images: Option<usize>,
    /// Crop before resizing.
    #[arg(long, value_enum)]
    transform: Option<TransformArg>,
    /// Output width.
    #[arg(long)]
    width: Option<usize>,
    /// Output height.
    #[arg(long)]
    height: Option<usize>,
    /// Resampling filter (Pillow-exact).
    #[arg(long, value_enum, default_value = "lanczos")]
    resize_filter: FilterArg,
    /// Output channels: 3 (RGB) or 1 (grayscale). Every image is converted explicitly; alpha is
    /// composited over white.
    #[arg(long, default_value = "3", value_parser = ["1", "3"])]
    channels: String,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(err) = run(args) {
        // The chain on one line, without a backtrace: the message names the file and the problem.
        eprintln!("Error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let opts = ConvertOptions {
        max_images: args.max_images,
        geometry: Geometry {
            transform: match args.transform {
                None => Transform::None,
                Some(TransformArg::CenterCrop) => Transform::CenterCrop,
                Some(TransformArg::CenterCropWide) => Transform::CenterCropWide,
            },
            width: args.width,
            height: args.height,
            filter: match args.resize_filter {
                FilterArg::Box => ResizeFilter::Box,
                FilterArg::Lanczos => ResizeFilter::Lanczos,
            },
        },
        channels: if args.channels == "1" { 1 } else { 3 },
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    let report = convert_dataset(&args.source, &args.dest, &opts).with_context(|| {
        format!(
            "converting {} failed; nothing was written to {}",
            args.source.display(),
            args.dest.display()
        )
    })?;

    println!(
        "Wrote {} images ({res}x{res}, {ch} channel(s)) to {}",
        report.images,
        args.dest.display(),
        res = report.resolution,
        ch = report.channels,
    );
    for (mode, n) in &report.source_modes {
        println!("  source {}: {n}", mode.name());
    }
    if !report.dropped.is_empty() {
        println!(
            "  dropped by center-crop-wide (narrower than --width): {}",
            report.dropped.len()
        );
    }
    if report.labels_written {
        println!("Images per class:");
        for (name, label, n) in &report.per_class {
            println!("  {label:>4}  {n:>7}  {name}");
        }
    } else if report.unlabelled > 0 {
        println!(
            "Labels: none written ({} images had no label in the source's dataset.json)",
            report.unlabelled
        );
    } else {
        println!("Labels: none (no class folders and no dataset.json)");
    }
    Ok(())
}
