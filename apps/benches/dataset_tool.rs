//! Benchmark: dataset_tool converting a folder of 2,000 256x256 JPEGs (10 class folders) to
//! 128x128 with `--transform=center-crop` (Lanczos), the workload of the issue. Prints a table
//! of images/s (median, min-max over the runs) with all threads and with one.
//!
//! `TCGAN_BENCH_DIR` keeps the generated folder (default `target/bench-dataset-tool`) so that
//! `scripts/bench-dataset-tool.sh` can time the official tool on the very same files;
//! `TCGAN_BENCH_RUNS` sets the number of timed runs (default 5).

use std::path::{Path, PathBuf};
use std::time::Instant;

use tcgan_apps::dataset::{convert_dataset, ConvertOptions, Geometry, ResizeFilter, Transform};

const IMAGES: usize = 2000;
const SIDE: u16 = 256;

fn bench_dir() -> PathBuf {
    match std::env::var_os("TCGAN_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-dataset-tool"),
    }
}

/// Smooth colour fields with texture, so the JPEGs have realistic entropy.
fn make_sources(src: &Path) {
    let marker = src.join(".complete");
    if marker.exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(src);
    let mut state = 0x1234_5678u32;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let n = SIDE as usize;
    for i in 0..IMAGES {
        let dir = src.join(format!("class{}", i % 10));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b, c) = (
            (rnd() % 97) as usize + 1,
            (rnd() % 89) as usize + 1,
            rnd() % 256,
        );
        let mut px = Vec::with_capacity(n * n * 3);
        for y in 0..n {
            for x in 0..n {
                let noise = rnd() % 24;
                px.push(((x * a / 7 + y) as u32 + c + noise) as u8);
                px.push(((y * b / 5 + x / 2) as u32 + noise) as u8);
                px.push((((x ^ y) * 3) as u32 + c / 2 + noise) as u8);
            }
        }
        let path = dir.join(format!("img{i:05}.jpg"));
        let enc = jpeg_encoder::Encoder::new_file(&path, 90).unwrap();
        enc.encode(&px, SIDE, SIDE, jpeg_encoder::ColorType::Rgb)
            .unwrap();
    }
    std::fs::write(marker, b"").unwrap();
}

/// CPU seconds (user + system) used by this process so far; Linux only, `None` elsewhere.
/// On a shared machine CPU time is steadier than wall time, so both are reported.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let dir = bench_dir();
    let src = dir.join("src");
    make_sources(&src);
    let runs: usize = std::env::var("TCGAN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let opts = ConvertOptions {
        geometry: Geometry {
            transform: Transform::CenterCrop,
            width: Some(128),
            height: Some(128),
            filter: ResizeFilter::Lanczos,
        },
        ..Default::default()
    };
    println!(
        "dataset_tool: {IMAGES} JPEGs {SIDE}x{SIDE} -> 128x128 center-crop, Lanczos ({runs} runs)"
    );
    println!("| threads | images/s (median) | min-max | CPU s per 1000 images (median) |");
    println!("|---|---|---|---|");
    let all = rayon::current_num_threads();
    for threads in [all, 1] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut rates = Vec::new();
        let mut cpu = Vec::new();
        for r in 0..runs {
            let dest = dir.join(format!("ours-{threads}-{r}.zip"));
            let c0 = cpu_seconds();
            let t = Instant::now();
            let report = pool
                .install(|| convert_dataset(&src, &dest, &opts))
                .unwrap();
            let secs = t.elapsed().as_secs_f64();
            if let (Some(a), Some(b)) = (c0, cpu_seconds()) {
                cpu.push((b - a) * 1000.0 / IMAGES as f64);
            }
            assert_eq!(report.images, IMAGES);
            rates.push(IMAGES as f64 / secs);
            std::fs::remove_file(&dest).unwrap();
        }
        let (lo, hi) = rates
            .iter()
            .fold((f64::MAX, 0f64), |(l, h), &v| (l.min(v), h.max(v)));
        let cpu = if cpu.is_empty() {
            "n/a".to_string()
        } else {
            format!("{:.2}", median(cpu))
        };
        println!(
            "| {threads} | {:.0} | {lo:.0}-{hi:.0} | {cpu} |",
            median(rates)
        );
        if all == 1 {
            break;
        }
    }
}
