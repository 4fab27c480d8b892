//! Group `loss`: `StyleGAN2Loss.accumulate_gradients`. The setup entry (the
//! one with `G_ctor_kwargs`, `D_ctor_kwargs`, `loss_kwargs`, parameter files
//! and the input batch) builds G and D; phase entries (`phase`) run in manifest
//! order on the same modules, each replaying its recorded draws, because
//! `w_avg` and `pl_mean` carry over from phase to phase. A phase case reruns
//! every earlier phase, then returns the gradients of its `grads_module`
//! (`grads/<key>`, zeros where none flowed), the reported `stat.*` values,
//! `w_avg_after` and `pl_mean_after`.

use super::networks::training_mode;
use super::util::{self, field, put};
use crate::golden::{CaseCtx, GoldenTensor, Manifest, Outputs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use tcgan_core::{Generator as Rng, Tensor};
use tcgan_nn::loss::{LossKwargs, Phase, PhaseInputs, StyleGAN2Loss};
use tcgan_nn::networks::{
    Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs, NoiseSource,
};
use tcgan_nn::{Init, Module, TensorKind};
use tcgan_ops_cpu::cpu;

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    util::set_group("loss");
    let manifest = Manifest::load(ctx.dir)?;
    let setup = setup_case(ctx, &manifest)?;
    let nets = Nets::build(ctx, setup)?;
    if field(ctx, "phase").is_none() {
        // The setup entry itself: it holds inputs only, nothing to compare.
        return Ok(Outputs::new());
    }
    let phases: Vec<&crate::golden::Case> = manifest
        .cases
        .iter()
        .filter(|c| c.group == ctx.case.group && c.raw.get("phase").is_some_and(Value::is_string))
        .filter(|c| same_folder(&c.file, &setup.file))
        .collect();
    let pos = phases
        .iter()
        .position(|c| c.id == ctx.case.id)
        .context("this phase is not among the manifest's phases")?;

    let inputs = ctx.load(&setup.file)?;
    let t = |name: &str| -> Result<Tensor> {
        util::to_tensor(
            inputs
                .get(name)
                .with_context(|| format!("{}: no {name:?}", setup.file))?,
        )
    };
    let opt = |name: &str| inputs.get(name).map(util::to_tensor).transpose();
    let (real_img, real_c, gen_z, gen_c) =
        (t("real_img")?, opt("real_c")?, t("gen_z")?, opt("gen_c")?);
    let batch = PhaseInputs {
        real_img: &real_img,
        real_c: real_c.as_ref(),
        gen_z: &gen_z,
        gen_c: gen_c.as_ref(),
    };
    let loss_kwargs: LossKwargs = serde_json::from_value(
        setup
            .raw
            .get("loss_kwargs")
            .cloned()
            .unwrap_or(Value::Object(Default::default())),
    )
    .context("loss_kwargs")?;
    let gain = call_gain(&setup.raw)?;
    let mut loss = StyleGAN2Loss::new(loss_kwargs, &gen_z)?;

    let mut stats = Vec::new();
    for case in &phases[..=pos] {
        let phase = Phase::from_name(case.raw["phase"].as_str().expect("filtered above"))?;
        let draws = ctx.load(&case.file)?;
        let mut noise = Replay::new(&draws)?;
        nets.g.zero_grad();
        nets.d.zero_grad();
        stats = loss
            .accumulate_gradients(phase, &nets.g, &nets.d, &batch, gain, None, &mut noise)
            .with_context(|| format!("phase {}", case.id))?;
    }

    let mut out = Outputs::new();
    let module: &dyn Module = match field(ctx, "grads_module").and_then(Value::as_str) {
        Some("G") => &nets.g,
        Some("D") => &nets.d,
        other => bail!("grads_module {other:?} is neither \"G\" nor \"D\""),
    };
    for t in module.named_tensors() {
        if t.kind != TensorKind::Parameter {
            continue;
        }
        let g = match t.tensor.grad() {
            Some(g) => g,
            None => t.tensor.zeros_like()?,
        };
        put(&mut out, &format!("grads/{}", t.key), &g)?;
    }
    for (name, value) in &stats {
        put(&mut out, &format!("stat.{name}"), value)?;
    }
    if let Some(w_avg) = &nets.g.mapping.w_avg {
        put(&mut out, "w_avg_after", w_avg)?;
    }
    put(&mut out, "pl_mean_after", &loss.pl_mean)?;
    Ok(out)
}

fn same_folder(a: &str, b: &str) -> bool {
    Path::new(a).parent() == Path::new(b).parent()
}

/// The entry holding the networks and inputs of the loss cases: in this group,
/// with `G_ctor_kwargs`, in the folder of this case's file; exactly one.
fn setup_case<'a>(ctx: &CaseCtx, manifest: &'a Manifest) -> Result<&'a crate::golden::Case> {
    let found: Vec<_> = manifest
        .cases
        .iter()
        .filter(|c| c.group == ctx.case.group && c.raw.get("G_ctor_kwargs").is_some())
        .filter(|c| same_folder(&c.file, &ctx.case.file))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "no loss setup entry (with G_ctor_kwargs) beside {}",
            ctx.case.file
        ),
        _ => bail!("several loss setup entries beside {}", ctx.case.file),
    }
}

/// `gain=` of the `accumulate_gradients` call recorded in the setup entry.
fn call_gain(raw: &Value) -> Result<f64> {
    let call = raw.get("call").and_then(Value::as_str).unwrap_or("");
    match call.find("accumulate_gradients(") {
        Some(i) => {
            let c = super::pycall::parse(&call[i..])?;
            Ok(c.literal("gain").and_then(Value::as_f64).unwrap_or(1.0))
        }
        None => Ok(1.0),
    }
}

struct Nets {
    g: Generator,
    d: Discriminator,
}

impl Nets {
    fn build(ctx: &CaseCtx, setup: &crate::golden::Case) -> Result<Nets> {
        let kw = |name: &str| -> Result<Value> {
            setup
                .raw
                .get(name)
                .cloned()
                .with_context(|| format!("{}: no {name:?}", setup.id))
        };
        let gk: GeneratorKwargs =
            serde_json::from_value(kw("G_ctor_kwargs")?).context("G_ctor_kwargs")?;
        let dk: DiscriminatorKwargs =
            serde_json::from_value(kw("D_ctor_kwargs")?).context("D_ctor_kwargs")?;
        let mut rng = Rng::new(0);
        let mut init = Init::new(&mut rng, &cpu(), util::dtype());
        let g = Generator::new(&mut init, &gk)?;
        let d = Discriminator::new(&mut init, &dk)?;

        // Each parameter file belongs to the network whose keys it holds.
        let files = setup
            .raw
            .get("params")
            .and_then(Value::as_array)
            .context("the loss setup has no \"params\"")?;
        let keys = |m: &dyn Module| -> BTreeSet<String> {
            m.named_tensors().into_iter().map(|t| t.key).collect()
        };
        let (gkeys, dkeys) = (keys(&g), keys(&d));
        let (mut g_done, mut d_done) = (false, false);
        for f in files {
            let file = f
                .get("file")
                .and_then(Value::as_str)
                .context("params entry without file")?;
            let prefix = f.get("key_prefix").and_then(Value::as_str).unwrap_or("");
            let held: BTreeSet<String> = ctx
                .load(file)?
                .keys()
                .map(|k| k.strip_prefix(prefix).unwrap_or(k).to_string())
                .collect();
            let one = std::slice::from_ref(f);
            if held == gkeys {
                util::load_param_files(ctx, one, &g)?;
                g_done = true;
            } else if held == dkeys {
                util::load_param_files(ctx, one, &d)?;
                d_done = true;
            } else {
                bail!("{file}: its keys match neither G's nor D's state_dict");
            }
        }
        if !(g_done && d_done) {
            bail!("the loss setup lacks the parameters of G or D");
        }
        if let Some(t) = setup.raw.get("transition").filter(|v| v.is_object()) {
            if let Some(v) = t.get("G_mapping").and_then(Value::as_f64) {
                g.mapping.set_transition(v)?;
            }
            if let Some(v) = t.get("D").and_then(Value::as_f64) {
                d.set_transition(v)?;
            }
        }
        // The official loss runs inside the training loop: training mode,
        // unless the entry says otherwise.
        let training =
            setup.raw.get("mode").and_then(Value::as_str).is_none() || training_mode(ctx);
        g.set_training(training);
        Ok(Nets { g, d })
    }
}

/// Replays one phase's recorded draws: `noise.<layer>` by layer name,
/// `pl_noise_randn` for the path-length noise, and any `draw.*` values in
/// name (= call) order for the other draws.
struct Replay {
    named: HashMap<String, Tensor>,
    queue: Vec<(String, Tensor)>,
    next: usize,
}

impl Replay {
    fn new(draws: &BTreeMap<String, GoldenTensor>) -> Result<Self> {
        let mut named = HashMap::new();
        let mut queue = Vec::new();
        for (name, g) in draws {
            if let Some(layer) = name.strip_prefix("noise.") {
                named.insert(layer.to_string(), util::to_tensor(g)?);
            } else if name == "pl_noise_randn" {
                named.insert("pl_noise".to_string(), util::to_tensor(g)?);
            } else if name.starts_with("draw.") {
                queue.push((name.clone(), util::to_tensor(g)?));
            }
        }
        // Call order: names may number the draws (draw.2 before draw.10).
        queue.sort_by_key(|(name, _)| natural_key(name));
        Ok(Replay {
            named,
            queue,
            next: 0,
        })
    }

    fn pop(&mut self, name: &str) -> tcgan_nn::Result<Tensor> {
        let t = self
            .queue
            .get(self.next)
            .ok_or_else(|| tcgan_nn::Error::Noise {
                name: name.into(),
                msg: "no recorded draw left".into(),
            })?;
        self.next += 1;
        Ok(t.1.clone())
    }
}

/// A sort key that orders the digit runs of a name by value.
fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut num = c.to_digit(10).unwrap_or(0) as u64;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                num = num.saturating_mul(10).saturating_add(d as u64);
                chars.next();
            }
            key.push((std::mem::take(&mut text), num));
        } else {
            text.push(c);
        }
    }
    key.push((text, 0));
    key
}

impl NoiseSource for Replay {
    fn randn(&mut self, name: &str, shape: &[usize], like: &Tensor) -> tcgan_nn::Result<Tensor> {
        let t = match self.named.get(name) {
            Some(t) => t.clone(),
            None => self.pop(name)?,
        };
        if t.dims() != shape {
            return Err(tcgan_nn::Error::Noise {
                name: name.into(),
                msg: format!("recorded shape {:?}, asked for {shape:?}", t.dims()),
            });
        }
        Ok(t.to_dtype(like.dtype())?)
    }
    fn rand(&mut self, name: &str) -> tcgan_nn::Result<f64> {
        Ok(self
            .pop(name)?
            .to_vec_f64()?
            .first()
            .copied()
            .unwrap_or(f64::NAN))
    }
    fn randint(&mut self, name: &str, _lo: i64, _hi: i64) -> tcgan_nn::Result<i64> {
        Ok(self
            .pop(name)?
            .to_vec_f64()?
            .first()
            .copied()
            .unwrap_or(0.0) as i64)
    }
}
