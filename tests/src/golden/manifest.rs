//! The parts of `manifest.json` the runner relies on; handlers read the rest
//! (`call`, `kwargs`, `ctor_kwargs`, ...) from `Case::raw`.

use super::Tolerance;
use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct TensorSpec {
    pub role: String,
    pub shape: Vec<usize>,
    pub dtype: String,
    pub tol: Option<Tolerance>,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub group: String,
    pub file: String,
    pub tensors: BTreeMap<String, TensorSpec>,
    /// For cases whose gradients live in another file.
    pub grads_file: Option<String>,
    pub grads: BTreeMap<String, Tolerance>,
    /// The whole case entry, for handler-specific fields.
    pub raw: Value,
}

pub struct Manifest {
    pub cases: Vec<Case>,
    pub raw: Value,
}

fn tolerance(v: &Value) -> Option<Tolerance> {
    let max_abs = v.get("max_abs")?.as_f64()?;
    Some(Tolerance {
        max_abs,
        rel_l2: v.get("rel_l2").and_then(Value::as_f64),
    })
}

impl Manifest {
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let raw: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let cases = raw
            .get("cases")
            .and_then(Value::as_array)
            .with_context(|| format!("{}: no \"cases\" array", path.display()))?
            .iter()
            .enumerate()
            .map(|(i, c)| Case::parse(c).with_context(|| format!("{}: case #{i}", path.display())))
            .collect::<Result<Vec<_>>>()?;
        Ok(Manifest { cases, raw })
    }
}

impl Case {
    fn parse(c: &Value) -> Result<Case> {
        let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        let id = s("id").context("missing \"id\"")?;
        let group =
            s("group").unwrap_or_else(|| id.split('.').next().unwrap_or_default().to_string());
        let mut tensors = BTreeMap::new();
        if let Some(map) = c.get("tensors").and_then(Value::as_object) {
            for (name, t) in map {
                let shape = t
                    .get("shape")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_u64)
                            .map(|d| d as usize)
                            .collect()
                    })
                    .unwrap_or_default();
                tensors.insert(
                    name.clone(),
                    TensorSpec {
                        role: t
                            .get("role")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        shape,
                        dtype: t
                            .get("dtype")
                            .and_then(Value::as_str)
                            .unwrap_or("float32")
                            .to_string(),
                        tol: t.get("tol").and_then(tolerance),
                    },
                );
            }
        }
        let mut grads = BTreeMap::new();
        if let Some(map) = c.get("grads").and_then(Value::as_object) {
            for (key, g) in map {
                let tol = g
                    .get("tol")
                    .and_then(tolerance)
                    .with_context(|| format!("gradient {key:?} has no tolerance"))?;
                grads.insert(key.clone(), tol);
            }
        }
        Ok(Case {
            id,
            group,
            file: s("file").unwrap_or_default(),
            tensors,
            grads_file: s("grads_file"),
            grads,
            raw: c.clone(),
        })
    }
}
