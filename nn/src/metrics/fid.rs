//! Fréchet Inception Distance (official `compute_fid`): from the float64 means
//! and population covariances of generated and real features.

use super::error::{MetricError, Result};
use super::linalg::trace_sqrt_product;

/// The parts of an FID, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fid {
    pub fid: f64,
    /// `real(trace(sqrtm(S_g S_r)))`.
    pub trace_sqrtm: f64,
}

/// `|mu_g - mu_r|^2 + tr(S_g + S_r - 2 sqrtm(S_g S_r))`.
pub fn fid_from_stats(mu_g: &[f64], sigma_g: &[f64], mu_r: &[f64], sigma_r: &[f64]) -> Result<Fid> {
    let d = mu_g.len();
    if mu_r.len() != d || sigma_g.len() != d * d || sigma_r.len() != d * d {
        return Err(MetricError::Invalid(format!(
            "FID statistics of different sizes: means {} and {}, covariances {} and {}",
            d,
            mu_r.len(),
            sigma_g.len(),
            sigma_r.len()
        )));
    }
    let m: f64 = mu_g.iter().zip(mu_r).map(|(a, b)| (a - b) * (a - b)).sum();
    let trace = |s: &[f64]| (0..d).map(|i| s[i * d + i]).sum::<f64>();
    let trace_sqrtm = trace_sqrt_product(sigma_g, sigma_r, d)?;
    Ok(Fid {
        fid: m + trace(sigma_g) + trace(sigma_r) - 2.0 * trace_sqrtm,
        trace_sqrtm,
    })
}
