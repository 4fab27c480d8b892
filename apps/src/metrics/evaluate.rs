//! Computing metrics of a generator against a dataset and reporting them the
//! official way (a JSON line printed and appended to `metric-<name>.jsonl`):
//! what `calc_metrics` runs, and what the training loop calls at each snapshot.

use anyhow::{bail, Context, Result};
use std::cell::OnceCell;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use tcgan_core::Device;
use tcgan_nn::inception::InceptionV3;
use tcgan_nn::metrics::cache::StatsCache;
use tcgan_nn::metrics::progress::{Progress, Silent, StderrProgress};
use tcgan_nn::metrics::registry::{self, Kind, MetricSpec};
use tcgan_nn::metrics::report::jsonl_line;
use tcgan_nn::metrics::{calc_metric, FeatureExtractor, MetricOptions, MetricResult};
use tcgan_nn::networks::Generator;

use super::generated::GeneratorImages;
use super::real::DatasetImages;

/// What the metrics compare against and where the results go.
#[derive(Debug, Clone)]
pub struct EvalOptions<'a> {
    /// The dataset archive (zip or folder) of the real images.
    pub data: &'a Path,
    /// Whether training mirrored the dataset (`--mirror`): the legacy
    /// non-`_full` metrics mirror the real images then; `_full` ones never do.
    pub mirror: bool,
    /// Seeds latents, labels and noise of the generated images, and the KID subsets.
    pub seed: u64,
    /// Where `metric-<name>.jsonl` is appended; `None`: only printed.
    pub run_dir: Option<&'a Path>,
    /// The snapshot evaluated, recorded as `snapshot_pkl` (relative to `run_dir`).
    pub snapshot: Option<&'a Path>,
    /// Progress lines (rate, ETA) on stderr.
    pub progress: bool,
}

/// The feature network, the statistics cache and the device; the network is
/// loaded on first use, so that bad input is reported before the slow load.
/// Keep one across snapshots to load Inception once.
pub struct Evaluator {
    extractor: OnceCell<Box<dyn FeatureExtractor>>,
    cache: Option<StatsCache>,
    device: Device,
}

impl Evaluator {
    /// Inception-v3 from `$TCGAN_CACHE_DIR/default_1.pt` (loaded when first
    /// needed) and the statistics cache in `$TCGAN_CACHE_DIR/gan-metrics`.
    pub fn new(device: &Device) -> Self {
        Evaluator {
            extractor: OnceCell::new(),
            cache: Some(StatsCache::default_location()),
            device: device.clone(),
        }
    }

    /// Any feature network, and a cache (`None`: statistics are always computed).
    pub fn with_extractor(
        extractor: Box<dyn FeatureExtractor>,
        cache: Option<StatsCache>,
        device: &Device,
    ) -> Self {
        Evaluator {
            extractor: OnceCell::from(extractor),
            cache,
            device: device.clone(),
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    fn extractor(&self) -> Result<&dyn FeatureExtractor> {
        if self.extractor.get().is_none() {
            let net = InceptionV3::load_default(&self.device)?;
            let _ = self.extractor.set(Box::new(net));
        }
        Ok(self.extractor.get().expect("set above").as_ref())
    }

    /// Computes every metric of `metrics` for `g` (run in eval mode; its mode
    /// is restored), prints each result line through `log`, appends it to
    /// `<run_dir>/metric-<name>.jsonl`, and returns every result.
    pub fn evaluate(
        &self,
        metrics: &[String],
        g: &Generator,
        opts: &EvalOptions,
        log: &dyn Fn(&str),
    ) -> Result<Vec<MetricResult>> {
        let specs = metrics
            .iter()
            .map(|m| registry::parse(m))
            .collect::<tcgan_nn::metrics::Result<Vec<_>>>()?;
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let real = open_real(&specs, g, opts.data)?;
        let labels = real.labels();
        let extractor = self.extractor()?;
        let mut out = Vec::new();
        for spec in &specs {
            if opts.progress {
                log(&format!("Calculating {}...", spec.name));
            }
            let mut gen = GeneratorImages::new(g, labels.clone(), opts.seed, &self.device)?;
            let mut progress: Box<dyn Progress> = if opts.progress {
                Box::new(StderrProgress::default())
            } else {
                Box::new(Silent)
            };
            let mut warn = |msg: &str| log(&format!("warning: {msg}"));
            let mut mopts = MetricOptions {
                device: self.device.clone(),
                seed: opts.seed,
                mirror: opts.mirror,
                cache: self.cache.as_ref(),
                progress: progress.as_mut(),
                warn: &mut warn,
            };
            let result = calc_metric(spec, &real, &mut gen, extractor, &mut mopts)
                .with_context(|| format!("computing {}", spec.name))?;
            report(&result, opts, log)?;
            out.push(result);
        }
        Ok(out)
    }
}

/// Opens the dataset the way the metrics need it, with the checks that give
/// clear errors before any image is generated.
fn open_real(specs: &[MetricSpec], g: &Generator, data: &Path) -> Result<DatasetImages> {
    let k = &g.kwargs;
    let per_class = specs
        .iter()
        .find(|s| matches!(s.kind, Kind::FidPerClass | Kind::KidPerClass));
    if let Some(s) = per_class {
        if k.c_dim == 0 {
            bail!(
                "{} needs a conditional network (c_dim > 0); this one is unconditional",
                s.name
            );
        }
    }
    // The dataset error names the file already (and its chain repeats the cause).
    let real = DatasetImages::open(data, Some(k.img_resolution), k.c_dim > 0)
        .map_err(|e| anyhow::anyhow!("cannot open the dataset: {e}"))?;
    let ds = real.dataset();
    if k.c_dim > 0 {
        if !ds.has_labels() {
            bail!(
                "{}: the network is conditional (c_dim {}) but the dataset has no labels (dataset.json)",
                data.display(),
                k.c_dim
            );
        }
        if ds.label_dim() != k.c_dim {
            bail!(
                "{}: the dataset has {} classes but the network's c_dim is {}",
                data.display(),
                ds.label_dim(),
                k.c_dim
            );
        }
    }
    if let Some(s) = per_class {
        if !real.has_classes() {
            bail!(
                "{}: {} needs class labels, but the dataset's labels are vectors",
                data.display(),
                s.name
            );
        }
    }
    if ds.num_channels() != k.img_channels {
        bail!(
            "{}: the dataset has {} channel(s) but the network makes {}",
            data.display(),
            ds.num_channels(),
            k.img_channels
        );
    }
    Ok(real)
}

/// `snapshot` relative to `run_dir` when it lies inside it (`os.path.relpath`
/// for the usual case), else as given.
fn snapshot_name(snapshot: &Path, run_dir: Option<&Path>) -> String {
    run_dir
        .and_then(|d| snapshot.strip_prefix(d).ok())
        .unwrap_or(snapshot)
        .to_string_lossy()
        .into_owned()
}

/// Prints the official JSON line and appends it to `metric-<name>.jsonl`.
fn report(r: &MetricResult, opts: &EvalOptions, log: &dyn Fn(&str)) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let snapshot = opts.snapshot.map(|s| snapshot_name(s, opts.run_dir));
    let line = jsonl_line(r, snapshot.as_deref(), now);
    log(&line);
    if let Some(dir) = opts.run_dir {
        let path = dir.join(format!("metric-{}.jsonl", r.metric));
        crate::atomic_file::append_line(&path, &line)
            .with_context(|| format!("cannot append the result to {}", path.display()))?;
    }
    Ok(())
}

/// Computes `metrics` for `g_ema` and returns `(result name, value)` pairs
/// (e.g. `("fid50k_full", 12.3)`, per-class metrics add one pair per class):
/// what the training loop logs as `Metrics/<name>`. Loads Inception on each
/// call; a loop that evaluates often can keep an [`Evaluator`] instead.
pub fn evaluate(
    metrics: &[String],
    g_ema: &Generator,
    opts: &EvalOptions,
    device: &Device,
    log: &dyn Fn(&str),
) -> Result<Vec<(String, f64)>> {
    let results = Evaluator::new(device).evaluate(metrics, g_ema, opts, log)?;
    Ok(results.into_iter().flat_map(|r| r.results).collect())
}
