//! NCCL across the visible GPUs (one thread per GPU) against the in-process
//! collective on the CPU: same sums, broadcast from the last rank. A custom
//! harness: with fewer than two GPUs the check is reported as skipped.

use std::process::ExitCode;
use std::thread;
use tcgan_core::{Collective, InProcessGroup, Tensor};
use tcgan_ops_cpu::cpu;

fn values(rank: usize) -> Vec<f32> {
    (0..1000)
        .map(|i| ((i * 7 + rank * 13) % 101) as f32 * 0.25 - 12.0)
        .collect()
}

fn run<C: Collective + 'static>(ranks: Vec<C>, on_gpu: bool) -> Vec<(Vec<f32>, Vec<f32>)> {
    let world = ranks.len();
    let handles: Vec<_> = ranks
        .into_iter()
        .enumerate()
        .map(|(rank, c)| {
            thread::spawn(move || {
                let device = if on_gpu {
                    tcgan_ops_cuda::cuda(rank).unwrap()
                } else {
                    cpu()
                };
                let t = Tensor::from_vec(values(rank), vec![10, 100], &device).unwrap();
                let sum = c.all_reduce_sum(std::slice::from_ref(&t)).unwrap();
                let b = c.broadcast(&[t], world - 1).unwrap();
                (sum[0].to_vec_f32().unwrap(), b[0].to_vec_f32().unwrap())
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn main() -> ExitCode {
    let n = tcgan_ops_cuda::device_count();
    if n < 2 {
        println!("multi_gpu: skipped: {n} GPU(s) visible, NCCL needs at least 2");
        println!("0 passed, 0 failed, 1 skipped");
        return ExitCode::SUCCESS;
    }
    let ordinals: Vec<usize> = (0..n).collect();
    let ranks = match tcgan_ops_cuda::nccl_group(&ordinals) {
        Ok(r) => r,
        Err(e) => {
            println!("multi_gpu: NCCL could not start: {e}");
            println!("0 passed, 1 failed, 0 skipped");
            return ExitCode::FAILURE;
        }
    };
    let gpu = run(ranks, true);
    let reference = run(InProcessGroup::ranks(n), false);
    // Integers times 0.25 sum exactly in any order: results must be equal.
    let ok = gpu == reference;
    println!(
        "nccl all_reduce_sum + broadcast over {n} GPUs: {}",
        if ok { "ok" } else { "FAILED" }
    );
    println!("{} passed, {} failed, 0 skipped", ok as u32, !ok as u32);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
