//! Why a CUDA device could not be started. Failures of individual operations
//! are reported as `tcgan_core::Error::Backend` naming the device.

/// Start-up errors: each says what is missing and what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CudaError {
    #[error("this build has no CUDA support: rebuild with `--features cuda` (CUDA 12 libraries) or `--features cuda13` (CUDA 13), or use --device cpu")]
    NotCompiled,
    #[error(
        "no NVIDIA driver found (libcuda.so.1 could not be loaded): install the NVIDIA driver, or use --device cpu"
    )]
    NoDriver,
    #[error(
        "the NVIDIA driver supports CUDA {major}.{minor}; this build loads CUDA {needed}'s libraries, which need a driver for CUDA {needed}.0 or newer (version {min_driver} or later): update the driver, or use --device cpu"
    )]
    DriverTooOld {
        major: i32,
        minor: i32,
        needed: i32,
        min_driver: &'static str,
    },
    #[error("no CUDA GPU is visible ({0}); use --device cpu")]
    NoDevice(String),
    #[error("there is no GPU {ordinal}: {count} CUDA GPU(s) are visible (numbered from 0)")]
    NoSuchDevice { ordinal: usize, count: usize },
    #[error("{library} could not be loaded: {hint}")]
    MissingLibrary { library: String, hint: String },
    #[error("starting GPU {ordinal} failed: {msg}")]
    Startup { ordinal: usize, msg: String },
}
