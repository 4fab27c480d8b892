//! calc_metrics: quality metrics (FID, KID, precision/recall on Inception features,
//! per-class FID/KID) of a network snapshot, with the official tool's flags.

use clap::Parser;
use tcgan_apps::metrics::calc_metrics::{run, CalcMetricsArgs};

fn main() {
    let args = CalcMetricsArgs::parse();
    if let Err(err) = run(&args) {
        // The chain on one line: the message names the file and the problem.
        eprintln!("Error: {err:#}");
        std::process::exit(1);
    }
}
