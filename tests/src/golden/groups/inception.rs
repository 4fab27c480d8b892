//! The `inception` group: 2048-d features of default_1.pt for uint8 images of
//! several sizes, through NVIDIA's resize (weights from `$TCGAN_CACHE_DIR`,
//! fetched by scripts/fetch-inception.sh).

use crate::golden::{CaseCtx, GoldenTensor, Outputs};
use anyhow::{Context, Result};
use std::sync::OnceLock;
use tcgan_nn::inception::{default_weights_path, ImageBatch, InceptionV3};
use tcgan_ops_cpu::cpu;

fn model() -> Result<&'static InceptionV3> {
    static MODEL: OnceLock<Result<InceptionV3, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            InceptionV3::load(&default_weights_path(), &cpu()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    let model = model()?;
    let mut out = Outputs::new();
    for k in 0.. {
        let Some(img) = ctx.tensors.get(&format!("img_{k}")) else {
            break;
        };
        let shape: [usize; 4] = img
            .shape
            .clone()
            .try_into()
            .map_err(|s| anyhow::anyhow!("img_{k} is not 4-D: {s:?}"))?;
        let pixels: Vec<u8> = img.data.iter().map(|&v| v as u8).collect();
        let batch = ImageBatch::new(&pixels, shape)?;
        let resized = model.resize(&batch)?;
        out.insert(
            format!("resized_{k}"),
            GoldenTensor::from_f32(resized.dims().to_vec(), &resized.to_vec_f32()?),
        );
        let f = model
            .features(&batch)
            .with_context(|| format!("features of img_{k}"))?;
        out.insert(
            format!("features_{k}"),
            GoldenTensor::from_f32(f.dims().to_vec(), &f.to_vec_f32()?),
        );
    }
    Ok(out)
}
