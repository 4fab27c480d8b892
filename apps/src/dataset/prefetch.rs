//! Background loading of training batches: a thread draws indices from the sampler, decodes the
//! images in parallel and keeps a few batches ready, as the official `DataLoader` workers do.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use rayon::prelude::*;

use super::error::{DatasetError, Result};
use super::loader::ImageFolderDataset;
use super::sampler::InfiniteSampler;

/// One batch: images NCHW as float in [-1, 1] (`x / 127.5 - 1`), labels `[N, c_dim]`.
#[derive(Debug, Clone)]
pub struct Batch {
    pub images: Vec<f32>,
    pub labels: Vec<f32>,
    /// Item indices drawn from the sampler.
    pub indices: Vec<usize>,
    pub batch_size: usize,
    pub channels: usize,
    pub resolution: usize,
    pub label_dim: usize,
}

/// A batch producer running ahead of the consumer by up to `prefetch` batches.
pub struct BatchLoader {
    rx: Option<Receiver<Result<Batch>>>,
    worker: Option<JoinHandle<()>>,
}

impl BatchLoader {
    pub fn new(
        dataset: Arc<ImageFolderDataset>,
        mut sampler: InfiniteSampler,
        batch_size: usize,
        prefetch: usize,
    ) -> Self {
        assert!(batch_size > 0);
        let (tx, rx) = sync_channel(prefetch.max(1));
        let worker = std::thread::spawn(move || loop {
            let indices: Vec<usize> = sampler.by_ref().take(batch_size).collect();
            let batch = make_batch(&dataset, indices);
            let failed = batch.is_err();
            if tx.send(batch).is_err() || failed {
                return;
            }
        });
        BatchLoader {
            rx: Some(rx),
            worker: Some(worker),
        }
    }

    /// The next batch; an image that cannot be read ends the stream with its error.
    pub fn next_batch(&mut self) -> Result<Batch> {
        self.rx
            .as_ref()
            .expect("receiver lives until drop")
            .recv()
            .map_err(|_| {
                DatasetError::Options("the batch loader stopped after an earlier error".into())
            })?
    }
}

impl Drop for BatchLoader {
    fn drop(&mut self) {
        drop(self.rx.take()); // the worker's next send fails and it returns
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Decodes `indices` into a batch (used by the loader thread, public for synchronous use).
pub fn make_batch(dataset: &ImageFolderDataset, indices: Vec<usize>) -> Result<Batch> {
    let images: Vec<Vec<u8>> = indices
        .par_iter()
        .map(|&i| dataset.get_image(i))
        .collect::<Result<_>>()?;
    let mut flat = Vec::with_capacity(images.iter().map(Vec::len).sum());
    for img in &images {
        flat.extend(img.iter().map(|&v| v as f32 / 127.5 - 1.0));
    }
    let mut labels = Vec::with_capacity(indices.len() * dataset.label_dim());
    for &i in &indices {
        labels.extend(dataset.get_label(i));
    }
    Ok(Batch {
        images: flat,
        labels,
        batch_size: indices.len(),
        indices,
        channels: dataset.num_channels(),
        resolution: dataset.resolution(),
        label_dim: dataset.label_dim(),
    })
}
