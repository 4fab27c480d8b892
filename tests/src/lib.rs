//! Cross-crate test support: the runner that checks our implementation against
//! reference vectors dumped from the official code (`check-golden`).

pub mod golden;
