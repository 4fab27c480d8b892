//! The training program: options, configuration, schedules, statistics and the
//! loop that runs the phases of the transitional cGAN.

pub mod config;
pub mod options;
pub mod run_dir;
pub mod schedule;
pub mod stats;
pub mod tensorboard;
