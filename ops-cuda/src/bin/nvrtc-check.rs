//! nvrtc-check: compiles every kernel source of the CUDA backend with NVRTC for
//! the given architectures (default sm_75, sm_86, sm_90) to machine code, on a
//! machine without a GPU, and checks that every kernel the Rust side launches
//! exists. Prints one line per kernel and `N kernels compiled, M failed`.
//!
//! Usage: nvrtc-check [--arch 75,86,90]
//! The build's NVRTC (libnvrtc.so.12 with the `cuda` feature, .so.13 with
//! `cuda13`) must be loadable, e.g. with LD_LIBRARY_PATH set to the lib folder
//! of the `nvidia-cuda-nvrtc-cu12` (or 13.x `nvidia-cuda-nvrtc`) wheel.

use std::process::ExitCode;
use std::time::Instant;
use tcgan_ops_cuda::compile::{self, Target};
use tcgan_ops_cuda::cuda_version;
use tcgan_ops_cuda::kernels::SOURCES;

fn parse_archs() -> Result<Vec<u32>, String> {
    let mut archs = vec![75, 86, 90];
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--arch" => {
                let list = it.next().ok_or("--arch needs a list such as 75,86,90")?;
                archs = list
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .trim_start_matches("sm_")
                            .parse()
                            .map_err(|_| format!("bad architecture {s:?}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--help" | "-h" => {
                println!("usage: nvrtc-check [--arch 75,86,90]");
                std::process::exit(0);
            }
            s => return Err(format!("unknown argument {s}")),
        }
    }
    Ok(archs)
}

fn main() -> ExitCode {
    let archs = match parse_archs() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("nvrtc-check: {e}");
            return ExitCode::from(2);
        }
    };
    if !compile::nvrtc_present() {
        eprintln!(
            "nvrtc-check: libnvrtc.so.{} could not be loaded; set LD_LIBRARY_PATH to the lib folder of the wheel {}",
            cuda_version::MAJOR,
            cuda_version::NVRTC_WHEEL
        );
        return ExitCode::from(2);
    }
    match compile::nvrtc_version() {
        Ok((major, minor)) => println!("NVRTC {major}.{minor}"),
        Err(e) => {
            eprintln!("nvrtc-check: {e}");
            return ExitCode::from(2);
        }
    }
    let (mut ok, mut failed) = (0usize, 0usize);
    for src in SOURCES {
        // Compile the source once per architecture; every kernel in it shares
        // the outcome, plus the check that its own symbol was found.
        let mut results = Vec::new();
        for &sm in &archs {
            let t0 = Instant::now();
            let r = compile::compile(src, Target::Cubin(sm));
            results.push((sm, r, t0.elapsed().as_secs_f64() * 1e3));
        }
        for kernel in src.kernels {
            let mut line = format!("{:<28} {:<12}", kernel, format!("{}.cu", src.name));
            let mut good = true;
            for (sm, r, ms) in &results {
                match r {
                    Ok(c) if c.symbols.contains_key(*kernel) => {
                        line += &format!(
                            " sm_{sm} ok ({ms:.0} ms, {} KiB)",
                            c.image.len().div_ceil(1024)
                        )
                    }
                    Ok(_) => {
                        good = false;
                        line += &format!(" sm_{sm} MISSING");
                    }
                    Err(_) => {
                        good = false;
                        line += &format!(" sm_{sm} FAILED");
                    }
                }
            }
            println!("{} {line}", if good { "ok  " } else { "FAIL" });
            if good {
                ok += 1;
            } else {
                failed += 1;
            }
        }
        let mut shown = std::collections::BTreeSet::new();
        for (_, r, _) in &results {
            if let Err(e) = r {
                if shown.insert(e.log.clone()) {
                    for l in e.to_string().lines() {
                        println!("    {l}");
                    }
                }
            }
        }
    }
    println!("{ok} kernels compiled, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
