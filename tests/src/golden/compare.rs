//! The one tolerance rule: `max|a-g| <= max_abs` and `|a-g|_2 / |g|_2 <= rel_l2`.

use super::GoldenTensor;
use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Tolerance {
    pub max_abs: f64,
    /// `None` when the golden tensor is all zeros: max_abs alone decides.
    pub rel_l2: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Comparison {
    pub name: String,
    pub max_abs: f64,
    pub rel_l2: Option<f64>,
    pub tol: Tolerance,
    /// Where the largest difference is, and both values there.
    pub worst_index: usize,
    pub ours: f64,
    pub golden: f64,
    pub passed: bool,
}

impl Comparison {
    /// The larger of max_abs / tol.max_abs and rel_l2 / tol.rel_l2 (> 1 fails).
    pub fn budget_used(&self) -> f64 {
        let a = self.max_abs / self.tol.max_abs.max(f64::MIN_POSITIVE);
        let r = match (self.rel_l2, self.tol.rel_l2) {
            (Some(r), Some(t)) => r / t.max(f64::MIN_POSITIVE),
            _ => 0.0,
        };
        if self.max_abs.is_nan() {
            f64::INFINITY
        } else {
            a.max(r)
        }
    }
}

pub fn compare(
    name: &str,
    ours: &GoldenTensor,
    golden: &GoldenTensor,
    tol: &Tolerance,
) -> Result<Comparison> {
    if ours.shape != golden.shape {
        bail!(
            "{name}: shape {:?} but the golden tensor has {:?}",
            ours.shape,
            golden.shape
        );
    }
    let (mut max_abs, mut worst_index, mut diff2, mut gold2) = (0.0f64, 0usize, 0.0f64, 0.0f64);
    let mut nan = false;
    for (i, (&a, &g)) in ours.data.iter().zip(&golden.data).enumerate() {
        let d = (a - g).abs();
        if d.is_nan() {
            nan = true;
            worst_index = i;
        } else if d > max_abs && !nan {
            max_abs = d;
            worst_index = i;
        }
        diff2 += d * d;
        gold2 += g * g;
    }
    if nan {
        max_abs = f64::NAN;
    }
    let rel_l2 = (gold2 > 0.0).then(|| diff2.sqrt() / gold2.sqrt());
    let passed = !nan
        && max_abs <= tol.max_abs
        && match (rel_l2, tol.rel_l2) {
            (Some(r), Some(t)) => r <= t,
            _ => true,
        };
    Ok(Comparison {
        name: name.to_string(),
        max_abs,
        rel_l2,
        tol: tol.clone(),
        worst_index,
        ours: ours.data.get(worst_index).copied().unwrap_or(f64::NAN),
        golden: golden.data.get(worst_index).copied().unwrap_or(f64::NAN),
        passed,
    })
}
