//! Errors of the metrics: bad features or options, unavailable metrics, and the
//! feature network's and the statistics cache's errors.

use crate::inception::InceptionError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    #[error("unknown metric `{name}`; known: {known}")]
    Unknown { name: String, known: String },
    #[error("metric `{name}` is not available: {why}")]
    Unavailable { name: String, why: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{}: {msg}", path.display())]
    Cache { path: PathBuf, msg: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("image source: {0}")]
    Source(String),
    #[error(transparent)]
    Inception(#[from] InceptionError),
    #[error(transparent)]
    Tensor(#[from] tcgan_core::Error),
}

pub type Result<T, E = MetricError> = std::result::Result<T, E>;
