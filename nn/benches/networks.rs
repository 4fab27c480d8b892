//! Speed of the bench32 networks (../shared/bench/README.md): G forward (eval,
//! const noise, fused and non-fused modconv), G forward + backward, D forward +
//! backward, and the four loss phases (Gmain, Greg, Dmain, Dreg = one R1 step).
//! Prints a table of medians; run with `cargo bench -p tcgan-nn --bench networks`.
//! Options (after `--`): `--threads N` (default 2, as the official figures),
//! `--runs N` (default 7), `--only NAME` (a substring of the row names).

use std::time::Instant;
use tcgan_core::{backward, no_grad, DType, Generator as Rng, Tensor};
use tcgan_nn::loss::{LossKwargs, Phase, PhaseInputs, StyleGAN2Loss};
use tcgan_nn::networks::{
    Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs, GeneratorOptions, NoiseMode,
};
use tcgan_nn::{Init, Module};
use tcgan_ops_cpu::cpu;

fn g_kwargs() -> GeneratorKwargs {
    serde_json::from_value(serde_json::json!({
        "z_dim": 128, "w_dim": 128, "c_dim": 10, "img_resolution": 32, "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "synthesis_kwargs": {"channel_base": 4096, "channel_max": 128, "num_fp16_res": 0, "conv_clamp": null}
    }))
    .unwrap()
}

fn d_kwargs() -> DiscriminatorKwargs {
    serde_json::from_value(serde_json::json!({
        "c_dim": 10, "img_resolution": 32, "img_channels": 3, "architecture": "resnet",
        "channel_base": 4096, "channel_max": 128, "num_fp16_res": 0, "conv_clamp": null,
        "epilogue_kwargs": {"mbstd_group_size": 4}
    }))
    .unwrap()
}

struct Args {
    threads: usize,
    runs: usize,
    only: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        threads: 2,
        runs: 7,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(s) = it.next() {
        match s.as_str() {
            "--threads" => a.threads = it.next().and_then(|v| v.parse().ok()).expect("--threads N"),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--only" => a.only = it.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// Process CPU time (all threads) in seconds, where the OS tells it: on a
/// shared machine it varies far less than wall time.
#[cfg(target_os = "linux")]
fn cpu_seconds() -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, t: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one Timespec, which `t` is.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    (rc == 0).then_some(t.sec as f64 + t.nsec as f64 * 1e-9)
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds() -> Option<f64> {
    None
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Timings of one benchmark: wall-clock median, min and max, and the median
/// process CPU time, in seconds.
struct Timing {
    median: f64,
    min: f64,
    max: f64,
    cpu: Option<f64>,
}

/// Times `runs` calls after one warm-up call.
fn time(runs: usize, mut f: impl FnMut()) -> Timing {
    f();
    let mut wall = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    for _ in 0..runs {
        let c0 = cpu_seconds();
        let s = Instant::now();
        f();
        wall.push(s.elapsed().as_secs_f64());
        if let (Some(c0), Some(c1)) = (c0, cpu_seconds()) {
            cpu.push(c1 - c0);
        }
    }
    Timing {
        min: wall.iter().copied().fold(f64::INFINITY, f64::min),
        max: wall.iter().copied().fold(0.0, f64::max),
        median: median(wall),
        cpu: (!cpu.is_empty()).then(|| median(cpu)),
    }
}

fn one_hot(rng: &mut Rng, n: usize, c: usize) -> Tensor {
    let mut v = vec![0f32; n * c];
    for i in 0..n {
        v[i * c + rng.below(c as u64) as usize] = 1.0;
    }
    Tensor::from_vec(v, [n, c], &cpu()).unwrap()
}

fn main() {
    let a = args();
    tcgan_ops_cpu::set_num_threads(a.threads).expect("thread pool");
    let dev = cpu();
    let mut rng = Rng::new(2024);
    let mut init = Init::new(&mut rng, &dev, DType::F32);
    let g = Generator::new(&mut init, &g_kwargs()).unwrap();
    let d = Discriminator::new(&mut init, &d_kwargs()).unwrap();
    g.mapping.set_transition(0.5).unwrap();
    d.set_transition(0.5).unwrap();
    let mut rng = Rng::new(7);

    println!(
        "bench32 on the CPU, {} threads, {} runs each: wall-clock median (min-max), median process CPU time",
        a.threads, a.runs
    );
    println!(
        "{:<48} {:>10} {:>19} {:>9} {:>10}",
        "benchmark", "median", "min-max", "CPU", "images/s"
    );
    let row = |name: &str, batch: usize, t: Timing| {
        let cpu = t
            .cpu
            .map_or("-".to_string(), |c| format!("{:.1}ms", c * 1e3));
        println!(
            "{name:<48} {:>8.1}ms {:>8.1}-{:<8.1}ms {cpu:>9} {:>10.1}",
            t.median * 1e3,
            t.min * 1e3,
            t.max * 1e3,
            batch as f64 / t.median
        );
    };
    let wanted = |name: &str| a.only.as_deref().is_none_or(|o| name.contains(o));

    // G forward, eval mode, batch 32 (the official inference figures).
    for fused in [true, false] {
        let name = format!("G forward, eval, const noise, fused={fused}, b32");
        if !wanted(&name) {
            continue;
        }
        let z = rng.normal([32, 128], DType::F32, &dev).unwrap();
        let c = one_hot(&mut rng, 32, 10);
        let opts = GeneratorOptions {
            noise_mode: NoiseMode::Const,
            fused_modconv: Some(fused),
            ..GeneratorOptions::default()
        };
        let t = time(a.runs, || {
            no_grad(|| g.forward(&z, Some(&c), &opts, &mut Rng::new(0)).unwrap());
        });
        row(&name, 32, t);
    }

    // Training-mode passes at batch 16.
    let n = 16;
    let z = rng.normal([n, 128], DType::F32, &dev).unwrap();
    let c = one_hot(&mut rng, n, 10);
    let real = rng
        .uniform([n, 3, 32, 32], -1.0, 1.0, DType::F32, &dev)
        .unwrap();
    let r = rng.normal([n, 3, 32, 32], DType::F32, &dev).unwrap();

    let name = "G forward+backward, train, b16";
    if wanted(name) {
        g.set_training(true);
        g.set_requires_grad(true).unwrap();
        let t = time(a.runs, || {
            g.zero_grad();
            let img = g
                .forward(&z, Some(&c), &GeneratorOptions::default(), &mut Rng::new(1))
                .unwrap();
            backward(&img.mul(&r).unwrap().sum_all().unwrap(), None, false).unwrap();
        });
        row(name, n, t);
    }

    let name = "D forward+backward, b16";
    if wanted(name) {
        d.set_requires_grad(true).unwrap();
        let t = time(a.runs, || {
            d.zero_grad();
            let logits = d.forward(&real, Some(&c)).unwrap();
            backward(&logits.sum_all().unwrap(), None, false).unwrap();
        });
        row(name, n, t);
    }

    // The loss phases as the training loop runs them (style mixing 0.9, r1_gamma 1).
    let kwargs = LossKwargs {
        r1_gamma: 1.0,
        ..LossKwargs::default()
    };
    let mut loss = StyleGAN2Loss::new(kwargs, &z).unwrap();
    g.set_training(true);
    let inputs = PhaseInputs {
        real_img: &real,
        real_c: Some(&c),
        gen_z: &z,
        gen_c: Some(&c),
    };
    // Phases run every 1 (main), 4 (Greg) or 16 (Dreg) iterations.
    let mut per_iteration = Some((0.0, 0.0));
    for (phase, label, every) in [
        (Phase::Gmain, "loss phase Gmain, b16", 1.0),
        (Phase::Greg, "loss phase Greg (path length), b16", 4.0),
        (Phase::Dmain, "loss phase Dmain, b16", 1.0),
        (Phase::Dreg, "loss phase Dreg (one R1 step), b16", 16.0),
    ] {
        if !wanted(label) {
            per_iteration = None;
            continue;
        }
        let mut noise = Rng::new(3);
        let t = time(a.runs, || {
            g.zero_grad();
            d.zero_grad();
            loss.accumulate_gradients(phase, &g, &d, &inputs, 1.0, None, &mut noise)
                .unwrap();
        });
        per_iteration = per_iteration
            .map(|(w, c)| (w + t.median / every, c + t.cpu.unwrap_or(f64::NAN) / every));
        row(label, n, t);
    }
    if let Some((wall, cpu)) = per_iteration {
        println!(
            "{:<48} {:>8.1}ms {:>19} {:>7.1}ms   (loss phases only: no optimizer, no G_ema)",
            "training iteration = Gmain+Dmain+Greg/4+Dreg/16",
            wall * 1e3,
            "",
            cpu * 1e3
        );
    }
}
