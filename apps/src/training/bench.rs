//! `train --bench NAME`: a fixed number of training steps of a fixed
//! configuration on random data (no data set, no metrics, no files), timed as
//! the official figures in the shared benchmark notes were.

use super::config::*;
use super::options::{Cfg, DeviceKind, Mode};
use super::run_dir::Logger;
use super::training_loop::{run, DataSource, RunSetup};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The official figures on a 2-core CPU (PyTorch, 2 threads), sec/kimg.
pub fn official_sec_per_kimg(name: &str, augment: bool) -> Option<f64> {
    match (name, augment) {
        ("bench32", false) => Some(73.6),
        ("bench32", true) => Some(75.2),
        ("bench64", false) => Some(252.0),
        ("bench64", true) => Some(270.0),
        _ => None,
    }
}

/// What a benchmark trains: the networks' size, the batch and the loss.
struct BenchConfig {
    res: usize,
    cbase: usize,
    cmax: usize,
    map: usize,
    batch: usize,
    mbstd: usize,
    lrate: f64,
    gamma: f64,
    ema_kimg: f64,
    ema_rampup: Option<f64>,
    num_fp16_res: usize,
    conv_clamp: Option<f64>,
    /// ADA's pipe runs in every phase even at p = 0, as in the official default run.
    always_augment: bool,
}

/// The benchmark configurations: bench32 (32x32, batch 16, 2 mapping layers)
/// and bench64 (64x64, batch 8, 8 mapping layers), 128 channels throughout,
/// R1 gamma 1, no fp16, no clamping; and auto128, the official "expected
/// training time" run (128x128, `--cfg=auto` on one GPU: batch 32, ADA bgc).
/// All are conditional with c_dim 10 and transition 0.5.
/// `fp16` runs the f16 blocks of auto128 in f16 (the others have none).
pub fn bench_setup(
    name: &str,
    augment_p: Option<f64>,
    device: DeviceKind,
    fp16: bool,
) -> Result<RunSetup> {
    let fixed = |res, cbase, map, batch| BenchConfig {
        res,
        cbase,
        cmax: 128,
        map,
        batch,
        mbstd: 4,
        lrate: 0.0025,
        gamma: 1.0,
        ema_kimg: 10.0,
        ema_rampup: None,
        num_fp16_res: 0,
        conv_clamp: None,
        always_augment: false,
    };
    let b = match name {
        "bench32" => fixed(32, 4096, 2, 16),
        "bench64" => fixed(64, 8192, 8, 8),
        "auto128" => {
            let sp = spec(Cfg::Auto, 1, 128);
            BenchConfig {
                res: 128,
                cbase: (sp.fmaps * 32768.0) as usize,
                cmax: 512,
                map: sp.map,
                batch: sp.mb,
                mbstd: sp.mbstd,
                lrate: sp.lrate,
                gamma: sp.gamma,
                ema_kimg: sp.ema,
                ema_rampup: sp.ramp,
                num_fp16_res: 4,
                conv_clamp: Some(256.0),
                always_augment: true,
            }
        }
        other => bail!("--bench={other}: expected bench32, bench64 or auto128"),
    };
    if fp16 && b.num_fp16_res == 0 {
        bail!("--fp16=1: --bench={name} has no f16 blocks (num_fp16_res = 0); auto128 has 4");
    }
    let augment_p = if b.always_augment {
        Some(augment_p.unwrap_or(0.0))
    } else {
        augment_p
    };
    let (res, cbase, map, batch) = (b.res, b.cbase, b.map, b.batch);
    let opt = OptKwargs {
        lr: b.lrate,
        betas: [0.0, 0.99],
        eps: 1e-8,
    };
    let augment_kwargs = augment_p.map(|_| {
        augpipe_spec("bgc")
            .unwrap()
            .into_iter()
            .map(|k| (k.to_string(), 1.0))
            .collect::<BTreeMap<_, _>>()
    });
    let options = TrainingOptions {
        num_gpus: 1,
        image_snapshot_ticks: 1,
        network_snapshot_ticks: 1,
        metrics: Vec::new(),
        random_seed: 0,
        training_set_kwargs: DatasetKwargs {
            path: String::new(),
            use_labels: true,
            max_size: 0,
            xflip: false,
            resolution: res,
            random_seed: 0,
        },
        data_loader_kwargs: DataLoaderKwargs {
            num_workers: 1,
            prefetch_factor: 2,
        },
        G_kwargs: GKwargs {
            z_dim: 128,
            w_dim: 128,
            mapping_kwargs: MappingKwargs { num_layers: map },
            synthesis_kwargs: SynthesisKwargs {
                channel_base: cbase,
                channel_max: b.cmax,
                num_fp16_res: b.num_fp16_res,
                conv_clamp: b.conv_clamp,
            },
        },
        D_kwargs: DKwargs {
            architecture: "resnet".into(),
            channel_base: cbase,
            channel_max: b.cmax,
            num_fp16_res: b.num_fp16_res,
            conv_clamp: b.conv_clamp,
            block_kwargs: BlockKwargs { freeze_layers: 0 },
            epilogue_kwargs: EpilogueKwargs {
                mbstd_group_size: b.mbstd,
            },
        },
        G_opt_kwargs: opt.clone(),
        D_opt_kwargs: opt,
        loss_kwargs: LossKwargs {
            r1_gamma: b.gamma,
            pl_weight: 2.0,
            pl_batch_shrink: 2,
            pl_decay: 0.01,
            style_mixing_prob: 0.9,
        },
        total_kimg: 1e9,
        batch_size: batch,
        batch_gpu: batch,
        ema_kimg: b.ema_kimg,
        ema_rampup: b.ema_rampup,
        G_reg_interval: 4,
        D_reg_interval: 16,
        augment_kwargs,
        augment_p: augment_p.unwrap_or(0.0),
        ada_target: None,
        ada_interval: 4,
        ada_kimg: 500.0,
        mode: Mode::Transitional,
        t_start_kimg: 0.0,
        t_end_kimg: 1.0,
        kimg_per_tick: 1e9,
        device,
        fp16,
        resume: None,
        run_dir: String::new(),
    };
    Ok(RunSetup {
        options,
        data: DataSource::Random {
            resolution: res,
            channels: 3,
            c_dim: 10,
        },
        run_dir: None,
        resume: None,
        // One warm-up step, then a cycle of 16 that covers every phase.
        max_steps: Some(17),
        fixed_transition: Some(0.5),
        metrics: None,
    })
}

/// Runs a benchmark and prints its table; the last line is
/// `<name> sec/kimg=<float> peak_rss_mb=<int>`.
pub fn run_bench(name: &str, augment_p: Option<f64>, device_name: &str, fp16: bool) -> Result<()> {
    let kind = if device_name == "cpu" {
        DeviceKind::Cpu
    } else {
        DeviceKind::Cuda
    };
    let setup = bench_setup(name, augment_p, kind, fp16)?;
    let log = Logger::stdout_only();
    let summary = run(&setup, device_name, &log)?;
    let timed = &summary.step_seconds[1..];
    let batch = setup.options.batch_size;
    let sec = timed.iter().sum::<f64>();
    let sec_per_iter = sec / timed.len() as f64;
    let sec_per_kimg = sec / (timed.len() * batch) as f64 * 1000.0;
    let peak_rss_mb = crate::device::peak_rss_bytes() / (1 << 20);
    let peak_gpu_mb = summary.peak_gpu_bytes / (1 << 20);
    let threads = rayon::current_num_threads();
    let mut label = match augment_p {
        Some(p) => format!("{name} + bgc p={p}"),
        None => name.to_string(),
    };
    if fp16 {
        label += " + fp16";
    }
    println!();
    println!("| benchmark | sec/iter | sec/kimg | official sec/kimg (PyTorch CPU, 2 threads) | peak RSS |");
    println!("|---|---|---|---|---|");
    println!(
        "| {label} ({device_name}, {threads} threads, {} timed iterations) | {sec_per_iter:.3} | {sec_per_kimg:.1} | {} | {peak_rss_mb} MB |",
        timed.len(),
        official_sec_per_kimg(name, augment_p.is_some()).map_or("-".into(), |v| format!("{v}"))
    );
    if peak_gpu_mb > 0 {
        println!(
            "{name} sec/kimg={sec_per_kimg:.2} peak_rss_mb={peak_rss_mb} peak_gpu_mb={peak_gpu_mb}"
        );
    } else {
        println!("{name} sec/kimg={sec_per_kimg:.2} peak_rss_mb={peak_rss_mb}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto128_is_the_official_cfg_auto_run_on_one_gpu() {
        let o = bench_setup("auto128", None, DeviceKind::Cpu, false)
            .unwrap()
            .options;
        // train.py --cfg=auto at 128x128 on 1 GPU: batch 32, fmaps 0.5, gamma 0.1024, ...
        assert_eq!((o.batch_size, o.batch_gpu), (32, 32));
        assert_eq!(o.G_kwargs.synthesis_kwargs.channel_base, 16384);
        assert_eq!(o.G_kwargs.synthesis_kwargs.channel_max, 512);
        assert_eq!(o.G_kwargs.mapping_kwargs.num_layers, 2);
        assert_eq!(o.D_kwargs.epilogue_kwargs.mbstd_group_size, 4);
        assert!((o.loss_kwargs.r1_gamma - 0.1024).abs() < 1e-12);
        assert_eq!((o.ema_kimg, o.ema_rampup), (10.0, Some(0.05)));
        assert_eq!(o.G_kwargs.synthesis_kwargs.conv_clamp, Some(256.0));
        assert!(
            o.augment_kwargs.is_some(),
            "the official run trains with ADA"
        );
        assert!(bench_setup("bench128", None, DeviceKind::Cpu, false).is_err());
        assert!(
            bench_setup("auto128", None, DeviceKind::Cpu, true)
                .unwrap()
                .options
                .fp16
        );
        assert!(bench_setup("bench32", None, DeviceKind::Cpu, true).is_err());
    }
}
