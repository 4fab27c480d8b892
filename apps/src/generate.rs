//! `generate`: images of a snapshot's `G_ema` for a list of seeds, as the official
//! `generate.py` makes them (`z = RandomState(seed).randn(1, z_dim)`, one-hot class,
//! truncation, noise mode, `(img * 127.5 + 128).clamp(0, 255)` to uint8), one
//! `seed%04d.png` per seed, or a class x seed grid.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use tcgan_core::{no_grad, Device, Generator as Rng, Tensor};
use tcgan_nn::networks::{Generator, GeneratorOptions, NoiseMode};

use crate::metrics::generated::{generator_dtype, to_uint8, EvalMode};
use crate::numpy_rng::RandomState;

/// `0-3,5,9-10` -> `[0, 1, 2, 3, 5, 9, 10]`. The official tool takes either one
/// range `a-b` or a list `a,b,c`; this takes lists whose items may be ranges.
pub fn parse_seeds(s: &str) -> Result<Vec<u32>> {
    let num = |t: &str| -> Result<u32> {
        t.trim()
            .parse::<u32>()
            .with_context(|| format!("--seeds={s}: {t:?} is not a seed (0 to 4294967295)"))
    };
    let mut seeds = Vec::new();
    for item in s.split(',') {
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    bail!("--seeds={s}: the range {a}-{b} is empty");
                }
                seeds.extend(a..=b);
            }
            None => seeds.push(num(item)?),
        }
    }
    Ok(seeds)
}

/// The official latent of a seed: `np.random.RandomState(seed).randn(1, z_dim)`
/// (float64, cast to float32 by the mapping network).
pub fn latent(seed: u32, z_dim: usize) -> Vec<f64> {
    RandomState::new(seed).randn(z_dim)
}

/// `generate.py`'s `--trunc` and `--noise-mode`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateOptions {
    pub truncation_psi: f64,
    pub noise_mode: NoiseMode,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            truncation_psi: 1.0,
            noise_mode: NoiseMode::Const,
        }
    }
}

/// One image as HWC uint8. With noise mode `random`, the layer noise is drawn
/// from a Philox stream seeded with `seed` (the official tool draws it from
/// torch's unseeded global generator), so a seed always gives the same image.
pub fn generate_image(
    g: &Generator,
    seed: u32,
    class: Option<usize>,
    opts: &GenerateOptions,
    device: &Device,
) -> Result<Vec<u8>> {
    let k = &g.kwargs;
    let dtype = generator_dtype(g);
    let z = Tensor::from_vec(latent(seed, k.z_dim), [1, k.z_dim], device)?.to_dtype(dtype)?;
    let c = if k.c_dim == 0 {
        None
    } else {
        let class = class.context("a conditional network needs a class")?;
        if class >= k.c_dim {
            bail!(
                "--class={class} is out of range: the network has {} classes (0 to {})",
                k.c_dim,
                k.c_dim - 1
            );
        }
        let mut one_hot = vec![0f64; k.c_dim];
        one_hot[class] = 1.0;
        Some(Tensor::from_vec(one_hot, [1, k.c_dim], device)?.to_dtype(dtype)?)
    };
    let gopts = GeneratorOptions {
        truncation_psi: opts.truncation_psi,
        truncation_cutoff: None,
        noise_mode: opts.noise_mode,
        fused_modconv: None,
    };
    let mut noise = Rng::new(seed as u64);
    let _eval = EvalMode::new(g);
    let img = no_grad(|| g.forward(&z, c.as_ref(), &gopts, &mut noise))?;
    let chw = to_uint8(&img)?;
    Ok(chw_to_hwc(
        &chw,
        k.img_channels,
        k.img_resolution,
        k.img_resolution,
    ))
}

fn chw_to_hwc(chw: &[u8], c: usize, h: usize, w: usize) -> Vec<u8> {
    let plane = h * w;
    let mut out = vec![0u8; chw.len()];
    for ch in 0..c {
        for p in 0..plane {
            out[p * c + ch] = chw[ch * plane + p];
        }
    }
    out
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request {
    pub seeds: Vec<u32>,
    /// Required for conditional networks unless `grid`; with `grid`, only this class's row.
    pub class: Option<usize>,
    /// One `grid.png`: a row per class (one row for unconditional networks), a column per seed.
    pub grid: bool,
    pub opts: GenerateOptions,
}

/// The grid's file name in the output folder.
pub const GRID_NAME: &str = "grid.png";

fn png_channels(g: &Generator) -> Result<usize> {
    match g.kwargs.img_channels {
        c @ (1 | 3) => Ok(c),
        c => bail!("images with {c} channels cannot be written as PNG (1 or 3 are supported)"),
    }
}

/// Writes the images of `req` into `outdir` (created when missing) and returns their paths.
pub fn run(
    g: &Generator,
    req: &Request,
    outdir: &Path,
    device: &Device,
    log: &dyn Fn(&str),
) -> Result<Vec<PathBuf>> {
    let k = &g.kwargs;
    let channels = png_channels(g)?;
    if req.seeds.is_empty() {
        bail!("--seeds lists no seed");
    }
    let rows: Vec<Option<usize>> = if k.c_dim == 0 {
        if req.class.is_some() {
            log("warn: --class is ignored: the network is unconditional");
        }
        vec![None]
    } else {
        match (req.class, req.grid) {
            (Some(c), _) => vec![Some(c)],
            (None, true) => (0..k.c_dim).map(Some).collect(),
            (None, false) => bail!(
                "Must specify class label with --class when using a conditional network (it has {} classes), or use --grid",
                k.c_dim
            ),
        }
    };
    if let Some(c) = rows.iter().flatten().find(|&&c| c >= k.c_dim) {
        bail!(
            "--class={c} is out of range: the network has {} classes (0 to {})",
            k.c_dim,
            k.c_dim - 1
        );
    }
    std::fs::create_dir_all(outdir)
        .with_context(|| format!("cannot create the output folder {}", outdir.display()))?;
    let res = k.img_resolution;
    let save = |path: &Path, hwc: &[u8], h: usize, w: usize| -> Result<()> {
        crate::image_grid::save_png(path, hwc, h, w, channels)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    };
    if !req.grid {
        let mut written = Vec::new();
        for (i, &seed) in req.seeds.iter().enumerate() {
            log(&format!(
                "Generating image for seed {seed} ({i}/{}) ...",
                req.seeds.len()
            ));
            let img = generate_image(g, seed, rows[0], &req.opts, device)?;
            let path = outdir.join(format!("seed{seed:04}.png"));
            save(&path, &img, res, res)?;
            written.push(path);
        }
        return Ok(written);
    }
    let (gw, gh) = (req.seeds.len(), rows.len());
    let row_bytes = gw * res * channels;
    let mut grid = vec![0u8; gh * res * row_bytes];
    for (gy, &class) in rows.iter().enumerate() {
        if let Some(c) = class {
            log(&format!("Generating class {c} ({}/{gh}) ...", gy + 1));
        }
        for (gx, &seed) in req.seeds.iter().enumerate() {
            let img = generate_image(g, seed, class, &req.opts, device)?;
            for y in 0..res {
                let dst = (gy * res + y) * row_bytes + gx * res * channels;
                grid[dst..dst + res * channels]
                    .copy_from_slice(&img[y * res * channels..(y + 1) * res * channels]);
            }
        }
    }
    let path = outdir.join(GRID_NAME);
    save(&path, &grid, gh * res, gw * res)?;
    log(&format!(
        "Wrote {} ({gh} row(s) x {gw} seed(s), {}x{} pixels)",
        path.display(),
        gw * res,
        gh * res
    ));
    Ok(vec![path])
}
