//! Kernel compilation with NVRTC: for the GPU's own architecture to SASS (a
//! cubin, which runs on any driver of the build's CUDA major version), or to PTX for the newest
//! architecture NVRTC knows when the GPU is newer than that. Results are cached
//! per process by source and target, so every kernel is compiled at most once.

use crate::kernels::KernelSource;
use cudarc::nvrtc::{result as nvrtc, sys};
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// What NVRTC produces for a GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Machine code for `sm_XY` (`XY` = major * 10 + minor).
    Cubin(u32),
    /// PTX for `compute_XY`, compiled further by the driver when loaded.
    Ptx(u32),
}

impl Target {
    pub fn arch_flag(&self) -> String {
        match self {
            Target::Cubin(sm) => format!("--gpu-architecture=sm_{sm}"),
            Target::Ptx(sm) => format!("--gpu-architecture=compute_{sm}"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Cubin(sm) => write!(f, "sm_{sm}"),
            Target::Ptx(sm) => write!(f, "compute_{sm} (PTX)"),
        }
    }
}

/// A compiled source: its image and the symbol of every kernel it lists.
#[derive(Debug)]
pub struct Compiled {
    pub target: Target,
    /// A cubin, or NUL-free PTX text.
    pub image: Vec<u8>,
    /// Name expression (`unary<float>`) -> mangled symbol.
    pub symbols: HashMap<String, String>,
    /// Compiler warnings, if any.
    pub log: String,
}

/// Why a source did not compile; `log` is NVRTC's message with file and line.
#[derive(Debug, Clone)]
pub struct CompileError {
    pub source: String,
    pub target: Target,
    pub log: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NVRTC could not compile {}.cu for {}:\n{}",
            self.source,
            self.target,
            self.log.trim_end()
        )
    }
}

impl std::error::Error for CompileError {}

/// Whether libnvrtc (of the CUDA major version this crate was built for) loads.
pub fn nvrtc_present() -> bool {
    // SAFETY: only tries to open the library by its usual names.
    unsafe { sys::is_culib_present() }
}

/// NVRTC's version as (major, minor).
pub fn nvrtc_version() -> Result<(i32, i32), String> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: two valid out-pointers.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| format!("nvrtcVersion failed: {e:?}"))?;
    Ok((major, minor))
}

/// The `sm_XY` numbers NVRTC can compile for, ascending.
pub fn supported_archs() -> Result<Vec<u32>, String> {
    let mut n = 0;
    // SAFETY: valid out-pointer; then a buffer of exactly n entries.
    unsafe { sys::nvrtcGetNumSupportedArchs(&mut n) }
        .result()
        .map_err(|e| format!("nvrtcGetNumSupportedArchs failed: {e:?}"))?;
    let mut archs = vec![0i32; n.max(0) as usize];
    unsafe { sys::nvrtcGetSupportedArchs(archs.as_mut_ptr()) }
        .result()
        .map_err(|e| format!("nvrtcGetSupportedArchs failed: {e:?}"))?;
    let mut out: Vec<u32> = archs.into_iter().map(|a| a as u32).collect();
    out.sort_unstable();
    Ok(out)
}

/// The target for a GPU of compute capability `sm` given NVRTC's archs.
pub fn target_for(sm: u32, supported: &[u32]) -> Result<Target, String> {
    if supported.contains(&sm) {
        return Ok(Target::Cubin(sm));
    }
    match supported.iter().rev().find(|&&a| a <= sm) {
        Some(&a) => Ok(Target::Ptx(a)),
        None => Err(format!(
            "the GPU's architecture sm_{sm} is older than any this NVRTC supports ({})",
            supported
                .iter()
                .map(|a| format!("sm_{a}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Destroys an NVRTC program when it goes out of scope.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: created by create_program and destroyed only here.
        let _ = unsafe { nvrtc::destroy_program(self.0) };
    }
}

fn c_chars_to_string(v: Vec<c_char>) -> String {
    let bytes: Vec<u8> = v
        .into_iter()
        .map(|c| c as u8)
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Compiles one source for `target`, uncached.
pub fn compile(src: &KernelSource, target: Target) -> Result<Compiled, CompileError> {
    let fail = |log: String| CompileError {
        source: src.name.to_string(),
        target,
        log,
    };
    let text = CString::new(src.text()).map_err(|_| fail("source contains a NUL byte".into()))?;
    let file = CString::new(format!("{}.cu", src.name)).expect("no NUL in a file name");
    let prog = Program(
        nvrtc::create_program(&text, Some(&file))
            .map_err(|e| fail(format!("nvrtcCreateProgram failed: {e:?}")))?,
    );
    let names: Vec<CString> = src
        .kernels
        .iter()
        .map(|k| CString::new(*k).expect("no NUL in a kernel name"))
        .collect();
    for n in &names {
        // SAFETY: valid program and NUL-terminated name, kept alive until the end.
        unsafe { sys::nvrtcAddNameExpression(prog.0, n.as_ptr()) }
            .result()
            .map_err(|e| fail(format!("nvrtcAddNameExpression({n:?}) failed: {e:?}")))?;
    }
    let options = [target.arch_flag(), "--std=c++17".to_string()];
    // SAFETY: valid program.
    let compiled = unsafe { nvrtc::compile_program(prog.0, &options) };
    let log = unsafe { nvrtc::get_program_log(prog.0) }
        .map(c_chars_to_string)
        .unwrap_or_default();
    if let Err(e) = compiled {
        return Err(fail(if log.trim().is_empty() {
            format!("{e:?}")
        } else {
            log
        }));
    }
    let image = match target {
        Target::Ptx(_) => {
            let ptx = unsafe { nvrtc::get_ptx(prog.0) }
                .map_err(|e| fail(format!("nvrtcGetPTX failed: {e:?}")))?;
            c_chars_to_string(ptx).into_bytes()
        }
        Target::Cubin(_) => {
            let mut size = 0usize;
            // SAFETY: valid program, out-pointer, then a buffer of `size` bytes.
            unsafe { sys::nvrtcGetCUBINSize(prog.0, &mut size) }
                .result()
                .map_err(|e| fail(format!("nvrtcGetCUBINSize failed: {e:?}")))?;
            let mut buf = vec![0u8; size];
            unsafe { sys::nvrtcGetCUBIN(prog.0, buf.as_mut_ptr() as *mut c_char) }
                .result()
                .map_err(|e| fail(format!("nvrtcGetCUBIN failed: {e:?}")))?;
            buf
        }
    };
    let mut symbols = HashMap::new();
    for (k, n) in src.kernels.iter().zip(&names) {
        let mut lowered: *const c_char = std::ptr::null();
        // SAFETY: the name was added before compiling; the returned string is
        // owned by the program and copied before the program is destroyed.
        unsafe { sys::nvrtcGetLoweredName(prog.0, n.as_ptr(), &mut lowered) }
            .result()
            .map_err(|e| fail(format!("no kernel {k} in {}.cu ({e:?})", src.name)))?;
        if lowered.is_null() {
            return Err(fail(format!("no kernel {k} in {}.cu", src.name)));
        }
        let sym = unsafe { CStr::from_ptr(lowered) }
            .to_string_lossy()
            .into_owned();
        symbols.insert(k.to_string(), sym);
    }
    Ok(Compiled {
        target,
        image,
        symbols,
        log,
    })
}

type Cache = Mutex<HashMap<(&'static str, Target), Arc<Compiled>>>;

/// Compiles a source for a target once per process (two GPUs of one
/// architecture share the result).
pub fn compile_cached(
    src: &'static KernelSource,
    target: Target,
) -> Result<Arc<Compiled>, CompileError> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache
        .lock()
        .expect("compile cache")
        .get(&(src.name, target))
    {
        return Ok(c.clone());
    }
    // Compiled outside the lock: other sources can compile meanwhile; a rare
    // duplicate compile of the same source is harmless.
    let compiled = Arc::new(compile(src, target)?);
    cache
        .lock()
        .expect("compile cache")
        .insert((src.name, target), compiled.clone());
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_prefers_the_gpus_own_architecture() {
        let s = [75, 80, 86, 89, 90];
        assert_eq!(target_for(86, &s).unwrap(), Target::Cubin(86));
        assert_eq!(target_for(120, &s).unwrap(), Target::Ptx(90));
        assert_eq!(target_for(87, &s).unwrap(), Target::Ptx(86));
        assert!(target_for(61, &s).unwrap_err().contains("sm_61"));
    }
}
