//! One handler per group of cases: it runs a case through our implementation and
//! returns the tensors it computed, named as in the case file.

use super::{CaseCtx, Outputs};
use anyhow::Result;

mod augment;
mod dataset_tool;
mod inception;
mod loss;
mod metrics;
mod networks;
mod ops;
pub mod pycall;
mod util;

pub type Handler = fn(&CaseCtx) -> Result<Outputs>;

/// Every implemented group; a new group adds its line here.
const HANDLERS: &[(&str, Handler)] = &[
    ("ops", ops::run),
    ("networks", networks::run),
    ("loss", loss::run),
    ("augment", augment::run),
    ("metrics", metrics::run),
    ("inception", inception::run),
    ("dataset_tool", dataset_tool::run),
];

/// The handler of a group, or `None` while the group is not implemented.
pub fn handler(group: &str) -> Option<Handler> {
    HANDLERS.iter().find(|(g, _)| *g == group).map(|(_, h)| *h)
}
