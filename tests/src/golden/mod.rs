//! The golden-vector runner: reads `<dir>/manifest.json`, runs every selected case
//! through our implementation and compares each output with its tolerance.

mod compare;
pub mod groups;
mod manifest;
mod tensors;

pub use compare::{compare, Comparison, Tolerance};
pub use manifest::{Case, Manifest, TensorSpec};
pub use tensors::{load_file, GoldenTensor};

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tcgan_core::Device;

/// What a group handler computed for one case: tensor name -> value.
pub type Outputs = BTreeMap<String, GoldenTensor>;

/// Everything a handler needs to run one case.
pub struct CaseCtx<'a> {
    pub dir: &'a Path,
    pub case: &'a Case,
    /// The tensors of the case file (`case.file`).
    pub tensors: BTreeMap<String, GoldenTensor>,
    /// Where the handler computes (`check-golden --device`).
    pub device: Device,
    /// Expected tensors the handler declared it cannot reproduce, with the reason
    /// (reported with the case, never silently dropped).
    not_comparable: std::cell::RefCell<BTreeMap<String, String>>,
}

impl CaseCtx<'_> {
    pub fn tensor(&self, name: &str) -> Result<&GoldenTensor> {
        self.tensors.get(name).with_context(|| {
            format!(
                "case {}: tensor {name:?} missing from {}",
                self.case.id, self.case.file
            )
        })
    }

    /// Loads another file of the folder (parameters, gradients), by its relative path.
    pub fn load(&self, rel: &str) -> Result<BTreeMap<String, GoldenTensor>> {
        load_file(&self.dir.join(rel))
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Declares that the expected tensor `name` cannot be compared (the golden
    /// value is not a meaningful reference for it), and why.
    pub fn not_comparable(&self, name: &str, why: &str) {
        self.not_comparable
            .borrow_mut()
            .insert(name.to_string(), why.to_string());
    }
}

/// The result of one case.
pub struct CaseReport {
    pub id: String,
    pub passed: bool,
    /// The tensor furthest over (or closest to) its tolerance.
    pub worst: Option<Comparison>,
    pub error: Option<String>,
    /// Set for a case that holds inputs only (e.g. the networks and batch that
    /// later cases share): the handler ran, and there was nothing to compare.
    pub inputs_only: bool,
    /// Every comparison made, for verbose output.
    pub comparisons: Vec<Comparison>,
    /// Expected tensors the handler declared not comparable, with the reason.
    pub not_compared: Vec<(String, String)>,
}

/// Runs one case: calls the group handler and compares every expected tensor.
pub fn run_case(dir: &Path, case: &Case, device: &Device) -> CaseReport {
    let mut report = CaseReport {
        id: case.id.clone(),
        passed: false,
        worst: None,
        error: None,
        inputs_only: false,
        comparisons: Vec::new(),
        not_compared: Vec::new(),
    };
    let mut not_compared = Vec::new();
    let outcome = (|| -> Result<Vec<Comparison>> {
        let handler = groups::handler(&case.group)
            .with_context(|| format!("group {:?} is not implemented", case.group))?;
        let tensors = if case.file.is_empty() {
            BTreeMap::new()
        } else {
            load_file(&dir.join(&case.file))?
        };
        let ctx = CaseCtx {
            dir,
            case,
            tensors,
            device: device.clone(),
            not_comparable: Default::default(),
        };
        let outputs = handler(&ctx)?;
        let expected = expected_tensors(&ctx)?;
        let skipped = ctx.not_comparable.take();
        if let Some(name) = skipped.keys().find(|n| !expected.contains_key(*n)) {
            anyhow::bail!(
                "the handler declared {name:?} not comparable, but the case does not expect it"
            );
        }
        let mut comparisons = Vec::new();
        for (name, (golden, tol, required)) in &expected {
            if let Some(why) = skipped.get(name) {
                if outputs.contains_key(name) {
                    anyhow::bail!("{name:?} was both produced and declared not comparable");
                }
                not_compared.push((name.clone(), why.clone()));
                continue;
            }
            match outputs.get(name) {
                Some(ours) => comparisons.push(compare(name, ours, golden, tol)?),
                None if *required => anyhow::bail!("the implementation produced no {name:?}"),
                None => {}
            }
        }
        if comparisons.is_empty() && !expected.is_empty() {
            anyhow::bail!("nothing to compare");
        }
        Ok(comparisons)
    })();
    match outcome {
        Ok(comparisons) => {
            report.passed = comparisons.iter().all(|c| c.passed);
            report.inputs_only = comparisons.is_empty();
            report.worst = comparisons
                .iter()
                .max_by(|a, b| a.budget_used().total_cmp(&b.budget_used()))
                .cloned();
            report.comparisons = comparisons;
        }
        Err(e) => report.error = Some(format!("{e:#}")),
    }
    report.not_compared = not_compared;
    report
}

/// Expected tensors of a case: its `output` tensors (required), its
/// `intermediate`/`captured` tensors (compared when the handler provides them),
/// and for cases with a `grads_file`, every gradient under `grads/<key>`.
fn expected_tensors(ctx: &CaseCtx) -> Result<BTreeMap<String, (GoldenTensor, Tolerance, bool)>> {
    let mut out = BTreeMap::new();
    for (name, spec) in &ctx.case.tensors {
        let required = match spec.role.as_str() {
            "output" => true,
            "intermediate" | "captured" => false,
            _ => continue,
        };
        let Some(tol) = spec.tol.clone() else {
            continue;
        };
        out.insert(name.clone(), (ctx.tensor(name)?.clone(), tol, required));
    }
    if let Some(file) = &ctx.case.grads_file {
        let grads = ctx.load(file)?;
        for (key, tol) in &ctx.case.grads {
            let g = grads
                .get(key)
                .with_context(|| format!("gradient {key:?} missing from {file}"))?;
            out.insert(format!("grads/{key}"), (g.clone(), tol.clone(), true));
        }
    }
    Ok(out)
}
