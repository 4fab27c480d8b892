//! dataset_tool's flags (the official tool's, plus `--channels` and `--quiet`) and the
//! conversion options they give; shared by the binary and the golden-vector runner,
//! which replays the official commands.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::{ConvertOptions, Geometry, ResizeFilter, Transform};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransformArg {
    CenterCrop,
    CenterCropWide,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FilterArg {
    Box,
    Lanczos,
}

/// Convert an image data set into an archive for training.
///
/// The source is a folder (searched recursively; one sub-folder per class gives the labels,
/// numbered in sorted order of the folder names), a zip of such a folder, or the CIFAR-10/100
/// python tarball. A dataset.json in the source overrides the folder labels. The destination is a
/// .zip (uncompressed, PNGs + dataset.json) or a folder.
#[derive(Parser, Debug, Clone)]
#[command(name = "dataset_tool", version)]
pub struct DatasetToolArgs {
    /// Input folder, .zip, cifar-10-python.tar.gz or cifar-100-python.tar.gz.
    #[arg(long, value_name = "PATH")]
    pub source: PathBuf,
    /// Output .zip or folder (an existing folder must be empty).
    #[arg(long, value_name = "PATH")]
    pub dest: PathBuf,
    /// Output only the first N images of the sorted input list.
    #[arg(long, value_name = "N")]
    pub max_images: Option<usize>,
    /// Crop before resizing.
    #[arg(long, value_enum)]
    pub transform: Option<TransformArg>,
    /// Output width.
    #[arg(long)]
    pub width: Option<usize>,
    /// Output height.
    #[arg(long)]
    pub height: Option<usize>,
    /// Resampling filter (Pillow-exact).
    #[arg(long, value_enum, default_value = "lanczos")]
    pub resize_filter: FilterArg,
    /// Output channels: 3 (RGB) or 1 (grayscale). Every image is converted explicitly; alpha is
    /// composited over white.
    #[arg(long, default_value = "3", value_parser = ["1", "3"])]
    pub channels: String,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl DatasetToolArgs {
    /// The conversion the flags ask for (`progress`: whether to draw a progress bar).
    pub fn convert_options(&self, progress: bool) -> ConvertOptions {
        ConvertOptions {
            max_images: self.max_images,
            geometry: self.geometry(),
            channels: if self.channels == "1" { 1 } else { 3 },
            progress: progress && !self.quiet,
        }
    }

    pub fn geometry(&self) -> Geometry {
        Geometry {
            transform: match self.transform {
                None => Transform::None,
                Some(TransformArg::CenterCrop) => Transform::CenterCrop,
                Some(TransformArg::CenterCropWide) => Transform::CenterCropWide,
            },
            width: self.width,
            height: self.height,
            filter: match self.resize_filter {
                FilterArg::Box => ResizeFilter::Box,
                FilterArg::Lanczos => ResizeFilter::Lanczos,
            },
        }
    }
}
