//! Every differentiable operation, one concept per file: the `Tensor` method that
//! validates shapes and calls the backend, and beside it the gradient rule.
//!
//! Adding an op: a file here (method + `GradFn`), a method on `Backend` if it is
//! a new primitive, its kernel in each backend, and an entry in the gradient-check
//! list of `tcgan-ops-cpu/tests/gradcheck.rs`.

mod bias_act;
mod binary;
mod broadcast;
mod cast;
mod composite;
mod concat;
mod conv2d;
mod flip;
mod grid_sample;
mod index;
mod matmul;
mod pad;
mod permute;
mod reduce;
mod reshape;
mod unary;
mod upfirdn2d;
mod where_cond;
