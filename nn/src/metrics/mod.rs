//! The quality metrics of StyleGAN2-ADA's `metrics/`, computed the official way
//! (FID, KID, precision/recall), plus per-class FID/KID for conditional models,
//! fed by "image sources" through the Inception feature network.
//!
//! The math lives here; the parts a binary needs (statistics cache on disk,
//! progress display, the JSON-lines report) are in files of their own so that
//! they can move to `tcgan-apps` with `calc_metrics`.

mod error;
pub mod feature_stats;
pub mod fid;
pub mod kid;
pub mod linalg;
pub mod precision_recall;

pub use error::{MetricError, Result};
pub use feature_stats::FeatureStats;
pub use fid::{fid_from_stats, Fid};
pub use kid::{kid, kid_with_subsets, Subset};
pub use precision_recall::{precision_recall, PrecisionRecall};
