//! Improved precision and recall (official `compute_pr`, k-NN manifolds) with
//! the official float16 arithmetic: features and distances are rounded to
//! float16, the radius of a manifold point is its (k+1)-th smallest distance
//! (itself included), and a probe is inside when `dist <= radius` for any point.

use super::error::{MetricError, Result};
use half::f16;
use tcgan_core::{Device, Tensor};

/// Elements of one block of the distance matrix, at most.
const BLOCK: usize = 1 << 24;

#[derive(Debug, Clone)]
pub struct PrecisionRecall {
    pub precision: f64,
    pub recall: f64,
    /// Radii of the real and generated manifolds (float16 values).
    pub kth_real: Vec<f32>,
    pub kth_gen: Vec<f32>,
    /// Per generated / real sample: inside the other manifold.
    pub pred_precision: Vec<bool>,
    pub pred_recall: Vec<bool>,
}

fn to_f16(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| f16::from_f32(v).to_f32()).collect()
}

/// Float16 distances between rows of `a` and every row of `b`, block by block:
/// `f(row offset, [rows, n_b] distances)`.
fn for_distance_blocks(
    a: &[f32],
    b: &[f32],
    d: usize,
    device: &Device,
    mut f: impl FnMut(usize, &[f32]),
) -> Result<()> {
    let (na, nb) = (a.len() / d, b.len() / d);
    let norms = |x: &[f32]| -> Vec<f32> {
        x.chunks_exact(d)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect()
    };
    let (an, bn) = (norms(a), norms(b));
    let bt = Tensor::from_slice(b, [nb, d], device)?;
    let rows = (BLOCK / nb.max(1)).max(1);
    for r0 in (0..na).step_by(rows) {
        let r1 = (r0 + rows).min(na);
        let at = Tensor::from_slice(&a[r0 * d..r1 * d], [r1 - r0, d], device)?;
        let mut dots = at.matmul_t(&bt, false, true)?.to_vec_f32()?;
        for (i, row) in dots.chunks_exact_mut(nb).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let d2 = an[r0 + i] + bn[j] - 2.0 * *v;
                *v = f16::from_f32(d2.max(0.0).sqrt()).to_f32();
            }
        }
        f(r0, &dots);
    }
    Ok(())
}

/// The (k+1)-th smallest distance of each manifold point to the manifold.
fn radii(manifold: &[f32], d: usize, k: usize, device: &Device) -> Result<Vec<f32>> {
    let n = manifold.len() / d;
    let mut kth = vec![0f32; n];
    for_distance_blocks(manifold, manifold, d, device, |r0, dist| {
        for (i, row) in dist.chunks_exact(n).enumerate() {
            let mut row = row.to_vec();
            let (_, v, _) = row.select_nth_unstable_by(k, f32::total_cmp);
            kth[r0 + i] = *v;
        }
    })?;
    Ok(kth)
}

fn inside(
    probes: &[f32],
    manifold: &[f32],
    kth: &[f32],
    d: usize,
    device: &Device,
) -> Result<Vec<bool>> {
    let n = manifold.len() / d;
    let mut pred = vec![false; probes.len() / d];
    for_distance_blocks(probes, manifold, d, device, |r0, dist| {
        for (i, row) in dist.chunks_exact(n).enumerate() {
            pred[r0 + i] = row.iter().zip(kth).any(|(a, r)| a <= r);
        }
    })?;
    Ok(pred)
}

/// Precision (generated samples inside the real manifold) and recall (real
/// samples inside the generated manifold) with `nhood_size` neighbours.
pub fn precision_recall(
    real: &[f32],
    gen: &[f32],
    d: usize,
    nhood_size: usize,
    device: &Device,
) -> Result<PrecisionRecall> {
    if d == 0 || real.len() % d != 0 || gen.len() % d != 0 {
        return Err(MetricError::Invalid(
            "features are not rows of d values".into(),
        ));
    }
    let (nr, ng) = (real.len() / d, gen.len() / d);
    if nr <= nhood_size || ng <= nhood_size {
        return Err(MetricError::Invalid(format!(
            "precision/recall with k = {nhood_size} needs more than {nhood_size} real and generated samples (got {nr} and {ng})"
        )));
    }
    let (real, gen) = (to_f16(real), to_f16(gen));
    let kth_real = radii(&real, d, nhood_size, device)?;
    let pred_precision = inside(&gen, &real, &kth_real, d, device)?;
    let kth_gen = radii(&gen, d, nhood_size, device)?;
    let pred_recall = inside(&real, &gen, &kth_gen, d, device)?;
    let frac = |p: &[bool]| p.iter().filter(|&&b| b).count() as f64 / p.len() as f64;
    Ok(PrecisionRecall {
        precision: frac(&pred_precision),
        recall: frac(&pred_recall),
        kth_real,
        kth_gen,
        pred_precision,
        pred_recall,
    })
}
