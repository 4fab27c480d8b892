//! `FeatureStats` of the official metric_utils: features arrive as float32 in
//! batches; the mean and the (population) covariance are accumulated in float64.

use super::error::{MetricError, Result};
use tcgan_core::{Device, Tensor};

#[derive(Debug, Clone)]
pub struct FeatureStats {
    pub num_features: usize,
    pub num_items: usize,
    /// Items beyond this are dropped, as in the official class.
    pub max_items: Option<usize>,
    /// Every feature vector, row-major `[num_items, num_features]`, when captured.
    pub all: Option<Vec<f32>>,
    /// `sum x` and `sum x x^T` in float64, when captured.
    pub raw_mean: Option<Vec<f64>>,
    pub raw_cov: Option<Vec<f64>>,
}

impl FeatureStats {
    pub fn new(
        num_features: usize,
        capture_all: bool,
        capture_mean_cov: bool,
        max_items: Option<usize>,
    ) -> Self {
        FeatureStats {
            num_features,
            num_items: 0,
            max_items,
            all: capture_all.then(Vec::new),
            raw_mean: capture_mean_cov.then(|| vec![0.0; num_features]),
            raw_cov: capture_mean_cov.then(|| vec![0.0; num_features * num_features]),
        }
    }

    pub fn is_full(&self) -> bool {
        self.max_items.is_some_and(|m| self.num_items >= m)
    }

    /// Adds `[n, num_features]` row-major features; `sum x x^T` is one float64
    /// product on `device`.
    pub fn append(&mut self, x: &[f32], device: &Device) -> Result<()> {
        let d = self.num_features;
        if d == 0 || x.len() % d != 0 {
            return Err(MetricError::Invalid(format!(
                "{} feature values are not rows of {d}",
                x.len()
            )));
        }
        if let Some(bad) = x.iter().position(|v| !v.is_finite()) {
            return Err(MetricError::Invalid(format!(
                "feature value {} (row {}) is not finite",
                x[bad],
                bad / d
            )));
        }
        let mut n = x.len() / d;
        if let Some(m) = self.max_items {
            n = n.min(m.saturating_sub(self.num_items));
        }
        if n == 0 {
            return Ok(());
        }
        let x = &x[..n * d];
        self.num_items += n;
        if let Some(all) = &mut self.all {
            all.extend_from_slice(x);
        }
        if let (Some(mean), Some(cov)) = (&mut self.raw_mean, &mut self.raw_cov) {
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            for row in x64.chunks_exact(d) {
                for (m, &v) in mean.iter_mut().zip(row) {
                    *m += v;
                }
            }
            let t = Tensor::from_vec(x64, [n, d], device)?;
            let xtx = t.matmul_t(&t, true, false)?.to_vec_f64()?;
            for (c, v) in cov.iter_mut().zip(xtx) {
                *c += v;
            }
        }
        Ok(())
    }

    /// Mean and population covariance (`sum x x^T / N - mean mean^T`).
    pub fn mean_cov(&self) -> Result<(Vec<f64>, Vec<f64>)> {
        let (Some(raw_mean), Some(raw_cov)) = (&self.raw_mean, &self.raw_cov) else {
            return Err(MetricError::Invalid("mean/cov were not captured".into()));
        };
        if self.num_items == 0 {
            return Err(MetricError::Invalid(
                "no features to take statistics of".into(),
            ));
        }
        let n = self.num_items as f64;
        let d = self.num_features;
        let mean: Vec<f64> = raw_mean.iter().map(|v| v / n).collect();
        let mut cov: Vec<f64> = raw_cov.iter().map(|v| v / n).collect();
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] -= mean[i] * mean[j];
            }
        }
        Ok((mean, cov))
    }

    /// Every captured feature vector.
    pub fn all(&self) -> Result<&[f32]> {
        self.all
            .as_deref()
            .ok_or_else(|| MetricError::Invalid("features were not captured".into()))
    }
}
