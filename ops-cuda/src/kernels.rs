//! The list of kernel sources: one line per op folder. Each source is compiled
//! on its own by NVRTC (at first use, or by `nvrtc-check`), with the prelude and
//! the op codes that its Rust side generates in front of it.

use crate::{
    bias_act, binary, conv, fill, grid_sample, index, modulate_weight, movement, pool2d, reduce,
    unary, upfirdn2d,
};

/// One `.cu` file and the kernels the backend looks up in it.
pub struct KernelSource {
    /// The file name without `.cu`, also the program name in compiler messages.
    pub name: &'static str,
    pub code: &'static str,
    /// C++ name expressions of every kernel instantiation launched from Rust,
    /// e.g. `unary<float>`; NVRTC instantiates them and reports their symbols.
    pub kernels: &'static [&'static str],
    /// `#define`s generated from the Rust tables of the op (op codes), so that
    /// the numbering exists in one place only.
    pub defines: fn() -> String,
}

/// Every kernel source; an op adds its line here.
pub const SOURCES: &[KernelSource] = &[
    fill::SOURCE,
    unary::SOURCE,
    binary::SOURCE,
    reduce::SOURCE,
    movement::SOURCE,
    index::SOURCE,
    conv::SOURCE,
    grid_sample::SOURCE,
    pool2d::SOURCE,
    bias_act::SOURCE,
    upfirdn2d::SOURCE,
    modulate_weight::SOURCE,
];

pub const PRELUDE: &str = include_str!("prelude.cuh");

/// Name expressions of a kernel template instantiated for f32 and f64.
macro_rules! float_kernels {
    ($($base:literal),* $(,)?) => {
        &[$(concat!($base, "<float>"), concat!($base, "<double>")),*]
    };
}
pub(crate) use float_kernels;

/// No generated definitions.
pub fn no_defines() -> String {
    String::new()
}

impl KernelSource {
    /// The full text given to NVRTC; `#line` keeps error messages pointing into
    /// the `.cu` file.
    pub fn text(&self) -> String {
        format!(
            "{PRELUDE}\n{}\n#line 1 \"{}.cu\"\n{}",
            (self.defines)(),
            self.name,
            self.code
        )
    }

    /// The source that holds a kernel, by name expression.
    pub fn find(kernel: &str) -> Option<&'static KernelSource> {
        SOURCES.iter().find(|s| s.kernels.contains(&kernel))
    }
}

/// `#define <prefix>_<NAME> <index>` for each name, the op codes of a kernel.
pub fn code_defines(prefix: &str, names: &[&str]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("#define {prefix}_{n} {i}\n"))
        .collect()
}

/// The index of `name` in an op-code table (the tables are small and fixed).
pub fn code_of(names: &[&str], name: &str) -> i32 {
    names
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("op code {name} missing from its table")) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_are_unique_across_sources() {
        let mut all: Vec<&str> = SOURCES
            .iter()
            .flat_map(|s| s.kernels.iter().copied())
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a kernel name expression appears twice");
    }

    #[test]
    fn every_cu_file_is_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "cu") {
                    found.push(f.file_stem().unwrap().to_string_lossy().to_string());
                }
            }
        }
        for name in &found {
            assert!(
                SOURCES.iter().any(|s| s.name == name),
                "{name}.cu is not in kernels::SOURCES"
            );
        }
        assert_eq!(found.len(), SOURCES.len());
    }

    #[test]
    fn every_kernel_template_is_defined_in_its_source() {
        for s in SOURCES {
            for k in s.kernels {
                let base = k.split('<').next().unwrap();
                assert!(
                    s.code.contains(&format!("void {base}(")),
                    "{}.cu defines no kernel {base}",
                    s.name
                );
            }
        }
    }
}
