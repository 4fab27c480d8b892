//! Kernels of sum / max / min over sorted axes. The summation order is fixed by
//! the shape alone (lane-wise partial sums, then pairwise), so results do not
//! depend on the thread count.

use crate::movement::permute_slice;
use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use rayon::prelude::*;
use tcgan_core::{ReduceOp, Result, Shape, Storage};

trait Combine<T>: Fn(T, T) -> T + Sync + Send + Copy {}
impl<T, F: Fn(T, T) -> T + Sync + Send + Copy> Combine<T> for F {}

/// Reduces a contiguous run with 8 independent lanes (vectorisable, and more
/// accurate than one running sum), recursing in halves for long runs.
fn reduce_run<T: CpuElement>(x: &[T], init: T, f: impl Combine<T>) -> T {
    const BLOCK: usize = 4096;
    if x.len() > BLOCK {
        let mid = (x.len() / 2).next_multiple_of(8);
        return f(
            reduce_run(&x[..mid], init, f),
            reduce_run(&x[mid..], init, f),
        );
    }
    let mut lanes = [init; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            lanes[l] = f(lanes[l], c[l]);
        }
    }
    let mut acc = init;
    for &v in chunks.remainder() {
        acc = f(acc, v);
    }
    let l4 = [
        f(lanes[0], lanes[4]),
        f(lanes[1], lanes[5]),
        f(lanes[2], lanes[6]),
        f(lanes[3], lanes[7]),
    ];
    f(f(f(l4[0], l4[2]), f(l4[1], l4[3])), acc)
}

/// `x` viewed as `[outer, red, inner]`; reduces the middle axis.
fn reduce_middle<T: CpuElement>(
    x: &[T],
    outer: usize,
    red: usize,
    inner: usize,
    init: T,
    f: impl Combine<T>,
) -> Vec<T> {
    let mut out = uninit_vec::<T>(outer * inner);
    if inner == 1 {
        let work = |(o, v): (usize, &mut T)| *v = reduce_run(&x[o * red..(o + 1) * red], init, f);
        if outer * red > 1 << 15 {
            out.par_iter_mut().enumerate().for_each(work);
        } else {
            out.iter_mut().enumerate().for_each(work);
        }
        return out;
    }
    // Accumulate whole rows of `inner` elements: contiguous, vectorisable.
    let cols = 2048.min(inner);
    let work = |(o, row): (usize, &mut [T])| {
        let base = o * red * inner;
        for (ci, seg) in row.chunks_mut(cols).enumerate() {
            let c0 = ci * cols;
            seg.fill(init);
            for r in 0..red {
                let len = seg.len();
                let src = &x[base + r * inner + c0..base + r * inner + c0 + len];
                for (a, &v) in seg.iter_mut().zip(src) {
                    *a = f(*a, v);
                }
            }
        }
    };
    if outer > 1 && outer * red * inner > 1 << 15 {
        out.par_chunks_mut(inner).enumerate().for_each(work);
    } else if outer == 1 && red * inner > 1 << 15 {
        // One output row: split its columns over threads.
        out.par_chunks_mut(cols).enumerate().for_each(|(ci, seg)| {
            let c0 = ci * cols;
            seg.fill(init);
            for r in 0..red {
                let len = seg.len();
                for (a, &v) in seg.iter_mut().zip(&x[r * inner + c0..r * inner + c0 + len]) {
                    *a = f(*a, v);
                }
            }
        });
    } else {
        out.chunks_mut(inner).enumerate().for_each(work);
    }
    out
}

/// `x` viewed as `[outer, kept, inner]`; reduces the first and last axes (the
/// per-channel sums of NCHW tensors: bias and style gradients).
fn reduce_outer_inner<T: CpuElement>(
    x: &[T],
    outer: usize,
    kept: usize,
    inner: usize,
    init: T,
    f: impl Combine<T>,
) -> Vec<T> {
    let mut out = uninit_vec::<T>(kept);
    let work = |(k, v): (usize, &mut T)| {
        let mut acc = init;
        for o in 0..outer {
            let start = (o * kept + k) * inner;
            acc = f(acc, reduce_run(&x[start..start + inner], init, f));
        }
        *v = acc;
    };
    if x.len() > 1 << 15 {
        out.par_iter_mut().enumerate().for_each(work);
    } else {
        out.iter_mut().enumerate().for_each(work);
    }
    out
}

fn reduce_with<T: CpuElement>(
    x: &[T],
    shape: &Shape,
    axes: &[usize],
    init: T,
    f: impl Combine<T>,
) -> Vec<T> {
    // Merge neighbouring axes of the same kind: [kept, reduced, kept, ...].
    let mut groups: Vec<(bool, usize)> = Vec::new();
    for (i, &d) in shape.dims().iter().enumerate() {
        let red = axes.contains(&i);
        if d == 1 {
            continue;
        }
        match groups.last_mut() {
            Some((r, n)) if *r == red => *n *= d,
            _ => groups.push((red, d)),
        }
    }
    let reduced: usize = groups.iter().filter(|g| g.0).map(|g| g.1).product();
    let kept: usize = groups.iter().filter(|g| !g.0).map(|g| g.1).product();
    match groups.as_slice() {
        [] => x.to_vec(),
        [(false, _)] => x.to_vec(),
        [(true, r)] => vec![reduce_run(&x[..*r], init, f)],
        [(true, r), (false, k)] => reduce_middle(x, 1, *r, *k, init, f),
        [(false, k), (true, r)] => reduce_middle(x, *k, *r, 1, init, f),
        [(false, o), (true, r), (false, i)] => reduce_middle(x, *o, *r, *i, init, f),
        [(true, o), (false, k), (true, i)] => reduce_outer_inner(x, *o, *k, *i, init, f),
        _ => {
            // Rare layouts: move the reduced axes last, then reduce rows.
            let dims: Vec<usize> = groups.iter().map(|g| g.1).collect();
            let mut perm: Vec<usize> = (0..groups.len()).filter(|&i| !groups[i].0).collect();
            perm.extend((0..groups.len()).filter(|&i| groups[i].0));
            let moved = permute_slice(x, &Shape::new(dims), &perm);
            reduce_middle(&moved, kept, reduced, 1, init, f)
        }
    }
}

pub fn reduce<T: CpuElement>(
    op: ReduceOp,
    x: &Storage,
    shape: &Shape,
    axes: &[usize],
) -> Result<Storage> {
    let x = slice::<T>(x)?;
    let out = match op {
        ReduceOp::Sum => reduce_with(x, shape, axes, T::zero(), |a: T, b: T| a + b),
        // NaN wins, as in PyTorch.
        ReduceOp::Max => reduce_with(x, shape, axes, T::neg_infinity(), |a: T, b: T| {
            if a.is_nan() || a >= b {
                a
            } else {
                b
            }
        }),
        ReduceOp::Min => reduce_with(x, shape, axes, T::infinity(), |a: T, b: T| {
            if a.is_nan() || a <= b {
                a
            } else {
                b
            }
        }),
    };
    Ok(wrap(out))
}
