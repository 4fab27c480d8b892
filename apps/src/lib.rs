//! Library code behind the tcgan binaries; the binaries in `src/bin/` only parse flags and call it.

pub mod atomic_file;
pub mod dataset;
pub mod device;
pub mod generate;
pub mod image_grid;
pub mod metrics;
pub mod numpy_rng;
pub mod snapshot;
pub mod training;
