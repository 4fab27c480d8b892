//! Properties of the metrics that must hold whatever the network: FID of a set
//! against itself is ~0, FID and KID are symmetric, per-class metrics of a
//! 1-class set equal the global ones, the real-image statistics cache is
//! reused and invalidated by content, and bad weights files give clear errors.

use std::cell::Cell;
use std::path::PathBuf;
use tcgan_core::Generator;
use tcgan_nn::inception::{ImageBatch, InceptionError, InceptionV3};
use tcgan_nn::metrics::cache::{content_hash, StatsCache};
use tcgan_nn::metrics::kid::{draw_subsets, Subset};
use tcgan_nn::metrics::progress::Silent;
use tcgan_nn::metrics::{
    calc_metric, fid_from_stats, kid_with_subsets, parse_metric, FeatureExtractor, FeatureStats,
    GeneratedImages, LabeledImages, MetricOptions, RealImages, Result,
};
use tcgan_ops_cpu::cpu;

fn features(seed: u64, n: usize, d: usize, shift: f64) -> Vec<f32> {
    let mut g = Generator::new(seed);
    g.normal_vec(n * d)
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v * (1.0 + (i % d) as f64 * 0.1) + shift) as f32)
        .collect()
}

fn stats(x: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut s = FeatureStats::new(d, false, true, None);
    s.append(x, &cpu()).unwrap();
    s.mean_cov().unwrap()
}

#[test]
fn fid_of_a_set_against_itself_is_zero() {
    let d = 32;
    let x = features(1, 400, d, 0.0);
    let (mu, s) = stats(&x, d);
    let f = fid_from_stats(&mu, &s, &mu, &s).unwrap().fid;
    assert!(f.abs() < 1e-9, "FID(x, x) = {f}");
    // A different set is clearly not at distance 0.
    let (mu2, s2) = stats(&features(2, 400, d, 0.5), d);
    assert!(fid_from_stats(&mu2, &s2, &mu, &s).unwrap().fid > 1.0);
}

#[test]
fn fid_and_kid_are_symmetric() {
    let d = 16;
    let a = features(3, 300, d, 0.0);
    let b = features(4, 250, d, 0.3);
    let (ma, sa) = stats(&a, d);
    let (mb, sb) = stats(&b, d);
    let ab = fid_from_stats(&ma, &sa, &mb, &sb).unwrap().fid;
    let ba = fid_from_stats(&mb, &sb, &ma, &sa).unwrap().fid;
    assert!((ab - ba).abs() < 1e-10 * ab.abs(), "{ab} vs {ba}");
    // KID with the same subsets, roles swapped.
    let subsets = draw_subsets(300, 250, 5, 200, 9);
    let swapped: Vec<Subset> = subsets
        .iter()
        .map(|s| Subset {
            gen: s.real.clone(),
            real: s.gen.clone(),
        })
        .collect();
    let k_ab = kid_with_subsets(&a, &b, d, &subsets, &cpu()).unwrap();
    let k_ba = kid_with_subsets(&b, &a, d, &swapped, &cpu()).unwrap();
    assert!((k_ab - k_ba).abs() < 1e-12, "{k_ab} vs {k_ba}");
    assert!(k_ab > 0.0);
}

#[test]
fn kid_subsets_are_seeded_and_distinct() {
    let a = draw_subsets(50, 40, 3, 1000, 7);
    assert_eq!(a, draw_subsets(50, 40, 3, 1000, 7));
    assert_ne!(a, draw_subsets(50, 40, 3, 1000, 8));
    for s in &a {
        assert_eq!(s.gen.len(), 40);
        let mut g = s.gen.clone();
        g.sort();
        g.dedup();
        assert_eq!(g.len(), 40, "indices drawn without replacement");
    }
}

// ---- end-to-end through the runner, with a stand-in feature network ----

const RES: usize = 4;

/// Features that depend smoothly on the pixels: channel means and a few fixed
/// projections, so sets of images have full-rank covariances.
struct FakeNet;

impl FeatureExtractor for FakeNet {
    fn num_features(&self) -> usize {
        6
    }
    fn id(&self) -> String {
        "fake".into()
    }
    fn extract(&self, images: &ImageBatch) -> Result<Vec<f32>> {
        let per = images.shape[1] * images.shape[2] * images.shape[3];
        Ok(images
            .pixels
            .chunks_exact(per)
            .flat_map(|img| {
                (0..6).map(move |k| {
                    img.iter()
                        .enumerate()
                        .map(|(i, &p)| p as f32 * (((i * (k + 3) + k) % 7) as f32 - 3.0))
                        .sum::<f32>()
                        / per as f32
                })
            })
            .collect())
    }
}

fn random_images(g: &mut Generator, n: usize, bias: u64) -> Vec<u8> {
    (0..n * 3 * RES * RES)
        .map(|_| (g.below(200) + bias) as u8)
        .collect()
}

struct FakeData {
    seed: u64,
    n: usize,
    classes: usize,
    passes: Cell<usize>,
}

impl RealImages for FakeData {
    fn content_hash(&self) -> Result<String> {
        Ok(format!("fake-{}-{}", self.seed, self.n))
    }
    fn name(&self) -> String {
        "fake".into()
    }
    fn len(&self) -> usize {
        self.n
    }
    fn num_classes(&self) -> usize {
        self.classes
    }
    fn for_each_batch(
        &self,
        _xflip: bool,
        max_items: Option<usize>,
        batch: usize,
        f: &mut dyn FnMut(LabeledImages) -> Result<()>,
    ) -> Result<()> {
        self.passes.set(self.passes.get() + 1);
        let mut g = Generator::new(self.seed);
        let n = max_items.map_or(self.n, |m| m.min(self.n));
        for start in (0..n).step_by(batch) {
            let k = batch.min(n - start);
            f(LabeledImages {
                pixels: random_images(&mut g, k, 0),
                shape: [k, 3, RES, RES],
                labels: Some((start..start + k).map(|i| i % self.classes).collect()),
            })?;
        }
        Ok(())
    }
}

struct FakeGen {
    g: Generator,
    classes: usize,
}

impl GeneratedImages for FakeGen {
    fn num_classes(&self) -> usize {
        self.classes
    }
    fn generate(&mut self, n: usize, class: Option<usize>) -> Result<LabeledImages> {
        Ok(LabeledImages {
            pixels: random_images(&mut self.g, n, 20),
            shape: [n, 3, RES, RES],
            labels: Some(vec![class.unwrap_or(0); n]),
        })
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcgan-metrics-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(
    name: &str,
    data: &FakeData,
    cache: Option<&StatsCache>,
    warnings: &mut Vec<String>,
) -> Vec<(String, f64)> {
    let spec = parse_metric(name).unwrap();
    let mut gen = FakeGen {
        g: Generator::new(99),
        classes: data.classes,
    };
    let mut progress = Silent;
    let mut warn = |m: &str| warnings.push(m.to_string());
    let mut opts = MetricOptions {
        device: cpu(),
        seed: 5,
        mirror: false,
        cache,
        progress: &mut progress,
        warn: &mut warn,
    };
    calc_metric(&spec, data, &mut gen, &FakeNet, &mut opts)
        .unwrap()
        .results
}

#[test]
fn per_class_metrics_of_one_class_equal_the_global_ones() {
    let data = FakeData {
        seed: 1,
        n: 1000,
        classes: 1,
        passes: Cell::new(0),
    };
    let mut w = Vec::new();
    let fid = run("fid1k_full", &data, None, &mut w)[0].1;
    let fid_pc = run("fid_per_class", &data, None, &mut w);
    assert!(fid > 1.0, "the fake generator is off the data: {fid}");
    assert_eq!(fid_pc[0].0, "fid_per_class");
    assert!(
        (fid_pc[0].1 - fid).abs() <= 1e-9 * fid,
        "{fid_pc:?} vs {fid}"
    );
    assert_eq!(fid_pc[1], ("fid_per_class_0".to_string(), fid_pc[0].1));

    let kid = run("kid1k_full", &data, None, &mut w)[0].1;
    let kid_pc = run("kid_per_class", &data, None, &mut w);
    assert!((kid_pc[0].1 - kid).abs() <= 1e-12, "{kid_pc:?} vs {kid}");
}

#[test]
fn per_class_metrics_report_each_class() {
    let data = FakeData {
        seed: 2,
        n: 300,
        classes: 3,
        passes: Cell::new(0),
    };
    let r = run("fid_per_class", &data, None, &mut Vec::new());
    let names: Vec<&str> = r.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "fid_per_class",
            "fid_per_class_0",
            "fid_per_class_1",
            "fid_per_class_2"
        ]
    );
    let mean = (r[1].1 + r[2].1 + r[3].1) / 3.0;
    assert!((r[0].1 - mean).abs() < 1e-12);
}

#[test]
fn real_statistics_are_cached_by_content() {
    let dir = temp_dir("cache");
    let cache = StatsCache::new(&dir);
    let mut w = Vec::new();
    let data = FakeData {
        seed: 3,
        n: 200,
        classes: 2,
        passes: Cell::new(0),
    };
    let first = run("fid1k_full", &data, Some(&cache), &mut w);
    assert_eq!(data.passes.get(), 1);
    let second = run("fid1k_full", &data, Some(&cache), &mut w);
    assert_eq!(
        data.passes.get(),
        1,
        "the cached statistics were not reused"
    );
    assert_eq!(first, second);
    // Other options (here the per-class statistics) are another entry.
    run("fid_per_class", &data, Some(&cache), &mut w);
    assert_eq!(data.passes.get(), 2);
    // Different content: computed again, and a different result.
    let changed = FakeData { seed: 4, ..data };
    let third = run("fid1k_full", &changed, Some(&cache), &mut w);
    assert_eq!(changed.passes.get(), 3);
    assert_ne!(first, third);
    assert!(w.is_empty(), "{w:?}");
    // A damaged cache file is reported and rebuilt, not trusted.
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        let b = std::fs::read(f).unwrap();
        std::fs::write(f, &b[..b.len() / 2]).unwrap();
    }
    let again = run("fid1k_full", &changed, Some(&cache), &mut w);
    assert_eq!(again, third);
    assert_eq!(changed.passes.get(), 4);
    assert!(
        w.iter().any(|m| m.contains("damaged statistics cache")),
        "{w:?}"
    );
    // No temporary files are left behind.
    assert!(std::fs::read_dir(&dir)
        .unwrap()
        .all(|e| e.unwrap().path().extension().unwrap() == "stats"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn content_hash_ignores_the_path_and_sees_every_byte() {
    let a = temp_dir("hash-a");
    let b = temp_dir("hash-b");
    for d in [&a, &b] {
        std::fs::create_dir_all(d.join("00000")).unwrap();
        std::fs::write(d.join("00000/img0.png"), b"pixels").unwrap();
        std::fs::write(d.join("dataset.json"), b"{\"labels\": null}").unwrap();
    }
    assert_eq!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
    std::fs::write(b.join("00000/img0.png"), b"pixelz").unwrap();
    assert_ne!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
    let e = content_hash(&a.join("missing.zip"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.zip"), "{e}");
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

// ---- the weights file ----

#[test]
fn missing_or_damaged_inception_file_names_the_file_and_the_fetch_command() {
    let dir = temp_dir("weights");
    let missing = dir.join("default_1.pt");
    let e = InceptionV3::load(&missing, &cpu()).err().unwrap();
    assert!(matches!(e, InceptionError::Missing { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains(&*missing.to_string_lossy()) && msg.contains("scripts/fetch-inception.sh"),
        "{msg}"
    );

    std::fs::write(&missing, b"not a zip at all").unwrap();
    let msg = InceptionV3::load(&missing, &cpu())
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("SHA-1") && msg.contains("default_1.pt") && msg.contains("fetch-inception.sh"),
        "{msg}"
    );
    // Without the checksum the structure is still checked.
    let msg = InceptionV3::load_unverified(&missing, &cpu())
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("not a valid TorchScript archive") && msg.contains("default_1.pt"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unavailable_metrics_are_errors_that_say_why() {
    let e = parse_metric("is50k").unwrap_err().to_string();
    assert!(e.contains("is50k") && e.contains("classifier"), "{e}");
    let e = parse_metric("pr50k3_full").unwrap_err().to_string();
    assert!(e.contains("VGG16"), "{e}");
}
