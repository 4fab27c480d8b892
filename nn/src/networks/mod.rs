//! The networks of the transitional cGAN (StyleGAN2 with the authors' label
//! path): layers with equalized learning rate, the mapping and synthesis
//! networks, the Generator and the Discriminator, all with the official
//! parameter names and initialisation.

pub mod discriminator;
pub mod fp16;
pub mod generator;
pub mod kwargs;
pub mod layers;
pub mod mapping;
pub mod noise;
pub mod synthesis;

pub use discriminator::{
    Discriminator, DiscriminatorBlock, DiscriminatorEpilogue, DiscriminatorTrace,
};
pub use fp16::{fp16_resolution, Fp16Switch};
pub use generator::{Generator, GeneratorOptions};
pub use kwargs::{
    Architecture, DiscriminatorBlockKwargs, DiscriminatorKwargs, EpilogueKwargs, FilterKwarg,
    GeneratorKwargs, MappingKwargs, MappingNetworkKwargs, SynthesisKwargs,
};
pub use layers::{Conv2dArgs, Conv2dLayer, FullyConnectedLayer};
pub use mapping::MappingNetwork;
pub use noise::{NoiseMode, NoiseSource, RecordedNoise};
pub use synthesis::{
    SynthesisBlock, SynthesisLayer, SynthesisNetwork, SynthesisOptions, ToRGBLayer,
};
