//! What `calc_metrics` and `generate` take from a network snapshot: the generator
//! `G_ema` and, for snapshots written by `train`, the training set options
//! (`training_options.training_set_kwargs`) that name the dataset and its mirroring.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tcgan_core::{DType, Device};
use tcgan_nn::checkpoint::Checkpoint;
use tcgan_nn::networks::Generator;

/// The dataset options a run trained with (the fields metrics use).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    /// As given to `train --data` (relative paths are relative to where `train` ran).
    pub path: PathBuf,
    /// `--mirror`.
    pub xflip: bool,
    pub use_labels: bool,
}

pub struct Snapshot {
    pub path: PathBuf,
    pub g_ema: Generator,
    /// `None` for snapshots without training options (a converted official `.pkl`).
    pub training_set: Option<TrainingSet>,
}

/// Reads `training_options.training_set_kwargs` from a snapshot header.
pub fn training_set(ck: &Checkpoint) -> Result<Option<TrainingSet>> {
    let path = ck.path.display();
    let Some(text) = ck.metadata("training_options") else {
        return Ok(None);
    };
    let options: Value = serde_json::from_str(text)
        .with_context(|| format!("{path}: header entry training_options is not valid JSON"))?;
    let Some(kw) = options.get("training_set_kwargs").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let data = kw
        .get("path")
        .and_then(Value::as_str)
        .with_context(|| format!("{path}: training_set_kwargs has no \"path\" string"))?;
    let flag = |key: &str| -> Result<bool> {
        match kw.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => bail!("{path}: training_set_kwargs.{key} is {other}, not a boolean"),
        }
    };
    Ok(Some(TrainingSet {
        path: PathBuf::from(data),
        xflip: flag("xflip")?,
        use_labels: flag("use_labels")?,
    }))
}

impl Snapshot {
    /// Reads the snapshot and rebuilds `G_ema` on `device` in float32.
    pub fn load(path: &Path, device: &Device) -> Result<Snapshot> {
        if !path.is_file() {
            bail!(
                "--network {}: no such file (give a network-snapshot-*.safetensors)",
                path.display()
            );
        }
        let ck = Checkpoint::read(path)?;
        let g_ema = ck
            .generator("G_ema", device, DType::F32)
            .with_context(|| format!("{}: cannot rebuild G_ema", path.display()))?;
        Ok(Snapshot {
            path: path.to_path_buf(),
            g_ema,
            training_set: training_set(&ck)?,
        })
    }
}
