//! check-golden: runs the cases of a golden folder (manifest.json + safetensors)
//! through tcgan and compares every output with its tolerance.
//!
//! Usage: check-golden <DIR> [--only GROUP[,GROUP...]] [--case ID_PREFIX] [--device cpu|cuda[:N]] [--verbose]

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use tcgan_core::Device;
use tcgan_tests::golden::{run_case, Manifest};

struct Args {
    dir: PathBuf,
    only: Option<Vec<String>>,
    case: Option<String>,
    device: String,
    verbose: bool,
}

fn parse_args() -> Result<Args> {
    let mut dir = None;
    let (mut only, mut case, mut verbose) = (None, None, false);
    let mut device = "cpu".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => only = Some(it.next().context("--only needs GROUP[,GROUP...]")?),
            s if s.starts_with("--only=") => only = Some(s["--only=".len()..].to_string()),
            "--case" => case = Some(it.next().context("--case needs an id prefix")?),
            "--device" => device = it.next().context("--device needs cpu or cuda[:N]")?,
            s if s.starts_with("--device=") => device = s["--device=".len()..].to_string(),
            "--verbose" | "-v" => verbose = true,
            "--help" | "-h" => {
                println!("usage: check-golden <DIR> [--only GROUP[,GROUP...]] [--case ID_PREFIX] [--device cpu|cuda[:N]] [--verbose]");
                std::process::exit(0);
            }
            s if s.starts_with('-') => bail!("unknown option {s}"),
            s => {
                if dir.replace(PathBuf::from(s)).is_some() {
                    bail!("more than one folder given");
                }
            }
        }
    }
    let only = only.map(|s| {
        s.split(',')
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect()
    });
    Ok(Args {
        dir: dir.context("usage: check-golden <DIR> [--only GROUP[,GROUP...]]")?,
        only,
        case,
        device,
        verbose,
    })
}

/// `cpu`, `cuda` (GPU 0) or `cuda:N`.
fn open_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(tcgan_ops_cpu::cpu()),
        "cuda" => Ok(tcgan_ops_cuda::cuda(0)?),
        s if s.starts_with("cuda:") => {
            let n: usize = s["cuda:".len()..]
                .parse()
                .with_context(|| format!("bad GPU number in --device {s}"))?;
            Ok(tcgan_ops_cuda::cuda(n)?)
        }
        s => bail!("unknown device {s:?}: use cpu, cuda or cuda:N"),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("check-golden: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool> {
    let args = parse_args()?;
    let device = open_device(&args.device)?;
    let manifest = Manifest::load(&args.dir)?;
    let selected: Vec<_> = manifest
        .cases
        .iter()
        .filter(|c| args.only.as_ref().is_none_or(|o| o.contains(&c.group)))
        .filter(|c| {
            args.case
                .as_ref()
                .is_none_or(|p| c.id.starts_with(p.as_str()))
        })
        .collect();
    if selected.is_empty() {
        bail!("no case of {} matches the selection", args.dir.display());
    }
    let (mut passed, mut failed, mut inputs_only, mut not_compared) = (0, 0, 0, 0);
    for case in selected {
        let r = run_case(&args.dir, case, &device);
        let status = if r.passed { "PASS" } else { "FAIL" };
        match (&r.worst, &r.error) {
            (_, Some(e)) => println!("{:<58} {status}  error: {e}", r.id),
            (Some(w), None) => println!(
                "{:<58} {status}  worst {:<32} max_abs {:.3e} (tol {:.1e})  rel_l2 {} (tol {})",
                r.id,
                w.name,
                w.max_abs,
                w.tol.max_abs,
                w.rel_l2.map_or("-".into(), |v| format!("{v:.3e}")),
                w.tol.rel_l2.map_or("-".into(), |v| format!("{v:.1e}")),
            ),
            (None, None) if r.inputs_only => {
                println!(
                    "{:<58} {status}  inputs only: built and loaded, nothing to compare",
                    r.id
                )
            }
            (None, None) => println!("{:<58} {status}", r.id),
        }
        for (name, why) in &r.not_compared {
            println!("    not compared: {name}: {why}");
        }
        not_compared += r.not_compared.len();
        if args.verbose || !r.passed {
            for c in r.comparisons.iter().filter(|c| args.verbose || !c.passed) {
                println!(
                    "    {:<40} max_abs {:.3e} at [{}]: ours {:.6e} golden {:.6e}; {:.1}x the budget",
                    c.name, c.max_abs, c.worst_index, c.ours, c.golden, c.budget_used()
                );
            }
        }
        if r.inputs_only {
            inputs_only += 1;
        } else if r.passed {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    if inputs_only > 0 {
        println!(
            "{passed} passed, {failed} failed, {inputs_only} inputs-only (nothing to compare)"
        );
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if not_compared > 0 {
        println!("{not_compared} expected tensor(s) not compared (reasons above)");
    }
    Ok(failed == 0)
}
