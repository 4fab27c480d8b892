use std::time::Instant;
use tcgan_core::{no_grad, DType, Generator, Tensor};
use tcgan_nn::inception::{default_weights_path, InceptionV3};
use tcgan_ops_cpu::cpu;

fn cpu_time() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (
        f[11].parse::<f64>().unwrap() / 100.0,
        f[12].parse::<f64>().unwrap() / 100.0,
    )
}

fn main() {
    let model = InceptionV3::load(&default_weights_path(), &cpu()).unwrap();
    let mut g = Generator::new(1);
    let n = 32;
    let x = g.normal([n, 3, 299, 299], DType::F32, &cpu()).unwrap();
    let chunks: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    for &chunk in &chunks {
        for _ in 0..2 {
            let (t0, (u0, s0)) = (Instant::now(), cpu_time());
            let parts: Vec<Tensor> = x
                .split(chunk, 0)
                .unwrap()
                .iter()
                .map(|p| no_grad(|| model.forward_scaled(p)).unwrap())
                .collect();
            std::hint::black_box(parts);
            let (u1, s1) = cpu_time();
            println!(
                "chunk {chunk:2}: wall {:.2}s user {:.2}s sys {:.2}s -> {:.2} img/cpu-s",
                t0.elapsed().as_secs_f64(),
                u1 - u0,
                s1 - s0,
                n as f64 / (u1 - u0 + s1 - s0)
            );
        }
    }
}
