//! Mixed precision (`num_fp16_res` with the switch on): the marked blocks run
//! in f16 and the rest in f32, images and logits come out in f32 and close to
//! the all-f32 networks' on the same parameters, and R1 and the generator's
//! gradients reach the f32 parameters through the f16 blocks.

use tcgan_core::{grad, DType, Generator as Rng, Tensor};
use tcgan_nn::networks::{
    Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs, GeneratorOptions, NoiseMode,
    SynthesisOptions,
};
use tcgan_nn::{Init, Module};
use tcgan_ops_cpu::cpu;

fn g_kwargs() -> GeneratorKwargs {
    serde_json::from_value(serde_json::json!({
        "z_dim": 16, "w_dim": 16, "c_dim": 3, "img_resolution": 32, "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "synthesis_kwargs": {"channel_base": 512, "channel_max": 32, "num_fp16_res": 2, "conv_clamp": 256}
    }))
    .unwrap()
}

fn generator(seed: u64) -> Generator {
    Generator::new(
        &mut Init::new(&mut Rng::new(seed), &cpu(), DType::F32),
        &g_kwargs(),
    )
    .unwrap()
}

fn d_kwargs() -> DiscriminatorKwargs {
    serde_json::from_value(serde_json::json!({
        "c_dim": 3, "img_resolution": 32, "img_channels": 3,
        "channel_base": 512, "channel_max": 32, "num_fp16_res": 2, "conv_clamp": 256,
        "mapping_kwargs": {"num_layers": 2}
    }))
    .unwrap()
}

fn inputs(n: usize) -> (Tensor, Tensor, Tensor) {
    let mut rng = Rng::new(5);
    let z = rng.normal([n, 16], DType::F32, &cpu()).unwrap();
    let c = rng.normal([n, 3], DType::F32, &cpu()).unwrap();
    let img = rng.normal([n, 3, 32, 32], DType::F32, &cpu()).unwrap();
    (z, c, img)
}

/// `|a - b|_2 / |b|_2`.
fn rel_l2(a: &Tensor, b: &Tensor) -> f64 {
    let (a, b) = (a.to_vec_f64().unwrap(), b.to_vec_f64().unwrap());
    assert_eq!(a.len(), b.len());
    let d: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    (d / n).sqrt()
}

fn opts(fused: Option<bool>) -> GeneratorOptions {
    GeneratorOptions {
        noise_mode: NoiseMode::Const,
        fused_modconv: fused,
        ..GeneratorOptions::default()
    }
}

#[test]
fn generator_runs_the_top_resolutions_in_f16_and_stays_close_to_f32() {
    let g = generator(1);
    g.mapping.set_transition(1.0).unwrap();
    let (z, c, _) = inputs(4);
    let ws = g
        .mapping
        .forward(Some(&z), Some(&c), 1.0, None, false)
        .unwrap();
    let f32_img = g
        .forward(&z, Some(&c), &opts(None), &mut Rng::new(0))
        .unwrap();

    g.set_fp16(true);
    let so = SynthesisOptions {
        noise_mode: NoiseMode::Const,
        fused_modconv: None,
    };
    let blocks = g
        .synthesis
        .forward_blocks(&ws, &so, &mut Rng::new(0))
        .unwrap();
    let dtypes: Vec<(usize, DType, DType)> = blocks
        .iter()
        .map(|(r, x, img)| (*r, x.dtype(), img.as_ref().unwrap().dtype()))
        .collect();
    // fp16_resolution(32, 2) = 16: b16 and b32 in f16, images always f32.
    assert_eq!(
        dtypes,
        [
            (4, DType::F32, DType::F32),
            (8, DType::F32, DType::F32),
            (16, DType::F16, DType::F32),
            (32, DType::F16, DType::F32),
        ]
    );
    let f16_img = g
        .forward(&z, Some(&c), &opts(None), &mut Rng::new(0))
        .unwrap();
    assert_eq!(f16_img.dtype(), DType::F32);
    // Bounds here and below: a few times what this configuration shows on
    // 2026-12-04 (image 6e-4; G gradients 1.7e-2 overall; D logits 1e-3, image
    // gradient 2.5e-2, R1 gradients 8e-3 overall). A missing cast or
    // pre-normalisation shows as inf/NaN or errors of order one.
    let err = rel_l2(&f16_img, &f32_img);
    assert!(err > 0.0 && err < 5e-3, "f16 vs f32 image: rel L2 {err}");

    let fused = g
        .forward(&z, Some(&c), &opts(Some(true)), &mut Rng::new(0))
        .unwrap();
    let err = rel_l2(&fused, &f32_img);
    assert!(err < 1e-2, "fused f16 vs f32 image: rel L2 {err}");

    // Large weights would overflow f16 products without the pre-normalisation.
    for t in g.named_tensors() {
        if t.key.starts_with("synthesis.b32.conv") && t.key.ends_with(".weight") {
            let w = t.tensor.detach().mul_scalar(3000.0).unwrap();
            t.tensor.set_data(&w).unwrap();
        }
    }
    let big16 = g
        .forward(&z, Some(&c), &opts(None), &mut Rng::new(0))
        .unwrap();
    g.set_fp16(false);
    let big32 = g
        .forward(&z, Some(&c), &opts(None), &mut Rng::new(0))
        .unwrap();
    assert!(big16.to_vec_f32().unwrap().iter().all(|v| v.is_finite()));
    let err = rel_l2(&big16, &big32);
    assert!(err < 1e-2, "scaled weights: rel L2 {err}");
}

#[test]
fn generator_gradients_reach_the_f32_parameters_through_f16_blocks() {
    let g = generator(2);
    g.set_training(true);
    let (z, c, _) = inputs(2);
    let r = Rng::new(9)
        .normal([2, 3, 32, 32], DType::F32, &cpu())
        .unwrap();
    let params: Vec<Tensor> = g.parameters();
    let refs: Vec<&Tensor> = params.iter().collect();
    let grads = |fp16: bool| {
        g.set_fp16(fp16);
        let img = g
            .forward(&z, Some(&c), &opts(None), &mut Rng::new(0))
            .unwrap();
        let loss = img.mul(&r).unwrap().sum_all().unwrap();
        grad(&[&loss], &[], &refs, false).unwrap()
    };
    let (g32, g16) = (grads(false), grads(true));
    // Scalars (noise_strength) sum many cancelling terms, each rounded in
    // f16: compared only within the whole set.
    let (mut d2, mut n2) = (0.0, 0.0);
    for ((p, a), b) in params.iter().zip(&g16).zip(&g32) {
        assert_eq!(a.dtype(), DType::F32);
        assert_eq!(a.dims(), p.dims());
        let b_norm = b.square().unwrap().sum_all().unwrap().to_vec_f64().unwrap()[0];
        if b_norm == 0.0 {
            continue;
        }
        n2 += b_norm;
        d2 += rel_l2(a, b).powi(2) * b_norm;
        if b_norm > 1e-12 && p.numel() >= 16 {
            let err = rel_l2(a, b);
            assert!(err < 1e-1, "gradient rel L2 {err}");
        }
    }
    let err = (d2 / n2).sqrt();
    assert!(err > 0.0 && err < 5e-2, "all gradients: rel L2 {err}");
}

#[test]
fn discriminator_logits_and_r1_through_f16_blocks_stay_close_to_f32() {
    let d = Discriminator::new(
        &mut Init::new(&mut Rng::new(3), &cpu(), DType::F32),
        &d_kwargs(),
    )
    .unwrap();
    d.set_transition(1.0).unwrap();
    let (_, c, img) = inputs(4);
    let params: Vec<Tensor> = d.parameters();
    let refs: Vec<&Tensor> = params.iter().collect();
    let run = |fp16: bool| {
        d.set_fp16(fp16);
        let img = img.detach().requires_grad_(true).unwrap();
        let logits = d.forward(&img, Some(&c)).unwrap();
        let g_img = grad(&[&logits.sum_all().unwrap()], &[], &[&img], true)
            .unwrap()
            .remove(0);
        let r1 = g_img.square().unwrap().sum_all().unwrap();
        let g_params = grad(&[&r1], &[], &refs, false).unwrap();
        (logits.detach(), g_img.detach(), g_params)
    };
    let (l32, i32_, p32) = run(false);
    let (l16, i16_, p16) = run(true);
    assert_eq!(l16.dtype(), DType::F32);
    assert_eq!(l16.dims(), [4, 2]);
    let err = rel_l2(&l16, &l32);
    assert!(err > 0.0 && err < 1e-2, "logits rel L2 {err}");
    assert_eq!(
        i16_.dtype(),
        DType::F32,
        "the image gradient is f32 like the image"
    );
    let err = rel_l2(&i16_, &i32_);
    assert!(err < 5e-2, "image gradient rel L2 {err}");
    // Second-order gradients through f16 rounding drift most in the layers
    // far from the image: a loose bound per tensor, a tighter one overall.
    let (mut compared, mut d2, mut n2) = (0, 0.0, 0.0);
    for (a, b) in p16.iter().zip(&p32) {
        assert_eq!(a.dtype(), DType::F32);
        let b_norm = b.square().unwrap().sum_all().unwrap().to_vec_f64().unwrap()[0];
        if b_norm > 1e-12 {
            let err = rel_l2(a, b);
            assert!(err < 0.25, "R1 parameter gradient rel L2 {err}");
            n2 += b_norm;
            d2 += err * err * b_norm;
            compared += 1;
        }
    }
    assert!(compared > 10, "only {compared} R1 gradients compared");
    let err = (d2 / n2).sqrt();
    assert!(err < 5e-2, "all R1 gradients: rel L2 {err}");
}
