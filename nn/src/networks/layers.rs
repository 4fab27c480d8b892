//! The two layers with equalized learning rate: weights are stored as drawn
//! from N(0, 1) (divided by the learning-rate multiplier) and scaled at run
//! time, so that every weight learns at the same speed under Adam.

use super::kwargs::FilterKwarg;
use crate::module::{key, leaf, Init, Module, TensorKind, Visitor};
use crate::ops::{bias_act::spec, conv2d_resample, setup_filter};
use crate::{Error, Result};
use tcgan_core::{Activation, Tensor};

/// `FullyConnectedLayer`: `act(x @ (weight * lr_multiplier / sqrt(in)).T + bias * lr_multiplier)`.
#[derive(Debug)]
pub struct FullyConnectedLayer {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub activation: Activation,
    pub in_features: usize,
    pub out_features: usize,
    pub weight_gain: f64,
    pub bias_gain: f64,
}

impl FullyConnectedLayer {
    /// The official initialisation: `weight ~ N(0, 1) / lr_multiplier`,
    /// `bias = bias_init`.
    pub fn new(
        init: &mut Init,
        in_features: usize,
        out_features: usize,
        bias: bool,
        activation: Activation,
        lr_multiplier: f64,
        bias_init: f64,
    ) -> Result<Self> {
        let weight = init
            .randn(&[out_features, in_features])?
            .mul_scalar(1.0 / lr_multiplier)?;
        let bias = bias
            .then(|| init.full(&[out_features], bias_init as f32 as f64))
            .transpose()?;
        Ok(FullyConnectedLayer {
            weight: leaf(weight, TensorKind::Parameter)?,
            bias: bias.map(|b| leaf(b, TensorKind::Parameter)).transpose()?,
            activation,
            in_features,
            out_features,
            weight_gain: lr_multiplier / (in_features as f64).sqrt(),
            bias_gain: lr_multiplier,
        })
    }

    /// A linear layer with the defaults (`lr_multiplier = 1`, `bias_init = 0`).
    pub fn linear(init: &mut Init, in_features: usize, out_features: usize) -> Result<Self> {
        Self::new(
            init,
            in_features,
            out_features,
            true,
            Activation::Linear,
            1.0,
            0.0,
        )
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() != 2 || x.dim(1) != self.in_features {
            return Err(Error::shape(
                "FullyConnectedLayer input",
                format!("[N, {}]", self.in_features),
                x.dims(),
            ));
        }
        let w = self.weight.mul_scalar(self.weight_gain)?;
        let b = self
            .bias
            .as_ref()
            .map(|b| b.mul_scalar(self.bias_gain))
            .transpose()?;
        let y = x.matmul_t(&w, false, true)?;
        match (self.activation, &b) {
            (Activation::Linear, Some(b)) => Ok(y.add(b)?),
            _ => Ok(y.bias_act(b.as_ref(), 1, &spec(self.activation, None, None, None))?),
        }
    }
}

impl Module for FullyConnectedLayer {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        f(key(prefix, "weight"), &self.weight, TensorKind::Parameter);
        if let Some(b) = &self.bias {
            f(key(prefix, "bias"), b, TensorKind::Parameter);
        }
    }
}

/// The arguments of `Conv2dLayer` besides the channel counts (official defaults
/// from `Conv2dArgs::new(kernel_size)`).
#[derive(Debug, Clone)]
pub struct Conv2dArgs {
    pub kernel_size: usize,
    pub bias: bool,
    pub activation: Activation,
    pub up: usize,
    pub down: usize,
    pub resample_filter: FilterKwarg,
    pub conv_clamp: Option<f64>,
    /// False keeps weight and bias as buffers (Freeze-D).
    pub trainable: bool,
}

impl Conv2dArgs {
    pub fn new(kernel_size: usize) -> Self {
        Conv2dArgs {
            kernel_size,
            bias: true,
            activation: Activation::Linear,
            up: 1,
            down: 1,
            resample_filter: FilterKwarg::default(),
            conv_clamp: None,
            trainable: true,
        }
    }
}

/// `Conv2dLayer`: `conv2d_resample(x, weight / sqrt(in * k * k))`, then
/// `bias_act` with `gain = def_gain * gain` and `clamp = conv_clamp * gain`.
#[derive(Debug)]
pub struct Conv2dLayer {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub resample_filter: Tensor,
    pub activation: Activation,
    pub up: usize,
    pub down: usize,
    pub conv_clamp: Option<f64>,
    pub padding: usize,
    pub weight_gain: f64,
    pub act_gain: f64,
    pub trainable: bool,
    pub in_channels: usize,
}

impl Conv2dLayer {
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        out_channels: usize,
        args: &Conv2dArgs,
    ) -> Result<Self> {
        let k = args.kernel_size;
        let kind = if args.trainable {
            TensorKind::Parameter
        } else {
            TensorKind::Buffer
        };
        let (fv, fs) = args.resample_filter.values_and_shape()?;
        let resample_filter =
            setup_filter(&fv, &fs, true, false, 1.0, None, &init.device, init.dtype)?;
        let weight = leaf(init.randn(&[out_channels, in_channels, k, k])?, kind)?;
        let bias = args
            .bias
            .then(|| init.full(&[out_channels], 0.0))
            .transpose()?
            .map(|b| leaf(b, kind))
            .transpose()?;
        Ok(Conv2dLayer {
            weight,
            bias,
            resample_filter,
            activation: args.activation,
            up: args.up,
            down: args.down,
            conv_clamp: args.conv_clamp,
            padding: k / 2,
            weight_gain: 1.0 / ((in_channels * k * k) as f64).sqrt(),
            act_gain: args.activation.default_gain(),
            trainable: args.trainable,
            in_channels,
        })
    }

    pub fn forward(&self, x: &Tensor, gain: f64) -> Result<Tensor> {
        if x.rank() != 4 || x.dim(1) != self.in_channels {
            return Err(Error::shape(
                "Conv2dLayer input",
                format!("[N, {}, H, W]", self.in_channels),
                x.dims(),
            ));
        }
        // In an f16 block the layer's f32 parameters are rounded to f16 for use.
        let w = self
            .weight
            .mul_scalar(self.weight_gain)?
            .to_dtype(x.dtype())?;
        let b = self
            .bias
            .as_ref()
            .map(|b| b.to_dtype(x.dtype()))
            .transpose()?;
        let p = self.padding as isize;
        let x = conv2d_resample(
            x,
            &w,
            Some(&self.resample_filter),
            self.up,
            self.down,
            [p; 4],
            1,
            self.up == 1,
            false,
        )?;
        let s = spec(
            self.activation,
            None,
            Some(self.act_gain * gain),
            self.conv_clamp.map(|c| c * gain),
        );
        Ok(x.bias_act(b.as_ref(), 1, &s)?)
    }
}

impl Module for Conv2dLayer {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        if self.trainable {
            f(key(prefix, "weight"), &self.weight, TensorKind::Parameter);
            if let Some(b) = &self.bias {
                f(key(prefix, "bias"), b, TensorKind::Parameter);
            }
            f(
                key(prefix, "resample_filter"),
                &self.resample_filter,
                TensorKind::Buffer,
            );
        } else {
            // Buffers keep their registration order: the filter came first.
            f(
                key(prefix, "resample_filter"),
                &self.resample_filter,
                TensorKind::Buffer,
            );
            f(key(prefix, "weight"), &self.weight, TensorKind::Buffer);
            if let Some(b) = &self.bias {
                f(key(prefix, "bias"), b, TensorKind::Buffer);
            }
        }
    }
}
