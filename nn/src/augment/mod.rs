//! The ADA augmentation pipe of StyleGAN2-ADA (`training/augment.py`):
//! geometric, colour, filtering and corruption augmentations applied to every
//! image D sees, each with probability `multiplier * p`, differentiable in the
//! images to any order. Parameters are drawn on the host from an explicit
//! generator; the image work is tensor ops on the images' device.

pub mod ada;
pub mod color;
pub mod filter;
pub mod geometric;
pub mod kwargs;
pub mod matrices;
pub mod noise_cutout;
pub mod params;
pub mod special;

pub use ada::{ada_adjust, AdaController, SIGNS_REAL};
pub use geometric::{GeomPlan, Trace};
pub use kwargs::{AugmentKwargs, PRESETS};
pub use matrices::{Mat3, Mat4};
pub use params::{AugmentParams, CutoutParams, Drawn, Draws, NoiseParams};

use crate::ops::{setup_filter, wavelet};
use crate::{Error, Result};
use std::cell::RefCell;
use tcgan_core::{DType, Device, Generator, Tensor};

/// The augmentation pipe: its configuration, the overall probability `p`
/// (the state ADA adjusts and snapshots store) and its two filters.
#[derive(Debug, Clone)]
pub struct AugmentPipe {
    pub kwargs: AugmentKwargs,
    /// Overall multiplier of every augmentation probability.
    pub p: f64,
    /// `setup_filter(wavelets['sym6'])`: the 12-tap separable low-pass of
    /// the geometric stage, in f32 and f64 (picked by the images' dtype).
    hz_geom: [Tensor; 2],
    /// The image-filter bank, 4 bands x 43 taps.
    hz_fbank: Vec<Vec<f64>>,
}

impl AugmentPipe {
    /// A pipe on `device` with `p = 0`.
    pub fn new(kwargs: AugmentKwargs, device: &Device) -> Result<Self> {
        kwargs.validate()?;
        let sym6 = wavelet("sym6").expect("sym6 is tabulated");
        let geom = |dtype| setup_filter(sym6, &[sym6.len()], true, false, 1.0, None, device, dtype);
        Ok(AugmentPipe {
            kwargs,
            p: 0.0,
            hz_geom: [geom(DType::F32)?, geom(DType::F64)?],
            hz_fbank: filter::hz_fbank(),
        })
    }

    /// A `train.py --augpipe` preset.
    pub fn preset(name: &str, device: &Device) -> Result<Self> {
        Self::new(AugmentKwargs::preset(name)?, device)
    }

    /// The geometric filter (`Hz_geom`) in `dtype` (f32 for f16 images: the
    /// filtering ops take a filter of any float type).
    pub fn hz_geom(&self, dtype: DType) -> &Tensor {
        match dtype {
            DType::F32 | DType::F16 => &self.hz_geom[0],
            DType::F64 => &self.hz_geom[1],
        }
    }

    pub fn hz_fbank(&self) -> &[Vec<f64>] {
        &self.hz_fbank
    }

    /// Draws the parameters of one call for images of `shape` at the
    /// current `p`. `debug_percentile` in [0, 1] replaces every draw by that
    /// percentile of its distribution (and applies every augmentation).
    pub fn draw(
        &self,
        shape: [usize; 4],
        rng: &mut Generator,
        debug_percentile: Option<f64>,
    ) -> Result<AugmentParams> {
        if let Some(q) = debug_percentile {
            if !(0.0..=1.0).contains(&q) {
                return Err(Error::config(
                    "AugmentPipe",
                    format!("debug_percentile must lie in [0, 1], got {q}"),
                ));
            }
        }
        if !self.p.is_finite() || self.p < 0.0 {
            return Err(Error::config(
                "AugmentPipe",
                format!("p must be finite and >= 0, got {}", self.p),
            ));
        }
        Ok(params::draw(
            &self.kwargs,
            self.p,
            shape,
            rng,
            debug_percentile,
        ))
    }

    /// `AugmentPipe.forward(images, debug_percentile)`: draws and applies.
    pub fn forward(
        &self,
        images: &Tensor,
        rng: &mut Generator,
        debug_percentile: Option<f64>,
    ) -> Result<Tensor> {
        let shape = geometric::dims4(images)?;
        let params = self.draw(shape, rng, debug_percentile)?;
        self.apply(images, &params, None)
    }

    /// Runs the stages of `params` on `images` `[N, C, H, W]` (geometric,
    /// colour, filter, noise, cutout), pushing each intermediate image to
    /// `trace` when given.
    pub fn apply(
        &self,
        images: &Tensor,
        params: &AugmentParams,
        mut trace: Option<&mut Trace>,
    ) -> Result<Tensor> {
        let shape = geometric::dims4(images)?;
        if shape != params.shape {
            return Err(Error::shape(
                "AugmentPipe",
                format!(
                    "{:?} (the shape the parameters were drawn for)",
                    params.shape
                ),
                images.dims(),
            ));
        }
        let [_, _, h, w] = shape;
        let mut x = images.clone();
        if let Some(g_inv) = &params.g_inv {
            let plan = GeomPlan::new(g_inv.clone(), h, w, self.hz_geom[0].dim(0))?;
            x = geometric::apply_geometric(
                &x,
                &plan,
                self.hz_geom(x.dtype()),
                trace.as_deref_mut(),
            )?;
        }
        if let Some(c) = &params.color {
            x = color::apply_color(&x, c)?;
            push(&mut trace, "img_color", &x);
        }
        if let Some(g) = &params.filter_gain {
            x = filter::apply_imgfilter(&x, g, &self.hz_fbank)?;
            push(&mut trace, "img_filter", &x);
        }
        if let Some(noise) = &params.noise {
            x = noise_cutout::apply_noise(&x, noise)?;
            push(&mut trace, "img_noise", &x);
        }
        if let Some(cutout) = &params.cutout {
            x = noise_cutout::apply_cutout(&x, cutout)?;
            push(&mut trace, "img_cutout", &x);
        }
        Ok(x)
    }

    /// The pipe as the loss's augmentation hook, drawing from `rng` on every
    /// call (the hook is `Fn`, so the generator sits in a `RefCell`).
    pub fn hook<'a>(
        &'a self,
        rng: &'a RefCell<Generator>,
    ) -> impl Fn(&Tensor) -> Result<Tensor> + 'a {
        move |images| self.forward(images, &mut rng.borrow_mut(), None)
    }
}

fn push(trace: &mut Option<&mut Trace>, name: &'static str, t: &Tensor) {
    if let Some(tr) = trace.as_deref_mut() {
        tr.push((name, t.clone()));
    }
}
