//! Quality metrics of a generator (FID, KID, precision/recall, per-class FID/KID) on
//! our datasets and snapshots: the sources tcgan-nn's metric runner reads from, the
//! evaluation the training loop calls at every snapshot, and `calc_metrics`.

pub mod calc_metrics;
pub mod evaluate;
pub mod generated;
pub mod real;

pub use evaluate::{evaluate, EvalOptions, Evaluator};
pub use generated::GeneratorImages;
pub use real::DatasetImages;
