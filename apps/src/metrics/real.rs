//! The real images of a dataset archive as a metric source: every image of the
//! archive in order (the official metrics reset `max_size`, so never a
//! `--subset`), mirrored copies after the originals when asked, and the class
//! labels that per-class metrics split by.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tcgan_nn::metrics::cache::content_hash;
use tcgan_nn::metrics::{LabeledImages, MetricError, RealImages};

use crate::dataset::{DatasetOptions, ImageFolderDataset};

pub struct DatasetImages {
    dataset: ImageFolderDataset,
    path: PathBuf,
    hash: OnceLock<String>,
}

fn source_err(e: impl std::fmt::Display) -> MetricError {
    MetricError::Source(e.to_string())
}

impl DatasetImages {
    /// Opens `path` (a zip or folder); `resolution` must match when given, and
    /// labels are read when `use_labels`.
    pub fn open(
        path: &Path,
        resolution: Option<usize>,
        use_labels: bool,
    ) -> crate::dataset::Result<Self> {
        let dataset = ImageFolderDataset::open(
            path,
            &DatasetOptions {
                resolution,
                use_labels,
                ..Default::default()
            },
        )?;
        Ok(DatasetImages {
            dataset,
            path: path.to_path_buf(),
            hash: OnceLock::new(),
        })
    }

    pub fn dataset(&self) -> &ImageFolderDataset {
        &self.dataset
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the labels are class indices (what per-class metrics need).
    pub fn has_classes(&self) -> bool {
        !self.dataset.is_empty() && self.dataset.get_class(0).is_some()
    }

    /// The label vector of every image, in order (what generated images are
    /// conditioned on); empty vectors for an unlabeled set.
    pub fn labels(&self) -> Vec<Vec<f32>> {
        (0..self.dataset.len())
            .map(|i| self.dataset.get_label(i))
            .collect()
    }
}

/// Mirrors CHW pixels left-right.
fn flip_chw(chw: &mut [u8], width: usize) {
    for row in chw.chunks_exact_mut(width) {
        row.reverse();
    }
}

impl RealImages for DatasetImages {
    fn content_hash(&self) -> tcgan_nn::metrics::Result<String> {
        if let Some(h) = self.hash.get() {
            return Ok(h.clone());
        }
        let h = content_hash(&self.path)?;
        Ok(self.hash.get_or_init(|| h).clone())
    }

    fn name(&self) -> String {
        self.dataset.name().to_string()
    }

    fn len(&self) -> usize {
        self.dataset.len()
    }

    fn num_classes(&self) -> usize {
        if self.has_classes() {
            self.dataset.label_dim()
        } else {
            0
        }
    }

    fn for_each_batch(
        &self,
        xflip: bool,
        max_items: Option<usize>,
        batch: usize,
        f: &mut dyn FnMut(LabeledImages) -> tcgan_nn::metrics::Result<()>,
    ) -> tcgan_nn::metrics::Result<()> {
        let n = self.dataset.len();
        let total = if xflip { 2 * n } else { n };
        let total = max_items.map_or(total, |m| m.min(total));
        let (c, r) = (self.dataset.num_channels(), self.dataset.resolution());
        let classes = self.has_classes();
        let mut start = 0;
        while start < total {
            let end = (start + batch.max(1)).min(total);
            let images = (start..end)
                .into_par_iter()
                .map(|i| {
                    let mut img = self.dataset.get_image(i % n).map_err(source_err)?;
                    if i >= n {
                        flip_chw(&mut img, r);
                    }
                    Ok(img)
                })
                .collect::<tcgan_nn::metrics::Result<Vec<_>>>()?;
            let labels = classes.then(|| {
                (start..end)
                    .map(|i| self.dataset.get_class(i % n).unwrap_or(0) as usize)
                    .collect()
            });
            f(LabeledImages {
                pixels: images.concat(),
                shape: [end - start, c, r, r],
                labels,
            })?;
            start = end;
        }
        Ok(())
    }
}
