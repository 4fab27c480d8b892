//! The synthesis network w -> image: a learned 4x4 constant, then one block per
//! resolution, each with modulated 3x3 convolutions (the first upsampling),
//! per-pixel noise and a ToRGB layer whose outputs are accumulated across
//! resolutions (architecture `skip`), or residual blocks (`resnet`), or the
//! plain chain (`orig`).

use super::fp16::{fp16_resolution, Fp16Switch};
use super::kwargs::{
    act, channels_at, check_resolution, Architecture, FilterKwarg, SynthesisKwargs,
};
use super::layers::{Conv2dArgs, Conv2dLayer, FullyConnectedLayer};
use super::noise::{NoiseMode, NoiseSource};
use crate::module::{child, key, leaf, Init, Module, TensorKind, Visitor};
use crate::ops::{bias_act::spec, modulated_conv2d, setup_filter, upsample2d, ModConvArgs};
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use tcgan_core::{Activation, DType, Tensor};

/// Per-call options of the synthesis network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthesisOptions {
    pub noise_mode: NoiseMode,
    /// `None` = the official default: fused in eval mode, not fused in training.
    pub fused_modconv: Option<bool>,
}

impl Default for SynthesisOptions {
    fn default() -> Self {
        SynthesisOptions {
            noise_mode: NoiseMode::Random,
            fused_modconv: None,
        }
    }
}

fn filter(init: &Init, f: &FilterKwarg) -> Result<Tensor> {
    let (v, s) = f.values_and_shape()?;
    setup_filter(&v, &s, true, false, 1.0, None, &init.device, init.dtype)
}

/// `SynthesisLayer`: modulated conv (+ noise), bias, activation, clamp.
#[derive(Debug)]
pub struct SynthesisLayer {
    /// The official module path (`synthesis.b8.conv0`), the name of its noise draws.
    pub name: String,
    pub affine: FullyConnectedLayer,
    pub weight: Tensor,
    pub noise_strength: Option<Tensor>,
    pub bias: Tensor,
    pub resample_filter: Tensor,
    pub noise_const: Option<Tensor>,
    pub in_channels: usize,
    pub resolution: usize,
    pub up: usize,
    pub padding: usize,
    pub activation: Activation,
    pub conv_clamp: Option<f64>,
}

impl SynthesisLayer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        init: &mut Init,
        name: String,
        in_channels: usize,
        out_channels: usize,
        w_dim: usize,
        resolution: usize,
        up: usize,
        kw: &SynthesisKwargs,
    ) -> Result<Self> {
        let k = kw.kernel_size;
        // Officially only the upsampling conv0 is given the block's filter;
        // conv1 keeps the default one (it never resamples, but the buffer is
        // part of the state).
        let resample_filter = if up > 1 {
            filter(init, &kw.resample_filter)?
        } else {
            filter(init, &FilterKwarg::default())?
        };
        let affine =
            FullyConnectedLayer::new(init, w_dim, in_channels, true, Activation::Linear, 1.0, 1.0)?;
        let weight = leaf(
            init.randn(&[out_channels, in_channels, k, k])?,
            TensorKind::Parameter,
        )?;
        let (noise_const, noise_strength) = if kw.use_noise {
            (
                Some(init.randn(&[resolution, resolution])?),
                Some(leaf(init.full(&[], 0.0)?, TensorKind::Parameter)?),
            )
        } else {
            (None, None)
        };
        let bias = leaf(init.full(&[out_channels], 0.0)?, TensorKind::Parameter)?;
        Ok(SynthesisLayer {
            name,
            affine,
            weight,
            noise_strength,
            bias,
            resample_filter,
            noise_const,
            in_channels,
            resolution,
            up,
            padding: k / 2,
            activation: act(&kw.activation)?,
            conv_clamp: kw.conv_clamp,
        })
    }

    pub fn forward(
        &self,
        x: &Tensor,
        w: &Tensor,
        noise_mode: NoiseMode,
        fused_modconv: bool,
        gain: f64,
        rng: &mut dyn NoiseSource,
    ) -> Result<Tensor> {
        let in_res = self.resolution / self.up;
        if x.rank() != 4 || x.dims()[1..] != [self.in_channels, in_res, in_res] {
            return Err(Error::shape(
                format!("{} input", self.name),
                format!("[N, {}, {in_res}, {in_res}]", self.in_channels),
                x.dims(),
            ));
        }
        let styles = self.affine.forward(w)?;
        let n = x.dim(0);
        let noise = match (noise_mode, &self.noise_strength, &self.noise_const) {
            (NoiseMode::Random, Some(s), _) => {
                let r = self.resolution;
                // Drawn like the parameters (f32), also for an f16 block.
                Some(rng.randn(&self.name, &[n, 1, r, r], s)?.mul(s)?)
            }
            (NoiseMode::Const, Some(s), Some(c)) => Some(c.mul(s)?),
            _ => None,
        };
        let p = self.padding as isize;
        let args = ModConvArgs {
            up: self.up,
            down: 1,
            padding: [p; 4],
            demodulate: true,
            flip_weight: self.up == 1,
            fused_modconv,
        };
        let x = modulated_conv2d(
            x,
            &self.weight,
            &styles,
            noise.as_ref(),
            Some(&self.resample_filter),
            &args,
        )?;
        let s = spec(
            self.activation,
            None,
            Some(self.activation.default_gain() * gain),
            self.conv_clamp.map(|c| c * gain),
        );
        Ok(x.bias_act(Some(&self.bias.to_dtype(x.dtype())?), 1, &s)?)
    }
}

impl Module for SynthesisLayer {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        f(key(prefix, "weight"), &self.weight, TensorKind::Parameter);
        if let Some(s) = &self.noise_strength {
            f(key(prefix, "noise_strength"), s, TensorKind::Parameter);
        }
        f(key(prefix, "bias"), &self.bias, TensorKind::Parameter);
        f(
            key(prefix, "resample_filter"),
            &self.resample_filter,
            TensorKind::Buffer,
        );
        if let Some(c) = &self.noise_const {
            f(key(prefix, "noise_const"), c, TensorKind::Buffer);
        }
        self.affine.visit(&child(prefix, "affine"), f);
    }
}

/// `ToRGBLayer`: a 1x1 modulated conv without demodulation, linear, clamped.
#[derive(Debug)]
pub struct ToRGBLayer {
    pub affine: FullyConnectedLayer,
    pub weight: Tensor,
    pub bias: Tensor,
    pub weight_gain: f64,
    pub conv_clamp: Option<f64>,
}

impl ToRGBLayer {
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        out_channels: usize,
        w_dim: usize,
        kernel_size: usize,
        conv_clamp: Option<f64>,
    ) -> Result<Self> {
        let k = kernel_size;
        Ok(ToRGBLayer {
            affine: FullyConnectedLayer::new(
                init,
                w_dim,
                in_channels,
                true,
                Activation::Linear,
                1.0,
                1.0,
            )?,
            weight: leaf(
                init.randn(&[out_channels, in_channels, k, k])?,
                TensorKind::Parameter,
            )?,
            bias: leaf(init.full(&[out_channels], 0.0)?, TensorKind::Parameter)?,
            weight_gain: 1.0 / ((in_channels * k * k) as f64).sqrt(),
            conv_clamp,
        })
    }

    pub fn forward(&self, x: &Tensor, w: &Tensor, fused_modconv: bool) -> Result<Tensor> {
        let styles = self.affine.forward(w)?.mul_scalar(self.weight_gain)?;
        let args = ModConvArgs {
            demodulate: false,
            fused_modconv,
            ..ModConvArgs::default()
        };
        let x = modulated_conv2d(x, &self.weight, &styles, None, None, &args)?;
        Ok(x.bias_act(
            Some(&self.bias.to_dtype(x.dtype())?),
            1,
            &spec(Activation::Linear, None, None, self.conv_clamp),
        )?)
    }
}

impl Module for ToRGBLayer {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        f(key(prefix, "weight"), &self.weight, TensorKind::Parameter);
        f(key(prefix, "bias"), &self.bias, TensorKind::Parameter);
        self.affine.visit(&child(prefix, "affine"), f);
    }
}

/// `SynthesisBlock`: one resolution of the synthesis network.
#[derive(Debug)]
pub struct SynthesisBlock {
    pub resolution: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub img_channels: usize,
    pub architecture: Architecture,
    pub is_last: bool,
    pub resample_filter: Tensor,
    pub constant: Option<Tensor>,
    pub conv0: Option<SynthesisLayer>,
    pub conv1: SynthesisLayer,
    pub torgb: Option<ToRGBLayer>,
    pub skip: Option<Conv2dLayer>,
    pub num_conv: usize,
    pub num_torgb: usize,
    /// Among the `num_fp16_res` highest resolutions.
    pub use_fp16: bool,
}

impl SynthesisBlock {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        out_channels: usize,
        w_dim: usize,
        resolution: usize,
        img_channels: usize,
        is_last: bool,
        use_fp16: bool,
        kw: &SynthesisKwargs,
    ) -> Result<Self> {
        let name = format!("synthesis.b{resolution}");
        let resample_filter = filter(init, &kw.resample_filter)?;
        let mut num_conv = 0;
        let constant = (in_channels == 0)
            .then(|| init.randn(&[out_channels, resolution, resolution]))
            .transpose()?
            .map(|c| leaf(c, TensorKind::Parameter))
            .transpose()?;
        let conv0 = if in_channels != 0 {
            num_conv += 1;
            Some(SynthesisLayer::new(
                init,
                format!("{name}.conv0"),
                in_channels,
                out_channels,
                w_dim,
                resolution,
                2,
                kw,
            )?)
        } else {
            None
        };
        let conv1 = SynthesisLayer::new(
            init,
            format!("{name}.conv1"),
            out_channels,
            out_channels,
            w_dim,
            resolution,
            1,
            kw,
        )?;
        num_conv += 1;
        let mut num_torgb = 0;
        let torgb = if is_last || kw.architecture == Architecture::Skip {
            num_torgb = 1;
            Some(ToRGBLayer::new(
                init,
                out_channels,
                img_channels,
                w_dim,
                1,
                kw.conv_clamp,
            )?)
        } else {
            None
        };
        let skip = if in_channels != 0 && kw.architecture == Architecture::Resnet {
            let args = Conv2dArgs {
                bias: false,
                up: 2,
                resample_filter: kw.resample_filter.clone(),
                ..Conv2dArgs::new(1)
            };
            Some(Conv2dLayer::new(init, in_channels, out_channels, &args)?)
        } else {
            None
        };
        Ok(SynthesisBlock {
            resolution,
            in_channels,
            out_channels,
            img_channels,
            architecture: kw.architecture,
            is_last,
            resample_filter,
            constant,
            conv0,
            conv1,
            torgb,
            skip,
            num_conv,
            num_torgb,
            use_fp16,
        })
    }

    /// `(x, img) = block(x, img, ws)` with `ws [N, num_conv + num_torgb, w_dim]`;
    /// `x` comes out in `dtype` (f16 for an f16 block), `img` in `ws`'s dtype.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        x: Option<&Tensor>,
        img: Option<&Tensor>,
        ws: &Tensor,
        opts: &SynthesisOptions,
        training: bool,
        dtype: DType,
        rng: &mut dyn NoiseSource,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let count = self.num_conv + self.num_torgb;
        if ws.rank() != 3 || ws.dim(1) != count {
            return Err(Error::shape(
                format!("synthesis.b{} ws", self.resolution),
                format!("[N, {count}, w_dim]"),
                ws.dims(),
            ));
        }
        let mut w_iter = (0..count).map(|i| ws.narrow(1, i, 1).and_then(|w| w.squeeze(1)));
        let mut next_w = || -> Result<Tensor> { Ok(w_iter.next().expect("counted above")?) };
        let n = ws.dim(0);
        // Officially an f16 block fuses only single samples even in eval mode.
        let fused = opts
            .fused_modconv
            .unwrap_or(!training && (dtype != DType::F16 || n == 1));
        let nm = opts.noise_mode;

        let x = match (&self.constant, x) {
            (Some(c), _) => c.to_dtype(dtype)?.unsqueeze(0)?.repeat(&[n, 1, 1, 1])?,
            (None, Some(x)) => {
                let r = self.resolution / 2;
                if x.rank() != 4 || x.dims()[1..] != [self.in_channels, r, r] {
                    return Err(Error::shape(
                        format!("synthesis.b{} x", self.resolution),
                        format!("[N, {}, {r}, {r}]", self.in_channels),
                        x.dims(),
                    ));
                }
                x.to_dtype(dtype)?
            }
            (None, None) => {
                return Err(Error::config(
                    format!("synthesis.b{}", self.resolution),
                    "needs the features of the previous block",
                ))
            }
        };

        let x = match (&self.conv0, &self.skip) {
            (None, _) => self.conv1.forward(&x, &next_w()?, nm, fused, 1.0, rng)?,
            (Some(conv0), Some(skip)) => {
                let y = skip.forward(&x, 0.5f64.sqrt())?;
                let x = conv0.forward(&x, &next_w()?, nm, fused, 1.0, rng)?;
                let x = self
                    .conv1
                    .forward(&x, &next_w()?, nm, fused, 0.5f64.sqrt(), rng)?;
                y.add(&x)?
            }
            (Some(conv0), None) => {
                let x = conv0.forward(&x, &next_w()?, nm, fused, 1.0, rng)?;
                self.conv1.forward(&x, &next_w()?, nm, fused, 1.0, rng)?
            }
        };

        let mut img = match img {
            Some(img) => {
                let r = self.resolution / 2;
                if img.rank() != 4 || img.dims()[1..] != [self.img_channels, r, r] {
                    return Err(Error::shape(
                        format!("synthesis.b{} img", self.resolution),
                        format!("[N, {}, {r}, {r}]", self.img_channels),
                        img.dims(),
                    ));
                }
                Some(upsample2d(
                    img,
                    Some(&self.resample_filter),
                    [2, 2],
                    [0; 4],
                    false,
                    1.0,
                )?)
            }
            None => None,
        };
        if let Some(torgb) = &self.torgb {
            // Images stay in the network's dtype (f32) across all blocks.
            let y = torgb.forward(&x, &next_w()?, fused)?.to_dtype(ws.dtype())?;
            img = Some(match img {
                Some(img) => img.add(&y)?,
                None => y,
            });
        }
        Ok((x, img))
    }
}

impl Module for SynthesisBlock {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        if let Some(c) = &self.constant {
            f(key(prefix, "const"), c, TensorKind::Parameter);
        }
        f(
            key(prefix, "resample_filter"),
            &self.resample_filter,
            TensorKind::Buffer,
        );
        if let Some(c) = &self.conv0 {
            c.visit(&child(prefix, "conv0"), f);
        }
        self.conv1.visit(&child(prefix, "conv1"), f);
        if let Some(t) = &self.torgb {
            t.visit(&child(prefix, "torgb"), f);
        }
        if let Some(s) = &self.skip {
            s.visit(&child(prefix, "skip"), f);
        }
    }
}

/// `SynthesisNetwork`: blocks at 4, 8, ..., `img_resolution`.
#[derive(Debug)]
pub struct SynthesisNetwork {
    pub w_dim: usize,
    pub img_resolution: usize,
    pub img_channels: usize,
    pub blocks: Vec<SynthesisBlock>,
    pub num_ws: usize,
    training: AtomicBool,
    /// Runs the `use_fp16` blocks in f16 when on.
    pub fp16: Fp16Switch,
}

impl SynthesisNetwork {
    pub fn new(
        init: &mut Init,
        w_dim: usize,
        img_resolution: usize,
        img_channels: usize,
        kw: &SynthesisKwargs,
    ) -> Result<Self> {
        check_resolution("SynthesisNetwork", img_resolution)?;
        let log2 = img_resolution.trailing_zeros();
        let resolutions: Vec<usize> = (2..=log2).map(|i| 1usize << i).collect();
        let ch = |res: usize| channels_at(kw.channel_base, kw.channel_max, res);
        if resolutions.iter().any(|&r| ch(r) == 0) {
            return Err(Error::config(
                "SynthesisNetwork",
                format!(
                    "channel_base {} gives 0 channels at {img_resolution}",
                    kw.channel_base
                ),
            ));
        }
        let mut blocks = Vec::new();
        let mut num_ws = 0;
        let fp16_from = fp16_resolution(img_resolution, kw.num_fp16_res);
        for &res in &resolutions {
            let in_channels = if res > 4 { ch(res / 2) } else { 0 };
            let is_last = res == img_resolution;
            let block = SynthesisBlock::new(
                init,
                in_channels,
                ch(res),
                w_dim,
                res,
                img_channels,
                is_last,
                res >= fp16_from,
                kw,
            )?;
            num_ws += block.num_conv;
            if is_last {
                num_ws += block.num_torgb;
            }
            blocks.push(block);
        }
        Ok(SynthesisNetwork {
            w_dim,
            img_resolution,
            img_channels,
            blocks,
            num_ws,
            training: AtomicBool::new(false),
            fp16: Fp16Switch::default(),
        })
    }

    /// Training mode makes `fused_modconv` default to false.
    pub fn set_training(&self, on: bool) {
        self.training.store(on, Ordering::Relaxed);
    }

    pub fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    /// The image `[N, img_channels, R, R]` for `ws [N, num_ws, w_dim]`.
    pub fn forward(
        &self,
        ws: &Tensor,
        opts: &SynthesisOptions,
        rng: &mut dyn NoiseSource,
    ) -> Result<Tensor> {
        let blocks = self.forward_blocks(ws, opts, rng)?;
        let (_, _, img) = blocks.into_iter().last().expect("at least one block");
        img.ok_or_else(|| Error::config("SynthesisNetwork", "the last block made no image"))
    }

    /// Every block's output `(resolution, x, img)`, in order.
    pub fn forward_blocks(
        &self,
        ws: &Tensor,
        opts: &SynthesisOptions,
        rng: &mut dyn NoiseSource,
    ) -> Result<Vec<(usize, Tensor, Option<Tensor>)>> {
        if ws.rank() != 3 || ws.dim(1) != self.num_ws || ws.dim(2) != self.w_dim {
            return Err(Error::shape(
                "SynthesisNetwork ws",
                format!("[N, {}, {}]", self.num_ws, self.w_dim),
                ws.dims(),
            ));
        }
        let training = self.is_training();
        let mut out: Vec<(usize, Tensor, Option<Tensor>)> = Vec::with_capacity(self.blocks.len());
        let mut w_idx = 0;
        for block in &self.blocks {
            let cur = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)?;
            w_idx += block.num_conv;
            let dtype = self.fp16.block_dtype(block.use_fp16, ws.dtype());
            let (x, img) = match out.last() {
                Some((_, x, img)) => {
                    block.forward(Some(x), img.as_ref(), &cur, opts, training, dtype, rng)?
                }
                None => block.forward(None, None, &cur, opts, training, dtype, rng)?,
            };
            out.push((block.resolution, x, img));
        }
        Ok(out)
    }
}

impl Module for SynthesisNetwork {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        for b in &self.blocks {
            b.visit(&child(prefix, &format!("b{}", b.resolution)), f);
        }
    }
}
