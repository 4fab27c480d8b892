//! tcgan-core: n-dimensional tensors on a run-time selected device, the list of
//! primitives a device implements, and reverse-mode autograd whose gradients are
//! themselves differentiable (`grad(.., create_graph = true)`).

pub mod autograd;
pub mod backend;
mod dtype;
mod error;
mod grad_mode;
mod ops;
pub mod rng;
mod shape;
mod storage;
mod tensor;

pub use autograd::{backward, grad, GradFn};
pub use backend::{
    Activation, Backend, BiasActSpec, BiasLayout, BinaryOp, Conv2dSpec, ConvTranspose2dSpec,
    Device, GridPadding, GridSampleSpec, MatmulSpec, ReduceOp, UnaryOp, Upfirdn2dSpec,
};
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use grad_mode::{is_grad_enabled, no_grad, with_grad_mode, GradModeGuard};
pub use rng::Generator;
pub use shape::Shape;
pub use storage::{BackendStorage, HostBuffer, Storage};
pub use tensor::{Tensor, TensorId};
