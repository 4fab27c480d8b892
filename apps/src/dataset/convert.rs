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
use super::transform::{Geometry, Transform};
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
    let img = decoded.image.into_channels(opts.channels);
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

/// The sequential half of a conversion: checks sizes in input order, writes, counts.
struct Sink<'a> {
    src: &'a Source,
    writer: ArchiveWriter,
    report: ConvertReport,
    /// Size of the first image and its name, which all others must match.
    first: Option<(usize, usize, String)>,
    labels: Vec<(String, Label)>,
    counts: BTreeMap<u64, usize>,
}

impl Sink<'_> {
    fn write(&mut self, items: &[InputItem], results: Vec<Result<Converted>>) -> Result<()> {
        let src = self.src;
        for (item, result) in items.iter().zip(results) {
            let conv = result?;
            *self.report.source_modes.entry(conv.mode).or_default() += 1;
            let Some(png) = conv.png else {
                self.report.dropped.push(src.describe(item));
                continue;
            };
            let (w, h) = (conv.width, conv.height);
            match &self.first {
                None => {
                    if w != h {
                        return Err(DatasetError::invalid(
                            src.describe(item),
                            format!("images must be square: this one is {w}x{h} (use --transform=center-crop --width=N --height=N)"),
                        ));
                    }
                    if !w.is_power_of_two() {
                        return Err(DatasetError::invalid(
                            src.describe(item),
                            format!("image size must be a power of two: this one is {w}x{h} (use --width/--height to resize)"),
                        ));
                    }
                    self.first = Some((w, h, src.describe(item)));
                }
                Some((fw, fh, first_name)) if (*fw, *fh) != (w, h) => {
                    return Err(DatasetError::invalid(
                        src.describe(item),
                        format!(
                            "this image is {w}x{h} but {first_name} is {fw}x{fh}: all images must have one size (use --transform=center-crop --width=N --height=N)"
                        ),
                    ));
                }
                Some(_) => {}
            }
            let name = archive_name(item.index);
            self.writer.add(&name, &png)?;
            self.report.images += 1;
            match &item.label {
                Some(label) => {
                    if let Label::Class(c) = label {
                        *self.counts.entry(*c).or_default() += 1;
                    }
                    self.labels.push((name, label.clone()));
                }
                None => self.report.unlabelled += 1,
            }
        }
        Ok(())
    }
}

/// Converts `source` into the archive `dest` (a `.zip` or a folder).
pub fn convert_dataset(source: &Path, dest: &Path, opts: &ConvertOptions) -> Result<ConvertReport> {
    opts.geometry.validate().map_err(DatasetError::Options)?;
    if opts.max_images == Some(0) {
        return Err(DatasetError::Options(
            "--max-images must be at least 1".into(),
        ));
    }
    if opts.channels != 1 && opts.channels != 3 {
        return Err(DatasetError::Options(format!(
            "--channels must be 1 or 3, not {}",
            opts.channels
        )));
    }
    if let (Some(w), Some(h)) = (opts.geometry.width, opts.geometry.height) {
        // center-crop-wide puts a w x h picture on a w x w canvas.
        let square = opts.geometry.transform == Transform::CenterCropWide || w == h;
        if !square {
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
    let writer = ArchiveWriter::create(dest)?;

    let bar = if opts.progress {
        let bar = indicatif::ProgressBar::new(src.items.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} images [{elapsed} elapsed, {eta} left]",
            )
            .expect("progress template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut sink = Sink {
        src: &src,
        writer,
        report: ConvertReport {
            channels: opts.channels,
            ..Default::default()
        },
        first: None,
        labels: Vec::with_capacity(src.items.len()),
        counts: BTreeMap::new(),
    };
    // Each chunk is converted in parallel while the previous one is written, in input order.
    let chunk = (rayon::current_num_threads() * 16).max(16);
    let mut pending: Option<(&[InputItem], Vec<Result<Converted>>)> = None;
    for items in src.items.chunks(chunk) {
        let (written, results) = rayon::join(
            || {
                pending
                    .take()
                    .map_or(Ok(()), |(done, res)| sink.write(done, res))
            },
            || {
                items
                    .par_iter()
                    .map(|item| convert_one(&src, item, opts))
                    .collect::<Vec<_>>()
            },
        );
        written?;
        bar.inc(items.len() as u64);
        pending = Some((items, results));
    }
    if let Some((done, res)) = pending {
        sink.write(done, res)?;
    }
    bar.finish_and_clear();
    let Sink {
        mut report,
        first,
        labels,
        counts,
        mut writer,
        ..
    } = sink;

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
