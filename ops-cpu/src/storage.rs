//! Host memory for the CPU backend, and typed access to it from kernels.

use std::any::Any;
use tcgan_core::{BackendStorage, DType, Element, Error, Result, Storage};

#[derive(Debug)]
pub enum CpuStorage {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl BackendStorage for CpuStorage {
    fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F64(_) => DType::F64,
        }
    }
    fn len(&self) -> usize {
        match self {
            CpuStorage::F32(v) => v.len(),
            CpuStorage::F64(v) => v.len(),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An element type the CPU kernels are instantiated for.
pub trait CpuElement: Element {
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn wrap(v: Vec<Self>) -> CpuStorage;
}

impl CpuElement for f32 {
    fn slice(s: &CpuStorage) -> Option<&[Self]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn wrap(v: Vec<Self>) -> CpuStorage {
        CpuStorage::F32(v)
    }
}

impl CpuElement for f64 {
    fn slice(s: &CpuStorage) -> Option<&[Self]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn wrap(v: Vec<Self>) -> CpuStorage {
        CpuStorage::F64(v)
    }
}

pub fn cpu_storage(s: &Storage) -> Result<&CpuStorage> {
    s.as_any()
        .downcast_ref::<CpuStorage>()
        .ok_or_else(|| Error::Backend {
            backend: "cpu".into(),
            msg: format!("storage {s:?} does not live in host memory"),
        })
}

/// Typed view of a storage; the dtype was checked by the caller's dispatch.
pub fn slice<T: CpuElement>(s: &Storage) -> Result<&[T]> {
    T::slice(cpu_storage(s)?).ok_or_else(|| Error::Backend {
        backend: "cpu".into(),
        msg: format!("expected {} storage, got {:?}", T::DTYPE.name(), s.dtype()),
    })
}

pub fn wrap<T: CpuElement>(v: Vec<T>) -> Storage {
    std::sync::Arc::new(T::wrap(v))
}

/// A vector of `n` elements whose contents the caller overwrites completely.
pub fn uninit_vec<T: CpuElement>(n: usize) -> Vec<T> {
    // Zero-filled rather than uninitialised: the cost is one pass over memory,
    // and no kernel can ever expose garbage.
    vec![T::zero(); n]
}
