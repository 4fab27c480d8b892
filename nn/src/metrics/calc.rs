//! Running a metric end to end: real-image statistics (from the cache when the
//! dataset content and options match), generated-image statistics, the math,
//! and the result record (`metric_main.calc_metric`).

use super::cache::StatsCache;
use super::error::{MetricError, Result};
use super::extract::{dataset_features, generator_features, Capture, Features};
use super::fid::fid_from_stats;
use super::kid::kid;
use super::per_class::{fid_per_class, kid_per_class};
use super::precision_recall::precision_recall;
use super::progress::Progress;
use super::registry::{Kind, MetricSpec};
use super::report::MetricResult;
use super::source::{FeatureExtractor, GeneratedImages, RealImages};
use std::time::Instant;
use tcgan_core::Device;

pub struct MetricOptions<'a> {
    pub device: Device,
    /// Seeds the KID subsets (the generator is seeded by its owner).
    pub seed: u64,
    /// Whether training mirrored the dataset (`--mirror`); used by the
    /// non-`_full` metrics.
    pub mirror: bool,
    /// `None` disables the statistics cache.
    pub cache: Option<&'a StatsCache>,
    pub progress: &'a mut dyn Progress,
    /// Messages such as a damaged cache being rebuilt.
    pub warn: &'a mut dyn FnMut(&str),
}

fn capture(kind: Kind) -> Capture {
    match kind {
        Kind::Fid | Kind::FidPerClass => Capture {
            all: false,
            mean_cov: true,
        },
        Kind::Kid | Kind::KidPerClass | Kind::PrInception => Capture {
            all: true,
            mean_cov: false,
        },
    }
}

/// The real-image statistics of `spec`, from the cache when possible.
pub fn real_features(
    spec: &MetricSpec,
    real: &dyn RealImages,
    extractor: &dyn FeatureExtractor,
    opts: &mut MetricOptions,
) -> Result<Features> {
    let cap = capture(spec.kind);
    let xflip = spec.use_mirror && opts.mirror;
    let per_class = matches!(spec.kind, Kind::FidPerClass | Kind::KidPerClass);
    let compute = |opts: &mut MetricOptions| {
        dataset_features(
            real,
            extractor,
            cap,
            xflip,
            spec.max_real,
            per_class,
            opts.progress,
            &opts.device,
        )
    };
    let Some(cache) = opts.cache else {
        return compute(opts);
    };
    let key = [
        ("content", real.content_hash()?),
        ("detector", extractor.id()),
        ("xflip", xflip.to_string()),
        ("max_items", format!("{:?}", spec.max_real)),
        ("capture_all", cap.all.to_string()),
        ("capture_mean_cov", cap.mean_cov.to_string()),
        ("per_class", per_class.to_string()),
    ];
    let path = cache.path(&real.name(), &key);
    match cache.load(&path) {
        Ok(Some(f)) => return Ok(f),
        Ok(None) => {}
        Err(e) => (opts.warn)(&format!("{e}; computing the statistics again")),
    }
    let f = compute(opts)?;
    cache.store(&path, &f)?;
    Ok(f)
}

/// Computes one metric.
pub fn calc_metric(
    spec: &MetricSpec,
    real: &dyn RealImages,
    gen: &mut dyn GeneratedImages,
    extractor: &dyn FeatureExtractor,
    opts: &mut MetricOptions,
) -> Result<MetricResult> {
    let start = Instant::now();
    let cap = capture(spec.kind);
    let realf = real_features(spec, real, extractor, opts)?;
    let dev = opts.device.clone();
    let name = spec.name.clone();
    let results = match spec.kind {
        Kind::Fid | Kind::Kid | Kind::PrInception => {
            let num = spec.num_gen.expect("global metrics have a size");
            let g = generator_features(gen, extractor, cap, num, None, opts.progress, &dev)?;
            match spec.kind {
                Kind::Fid => {
                    let (mu_r, s_r) = realf.global.mean_cov()?;
                    let (mu_g, s_g) = g.mean_cov()?;
                    vec![(name, fid_from_stats(&mu_g, &s_g, &mu_r, &s_r)?.fid)]
                }
                Kind::Kid => {
                    let d = g.num_features;
                    let v = kid(
                        g.all()?,
                        realf.global.all()?,
                        d,
                        spec.num_subsets,
                        spec.max_subset_size,
                        opts.seed,
                        &dev,
                    )?;
                    vec![(name, v)]
                }
                _ => {
                    let pr = precision_recall(
                        realf.global.all()?,
                        g.all()?,
                        g.num_features,
                        spec.nhood_size,
                        &dev,
                    )?;
                    vec![
                        (format!("{name}_precision"), pr.precision),
                        (format!("{name}_recall"), pr.recall),
                    ]
                }
            }
        }
        Kind::FidPerClass | Kind::KidPerClass => {
            if gen.num_classes() != realf.per_class.len() {
                return Err(MetricError::Source(format!(
                    "the generator has {} classes but the dataset {}",
                    gen.num_classes(),
                    realf.per_class.len()
                )));
            }
            let genf = realf
                .per_class
                .iter()
                .enumerate()
                .map(|(c, r)| {
                    generator_features(
                        gen,
                        extractor,
                        cap,
                        r.num_items,
                        Some(c),
                        opts.progress,
                        &dev,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let pc = if spec.kind == Kind::FidPerClass {
                fid_per_class(&realf.per_class, &genf)?
            } else {
                kid_per_class(
                    &realf.per_class,
                    &genf,
                    spec.num_subsets,
                    spec.max_subset_size,
                    opts.seed,
                    &dev,
                )?
            };
            let mut r = vec![(name.clone(), pc.mean)];
            r.extend(
                pc.values
                    .iter()
                    .enumerate()
                    .map(|(c, &v)| (format!("{name}_{c}"), v)),
            );
            r
        }
    };
    Ok(MetricResult {
        metric: spec.name.clone(),
        results,
        total_time: start.elapsed().as_secs_f64(),
        num_gpus: 1,
    })
}
