//! The architectures the golden set does not cover (G: orig, resnet; D: orig,
//! skip; other minibatch-stddev settings, Freeze-D): on tiny networks in f64,
//! gradients of the parameters and the R1 / path-length double backward agree
//! with finite differences, and fused and non-fused modconv give one image.

use tcgan_core::{grad, DType, Generator as Rng, Tensor};
use tcgan_nn::networks::{
    Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs, GeneratorOptions, NoiseMode,
};
use tcgan_nn::{Init, Module, TensorKind};
use tcgan_ops_cpu::cpu;

/// Central differences with this step; the drawn values keep every leaky-relu
/// input further than that from its kink (a crossing would show as a
/// mismatch of one element, not as a wrong rule).
const EPS: f64 = 1e-6;

fn g_kwargs(arch: &str) -> GeneratorKwargs {
    serde_json::from_value(serde_json::json!({
        "z_dim": 8, "w_dim": 8, "c_dim": 3, "img_resolution": 8, "img_channels": 2,
        "mapping_kwargs": {"num_layers": 2},
        "synthesis_kwargs": {"channel_base": 32, "channel_max": 6, "architecture": arch, "conv_clamp": null}
    }))
    .unwrap()
}

fn d_kwargs(arch: &str, epilogue: serde_json::Value, freeze: usize) -> DiscriminatorKwargs {
    serde_json::from_value(serde_json::json!({
        "c_dim": 3, "img_resolution": 16, "img_channels": 2, "architecture": arch,
        "channel_base": 64, "channel_max": 6, "conv_clamp": 2,
        "mapping_kwargs": {"num_layers": 2}, "block_kwargs": {"freeze_layers": freeze},
        "epilogue_kwargs": epilogue
    }))
    .unwrap()
}

/// Moves every value off its initial constant (zero biases would hide terms).
fn perturb(m: &dyn Module, seed: u64) {
    let mut rng = Rng::new(seed);
    for t in m.named_tensors() {
        if t.key.ends_with("resample_filter") {
            continue;
        }
        let noise = rng
            .normal(t.tensor.dims().to_vec(), DType::F64, &cpu())
            .unwrap();
        let v = t
            .tensor
            .detach()
            .add(&noise.mul_scalar(0.3).unwrap())
            .unwrap();
        t.tensor.set_data(&v).unwrap();
    }
}

fn value_at(t: &Tensor, i: usize) -> f64 {
    t.to_vec_f64().unwrap()[i]
}

fn nudge(t: &Tensor, i: usize, delta: f64) {
    let mut v = t.to_vec_f64().unwrap();
    v[i] += delta;
    t.set_data(&Tensor::from_vec(v, t.dims().to_vec(), &cpu()).unwrap())
        .unwrap();
}

/// Compares d loss / d p with central differences for a few elements of every
/// parameter of `m`.
fn check_gradients(what: &str, m: &dyn Module, loss: &dyn Fn() -> Tensor) {
    let params: Vec<_> = m
        .named_tensors()
        .into_iter()
        .filter(|t| t.kind == TensorKind::Parameter)
        .collect();
    let l = loss();
    let refs: Vec<&Tensor> = params.iter().map(|p| &p.tensor).collect();
    let grads = grad(&[&l], &[], &refs, false).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (p, g) in params.iter().zip(&grads) {
        let n = p.tensor.numel();
        for i in [0, n / 2, n - 1] {
            nudge(&p.tensor, i, EPS);
            let lp = loss().to_scalar().unwrap();
            nudge(&p.tensor, i, -2.0 * EPS);
            let lm = loss().to_scalar().unwrap();
            nudge(&p.tensor, i, EPS);
            let numeric = (lp - lm) / (2.0 * EPS);
            let analytic = value_at(g, i);
            let tol = 1e-6 + 1e-5 * numeric.abs().max(analytic.abs());
            if (numeric - analytic).abs() > tol {
                failures.push(format!(
                    "{what}: d/d {}[{i}]: analytic {analytic:.9e}, numeric {numeric:.9e}",
                    p.key
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 10, "{what}: only {checked} elements checked");
}

fn inputs(seed: u64, n: usize, res: usize) -> (Tensor, Tensor, Tensor) {
    let mut rng = Rng::new(seed);
    let z = rng.normal([n, 8], DType::F64, &cpu()).unwrap();
    let c = rng.normal([n, 3], DType::F64, &cpu()).unwrap();
    let img = rng.normal([n, 2, res, res], DType::F64, &cpu()).unwrap();
    (z, c, img)
}

#[test]
fn generator_architectures_have_correct_gradients_and_one_modconv() {
    for arch in ["orig", "skip", "resnet"] {
        let mut rng = Rng::new(1);
        let g = Generator::new(
            &mut Init::new(&mut rng, &cpu(), DType::F64),
            &g_kwargs(arch),
        )
        .unwrap();
        perturb(&g, 12);
        g.mapping.set_transition(0.6).unwrap();
        let keys: Vec<String> = g.named_tensors().into_iter().map(|t| t.key).collect();
        assert_eq!(
            keys.iter().any(|k| k == "synthesis.b8.skip.weight"),
            arch == "resnet",
            "{arch}"
        );
        assert_eq!(
            keys.iter().any(|k| k == "synthesis.b4.torgb.weight"),
            arch == "skip",
            "{arch}"
        );
        let (z, c, _) = inputs(3, 3, 8);
        let r = Rng::new(4)
            .normal([3, 2, 8, 8], DType::F64, &cpu())
            .unwrap();
        let img = |fused: bool| {
            let opts = GeneratorOptions {
                noise_mode: NoiseMode::Const,
                fused_modconv: Some(fused),
                truncation_psi: 0.9,
                ..GeneratorOptions::default()
            };
            g.forward(&z, Some(&c), &opts, &mut Rng::new(0)).unwrap()
        };
        let (a, b) = (
            img(true).to_vec_f64().unwrap(),
            img(false).to_vec_f64().unwrap(),
        );
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() < 1e-10 * (1.0 + y.abs()),
                "{arch}: fused {x} vs non-fused {y}"
            );
        }
        for fused in [false, true] {
            check_gradients(&format!("G {arch} fused={fused}"), &g, &|| {
                img(fused).mul(&r).unwrap().sum_all().unwrap()
            });
        }
    }
}

#[test]
fn discriminator_architectures_have_correct_gradients_and_r1() {
    let cases = [
        ("orig", serde_json::json!({}), 0),
        (
            "skip",
            serde_json::json!({"mbstd_group_size": null, "mbstd_num_channels": 2}),
            0,
        ),
        ("resnet", serde_json::json!({"mbstd_group_size": 2}), 2),
    ];
    for (arch, epilogue, freeze) in cases {
        let mut rng = Rng::new(5);
        let d = Discriminator::new(
            &mut Init::new(&mut rng, &cpu(), DType::F64),
            &d_kwargs(arch, epilogue, freeze),
        )
        .unwrap();
        perturb(&d, 6);
        let keys: Vec<_> = d.named_tensors();
        let frozen: Vec<&str> = keys
            .iter()
            .filter(|t| t.kind == TensorKind::Buffer && t.key.ends_with("weight"))
            .map(|t| t.key.as_str())
            .collect();
        let want: &[&str] = if freeze == 2 {
            &["b16.fromrgb.weight", "b16.conv0.weight"]
        } else {
            &[]
        };
        assert_eq!(frozen, want, "{arch}: frozen layers");
        assert_eq!(
            keys.iter().any(|t| t.key == "b8.fromrgb.weight"),
            arch == "skip",
            "{arch}: fromrgb in later blocks"
        );
        let (_, c, img) = inputs(7, 4, 16);
        let r = Tensor::from_vec(vec![0.7, -1.3], [1, 2], &cpu()).unwrap();
        check_gradients(&format!("D {arch}"), &d, &|| {
            d.forward(&img, Some(&c))
                .unwrap()
                .mul(&r)
                .unwrap()
                .sum_all()
                .unwrap()
        });
        // R1: the penalty's own gradient (double backward) against differences.
        let r1 = || {
            let x = img.detach().requires_grad_(true).unwrap();
            let logits = d.forward(&x, Some(&c)).unwrap();
            let out = logits.narrow(1, 0, 1).unwrap().sum_all().unwrap();
            let g = grad(&[&out], &[], &[&x], true).unwrap().remove(0);
            g.square().unwrap().sum_all().unwrap()
        };
        check_gradients(&format!("D {arch} R1"), &d, &r1);
    }
}

#[test]
fn path_length_double_backward_matches_differences() {
    let mut rng = Rng::new(8);
    let g = Generator::new(
        &mut Init::new(&mut rng, &cpu(), DType::F64),
        &g_kwargs("skip"),
    )
    .unwrap();
    perturb(&g, 9);
    g.mapping.set_transition(0.3).unwrap();
    g.set_training(true);
    let (z, c, _) = inputs(10, 2, 8);
    let noise = Rng::new(11)
        .normal([2, 2, 8, 8], DType::F64, &cpu())
        .unwrap();
    let pl = || {
        let ws = g
            .mapping
            .forward(Some(&z), Some(&c), 1.0, None, true)
            .unwrap();
        let img = g
            .synthesis
            .forward(
                &ws,
                &tcgan_nn::networks::SynthesisOptions {
                    noise_mode: NoiseMode::Const,
                    fused_modconv: Some(false),
                },
                &mut Rng::new(0),
            )
            .unwrap();
        let out = img.mul(&noise).unwrap().sum_all().unwrap();
        let gw = grad(&[&out], &[], &[&ws], true).unwrap().remove(0);
        gw.square()
            .unwrap()
            .sum(&[2])
            .unwrap()
            .mean(&[1])
            .unwrap()
            .sqrt()
            .unwrap()
            .sum_all()
            .unwrap()
    };
    check_gradients("G path length", &g, &pl);
}
