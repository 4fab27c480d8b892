//! Per-class FID and KID for conditional models (no official tool has them):
//! generated images of class k against real images of class k, reported per
//! class and as the mean, so that a class that collapsed stands out.

use super::error::{MetricError, Result};
use super::feature_stats::FeatureStats;
use super::fid::fid_from_stats;
use super::kid::kid;
use tcgan_core::Device;

#[derive(Debug, Clone, PartialEq)]
pub struct PerClass {
    /// One value per class label.
    pub values: Vec<f64>,
    pub mean: f64,
}

fn check(real: &[FeatureStats], gen: &[FeatureStats]) -> Result<()> {
    if real.is_empty() || real.len() != gen.len() {
        return Err(MetricError::Invalid(format!(
            "per-class metrics need the same classes on both sides (real {}, generated {})",
            real.len(),
            gen.len()
        )));
    }
    for (c, (r, g)) in real.iter().zip(gen).enumerate() {
        if r.num_items < 2 || g.num_items < 2 {
            return Err(MetricError::Invalid(format!(
                "class {c} has {} real and {} generated images; at least 2 of each are needed",
                r.num_items, g.num_items
            )));
        }
    }
    Ok(())
}

fn summarize(values: Vec<f64>) -> PerClass {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    PerClass { values, mean }
}

/// FID of each class from per-class statistics (mean/cov captured).
pub fn fid_per_class(real: &[FeatureStats], gen: &[FeatureStats]) -> Result<PerClass> {
    check(real, gen)?;
    let values = real
        .iter()
        .zip(gen)
        .map(|(r, g)| {
            let (mu_r, s_r) = r.mean_cov()?;
            let (mu_g, s_g) = g.mean_cov()?;
            Ok(fid_from_stats(&mu_g, &s_g, &mu_r, &s_r)?.fid)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(summarize(values))
}

/// KID of each class from per-class features (all captured); class `k` draws
/// its subsets from seed `seed + k`, so class 0 matches the global KID.
pub fn kid_per_class(
    real: &[FeatureStats],
    gen: &[FeatureStats],
    num_subsets: usize,
    max_subset_size: usize,
    seed: u64,
    device: &Device,
) -> Result<PerClass> {
    check(real, gen)?;
    let values = real
        .iter()
        .zip(gen)
        .enumerate()
        .map(|(c, (r, g))| {
            kid(
                g.all()?,
                r.all()?,
                r.num_features,
                num_subsets,
                max_subset_size,
                seed.wrapping_add(c as u64),
                device,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(summarize(values))
}
