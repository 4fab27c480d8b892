//! Group `augment`: `AugmentPipe.forward` with the entry's `ctor_kwargs`, `p`
//! and `debug_percentile`. The official draws come from torch's generator,
//! so a random case replays its captured matrices (`G_inv_pixel`, `C`)
//! through our stages; a `debug_percentile` case has no randomness, so our
//! own draw must reproduce the captured matrices too. Every stage's image is
//! returned for comparison, and the reflect padding must match exactly.

use super::util::{self, as_f64, field, input, put};
use crate::golden::{CaseCtx, GoldenTensor, Outputs};
use anyhow::{bail, ensure, Context, Result};
use tcgan_core::{no_grad, Generator};
use tcgan_nn::augment::{AugmentKwargs, AugmentParams, AugmentPipe, GeomPlan, Trace};
use tcgan_ops_cpu::cpu;

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    util::set_group("augment");
    no_grad(|| run_case(ctx))
}

fn run_case(ctx: &CaseCtx) -> Result<Outputs> {
    let id = &ctx.case.id;
    let kwargs: AugmentKwargs = match field(ctx, "ctor_kwargs") {
        Some(v) => serde_json::from_value(v.clone())
            .with_context(|| format!("case {id}: ctor_kwargs {v}"))?,
        None => AugmentKwargs::default(),
    };
    let mut pipe = AugmentPipe::new(kwargs.clone(), &cpu())?;
    // The official pipe's `p` buffer starts at 1.
    pipe.p = field(ctx, "p")
        .map(|v| as_f64(v, "p"))
        .transpose()?
        .unwrap_or(1.0);
    let debug = field(ctx, "debug_percentile")
        .map(|v| as_f64(v, "debug_percentile"))
        .transpose()?;
    check_filter(ctx, &pipe)?;

    let images = input(ctx, "images")?;
    let shape: [usize; 4] = images
        .dims()
        .try_into()
        .with_context(|| format!("case {id}: images must be [N, C, H, W]"))?;
    let [n, c, h, w] = shape;
    if kwargs.noise > 0.0 {
        bail!("case {id}: the noise field is drawn by torch and the case file does not hold it");
    }
    let mut out = Outputs::new();
    let params = match debug {
        Some(q) => {
            // Deterministic: our draw is compared with the captured matrices.
            let params = pipe.draw(shape, &mut Generator::new(0), Some(q))?;
            if let Some(g) = &params.g_inv {
                out.insert("G_inv_pixel".into(), mats(g)?);
            }
            if let Some(cm) = &params.color {
                out.insert("C".into(), mats(cm)?);
            }
            params
        }
        None => {
            if kwargs.imgfilter > 0.0 || kwargs.cutout > 0.0 {
                bail!("case {id}: imgfilter/cutout draws are not captured in the case file");
            }
            let g_inv = kwargs
                .any_geometric()
                .then(|| read_mats::<3>(ctx, "G_inv_pixel", n))
                .transpose()?;
            let color = kwargs
                .any_color(c)
                .then(|| read_mats::<4>(ctx, "C", n))
                .transpose()?;
            AugmentParams::from_matrices(shape, g_inv, color)
        }
    };
    if let Some(g) = &params.g_inv {
        let plan = GeomPlan::new(g.clone(), h, w, pipe.hz_geom(util::dtype()).dim(0))?;
        if let Some(stored) = ctx.tensors.get("pad") {
            let ours: Vec<f64> = plan.pad.iter().map(|&v| v as f64).collect();
            ensure!(
                ours == stored.data,
                "case {id}: reflect padding {:?} differs from the captured {:?}",
                plan.pad,
                stored.data
            );
        }
        out.insert("G_inv_padded".into(), mats(&plan.g_inv_padded)?);
        out.insert("G_inv_final".into(), mats(&plan.g_inv_final)?);
    }
    let mut trace = Trace::new();
    let y = pipe.apply(&images, &params, Some(&mut trace))?;
    for (name, t) in &trace {
        put(&mut out, name, t)?;
    }
    put(&mut out, "out", &y)?;
    Ok(out)
}

/// Our `Hz_geom` must equal the captured buffer (it is not compared by the
/// runner, being an input-side buffer).
fn check_filter(ctx: &CaseCtx, pipe: &AugmentPipe) -> Result<()> {
    let Some(stored) = ctx.tensors.get("Hz_geom") else {
        return Ok(());
    };
    let ours = pipe.hz_geom(util::dtype()).to_vec_f64()?;
    let worst = ours
        .iter()
        .zip(&stored.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    ensure!(
        ours.len() == stored.data.len() && worst <= 1e-7,
        "case {}: Hz_geom differs from the captured buffer (max |diff| {worst:.3e})",
        ctx.case.id
    );
    Ok(())
}

/// The captured `[N, K, K]` tensor `name` as matrices.
fn read_mats<const K: usize>(ctx: &CaseCtx, name: &str, n: usize) -> Result<Vec<[[f64; K]; K]>> {
    let t = ctx.tensor(name)?;
    ensure!(
        t.shape == [n, K, K],
        "case {}: {name} has shape {:?}, expected [{n}, {K}, {K}]",
        ctx.case.id,
        t.shape
    );
    Ok(t.data
        .chunks_exact(K * K)
        .map(|m| std::array::from_fn(|i| std::array::from_fn(|j| m[i * K + j])))
        .collect())
}

fn mats<const K: usize>(m: &[[[f64; K]; K]]) -> Result<GoldenTensor> {
    let data: Vec<f64> = m.iter().flatten().flatten().copied().collect();
    Ok(GoldenTensor::new(vec![m.len(), K, K], data))
}
