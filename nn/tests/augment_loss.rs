//! The pipe as the loss's augmentation hook: every phase runs with it, the
//! R1 penalty is taken on augmented reals (a double backward through the
//! pipe into D's weights), and the resulting gradients differ from those
//! without augmentation.

use std::cell::RefCell;
use tcgan_core::{DType, Generator as Rng, Tensor};
use tcgan_nn::augment::AugmentPipe;
use tcgan_nn::loss::{LossKwargs, Phase, PhaseInputs, StyleGAN2Loss};
use tcgan_nn::networks::{Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs};
use tcgan_nn::{Init, Module};
use tcgan_ops_cpu::cpu;

fn nets() -> (Generator, Discriminator) {
    let gk: GeneratorKwargs = serde_json::from_str(
        r#"{"z_dim": 8, "c_dim": 0, "w_dim": 8, "img_resolution": 8, "img_channels": 3,
            "mapping_kwargs": {"num_layers": 2},
            "synthesis_kwargs": {"channel_base": 64, "channel_max": 8}}"#,
    )
    .unwrap();
    let dk: DiscriminatorKwargs = serde_json::from_str(
        r#"{"c_dim": 0, "img_resolution": 8, "img_channels": 3,
            "channel_base": 64, "channel_max": 8}"#,
    )
    .unwrap();
    let mut rng = Rng::new(0);
    let mut init = Init::new(&mut rng, &cpu(), DType::F64);
    let g = Generator::new(&mut init, &gk).unwrap();
    let d = Discriminator::new(&mut init, &dk).unwrap();
    (g, d)
}

/// D's gradients after one Dreg phase (R1), with or without the pipe.
fn dreg_grads(augment: bool) -> (Vec<Vec<f64>>, Vec<(String, Tensor)>) {
    let (g, d) = nets();
    let mut data = Rng::new(1);
    let real = data
        .uniform([4, 3, 8, 8], -1.0, 1.0, DType::F64, &cpu())
        .unwrap();
    let z = data.normal([4, 8], DType::F64, &cpu()).unwrap();
    let kwargs = LossKwargs {
        style_mixing_prob: 0.0,
        ..LossKwargs::default()
    };
    let mut loss = StyleGAN2Loss::new(kwargs, &real).unwrap();
    let mut pipe = AugmentPipe::preset("bgc", &cpu()).unwrap();
    pipe.p = 1.0;
    let aug_rng = RefCell::new(Rng::new(2));
    let hook = pipe.hook(&aug_rng);
    let inputs = PhaseInputs {
        real_img: &real,
        real_c: None,
        gen_z: &z,
        gen_c: None,
    };
    let mut noise = Rng::new(3);
    let stats = loss
        .accumulate_gradients(
            Phase::Dreg,
            &g,
            &d,
            &inputs,
            1.0,
            augment.then_some(&hook as _),
            &mut noise,
        )
        .unwrap();
    let grads = d
        .named_tensors()
        .into_iter()
        .filter_map(|t| t.tensor.grad())
        .map(|g| g.to_vec_f64().unwrap())
        .collect();
    (grads, stats)
}

#[test]
fn r1_on_augmented_reals_reaches_d_and_differs_from_plain_r1() {
    let (with, stats) = dreg_grads(true);
    let (without, _) = dreg_grads(false);
    assert!(!with.is_empty() && with.len() == without.len());
    let flat = |v: &[Vec<f64>]| v.iter().flatten().copied().collect::<Vec<f64>>();
    let (a, b) = (flat(&with), flat(&without));
    assert!(a.iter().all(|v| v.is_finite()));
    assert!(
        a.iter().any(|v| v.abs() > 0.0),
        "R1 through the pipe gives D gradients"
    );
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(
        diff > 1e-6,
        "augmented and plain R1 should differ ({diff:e})"
    );
    // The statistic ADA reads is reported by this phase.
    assert!(stats.iter().any(|(n, _)| n == "Loss/signs/real"));
}

#[test]
fn every_phase_runs_with_the_hook() {
    let (g, d) = nets();
    let mut data = Rng::new(4);
    let real = data
        .uniform([4, 3, 8, 8], -1.0, 1.0, DType::F64, &cpu())
        .unwrap();
    let z = data.normal([4, 8], DType::F64, &cpu()).unwrap();
    let mut loss = StyleGAN2Loss::new(LossKwargs::default(), &real).unwrap();
    let mut pipe = AugmentPipe::preset("bgc", &cpu()).unwrap();
    pipe.p = 0.5;
    let aug_rng = RefCell::new(Rng::new(5));
    let hook = pipe.hook(&aug_rng);
    let inputs = PhaseInputs {
        real_img: &real,
        real_c: None,
        gen_z: &z,
        gen_c: None,
    };
    let mut noise = Rng::new(6);
    for phase in [Phase::Gmain, Phase::Greg, Phase::Dmain, Phase::Dreg] {
        let before = aug_rng.borrow().state();
        loss.accumulate_gradients(phase, &g, &d, &inputs, 1.0, Some(&hook), &mut noise)
            .unwrap();
        let drew = aug_rng.borrow().state() != before;
        // Greg never shows images to D; the other phases augment them.
        assert_eq!(drew, phase != Phase::Greg, "{phase:?}");
    }
    // Gmain's gradient flowed through the pipe into G.
    let g_grads: Vec<f64> = g
        .named_tensors()
        .into_iter()
        .filter_map(|t| t.tensor.grad())
        .flat_map(|t| t.to_vec_f64().unwrap())
        .collect();
    assert!(g_grads.iter().any(|v| v.abs() > 0.0) && g_grads.iter().all(|v| v.is_finite()));
}
