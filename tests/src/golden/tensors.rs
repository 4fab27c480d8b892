//! Reading safetensors case files into f64 values of any stored dtype.

use anyhow::{bail, Context, Result};
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct GoldenTensor {
    pub shape: Vec<usize>,
    /// Values converted to f64 (exact for every dtype the files use).
    pub data: Vec<f64>,
    /// The dtype as stored (`F32`, `F64`, `U8`, `I64`, ...).
    pub dtype: String,
}

impl GoldenTensor {
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Self {
        GoldenTensor {
            shape,
            data,
            dtype: "F64".into(),
        }
    }

    pub fn from_f32(shape: Vec<usize>, data: &[f32]) -> Self {
        GoldenTensor {
            shape,
            data: data.iter().map(|&v| v as f64).collect(),
            dtype: "F32".into(),
        }
    }

    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&v| v as f32).collect()
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

pub fn load_file(path: &Path) -> Result<BTreeMap<String, GoldenTensor>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is not a valid safetensors file", path.display()))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f64> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            Dtype::I64 => raw
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)
                .collect(),
            Dtype::I32 => raw
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes(b.try_into().unwrap()) as f64)
                .collect(),
            Dtype::U8 => raw.iter().map(|&b| b as f64).collect(),
            Dtype::BOOL => raw.iter().map(|&b| (b != 0) as u8 as f64).collect(),
            other => bail!(
                "{}: tensor {name:?} has unsupported dtype {other:?}",
                path.display()
            ),
        };
        out.insert(
            name.to_string(),
            GoldenTensor {
                shape: view.shape().to_vec(),
                data,
                dtype: format!("{:?}", view.dtype()),
            },
        );
    }
    Ok(out)
}
