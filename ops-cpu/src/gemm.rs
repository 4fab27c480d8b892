//! A bounds-checked wrapper around the `gemm` crate: the single place where
//! matrix products are computed, for matmul and every convolution.

use crate::storage::CpuElement;

/// A strided matrix view: element (i, j) is at `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub struct Mat<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A row-major matrix.
    pub fn rows(data: &'a [T], rows: usize, cols: usize) -> Self {
        Mat {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major `[cols, rows]` matrix, read in place.
    pub fn rows_t(data: &'a [T], stored_rows: usize, stored_cols: usize) -> Self {
        Mat {
            data,
            rows: stored_cols,
            cols: stored_rows,
            rs: 1,
            cs: stored_cols,
        }
    }

    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// Whether one product should use several threads itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    One,
    All,
}

/// `dst[m, n] (row-major) = (accumulate ? dst : 0) + a[m, k] * b[k, n]`.
pub fn gemm<T: CpuElement>(
    dst: &mut [T],
    a: Mat<T>,
    b: Mat<T>,
    accumulate: bool,
    threads: Threads,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "gemm: inner dimensions differ");
    assert!(
        dst.len() >= m * n && a.fits() && b.fits(),
        "gemm: view out of bounds"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(T::zero());
        }
        return;
    }
    let parallelism = match threads {
        // Small products are faster on one thread than split.
        Threads::All if m * n * k >= 1 << 18 && rayon::current_num_threads() > 1 => {
            gemm::Parallelism::Rayon(rayon::current_num_threads())
        }
        _ => gemm::Parallelism::None,
    };
    // SAFETY: every view was checked to lie inside its slice above, `dst` is
    // exclusively borrowed, and T is f32 or f64 (the crate's supported types).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}
