//! Our networks list their parameters and buffers exactly as the official
//! `state_dict`: same keys, same order, same kinds and shapes, for every
//! network described in the golden manifest (networks and loss groups).

use serde_json::Value;
use std::path::PathBuf;
use tcgan_core::{DType, Generator as Rng};
use tcgan_nn::networks::{Discriminator, Generator, MappingNetwork};
use tcgan_nn::{Init, Module, TensorKind};
use tcgan_ops_cpu::cpu;

fn golden_dir() -> PathBuf {
    let dir = std::env::var_os("TCGAN_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden"));
    assert!(
        dir.join("manifest.json").is_file(),
        "golden folder not found at {} (set TCGAN_GOLDEN_DIR)",
        dir.display()
    );
    dir
}

fn layout(m: &dyn Module) -> Vec<(String, &'static str, Vec<usize>)> {
    m.named_tensors()
        .into_iter()
        .map(|t| {
            let kind = match t.kind {
                TensorKind::Parameter => "parameter",
                TensorKind::Buffer => "buffer",
            };
            (t.key, kind, t.tensor.dims().to_vec())
        })
        .collect()
}

fn official(entry: &Value) -> Vec<(String, &'static str, Vec<usize>)> {
    let prefix = entry["key_prefix"].as_str().unwrap_or("");
    entry["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let key = t["key"].as_str().unwrap();
            let kind = if t["kind"] == "parameter" {
                "parameter"
            } else {
                "buffer"
            };
            let shape = t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            (key.strip_prefix(prefix).unwrap().to_string(), kind, shape)
        })
        .collect()
}

fn build(class: &str, kwargs: &Value) -> Box<dyn Module> {
    let mut rng = Rng::new(0);
    let mut init = Init::new(&mut rng, &cpu(), DType::F32);
    match class {
        "Generator" => Box::new(
            Generator::new(&mut init, &serde_json::from_value(kwargs.clone()).unwrap()).unwrap(),
        ),
        "Discriminator" => Box::new(
            Discriminator::new(&mut init, &serde_json::from_value(kwargs.clone()).unwrap())
                .unwrap(),
        ),
        "MappingNetwork" => Box::new(
            MappingNetwork::new(&mut init, &serde_json::from_value(kwargs.clone()).unwrap())
                .unwrap(),
        ),
        other => panic!("unknown class {other}"),
    }
}

#[test]
fn every_golden_network_has_the_official_state_dict_layout() {
    let dir = golden_dir();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let Some(params) = case.get("params").and_then(Value::as_array) else {
            continue;
        };
        let mut nets: Vec<Box<dyn Module>> = Vec::new();
        if let Some(kw) = case.get("ctor_kwargs") {
            let class = case["official"]
                .as_str()
                .unwrap()
                .rsplit("::")
                .next()
                .unwrap();
            nets.push(build(class, kw));
        } else if let (Some(g), Some(d)) = (case.get("G_ctor_kwargs"), case.get("D_ctor_kwargs")) {
            nets.push(build("Generator", g));
            nets.push(build("Discriminator", d));
        } else {
            continue;
        }
        for entry in params {
            let want = official(entry);
            let got = nets
                .iter()
                .map(|n| layout(n.as_ref()))
                .find(|l| l.first().map(|t| &t.0) == want.first().map(|t| &t.0))
                .unwrap_or_else(|| panic!("{id}: no network starts with {:?}", want.first()));
            assert_eq!(got, want, "{id}: {}", entry["file"]);
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} parameter lists found");
}
