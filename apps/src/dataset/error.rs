//! The one error type of the dataset code: every variant names the file (or option) at fault.

use std::fmt;

/// Where an error happened: a path on disk, an entry inside an archive, or a command-line option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location(pub String);

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<T: AsRef<std::path::Path>> From<T> for Location {
    fn from(p: T) -> Self {
        Location(p.as_ref().display().to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: Location,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot decode image: {msg}")]
    Decode { path: Location, msg: String },
    #[error("{path}: unsupported image: {msg}")]
    Unsupported { path: Location, msg: String },
    #[error("{path}: not a readable zip archive: {msg}")]
    Zip { path: Location, msg: String },
    #[error("{path}: invalid dataset.json: {msg}")]
    Json { path: Location, msg: String },
    #[error("{path}: invalid CIFAR archive: {msg}")]
    Cifar { path: Location, msg: String },
    #[error("{path}: {msg}")]
    Invalid { path: Location, msg: String },
    #[error("invalid options: {0}")]
    Options(String),
}

impl DatasetError {
    pub fn io(path: impl Into<Location>, source: std::io::Error) -> Self {
        DatasetError::Io {
            path: path.into(),
            source,
        }
    }
    pub fn decode(path: impl Into<Location>, msg: impl fmt::Display) -> Self {
        DatasetError::Decode {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub fn unsupported(path: impl Into<Location>, msg: impl fmt::Display) -> Self {
        DatasetError::Unsupported {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub fn zip(path: impl Into<Location>, msg: impl fmt::Display) -> Self {
        DatasetError::Zip {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub fn json(path: impl Into<Location>, msg: impl fmt::Display) -> Self {
        DatasetError::Json {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub fn cifar(path: impl Into<Location>, msg: impl fmt::Display) -> Self {
        DatasetError::Cifar {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    pub fn invalid(path: impl Into<Location>, msg: impl fmt::Display) -> Self {
        DatasetError::Invalid {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, DatasetError>;
