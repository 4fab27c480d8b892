//! Feature extraction from image sources into `FeatureStats`, globally and per
//! class (the official `compute_feature_stats_for_dataset / _for_generator`).

use super::error::{MetricError, Result};
use super::feature_stats::FeatureStats;
use super::progress::Progress;
use super::source::{FeatureExtractor, GeneratedImages, LabeledImages, RealImages};
use crate::inception::ImageBatch;
use tcgan_core::Device;

/// Images per feature-extraction batch (the official batch size).
pub const BATCH: usize = 64;

/// What to keep of the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capture {
    pub all: bool,
    pub mean_cov: bool,
}

/// Statistics of all items and, when asked, of each class.
#[derive(Debug, Clone)]
pub struct Features {
    pub global: FeatureStats,
    /// Indexed by class label; empty when per-class statistics were not asked.
    pub per_class: Vec<FeatureStats>,
}

impl Features {
    fn new(d: usize, capture: Capture, max_items: Option<usize>, classes: usize) -> Self {
        let stats = |max| FeatureStats::new(d, capture.all, capture.mean_cov, max);
        Features {
            global: stats(max_items),
            per_class: (0..classes).map(|_| stats(None)).collect(),
        }
    }

    fn append(&mut self, batch: &LabeledImages, x: &[f32], device: &Device) -> Result<()> {
        let d = self.global.num_features;
        let room = self
            .global
            .max_items
            .map_or(batch.len(), |m| m.saturating_sub(self.global.num_items))
            .min(batch.len());
        self.global.append(&x[..room * d], device)?;
        if self.per_class.is_empty() {
            return Ok(());
        }
        let labels = batch
            .labels
            .as_ref()
            .ok_or_else(|| MetricError::Source("per-class statistics need class labels".into()))?;
        let classes = self.per_class.len();
        if let Some(&bad) = labels[..room].iter().find(|&&l| l >= classes) {
            return Err(MetricError::Source(format!(
                "label {bad} is out of range for {classes} classes"
            )));
        }
        for c in 0..classes {
            let rows: Vec<f32> = labels[..room]
                .iter()
                .enumerate()
                .filter(|(_, &l)| l == c)
                .flat_map(|(i, _)| x[i * d..(i + 1) * d].iter().copied())
                .collect();
            if !rows.is_empty() {
                self.per_class[c].append(&rows, device)?;
            }
        }
        Ok(())
    }
}

fn features_of(batch: &LabeledImages, extractor: &dyn FeatureExtractor) -> Result<Vec<f32>> {
    batch.check()?;
    let mut shape = batch.shape;
    let mut pixels = std::borrow::Cow::Borrowed(&batch.pixels[..]);
    // Grayscale is repeated to 3 channels before the detector (metric_utils).
    if shape[1] == 1 {
        let hw = shape[2] * shape[3];
        let mut rgb = Vec::with_capacity(batch.pixels.len() * 3);
        for img in batch.pixels.chunks_exact(hw) {
            for _ in 0..3 {
                rgb.extend_from_slice(img);
            }
        }
        shape[1] = 3;
        pixels = std::borrow::Cow::Owned(rgb);
    }
    let x = extractor.extract(&ImageBatch::new(&pixels, shape)?)?;
    if x.len() != batch.len() * extractor.num_features() {
        return Err(MetricError::Invalid(format!(
            "the feature network returned {} values for {} images",
            x.len(),
            batch.len()
        )));
    }
    Ok(x)
}

/// Features of the dataset's images (up to `max_items`), with per-class
/// statistics when `per_class`.
#[allow(clippy::too_many_arguments)]
pub fn dataset_features(
    real: &dyn RealImages,
    extractor: &dyn FeatureExtractor,
    capture: Capture,
    xflip: bool,
    max_items: Option<usize>,
    per_class: bool,
    progress: &mut dyn Progress,
    device: &Device,
) -> Result<Features> {
    let classes = if per_class { real.num_classes() } else { 0 };
    if per_class && classes == 0 {
        return Err(MetricError::Source(format!(
            "dataset {} has no class labels: per-class metrics need a labeled dataset",
            real.name()
        )));
    }
    let total = real.len() * if xflip { 2 } else { 1 };
    let total = max_items.map_or(total, |m| m.min(total));
    let mut out = Features::new(extractor.num_features(), capture, Some(total), classes);
    progress.start("dataset features", Some(total));
    real.for_each_batch(xflip, Some(total), BATCH, &mut |batch| {
        if out.global.is_full() {
            return Ok(());
        }
        let x = features_of(&batch, extractor)?;
        out.append(&batch, &x, device)?;
        progress.update(out.global.num_items);
        Ok(())
    })?;
    progress.finish();
    if out.global.num_items == 0 {
        return Err(MetricError::Source(format!(
            "dataset {} gave no images",
            real.name()
        )));
    }
    Ok(out)
}

/// Features of `num` generated images, of class `class` when given.
pub fn generator_features(
    gen: &mut dyn GeneratedImages,
    extractor: &dyn FeatureExtractor,
    capture: Capture,
    num: usize,
    class: Option<usize>,
    progress: &mut dyn Progress,
    device: &Device,
) -> Result<FeatureStats> {
    let mut stats = Features::new(extractor.num_features(), capture, Some(num), 0);
    let tag = match class {
        Some(c) => format!("generator class {c}"),
        None => "generator features".into(),
    };
    progress.start(&tag, Some(num));
    while !stats.global.is_full() {
        let want = (num - stats.global.num_items).min(BATCH);
        let batch = gen.generate(want, class)?;
        if batch.is_empty() {
            return Err(MetricError::Source(
                "the generator returned no images".into(),
            ));
        }
        let x = features_of(&batch, extractor)?;
        stats.append(&batch, &x, device)?;
        progress.update(stats.global.num_items);
    }
    progress.finish();
    Ok(stats.global)
}
