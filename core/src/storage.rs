//! Backend-owned memory: the core only moves `Storage` handles around and asks the
//! backend that made them to read or write them.

use crate::DType;
use half::f16;
use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

/// A contiguous buffer of one dtype, owned by a backend (host memory, GPU memory).
pub trait BackendStorage: Any + Send + Sync + Debug {
    fn dtype(&self) -> DType;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn as_any(&self) -> &dyn Any;
}

pub type Storage = Arc<dyn BackendStorage>;

/// Values on the host, used to move data in and out of any backend.
#[derive(Debug, Clone, PartialEq)]
pub enum HostBuffer {
    F32(Vec<f32>),
    F64(Vec<f64>),
    F16(Vec<f16>),
}

impl HostBuffer {
    pub fn dtype(&self) -> DType {
        match self {
            HostBuffer::F32(_) => DType::F32,
            HostBuffer::F64(_) => DType::F64,
            HostBuffer::F16(_) => DType::F16,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            HostBuffer::F32(v) => v.len(),
            HostBuffer::F64(v) => v.len(),
            HostBuffer::F16(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn into_f32(self) -> Vec<f32> {
        match self {
            HostBuffer::F32(v) => v,
            HostBuffer::F64(v) => v.into_iter().map(|x| x as f32).collect(),
            HostBuffer::F16(v) => v.into_iter().map(f32::from).collect(),
        }
    }

    pub fn into_f64(self) -> Vec<f64> {
        match self {
            HostBuffer::F32(v) => v.into_iter().map(|x| x as f64).collect(),
            HostBuffer::F64(v) => v,
            HostBuffer::F16(v) => v.into_iter().map(f64::from).collect(),
        }
    }

    /// The values rounded to f16 (round to nearest even, as every backend's cast).
    pub fn into_f16(self) -> Vec<f16> {
        match self {
            HostBuffer::F32(v) => v.into_iter().map(f16::from_f32).collect(),
            HostBuffer::F64(v) => v.into_iter().map(f16::from_f64).collect(),
            HostBuffer::F16(v) => v,
        }
    }
}

impl From<Vec<f32>> for HostBuffer {
    fn from(v: Vec<f32>) -> Self {
        HostBuffer::F32(v)
    }
}

impl From<Vec<f16>> for HostBuffer {
    fn from(v: Vec<f16>) -> Self {
        HostBuffer::F16(v)
    }
}

impl From<Vec<f64>> for HostBuffer {
    fn from(v: Vec<f64>) -> Self {
        HostBuffer::F64(v)
    }
}
