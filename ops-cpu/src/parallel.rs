//! How work is split over threads: fixed-size chunks, so results never depend on
//! the number of threads.

use rayon::prelude::*;

/// Elements per chunk for elementwise loops; below this a loop runs serially.
pub const CHUNK: usize = 1 << 15;

/// Applies `f(offset, chunk)` to consecutive chunks of `out`, in parallel when large.
pub fn for_chunks<T: Send>(out: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    let chunk = chunk.max(1);
    if out.len() <= chunk {
        f(0, out);
    } else {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c));
    }
}

pub fn num_threads() -> usize {
    rayon::current_num_threads()
}
