//! The CUDA major version whose libraries this build loads (feature `cuda`:
//! 12, `cuda13`: 13), and what start-up errors tell users to install for it.

#[cfg(not(feature = "cuda13"))]
mod v {
    pub const MAJOR: i32 = 12;
    /// The oldest driver of that major version (`cuDriverGetVersion` reports 12000).
    pub const MIN_DRIVER: &str = "525";
    pub const NVRTC_WHEEL: &str = "nvidia-cuda-nvrtc-cu12 (lib folder nvidia/cuda_nvrtc/lib)";
    pub const CUBLAS_WHEEL: &str = "nvidia-cublas-cu12 (lib folder nvidia/cublas/lib)";
    pub const NCCL_WHEEL: &str = "nvidia-nccl-cu12 (lib folder nvidia/nccl/lib)";
}

#[cfg(feature = "cuda13")]
mod v {
    pub const MAJOR: i32 = 13;
    pub const MIN_DRIVER: &str = "580";
    pub const NVRTC_WHEEL: &str = "nvidia-cuda-nvrtc 13.x (lib folder nvidia/cu13/lib)";
    pub const CUBLAS_WHEEL: &str = "nvidia-cublas 13.x (lib folder nvidia/cu13/lib)";
    pub const NCCL_WHEEL: &str = "nvidia-nccl-cu13 (lib folder nvidia/nccl/lib)";
}

pub use v::*;

/// The other build's feature, for errors that a library of the wrong major
/// version was found.
pub fn other_feature() -> &'static str {
    if MAJOR == 12 {
        "cuda13"
    } else {
        "cuda"
    }
}
