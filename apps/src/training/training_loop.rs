//! The training loop of the transitional cGAN: the official phases (Gmain,
//! Greg, Dmain, Dreg with lazy regularization), G_ema, ADA, the transition
//! schedule, and once per tick the status line, statistics, image grids,
//! snapshots and metrics. One call per data-parallel rank; rank 0 writes.

use super::config::TrainingOptions;
use super::data::RealBatches;
use super::nets::Nets;
use super::options::Mode;
use super::run_dir::Logger;
use super::schedule;
use super::seeds::{stream, Purpose};
use super::state::{self, SnapshotRef, TrainingState};
use super::stats::{jsonl_line, Stats};
use super::tensorboard::{EventWriter, PngImage};
use crate::dataset::ImageFolderDataset;
use crate::image_grid;
use anyhow::{bail, Context, Result};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tcgan_core::{no_grad, Collective, DType, Device, Tensor};
use tcgan_nn::augment::{AdaController, AugmentKwargs, AugmentPipe};
use tcgan_nn::loss::{LossKwargs, Phase, PhaseInputs, StyleGAN2Loss};
use tcgan_nn::module::{Module, TensorKind};
use tcgan_nn::networks::{GeneratorOptions, NoiseMode};
use tcgan_nn::optim::{sanitize_grads, Adam};

/// Steps in a row with non-finite gradients after which a run stops.
pub const MAX_NONFINITE_STEPS: u32 = 20;

/// Where real images come from.
#[derive(Clone)]
pub enum DataSource {
    Dataset(Arc<ImageFolderDataset>),
    /// Random images and labels (benchmarks): no files are read.
    Random {
        resolution: usize,
        channels: usize,
        c_dim: usize,
    },
}

impl DataSource {
    fn channels(&self) -> usize {
        match self {
            DataSource::Dataset(d) => d.num_channels(),
            DataSource::Random { channels, .. } => *channels,
        }
    }
    fn c_dim(&self, use_labels: bool) -> usize {
        if !use_labels {
            return 0;
        }
        match self {
            DataSource::Dataset(d) => d.label_dim(),
            DataSource::Random { c_dim, .. } => *c_dim,
        }
    }
}

/// Everything a run needs besides its options.
#[derive(Clone)]
pub struct RunSetup {
    pub options: TrainingOptions,
    pub data: DataSource,
    /// `None` for benchmarks: nothing is written.
    pub run_dir: Option<PathBuf>,
    pub resume: Option<PathBuf>,
    /// Stop after this many minibatches (benchmarks, tests).
    pub max_steps: Option<u64>,
    /// A fixed transition factor instead of the schedule (benchmarks).
    pub fixed_transition: Option<f64>,
    /// Computes the metrics of a snapshot; `None` skips them.
    pub metrics: Option<Arc<MetricsFn>>,
}

/// `(g_ema, snapshot path, run dir, device, log) -> [(metric, value)]`.
pub type MetricsFn = dyn Fn(
        &tcgan_nn::networks::Generator,
        &Path,
        &Path,
        &Device,
        &dyn Fn(&str),
    ) -> Result<Vec<(String, f64)>>
    + Send
    + Sync;

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub state: TrainingState,
    pub last_snapshot: Option<PathBuf>,
    /// Seconds of each training step of this call (maintenance excluded).
    pub step_seconds: Vec<f64>,
    /// The largest per-tick peak of GPU memory in bytes (0 on the CPU).
    pub peak_gpu_bytes: u64,
}

struct PhaseDef {
    phase: Phase,
    name: &'static str,
    interval: u64,
    trains_g: bool,
}

fn phases() -> Vec<PhaseDef> {
    let p = |phase, name, interval, trains_g| PhaseDef {
        phase,
        name,
        interval,
        trains_g,
    };
    vec![
        p(Phase::Gmain, "Gmain", 1, true),
        p(Phase::Greg, "Greg", 4, true),
        p(Phase::Dmain, "Dmain", 1, false),
        p(Phase::Dreg, "Dreg", 16, false),
    ]
}

/// Adam with the official lazy-regularization correction: `lr * r` and
/// `beta ** r` with `r = interval / (interval + 1)`.
fn optimizer(params: Vec<Tensor>, o: &super::config::OptKwargs, reg_interval: usize) -> Adam {
    let r = reg_interval as f64 / (reg_interval as f64 + 1.0);
    Adam::new(
        params,
        o.lr * r,
        [o.betas[0].powf(r), o.betas[1].powf(r)],
        o.eps,
    )
}

fn tensor_rows(t: &Tensor, start: usize, len: usize) -> Result<Tensor> {
    Ok(t.narrow(0, start, len)?)
}

/// The latents and labels of one step's generated images, `[phases * batch, ..]`.
fn gen_inputs(
    o: &TrainingOptions,
    data: &DataSource,
    c_dim: usize,
    n: usize,
    step: u64,
    device: &Device,
) -> Result<(Tensor, Option<Tensor>)> {
    let z = stream(o.random_seed, Purpose::Latents, step, 0, 0).normal(
        [n, o.G_kwargs.z_dim],
        DType::F32,
        device,
    )?;
    if c_dim == 0 {
        return Ok((z, None));
    }
    // As official: the labels of random training images.
    let mut rng = stream(o.random_seed, Purpose::Labels, step, 0, 0);
    let mut c = Vec::with_capacity(n * c_dim);
    for _ in 0..n {
        match data {
            DataSource::Dataset(d) => c.extend(d.get_label(rng.below(d.len() as u64) as usize)),
            DataSource::Random { .. } => {
                let k = rng.below(c_dim as u64) as usize;
                c.extend((0..c_dim).map(|i| if i == k { 1.0 } else { 0.0 }));
            }
        }
    }
    Ok((z, Some(Tensor::from_vec(c, [n, c_dim], device)?)))
}

/// `p_ema = lerp(p, p_ema, beta)` for parameters; buffers are copied.
fn update_ema(g: &dyn Module, g_ema: &dyn Module, beta: f64) -> Result<()> {
    no_grad(|| {
        for (t, e) in g.named_tensors().iter().zip(g_ema.named_tensors()) {
            let v = match t.kind {
                TensorKind::Parameter => t.tensor.lerp(&e.tensor, beta)?,
                TensorKind::Buffer => t.tensor.detach(),
            };
            e.tensor.set_data(&v)?;
        }
        Ok(())
    })
}

fn all_finite(m: &dyn Module) -> Result<bool> {
    for t in m.parameters() {
        let v = t.to_vec_f32()?;
        if v.iter().any(|x| !x.is_finite()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sums the gradients of `params` over the ranks of `group` (in rank order).
/// Parameters without a gradient keep none (Adam then leaves them alone): every
/// rank runs the same graph, so the same parameters have gradients everywhere.
fn all_reduce_grads(group: &dyn Collective, params: &[Tensor]) -> Result<()> {
    if group.world_size() == 1 {
        return Ok(());
    }
    let with_grad: Vec<(&Tensor, Tensor)> = params
        .iter()
        .filter_map(|p| p.grad().map(|g| (p, g)))
        .collect();
    if with_grad.is_empty() {
        return Ok(());
    }
    let grads: Vec<Tensor> = with_grad.iter().map(|(_, g)| g.clone()).collect();
    for ((p, _), g) in with_grad.iter().zip(group.all_reduce_sum(&grads)?) {
        p.set_grad(Some(g));
    }
    Ok(())
}

fn format_time(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86399 => format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60),
        _ => format!("{}d {:02}h {:02}m", s / 86400, s / 3600 % 24, s / 60 % 60),
    }
}

/// The image grid of a run: its layout and the latents and labels of its cells.
struct Grid {
    gw: usize,
    gh: usize,
    z: Tensor,
    c: Option<Tensor>,
}

impl Grid {
    fn new(
        o: &TrainingOptions,
        d: &ImageFolderDataset,
        c_dim: usize,
        device: &Device,
    ) -> Result<(Grid, Vec<usize>)> {
        let classes: Option<Vec<u64>> =
            (c_dim > 0).then(|| (0..d.len()).map(|i| d.get_class(i).unwrap_or(0)).collect());
        let res = d.resolution();
        let (gw, gh, cells) = image_grid::grid_indices(classes.as_deref(), d.len(), res, res, 0);
        let n = cells.len();
        let z = stream(o.random_seed, Purpose::Grid, 0, 0, 0).normal(
            [n, o.G_kwargs.z_dim],
            DType::F32,
            device,
        )?;
        let c = if c_dim > 0 {
            let mut v = Vec::with_capacity(n * c_dim);
            for &i in &cells {
                v.extend(d.get_label(i));
            }
            Some(Tensor::from_vec(v, [n, c_dim], device)?)
        } else {
            None
        };
        Ok((Grid { gw, gh, z, c }, cells))
    }

    /// G_ema's images of the grid (noise 'const', as official), in chunks.
    fn render(&self, g_ema: &tcgan_nn::networks::Generator, chunk: usize) -> Result<Vec<f32>> {
        let n = self.z.dim(0);
        let mut out = Vec::new();
        let opts = GeneratorOptions {
            noise_mode: NoiseMode::Const,
            ..Default::default()
        };
        let mut rng = tcgan_core::Generator::new(0);
        for s in (0..n).step_by(chunk.max(1)) {
            let len = chunk.min(n - s);
            let z = tensor_rows(&self.z, s, len)?;
            let c = self
                .c
                .as_ref()
                .map(|c| tensor_rows(c, s, len))
                .transpose()?;
            let img = no_grad(|| g_ema.forward(&z, c.as_ref(), &opts, &mut rng))?;
            out.extend(img.to_vec_f32()?);
        }
        Ok(out)
    }
}

fn write_grid(
    dir: &Path,
    name: &str,
    images: &[f32],
    channels: usize,
    res: usize,
    grid: (usize, usize),
    drange: (f32, f32),
) -> Result<PngImage> {
    let (gw, gh) = grid;
    let hwc = image_grid::tile(images, channels, res, res, gw, gh, drange);
    let path = dir.join(name);
    let bytes = image_grid::save_png(&path, &hwc, gh * res, gw * res, channels)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(PngImage {
        bytes,
        height: (gh * res) as u32,
        width: (gw * res) as u32,
        channels: channels as u32,
    })
}

/// Runs training on one rank. With more than one rank, every rank calls this
/// with its own `group` member; results are identical on all ranks.
pub fn run_rank(
    setup: &RunSetup,
    device: &Device,
    group: &dyn Collective,
    log: &Logger,
) -> Result<RunSummary> {
    let o = &setup.options;
    let (rank, world) = (group.rank(), group.world_size());
    let root = rank == 0;
    let say = |s: &str| {
        if root {
            log.line(s)
        }
    };
    let batch = o.batch_size;
    let per_rank = batch / world;
    let rounds = per_rank / o.batch_gpu;
    let chunks = (world * rounds) as f64;
    let res = o.training_set_kwargs.resolution;
    let channels = setup.data.channels();
    let c_dim = setup.data.c_dim(o.training_set_kwargs.use_labels);
    let start_time = Instant::now();

    say("Constructing networks...");
    let nets = Nets::new(o, c_dim, channels, device)?;
    let mut opt_g = optimizer(nets.g.parameters(), &o.G_opt_kwargs, o.G_reg_interval);
    let mut opt_d = optimizer(nets.d.parameters(), &o.D_opt_kwargs, o.D_reg_interval);
    let like = Tensor::zeros([1], DType::F32, device)?;
    let mut loss = StyleGAN2Loss::new(
        LossKwargs {
            style_mixing_prob: o.loss_kwargs.style_mixing_prob,
            r1_gamma: o.loss_kwargs.r1_gamma,
            pl_batch_shrink: o.loss_kwargs.pl_batch_shrink,
            pl_decay: o.loss_kwargs.pl_decay,
            pl_weight: o.loss_kwargs.pl_weight,
            augment_pipe: None,
        },
        &like,
    )?;

    // Augmentation: the pipe runs whenever ADA is on or p > 0 (as official).
    let mut pipe = match &o.augment_kwargs {
        Some(k) if o.augment_p > 0.0 || o.ada_target.is_some() => {
            let kwargs: AugmentKwargs =
                serde_json::from_value(serde_json::to_value(k)?).context("augmentation options")?;
            let mut p = AugmentPipe::new(kwargs, device)?;
            p.p = o.augment_p;
            Some(p)
        }
        _ => None,
    };
    let mut ada = o.ada_target.map(|t| {
        let mut a = AdaController::new(t);
        a.interval = o.ada_interval;
        a.ada_kimg = o.ada_kimg;
        a
    });

    let mut st = TrainingState::default();
    if let Some(path) = &setup.resume {
        say(&format!("Resuming from \"{}\"", path.display()));
        let r = state::load(path, &nets, &mut opt_g, &mut opt_d, device)?;
        if let Some(s) = r.state {
            st = s;
            // The snapshot was written at the end of tick `cur_tick`: go on with the
            // next one, so ticks and the snapshot cadence line up with an unbroken run.
            st.cur_tick += 1;
            if let Some(p) = pipe.as_mut() {
                p.p = st.augment_p;
            }
            if let Some(a) = ada.as_mut() {
                a.set_pending(st.ada_sum, st.ada_count);
                a.last_r_t = st.ada_last_r_t;
            }
        }
        if let Some(pl) = r.pl_mean {
            loss.pl_mean = pl.reshape(loss.pl_mean.shape().clone())?;
        }
        nets.g.set_requires_grad(false)?;
        nets.d.set_requires_grad(false)?;
        nets.g_ema.set_requires_grad(false)?;
    }

    let mut real = match &setup.data {
        DataSource::Dataset(d) => Some(RealBatches::new(
            d.clone(),
            o.random_seed as u32,
            batch,
            rank,
            world,
            st.batch_idx,
            2,
        )),
        DataSource::Random { .. } => None,
    };

    // Outputs of the root rank.
    let out_dir = setup.run_dir.as_deref().filter(|_| root);
    let mut grid = None;
    let mut events = None;
    if let (Some(dir), DataSource::Dataset(d)) = (out_dir, &setup.data) {
        say("Exporting sample images...");
        let (g, cells) = Grid::new(o, d, c_dim, device)?;
        let mut reals = Vec::with_capacity(cells.len() * channels * res * res);
        for &i in &cells {
            reals.extend(d.get_image(i)?.into_iter().map(|v| v as f32));
        }
        write_grid(
            dir,
            "reals.png",
            &reals,
            channels,
            res,
            (g.gw, g.gh),
            (0.0, 255.0),
        )?;
        let fakes = g.render(&nets.g_ema, o.batch_gpu)?;
        write_grid(
            dir,
            "fakes_init.png",
            &fakes,
            channels,
            res,
            (g.gw, g.gh),
            (-1.0, 1.0),
        )?;
        grid = Some(g);
        say("Initializing logs...");
        events = Some(
            EventWriter::create(dir, wall_clock())
                .context("creating the TensorBoard event file")?,
        );
    }
    let stats_path = out_dir.map(|d| d.join("stats.jsonl"));

    say(&format!("Training for {} kimg...\n", o.total_kimg));
    let phases = phases();
    let mut stats = Stats::new();
    let mut tick_start_nimg = st.cur_nimg;
    let mut first_tick = true;
    let mut tick_start_time = Instant::now();
    let mut maintenance_time = tick_start_time.duration_since(start_time).as_secs_f64();
    let mut last_snapshot = None;
    let mut nonfinite_steps = 0u32;
    let mut step_seconds = Vec::new();
    let mut peak_gpu = 0u64;
    let total_nimg = (o.total_kimg * 1000.0).round() as u64;

    loop {
        let step_start = Instant::now();
        // The transition factor of this step, from the image counter.
        let lambda = setup.fixed_transition.unwrap_or_else(|| {
            schedule::transition(o.mode, o.t_start_kimg, o.t_end_kimg, st.cur_nimg)
        });
        if c_dim > 0 {
            nets.g.mapping.set_transition(lambda)?;
            nets.d.set_transition(lambda)?;
        }

        // This rank's real images and every phase's generated inputs.
        let (real_img, real_c) = match (&mut real, &setup.data) {
            (Some(r), _) => {
                let b = r.next_batch()?;
                let img = Tensor::from_vec(b.images, [per_rank, channels, res, res], device)?;
                let c = (c_dim > 0)
                    .then(|| Tensor::from_vec(b.labels, [per_rank, c_dim], device))
                    .transpose()?;
                (img, c)
            }
            (None, _) => {
                let mut rng = stream(
                    o.random_seed,
                    Purpose::Latents,
                    st.batch_idx,
                    99,
                    rank as u64,
                );
                let img = rng.uniform(
                    [per_rank, channels, res, res],
                    -1.0,
                    1.0,
                    DType::F32,
                    device,
                )?;
                let c = (c_dim > 0)
                    .then(|| {
                        let mut v = vec![0f32; per_rank * c_dim];
                        for i in 0..per_rank {
                            v[i * c_dim + rng.below(c_dim as u64) as usize] = 1.0;
                        }
                        Tensor::from_vec(v, [per_rank, c_dim], device)
                    })
                    .transpose()?;
                (img, c)
            }
        };
        let (all_z, all_c) = gen_inputs(
            o,
            &setup.data,
            c_dim,
            phases.len() * batch,
            st.batch_idx,
            device,
        )?;

        let mut bad_values = 0usize;
        for (pi, ph) in phases.iter().enumerate() {
            if st.batch_idx % ph.interval != 0 {
                continue;
            }
            let t0 = Instant::now();
            let module: &dyn Module = if ph.trains_g { &nets.g } else { &nets.d };
            module.zero_grad();
            for round in 0..rounds {
                let chunk = rank * rounds + round;
                let local = round * o.batch_gpu;
                let gen_at = pi * batch + chunk * o.batch_gpu;
                let real_img = tensor_rows(&real_img, local, o.batch_gpu)?;
                let real_c = real_c
                    .as_ref()
                    .map(|c| tensor_rows(c, local, o.batch_gpu))
                    .transpose()?;
                let gen_z = tensor_rows(&all_z, gen_at, o.batch_gpu)?;
                let gen_c = all_c
                    .as_ref()
                    .map(|c| tensor_rows(c, gen_at, o.batch_gpu))
                    .transpose()?;
                let inputs = PhaseInputs {
                    real_img: &real_img,
                    real_c: real_c.as_ref(),
                    gen_z: &gen_z,
                    gen_c: gen_c.as_ref(),
                };
                let mut noise = stream(
                    o.random_seed,
                    Purpose::Noise,
                    st.batch_idx,
                    pi as u64,
                    chunk as u64,
                );
                let aug_rng = RefCell::new(stream(
                    o.random_seed,
                    Purpose::Augment,
                    st.batch_idx,
                    pi as u64,
                    chunk as u64,
                ));
                let hook = pipe.as_ref().map(|p| p.hook(&aug_rng));
                let augment = hook
                    .as_ref()
                    .map(|h| h as &dyn Fn(&Tensor) -> tcgan_nn::Result<Tensor>);
                // Each chunk's mean loss weighs 1 / chunks: the gradient is that of
                // the mean over the whole batch, however it is split.
                let gain = ph.interval as f64 / chunks;
                let reported = loss.accumulate_gradients(
                    ph.phase, &nets.g, &nets.d, &inputs, gain, augment, &mut noise,
                )?;
                for (name, t) in &reported {
                    stats.report(name, &t.to_vec_f64()?);
                }
                if let Some(a) = ada.as_mut() {
                    a.observe_stats(&reported)?;
                }
            }
            let params = module.parameters();
            all_reduce_grads(group, &params)?;
            bad_values += sanitize_grads(&params)?;
            if ph.trains_g {
                opt_g.step()?;
            } else {
                opt_d.step()?;
            }
            module.set_requires_grad(false)?;
            stats.report(
                &format!("Timing/{}", ph.name),
                &[t0.elapsed().as_secs_f64() * 1000.0],
            );
        }

        // G_ema.
        let beta = schedule::ema_beta(o.ema_kimg, o.ema_rampup, batch, st.cur_nimg);
        update_ema(&nets.g, &nets.g_ema, beta)?;

        st.cur_nimg += batch as u64;
        st.batch_idx += 1;

        // ADA: the sign statistic of all ranks, every `ada_interval` steps.
        if let (Some(a), Some(p)) = (ada.as_mut(), pipe.as_mut()) {
            if world > 1 && st.batch_idx % a.interval as u64 == 0 {
                let (s, c) = a.pending();
                let t = Tensor::from_vec(vec![s, c], [2], device)?;
                let sum = group.all_reduce_sum(&[t])?.remove(0).to_vec_f64()?;
                a.set_pending(sum[0], sum[1]);
            }
            a.update(st.batch_idx, batch, &mut p.p);
        }

        // A run that keeps producing non-finite values stops with a clear message.
        if bad_values > 0 {
            nonfinite_steps += 1;
            if nonfinite_steps >= MAX_NONFINITE_STEPS
                || !all_finite(&nets.g)?
                || !all_finite(&nets.d)?
            {
                bail!(
                    "training diverged at kimg {:.3}: non-finite gradients in {nonfinite_steps} consecutive step(s){}. \
                     Lower the learning rate or R1 gamma, or resume from the last snapshot{}",
                    st.cur_nimg as f64 / 1000.0,
                    if all_finite(&nets.g)? && all_finite(&nets.d)? { "" } else { " and non-finite weights" },
                    last_snapshot.as_ref().map_or(String::new(), |p: &PathBuf| format!(" ({})", p.display()))
                );
            }
        } else {
            nonfinite_steps = 0;
        }
        step_seconds.push(step_start.elapsed().as_secs_f64());

        let done = st.cur_nimg >= total_nimg
            || setup
                .max_steps
                .is_some_and(|m| step_seconds.len() as u64 >= m);
        if !done
            && st.cur_tick != 0
            && (st.cur_nimg as f64) < tick_start_nimg as f64 + o.kimg_per_tick * 1000.0
        {
            continue;
        }

        // ---- tick maintenance ----
        let tick_end = Instant::now();
        let total_sec = tick_end.duration_since(start_time).as_secs_f64();
        let tick_sec = tick_end.duration_since(tick_start_time).as_secs_f64();
        let tick_nimg = (st.cur_nimg - tick_start_nimg).max(1);
        let sec_per_kimg = tick_sec / tick_nimg as f64 * 1000.0;
        let augment_p = pipe.as_ref().map_or(0.0, |p| p.p);
        st.augment_p = augment_p;
        if let Some(a) = &ada {
            (st.ada_sum, st.ada_count) = a.pending();
            st.ada_last_r_t = a.last_r_t;
        }
        st.opt_g_step = opt_g.step;
        st.opt_d_step = opt_d.step;
        let remaining_kimg = (total_nimg.saturating_sub(st.cur_nimg)) as f64 / 1000.0;
        // The factor at the current image count, which the next step uses.
        let lambda = setup.fixed_transition.unwrap_or_else(|| {
            schedule::transition(o.mode, o.t_start_kimg, o.t_end_kimg, st.cur_nimg)
        });
        let fields = [
            format!(
                "tick {:<5}",
                stats.report1("Progress/tick", st.cur_tick as f64) as u64
            ),
            format!(
                "kimg {:<8.1}",
                stats.report1("Progress/kimg", st.cur_nimg as f64 / 1e3)
            ),
            format!(
                "time {:<12}",
                format_time(stats.report1("Timing/total_sec", total_sec))
            ),
            format!(
                "sec/tick {:<7.1}",
                stats.report1("Timing/sec_per_tick", tick_sec)
            ),
            format!(
                "sec/kimg {:<7.2}",
                stats.report1("Timing/sec_per_kimg", sec_per_kimg)
            ),
            format!(
                "maintenance {:<6.1}",
                stats.report1("Timing/maintenance_sec", maintenance_time)
            ),
            format!(
                "cpumem {:<6.2}",
                stats.report1(
                    "Resources/cpu_mem_gb",
                    crate::device::rss_bytes() as f64 / (1u64 << 30) as f64
                )
            ),
            format!(
                "gpumem {:<6.2}",
                stats.report1(
                    "Resources/peak_gpu_mem_gb",
                    crate::device::peak_gpu_bytes(device) as f64 / (1u64 << 30) as f64
                )
            ),
            format!(
                "augment {:.3}",
                stats.report1("Progress/augment", augment_p)
            ),
            format!(
                "transition {:.3}",
                stats.report1("Progress/transition", lambda)
            ),
            format!("eta {}", format_time(remaining_kimg * sec_per_kimg)),
        ];
        peak_gpu = peak_gpu.max(crate::device::peak_gpu_bytes(device));
        crate::device::reset_peak_gpu(device);
        if c_dim > 0 {
            stats.report("Progress/G/transition", &[lambda]);
            stats.report("Progress/D/transition", &[lambda]);
        }
        stats.report("Timing/total_hours", &[total_sec / 3600.0]);
        stats.report("Timing/total_days", &[total_sec / 86400.0]);
        say(&fields.join(" "));

        let snap_due = done || st.cur_tick % o.network_snapshot_ticks as u64 == 0;
        // The first tick of this process has no earlier snapshot in this run directory.
        let prev_tick_nimg = (!first_tick).then_some(tick_start_nimg);
        let mut metric_values = Vec::new();
        if let Some(dir) = out_dir {
            let step = (st.cur_nimg / 1000) as i64;
            let wall = wall_clock();
            if done || st.cur_tick % o.image_snapshot_ticks as u64 == 0 {
                if let Some(g) = &grid {
                    let fakes = g.render(&nets.g_ema, o.batch_gpu)?;
                    let name = state::snapshot_name(st.cur_nimg, prev_tick_nimg, "fakes", "png");
                    let png =
                        write_grid(dir, &name, &fakes, channels, res, (g.gw, g.gh), (-1.0, 1.0))?;
                    if let Some(ev) = events.as_mut() {
                        ev.image_png("fakes", &png, step, wall)?;
                    }
                }
            }
            if snap_due {
                let path = dir.join(state::snapshot_name(
                    st.cur_nimg,
                    prev_tick_nimg,
                    "network-snapshot-",
                    "safetensors",
                ));
                let snap = SnapshotRef {
                    options: o,
                    state: &st,
                    g: &nets.g,
                    d: &nets.d,
                    g_ema: &nets.g_ema,
                    opt_g: &opt_g,
                    opt_d: &opt_d,
                    pl_mean: &loss.pl_mean,
                };
                state::save(&path, &snap)?;
                if let (Some(m), false) = (&setup.metrics, o.metrics.is_empty()) {
                    say("Evaluating metrics...");
                    metric_values = m(&nets.g_ema, &path, dir, device, &|l: &str| log.line(l))?;
                }
                last_snapshot = Some(path);
            }
        }

        let tick_stats = stats.take_tick();
        if let Some(p) = &stats_path {
            crate::atomic_file::append_line(p, &jsonl_line(&tick_stats, wall_clock()))
                .with_context(|| format!("writing {}", p.display()))?;
        }
        if let Some(ev) = events.as_mut() {
            let step = (st.cur_nimg / 1000) as i64;
            let wall = wall_clock();
            for (k, s) in &tick_stats {
                ev.scalar(k, s.mean, step, wall)?;
            }
            for (k, v) in &metric_values {
                ev.scalar(&format!("Metrics/{k}"), *v, step, wall)?;
            }
            ev.flush()?;
        }

        st.cur_tick += 1;
        tick_start_nimg = st.cur_nimg;
        first_tick = false;
        tick_start_time = Instant::now();
        maintenance_time = tick_start_time.duration_since(tick_end).as_secs_f64();
        if done {
            break;
        }
    }
    say("\nExiting...");
    Ok(RunSummary {
        state: st,
        last_snapshot,
        step_seconds,
        peak_gpu_bytes: peak_gpu,
    })
}

fn wall_clock() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Runs training on `num_gpus` ranks: one rank directly, several as threads
/// with an in-process all-reduce (CPU) or NCCL (CUDA). Returns rank 0's summary.
pub fn run(setup: &RunSetup, device_name: &str, log: &Logger) -> Result<RunSummary> {
    let world = setup.options.num_gpus;
    if world == 1 {
        let device = crate::device::select(device_name)?;
        return run_rank(setup, &device, &tcgan_core::SingleRank, log);
    }
    if device_name == "cpu" {
        let ranks = tcgan_core::InProcessGroup::ranks(world);
        return run_ranks(setup, log, ranks, |_| crate::device::select("cpu"));
    }
    #[cfg(any(feature = "cuda", feature = "cuda13"))]
    {
        // One thread per GPU: GPUs 0..world, whatever cuda:N names.
        let ordinals: Vec<usize> = (0..world).collect();
        let ranks = tcgan_ops_cuda::nccl_group(&ordinals)
            .map_err(|e| anyhow::anyhow!("--gpus={world}: {e}"))?;
        run_ranks(setup, log, ranks, |r| Ok(r.device().clone()))
    }
    #[cfg(not(any(feature = "cuda", feature = "cuda13")))]
    bail!("--gpus={world} with --device={device_name}: this build has no CUDA support (build with --features cuda); --device=cpu simulates {world} ranks")
}

/// Trains one thread per rank, each on the device `device_of` gives it.
fn run_ranks<C: Collective + Send>(
    setup: &RunSetup,
    log: &Logger,
    ranks: Vec<C>,
    device_of: impl Fn(&C) -> Result<Device> + Sync,
) -> Result<RunSummary> {
    let device_of = &device_of;
    let results: Vec<Result<RunSummary>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranks
            .into_iter()
            .map(|r| {
                s.spawn(move || {
                    let device = device_of(&r)?;
                    run_rank(setup, &device, &r, log)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a training rank panicked")))
            })
            .collect()
    });
    let mut first = None;
    for r in results {
        let r = r?;
        first.get_or_insert(r);
    }
    Ok(first.expect("at least one rank"))
}

/// The mode a resumed run must keep (for messages).
pub fn describe_mode(mode: Mode) -> &'static str {
    match mode {
        Mode::Uncond => "unconditional",
        Mode::Cond => "conditional",
        Mode::Transitional => "transitional",
    }
}
