//! Generated images as a metric source, drawn as the official
//! `compute_feature_stats_for_generator` draws them: `z ~ N(0, I)`, the label
//! of a uniformly drawn dataset image (or a fixed class for per-class
//! metrics), truncation 1, noise mode `random`, and the uint8 conversion
//! `(img * 127.5 + 128).clamp(0, 255)` truncated toward zero.
//!
//! Latents, labels and layer noise come from three seeded streams, so a seed
//! gives the same images on every run, and drawing labels for one metric does
//! not shift the latents: with a single class, per-class generation sees the
//! same latents as global generation.

use tcgan_core::{no_grad, DType, Device, Generator as Rng, Tensor};
use tcgan_nn::metrics::{GeneratedImages, LabeledImages, MetricError, Result};
use tcgan_nn::networks::{Generator, GeneratorOptions, NoiseMode};
use tcgan_nn::Module;

/// Images run through the generator at once (the official `batch_gen`).
pub const BATCH_GEN: usize = 4;

/// The official conversion of generator output (`[-1, 1]`) to uint8:
/// `(img * 127.5 + 128).clamp(0, 255).to(torch.uint8)` in float32.
/// Non-finite values are an error rather than a silently black pixel.
pub fn to_uint8(img: &Tensor) -> Result<Vec<u8>> {
    let v = img.to_vec_f32()?;
    if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
        return Err(MetricError::Source(format!(
            "the generator produced a non-finite pixel value ({bad})"
        )));
    }
    Ok(v.iter()
        .map(|&x| (x * 127.5 + 128.0).clamp(0.0, 255.0) as u8)
        .collect())
}

/// The dtype the generator's parameters are stored in.
pub fn generator_dtype(g: &Generator) -> DType {
    g.named_tensors()
        .first()
        .map_or(DType::F32, |t| t.tensor.dtype())
}

/// Puts a generator in eval mode (as the official code's `copy.deepcopy(G).eval()`:
/// no `w_avg` update, fused modconv) and restores its mode when dropped.
pub struct EvalMode<'a> {
    g: &'a Generator,
    was_training: bool,
}

impl<'a> EvalMode<'a> {
    pub fn new(g: &'a Generator) -> Self {
        let was_training = g.mapping.is_training();
        g.set_training(false);
        EvalMode { g, was_training }
    }
}

impl Drop for EvalMode<'_> {
    fn drop(&mut self) {
        if self.was_training {
            self.g.set_training(true);
        }
    }
}

pub struct GeneratorImages<'a> {
    g: &'a Generator,
    device: Device,
    dtype: DType,
    /// The dataset's label vectors; empty for an unconditional generator.
    labels: Vec<Vec<f32>>,
    z_rng: Rng,
    c_rng: Rng,
    noise_rng: Rng,
}

/// Distinct streams from one seed.
fn stream(seed: u64, k: u64) -> Rng {
    Rng::new(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl<'a> GeneratorImages<'a> {
    /// `labels`: the label vector of every dataset image (needed when the
    /// generator is conditional and labels are drawn; ignored otherwise).
    pub fn new(
        g: &'a Generator,
        labels: Vec<Vec<f32>>,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let c_dim = g.kwargs.c_dim;
        let labels = if c_dim == 0 { Vec::new() } else { labels };
        if let Some(bad) = labels.iter().find(|l| l.len() != c_dim) {
            return Err(MetricError::Source(format!(
                "the dataset's labels have {} values but the network's c_dim is {c_dim}",
                bad.len()
            )));
        }
        Ok(GeneratorImages {
            g,
            device: device.clone(),
            dtype: generator_dtype(g),
            labels,
            z_rng: stream(seed, 0),
            c_rng: stream(seed, 1),
            noise_rng: stream(seed, 2),
        })
    }

    fn conditioning(&mut self, n: usize, class: Option<usize>) -> Result<Option<Tensor>> {
        let c_dim = self.g.kwargs.c_dim;
        if c_dim == 0 {
            return Ok(None);
        }
        let mut c = Vec::with_capacity(n * c_dim);
        for _ in 0..n {
            match class {
                Some(k) => {
                    let mut one_hot = vec![0f32; c_dim];
                    one_hot[k] = 1.0;
                    c.extend(one_hot);
                }
                None => {
                    if self.labels.is_empty() {
                        return Err(MetricError::Source(
                            "the network is conditional but the dataset has no labels to draw"
                                .into(),
                        ));
                    }
                    let i = self.c_rng.below(self.labels.len() as u64) as usize;
                    c.extend_from_slice(&self.labels[i]);
                }
            }
        }
        let t = Tensor::from_vec(c, [n, c_dim], &self.device)?;
        Ok(Some(t.to_dtype(self.dtype)?))
    }
}

impl GeneratedImages for GeneratorImages<'_> {
    fn num_classes(&self) -> usize {
        self.g.kwargs.c_dim
    }

    fn generate(&mut self, n: usize, class: Option<usize>) -> Result<LabeledImages> {
        let k = &self.g.kwargs;
        if let Some(c) = class {
            if c >= k.c_dim {
                return Err(MetricError::Source(format!(
                    "class {c} is out of range for a network with c_dim {}",
                    k.c_dim
                )));
            }
        }
        let _eval = EvalMode::new(self.g);
        let opts = GeneratorOptions {
            truncation_psi: 1.0,
            truncation_cutoff: None,
            noise_mode: NoiseMode::Random,
            fused_modconv: None,
        };
        let mut pixels = Vec::with_capacity(n * k.img_channels * k.img_resolution.pow(2));
        let mut done = 0;
        while done < n {
            let m = BATCH_GEN.min(n - done);
            let z = self.z_rng.normal([m, k.z_dim], self.dtype, &self.device)?;
            let c = self.conditioning(m, class)?;
            let img = no_grad(|| self.g.forward(&z, c.as_ref(), &opts, &mut self.noise_rng))
                .map_err(|e| MetricError::Source(format!("generator: {e}")))?;
            pixels.extend(to_uint8(&img)?);
            done += m;
        }
        Ok(LabeledImages {
            pixels,
            shape: [n, k.img_channels, k.img_resolution, k.img_resolution],
            labels: class.map(|c| vec![c; n]),
        })
    }
}
