//! Real minibatches for one data-parallel rank: a background thread draws the
//! indices of the whole batch from the official sampler (the same on every
//! rank) and decodes this rank's share, a few batches ahead of training.

use crate::dataset::{prefetch::make_batch, Batch, ImageFolderDataset, InfiniteSampler};
use anyhow::{anyhow, Result};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct RealBatches {
    rx: Option<Receiver<Result<Batch, String>>>,
    worker: Option<JoinHandle<()>>,
}

impl RealBatches {
    /// `batch` images per step over all ranks, `rank`'s share of them, after
    /// skipping `skip_steps` steps (a resumed run continues the same order).
    pub fn new(
        dataset: Arc<ImageFolderDataset>,
        seed: u32,
        batch: usize,
        rank: usize,
        world: usize,
        skip_steps: u64,
        prefetch: usize,
    ) -> Self {
        let (tx, rx) = sync_channel(prefetch.max(1));
        let share = batch / world;
        let worker = std::thread::spawn(move || {
            let mut sampler = InfiniteSampler::new(dataset.len(), 0, 1, true, seed, 0.5);
            for _ in 0..skip_steps * batch as u64 {
                sampler.next();
            }
            loop {
                let all: Vec<usize> = sampler.by_ref().take(batch).collect();
                let mine = all[rank * share..(rank + 1) * share].to_vec();
                let b = make_batch(&dataset, mine).map_err(|e| e.to_string());
                let failed = b.is_err();
                if tx.send(b).is_err() || failed {
                    return;
                }
            }
        });
        RealBatches {
            rx: Some(rx),
            worker: Some(worker),
        }
    }

    pub fn next_batch(&mut self) -> Result<Batch> {
        self.rx
            .as_ref()
            .expect("receiver lives until drop")
            .recv()
            .map_err(|_| anyhow!("the data loader stopped"))?
            .map_err(|e| anyhow!("{e}"))
    }
}

impl Drop for RealBatches {
    fn drop(&mut self) {
        drop(self.rx.take());
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
