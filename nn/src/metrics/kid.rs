//! Kernel Inception Distance (official `compute_kid`): the unbiased MMD^2 with
//! the cubic polynomial kernel `k(a, b) = (a.b / D + 1)^3`, averaged over
//! random subsets of `m = min(N_real, N_gen, max_subset_size)` items. The
//! official code sums in float32; we sum in float64.

use super::error::{MetricError, Result};
use tcgan_core::{Device, Generator, Tensor};

/// One subset: indices into the generated and into the real features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    pub gen: Vec<usize>,
    pub real: Vec<usize>,
}

/// `m` distinct indices of `0..n` (a partial Fisher-Yates shuffle).
pub fn choose(g: &mut Generator, n: usize, m: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..m.min(n) {
        let j = i + g.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(m.min(n));
    idx
}

/// The official draw order: for each subset, generated indices first, then real.
pub fn draw_subsets(
    n_gen: usize,
    n_real: usize,
    num_subsets: usize,
    max_subset_size: usize,
    seed: u64,
) -> Vec<Subset> {
    let m = n_gen.min(n_real).min(max_subset_size);
    let mut g = Generator::new(seed);
    (0..num_subsets)
        .map(|_| {
            let gen = choose(&mut g, n_gen, m);
            let real = choose(&mut g, n_real, m);
            Subset { gen, real }
        })
        .collect()
}

fn rows(x: &[f32], d: usize, idx: &[usize], device: &Device) -> Result<Tensor> {
    let mut v = Vec::with_capacity(idx.len() * d);
    for &i in idx {
        let r = x
            .get(i * d..(i + 1) * d)
            .ok_or_else(|| MetricError::Invalid(format!("subset index {i} is out of range")))?;
        v.extend(r.iter().map(|&a| a as f64));
    }
    Ok(Tensor::from_vec(v, [idx.len(), d], device)?)
}

/// KID of `gen` `[N_gen, d]` against `real` `[N_real, d]` over the given subsets.
pub fn kid_with_subsets(
    gen: &[f32],
    real: &[f32],
    d: usize,
    subsets: &[Subset],
    device: &Device,
) -> Result<f64> {
    if subsets.is_empty() {
        return Err(MetricError::Invalid("KID needs at least one subset".into()));
    }
    let m = subsets[0].gen.len();
    if m < 2
        || subsets
            .iter()
            .any(|s| s.gen.len() != m || s.real.len() != m)
    {
        return Err(MetricError::Invalid(format!(
            "KID subsets must all hold the same m >= 2 items (got m = {m})"
        )));
    }
    let kernel_sum = |a: &Tensor, b: &Tensor, diag: bool| -> Result<(f64, f64)> {
        let k = a.matmul_t(b, false, true)?.to_vec_f64()?;
        let (mut sum, mut trace) = (0.0, 0.0);
        for (i, v) in k.iter().enumerate() {
            let kv = (v / d as f64 + 1.0).powi(3);
            sum += kv;
            if diag && i / m == i % m {
                trace += kv;
            }
        }
        Ok((sum, trace))
    };
    let mut t = 0.0;
    for s in subsets {
        let x = rows(gen, d, &s.gen, device)?;
        let y = rows(real, d, &s.real, device)?;
        let (sxx, txx) = kernel_sum(&x, &x, true)?;
        let (syy, tyy) = kernel_sum(&y, &y, true)?;
        let (sxy, _) = kernel_sum(&x, &y, false)?;
        t += (sxx + syy - txx - tyy) / (m - 1) as f64 - sxy * 2.0 / m as f64;
    }
    Ok(t / subsets.len() as f64 / m as f64)
}

/// KID with subsets drawn from `seed`.
#[allow(clippy::too_many_arguments)]
pub fn kid(
    gen: &[f32],
    real: &[f32],
    d: usize,
    num_subsets: usize,
    max_subset_size: usize,
    seed: u64,
    device: &Device,
) -> Result<f64> {
    if d == 0 || gen.len() % d != 0 || real.len() % d != 0 {
        return Err(MetricError::Invalid(
            "KID features are not rows of d values".into(),
        ));
    }
    let subsets = draw_subsets(
        gen.len() / d,
        real.len() / d,
        num_subsets,
        max_subset_size,
        seed,
    );
    kid_with_subsets(gen, real, d, &subsets, device)
}
