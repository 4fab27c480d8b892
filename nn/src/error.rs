//! The error type of tcgan-nn: tensor errors from the core, plus configuration,
//! state-dict and checkpoint problems that name the key or file at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Tensor(#[from] tcgan_core::Error),
    /// A network or op was asked for something the official code does not allow.
    #[error("{what}: {msg}")]
    Config { what: String, msg: String },
    /// An input of the wrong shape reached a network.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        what: String,
        expected: String,
        got: Vec<usize>,
    },
    /// Loading parameters: a missing, unexpected or misshapen key.
    #[error("state dict: key {key:?}: {msg}")]
    StateDict { key: String, msg: String },
    #[error("checkpoint {}: {msg}", path.display())]
    Checkpoint { path: PathBuf, msg: String },
    /// A random draw that a replayed noise source does not hold.
    #[error("noise {name:?}: {msg}")]
    Noise { name: String, msg: String },
}

impl Error {
    pub fn config(what: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Config {
            what: what.into(),
            msg: msg.into(),
        }
    }

    pub fn state(key: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::StateDict {
            key: key.into(),
            msg: msg.into(),
        }
    }

    pub fn shape(what: impl Into<String>, expected: impl Into<String>, got: &[usize]) -> Self {
        Error::Shape {
            what: what.into(),
            expected: expected.into(),
            got: got.to_vec(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
