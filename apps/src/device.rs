//! Turning the user's `--device` into a backend: the one place that names one.

use anyhow::{Context, Result};
use tcgan_core::Device;

/// `cpu`, `cuda` (GPU 0) or `cuda:N`.
pub fn select(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(tcgan_ops_cpu::cpu()),
        _ => {
            let ordinal = match name.strip_prefix("cuda") {
                Some("") => 0,
                Some(rest) => rest
                    .strip_prefix(':')
                    .and_then(|n| n.parse().ok())
                    .with_context(|| format!("--device={name}: expected cpu, cuda or cuda:N"))?,
                None => anyhow::bail!("--device={name}: expected cpu, cuda or cuda:N"),
            };
            tcgan_ops_cuda::cuda(ordinal).map_err(|e| anyhow::anyhow!("--device={name}: {e}"))
        }
    }
}

/// Peak GPU memory in bytes since the last reset, 0 on the CPU.
pub fn peak_gpu_bytes(device: &Device) -> u64 {
    #[cfg(any(feature = "cuda", feature = "cuda13"))]
    {
        let name = device.name();
        if let Some(ord) = name.strip_prefix("cuda:").and_then(|n| n.parse().ok()) {
            return tcgan_ops_cuda::memory_stats(ord).map_or(0, |s| s.peak_in_use as u64);
        }
    }
    let _ = device;
    0
}

/// Resets the peak counter of `peak_gpu_bytes`.
pub fn reset_peak_gpu(device: &Device) {
    #[cfg(any(feature = "cuda", feature = "cuda13"))]
    {
        if let Some(ord) = device
            .name()
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
        {
            tcgan_ops_cuda::reset_peak_memory_stats(ord);
        }
    }
    let _ = device;
}

/// The resident memory of this process in bytes (Linux; 0 elsewhere).
pub fn rss_bytes() -> u64 {
    read_status_kb("VmRSS:") * 1024
}

/// The peak resident memory of this process in bytes (Linux; 0 elsewhere).
pub fn peak_rss_bytes() -> u64 {
    read_status_kb("VmHWM:") * 1024
}

fn read_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
