//! Constructor arguments of the networks, named and defaulted exactly as the
//! official Python classes take them, so that an official `ctor_kwargs` JSON
//! (or the header of a checkpoint) rebuilds the same network. Unknown keys are
//! an error rather than silently ignored.

use crate::ops::bias_act::activation;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tcgan_core::Activation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Orig,
    Skip,
    Resnet,
}

/// A FIR filter as the official code accepts it: a list of taps (a 1-D
/// filter; fewer than 8 taps become their outer product) or a 2-D array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterKwarg {
    Taps(Vec<f64>),
    Matrix(Vec<Vec<f64>>),
}

impl FilterKwarg {
    /// `(values, shape)` for `setup_filter`.
    pub fn values_and_shape(&self) -> Result<(Vec<f64>, Vec<usize>)> {
        match self {
            FilterKwarg::Taps(t) => Ok((t.clone(), vec![t.len()])),
            FilterKwarg::Matrix(m) => {
                let w = m.first().map_or(0, Vec::len);
                if m.iter().any(|r| r.len() != w) {
                    return Err(Error::config("resample_filter", "rows of unequal length"));
                }
                Ok((m.concat(), vec![m.len(), w]))
            }
        }
    }
}

impl Default for FilterKwarg {
    fn default() -> Self {
        FilterKwarg::Taps(vec![1.0, 3.0, 3.0, 1.0])
    }
}

fn lrelu() -> String {
    "lrelu".into()
}

/// `mapping_kwargs` of the Generator and the Discriminator (the
/// `MappingNetwork` arguments besides the dimensions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MappingKwargs {
    pub num_layers: usize,
    pub embed_features: Option<usize>,
    pub layer_features: Option<usize>,
    pub activation: String,
    pub lr_multiplier: f64,
    /// `None` (JSON `null`) disables w_avg tracking.
    pub w_avg_beta: Option<f64>,
}

impl Default for MappingKwargs {
    fn default() -> Self {
        MappingKwargs {
            num_layers: 8,
            embed_features: None,
            layer_features: None,
            activation: lrelu(),
            lr_multiplier: 0.01,
            w_avg_beta: Some(0.995),
        }
    }
}

fn default_beta() -> Option<f64> {
    Some(0.995)
}
fn default_num_layers() -> usize {
    8
}
fn default_lr_multiplier() -> f64 {
    0.01
}

/// The arguments of a standalone `MappingNetwork(z_dim, c_dim, w_dim, num_ws, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingNetworkKwargs {
    pub z_dim: usize,
    pub c_dim: usize,
    pub w_dim: usize,
    /// `None` returns `[N, w_dim]` instead of broadcasting to `[N, num_ws, w_dim]`.
    pub num_ws: Option<usize>,
    #[serde(default = "default_num_layers")]
    pub num_layers: usize,
    #[serde(default)]
    pub embed_features: Option<usize>,
    #[serde(default)]
    pub layer_features: Option<usize>,
    #[serde(default = "lrelu")]
    pub activation: String,
    #[serde(default = "default_lr_multiplier")]
    pub lr_multiplier: f64,
    #[serde(default = "default_beta")]
    pub w_avg_beta: Option<f64>,
}

impl MappingNetworkKwargs {
    pub fn new(
        z_dim: usize,
        c_dim: usize,
        w_dim: usize,
        num_ws: Option<usize>,
        m: &MappingKwargs,
    ) -> Self {
        MappingNetworkKwargs {
            z_dim,
            c_dim,
            w_dim,
            num_ws,
            num_layers: m.num_layers,
            embed_features: m.embed_features,
            layer_features: m.layer_features,
            activation: m.activation.clone(),
            lr_multiplier: m.lr_multiplier,
            w_avg_beta: m.w_avg_beta,
        }
    }
}

/// `synthesis_kwargs` of the Generator: `SynthesisNetwork`, `SynthesisBlock`
/// and `SynthesisLayer` arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthesisKwargs {
    pub channel_base: usize,
    pub channel_max: usize,
    /// The number of highest resolutions whose blocks run in f16 when the
    /// network's `Fp16Switch` is on (see `networks::fp16`).
    pub num_fp16_res: usize,
    pub conv_clamp: Option<f64>,
    pub architecture: Architecture,
    pub resample_filter: FilterKwarg,
    pub use_noise: bool,
    pub activation: String,
    pub kernel_size: usize,
    /// Accepted for compatibility (memory layout only).
    pub fp16_channels_last: bool,
}

impl Default for SynthesisKwargs {
    fn default() -> Self {
        SynthesisKwargs {
            channel_base: 32768,
            channel_max: 512,
            num_fp16_res: 0,
            conv_clamp: None,
            architecture: Architecture::Skip,
            resample_filter: FilterKwarg::default(),
            use_noise: true,
            activation: lrelu(),
            kernel_size: 3,
            fp16_channels_last: false,
        }
    }
}

/// `Generator(z_dim, c_dim, w_dim, img_resolution, img_channels, mapping_kwargs, synthesis_kwargs)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorKwargs {
    pub z_dim: usize,
    pub c_dim: usize,
    pub w_dim: usize,
    pub img_resolution: usize,
    pub img_channels: usize,
    #[serde(default)]
    pub mapping_kwargs: MappingKwargs,
    #[serde(default)]
    pub synthesis_kwargs: SynthesisKwargs,
}

/// `block_kwargs` of the Discriminator (`DiscriminatorBlock` arguments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscriminatorBlockKwargs {
    pub activation: String,
    pub resample_filter: FilterKwarg,
    pub fp16_channels_last: bool,
    /// Freeze-D: the first `freeze_layers` layers keep their weights as buffers.
    pub freeze_layers: usize,
}

impl Default for DiscriminatorBlockKwargs {
    fn default() -> Self {
        DiscriminatorBlockKwargs {
            activation: lrelu(),
            resample_filter: FilterKwarg::default(),
            fp16_channels_last: false,
            freeze_layers: 0,
        }
    }
}

/// `epilogue_kwargs` of the Discriminator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpilogueKwargs {
    /// `None` (JSON `null`) uses the whole minibatch as one group.
    pub mbstd_group_size: Option<usize>,
    /// 0 disables the minibatch-stddev layer.
    pub mbstd_num_channels: usize,
    pub activation: String,
}

impl Default for EpilogueKwargs {
    fn default() -> Self {
        EpilogueKwargs {
            mbstd_group_size: Some(4),
            mbstd_num_channels: 1,
            activation: lrelu(),
        }
    }
}

fn resnet() -> Architecture {
    Architecture::Resnet
}
fn default_channel_base() -> usize {
    32768
}
fn default_channel_max() -> usize {
    512
}

/// `Discriminator(c_dim, img_resolution, img_channels, architecture, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscriminatorKwargs {
    pub c_dim: usize,
    pub img_resolution: usize,
    pub img_channels: usize,
    #[serde(default = "resnet")]
    pub architecture: Architecture,
    #[serde(default = "default_channel_base")]
    pub channel_base: usize,
    #[serde(default = "default_channel_max")]
    pub channel_max: usize,
    /// See `SynthesisKwargs::num_fp16_res`.
    #[serde(default)]
    pub num_fp16_res: usize,
    #[serde(default)]
    pub conv_clamp: Option<f64>,
    #[serde(default)]
    pub cmap_dim: Option<usize>,
    #[serde(default)]
    pub block_kwargs: DiscriminatorBlockKwargs,
    /// D's label mapping; `w_avg_beta` is ignored (D tracks no w_avg).
    #[serde(default)]
    pub mapping_kwargs: MappingKwargs,
    #[serde(default)]
    pub epilogue_kwargs: EpilogueKwargs,
}

/// The activation named by a kwarg, as a configuration error when unknown.
pub(crate) fn act(name: &str) -> Result<Activation> {
    activation(name)
}

/// The official channel count at `res`: `min(channel_base // res, channel_max)`.
pub fn channels_at(channel_base: usize, channel_max: usize, res: usize) -> usize {
    (channel_base / res).min(channel_max)
}

/// Checks the official assertion on image resolutions (a power of two >= 4).
pub(crate) fn check_resolution(what: &str, res: usize) -> Result<()> {
    if res < 4 || !res.is_power_of_two() {
        return Err(Error::config(
            what,
            format!("img_resolution must be a power of two >= 4, got {res}"),
        ));
    }
    Ok(())
}
