//! The quality metrics of StyleGAN2-ADA's `metrics/`, computed the official way
//! (FID, KID, precision/recall), plus per-class FID/KID for conditional models,
//! fed by image sources through the Inception feature network.
//!
//! The math, the sources and the runner live here. The parts only a binary
//! needs (`cache`: statistics on disk; `progress`: the stderr display;
//! `report`: the JSON-lines record) use nothing of tcgan-nn but the metric
//! types, so that they can move to `tcgan-apps` with `calc_metrics`.

pub mod cache;
pub mod calc;
mod error;
pub mod extract;
pub mod feature_stats;
pub mod fid;
pub mod kid;
pub mod linalg;
pub mod per_class;
pub mod precision_recall;
pub mod progress;
pub mod registry;
pub mod report;
pub mod source;

pub use calc::{calc_metric, MetricOptions};
pub use error::{MetricError, Result};
pub use feature_stats::FeatureStats;
pub use fid::{fid_from_stats, Fid};
pub use kid::{kid, kid_with_subsets, Subset};
pub use per_class::{fid_per_class, kid_per_class, PerClass};
pub use precision_recall::{precision_recall, PrecisionRecall};
pub use registry::{parse as parse_metric, MetricSpec};
pub use report::MetricResult;
pub use source::{FeatureExtractor, GeneratedImages, LabeledImages, RealImages};
