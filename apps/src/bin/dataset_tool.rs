//! dataset_tool: convert a folder, zip or CIFAR tarball into a training archive (ZIP or folder of
//! PNGs + dataset.json), with the official tool's flags.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Parser;
use tcgan_apps::dataset::cli::DatasetToolArgs;
use tcgan_apps::dataset::convert_dataset;

fn main() {
    let args = DatasetToolArgs::parse();
    if let Err(err) = run(args) {
        // The chain on one line, without a backtrace: the message names the file and the problem.
        eprintln!("Error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: DatasetToolArgs) -> anyhow::Result<()> {
    let opts = args.convert_options(std::io::stderr().is_terminal());
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
