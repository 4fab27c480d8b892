//! Where images come from: a dataset of real images (identified by its
//! content), a generator, and the network that turns images into features.
//! `calc_metrics` wires a dataset reader and a generator snapshot to these.

use super::error::{MetricError, Result};
use crate::inception::{ImageBatch, InceptionV3, FEATURES};

/// uint8 NCHW images, with a class label per image when the source has them.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledImages {
    pub pixels: Vec<u8>,
    pub shape: [usize; 4],
    pub labels: Option<Vec<usize>>,
}

impl LabeledImages {
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    pub fn check(&self) -> Result<()> {
        let n: usize = self.shape.iter().product();
        if n != self.pixels.len() {
            return Err(MetricError::Source(format!(
                "{} pixels do not fill shape {:?}",
                self.pixels.len(),
                self.shape
            )));
        }
        if let Some(l) = &self.labels {
            if l.len() != self.shape[0] {
                return Err(MetricError::Source(format!(
                    "{} labels for {} images",
                    l.len(),
                    self.shape[0]
                )));
            }
        }
        Ok(())
    }
}

/// Turns uint8 images into feature vectors.
pub trait FeatureExtractor {
    fn num_features(&self) -> usize;
    /// Names the network in cache keys.
    fn id(&self) -> String;
    /// `[n, num_features]` row-major.
    fn extract(&self, images: &ImageBatch) -> Result<Vec<f32>>;
}

impl FeatureExtractor for InceptionV3 {
    fn num_features(&self) -> usize {
        FEATURES
    }
    fn id(&self) -> String {
        format!("inception-default_1-{}", crate::inception::DEFAULT_1_SHA1)
    }
    fn extract(&self, images: &ImageBatch) -> Result<Vec<f32>> {
        Ok(self.features(images)?.to_vec_f32()?)
    }
}

/// The real images of a dataset.
pub trait RealImages {
    /// A hash of the dataset's content (not its path): the statistics cache key.
    fn content_hash(&self) -> Result<String>;
    /// A short name for cache file names (e.g. the archive's stem).
    fn name(&self) -> String;
    /// Images in the dataset (without mirrored copies).
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of classes (0 when unlabeled).
    fn num_classes(&self) -> usize;
    /// Calls `f` with consecutive batches of at most `batch` images in dataset
    /// order; with `xflip` the dataset is doubled with mirrored copies after
    /// the originals, as the official dataset class does. Stops after
    /// `max_items` images when given.
    fn for_each_batch(
        &self,
        xflip: bool,
        max_items: Option<usize>,
        batch: usize,
        f: &mut dyn FnMut(LabeledImages) -> Result<()>,
    ) -> Result<()>;
}

/// Images from a generator.
pub trait GeneratedImages {
    /// Number of classes of a conditional generator (0 when unconditional).
    fn num_classes(&self) -> usize;
    /// `n` images; of class `class` when given, else with labels drawn as the
    /// official code draws them (those of random dataset images).
    fn generate(&mut self, n: usize, class: Option<usize>) -> Result<LabeledImages>;
}
