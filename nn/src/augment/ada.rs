//! Adaptive discriminator augmentation: the augmentation modes of `train.py`
//! (`noaug`, `ada`, `fixed`) and the controller that moves `p` every few
//! minibatches by the sign of `r_t - target`, where `r_t` is the mean sign of
//! D's unconditional logits on real images (the overfitting heuristic).

use super::kwargs::AugmentKwargs;
use crate::loss::Stats;
use crate::{Error, Result};
use tcgan_core::Tensor;

/// The statistic `r_t` is taken from: the unconditional real logits' signs
/// as the loss reports them (the conditional column is not used).
pub const SIGNS_REAL: &str = "Loss/signs/real";

/// How D's inputs are augmented during training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AugmentMode {
    /// No augmentation pipe at all.
    NoAug,
    /// `p` starts at 0 and follows the ADA heuristic towards `target`.
    Ada { target: f64 },
    /// `p` stays at the given value.
    Fixed { p: f64 },
}

impl AugmentMode {
    /// The `train.py` options `--aug` (default `ada`), `--p`, `--target`
    /// (default 0.6) and `--augpipe` (default `bgc`), with its rules: `--p`
    /// only with `fixed` (and required there), `--target` only with `ada`,
    /// both in [0, 1], no `--augpipe` with `noaug`. Returns the mode and the
    /// pipe configuration (`None` for `noaug`).
    pub fn from_train_options(
        aug: Option<&str>,
        p: Option<f64>,
        target: Option<f64>,
        augpipe: Option<&str>,
    ) -> Result<(AugmentMode, Option<AugmentKwargs>)> {
        let err = |msg: String| Err(Error::config("augmentation", msg));
        let aug = aug.unwrap_or("ada");
        for (name, v) in [("--p", p), ("--target", target)] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    return err(format!("{name} must be between 0 and 1, got {v}"));
                }
            }
        }
        if p.is_some() && aug != "fixed" {
            return err("--p can only be specified with --aug=fixed".into());
        }
        if target.is_some() && aug != "ada" {
            return err("--target can only be specified with --aug=ada".into());
        }
        let mode = match aug {
            "ada" => AugmentMode::Ada {
                target: target.unwrap_or(0.6),
            },
            "noaug" => {
                if augpipe.is_some() {
                    return err("--augpipe cannot be specified with --aug=noaug".into());
                }
                return Ok((AugmentMode::NoAug, None));
            }
            "fixed" => match p {
                Some(p) => AugmentMode::Fixed { p },
                None => return err("--aug=fixed requires specifying --p".into()),
            },
            other => return err(format!("--aug={other} not supported (noaug, ada, fixed)")),
        };
        Ok((mode, Some(AugmentKwargs::preset(augpipe.unwrap_or("bgc"))?)))
    }

    /// The initial `p` of the pipe.
    pub fn initial_p(&self) -> f64 {
        match *self {
            AugmentMode::Fixed { p } => p,
            _ => 0.0,
        }
    }

    /// Whether the training loop builds a pipe: as official, not for
    /// `noaug` nor for `fixed` with `p = 0`.
    pub fn uses_pipe(&self) -> bool {
        match *self {
            AugmentMode::NoAug => false,
            AugmentMode::Ada { .. } => true,
            AugmentMode::Fixed { p } => p > 0.0,
        }
    }
}

/// One ADA step: `max(p + sign(r_t - target) * batch * interval / (ada_kimg *
/// 1000), 0)`, with `sign(0) = 0` (numpy's). There is no upper clamp, as
/// official. A NaN `r_t` (no statistic) leaves `p` unchanged.
pub fn ada_adjust(
    p: f64,
    r_t: f64,
    target: f64,
    batch: usize,
    interval: usize,
    ada_kimg: f64,
) -> f64 {
    let d = r_t - target;
    let sign = if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else if d == 0.0 {
        0.0
    } else {
        return p;
    };
    (p + sign * (batch * interval) as f64 / (ada_kimg * 1000.0)).max(0.0)
}

/// Accumulates `r_t` between adjustments and applies `ada_adjust` every
/// `interval` minibatches, like the official training loop's collector.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaController {
    pub target: f64,
    /// Adjust every this many minibatches (official 4).
    pub interval: usize,
    /// Kimg for `p` to move by one unit (official 500).
    pub ada_kimg: f64,
    sum: f64,
    count: f64,
    /// The `r_t` of the last adjustment; reused when an interval collected
    /// no statistic (the official collector keeps its previous average).
    pub last_r_t: Option<f64>,
}

impl AdaController {
    pub fn new(target: f64) -> Self {
        AdaController {
            target,
            interval: 4,
            ada_kimg: 500.0,
            sum: 0.0,
            count: 0.0,
            last_r_t: None,
        }
    }

    /// Adds the signs `[N]` of the real unconditional logits.
    pub fn observe_signs(&mut self, signs: &Tensor) -> Result<()> {
        let v = signs.to_vec_f64()?;
        self.sum += v.iter().sum::<f64>();
        self.count += v.len() as f64;
        Ok(())
    }

    /// Adds every `Loss/signs/real` entry of a loss phase's statistics (both
    /// Dmain and Dreg report one, as official).
    pub fn observe_stats(&mut self, stats: &Stats) -> Result<()> {
        for (name, t) in stats {
            if name == SIGNS_REAL {
                self.observe_signs(t)?;
            }
        }
        Ok(())
    }

    /// Call once per minibatch after its phases, with the number of
    /// minibatches done so far (`batch_idx` after the increment). Every
    /// `interval` minibatches it updates `p` and returns the `r_t` used.
    pub fn update(&mut self, batch_idx: u64, batch_size: usize, p: &mut f64) -> Option<f64> {
        if self.interval == 0 || batch_idx % self.interval as u64 != 0 {
            return None;
        }
        if self.count > 0.0 {
            self.last_r_t = Some(self.sum / self.count);
        }
        self.sum = 0.0;
        self.count = 0.0;
        let r_t = self.last_r_t?;
        *p = ada_adjust(
            *p,
            r_t,
            self.target,
            batch_size,
            self.interval,
            self.ada_kimg,
        );
        Some(r_t)
    }
}
