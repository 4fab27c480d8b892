//! Kernel of the batched matrix product with optional transposed operands.

use crate::gemm::{gemm, Mat, Threads};
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{MatmulSpec, Result, Storage};

pub fn matmul<T: CpuElement>(a: &Storage, b: &Storage, s: &MatmulSpec) -> Result<Storage> {
    let (a, b) = (slice::<T>(a)?, slice::<T>(b)?);
    let (m, n, k) = (s.m, s.n, s.k);
    let mut out = uninit_vec::<T>(s.batch * m * n);
    let view_a = |i: usize| {
        let d = &a[i * m * k..(i + 1) * m * k];
        if s.trans_a {
            Mat::rows_t(d, k, m)
        } else {
            Mat::rows(d, m, k)
        }
    };
    let view_b = |i: usize| {
        let d = &b[i * k * n..(i + 1) * k * n];
        if s.trans_b {
            Mat::rows_t(d, n, k)
        } else {
            Mat::rows(d, k, n)
        }
    };
    if m * n == 0 {
        return Ok(wrap(out));
    }
    if s.batch >= rayon::current_num_threads() && s.batch > 1 {
        out.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, c)| gemm(c, view_a(i), view_b(i), false, Threads::One));
    } else {
        for (i, c) in out.chunks_mut(m * n).enumerate() {
            gemm(c, view_a(i), view_b(i), false, Threads::All);
        }
    }
    Ok(wrap(out))
}
