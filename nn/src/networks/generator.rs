//! The Generator: mapping network (z, c -> ws) then synthesis network
//! (ws -> image), built from the official constructor arguments.

use super::kwargs::{GeneratorKwargs, MappingNetworkKwargs};
use super::mapping::MappingNetwork;
use super::noise::{NoiseMode, NoiseSource};
use super::synthesis::{SynthesisNetwork, SynthesisOptions};
use crate::module::{child, Init, Module, Visitor};
use crate::Result;
use tcgan_core::Tensor;

/// Per-call options of `Generator::forward` (official defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorOptions {
    pub truncation_psi: f64,
    pub truncation_cutoff: Option<usize>,
    pub noise_mode: NoiseMode,
    /// `None` = fused in eval mode, not fused in training mode.
    pub fused_modconv: Option<bool>,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions {
            truncation_psi: 1.0,
            truncation_cutoff: None,
            noise_mode: NoiseMode::Random,
            fused_modconv: None,
        }
    }
}

impl GeneratorOptions {
    pub fn synthesis(&self) -> SynthesisOptions {
        SynthesisOptions {
            noise_mode: self.noise_mode,
            fused_modconv: self.fused_modconv,
        }
    }
}

#[derive(Debug)]
pub struct Generator {
    pub kwargs: GeneratorKwargs,
    pub synthesis: SynthesisNetwork,
    pub mapping: MappingNetwork,
}

impl Generator {
    /// A Generator with the official initialisation, in eval mode (unlike
    /// PyTorch modules, which start in training mode).
    pub fn new(init: &mut Init, kwargs: &GeneratorKwargs) -> Result<Self> {
        let k = kwargs;
        let synthesis = SynthesisNetwork::new(
            init,
            k.w_dim,
            k.img_resolution,
            k.img_channels,
            &k.synthesis_kwargs,
        )?;
        let mapping_kwargs = MappingNetworkKwargs::new(
            k.z_dim,
            k.c_dim,
            k.w_dim,
            Some(synthesis.num_ws),
            &k.mapping_kwargs,
        );
        let mapping = MappingNetwork::new(init, &mapping_kwargs)?;
        Ok(Generator {
            kwargs: kwargs.clone(),
            synthesis,
            mapping,
        })
    }

    pub fn num_ws(&self) -> usize {
        self.synthesis.num_ws
    }

    /// Training mode: `w_avg` is tracked and `fused_modconv` defaults to false.
    pub fn set_training(&self, on: bool) {
        self.mapping.set_training(on);
        self.synthesis.set_training(on);
    }

    /// Runs the `num_fp16_res` highest resolutions in f16 (see `networks::fp16`).
    pub fn set_fp16(&self, on: bool) {
        self.synthesis.fp16.set(on);
    }

    /// `img = G(z, c, truncation_psi, truncation_cutoff, noise_mode, fused_modconv)`.
    /// `c` may be `None` when `c_dim == 0`.
    pub fn forward(
        &self,
        z: &Tensor,
        c: Option<&Tensor>,
        opts: &GeneratorOptions,
        rng: &mut dyn NoiseSource,
    ) -> Result<Tensor> {
        let ws = self.mapping.forward(
            Some(z),
            c,
            opts.truncation_psi,
            opts.truncation_cutoff,
            false,
        )?;
        self.synthesis.forward(&ws, &opts.synthesis(), rng)
    }
}

impl Module for Generator {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        self.synthesis.visit(&child(prefix, "synthesis"), f);
        self.mapping.visit(&child(prefix, "mapping"), f);
    }
}
