//! dataset_tool's conversion: source images -> transformed, checked PNGs + `dataset.json`.
//!
//! Images are decoded, converted and encoded in parallel in chunks, then written in input order,
//! so the archive is the same whatever the thread count.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use super::error::{DatasetError, Result};
use super::image::SourceMode;
use super::metadata::{DatasetJson, Label};
use super::source::{InputItem, Source};
use super::transform::Geometry;
use super::writer::{encode_png, ArchiveWriter};

#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub max_images: Option<usize>,
    pub geometry: Geometry,
    /// 1 (grayscale) or 3 (RGB): every image is converted to this.
    pub channels: usize,
    pub progress: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            max_images: None,
            geometry: Geometry::default(),
            channels: 3,
            progress: false,
        }
    }
}

/// What a conversion did, for the summary printed at the end.
#[derive(Debug, Clone, Default)]
pub struct ConvertReport {
    pub images: usize,
    pub resolution: usize,
    pub channels: usize,
    /// (class name or index, label, count) in label order; empty when unlabelled.
    pub per_class: Vec<(String, u64, usize)>,
    /// Source modes seen and how many images had each (all were converted to `channels`).
    pub source_modes: BTreeMap<SourceMode, usize>,
    /// Images dropped by center-crop-wide (narrower than the output).
    pub dropped: Vec<String>,
    /// Images without a label in the source's dataset.json (then the archive is unlabelled).
    pub unlabelled: usize,
    pub labels_written: bool,
}

/// Output name of input `i`: `f'{i:08d}'[:5] + '/img' + f'{i:08d}' + '.png'`.
pub fn archive_name(index: usize) -> String {
    let s = format!("{index:08}");
    format!("{}/img{s}.png", &s[..5])
}

struct Converted {
    png: Option<Vec<u8>>,
    width: usize,
    height: usize,
    mode: SourceMode,
}

fn convert_one(source: &Source, item: &InputItem, opts: &ConvertOptions) -> Result<Converted> {
    let decoded = source.load(item)?;
    let img = decoded.image.to_channels(opts.channels);
    match opts.geometry.apply(&img) {
        Some(out) => Ok(Converted {
            width: out.width,
            height: out.height,
            png: Some(encode_png(&out)),
            mode: decoded.mode,
        }),
        None => Ok(Converted {
            png: None,
            width: 0,
            height: 0,
            mode: decoded.mode,
        }),
    }
}

/// Converts `source` into the archive `dest` (a `.zip` or a folder).
pub fn convert_dataset(source: &Path, dest: &Path, opts: &ConvertOptions) -> Result<ConvertReport> {
    opts.geometry.validate().map_err(DatasetError::Options)?;
    if opts.channels != 1 && opts.channels != 3 {
        return Err(DatasetError::Options(format!(
            "--channels must be 1 or 3, not {}",
            opts.channels
        )));
    }
    if let (Some(w), Some(h)) = (opts.geometry.width, opts.geometry.height) {
        let side = if opts.geometry.transform == super::transform::Transform::CenterCropWide {
            w
        } else {
            h
        };
        if w != side {
            return Err(DatasetError::Options(format!(
                "output images must be square: got --width {w} --height {h}"
            )));
        }
        if !w.is_power_of_two() {
            return Err(DatasetError::Options(format!(
                "--width/--height must be a power of two: got {w}"
            )));
        }
    }
    let src = Source::open(source, opts.max_images)?;
    let mut writer = ArchiveWriter::create(dest)?;

    let bar = if opts.progress {
        let bar = indicatif::ProgressBar::new(src.items.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} images [{elapsed} < {eta}, {per_sec}]",
            )
            .expect("progress template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut report = ConvertReport {
        channels: opts.channels,
        ..Default::default()
    };
    let mut first: Option<(usize, usize, String)> = None;
    let mut labels: Vec<(String, Label)> = Vec::with_capacity(src.items.len());
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    let chunk = (rayon::current_num_threads() * 16).max(16);
    for items in src.items.chunks(chunk) {
        let results: Vec<Result<Converted>> = items
            .par_iter()
            .map(|item| convert_one(&src, item, opts))
            .collect();
        for (item, result) in items.iter().zip(results) {
            let conv = result?;
            *report.source_modes.entry(conv.mode).or_default() += 1;
            let Some(png) = conv.png else {
                report.dropped.push(src.describe(item));
                continue;
            };
            let name = archive_name(item.index);
            match &first {
                None => {
                    if conv.width != conv.height {
                        return Err(DatasetError::invalid(
                            src.describe(item),
                            format!("images must be square: this one is {}x{} (use --transform=center-crop --width=N --height=N)", conv.width, conv.height),
                        ));
                    }
                    if !conv.width.is_power_of_two() {
                        return Err(DatasetError::invalid(
                            src.describe(item),
                            format!("image size must be a power of two: this one is {0}x{0} (use --width/--height to resize)", conv.width),
                        ));
                    }
                    first = Some((conv.width, conv.height, src.describe(item)));
                }
                Some((w, h, first_name)) if (*w, *h) != (conv.width, conv.height) => {
                    return Err(DatasetError::invalid(
                        src.describe(item),
                        format!(
                            "this image is {}x{} but {first_name} is {w}x{h}: all images must have one size (use --transform=center-crop --width=N --height=N)",
                            conv.width, conv.height
                        ),
                    ));
                }
                Some(_) => {}
            }
            writer.add(&name, &png)?;
            report.images += 1;
            match &item.label {
                Some(label) => {
                    if let Label::Class(c) = label {
                        *counts.entry(*c).or_default() += 1;
                    }
                    labels.push((name, label.clone()));
                }
                None => report.unlabelled += 1,
            }
        }
        bar.inc(items.len() as u64);
    }
    bar.finish_and_clear();
    let Some((resolution, _, _)) = first else {
        return Err(DatasetError::invalid(
            source,
            "no image was kept (all were dropped by the transform)",
        ));
    };
    report.resolution = resolution;
    report.labels_written = report.unlabelled == 0;
    let meta = DatasetJson {
        labels: report.labels_written.then_some(labels),
        class_names: src.class_names.clone().filter(|_| report.labels_written),
    };
    writer.add("dataset.json", meta.to_json().as_bytes())?;
    writer.commit()?;

    if report.labels_written {
        let names: BTreeMap<u64, &String> = src
            .class_names
            .iter()
            .flatten()
            .map(|(name, &i)| (i, name))
            .collect();
        report.per_class = counts
            .into_iter()
            .map(|(label, n)| {
                (
                    names
                        .get(&label)
                        .map_or_else(|| label.to_string(), |s| s.to_string()),
                    label,
                    n,
                )
            })
            .collect();
    }
    Ok(report)
}
