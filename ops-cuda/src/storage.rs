//! GPU memory of the CUDA backend: a typed view of one allocator block.

use crate::alloc::Block;
use cudarc::driver::sys::CUdeviceptr;
use std::any::Any;
use std::fmt;
use tcgan_core::{BackendStorage, DType};

pub struct CudaStorage {
    pub(crate) block: Block,
    pub(crate) len: usize,
    pub(crate) dtype: DType,
}

impl CudaStorage {
    /// The device address of the first element (0 when empty).
    pub fn device_ptr(&self) -> CUdeviceptr {
        self.block.ptr()
    }
}

impl fmt::Debug for CudaStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CudaStorage({} x {} at {:#x})",
            self.len,
            self.dtype.name(),
            self.block.ptr()
        )
    }
}

impl BackendStorage for CudaStorage {
    fn dtype(&self) -> DType {
        self.dtype
    }
    fn len(&self) -> usize {
        self.len
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
