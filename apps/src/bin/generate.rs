//! generate: images of a network snapshot for given seeds, with the official
//! generate.py flags, or a class x seed grid.

use std::path::PathBuf;

use clap::Parser;
use tcgan_apps::generate::{parse_seeds, run, GenerateOptions, Request};
use tcgan_apps::snapshot::Snapshot;
use tcgan_nn::networks::NoiseMode;

/// Generate images using a network snapshot (its G_ema).
///
/// The latent of seed s is numpy's RandomState(s).randn(1, z_dim), as in the official
/// generate.py, so a snapshot converted from an official .pkl gives the official image for a
/// seed (up to floating-point rounding). With --noise-mode=random the layer noise is drawn from
/// a generator seeded with s, so every run gives the same image.
#[derive(Parser)]
#[command(name = "generate", version)]
struct Args {
    /// Network snapshot (network-snapshot-*.safetensors).
    #[arg(long, value_name = "PATH")]
    network: PathBuf,
    /// Seeds: a list and/or ranges, e.g. 0-3,5.
    #[arg(long, value_name = "LIST")]
    seeds: String,
    /// Truncation psi.
    #[arg(long = "trunc", value_name = "PSI", default_value_t = 1.0)]
    truncation_psi: f64,
    /// Class label (required for conditional networks unless --grid; ignored for unconditional
    /// ones).
    #[arg(long = "class", value_name = "INT")]
    class_idx: Option<usize>,
    /// Noise mode.
    #[arg(long, default_value = "const", value_parser = ["const", "random", "none"])]
    noise_mode: String,
    /// Where to save the output images (seed%04d.png, or grid.png with --grid).
    #[arg(long, value_name = "DIR")]
    outdir: PathBuf,
    /// One grid.png instead: a row per class (only --class's row when given; one row for an
    /// unconditional network), a column per seed.
    #[arg(long)]
    grid: bool,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn main() {
    let args = Args::parse();
    if let Err(err) = main_with(args) {
        eprintln!("Error: {err:#}");
        std::process::exit(1);
    }
}

fn main_with(args: Args) -> anyhow::Result<()> {
    let seeds = parse_seeds(&args.seeds)?;
    let noise_mode = NoiseMode::from_name(&args.noise_mode)?;
    let device = tcgan_apps::device::select(&args.device)?;
    println!("Loading networks from \"{}\"...", args.network.display());
    let snap = Snapshot::load(&args.network, &device)?;
    let req = Request {
        seeds,
        class: args.class_idx,
        grid: args.grid,
        opts: GenerateOptions {
            truncation_psi: args.truncation_psi,
            noise_mode,
        },
    };
    run(&snap.g_ema, &req, &args.outdir, &device, &|l| {
        println!("{l}")
    })?;
    Ok(())
}
