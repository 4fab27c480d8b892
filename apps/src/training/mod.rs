//! The training program: options, configuration, schedules, statistics and the
//! loop that runs the phases of the transitional cGAN.

pub mod bench;
pub mod config;
pub mod data;
pub mod nets;
pub mod options;
pub mod run_dir;
pub mod schedule;
pub mod seeds;
pub mod state;
pub mod stats;
pub mod tensorboard;
pub mod training_loop;
