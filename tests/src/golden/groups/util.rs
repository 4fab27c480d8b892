//! Helpers shared by the handlers: golden tensors to and from `Tensor`,
//! manifest arguments, and loading parameter files into a network.

use crate::golden::{CaseCtx, GoldenTensor, Outputs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use tcgan_core::{DType, Tensor};
use tcgan_nn::Module;
use tcgan_ops_cpu::cpu;

/// The dtype a handler computes in. Ops and networks run in f32, as the
/// official code did. The loss runs in f64: its scalar gradients (e.g. of
/// `noise_strength`) are sums with cancellation (sum|t| / |sum t| of about
/// 60), so any f32 implementation's rounding lands at the scale of the
/// tolerances, which were set from the official run's own f32 rounding.
/// `TCGAN_GOLDEN_DTYPE=f32|f64` forces one dtype for every group.
pub fn dtype_for(group: &str) -> DType {
    match std::env::var("TCGAN_GOLDEN_DTYPE").as_deref() {
        Ok("f64") => DType::F64,
        Ok("f32") => DType::F32,
        _ if group == "loss" => DType::F64,
        _ => DType::F32,
    }
}

thread_local! {
    static DTYPE: std::cell::Cell<DType> = const { std::cell::Cell::new(DType::F32) };
}

/// The dtype of the case being run (set by `set_group`).
pub fn dtype() -> DType {
    DTYPE.with(|d| d.get())
}

/// Selects the dtype for the cases of `group`.
pub fn set_group(group: &str) {
    DTYPE.with(|d| d.set(dtype_for(group)));
}

pub fn to_tensor(g: &GoldenTensor) -> Result<Tensor> {
    Ok(Tensor::from_vec(g.to_f32(), g.shape.clone(), &cpu())?.to_dtype(dtype())?)
}

pub fn from_tensor(t: &Tensor) -> Result<GoldenTensor> {
    Ok(GoldenTensor::from_f32(t.dims().to_vec(), &t.to_vec_f32()?))
}

/// The case tensor `name` as a `Tensor`.
pub fn input(ctx: &CaseCtx, name: &str) -> Result<Tensor> {
    to_tensor(ctx.tensor(name)?)
}

/// The case tensor `name`, if the case has it.
pub fn optional_input(ctx: &CaseCtx, name: &str) -> Result<Option<Tensor>> {
    ctx.tensors.get(name).map(to_tensor).transpose()
}

/// A leaf that requires grad, holding the case tensor `name`.
pub fn leaf(ctx: &CaseCtx, name: &str) -> Result<Tensor> {
    Ok(input(ctx, name)?.requires_grad_(true)?)
}

pub fn put(out: &mut Outputs, name: &str, t: &Tensor) -> Result<()> {
    out.insert(name.to_string(), from_tensor(t)?);
    Ok(())
}

/// The field `name` of the case entry (`null` and absent are both `None`).
pub fn field<'a>(ctx: &'a CaseCtx, name: &str) -> Option<&'a Value> {
    ctx.case.raw.get(name).filter(|v| !v.is_null())
}

pub fn as_usize(v: &Value, what: &str) -> Result<usize> {
    v.as_u64()
        .map(|v| v as usize)
        .with_context(|| format!("{what}: expected a non-negative integer, got {v}"))
}

pub fn as_f64(v: &Value, what: &str) -> Result<f64> {
    v.as_f64()
        .with_context(|| format!("{what}: expected a number, got {v}"))
}

pub fn as_bool(v: &Value, what: &str) -> Result<bool> {
    v.as_bool()
        .with_context(|| format!("{what}: expected true/false, got {v}"))
}

/// An int or `[x, y]` pair (official `up`/`down`), as `[x, y]`.
pub fn pair(v: &Value, what: &str) -> Result<[usize; 2]> {
    match v {
        Value::Array(a) if a.len() == 2 => Ok([as_usize(&a[0], what)?, as_usize(&a[1], what)?]),
        v => {
            let s = as_usize(v, what)?;
            Ok([s, s])
        }
    }
}

/// Official padding (int, `[x, y]` or `[x0, x1, y0, y1]`) as `[x0, x1, y0, y1]`.
pub fn padding(v: &Value) -> Result<[isize; 4]> {
    let values: Vec<isize> = match v {
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_i64()
                    .map(|x| x as isize)
                    .context("padding: integers expected")
            })
            .collect::<Result<_>>()?,
        v => vec![v.as_i64().context("padding: an integer expected")? as isize],
    };
    Ok(tcgan_nn::ops::parse_padding(&values)?)
}

/// Loads every parameter file listed under `params` of the case into
/// `module`, stripping each file's `key_prefix`. Missing, extra or misshapen
/// keys are errors.
pub fn load_params(ctx: &CaseCtx, module: &dyn Module) -> Result<()> {
    let files = field(ctx, "params")
        .and_then(Value::as_array)
        .with_context(|| format!("case {}: no \"params\" list", ctx.case.id))?;
    load_param_files(ctx, files, module)
}

pub fn load_param_files(ctx: &CaseCtx, files: &[Value], module: &dyn Module) -> Result<()> {
    let mut state = HashMap::new();
    for f in files {
        let file = f
            .get("file")
            .and_then(Value::as_str)
            .context("params entry without \"file\"")?;
        let prefix = f.get("key_prefix").and_then(Value::as_str).unwrap_or("");
        for (k, v) in ctx.load(file)? {
            let Some(stripped) = k.strip_prefix(prefix) else {
                bail!("{file}: key {k:?} lacks the prefix {prefix:?}");
            };
            state.insert(stripped.to_string(), to_tensor(&v)?);
        }
    }
    module
        .load_state(&state)
        .with_context(|| format!("case {}: loading parameters", ctx.case.id))
}

/// The function name after `::` in the `official` field (`upsample2d`, `Generator`, ...).
pub fn official_function(ctx: &CaseCtx) -> Result<String> {
    let o = field(ctx, "official")
        .and_then(Value::as_str)
        .with_context(|| format!("case {}: no \"official\" field", ctx.case.id))?;
    Ok(o.rsplit("::").next().unwrap_or(o).trim().to_string())
}
