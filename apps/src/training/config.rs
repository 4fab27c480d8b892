//! Resolves the command line into the full training configuration, reproducing
//! the official `setup_training_loop_kwargs` (the `--cfg` spec table, what `auto`
//! derives from resolution and GPU count, and the run description).

use super::options::{AugMode, Cfg, DeviceKind, Mode, TrainArgs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A problem with the options, reported to the user as is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, UserError> {
    Err(UserError(msg.into()))
}

/// What the configuration needs to know of the training set.
#[derive(Debug, Clone)]
pub struct DatasetInfo {
    pub name: String,
    pub path: String,
    pub resolution: usize,
    pub num_images: usize,
    pub has_labels: bool,
}

/// One row of the official `cfg_specs` table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub ref_gpus: usize,
    pub kimg: f64,
    pub mb: usize,
    pub mbstd: usize,
    pub fmaps: f64,
    pub lrate: f64,
    pub gamma: f64,
    pub ema: f64,
    pub ramp: Option<f64>,
    pub map: usize,
}

/// The official spec table; `auto` is filled in from resolution and GPU count.
pub fn spec(cfg: Cfg, gpus: usize, res: usize) -> Spec {
    let s = |ref_gpus, kimg, mb, mbstd, fmaps, lrate, gamma, ema, ramp, map| Spec {
        ref_gpus,
        kimg,
        mb,
        mbstd,
        fmaps,
        lrate,
        gamma,
        ema,
        ramp,
        map,
    };
    match cfg {
        Cfg::Auto => {
            let mb = (gpus * (4096 / res).min(32)).min(64).max(gpus);
            s(
                gpus,
                25000.0,
                mb,
                (mb / gpus).min(4),
                if res >= 512 { 1.0 } else { 0.5 },
                if res >= 1024 { 0.002 } else { 0.0025 },
                0.0002 * (res * res) as f64 / mb as f64,
                mb as f64 * 10.0 / 32.0,
                Some(0.05),
                2,
            )
        }
        Cfg::Stylegan2 => s(8, 25000.0, 32, 4, 1.0, 0.002, 10.0, 10.0, None, 8),
        Cfg::Paper256 => s(8, 25000.0, 64, 8, 0.5, 0.0025, 1.0, 20.0, None, 8),
        Cfg::Paper512 => s(8, 25000.0, 64, 8, 1.0, 0.0025, 0.5, 20.0, None, 8),
        Cfg::Paper1024 => s(8, 25000.0, 32, 4, 1.0, 0.002, 2.0, 10.0, None, 8),
        Cfg::Cifar => s(2, 100000.0, 64, 32, 1.0, 0.0025, 0.01, 500.0, Some(0.05), 2),
    }
}

/// The official augmentation pipelines: which augmentations each enables.
pub fn augpipe_spec(name: &str) -> Option<Vec<&'static str>> {
    const B: [&str; 3] = ["xflip", "rotate90", "xint"];
    const G: [&str; 4] = ["scale", "rotate", "aniso", "xfrac"];
    const C: [&str; 5] = ["brightness", "contrast", "lumaflip", "hue", "saturation"];
    let v: Vec<&str> = match name {
        "blit" => B.to_vec(),
        "geom" => G.to_vec(),
        "color" => C.to_vec(),
        "filter" => vec!["imgfilter"],
        "noise" => vec!["noise"],
        "cutout" => vec!["cutout"],
        "bg" => [&B[..], &G[..]].concat(),
        "bgc" => [&B[..], &G[..], &C[..]].concat(),
        "bgcf" => [&B[..], &G[..], &C[..], &["imgfilter"]].concat(),
        "bgcfn" => [&B[..], &G[..], &C[..], &["imgfilter", "noise"]].concat(),
        "bgcfnc" => [&B[..], &G[..], &C[..], &["imgfilter", "noise", "cutout"]].concat(),
        _ => return None,
    };
    Some(v)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetKwargs {
    pub path: String,
    pub use_labels: bool,
    pub max_size: usize,
    pub xflip: bool,
    pub resolution: usize,
    pub random_seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataLoaderKwargs {
    pub num_workers: usize,
    pub prefetch_factor: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MappingKwargs {
    pub num_layers: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SynthesisKwargs {
    pub channel_base: usize,
    pub channel_max: usize,
    pub num_fp16_res: usize,
    pub conv_clamp: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[allow(non_snake_case)]
pub struct GKwargs {
    pub z_dim: usize,
    pub w_dim: usize,
    pub mapping_kwargs: MappingKwargs,
    pub synthesis_kwargs: SynthesisKwargs,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlockKwargs {
    pub freeze_layers: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpilogueKwargs {
    pub mbstd_group_size: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DKwargs {
    pub architecture: String,
    pub channel_base: usize,
    pub channel_max: usize,
    pub num_fp16_res: usize,
    pub conv_clamp: Option<f64>,
    pub block_kwargs: BlockKwargs,
    pub epilogue_kwargs: EpilogueKwargs,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OptKwargs {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LossKwargs {
    pub r1_gamma: f64,
    pub pl_weight: f64,
    pub pl_batch_shrink: usize,
    pub pl_decay: f64,
    pub style_mixing_prob: f64,
}

/// The complete, resolved configuration: written as `training_options.json`,
/// printed by `--dry-run`, and stored in snapshots. Keys follow the official file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[allow(non_snake_case)]
pub struct TrainingOptions {
    pub num_gpus: usize,
    pub image_snapshot_ticks: usize,
    pub network_snapshot_ticks: usize,
    pub metrics: Vec<String>,
    pub random_seed: u64,
    pub training_set_kwargs: DatasetKwargs,
    pub data_loader_kwargs: DataLoaderKwargs,
    pub G_kwargs: GKwargs,
    pub D_kwargs: DKwargs,
    pub G_opt_kwargs: OptKwargs,
    pub D_opt_kwargs: OptKwargs,
    pub loss_kwargs: LossKwargs,
    pub total_kimg: f64,
    pub batch_size: usize,
    pub batch_gpu: usize,
    pub ema_kimg: f64,
    pub ema_rampup: Option<f64>,
    pub G_reg_interval: usize,
    pub D_reg_interval: usize,
    /// The enabled augmentations of the pipe (`None`: no augmentation).
    pub augment_kwargs: Option<BTreeMap<String, f64>>,
    pub augment_p: f64,
    pub ada_target: Option<f64>,
    pub ada_interval: usize,
    pub ada_kimg: f64,
    pub mode: Mode,
    pub t_start_kimg: f64,
    pub t_end_kimg: f64,
    pub kimg_per_tick: f64,
    pub device: DeviceKind,
    /// Whether the `num_fp16_res` blocks run in f16 (`--fp16`); absent in
    /// options written before the flag existed.
    #[serde(default)]
    pub fp16: bool,
    pub resume: Option<String>,
    pub run_dir: String,
}

/// `{:g}`-like formatting of a number for run names: `0.5`, `2`, `1e-05`.
fn g(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The mode a set of flags asks for (see `--mode`).
pub fn resolve_mode(args: &TrainArgs) -> Result<Mode, UserError> {
    let cond = args.cond.unwrap_or(false);
    let (t0, t1) = (
        args.t_start_kimg.unwrap_or(0.0),
        args.t_end_kimg.unwrap_or(0.0),
    );
    let mode = match args.mode {
        Some(m) => m,
        None if !cond => Mode::Uncond,
        None if t1 > 0.0 => Mode::Transitional,
        None => Mode::Cond,
    };
    if t0 > t1 {
        return fail(format!(
            "--t_start_kimg ({t0}) must not be larger than --t_end_kimg ({t1})"
        ));
    }
    match mode {
        Mode::Uncond if cond => fail("--mode=uncond contradicts --cond=1"),
        Mode::Cond | Mode::Transitional if !cond => fail(format!(
            "--mode={} needs class labels: add --cond=1",
            if mode == Mode::Cond {
                "cond"
            } else {
                "transitional"
            }
        )),
        Mode::Uncond | Mode::Cond if t1 > 0.0 => {
            fail("--t_start_kimg/--t_end_kimg only apply to --mode=transitional")
        }
        _ => Ok(mode),
    }
}

/// Builds the configuration and the run description from the flags and the
/// training set, with the official rules and error messages.
pub fn resolve(
    args: &TrainArgs,
    data: &DatasetInfo,
) -> Result<(String, TrainingOptions), UserError> {
    let gpus = args.gpus.unwrap_or(1);
    if gpus == 0 || !gpus.is_power_of_two() {
        return fail("--gpus must be a power of two");
    }
    let snap = args.snap.unwrap_or(50);
    if snap < 1 {
        return fail("--snap must be at least 1");
    }
    let metrics: Vec<String> = match args.metrics.as_deref() {
        None => vec!["fid50k_full".to_string()],
        Some(s) if s.is_empty() || s.eq_ignore_ascii_case("none") => Vec::new(),
        Some(s) => s
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect(),
    };
    for m in &metrics {
        if let Err(e) = tcgan_nn::metrics::registry::parse(m) {
            return fail(format!("--metrics: {e}"));
        }
    }
    let seed = args.seed.unwrap_or(0);

    let mut desc = data.name.clone();
    let cond = args.cond.unwrap_or(false);
    let mode = resolve_mode(args)?;
    if cond {
        if !data.has_labels {
            return fail(format!(
                "--cond=1 requires labels in {}/dataset.json",
                data.path
            ));
        }
        desc += "-cond";
    }
    let mut max_size = data.num_images;
    if let Some(subset) = args.subset {
        if !(1..=data.num_images).contains(&subset) {
            return fail(format!(
                "--subset must be between 1 and {}",
                data.num_images
            ));
        }
        desc += &format!("-subset{subset}");
        max_size = subset;
    }
    let mirror = args.mirror.unwrap_or(false);
    if mirror {
        desc += "-mirror";
    }
    let (t_start, t_end) = match mode {
        Mode::Transitional => (
            args.t_start_kimg.unwrap_or(0.0),
            args.t_end_kimg.unwrap_or(0.0),
        ),
        _ => (0.0, 0.0),
    };
    if mode == Mode::Transitional {
        // The official name uses ':' here, which is not a valid file name everywhere.
        desc += &format!("-trans{}-{}", g(t_start), g(t_end));
    }

    let cfg = args.cfg.unwrap_or(Cfg::Auto);
    desc += &format!("-{}", cfg.name());
    let res = data.resolution;
    let spec = spec(cfg, gpus, res);
    if cfg == Cfg::Auto {
        desc += &format!("{gpus}");
    }

    let fp32 = args.fp32.unwrap_or(false);
    let (num_fp16_res, conv_clamp) = if fp32 { (0, None) } else { (4, Some(256.0)) };
    let fp16 = args.fp16.unwrap_or(false);
    if fp16 && fp32 {
        return fail("--fp16=1 runs the num_fp16_res blocks in f16, which --fp32=1 sets to none");
    }
    let channel_base = args.cbase.unwrap_or((spec.fmaps * 32768.0) as usize);
    let channel_max = args.cmax.unwrap_or(512);
    let map = args.map.unwrap_or(spec.map);
    if let Some(c) = args.cbase {
        desc += &format!("-cbase{c}");
    }
    if let Some(c) = args.cmax {
        desc += &format!("-cmax{c}");
    }
    if let Some(m) = args.map {
        desc += &format!("-map{m}");
    }
    if channel_base == 0 || channel_max == 0 || map == 0 {
        return fail("--cbase, --cmax and --map must be at least 1");
    }

    let mut loss = LossKwargs {
        r1_gamma: spec.gamma,
        pl_weight: 2.0,
        pl_batch_shrink: 2,
        pl_decay: 0.01,
        style_mixing_prob: 0.9,
    };
    let mut architecture = "resnet".to_string();
    if cfg == Cfg::Cifar {
        loss.pl_weight = 0.0;
        loss.style_mixing_prob = 0.0;
        architecture = "orig".into();
    }
    if let Some(gamma) = args.gamma {
        if gamma.is_nan() || gamma < 0.0 {
            return fail("--gamma must be non-negative");
        }
        desc += &format!("-gamma{}", g(gamma));
        loss.r1_gamma = gamma;
    }
    let mut total_kimg = spec.kimg;
    if let Some(kimg) = args.kimg {
        if kimg <= 0.0 {
            return fail("--kimg must be positive");
        }
        desc += &format!("-kimg{}", g(kimg));
        total_kimg = kimg;
    }
    let mut batch_size = spec.mb;
    let mut batch_gpu = spec.mb / spec.ref_gpus;
    if let Some(batch) = args.batch {
        if batch < 1 || batch % gpus != 0 {
            return fail("--batch must be at least 1 and divisible by --gpus");
        }
        desc += &format!("-batch{batch}");
        batch_size = batch;
        batch_gpu = batch / gpus;
    }
    if let Some(bg) = args.batch_gpu {
        if bg < 1 || batch_size % (bg * gpus) != 0 {
            return fail(format!(
                "--batch-gpu must divide the per-GPU batch {} (batch {batch_size} / {gpus} GPUs)",
                batch_size / gpus
            ));
        }
        batch_gpu = bg;
    }
    if batch_gpu == 0 || batch_size % (batch_gpu * gpus) != 0 {
        return fail(format!(
            "the batch size {batch_size} is not a multiple of {gpus} GPUs x {batch_gpu} images per GPU; set --batch or --batch-gpu"
        ));
    }
    // MinibatchStd reshapes each pass into groups: they must tile the pass.
    let mbstd = spec.mbstd;
    if mbstd > 1 && batch_gpu > mbstd && batch_gpu % mbstd != 0 {
        return fail(format!(
            "images per GPU pass ({batch_gpu}) must be a multiple of the minibatch-std group size {mbstd}; adjust --batch or --batch-gpu"
        ));
    }

    let aug = args.aug.unwrap_or(AugMode::Ada);
    if args.aug.is_some() {
        desc += &format!(
            "-{}",
            match aug {
                AugMode::Ada => "ada",
                AugMode::Noaug => "noaug",
                AugMode::Fixed => "fixed",
            }
        );
    }
    let mut ada_target = None;
    let mut augment_p = 0.0;
    match aug {
        AugMode::Ada => ada_target = Some(0.6),
        AugMode::Noaug => {}
        AugMode::Fixed if args.p.is_none() => return fail("--aug=fixed requires specifying --p"),
        AugMode::Fixed => {}
    }
    if let Some(p) = args.p {
        if aug != AugMode::Fixed {
            return fail("--p can only be specified with --aug=fixed");
        }
        if !(0.0..=1.0).contains(&p) {
            return fail("--p must be between 0 and 1");
        }
        desc += &format!("-p{}", g(p));
        augment_p = p;
    }
    if let Some(t) = args.target {
        if aug != AugMode::Ada {
            return fail("--target can only be specified with --aug=ada");
        }
        if !(0.0..=1.0).contains(&t) {
            return fail("--target must be between 0 and 1");
        }
        desc += &format!("-target{}", g(t));
        ada_target = Some(t);
    }
    let augpipe = match &args.augpipe {
        None => "bgc".to_string(),
        Some(_) if aug == AugMode::Noaug => {
            return fail("--augpipe cannot be specified with --aug=noaug")
        }
        Some(p) => {
            desc += &format!("-{p}");
            p.clone()
        }
    };
    let augment_kwargs = match aug {
        AugMode::Noaug => None,
        _ => Some(
            augpipe_spec(&augpipe)
                .ok_or_else(|| UserError(format!("--augpipe={augpipe} is not a known pipeline")))?
                .into_iter()
                .map(|k| (k.to_string(), 1.0))
                .collect(),
        ),
    };

    let mut ema_rampup = spec.ramp;
    let mut ada_kimg = 500.0;
    if let Some(path) = &args.resume {
        desc += "-resumecustom";
        if !path.exists() {
            return fail(format!("--resume: {} does not exist", path.display()));
        }
        // As official: a resumed run adapts faster and skips the EMA ramp-up.
        ada_kimg = 100.0;
        ema_rampup = None;
    }
    let freeze_layers = args.freezed.unwrap_or(0);
    if let Some(f) = args.freezed {
        desc += &format!("-freezed{f}");
    }
    let kimg_per_tick = args.tick.unwrap_or(4.0);
    if kimg_per_tick <= 0.0 {
        return fail("--tick must be positive");
    }
    if let Some(d) = &args.description {
        desc += &format!("-{d}");
    }
    let desc: String = desc
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();

    let opt = OptKwargs {
        lr: spec.lrate,
        betas: [0.0, 0.99],
        eps: 1e-8,
    };
    let options = TrainingOptions {
        num_gpus: gpus,
        image_snapshot_ticks: snap,
        network_snapshot_ticks: snap,
        metrics,
        random_seed: seed,
        training_set_kwargs: DatasetKwargs {
            path: data.path.clone(),
            use_labels: cond,
            max_size,
            xflip: mirror,
            resolution: res,
            random_seed: seed,
        },
        data_loader_kwargs: DataLoaderKwargs {
            num_workers: args.workers.unwrap_or(3).max(1),
            prefetch_factor: 2,
        },
        G_kwargs: GKwargs {
            z_dim: 512,
            w_dim: 512,
            mapping_kwargs: MappingKwargs { num_layers: map },
            synthesis_kwargs: SynthesisKwargs {
                channel_base,
                channel_max,
                num_fp16_res,
                conv_clamp,
            },
        },
        D_kwargs: DKwargs {
            architecture,
            channel_base,
            channel_max,
            num_fp16_res,
            conv_clamp,
            block_kwargs: BlockKwargs { freeze_layers },
            epilogue_kwargs: EpilogueKwargs {
                mbstd_group_size: mbstd,
            },
        },
        G_opt_kwargs: opt.clone(),
        D_opt_kwargs: opt,
        loss_kwargs: loss,
        total_kimg,
        batch_size,
        batch_gpu,
        ema_kimg: spec.ema,
        ema_rampup,
        G_reg_interval: 4,
        D_reg_interval: 16,
        augment_kwargs,
        augment_p,
        ada_target,
        ada_interval: 4,
        ada_kimg,
        mode,
        t_start_kimg: t_start,
        t_end_kimg: t_end,
        kimg_per_tick,
        device: args.device.unwrap_or(DeviceKind::Cpu),
        fp16,
        resume: args.resume.as_ref().map(|p| p.display().to_string()),
        run_dir: String::new(),
    };
    Ok((desc, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> TrainArgs {
        let mut v = vec!["train", "--outdir=runs", "--data=d.zip"];
        v.extend_from_slice(extra);
        TrainArgs::try_parse_from(v).unwrap()
    }

    fn data(res: usize) -> DatasetInfo {
        DatasetInfo {
            name: "d".into(),
            path: "d.zip".into(),
            resolution: res,
            num_images: 1000,
            has_labels: true,
        }
    }

    /// Values of the official `auto` formulas, worked out by hand.
    #[test]
    fn auto_spec_follows_resolution_and_gpu_count() {
        let cases = [
            // (res, gpus, mb, mbstd, channel_base, lrate, gamma, ema)
            (32, 1, 32, 4, 16384, 0.0025, 0.0064, 10.0),
            (64, 2, 64, 4, 16384, 0.0025, 0.0128, 20.0),
            (256, 8, 64, 4, 16384, 0.0025, 0.2048, 20.0),
            (512, 1, 8, 4, 32768, 0.0025, 6.5536, 2.5),
            (1024, 2, 8, 4, 32768, 0.002, 26.2144, 2.5),
        ];
        for (res, gpus, mb, mbstd, cbase, lr, gamma, ema) in cases {
            let gpus_flag = format!("--gpus={gpus}");
            let (desc, o) = resolve(&args(&[&gpus_flag]), &data(res)).unwrap();
            assert_eq!(o.batch_size, mb, "res {res} gpus {gpus}");
            assert_eq!(o.batch_gpu, mb / gpus);
            assert_eq!(o.D_kwargs.epilogue_kwargs.mbstd_group_size, mbstd);
            assert_eq!(o.G_kwargs.synthesis_kwargs.channel_base, cbase);
            assert_eq!(o.G_opt_kwargs.lr, lr);
            assert!(
                (o.loss_kwargs.r1_gamma - gamma).abs() < 1e-12,
                "gamma {} vs {gamma}",
                o.loss_kwargs.r1_gamma
            );
            assert_eq!(o.ema_kimg, ema);
            assert_eq!(o.ema_rampup, Some(0.05));
            assert_eq!(o.G_kwargs.mapping_kwargs.num_layers, 2);
            assert!(desc.ends_with(&format!("-auto{gpus}")), "{desc}");
        }
    }

    #[test]
    fn fixed_specs_match_the_official_table() {
        let (_, o) = resolve(&args(&["--cfg=paper256", "--gpus=8"]), &data(256)).unwrap();
        assert_eq!((o.batch_size, o.batch_gpu), (64, 8));
        assert_eq!(o.D_kwargs.epilogue_kwargs.mbstd_group_size, 8);
        assert_eq!(o.G_kwargs.synthesis_kwargs.channel_base, 16384);
        assert_eq!(
            (o.loss_kwargs.r1_gamma, o.ema_kimg, o.ema_rampup),
            (1.0, 20.0, None)
        );
        assert_eq!(o.G_kwargs.mapping_kwargs.num_layers, 8);
        let (_, o) = resolve(&args(&["--cfg=cifar", "--gpus=2"]), &data(32)).unwrap();
        assert_eq!(
            (o.batch_size, o.batch_gpu, o.total_kimg),
            (64, 32, 100000.0)
        );
        assert_eq!(
            (o.loss_kwargs.pl_weight, o.loss_kwargs.style_mixing_prob),
            (0.0, 0.0)
        );
        assert_eq!(o.D_kwargs.architecture, "orig");
        assert_eq!(o.D_kwargs.epilogue_kwargs.mbstd_group_size, 32);
        let (_, o) = resolve(&args(&["--cfg=stylegan2"]), &data(1024)).unwrap();
        assert_eq!(
            (o.batch_size, o.batch_gpu),
            (32, 4),
            "batch_gpu = mb / ref_gpus, as official"
        );
        assert_eq!((o.G_opt_kwargs.lr, o.loss_kwargs.r1_gamma), (0.002, 10.0));
    }

    #[test]
    fn modes_and_transition_flags() {
        let (desc, o) = resolve(
            &args(&["--cond=1", "--t_start_kimg=2", "--t_end_kimg=4.5"]),
            &data(32),
        )
        .unwrap();
        assert_eq!(o.mode, Mode::Transitional);
        assert_eq!((o.t_start_kimg, o.t_end_kimg), (2.0, 4.5));
        assert!(
            desc.contains("-cond-trans2-4.5-") && !desc.contains(':'),
            "{desc}"
        );
        let (_, o) = resolve(&args(&["--cond=1"]), &data(32)).unwrap();
        assert_eq!(o.mode, Mode::Cond);
        let (_, o) = resolve(&args(&[]), &data(32)).unwrap();
        assert_eq!(o.mode, Mode::Uncond);
        let bad = |extra: &[&str]| resolve(&args(extra), &data(32)).unwrap_err().0;
        assert!(
            bad(&["--cond=1", "--t_start_kimg=5", "--t_end_kimg=2"]).contains("must not be larger")
        );
        assert!(bad(&["--mode=transitional", "--t_end_kimg=2"]).contains("--cond=1"));
        assert!(bad(&["--mode=uncond", "--cond=1"]).contains("contradicts"));
        let mut nolabels = data(32);
        nolabels.has_labels = false;
        assert!(resolve(&args(&["--cond=1"]), &nolabels)
            .unwrap_err()
            .0
            .contains("requires labels"));
    }

    #[test]
    fn overrides_and_user_errors() {
        let (desc, o) = resolve(
            &args(&[
                "--gamma=0.5",
                "--kimg=0.5",
                "--batch=16",
                "--batch-gpu=8",
                "--cbase=4096",
                "--cmax=128",
                "--map=2",
                "--aug=fixed",
                "--p=0.2",
                "--tick=0.25",
                "--fp32=1",
            ]),
            &data(32),
        )
        .unwrap();
        assert_eq!(
            (
                o.loss_kwargs.r1_gamma,
                o.total_kimg,
                o.batch_size,
                o.batch_gpu
            ),
            (0.5, 0.5, 16, 8)
        );
        assert_eq!(
            (
                o.G_kwargs.synthesis_kwargs.channel_base,
                o.D_kwargs.channel_max
            ),
            (4096, 128)
        );
        assert_eq!(
            (o.augment_p, o.ada_target, o.kimg_per_tick),
            (0.2, None, 0.25)
        );
        assert_eq!(
            (
                o.G_kwargs.synthesis_kwargs.num_fp16_res,
                o.G_kwargs.synthesis_kwargs.conv_clamp
            ),
            (0, None)
        );
        assert!(desc.contains("-gamma0.5-kimg0.5-batch16"), "{desc}");
        let bad = |extra: &[&str]| resolve(&args(extra), &data(32)).unwrap_err().0;
        assert!(bad(&["--gpus=3"]).contains("power of two"));
        assert!(bad(&["--aug=fixed"]).contains("requires specifying --p"));
        assert!(bad(&["--p=0.3"]).contains("only be specified with --aug=fixed"));
        assert!(bad(&["--aug=noaug", "--augpipe=bgc"]).contains("cannot be specified"));
        assert!(bad(&["--subset=5000"]).contains("between 1 and 1000"));
        assert!(bad(&["--batch=10"]).contains("minibatch-std group size"));
        assert!(bad(&["--gpus=2", "--batch=3"]).contains("divisible by --gpus"));
        assert!(bad(&["--fp16=1", "--fp32=1"]).contains("--fp32=1 sets to none"));
        let (_, o) = resolve(&args(&["--fp16"]), &data(32)).unwrap();
        assert!(o.fp16 && o.G_kwargs.synthesis_kwargs.num_fp16_res == 4);
    }
}
