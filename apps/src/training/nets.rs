//! The networks of a run, built from the resolved options and the training set
//! (as the official `common_kwargs`: c_dim, img_resolution, img_channels).

use super::config::TrainingOptions;
use super::seeds::{stream, Purpose};
use anyhow::Result;
use tcgan_core::{DType, Device};
use tcgan_nn::module::Module;
use tcgan_nn::networks::{
    Architecture, Discriminator, DiscriminatorBlockKwargs, DiscriminatorKwargs, EpilogueKwargs,
    Generator, GeneratorKwargs, MappingKwargs, SynthesisKwargs,
};
use tcgan_nn::Init;

/// The generator's constructor arguments of a run.
pub fn generator_kwargs(o: &TrainingOptions, c_dim: usize, img_channels: usize) -> GeneratorKwargs {
    let g = &o.G_kwargs;
    GeneratorKwargs {
        z_dim: g.z_dim,
        c_dim,
        w_dim: g.w_dim,
        img_resolution: o.training_set_kwargs.resolution,
        img_channels,
        mapping_kwargs: MappingKwargs {
            num_layers: g.mapping_kwargs.num_layers,
            ..Default::default()
        },
        synthesis_kwargs: SynthesisKwargs {
            channel_base: g.synthesis_kwargs.channel_base,
            channel_max: g.synthesis_kwargs.channel_max,
            num_fp16_res: g.synthesis_kwargs.num_fp16_res,
            conv_clamp: g.synthesis_kwargs.conv_clamp,
            ..Default::default()
        },
    }
}

/// The discriminator's constructor arguments of a run.
pub fn discriminator_kwargs(
    o: &TrainingOptions,
    c_dim: usize,
    img_channels: usize,
) -> Result<DiscriminatorKwargs> {
    let d = &o.D_kwargs;
    let architecture = match d.architecture.as_str() {
        "orig" => Architecture::Orig,
        "skip" => Architecture::Skip,
        "resnet" => Architecture::Resnet,
        other => anyhow::bail!("unknown D architecture {other:?}"),
    };
    Ok(DiscriminatorKwargs {
        c_dim,
        img_resolution: o.training_set_kwargs.resolution,
        img_channels,
        architecture,
        channel_base: d.channel_base,
        channel_max: d.channel_max,
        num_fp16_res: d.num_fp16_res,
        conv_clamp: d.conv_clamp,
        cmap_dim: None,
        block_kwargs: DiscriminatorBlockKwargs {
            freeze_layers: d.block_kwargs.freeze_layers,
            ..Default::default()
        },
        mapping_kwargs: MappingKwargs::default(),
        epilogue_kwargs: EpilogueKwargs {
            mbstd_group_size: Some(d.epilogue_kwargs.mbstd_group_size),
            ..Default::default()
        },
    })
}

/// G, D and G_ema with the official initialisation (G_ema a copy of G).
pub struct Nets {
    pub g: Generator,
    pub d: Discriminator,
    pub g_ema: Generator,
}

impl Nets {
    pub fn new(
        o: &TrainingOptions,
        c_dim: usize,
        img_channels: usize,
        device: &Device,
    ) -> Result<Nets> {
        let mut rng = stream(o.random_seed, Purpose::Init, 0, 0, 0);
        let mut init = Init::new(&mut rng, device, DType::F32);
        let g = Generator::new(&mut init, &generator_kwargs(o, c_dim, img_channels))?;
        let d = Discriminator::new(&mut init, &discriminator_kwargs(o, c_dim, img_channels)?)?;
        let g_ema = Generator::new(&mut init, &generator_kwargs(o, c_dim, img_channels))?;
        g_ema.copy_state_from(&g)?;
        g.set_training(true);
        g_ema.set_training(false);
        for net in [&g, &g_ema] {
            net.set_fp16(o.fp16);
        }
        d.set_fp16(o.fp16);
        g.set_requires_grad(false)?;
        d.set_requires_grad(false)?;
        g_ema.set_requires_grad(false)?;
        Ok(Nets { g, d, g_ema })
    }
}
