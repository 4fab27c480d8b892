//! Networks: initialisation statistics (equalized learning rate: weights are
//! stored N(0, 1) and scaled at run time), the official layout of the state,
//! shape and state errors, and checkpoint save -> load -> identical outputs.

use std::collections::HashMap;
use std::path::PathBuf;
use tcgan_core::{no_grad, DType, Generator as Rng, Tensor};
use tcgan_nn::checkpoint::{self, Checkpoint, CheckpointWriter};
use tcgan_nn::networks::{
    Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs, GeneratorOptions, NoiseMode,
};
use tcgan_nn::{Error, Init, Module, TensorKind};
use tcgan_ops_cpu::cpu;

fn g_kwargs(c_dim: usize) -> GeneratorKwargs {
    serde_json::from_value(serde_json::json!({
        "z_dim": 32, "w_dim": 32, "c_dim": c_dim, "img_resolution": 16, "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "synthesis_kwargs": {"channel_base": 256, "channel_max": 32, "conv_clamp": 256}
    }))
    .unwrap()
}

fn d_kwargs(c_dim: usize) -> DiscriminatorKwargs {
    serde_json::from_value(serde_json::json!({
        "c_dim": c_dim, "img_resolution": 16, "img_channels": 3,
        "channel_base": 256, "channel_max": 32, "mapping_kwargs": {"num_layers": 2}
    }))
    .unwrap()
}

fn build(seed: u64) -> (Generator, Discriminator) {
    let mut rng = Rng::new(seed);
    let mut init = Init::new(&mut rng, &cpu(), DType::F32);
    let g = Generator::new(&mut init, &g_kwargs(4)).unwrap();
    let d = Discriminator::new(&mut init, &d_kwargs(4)).unwrap();
    (g, d)
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec_f64().unwrap()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var.sqrt())
}

fn tensor_by_key(m: &dyn Module, key: &str) -> Tensor {
    m.named_tensors()
        .into_iter()
        .find(|t| t.key == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .tensor
}

#[test]
fn weights_are_stored_standard_normal_and_biases_as_official() {
    let (g, d) = build(1);
    // Conv weights of all synthesis layers together: N(0, 1).
    let mut conv = Vec::new();
    let mut mapping_fc = Vec::new();
    for t in g.named_tensors().into_iter().chain(d.named_tensors()) {
        let v = values(&t.tensor);
        let k = t.key.as_str();
        if k.ends_with(".weight") && t.tensor.rank() == 4 {
            conv.extend(v);
        } else if k.starts_with("mapping.fc") && k.ends_with(".weight") {
            mapping_fc.extend(v);
        } else if k.ends_with("affine.bias") {
            assert!(v.iter().all(|&x| x == 1.0), "{k}: affine bias_init is 1");
        } else if k.ends_with(".bias")
            || k.ends_with("noise_strength")
            || k.ends_with("w_avg")
            || k.ends_with("transition")
        {
            assert!(v.iter().all(|&x| x == 0.0), "{k} starts at 0");
        }
    }
    // Bounds of 5 standard errors: the mean's is std / sqrt(n), the std's about
    // std / sqrt(2 n).
    let check = |v: &[f64], want_std: f64, what: &str| {
        let (m, s) = mean_std(v);
        let n = v.len() as f64;
        assert!(
            m.abs() < 5.0 * want_std / n.sqrt()
                && (s - want_std).abs() < 5.0 * want_std / (2.0 * n).sqrt(),
            "{what}: mean {m}, std {s} over {n} values"
        );
    };
    check(&conv, 1.0, "conv weights");
    // Mapping layers have lr_multiplier 0.01: stored N(0, 1) / 0.01.
    check(&mapping_fc, 100.0, "mapping weights");
    // The filter buffer is setup_filter([1, 3, 3, 1]).
    let f = values(&tensor_by_key(&g, "synthesis.b8.resample_filter"));
    assert_eq!(f[0] * 64.0, 1.0);
    assert_eq!(f[5] * 64.0, 9.0);
    // Parameters require grad, buffers never do.
    for t in g.named_tensors() {
        assert_eq!(
            t.tensor.requires_grad(),
            t.kind == TensorKind::Parameter,
            "{}",
            t.key
        );
    }
}

#[test]
fn equalized_learning_rate_scales_at_run_time() {
    let (g, d) = build(2);
    let fc = &g.mapping.fcs[1];
    let x = Rng::new(3).normal([5, 32], DType::F32, &cpu()).unwrap();
    fc.bias
        .as_ref()
        .unwrap()
        .set_data(&Rng::new(4).normal([32], DType::F32, &cpu()).unwrap())
        .unwrap();
    let y = values(&no_grad(|| fc.forward(&x)).unwrap());
    let (w, b, xv) = (
        values(&fc.weight),
        values(fc.bias.as_ref().unwrap()),
        values(&x),
    );
    let gain = 0.01 / (32f64).sqrt();
    for n in 0..5 {
        for o in 0..32 {
            let mut acc = b[o] * 0.01;
            for i in 0..32 {
                acc += xv[n * 32 + i] * w[o * 32 + i] * gain;
            }
            let want = if acc > 0.0 { acc } else { 0.2 * acc } * 2f64.sqrt();
            let got = y[n * 32 + o];
            assert!(
                (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                "fc [{n},{o}]: {got} vs {want}"
            );
        }
    }
    // Conv2dLayer: conv with weight / sqrt(in * k * k), then lrelu * sqrt(2).
    let conv = &d.blocks[0].conv0;
    let c = conv.weight.dim(1);
    let x = Rng::new(5)
        .normal([1, c, 4, 4], DType::F32, &cpu())
        .unwrap();
    let y = values(&no_grad(|| conv.forward(&x, 1.0)).unwrap());
    let manual = no_grad(|| {
        x.conv2d(
            &conv.weight.mul_scalar(1.0 / ((c * 9) as f64).sqrt())?,
            1,
            1,
            1,
        )?
        .leaky_relu(0.2)?
        .mul_scalar(2f64.sqrt())
    })
    .unwrap();
    for (a, b) in y.iter().zip(values(&manual)) {
        assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn state_keys_follow_the_official_layout() {
    let (g, d) = build(3);
    let keys: Vec<String> = g.named_tensors().into_iter().map(|t| t.key).collect();
    assert_eq!(keys[0], "synthesis.b4.const");
    assert_eq!(keys[1], "synthesis.b4.resample_filter");
    assert!(keys.contains(&"synthesis.b16.conv0.noise_const".to_string()));
    assert_eq!(
        keys.iter()
            .filter(|k| k.starts_with("mapping."))
            .take(4)
            .collect::<Vec<_>>(),
        [
            "mapping.transition",
            "mapping.w_avg",
            "mapping.embed.weight",
            "mapping.embed.bias"
        ]
    );
    let dkeys: Vec<String> = d.named_tensors().into_iter().map(|t| t.key).collect();
    assert_eq!(dkeys[0], "transition");
    assert_eq!(dkeys.last().unwrap(), "b4.out_c.bias");
    assert!(dkeys.contains(&"b16.fromrgb.weight".to_string()));
    assert!(dkeys.contains(&"b8.skip.weight".to_string()));
    assert_eq!(g.num_ws(), 6);
}

#[test]
fn bad_shapes_are_errors_that_say_what() {
    let (g, d) = build(4);
    let mut rng = Rng::new(5);
    let opts = GeneratorOptions {
        noise_mode: NoiseMode::Const,
        ..GeneratorOptions::default()
    };
    let z = rng.normal([2, 31], DType::F32, &cpu()).unwrap();
    let c = rng.normal([2, 4], DType::F32, &cpu()).unwrap();
    let e = g.forward(&z, Some(&c), &opts, &mut rng).unwrap_err();
    assert!(
        matches!(&e, Error::Shape { what, .. } if what.contains("MappingNetwork z")),
        "{e}"
    );
    let z = rng.normal([2, 32], DType::F32, &cpu()).unwrap();
    let e = g.forward(&z, None, &opts, &mut rng).unwrap_err();
    assert!(e.to_string().contains("c is required"), "{e}");
    let bad_c = rng.normal([3, 4], DType::F32, &cpu()).unwrap();
    assert!(matches!(
        g.forward(&z, Some(&bad_c), &opts, &mut rng),
        Err(Error::Shape { .. })
    ));

    let img = rng.normal([2, 3, 8, 8], DType::F32, &cpu()).unwrap();
    let e = d.forward(&img, Some(&c)).unwrap_err();
    assert!(
        matches!(&e, Error::Shape { what, .. } if what.contains("Discriminator img")),
        "{e}"
    );
    // Minibatch stddev groups of 4 need a batch that is a multiple of 4.
    let img = rng.normal([6, 3, 16, 16], DType::F32, &cpu()).unwrap();
    let c6 = rng.normal([6, 4], DType::F32, &cpu()).unwrap();
    let e = d.forward(&img, Some(&c6)).unwrap_err();
    assert!(e.to_string().contains("multiple of the group size"), "{e}");
    // A batch of 2 (< group size) forms one group, as officially.
    let img = rng.normal([2, 3, 16, 16], DType::F32, &cpu()).unwrap();
    assert_eq!(d.forward(&img, Some(&c)).unwrap().dims(), [2, 2]);

    // The z_dim == layer_features requirement of the authors' code.
    let mut kw = g_kwargs(4);
    kw.z_dim = 16;
    let mut rng2 = Rng::new(0);
    let e = Generator::new(&mut Init::new(&mut rng2, &cpu(), DType::F32), &kw).unwrap_err();
    assert!(e.to_string().contains("z_dim"), "{e}");
}

#[test]
fn loading_a_state_checks_every_key_and_shape() {
    let (g, _) = build(5);
    let mut state: HashMap<String, Tensor> = g
        .named_tensors()
        .into_iter()
        .map(|t| (t.key, t.tensor))
        .collect();
    g.load_state(&state).unwrap();
    let w = state.remove("synthesis.b8.conv1.weight").unwrap();
    let e = g.load_state(&state).unwrap_err();
    assert!(
        matches!(&e, Error::StateDict { key, .. } if key == "synthesis.b8.conv1.weight"),
        "{e}"
    );
    state.insert(
        "synthesis.b8.conv1.weight".into(),
        w.reshape([w.numel()]).unwrap(),
    );
    let e = g.load_state(&state).unwrap_err();
    assert!(e.to_string().contains("shape"), "{e}");
    state.insert("synthesis.b8.conv1.weight".into(), w);
    state.insert(
        "synthesis.b8.conv2.weight".into(),
        Tensor::zeros([1], DType::F32, &cpu()).unwrap(),
    );
    let e = g.load_state(&state).unwrap_err();
    assert!(
        matches!(&e, Error::StateDict { key, .. } if key == "synthesis.b8.conv2.weight"),
        "{e}"
    );
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcgan-nn-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Moves every value away from its initial constant so that a missed tensor shows.
fn perturb(m: &dyn Module, seed: u64) {
    let mut rng = Rng::new(seed);
    for t in m.named_tensors() {
        let noise = rng
            .normal(t.tensor.dims().to_vec(), DType::F32, &cpu())
            .unwrap();
        t.tensor
            .set_data(
                &t.tensor
                    .detach()
                    .add(&noise.mul_scalar(0.1).unwrap())
                    .unwrap(),
            )
            .unwrap();
    }
}

#[test]
fn checkpoint_round_trip_gives_identical_outputs() {
    let (g, d) = build(6);
    perturb(&g, 7);
    perturb(&d, 8);
    let path = temp_path("roundtrip.safetensors");
    let mut w = CheckpointWriter::new();
    w.add_network("G", &g).unwrap();
    w.add_network("D", &d).unwrap();
    w.add_network("G_ema", &g).unwrap();
    w.set_metadata("training_state", "{\"cur_nimg\": 1000}")
        .unwrap();
    w.write(&path).unwrap();

    let ck = Checkpoint::read(&path).unwrap();
    assert_eq!(ck.networks(), ["D", "G", "G_ema"]);
    assert_eq!(ck.metadata("training_state"), Some("{\"cur_nimg\": 1000}"));
    let g2 = ck.generator("G_ema", &cpu(), DType::F32).unwrap();
    let d2 = ck.discriminator("D", &cpu(), DType::F32).unwrap();
    assert_eq!(g2.kwargs, g.kwargs);

    let mut rng = Rng::new(9);
    let z = rng.normal([4, 32], DType::F32, &cpu()).unwrap();
    let c = rng.normal([4, 4], DType::F32, &cpu()).unwrap();
    let opts = GeneratorOptions {
        noise_mode: NoiseMode::Const,
        truncation_psi: 0.8,
        ..GeneratorOptions::default()
    };
    no_grad(|| {
        let a = g.forward(&z, Some(&c), &opts, &mut rng).unwrap();
        let b = g2.forward(&z, Some(&c), &opts, &mut rng).unwrap();
        assert_eq!(values(&a), values(&b));
        assert_eq!(
            values(&d.forward(&a, Some(&c)).unwrap()),
            values(&d2.forward(&a, Some(&c)).unwrap())
        );
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_checkpoint_stored_in_f16_loads_into_f32_networks() {
    let mut rng = Rng::new(11);
    let g16 = Generator::new(&mut Init::new(&mut rng, &cpu(), DType::F16), &g_kwargs(4)).unwrap();
    let path = temp_path("half.safetensors");
    checkpoint::save(&path, &[("G", &g16)]).unwrap();
    let g = Checkpoint::read(&path)
        .unwrap()
        .generator("G", &cpu(), DType::F32)
        .unwrap();
    let stored = g16.named_tensors();
    let loaded = g.named_tensors();
    assert_eq!(stored.len(), loaded.len());
    for (a, b) in stored.iter().zip(&loaded) {
        assert_eq!(a.key, b.key);
        assert_eq!(
            (a.tensor.dtype(), b.tensor.dtype()),
            (DType::F16, DType::F32)
        );
        assert_eq!(values(&a.tensor), values(&b.tensor), "{}", a.key);
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn checkpoint_errors_name_the_file_and_the_key() {
    let (g, d) = build(10);
    let path = temp_path("errors.safetensors");
    checkpoint::save(&path, &[("G", &g), ("D", &d)]).unwrap();
    let ck = Checkpoint::read(&path).unwrap();
    let e = ck.generator("D", &cpu(), DType::F32).unwrap_err();
    assert!(e.to_string().contains("is a Discriminator"), "{e}");
    assert!(ck.generator("G_ema", &cpu(), DType::F32).is_err());

    // A network of another size: the first mismatching key is named.
    let mut rng = Rng::new(0);
    let mut kw = g_kwargs(4);
    kw.synthesis_kwargs.channel_max = 16;
    let small = Generator::new(&mut Init::new(&mut rng, &cpu(), DType::F32), &kw).unwrap();
    let e = ck.load_into("G", &small, &cpu()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("errors.safetensors")
            && msg.contains("G.synthesis.b4.const")
            && msg.contains("shape"),
        "{msg}"
    );

    // Truncated and garbage files.
    let bytes = std::fs::read(&path).unwrap();
    let cut = temp_path("truncated.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = Checkpoint::read(&cut).unwrap_err();
    assert!(e.to_string().contains("truncated.safetensors"), "{e}");
    std::fs::write(&cut, b"not a checkpoint").unwrap();
    assert!(matches!(
        Checkpoint::read(&cut),
        Err(Error::Checkpoint { .. })
    ));
    std::fs::remove_file(&cut).unwrap();
    std::fs::remove_file(&path).unwrap();
}
