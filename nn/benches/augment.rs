//! Cost of the ADA augmentation pipe per minibatch: the `bgc` preset on a
//! batch of 16 RGB images at 32x32 and 128x128, at p = 0.2 (about where ADA
//! settles on small data sets) and p = 1 (every augmentation on), forward
//! alone and forward + backward (the gradient with respect to the images, as
//! in Gmain and R1). Every iteration draws its parameters, cycling through
//! 8 generator seeds: the padding, and so the work, varies as in training,
//! but alike from run to run.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tcgan_core::{grad, no_grad, DType, Generator};
use tcgan_nn::augment::AugmentPipe;
use tcgan_ops_cpu::cpu;

/// Calls per cycle of draws.
const CYCLE: u64 = 8;

fn pipe(c: &mut Criterion) {
    let dev = cpu();
    for res in [32usize, 128] {
        let mut g = Generator::new(res as u64);
        let x = g
            .uniform([16, 3, res, res], -1.0, 1.0, DType::F32, &dev)
            .unwrap()
            .requires_grad_(true)
            .unwrap();
        let dy = g.normal([16, 3, res, res], DType::F32, &dev).unwrap();
        for p in [0.2, 1.0] {
            let mut aug = AugmentPipe::preset("bgc", &dev).unwrap();
            aug.p = p;
            let mut group = c.benchmark_group(format!("augment bgc p={p} b16 {res}x{res}"));
            group.sample_size(if res > 64 { 10 } else { 30 });
            let mut calls = 0u64;
            let mut next_rng = move || {
                calls += 1;
                Generator::new(calls % CYCLE)
            };
            group.bench_function("forward", |bench| {
                bench.iter(|| {
                    let mut rng = next_rng();
                    black_box(no_grad(|| aug.forward(&x, &mut rng, None).unwrap()))
                })
            });
            group.bench_function("forward+backward", |bench| {
                bench.iter(|| {
                    let y = aug.forward(&x, &mut next_rng(), None).unwrap();
                    let l = y.mul(&dy).unwrap().sum_all().unwrap();
                    black_box(grad(&[&l], &[], &[&x], false).unwrap())
                })
            });
            group.finish();
        }
    }
}

criterion_group!(benches, pipe);
criterion_main!(benches);
