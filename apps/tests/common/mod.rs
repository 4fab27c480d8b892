//! Helpers shared by the integration tests: the golden folder, safetensors, running the binary.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tcgan_apps::dataset::archive::Archive;
use tcgan_apps::dataset::decode::decode_image;
use tcgan_apps::dataset::Image;

/// `../shared/golden` beside the repository, or `TCGAN_GOLDEN_DIR`.
pub fn golden_dir() -> PathBuf {
    let dir = match std::env::var_os("TCGAN_GOLDEN_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden"),
    };
    assert!(
        dir.join("manifest.json").is_file(),
        "golden reference data not found at {} (set TCGAN_GOLDEN_DIR to the shared/golden folder)",
        dir.display()
    );
    dir
}

/// The manifest entry of a case.
pub fn manifest_case(id: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(golden_dir().join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("case {id}"))
        .clone()
}

/// Every uint8 tensor of a safetensors file as (shape, bytes).
pub fn read_tensors(path: &Path) -> HashMap<String, (Vec<usize>, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, t)| (name.to_string(), (t.shape().to_vec(), t.data().to_vec())))
        .collect()
}

/// An HW or HWC uint8 tensor as an image.
pub fn tensor_image((shape, data): &(Vec<usize>, Vec<u8>)) -> Image {
    let c = if shape.len() == 3 { shape[2] } else { 1 };
    Image::new(shape[1], shape[0], c, data.clone())
}

/// Decoded images of an archive, by name, plus its parsed dataset.json.
pub fn read_archive(path: &Path) -> (HashMap<String, Image>, serde_json::Value) {
    let a = Archive::open(path).unwrap();
    let mut images = HashMap::new();
    for n in a.names() {
        if n.ends_with(".png") {
            images.insert(
                n.clone(),
                decode_image(&a.read(n).unwrap(), n.as_str()).unwrap().image,
            );
        }
    }
    let json = serde_json::from_slice(&a.read("dataset.json").unwrap()).unwrap();
    (images, json)
}

pub fn max_abs_diff(a: &Image, b: &Image) -> u8 {
    assert_eq!(
        (a.width, a.height, a.channels),
        (b.width, b.height, b.channels),
        "shapes differ"
    );
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn dataset_tool(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_dataset_tool"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// A fresh, empty folder under the target dir for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, relative, sorted.
pub fn list_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
