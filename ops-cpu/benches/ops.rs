//! Speed of the kernels the training step is made of, in GFLOP/s (criterion's
//! "elem/s" with one element = one floating-point operation).
//!
//! Reference (../shared/bench/README.md, PyTorch 2.15 on the same kind of
//! 2-core CPU): matmul 512^3 1.89 ms; conv2d 3x3 128->128, batch 16, 32x32:
//! forward 50.8 ms, forward + backward (input and weight gradients) 93.0 ms.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tcgan_core::{grad, DType, Generator};
use tcgan_ops_cpu::cpu;

/// One 3x3 convolution of the benchmark shape, in FLOPs (multiply + add).
const CONV_FLOP: u64 = 2 * 16 * 128 * 128 * 9 * 32 * 32;

fn matmul(c: &mut Criterion) {
    let dev = cpu();
    let mut g = Generator::new(0);
    let a = g.normal([512, 512], DType::F32, &dev).unwrap();
    let b = g.normal([512, 512], DType::F32, &dev).unwrap();
    let mut group = c.benchmark_group("matmul");
    group.throughput(Throughput::Elements(2 * 512 * 512 * 512));
    group.bench_function("512x512x512", |bench| {
        bench.iter(|| black_box(a.matmul(&b).unwrap()))
    });
    // The layouts of weight gradients: A^T B and A B^T read in place.
    group.bench_function("512x512x512 A^T B", |bench| {
        bench.iter(|| black_box(a.matmul_t(&b, true, false).unwrap()))
    });
    group.bench_function("512x512x512 A B^T", |bench| {
        bench.iter(|| black_box(a.matmul_t(&b, false, true).unwrap()))
    });
    group.finish();
}

fn conv(c: &mut Criterion) {
    let dev = cpu();
    let mut g = Generator::new(1);
    let x = g
        .normal([16, 128, 32, 32], DType::F32, &dev)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let w = g
        .normal([128, 128, 3, 3], DType::F32, &dev)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let dy = g.normal([16, 128, 32, 32], DType::F32, &dev).unwrap();

    let mut group = c.benchmark_group("conv2d 3x3 128->128 b16 32x32");
    group.sample_size(20);
    group.throughput(Throughput::Elements(CONV_FLOP));
    group.bench_function("forward", |bench| {
        bench.iter(|| black_box(tcgan_core::no_grad(|| x.conv2d(&w, 1, 1, 1).unwrap())))
    });
    // Forward, then the input and weight gradients: 3 convolutions' worth.
    group.throughput(Throughput::Elements(3 * CONV_FLOP));
    group.bench_function("forward+backward", |bench| {
        bench.iter(|| {
            let y = x.conv2d(&w, 1, 1, 1).unwrap();
            black_box(grad(&[&y], &[Some(&dy)], &[&x, &w], false).unwrap())
        })
    });
    // R1-style: L = sum(y^2), gx = dL/dx with create_graph, then d|gx|^2/d(x, w).
    // Forward 1, first gradient 1 (convT), backward of it 5 (conv, 2 weight
    // grads, convT for x, conv for the 2y path): 7 convolutions' worth.
    group.throughput(Throughput::Elements(7 * CONV_FLOP));
    group.bench_function("double backward", |bench| {
        bench.iter(|| {
            let y = x.conv2d(&w, 1, 1, 1).unwrap();
            let l = y.square().unwrap().sum_all().unwrap();
            let gx = grad(&[&l], &[], &[&x], true).unwrap();
            let h = gx[0].square().unwrap().sum_all().unwrap();
            black_box(grad(&[&h], &[], &[&x, &w], false).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, matmul, conv);
criterion_main!(benches);
