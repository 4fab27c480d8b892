//! The `train` command line: the official flags with their meanings, plus the
//! options this implementation adds (device, mode, model size, tick length).

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// Parses the official boolean spellings (`--cond=1`, `--mirror=true`, `yes`/`no`).
fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Ok(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Ok(false),
        _ => Err(format!(
            "{s:?} is not a boolean (use 1/0, true/false, yes/no)"
        )),
    }
}

/// A non-negative number of kimg; fractions allowed for short runs (`--kimg=0.5`).
fn parse_kimg(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s} must be a finite, non-negative number of kimg"));
    }
    Ok(v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cfg {
    Auto,
    Stylegan2,
    Paper256,
    Paper512,
    Paper1024,
    Cifar,
}

impl Cfg {
    pub fn name(self) -> &'static str {
        match self {
            Cfg::Auto => "auto",
            Cfg::Stylegan2 => "stylegan2",
            Cfg::Paper256 => "paper256",
            Cfg::Paper512 => "paper512",
            Cfg::Paper1024 => "paper1024",
            Cfg::Cifar => "cifar",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AugMode {
    Noaug,
    Ada,
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No labels: StyleGAN2-ADA.
    Uncond,
    /// Plain class-conditional StyleGAN2-ADA: the class signal at full strength from the start.
    Cond,
    /// The transitional cGAN: unconditional first, the class signal ramped in
    /// between --t_start_kimg and --t_end_kimg.
    Transitional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Cpu,
    Cuda,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "train",
    about = "Train a class-conditional GAN with transitional conditioning (Shahbazi et al., ICLR 2022) on StyleGAN2-ADA",
    after_help = "Examples:\n  \
        # Transitional training on the bundled emoji set, on the CPU\n  \
        train --outdir=runs --data=examples/emoji32.zip --cond=1 --t_start_kimg=2 --t_end_kimg=4 \\\n        \
        --cfg=auto --cbase=4096 --cmax=128 --map=2 --batch=16 --kimg=8 --tick=0.5 --snap=4\n\n  \
        # Plain conditional StyleGAN2-ADA (class signal from the start)\n  \
        train --outdir=runs --data=mydata.zip --cond=1 --mode=cond\n\n  \
        # Print the resolved options and exit\n  \
        train --outdir=runs --data=mydata.zip --cond=1 --t_end_kimg=2000 --dry-run"
)]
pub struct TrainArgs {
    /// Where to save the results.
    #[arg(long, value_name = "DIR")]
    pub outdir: Option<PathBuf>,
    /// Training data (folder or zip in the dataset_tool format).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Train a conditional model on the dataset labels.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub cond: Option<bool>,
    /// Start of the transition in kimg (fractions allowed).
    #[arg(long = "t_start_kimg", value_parser = parse_kimg, value_name = "KIMG")]
    pub t_start_kimg: Option<f64>,
    /// End of the transition in kimg (fractions allowed).
    #[arg(long = "t_end_kimg", value_parser = parse_kimg, value_name = "KIMG")]
    pub t_end_kimg: Option<f64>,
    /// uncond, cond (plain conditional) or transitional [default: transitional with --cond and
    /// t_end_kimg > 0, cond with --cond and t_start = t_end = 0, else uncond].
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Number of GPUs (a power of two) [default: 1].
    #[arg(long, value_name = "INT")]
    pub gpus: Option<usize>,
    /// Snapshot interval in ticks [default: 50].
    #[arg(long, value_name = "INT")]
    pub snap: Option<usize>,
    /// Comma-separated metrics or "none" [default: fid50k_full]; see calc_metrics --help.
    #[arg(long, value_name = "LIST")]
    pub metrics: Option<String>,
    /// Random seed [default: 0].
    #[arg(long, value_name = "INT")]
    pub seed: Option<u64>,
    /// Print the training options and exit.
    #[arg(short = 'n', long = "dry-run")]
    pub dry_run: bool,
    /// Train with only N images [default: all].
    #[arg(long, value_name = "INT")]
    pub subset: Option<usize>,
    /// Add x-flipped copies of the images.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub mirror: Option<bool>,
    /// Base configuration [default: auto].
    #[arg(long, value_enum)]
    pub cfg: Option<Cfg>,
    /// Override R1 gamma.
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Override the training length in kimg, counted across resumes (fractions allowed).
    #[arg(long, value_parser = parse_kimg, value_name = "KIMG")]
    pub kimg: Option<f64>,
    /// Override the total batch size.
    #[arg(long, value_name = "INT")]
    pub batch: Option<usize>,
    /// Augmentation mode [default: ada].
    #[arg(long, value_enum)]
    pub aug: Option<AugMode>,
    /// Augmentation probability for --aug=fixed.
    #[arg(long)]
    pub p: Option<f64>,
    /// ADA target for --aug=ada [default: 0.6].
    #[arg(long)]
    pub target: Option<f64>,
    /// Augmentation pipeline [default: bgc].
    #[arg(long, value_parser = ["blit", "geom", "color", "filter", "noise", "cutout", "bg", "bgc", "bgcf", "bgcfn", "bgcfnc"])]
    pub augpipe: Option<String>,
    /// Resume from a snapshot (network-snapshot-*.safetensors).
    #[arg(long, value_name = "SNAPSHOT")]
    pub resume: Option<PathBuf>,
    /// Freeze-D: number of frozen discriminator layers [default: 0].
    #[arg(long, value_name = "INT")]
    pub freezed: Option<usize>,
    /// Suffix of the run directory's name.
    #[arg(long, value_name = "STRING")]
    pub description: Option<String>,
    /// Disable mixed precision (num_fp16_res = 0, conv_clamp = none).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub fp32: Option<bool>,
    /// Run the num_fp16_res highest resolutions of G and D in f16, as the
    /// official code does on GPUs (values stored in f16, each op computed in
    /// f32 and rounded once) [default: 0: everything in f32, faster on the CPU].
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub fp16: Option<bool>,
    /// Accepted for compatibility with the official flags; no effect here.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", hide = true)]
    pub nhwc: Option<bool>,
    /// Accepted for compatibility with the official flags; no effect here.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", hide = true)]
    pub nobench: Option<bool>,
    /// Accepted for compatibility with the official flags; no effect here.
    #[arg(long = "allow-tf32", value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", hide = true)]
    pub allow_tf32: Option<bool>,
    /// Data-loading threads [default: 3].
    #[arg(long, value_name = "INT")]
    pub workers: Option<usize>,
    /// cpu or cuda [default: cpu].
    #[arg(long, value_enum)]
    pub device: Option<DeviceKind>,
    /// Override channel_base of G and D (model size).
    #[arg(long, value_name = "INT")]
    pub cbase: Option<usize>,
    /// Override channel_max of G and D.
    #[arg(long, value_name = "INT")]
    pub cmax: Option<usize>,
    /// Override the number of G mapping layers.
    #[arg(long, value_name = "INT")]
    pub map: Option<usize>,
    /// Images per device per pass (gradients are accumulated over batch / (gpus * batch-gpu) passes).
    #[arg(long = "batch-gpu", value_name = "INT")]
    pub batch_gpu: Option<usize>,
    /// kimg per tick (status line, stats and snapshot cadence) [default: 4]; fractions allowed.
    #[arg(long, value_parser = parse_kimg, value_name = "KIMG")]
    pub tick: Option<f64>,
    /// Run a fixed benchmark (bench32, bench64, or auto128: the official 128x128 --cfg=auto run) on random data and exit.
    #[arg(long, value_name = "NAME")]
    pub bench: Option<String>,
}
