//! tcgan-core: n-dimensional tensors on a run-time selected device, the list of
//! primitives a device implements, and reverse-mode autograd whose gradients are
//! themselves differentiable (`grad(.., create_graph = true)`).

pub mod autograd;
pub mod backend;
mod collective;
mod dist_env;
mod dtype;
mod error;
mod f16_via_f32;
mod grad_mode;
pub(crate) mod ops;
pub mod rng;
mod shape;
mod storage;
mod tensor;

pub use autograd::{backward, grad, GradFn};
pub use backend::{
    Activation, Backend, BiasActSpec, BiasLayout, BinaryOp, Conv2dSpec, ConvTranspose2dSpec,
    Device, GridPadding, GridSampleSpec, MatmulSpec, Pool2dSpec, PoolKind, ReduceOp, UnaryOp,
    Upfirdn2dSpec,
};
pub use collective::{Collective, InProcessGroup, InProcessRank, SingleRank};
pub use dist_env::{DistEnv, DistEnvError};
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use f16_via_f32::F16ViaF32;
pub use grad_mode::{is_grad_enabled, no_grad, with_grad_mode, GradModeGuard};
/// The f16 element type of `HostBuffer::F16`, for backends that move it.
pub use half;
pub use ops::modulate_weight::DEMOD_EPS;
pub use rng::Generator;
pub use shape::Shape;
pub use storage::{BackendStorage, HostBuffer, Storage};
pub use tensor::{Tensor, TensorId};
