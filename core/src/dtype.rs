//! Element types: f32 for training, f64 for gradient checks and statistics, f16
//! as a storage format for the mixed-precision blocks (`num_fp16_res`).

use std::fmt::Debug;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    /// IEEE binary16. A storage format only: every primitive reads f16 values as
    /// f32, computes in f32 and rounds its result to f16 once (the official CUDA
    /// kernels' `InternalType<half> = float`, cuBLAS with f32 accumulation).
    F16,
}

impl DType {
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
            DType::F16 => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
        }
    }
}

/// A floating-point element a kernel can be generic over.
pub trait Element:
    num_traits::Float + num_traits::FloatConst + Copy + Send + Sync + Debug + Default + 'static
{
    const DTYPE: DType;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}
