//! Inception feature extraction speed: images/s at batch 32 from 64x64 uint8
//! inputs (resized to 299x299), median of several batches, printed as a table.
//!
//! Reference (../shared/bench/README.md): PyTorch 2.15 running default_1.pt on
//! the same kind of 2-core CPU, 2 threads: 6.89 images/s (6.1-7.6).
//!
//! Run: `cargo bench -p tcgan-nn --bench inception` (needs the weights:
//! scripts/fetch-inception.sh). `TCGAN_BENCH_REPS` sets the batches timed.

use std::time::Instant;
use tcgan_core::Generator;
use tcgan_nn::inception::{default_weights_path, ImageBatch, InceptionV3};
use tcgan_ops_cpu::cpu;

const BATCH: usize = 32;

/// CPU seconds (user + system) of this process so far, where Linux tells.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
const RES: usize = 64;
const PYTORCH_IMAGES_PER_S: f64 = 6.89;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let model = match InceptionV3::load(&default_weights_path(), &cpu()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("inception bench: {e}");
            std::process::exit(1);
        }
    };
    let reps: usize = std::env::var("TCGAN_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut g = Generator::new(7);
    let pixels: Vec<u8> = (0..BATCH * 3 * RES * RES)
        .map(|_| g.below(256) as u8)
        .collect();
    let batch = ImageBatch::new(&pixels, [BATCH, 3, RES, RES]).unwrap();
    // One warm-up batch (allocator, page faults).
    model.features(&batch).unwrap();
    let load_before = load_average();
    let cpu0 = cpu_seconds();
    let mut secs: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(model.features(&batch).unwrap());
            t.elapsed().as_secs_f64()
        })
        .collect();
    let cpu_per_batch = cpu_seconds().zip(cpu0).map(|(b, a)| (b - a) / reps as f64);
    secs.sort_by(f64::total_cmp);
    let rate = |s: f64| BATCH as f64 / s;
    let median = secs[secs.len() / 2];
    println!(
        "| benchmark | threads | s/batch (median of {reps}) | images/s | min-max images/s | PyTorch 2.15 images/s |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| Inception features, batch {BATCH}, {RES}x{RES} uint8 -> 299 | {} | {median:.2} | {:.2} | {:.2}-{:.2} | {PYTORCH_IMAGES_PER_S} |",
        tcgan_ops_cpu::num_threads(),
        rate(median),
        rate(secs[secs.len() - 1]),
        rate(secs[0]),
    );
    let threads = tcgan_ops_cpu::num_threads() as f64;
    if let Some(c) = cpu_per_batch {
        // On a shared machine wall time includes waiting for a core; the CPU
        // time does not, and bounds what a quiet machine reaches.
        println!(
            "CPU time {c:.2} s/batch = {:.2} images per CPU-second; with {threads} cores to ourselves: about {:.2} images/s (load average {load_before} before, {} after)",
            BATCH as f64 / c,
            BATCH as f64 / c * threads,
            load_average()
        );
    }
    let fid10k_min = 10_000.0 / rate(median) / 60.0;
    println!(
        "FID-10k feature extraction (10k generated images, real statistics cached): {fid10k_min:.1} min"
    );
}
