//! The matrix square root FID needs, through symmetric eigendecompositions in
//! float64 (faer): for covariances A, B (symmetric PSD),
//! `tr(sqrtm(A B)) = sum sqrt(eig(C^T B C))` with `C = V sqrt(D)` from
//! `A = V D V^T`, since `C^T B C` is similar to `A B`. This is the value of
//! scipy's `sqrtm` (real part) without a non-symmetric Schur form.

use super::error::{MetricError, Result};
use faer::{Mat, Side};

fn mat(v: &[f64], d: usize) -> Mat<f64> {
    Mat::from_fn(d, d, |i, j| v[i * d + j])
}

fn check(v: &[f64], d: usize, what: &str) -> Result<()> {
    if v.len() != d * d {
        return Err(MetricError::Invalid(format!(
            "{what}: {} values for a {d}x{d} matrix",
            v.len()
        )));
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err(MetricError::Invalid(format!(
            "{what} has non-finite values"
        )));
    }
    Ok(())
}

/// `real(trace(sqrtm(A B)))` for symmetric PSD `A`, `B` (row-major `[d, d]`).
/// Eigenvalues that rounding made slightly negative count as 0 (scipy's
/// sqrtm makes them imaginary, and FID keeps the real part).
pub fn trace_sqrt_product(a: &[f64], b: &[f64], d: usize) -> Result<f64> {
    check(a, d, "covariance A")?;
    check(b, d, "covariance B")?;
    if d == 0 {
        return Ok(0.0);
    }
    let eig_err = |e| MetricError::Invalid(format!("eigendecomposition failed: {e:?}"));
    let am = mat(a, d);
    let bm = mat(b, d);
    let evd = am.self_adjoint_eigen(Side::Lower).map_err(eig_err)?;
    let s = evd.S().column_vector();
    let u = evd.U();
    let c = Mat::from_fn(d, d, |i, j| u[(i, j)] * s[j].max(0.0).sqrt());
    let m = c.transpose() * &bm * &c;
    // Symmetrize: rounding leaves m a hair off symmetric.
    let m = Mat::from_fn(d, d, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
    let ev = m.self_adjoint_eigenvalues(Side::Lower).map_err(eig_err)?;
    Ok(ev.iter().map(|&l| l.max(0.0).sqrt()).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_closed_forms() {
        // Diagonal: tr sqrt(AB) = sum sqrt(a_i b_i).
        let a = [4.0, 0.0, 0.0, 9.0];
        let b = [1.0, 0.0, 0.0, 4.0];
        assert!((trace_sqrt_product(&a, &b, 2).unwrap() - (2.0 + 6.0)).abs() < 1e-12);
        // A = B: tr sqrt(A^2) = tr A.
        let a = [2.0, 1.0, 1.0, 3.0];
        assert!((trace_sqrt_product(&a, &a, 2).unwrap() - 5.0).abs() < 1e-12);
        // Singular A.
        let a = [1.0, 1.0, 1.0, 1.0];
        let b = [1.0, 0.0, 0.0, 1.0];
        // AB = A, eigenvalues 2 and 0.
        assert!((trace_sqrt_product(&a, &b, 2).unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert!(trace_sqrt_product(&[f64::NAN; 4], &b, 2).is_err());
    }
}
