//! Row-wise iteration over an output whose operands are read through strides
//! (broadcasting, permutations): the innermost axis is a tight loop, the outer
//! axes an odometer, and rows are split over threads in fixed-size chunks.

use crate::parallel::CHUNK;
use rayon::prelude::*;
use tcgan_core::Shape;

/// Strides of `shape` read as `out` (trailing alignment): 0 on broadcast axes.
pub fn broadcast_strides(shape: &Shape, out: &Shape) -> Vec<usize> {
    let own = shape.strides();
    let off = out.rank() - shape.rank();
    (0..out.rank())
        .map(|i| {
            if i < off || shape.dim(i - off) == 1 {
                0
            } else {
                own[i - off]
            }
        })
        .collect()
}

/// Merges neighbouring axes that every operand walks contiguously, and drops
/// axes of size 1, so that typical cases become one or two axes.
pub fn merge_axes<const K: usize>(
    dims: &[usize],
    strides: [Vec<usize>; K],
) -> (Vec<usize>, [Vec<usize>; K]) {
    let mut md: Vec<usize> = Vec::new();
    let mut ms: [Vec<usize>; K] = std::array::from_fn(|_| Vec::new());
    for (i, &d) in dims.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable =
            !md.is_empty() && (0..K).all(|k| ms[k][ms[k].len() - 1] == strides[k][i] * d);
        if mergeable {
            *md.last_mut().unwrap() *= d;
            for k in 0..K {
                *ms[k].last_mut().unwrap() = strides[k][i];
            }
        } else {
            md.push(d);
            for k in 0..K {
                ms[k].push(strides[k][i]);
            }
        }
    }
    if md.is_empty() {
        md.push(1);
        for s in ms.iter_mut() {
            s.push(0);
        }
    }
    (md, ms)
}

/// Calls `f(row, offsets, inner_strides)` for every row of `out` (its last merged
/// axis), where `offsets[k]` is operand k's element offset at the row start.
pub fn for_each_row<T: Send, const K: usize>(
    out: &mut [T],
    dims: &[usize],
    strides: &[Vec<usize>; K],
    f: impl Fn(&mut [T], [usize; K], [usize; K]) + Sync + Send,
) {
    let r = dims.len();
    let inner = dims[r - 1];
    let inner_strides: [usize; K] = std::array::from_fn(|k| strides[k][r - 1]);
    if inner == 0 || out.is_empty() {
        return;
    }
    let rows = out.len() / inner;
    let rows_per_chunk = (CHUNK / inner).max(1);
    let run = |first_row: usize, chunk: &mut [T]| {
        // Odometer over the outer axes, started at `first_row`.
        let mut idx = vec![0usize; r - 1];
        let mut rem = first_row;
        for a in (0..r - 1).rev() {
            idx[a] = rem % dims[a];
            rem /= dims[a];
        }
        let mut offs: [usize; K] =
            std::array::from_fn(|k| (0..r - 1).map(|a| idx[a] * strides[k][a]).sum());
        for row in chunk.chunks_mut(inner) {
            f(row, offs, inner_strides);
            // Advance the odometer by one row.
            for a in (0..r - 1).rev() {
                idx[a] += 1;
                for k in 0..K {
                    offs[k] += strides[k][a];
                }
                if idx[a] < dims[a] {
                    break;
                }
                for k in 0..K {
                    offs[k] -= strides[k][a] * dims[a];
                }
                idx[a] = 0;
            }
        }
    };
    if rows <= rows_per_chunk {
        run(0, out);
    } else {
        out.par_chunks_mut(rows_per_chunk * inner)
            .enumerate()
            .for_each(|(i, c)| run(i * rows_per_chunk, c));
    }
}
