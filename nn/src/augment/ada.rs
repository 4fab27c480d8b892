//! Adaptive discriminator augmentation: the controller that moves the pipe's
//! `p` every few minibatches by the sign of `r_t - target`, where `r_t` is the
//! mean sign of D's unconditional logits on real images (the overfitting
//! heuristic). Choosing the mode (`noaug`, `ada`, `fixed`) is the training
//! options' job.

use crate::loss::Stats;
use crate::Result;
use tcgan_core::Tensor;

/// The statistic `r_t` is taken from: the unconditional real logits' signs
/// as the loss reports them (the conditional column is not used).
pub const SIGNS_REAL: &str = "Loss/signs/real";

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

    /// The statistic gathered since the last adjustment: `(sum, count)` of the
    /// signs. Snapshots store it, and data-parallel ranks add theirs up.
    pub fn pending(&self) -> (f64, f64) {
        (self.sum, self.count)
    }

    /// Replaces the statistic gathered since the last adjustment (a resumed
    /// run, or the sum over data-parallel ranks).
    pub fn set_pending(&mut self, sum: f64, count: f64) {
        self.sum = sum;
        self.count = count;
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
