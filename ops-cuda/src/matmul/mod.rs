//! The batched matrix product with optional transposes: one strided-batched
//! cuBLAS call (default math mode: no TF32, as the official training code).

use crate::device::{Gemm, Inner};
use crate::fill::fill;
use crate::storage::CudaStorage;
use tcgan_core::{MatmulSpec, Result};

pub fn matmul(
    inner: &Inner,
    a: &CudaStorage,
    b: &CudaStorage,
    s: &MatmulSpec,
) -> Result<CudaStorage> {
    let (m, n, k) = (s.m, s.n, s.k);
    if k == 0 {
        return fill(inner, 0.0, s.batch * m * n, a.dtype);
    }
    let out = inner.alloc(s.batch * m * n, a.dtype)?;
    let g = Gemm {
        trans_a: s.trans_a,
        trans_b: s.trans_b,
        m,
        n,
        k,
        lda: if s.trans_a { m } else { k },
        ldb: if s.trans_b { k } else { n },
        ldc: n,
        stride_a: m * k,
        stride_b: k * n,
        stride_c: m * n,
        batch: s.batch,
        accumulate: false,
    };
    inner.gemm(
        a.dtype,
        &g,
        a.device_ptr(),
        b.device_ptr(),
        out.device_ptr(),
    )?;
    Ok(out)
}
