//! The Discriminator: blocks from `img_resolution` down to 8x8 (resnet, skip or
//! orig), then the 4x4 epilogue with minibatch stddev, and the authors' two
//! heads: `out_uc` (the unconditional logit) and, with labels, the projection
//! head `out_c` whose dot product with the mapped label is the conditional
//! logit. The output is `[N, 2] = [uncond, cond]`, or `[N, 1]` without labels.

use super::fp16::{fp16_resolution, Fp16Switch};
use super::kwargs::{
    act, channels_at, check_resolution, Architecture, DiscriminatorKwargs, FilterKwarg,
    MappingNetworkKwargs,
};
use super::layers::{Conv2dArgs, Conv2dLayer, FullyConnectedLayer};
use super::mapping::MappingNetwork;
use crate::module::{child, key, leaf, Init, Module, TensorKind, Visitor};
use crate::ops::{downsample2d, minibatch_std, setup_filter};
use crate::{Error, Result};
use tcgan_core::{Activation, DType, Tensor};

/// `DiscriminatorBlock`: one resolution, halving it.
#[derive(Debug)]
pub struct DiscriminatorBlock {
    pub in_channels: usize,
    pub resolution: usize,
    pub img_channels: usize,
    pub architecture: Architecture,
    pub resample_filter: Tensor,
    pub fromrgb: Option<Conv2dLayer>,
    pub conv0: Conv2dLayer,
    pub conv1: Conv2dLayer,
    pub skip: Option<Conv2dLayer>,
    /// Layers counted for Freeze-D.
    pub num_layers: usize,
    /// Among the `num_fp16_res` highest resolutions.
    pub use_fp16: bool,
}

impl DiscriminatorBlock {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        tmp_channels: usize,
        out_channels: usize,
        resolution: usize,
        img_channels: usize,
        first_layer_idx: usize,
        architecture: Architecture,
        activation: Activation,
        resample_filter: &FilterKwarg,
        conv_clamp: Option<f64>,
        freeze_layers: usize,
        use_fp16: bool,
    ) -> Result<Self> {
        if in_channels != 0 && in_channels != tmp_channels {
            return Err(Error::config(
                "DiscriminatorBlock",
                format!("in_channels {in_channels} must be 0 or tmp_channels {tmp_channels}"),
            ));
        }
        let (fv, fs) = resample_filter.values_and_shape()?;
        let filter = setup_filter(&fv, &fs, true, false, 1.0, None, &init.device, init.dtype)?;
        let mut num_layers = 0;
        let mut trainable = || {
            let t = first_layer_idx + num_layers >= freeze_layers;
            num_layers += 1;
            t
        };
        let base = |k: usize, trainable: bool| Conv2dArgs {
            activation,
            conv_clamp,
            trainable,
            ..Conv2dArgs::new(k)
        };
        let fromrgb = if in_channels == 0 || architecture == Architecture::Skip {
            Some(Conv2dLayer::new(
                init,
                img_channels,
                tmp_channels,
                &base(1, trainable()),
            )?)
        } else {
            None
        };
        let conv0 = Conv2dLayer::new(init, tmp_channels, tmp_channels, &base(3, trainable()))?;
        let conv1 = Conv2dLayer::new(
            init,
            tmp_channels,
            out_channels,
            &Conv2dArgs {
                down: 2,
                resample_filter: resample_filter.clone(),
                ..base(3, trainable())
            },
        )?;
        let skip = if architecture == Architecture::Resnet {
            let args = Conv2dArgs {
                bias: false,
                down: 2,
                resample_filter: resample_filter.clone(),
                trainable: trainable(),
                ..Conv2dArgs::new(1)
            };
            Some(Conv2dLayer::new(init, tmp_channels, out_channels, &args)?)
        } else {
            None
        };
        Ok(DiscriminatorBlock {
            in_channels,
            resolution,
            img_channels,
            architecture,
            resample_filter: filter,
            fromrgb,
            conv0,
            conv1,
            skip,
            num_layers,
            use_fp16,
        })
    }

    /// `(x, img) = block(x, img)`, both computed and returned in `dtype`.
    pub fn forward(
        &self,
        x: Option<&Tensor>,
        img: Option<&Tensor>,
        dtype: DType,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let r = self.resolution;
        let mut x = x.map(|x| x.to_dtype(dtype)).transpose()?;
        let mut img = img.map(|i| i.to_dtype(dtype)).transpose()?;
        if let Some(fromrgb) = &self.fromrgb {
            let im = img
                .as_ref()
                .ok_or_else(|| Error::config(format!("b{r}"), "needs the image"))?;
            if im.rank() != 4 || im.dims()[1..] != [self.img_channels, r, r] {
                return Err(Error::shape(
                    format!("Discriminator b{r} img"),
                    format!("[N, {}, {r}, {r}]", self.img_channels),
                    im.dims(),
                ));
            }
            let y = fromrgb.forward(im, 1.0)?;
            x = Some(match x {
                Some(x) => x.add(&y)?,
                None => y,
            });
            img = if self.architecture == Architecture::Skip {
                Some(downsample2d(
                    im,
                    Some(&self.resample_filter),
                    [2, 2],
                    [0; 4],
                    false,
                    1.0,
                )?)
            } else {
                None
            };
        }
        let x = x.ok_or_else(|| {
            Error::config(format!("b{r}"), "needs the features of the previous block")
        })?;
        if x.rank() != 4 || x.dims()[2..] != [r, r] {
            return Err(Error::shape(
                format!("Discriminator b{r} x"),
                format!("[N, C, {r}, {r}]"),
                x.dims(),
            ));
        }
        let x = match &self.skip {
            Some(skip) => {
                let y = skip.forward(&x, 0.5f64.sqrt())?;
                let x = self.conv0.forward(&x, 1.0)?;
                let x = self.conv1.forward(&x, 0.5f64.sqrt())?;
                y.add(&x)?
            }
            None => {
                let x = self.conv0.forward(&x, 1.0)?;
                self.conv1.forward(&x, 1.0)?
            }
        };
        Ok((x, img))
    }
}

impl Module for DiscriminatorBlock {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        f(
            key(prefix, "resample_filter"),
            &self.resample_filter,
            TensorKind::Buffer,
        );
        if let Some(l) = &self.fromrgb {
            l.visit(&child(prefix, "fromrgb"), f);
        }
        self.conv0.visit(&child(prefix, "conv0"), f);
        self.conv1.visit(&child(prefix, "conv1"), f);
        if let Some(l) = &self.skip {
            l.visit(&child(prefix, "skip"), f);
        }
    }
}

/// `DiscriminatorEpilogue`: the 4x4 head.
#[derive(Debug)]
pub struct DiscriminatorEpilogue {
    pub in_channels: usize,
    pub cmap_dim: usize,
    pub resolution: usize,
    pub img_channels: usize,
    pub architecture: Architecture,
    pub mbstd_group_size: Option<usize>,
    pub mbstd_num_channels: usize,
    pub fromrgb: Option<Conv2dLayer>,
    pub conv: Conv2dLayer,
    pub fc: FullyConnectedLayer,
    pub out_uc: FullyConnectedLayer,
    pub out_c: Option<FullyConnectedLayer>,
}

/// Intermediate values of a Discriminator call, for inspection and tests.
#[derive(Debug, Default)]
pub struct DiscriminatorTrace {
    /// `(resolution, x)` after each block.
    pub blocks: Vec<(usize, Tensor)>,
    /// The mapped label `cmap`, with labels.
    pub cmap: Option<Tensor>,
    /// The features after the minibatch-stddev layer.
    pub mbstd: Option<Tensor>,
}

impl DiscriminatorEpilogue {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        cmap_dim: usize,
        resolution: usize,
        img_channels: usize,
        architecture: Architecture,
        mbstd_group_size: Option<usize>,
        mbstd_num_channels: usize,
        activation: Activation,
        conv_clamp: Option<f64>,
    ) -> Result<Self> {
        let fromrgb = (architecture == Architecture::Skip)
            .then(|| {
                Conv2dLayer::new(
                    init,
                    img_channels,
                    in_channels,
                    &Conv2dArgs {
                        activation,
                        ..Conv2dArgs::new(1)
                    },
                )
            })
            .transpose()?;
        let conv = Conv2dLayer::new(
            init,
            in_channels + mbstd_num_channels,
            in_channels,
            &Conv2dArgs {
                activation,
                conv_clamp,
                ..Conv2dArgs::new(3)
            },
        )?;
        let fc = FullyConnectedLayer::new(
            init,
            in_channels * resolution * resolution,
            in_channels,
            true,
            activation,
            1.0,
            0.0,
        )?;
        let out_uc = FullyConnectedLayer::linear(init, in_channels, 1)?;
        let out_c = (cmap_dim > 0)
            .then(|| FullyConnectedLayer::linear(init, in_channels, cmap_dim))
            .transpose()?;
        Ok(DiscriminatorEpilogue {
            in_channels,
            cmap_dim,
            resolution,
            img_channels,
            architecture,
            mbstd_group_size,
            mbstd_num_channels,
            fromrgb,
            conv,
            fc,
            out_uc,
            out_c,
        })
    }

    pub fn forward(
        &self,
        x: &Tensor,
        img: Option<&Tensor>,
        cmap: Option<&Tensor>,
        trace: Option<&mut DiscriminatorTrace>,
    ) -> Result<Tensor> {
        let r = self.resolution;
        if x.rank() != 4 || x.dims()[1..] != [self.in_channels, r, r] {
            return Err(Error::shape(
                "DiscriminatorEpilogue x",
                format!("[N, {}, {r}, {r}]", self.in_channels),
                x.dims(),
            ));
        }
        // The head never runs in f16: it computes in its parameters' dtype.
        let dtype = self.conv.weight.dtype();
        let mut x = x.to_dtype(dtype)?;
        if let Some(fromrgb) = &self.fromrgb {
            let img = img
                .ok_or_else(|| Error::config("DiscriminatorEpilogue", "needs the image (skip)"))?;
            x = x.add(&fromrgb.forward(&img.to_dtype(dtype)?, 1.0)?)?;
        }
        if self.mbstd_num_channels > 0 {
            x = minibatch_std(&x, self.mbstd_group_size, self.mbstd_num_channels)?;
        }
        if let Some(t) = trace {
            t.mbstd = Some(x.clone());
        }
        let x = self.conv.forward(&x, 1.0)?;
        let x = self.fc.forward(&x.flatten(1, 3)?)?;
        let out = self.out_uc.forward(&x)?;
        match (&self.out_c, cmap) {
            (Some(out_c), Some(cmap)) => {
                if cmap.dims() != [x.dim(0), self.cmap_dim] {
                    return Err(Error::shape(
                        "DiscriminatorEpilogue cmap",
                        format!("[{}, {}]", x.dim(0), self.cmap_dim),
                        cmap.dims(),
                    ));
                }
                let cond = out_c
                    .forward(&x)?
                    .mul(cmap)?
                    .sum_keepdim(&[1])?
                    .mul_scalar(1.0 / (self.cmap_dim as f64).sqrt())?;
                Ok(Tensor::concat(&[&out, &cond], 1)?)
            }
            (Some(_), None) => Err(Error::config(
                "DiscriminatorEpilogue",
                "needs the mapped label cmap",
            )),
            (None, _) => Ok(out),
        }
    }
}

impl Module for DiscriminatorEpilogue {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        if let Some(l) = &self.fromrgb {
            l.visit(&child(prefix, "fromrgb"), f);
        }
        self.conv.visit(&child(prefix, "conv"), f);
        self.fc.visit(&child(prefix, "fc"), f);
        self.out_uc.visit(&child(prefix, "out_uc"), f);
        if let Some(l) = &self.out_c {
            l.visit(&child(prefix, "out_c"), f);
        }
    }
}

#[derive(Debug)]
pub struct Discriminator {
    pub kwargs: DiscriminatorKwargs,
    pub blocks: Vec<DiscriminatorBlock>,
    /// The label mapping (`z_dim = 0`), with labels.
    pub mapping: Option<MappingNetwork>,
    /// Authors' addition: the weight of the conditional logit in the loss; not
    /// used by `forward`.
    pub transition: Option<Tensor>,
    pub b4: DiscriminatorEpilogue,
    /// Runs the `use_fp16` blocks in f16 when on.
    pub fp16: Fp16Switch,
}

impl Discriminator {
    pub fn new(init: &mut Init, kwargs: &DiscriminatorKwargs) -> Result<Self> {
        let k = kwargs;
        check_resolution("Discriminator", k.img_resolution)?;
        let log2 = k.img_resolution.trailing_zeros();
        let resolutions: Vec<usize> = (3..=log2).rev().map(|i| 1usize << i).collect();
        let ch = |res: usize| channels_at(k.channel_base, k.channel_max, res);
        if resolutions.iter().chain(&[4]).any(|&r| ch(r) == 0) {
            return Err(Error::config(
                "Discriminator",
                format!(
                    "channel_base {} gives 0 channels at {}",
                    k.channel_base, k.img_resolution
                ),
            ));
        }
        let cmap_dim = if k.c_dim == 0 {
            0
        } else {
            k.cmap_dim.unwrap_or(ch(4))
        };
        let block_act = act(&k.block_kwargs.activation)?;
        let mut blocks = Vec::new();
        let mut layer_idx = 0;
        let fp16_from = fp16_resolution(k.img_resolution, k.num_fp16_res);
        for &res in &resolutions {
            let in_channels = if res < k.img_resolution { ch(res) } else { 0 };
            let block = DiscriminatorBlock::new(
                init,
                in_channels,
                ch(res),
                ch(res / 2),
                res,
                k.img_channels,
                layer_idx,
                k.architecture,
                block_act,
                &k.block_kwargs.resample_filter,
                k.conv_clamp,
                k.block_kwargs.freeze_layers,
                res >= fp16_from,
            )?;
            layer_idx += block.num_layers;
            blocks.push(block);
        }
        let (mapping, transition) = if k.c_dim > 0 {
            let mk = MappingNetworkKwargs {
                w_avg_beta: None,
                ..MappingNetworkKwargs::new(0, k.c_dim, cmap_dim, None, &k.mapping_kwargs)
            };
            (
                Some(MappingNetwork::new(init, &mk)?),
                Some(leaf(init.full(&[], 0.0)?, TensorKind::Buffer)?),
            )
        } else {
            (None, None)
        };
        let e = &k.epilogue_kwargs;
        let b4 = DiscriminatorEpilogue::new(
            init,
            ch(4),
            cmap_dim,
            4,
            k.img_channels,
            k.architecture,
            e.mbstd_group_size,
            e.mbstd_num_channels,
            act(&e.activation)?,
            k.conv_clamp,
        )?;
        Ok(Discriminator {
            kwargs: kwargs.clone(),
            blocks,
            mapping,
            transition,
            b4,
            fp16: Fp16Switch::default(),
        })
    }

    /// Runs the `num_fp16_res` highest resolutions in f16 (see `networks::fp16`).
    pub fn set_fp16(&self, on: bool) {
        self.fp16.set(on);
    }

    /// Sets the `transition` buffer (an error without labels).
    pub fn set_transition(&self, value: f64) -> Result<()> {
        let t = self.transition.as_ref().ok_or_else(|| {
            Error::config("Discriminator", "has no transition buffer (c_dim = 0)")
        })?;
        t.set_data(&t.full_like(value)?)?;
        Ok(())
    }

    /// The value of the `transition` buffer (0 without labels).
    pub fn transition_value(&self) -> Result<f64> {
        match &self.transition {
            Some(t) => Ok(t.to_scalar()?),
            None => Ok(0.0),
        }
    }

    /// `logits = D(img, c)`: `[N, 2]` (uncond, cond) with labels, else `[N, 1]`.
    pub fn forward(&self, img: &Tensor, c: Option<&Tensor>) -> Result<Tensor> {
        self.forward_traced(img, c, None)
    }

    /// `forward`, recording intermediate values into `trace` when given.
    pub fn forward_traced(
        &self,
        img: &Tensor,
        c: Option<&Tensor>,
        mut trace: Option<&mut DiscriminatorTrace>,
    ) -> Result<Tensor> {
        let k = &self.kwargs;
        let r = k.img_resolution;
        if img.rank() != 4 || img.dims()[1..] != [k.img_channels, r, r] {
            return Err(Error::shape(
                "Discriminator img",
                format!("[N, {}, {r}, {r}]", k.img_channels),
                img.dims(),
            ));
        }
        let mut x: Option<Tensor> = None;
        let mut im = Some(img.clone());
        for block in &self.blocks {
            let dtype = self
                .fp16
                .block_dtype(block.use_fp16, self.b4.conv.weight.dtype());
            let (nx, nimg) = block.forward(x.as_ref(), im.as_ref(), dtype)?;
            if let Some(t) = trace.as_deref_mut() {
                t.blocks.push((block.resolution, nx.clone()));
            }
            x = Some(nx);
            im = nimg;
        }
        let cmap = match &self.mapping {
            Some(m) => {
                let c =
                    c.ok_or_else(|| Error::config("Discriminator", "c is required (c_dim > 0)"))?;
                if c.dims() != [img.dim(0), k.c_dim] {
                    return Err(Error::shape(
                        "Discriminator c",
                        format!("[{}, {}]", img.dim(0), k.c_dim),
                        c.dims(),
                    ));
                }
                Some(m.forward(None, Some(c), 1.0, None, false)?)
            }
            None => None,
        };
        if let Some(t) = trace.as_deref_mut() {
            t.cmap = cmap.clone();
        }
        let x = x.expect("at least one block");
        self.b4.forward(&x, im.as_ref(), cmap.as_ref(), trace)
    }
}

impl Module for Discriminator {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        if let Some(t) = &self.transition {
            f(key(prefix, "transition"), t, TensorKind::Buffer);
        }
        for b in &self.blocks {
            b.visit(&child(prefix, &format!("b{}", b.resolution)), f);
        }
        if let Some(m) = &self.mapping {
            m.visit(&child(prefix, "mapping"), f);
        }
        self.b4.visit(&child(prefix, "b4"), f);
    }
}
