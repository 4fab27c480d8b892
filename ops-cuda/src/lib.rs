//! tcgan-ops-cuda: the CUDA backend. Kernels are CUDA C sources in this crate,
//! compiled at first use by NVRTC for the GPU's architecture; products and
//! convolutions go through cuBLAS. The CUDA libraries are loaded at run time,
//! so building needs no CUDA toolkit, and a machine without a GPU gets an
//! error from `cuda()`, never a panic.
//!
//! Without the `cuda` (CUDA 12) or `cuda13` (CUDA 13) feature the crate builds
//! without cudarc and `cuda()` returns [`CudaError::NotCompiled`].

#[cfg(all(feature = "cuda", feature = "cuda13"))]
compile_error!("choose one of the features `cuda` (CUDA 12 libraries) and `cuda13` (CUDA 13)");

pub mod cuda_version;
mod error;

pub use error::CudaError;

#[cfg(feature = "cuda-backend")]
mod alloc;
#[cfg(feature = "cuda-backend")]
mod backend;
#[cfg(feature = "cuda-backend")]
pub mod compile;
#[cfg(feature = "cuda-backend")]
mod device;
#[cfg(feature = "cuda-backend")]
pub mod kernels;
#[cfg(feature = "cuda-backend")]
mod layout;
#[cfg(feature = "cuda-backend")]
mod nccl;
#[cfg(feature = "cuda-backend")]
mod storage;

// One folder per op: launch code (mod.rs) beside its kernel source.
#[cfg(feature = "cuda-backend")]
mod bias_act;
#[cfg(feature = "cuda-backend")]
mod binary;
#[cfg(feature = "cuda-backend")]
mod conv;
#[cfg(feature = "cuda-backend")]
mod fill;
#[cfg(feature = "cuda-backend")]
mod grid_sample;
#[cfg(feature = "cuda-backend")]
mod index;
#[cfg(feature = "cuda-backend")]
mod matmul;
#[cfg(feature = "cuda-backend")]
mod modulate_weight;
#[cfg(feature = "cuda-backend")]
mod movement;
#[cfg(feature = "cuda-backend")]
mod pool2d;
#[cfg(feature = "cuda-backend")]
mod reduce;
#[cfg(feature = "cuda-backend")]
mod unary;
#[cfg(feature = "cuda-backend")]
mod upfirdn2d;

#[cfg(feature = "cuda-backend")]
pub use alloc::MemoryStats;
#[cfg(feature = "cuda-backend")]
pub use backend::CudaBackend;
#[cfg(feature = "cuda-backend")]
pub use nccl::{nccl_group, NcclRank};
#[cfg(feature = "cuda-backend")]
pub use storage::CudaStorage;

use tcgan_core::Device;

/// Whether this build contains the CUDA backend.
pub const COMPILED: bool = cfg!(feature = "cuda-backend");

#[cfg(feature = "cuda-backend")]
mod registry {
    use crate::device::Inner;
    use crate::{CudaBackend, CudaError};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    use tcgan_core::Device;

    type Started = Mutex<HashMap<usize, (Device, Arc<Inner>)>>;

    /// One backend per GPU and process, started at first request.
    static STARTED: OnceLock<Started> = OnceLock::new();

    pub fn get(ordinal: usize) -> Result<(Device, Arc<Inner>), CudaError> {
        let map = STARTED.get_or_init(Default::default);
        let mut map = map.lock().expect("CUDA device registry");
        if let Some(d) = map.get(&ordinal) {
            return Ok(d.clone());
        }
        let inner = Inner::start(ordinal)?;
        let device = Device::new(CudaBackend {
            inner: inner.clone(),
        });
        map.insert(ordinal, (device.clone(), inner.clone()));
        Ok((device, inner))
    }

    pub fn started(ordinal: usize) -> Option<Arc<Inner>> {
        let map = STARTED.get()?.lock().expect("CUDA device registry");
        map.get(&ordinal).map(|d| d.1.clone())
    }
}

/// The CUDA device `cuda:<ordinal>`, started at first call and shared after.
pub fn cuda(ordinal: usize) -> Result<Device, CudaError> {
    #[cfg(feature = "cuda-backend")]
    {
        registry::get(ordinal).map(|d| d.0)
    }
    #[cfg(not(feature = "cuda-backend"))]
    {
        let _ = ordinal;
        Err(CudaError::NotCompiled)
    }
}

/// The number of visible GPUs (0 without a driver or without the feature).
pub fn device_count() -> usize {
    #[cfg(feature = "cuda-backend")]
    {
        device::device_count()
    }
    #[cfg(not(feature = "cuda-backend"))]
    {
        0
    }
}

/// A line describing a started GPU: name, architecture, kernel target, driver.
#[cfg(feature = "cuda-backend")]
pub fn describe(ordinal: usize) -> Option<String> {
    let i = registry::started(ordinal)?;
    Some(format!(
        "{} (GPU {}): {} (sm_{}), kernels compiled for {} by NVRTC {}.{}, driver for CUDA {}.{}",
        i.name,
        i.ordinal,
        i.gpu_name,
        i.sm,
        i.target,
        i.nvrtc_version.0,
        i.nvrtc_version.1,
        i.driver_version / 1000,
        i.driver_version % 1000 / 10
    ))
}

/// The allocator counters of a started GPU.
#[cfg(feature = "cuda-backend")]
pub fn memory_stats(ordinal: usize) -> Option<MemoryStats> {
    registry::started(ordinal).map(|i| i.memory_stats())
}

/// Sets the peaks of a started GPU's counters to the current values.
#[cfg(feature = "cuda-backend")]
pub fn reset_peak_memory_stats(ordinal: usize) {
    if let Some(i) = registry::started(ordinal) {
        i.alloc.reset_peaks();
    }
}

/// Returns the cached blocks of a started GPU's allocator to the driver.
#[cfg(feature = "cuda-backend")]
pub fn empty_cache(ordinal: usize) -> Result<(), String> {
    match registry::started(ordinal) {
        Some(i) => i.alloc.trim(),
        None => Ok(()),
    }
}

/// Waits for every queued kernel of a started GPU (for timing).
#[cfg(feature = "cuda-backend")]
pub fn synchronize(ordinal: usize) -> tcgan_core::Result<()> {
    match registry::started(ordinal) {
        Some(i) => i.sync(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_a_gpu_never_panics() {
        let r = std::panic::catch_unwind(|| cuda(0).map(|d| d.name()));
        let r = r.expect("cuda(0) panicked");
        if device_count() == 0 {
            let e = r.expect_err("no GPU is visible, yet cuda(0) succeeded");
            assert!(!e.to_string().is_empty());
        } else {
            assert_eq!(r.unwrap(), "cuda:0");
        }
    }

    #[test]
    fn a_missing_gpu_number_is_an_error() {
        let e = cuda(usize::MAX >> 1).expect_err("no machine has that many GPUs");
        assert!(!e.to_string().is_empty());
    }

    #[cfg(not(feature = "cuda-backend"))]
    #[test]
    fn builds_without_the_feature_say_so() {
        assert!(matches!(cuda(0), Err(CudaError::NotCompiled)));
        assert_eq!(device_count(), 0);
    }
}
