//! Group `networks`: `MappingNetwork`, `Generator` and `Discriminator` built
//! from the entry's `ctor_kwargs`, loaded from its parameter files, with the
//! `transition` value, train/eval `mode` and the call arguments
//! (`truncation_psi`, `truncation_cutoff`, `noise_mode`, `fused_modconv`, ...)
//! read from the entry. Intermediate values are returned under the names the
//! case files use (`ws`, `block.b<R>.out0/1`, `inter.b<R>.out0`, ...).

use super::pycall::{self, Call};
use super::util::{self, field, optional_input, put};
use crate::golden::{CaseCtx, Outputs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use tcgan_core::{no_grad, Generator as Rng};
use tcgan_nn::networks::{
    Discriminator, DiscriminatorKwargs, DiscriminatorTrace, Generator, GeneratorKwargs,
    MappingNetwork, MappingNetworkKwargs, NoiseMode, RecordedNoise, SynthesisOptions,
};
use tcgan_nn::Init;
use tcgan_ops_cpu::cpu;

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    util::set_group("networks");
    // Every value comes from the parameter files; the initial draws do not matter.
    let mut rng = Rng::new(0);
    let mut init = Init::new(&mut rng, &cpu(), util::dtype());
    let call = call(ctx)?;
    no_grad(|| match util::official_function(ctx)?.as_str() {
        "MappingNetwork" => mapping(ctx, &call, &mut init),
        "Generator" => generator(ctx, &call, &mut init),
        "Discriminator" => discriminator(ctx, &call, &mut init),
        other => bail!("networks: no handler for {other:?}"),
    })
}

fn call(ctx: &CaseCtx) -> Result<Call> {
    let text = field(ctx, "call")
        .and_then(Value::as_str)
        .with_context(|| format!("case {}: no \"call\"", ctx.case.id))?;
    pycall::parse(text)
}

fn ctor_kwargs<T: serde::de::DeserializeOwned>(ctx: &CaseCtx) -> Result<T> {
    let v = field(ctx, "ctor_kwargs")
        .with_context(|| format!("case {}: no \"ctor_kwargs\"", ctx.case.id))?;
    serde_json::from_value(v.clone())
        .with_context(|| format!("case {}: ctor_kwargs {v}", ctx.case.id))
}

/// True when the entry's `mode` says training mode.
pub fn training_mode(ctx: &CaseCtx) -> bool {
    field(ctx, "mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.trim_start().starts_with("train"))
}

/// The `transition` value of the entry, when it sets one.
fn transition(ctx: &CaseCtx) -> Result<Option<f64>> {
    field(ctx, "transition")
        .map(|v| util::as_f64(v, "transition"))
        .transpose()
}

/// `truncation_psi` and `truncation_cutoff` of the call (official defaults).
fn truncation(call: &Call) -> Result<(f64, Option<usize>)> {
    let psi = match call.literal("truncation_psi") {
        Some(v) => util::as_f64(v, "truncation_psi")?,
        None => 1.0,
    };
    let cutoff = match call.literal("truncation_cutoff") {
        Some(Value::Null) | None => None,
        Some(v) => Some(util::as_usize(v, "truncation_cutoff")?),
    };
    Ok((psi, cutoff))
}

/// The name the case gives the call's result (`ws`, `img`, `logits`, ...).
fn target(call: &Call, default: &str) -> String {
    call.target.clone().unwrap_or_else(|| default.to_string())
}

/// Draws recorded in the case file as `noise.<layer>` (for `noise_mode='random'`).
pub fn recorded_noise(ctx: &CaseCtx) -> Result<RecordedNoise> {
    let mut tensors = HashMap::new();
    for (name, g) in &ctx.tensors {
        if let Some(layer) = name.strip_prefix("noise.") {
            tensors.insert(layer.to_string(), util::to_tensor(g)?);
        }
    }
    Ok(RecordedNoise::new(tensors, Vec::new()))
}

fn mapping(ctx: &CaseCtx, call: &Call, init: &mut Init) -> Result<Outputs> {
    let kwargs: MappingNetworkKwargs = ctor_kwargs(ctx)?;
    let m = MappingNetwork::new(init, &kwargs)?;
    util::load_params(ctx, &m)?;
    if let Some(t) = transition(ctx)? {
        m.set_transition(t)?;
    }
    m.set_training(training_mode(ctx));
    let z = optional_input(ctx, "z")?;
    let c = optional_input(ctx, "c")?;
    let (psi, cutoff) = truncation(call)?;
    let skip = call
        .literal("skip_w_avg_update")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let ws = m.forward(z.as_ref(), c.as_ref(), psi, cutoff, skip)?;
    let mut out = Outputs::new();
    put(&mut out, &target(call, "ws"), &ws)?;
    if let Some(w_avg) = &m.w_avg {
        put(&mut out, "w_avg_after", w_avg)?;
    }
    Ok(out)
}

fn generator(ctx: &CaseCtx, call: &Call, init: &mut Init) -> Result<Outputs> {
    let kwargs: GeneratorKwargs = ctor_kwargs(ctx)?;
    let g = Generator::new(init, &kwargs)?;
    if let Some(n) = field(ctx, "num_ws") {
        let want = util::as_usize(n, "num_ws")?;
        if g.num_ws() != want {
            bail!("our generator has {} ws, the case says {want}", g.num_ws());
        }
    }
    util::load_params(ctx, &g)?;
    if let Some(t) = transition(ctx)? {
        g.mapping.set_transition(t)?;
    }
    g.set_training(training_mode(ctx));
    let z = util::input(ctx, "z")?;
    let c = optional_input(ctx, "c")?;
    let (psi, cutoff) = truncation(call)?;
    let noise_mode = match call.literal("noise_mode").and_then(Value::as_str) {
        Some(name) => NoiseMode::from_name(name)?,
        None => NoiseMode::Random,
    };
    let fused_modconv = call.literal("fused_modconv").and_then(Value::as_bool);
    let opts = SynthesisOptions {
        noise_mode,
        fused_modconv,
    };
    let mut noise = recorded_noise(ctx)?;
    let ws = g
        .mapping
        .forward(Some(&z), c.as_ref(), psi, cutoff, false)?;
    let blocks = g.synthesis.forward_blocks(&ws, &opts, &mut noise)?;
    let mut out = Outputs::new();
    put(&mut out, "ws", &ws)?;
    for (res, x, img) in &blocks {
        put(&mut out, &format!("block.b{res}.out0"), x)?;
        if let Some(img) = img {
            put(&mut out, &format!("block.b{res}.out1"), img)?;
        }
    }
    let img = blocks
        .last()
        .and_then(|(_, _, img)| img.clone())
        .context("the generator made no image")?;
    put(&mut out, &target(call, "img"), &img)?;
    if let Some(w_avg) = &g.mapping.w_avg {
        put(&mut out, "w_avg_after", w_avg)?;
    }
    Ok(out)
}

fn discriminator(ctx: &CaseCtx, call: &Call, init: &mut Init) -> Result<Outputs> {
    let kwargs: DiscriminatorKwargs = ctor_kwargs(ctx)?;
    let d = Discriminator::new(init, &kwargs)?;
    util::load_params(ctx, &d)?;
    if let Some(t) = transition(ctx)? {
        d.set_transition(t)?;
    }
    let img = util::input(ctx, "img")?;
    let c = optional_input(ctx, "c")?;
    let mut trace = DiscriminatorTrace::default();
    let logits = d.forward_traced(&img, c.as_ref(), Some(&mut trace))?;
    let mut out = Outputs::new();
    put(&mut out, &target(call, "logits"), &logits)?;
    for (res, x) in &trace.blocks {
        put(&mut out, &format!("inter.b{res}.out0"), x)?;
    }
    if let Some(cmap) = &trace.cmap {
        put(&mut out, "inter.mapping.out", cmap)?;
    }
    if let Some(m) = &trace.mbstd {
        put(&mut out, "inter.b4.mbstd.out", m)?;
    }
    Ok(out)
}
