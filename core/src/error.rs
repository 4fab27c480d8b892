//! The one error type of the tensor core: every shape, dtype or device problem is
//! reported here with the operation and the offending shapes, never as a panic.

use crate::{DType, Shape};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op}: shapes {lhs} and {rhs} are incompatible{}", fmt_detail(.detail))]
    ShapeMismatch {
        op: &'static str,
        lhs: Shape,
        rhs: Shape,
        detail: String,
    },
    #[error("{op}: invalid argument for input of shape {shape}: {msg}")]
    InvalidArgument {
        op: &'static str,
        shape: Shape,
        msg: String,
    },
    #[error("{op}: dtypes {lhs:?} and {rhs:?} differ")]
    DTypeMismatch {
        op: &'static str,
        lhs: DType,
        rhs: DType,
    },
    #[error("{op}: tensors live on different devices ({lhs} and {rhs})")]
    DeviceMismatch {
        op: &'static str,
        lhs: String,
        rhs: String,
    },
    #[error("{op}: {len} values do not fill shape {shape}")]
    DataLength {
        op: &'static str,
        len: usize,
        shape: Shape,
    },
    #[error("autograd: {0}")]
    Autograd(String),
    #[error("backend {backend}: {msg}")]
    Backend { backend: String, msg: String },
}

fn fmt_detail(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(" ({d})")
    }
}

impl Error {
    pub fn shape(op: &'static str, lhs: &Shape, rhs: &Shape, detail: impl Into<String>) -> Self {
        Error::ShapeMismatch {
            op,
            lhs: lhs.clone(),
            rhs: rhs.clone(),
            detail: detail.into(),
        }
    }

    pub fn invalid(op: &'static str, shape: &Shape, msg: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            shape: shape.clone(),
            msg: msg.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
