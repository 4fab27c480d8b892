//! Group `ops`: `bias_act`, `upfirdn2d` (and `upsample2d`, `downsample2d`,
//! `filter2d`, `setup_filter`), `conv2d_resample` and `modulated_conv2d`, with
//! forward values and gradients as the official case scripts computed them
//! (`L = sum(y * dy)`, and for bias_act the double backward of `sum(grad_x * v)`).
//! Which function and arguments come from the entry's `official` and `kwargs`.

use super::pycall::{self, Arg};
use super::util::{self, as_bool, as_f64, as_usize, field, input, leaf, optional_input, pair, put};
use crate::golden::{CaseCtx, Outputs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use tcgan_core::{grad, Tensor};
use tcgan_nn::ops::{self as nnops, ModConvArgs};
use tcgan_ops_cpu::cpu;

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    util::set_group("ops");
    match util::official_function(ctx)?.as_str() {
        "bias_act" => bias_act(ctx),
        "upfirdn2d" | "upsample2d" | "downsample2d" | "filter2d" => upfirdn2d(ctx),
        "setup_filter" => setup_filter(ctx),
        "conv2d_resample" => conv2d_resample(ctx),
        "modulated_conv2d" => modulated_conv2d(ctx),
        other => bail!("ops: no handler for the official function {other:?}"),
    }
}

/// The `kwargs` object of the case (empty when absent).
fn kwargs<'a>(ctx: &'a CaseCtx) -> &'a serde_json::Map<String, Value> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    field(ctx, "kwargs")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new))
}

fn kw<'a>(ctx: &'a CaseCtx, name: &str) -> Option<&'a Value> {
    kwargs(ctx).get(name).filter(|v| !v.is_null())
}

/// `sum(y * dy)` and its gradients with respect to `inputs`.
fn grads_of(
    y: &Tensor,
    dy: &Tensor,
    inputs: &[&Tensor],
    create_graph: bool,
) -> Result<Vec<Tensor>> {
    let l = y.mul(dy)?.sum_all()?;
    Ok(grad(&[&l], &[], inputs, create_graph)?)
}

fn bias_act(ctx: &CaseCtx) -> Result<Outputs> {
    let x = leaf(ctx, "x")?;
    let b = optional_input(ctx, "b")?
        .map(|b| b.requires_grad_(true))
        .transpose()?;
    let dy = leaf(ctx, "dy")?;
    let v = optional_input(ctx, "v")?;
    let act = nnops::activation(kw(ctx, "act").and_then(Value::as_str).unwrap_or("linear"))?;
    let dim = kw(ctx, "dim")
        .map(|v| as_usize(v, "dim"))
        .transpose()?
        .unwrap_or(1);
    let num = |name: &str| kw(ctx, name).map(|v| as_f64(v, name)).transpose();
    let spec = nnops::bias_act::spec(act, num("alpha")?, num("gain")?, num("clamp")?);

    let y = x.bias_act(b.as_ref(), dim, &spec)?;
    let mut wrt: Vec<&Tensor> = vec![&x];
    wrt.extend(b.as_ref());
    let g = grads_of(&y, &dy, &wrt, true)?;
    let mut out = Outputs::new();
    put(&mut out, "y", &y)?;
    put(&mut out, "grad_x", &g[0])?;
    if b.is_some() {
        put(&mut out, "grad_b", &g[1])?;
    }
    if let Some(v) = v {
        let l2 = g[0].mul(&v)?.sum_all()?;
        let mut wrt2: Vec<&Tensor> = vec![&x];
        wrt2.extend(b.as_ref());
        wrt2.push(&dy);
        let g2 = if l2.requires_grad() {
            grad(&[&l2], &[], &wrt2, false)?
        } else {
            wrt2.iter()
                .map(|t| t.zeros_like())
                .collect::<tcgan_core::Result<_>>()?
        };
        put(&mut out, "grad2_x", &g2[0])?;
        if b.is_some() {
            put(&mut out, "grad2_b", &g2[1])?;
        }
        put(&mut out, "grad2_dy", g2.last().expect("dy"))?;
    }
    Ok(out)
}

fn upfirdn2d(ctx: &CaseCtx) -> Result<Outputs> {
    let function = util::official_function(ctx)?;
    let x = leaf(ctx, "x")?;
    let f = optional_input(ctx, "f")?;
    let dy = input(ctx, "dy")?;
    let flip_filter = kw(ctx, "flip_filter")
        .map(|v| as_bool(v, "flip_filter"))
        .transpose()?
        .unwrap_or(false);
    let gain = kw(ctx, "gain")
        .map(|v| as_f64(v, "gain"))
        .transpose()?
        .unwrap_or(1.0);
    let padding = kw(ctx, "padding")
        .map(util::padding)
        .transpose()?
        .unwrap_or([0; 4]);
    let y = match function.as_str() {
        "upfirdn2d" => {
            let up = kw(ctx, "up")
                .map(|v| pair(v, "up"))
                .transpose()?
                .unwrap_or([1, 1]);
            let down = kw(ctx, "down")
                .map(|v| pair(v, "down"))
                .transpose()?
                .unwrap_or([1, 1]);
            nnops::upfirdn2d(&x, f.as_ref(), up, down, padding, flip_filter, gain)?
        }
        "upsample2d" => {
            let up = kw(ctx, "up")
                .map(|v| pair(v, "up"))
                .transpose()?
                .unwrap_or([2, 2]);
            nnops::upsample2d(&x, f.as_ref(), up, padding, flip_filter, gain)?
        }
        "downsample2d" => {
            let down = kw(ctx, "down")
                .map(|v| pair(v, "down"))
                .transpose()?
                .unwrap_or([2, 2]);
            nnops::downsample2d(&x, f.as_ref(), down, padding, flip_filter, gain)?
        }
        _ => nnops::filter2d(&x, f.as_ref(), padding, flip_filter, gain)?,
    };
    let g = grads_of(&y, &dy, &[&x], false)?;
    let mut out = Outputs::new();
    put(&mut out, "y", &y)?;
    put(&mut out, "grad_x", &g[0])?;
    Ok(out)
}

/// The taps of a filter argument: a list literal or `wavelets['name']`.
fn filter_values(arg: &Arg) -> Result<(Vec<f64>, Vec<usize>)> {
    match arg {
        Arg::Literal(Value::Array(rows)) if rows.iter().all(Value::is_array) => {
            let m: Vec<Vec<f64>> = rows
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().context("filter values"))
                        .collect()
                })
                .collect::<Result<_>>()?;
            let w = m.first().map_or(0, Vec::len);
            Ok((m.concat(), vec![m.len(), w]))
        }
        Arg::Literal(Value::Array(taps)) => {
            let t: Vec<f64> = taps
                .iter()
                .map(|v| v.as_f64().context("filter taps"))
                .collect::<Result<_>>()?;
            let n = t.len();
            Ok((t, vec![n]))
        }
        Arg::Literal(v) if v.is_number() => Ok((vec![v.as_f64().unwrap()], vec![])),
        Arg::Expr(e) => {
            let name = e
                .strip_prefix("wavelets[")
                .and_then(|s| s.strip_suffix(']'))
                .map(|s| s.trim_matches(['\'', '"']))
                .with_context(|| format!("cannot read the filter {e:?}"))?;
            let taps = nnops::wavelet(name).with_context(|| format!("unknown wavelet {name:?}"))?;
            Ok((taps.to_vec(), vec![taps.len()]))
        }
        other => bail!("cannot read the filter {other:?}"),
    }
}

/// The filter a `setup_filter(...)` call text describes.
fn filter_from_call(desc: &str) -> Result<Tensor> {
    let call = pycall::parse(desc).with_context(|| format!("filter {desc:?}"))?;
    if call.function != "setup_filter" {
        bail!("cannot build the filter {desc:?}");
    }
    let arg = call
        .args
        .first()
        .with_context(|| format!("no filter in {desc:?}"))?;
    let (values, shape) = filter_values(arg)?;
    let lit_bool = |k: &str, d: bool| call.literal(k).and_then(Value::as_bool).unwrap_or(d);
    Ok(nnops::setup_filter(
        &values,
        &shape,
        lit_bool("normalize", true),
        lit_bool("flip_filter", false),
        call.literal("gain").and_then(Value::as_f64).unwrap_or(1.0),
        call.literal("separable").and_then(Value::as_bool),
        &cpu(),
        util::dtype(),
    )?)
}

/// Every output is described as a `setup_filter(...)` call in its `desc`.
fn setup_filter(ctx: &CaseCtx) -> Result<Outputs> {
    let mut out = Outputs::new();
    for (name, spec) in &ctx.case.tensors {
        if spec.role != "output" {
            continue;
        }
        let desc = ctx.case.raw["tensors"][name]["desc"].as_str().unwrap_or("");
        let f = filter_from_call(desc).with_context(|| format!("output {name}"))?;
        put(&mut out, name, &f)?;
    }
    Ok(out)
}

fn conv2d_resample(ctx: &CaseCtx) -> Result<Outputs> {
    let x = leaf(ctx, "x")?;
    let w = leaf(ctx, "w")?;
    let f = optional_input(ctx, "f")?;
    let dy = input(ctx, "dy")?;
    let int = |name: &str, d: usize| {
        kw(ctx, name)
            .map(|v| as_usize(v, name))
            .transpose()
            .map(|v| v.unwrap_or(d))
    };
    let flag = |name: &str, d: bool| {
        kw(ctx, name)
            .map(|v| as_bool(v, name))
            .transpose()
            .map(|v| v.unwrap_or(d))
    };
    let padding = kw(ctx, "padding")
        .map(util::padding)
        .transpose()?
        .unwrap_or([0; 4]);
    let y = nnops::conv2d_resample(
        &x,
        &w,
        f.as_ref(),
        int("up", 1)?,
        int("down", 1)?,
        padding,
        int("groups", 1)?,
        flag("flip_weight", true)?,
        flag("flip_filter", false)?,
    )?;
    let g = grads_of(&y, &dy, &[&x, &w], false)?;
    let mut out = Outputs::new();
    put(&mut out, "y", &y)?;
    put(&mut out, "grad_x", &g[0])?;
    put(&mut out, "grad_w", &g[1])?;
    Ok(out)
}

fn modulated_conv2d(ctx: &CaseCtx) -> Result<Outputs> {
    let x = leaf(ctx, "x")?;
    let weight = leaf(ctx, "weight")?;
    let styles = leaf(ctx, "styles")?;
    let noise = optional_input(ctx, "noise")?;
    let filter = match optional_input(ctx, "resample_filter")? {
        Some(f) => Some(f),
        // Only described, as `setup_filter([...])`: build it.
        None => match kw(ctx, "resample_filter").and_then(Value::as_str) {
            Some(desc) => Some(filter_from_call(desc)?),
            None => None,
        },
    };
    let dy = input(ctx, "dy")?;
    if kw(ctx, "noise").and_then(Value::as_bool) == Some(true) && noise.is_none() {
        bail!("the case adds noise but stores no \"noise\" tensor");
    }
    let int = |name: &str, d: usize| {
        kw(ctx, name)
            .map(|v| as_usize(v, name))
            .transpose()
            .map(|v| v.unwrap_or(d))
    };
    let flag = |name: &str, d: bool| {
        kw(ctx, name)
            .map(|v| as_bool(v, name))
            .transpose()
            .map(|v| v.unwrap_or(d))
    };
    let args = ModConvArgs {
        up: int("up", 1)?,
        down: int("down", 1)?,
        padding: kw(ctx, "padding")
            .map(util::padding)
            .transpose()?
            .unwrap_or([0; 4]),
        demodulate: flag("demodulate", true)?,
        flip_weight: flag("flip_weight", true)?,
        fused_modconv: flag("fused_modconv", true)?,
    };
    let y = nnops::modulated_conv2d(&x, &weight, &styles, noise.as_ref(), filter.as_ref(), &args)?;
    let g = grads_of(&y, &dy, &[&x, &weight, &styles], false)?;
    let mut out = Outputs::new();
    put(&mut out, "y", &y)?;
    put(&mut out, "grad_x", &g[0])?;
    put(&mut out, "grad_weight", &g[1])?;
    put(&mut out, "grad_styles", &g[2])?;
    Ok(out)
}
