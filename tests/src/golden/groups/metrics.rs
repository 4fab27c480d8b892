//! The `metrics` group: FID, KID (with the stored subset indices) and
//! precision/recall of given feature sets, as the official functions compute them.

use crate::golden::{CaseCtx, GoldenTensor, Outputs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use tcgan_nn::metrics::{fid_from_stats, kid_with_subsets, precision_recall, FeatureStats, Subset};
use tcgan_ops_cpu::cpu;

fn scalar(v: f64) -> GoldenTensor {
    GoldenTensor::new(vec![], vec![v])
}

/// `real_features` and `gen_features` as float32 rows, from the case file or
/// from the file named by `features_file`.
fn features(ctx: &CaseCtx) -> Result<(Vec<f32>, Vec<f32>, usize)> {
    let tensors = match ctx.case.raw.get("features_file").and_then(Value::as_str) {
        Some(f) => {
            let file = f.split_whitespace().next().unwrap_or(f);
            ctx.load(file)?
        }
        None => ctx.tensors.clone(),
    };
    let get = |n: &str| tensors.get(n).with_context(|| format!("no {n} tensor"));
    let (r, g) = (get("real_features")?, get("gen_features")?);
    let d = r.shape[1];
    if g.shape[1] != d {
        bail!("real and generated features differ in length");
    }
    Ok((r.to_f32(), g.to_f32(), d))
}

fn stats(x: &[f32], d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut s = FeatureStats::new(d, false, true, None);
    // The official FeatureStats sees batches of 64.
    for batch in x.chunks(64 * d) {
        s.append(batch, &cpu())?;
    }
    Ok(s.mean_cov()?)
}

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    let (real, gen, d) = features(ctx)?;
    let mut out = Outputs::new();
    let id = ctx.case.id.as_str();
    if id == "metrics.fid" {
        let (mu_r, s_r) = stats(&real, d)?;
        let (mu_g, s_g) = stats(&gen, d)?;
        let f = fid_from_stats(&mu_g, &s_g, &mu_r, &s_r)?;
        out.insert("fid".into(), scalar(f.fid));
        out.insert("fid_eig".into(), scalar(f.fid));
        out.insert("trace_sqrtm".into(), scalar(f.trace_sqrtm));
        out.insert("mu_real".into(), GoldenTensor::new(vec![d], mu_r));
        out.insert("mu_gen".into(), GoldenTensor::new(vec![d], mu_g));
        out.insert("sigma_real".into(), GoldenTensor::new(vec![d, d], s_r));
        out.insert("sigma_gen".into(), GoldenTensor::new(vec![d, d], s_g));
    } else if id.starts_with("metrics.kid") {
        let mut subsets = Vec::new();
        for k in 0.. {
            let (Some(g), Some(r)) = (
                ctx.tensors.get(&format!("idx_gen_{k}")),
                ctx.tensors.get(&format!("idx_real_{k}")),
            ) else {
                break;
            };
            let idx = |t: &GoldenTensor| t.data.iter().map(|&v| v as usize).collect();
            subsets.push(Subset {
                gen: idx(g),
                real: idx(r),
            });
        }
        let kid = kid_with_subsets(&gen, &real, d, &subsets, &cpu())?;
        out.insert("kid".into(), scalar(kid));
        out.insert("kid_f64".into(), scalar(kid));
    } else if id == "metrics.precision_recall" {
        let k = ctx
            .case
            .raw
            .pointer("/kwargs/nhood_size")
            .and_then(Value::as_u64)
            .context("no kwargs.nhood_size")? as usize;
        let pr = precision_recall(&real, &gen, d, k, &cpu())?;
        out.insert("precision".into(), scalar(pr.precision));
        out.insert("recall".into(), scalar(pr.recall));
        out.insert(
            "kth_real".into(),
            GoldenTensor::from_f32(vec![pr.kth_real.len()], &pr.kth_real),
        );
        out.insert(
            "kth_gen".into(),
            GoldenTensor::from_f32(vec![pr.kth_gen.len()], &pr.kth_gen),
        );
    } else {
        bail!("no handler for metrics case {id}");
    }
    Ok(out)
}
