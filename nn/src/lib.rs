//! tcgan-nn: the networks of StyleGAN2-ADA and the transitional cGAN, their
//! losses, augmentation and optimizers, built from `tcgan-core` tensors. File
//! names mirror the official code so a reader can hold ours beside theirs.

pub mod augment;
pub mod checkpoint;
mod error;
pub mod inception;
pub mod loss;
pub mod metrics;
pub mod module;
pub mod networks;
pub mod ops;
pub mod optim;

pub use error::{Error, Result};
pub use module::{Init, Module, NamedTensor, TensorKind};
