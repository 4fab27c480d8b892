//! The schedules of training, in closed form from the image counter so that they
//! survive a resume: the transition factor and the G_ema decay.

use super::options::Mode;

/// The class-signal factor λ after `nimg` real images have been shown.
///
/// As the official loop it rises linearly, by `1 / (t_end - t_start)` per kimg,
/// from the first step at or after `t_start_kimg` until it reaches 1 at
/// `t_end_kimg`. The official loop accumulates it step by step and restarts its
/// counter at 0 on resume (freezing the schedule); here it is a function of the
/// image counter, which snapshots store. It rises from `t_start_kimg` exactly,
/// where the official increment starts one minibatch earlier.
pub fn transition(mode: Mode, t_start_kimg: f64, t_end_kimg: f64, nimg: u64) -> f64 {
    match mode {
        Mode::Uncond => 0.0,
        Mode::Cond => 1.0,
        Mode::Transitional => {
            let kimg = nimg as f64 / 1000.0;
            if kimg < t_start_kimg {
                0.0
            } else if t_end_kimg <= t_start_kimg {
                1.0
            } else {
                ((kimg - t_start_kimg) / (t_end_kimg - t_start_kimg)).min(1.0)
            }
        }
    }
}

/// The G_ema decay per step: `0.5 ** (batch / ema_nimg)`, with the official
/// ramp-up that shortens the half-life early in training.
pub fn ema_beta(ema_kimg: f64, ema_rampup: Option<f64>, batch_size: usize, cur_nimg: u64) -> f64 {
    let mut ema_nimg = ema_kimg * 1000.0;
    if let Some(r) = ema_rampup {
        ema_nimg = ema_nimg.min(cur_nimg as f64 * r);
    }
    0.5f64.powf(batch_size as f64 / ema_nimg.max(1e-8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_ramps_linearly_between_start_and_end() {
        let t = |nimg| transition(Mode::Transitional, 2.0, 6.0, nimg);
        assert_eq!(t(0), 0.0);
        assert_eq!(t(1999), 0.0);
        assert_eq!(t(2000), 0.0);
        assert!((t(3000) - 0.25).abs() < 1e-12);
        assert!((t(4000) - 0.5).abs() < 1e-12);
        assert_eq!(t(6000), 1.0);
        assert_eq!(t(1_000_000), 1.0);
        // A zero-length ramp is a step at t_start.
        assert_eq!(transition(Mode::Transitional, 3.0, 3.0, 2999), 0.0);
        assert_eq!(transition(Mode::Transitional, 3.0, 3.0, 3000), 1.0);
        assert_eq!(transition(Mode::Cond, 2.0, 6.0, 0), 1.0);
        assert_eq!(transition(Mode::Uncond, 2.0, 6.0, 10_000), 0.0);
    }

    #[test]
    fn transition_matches_the_official_accumulation_away_from_the_start_step() {
        // The official loop adds m * batch / 1000 after every step from the one
        // where cur_nimg // 1000 >= t_start on: compare after that first step.
        let (t0, t1, batch) = (1.0, 3.0, 16u64);
        let m = 1.0 / (t1 - t0 + 1e-7);
        let (mut lambda, mut old, mut nimg) = (0.0f64, 0u64, 0u64);
        while nimg < 4000 {
            nimg += batch;
            if nimg / 1000 >= t0 as u64 {
                lambda = (lambda + m * (nimg - old) as f64 / 1000.0).min(1.0);
            }
            old = nimg;
            let ours = transition(Mode::Transitional, t0, t1, nimg);
            // Ours starts at t_start exactly; the official one batch earlier.
            assert!(
                (ours - lambda).abs() <= batch as f64 / 1000.0 / (t1 - t0) + 1e-6,
                "nimg {nimg}: {ours} vs {lambda}"
            );
        }
        assert_eq!(transition(Mode::Transitional, t0, t1, nimg), 1.0);
    }

    #[test]
    fn ema_beta_has_the_official_half_life() {
        // Without ramp-up: after ema_kimg of images the old weights count half.
        let beta = ema_beta(10.0, None, 32, 1_000_000);
        let steps = 10_000.0 / 32.0;
        assert!((beta.powf(steps) - 0.5).abs() < 1e-12);
        // Ramp-up shortens the half-life early on.
        assert!(ema_beta(10.0, Some(0.05), 32, 1000) < beta);
    }
}
