//! The inverse error function, which `debug_percentile` needs to turn a
//! percentile into the matching draw of a normal distribution.

/// `erfinv(y)` for `y` in `[-1, 1]` (`±inf` at the ends, NaN outside), to
/// full f64 precision: Giles' single-precision approximation as the start,
/// then Newton steps on `erf(x) - y`.
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y == 1.0 {
        return f64::INFINITY;
    }
    if y == -1.0 {
        return f64::NEG_INFINITY;
    }
    if y == 0.0 {
        return 0.0;
    }
    let w = -((1.0 - y) * (1.0 + y)).ln();
    let p = if w < 5.0 {
        let w = w - 2.5;
        [
            3.434_739_39e-07,
            -3.523_387_7e-06,
            -4.391_506_54e-06,
            2.185_808_7e-04,
            -1.253_725_03e-03,
            -4.177_681_64e-03,
            2.466_407_27e-01,
            1.501_409_41,
        ]
        .iter()
        .fold(2.810_226_36e-08, |p, &c| c + p * w)
    } else {
        let w = w.sqrt() - 3.0;
        [
            1.009_505_58e-04,
            1.349_343_22e-03,
            -3.673_428_44e-03,
            5.739_507_73e-03,
            -7.622_461_3e-03,
            9.438_870_47e-03,
            1.001_674_06,
            2.832_976_82,
        ]
        .iter()
        .fold(-2.002_142_57e-04, |p, &c| c + p * w)
    };
    let mut x = p * y;
    // d erf / dx = 2 / sqrt(pi) * exp(-x^2); the start is good to ~1e-7, so
    // two quadratic steps reach rounding level (a third costs nothing).
    let k = 2.0 / std::f64::consts::PI.sqrt();
    for _ in 0..3 {
        let d = k * (-x * x).exp();
        if d == 0.0 {
            break;
        }
        x -= (libm::erf(x) - y) / d;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::erfinv;

    #[test]
    fn erfinv_inverts_erf() {
        // Reference values from the series definition (Wolfram: InverseErf).
        assert!((erfinv(0.5) - 0.476_936_276_204_469_9).abs() < 1e-15);
        assert!((erfinv(-0.4) + 0.370_807_158_593_558_1).abs() < 1e-15);
        for i in -999..=999 {
            let y = i as f64 / 1000.0;
            let x = erfinv(y);
            assert!(
                (libm::erf(x) - y).abs() < 4e-16,
                "y {y}: erf(x) {}",
                libm::erf(x)
            );
        }
        let y = 1.0 - 1e-12;
        assert!((libm::erf(erfinv(y)) - y).abs() < 1e-15);
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert_eq!(erfinv(-1.0), f64::NEG_INFINITY);
        assert!(erfinv(1.5).is_nan());
    }
}
