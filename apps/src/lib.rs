//! Library code behind the tcgan binaries; the binaries in `src/bin/` only parse flags and call it.

pub mod dataset;
pub mod numpy_rng;
