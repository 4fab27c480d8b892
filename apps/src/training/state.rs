//! Snapshots: G, D, G_ema under their official keys, the optimizer moments, the
//! augmentation and loss state and the counters, in one safetensors file, so
//! that `--resume` continues a run exactly where it stopped.

use super::config::TrainingOptions;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tcgan_core::{Device, Tensor};
use tcgan_nn::checkpoint::{Checkpoint, CheckpointWriter};
use tcgan_nn::module::{Module, TensorKind};
use tcgan_nn::optim::{Adam, AdamState};

/// The counters and small state of a run (the header entry `training_state`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainingState {
    /// Real images shown to D so far, across resumes.
    pub cur_nimg: u64,
    pub cur_tick: u64,
    /// Minibatches done so far (drives the lazy-regularization phases and
    /// every random stream).
    pub batch_idx: u64,
    pub augment_p: f64,
    /// ADA statistic gathered since its last adjustment: sum and count of
    /// signs, and the last r_t.
    pub ada_sum: f64,
    pub ada_count: f64,
    pub ada_last_r_t: Option<f64>,
    pub opt_g_step: u64,
    pub opt_d_step: u64,
}

/// `network-snapshot-<kimg>.safetensors` with the official whole kimg
/// (`nimg // 1000`). When the previous tick of this process ended in the same
/// whole kimg (a fractional `--tick`, or a short last tick), the name adds the
/// remaining images, `-000001.500`, so that no snapshot overwrites another.
pub fn snapshot_name(nimg: u64, prev_tick_nimg: Option<u64>, stem: &str, ext: &str) -> String {
    let (k, rest) = (nimg / 1000, nimg % 1000);
    let clashes = prev_tick_nimg.is_some_and(|p| p / 1000 == k);
    if rest == 0 || !clashes {
        format!("{stem}{k:06}.{ext}")
    } else {
        format!("{stem}{k:06}.{rest:03}.{ext}")
    }
}

fn add_optimizer(
    w: &mut CheckpointWriter,
    name: &str,
    module: &dyn Module,
    opt: &Adam,
) -> Result<()> {
    let keys: Vec<String> = module
        .named_tensors()
        .into_iter()
        .filter(|t| t.kind == TensorKind::Parameter)
        .map(|t| t.key)
        .collect();
    if keys.len() != opt.state().len() {
        bail!(
            "optimizer {name} holds {} parameters, the network {}",
            opt.state().len(),
            keys.len()
        );
    }
    for (key, s) in keys.iter().zip(opt.state()) {
        if let Some(s) = s {
            w.add_tensor(&format!("{name}.exp_avg.{key}"), &s.exp_avg)?;
            w.add_tensor(&format!("{name}.exp_avg_sq.{key}"), &s.exp_avg_sq)?;
        }
    }
    Ok(())
}

fn load_optimizer(
    ck: &Checkpoint,
    name: &str,
    module: &dyn Module,
    opt: &mut Adam,
    step: u64,
    device: &Device,
) -> Result<()> {
    let mut state = Vec::new();
    for t in module
        .named_tensors()
        .into_iter()
        .filter(|t| t.kind == TensorKind::Parameter)
    {
        let m = format!("{name}.exp_avg.{}", t.key);
        let v = format!("{name}.exp_avg_sq.{}", t.key);
        state.push(match (ck.tensor(&m, device), ck.tensor(&v, device)) {
            (Ok(exp_avg), Ok(exp_avg_sq)) => Some(AdamState {
                exp_avg,
                exp_avg_sq,
            }),
            _ if step == 0 => None,
            _ => bail!(
                "{}: optimizer moments of {:?} are missing",
                ck.path.display(),
                t.key
            ),
        });
    }
    opt.set_state(step, state)
        .with_context(|| format!("{}: optimizer {name}", ck.path.display()))?;
    Ok(())
}

/// Everything a snapshot holds, borrowed from the running loop.
pub struct SnapshotRef<'a> {
    pub options: &'a TrainingOptions,
    pub state: &'a TrainingState,
    pub g: &'a tcgan_nn::networks::Generator,
    pub d: &'a tcgan_nn::networks::Discriminator,
    pub g_ema: &'a tcgan_nn::networks::Generator,
    pub opt_g: &'a Adam,
    pub opt_d: &'a Adam,
    pub pl_mean: &'a Tensor,
}

/// Writes a snapshot atomically.
pub fn save(path: &Path, s: &SnapshotRef) -> Result<()> {
    let mut w = CheckpointWriter::new();
    w.add_network("G", s.g)?;
    w.add_network("D", s.d)?;
    w.add_network("G_ema", s.g_ema)?;
    add_optimizer(&mut w, "opt_G", s.g, s.opt_g)?;
    add_optimizer(&mut w, "opt_D", s.d, s.opt_d)?;
    w.add_tensor("loss.pl_mean", s.pl_mean)?;
    w.set_metadata("training_options", serde_json::to_string(s.options)?)?;
    w.set_metadata("training_state", serde_json::to_string(s.state)?)?;
    w.write(path)
        .with_context(|| format!("writing the snapshot {}", path.display()))?;
    Ok(())
}

/// What a resumed run takes from a snapshot.
pub struct Resumed {
    pub state: Option<TrainingState>,
    pub pl_mean: Option<Tensor>,
}

/// Loads the networks of `path` into the run's G, D and G_ema (shapes and keys
/// must match) and, when the snapshot has them, the optimizer moments and the
/// training state. A snapshot with networks only (e.g. converted from an
/// official pickle) starts the counters at 0, as the official `--resume`.
pub fn load(
    path: &Path,
    nets: &super::nets::Nets,
    opt_g: &mut Adam,
    opt_d: &mut Adam,
    device: &Device,
) -> Result<Resumed> {
    let ck = Checkpoint::read(path)
        .with_context(|| format!("--resume: cannot read {}", path.display()))?;
    for (prefix, m) in [
        ("G", &nets.g as &dyn Module),
        ("D", &nets.d),
        ("G_ema", &nets.g_ema),
    ] {
        ck.load_into(prefix, m, device).with_context(|| {
            format!(
                "--resume: {} does not fit this run's {prefix} (another architecture or data set?)",
                path.display()
            )
        })?;
    }
    let Some(text) = ck.metadata("training_state") else {
        return Ok(Resumed {
            state: None,
            pl_mean: None,
        });
    };
    let state: TrainingState = serde_json::from_str(text).with_context(|| {
        format!(
            "--resume: {}: the training state is not valid",
            path.display()
        )
    })?;
    load_optimizer(&ck, "opt_G", &nets.g, opt_g, state.opt_g_step, device)?;
    load_optimizer(&ck, "opt_D", &nets.d, opt_d, state.opt_d_step, device)?;
    let pl_mean = ck.tensor("loss.pl_mean", device).ok();
    Ok(Resumed {
        state: Some(state),
        pl_mean,
    })
}

/// The training options stored in a snapshot, if any.
pub fn stored_options(path: &Path) -> Result<Option<TrainingOptions>> {
    let ck = Checkpoint::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    ck.metadata("training_options")
        .map(|t| {
            serde_json::from_str(t)
                .with_context(|| format!("{}: invalid training options", path.display()))
        })
        .transpose()
}

/// Parameters keyed by official name, for comparisons in tests.
pub fn state_map(m: &dyn Module) -> HashMap<String, Tensor> {
    m.named_tensors()
        .into_iter()
        .map(|t| (t.key, t.tensor))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_official_unless_two_ticks_share_a_kimg() {
        let name = |n, prev| snapshot_name(n, prev, "network-snapshot-", "safetensors");
        assert_eq!(
            name(12_000, Some(8_000)),
            "network-snapshot-000012.safetensors"
        );
        // The official loop truncates: 2,032 images shown -> 000002.
        assert_eq!(
            name(2_032, Some(1_008)),
            "network-snapshot-000002.safetensors"
        );
        assert_eq!(name(16, None), "network-snapshot-000000.safetensors");
        // Half-kimg ticks would overwrite each other under the official name.
        assert_eq!(
            snapshot_name(1_504, Some(1_008), "fakes", "png"),
            "fakes000001.504.png"
        );
        assert_eq!(
            name(1_000, Some(496)),
            "network-snapshot-000001.safetensors"
        );
    }
}
