//! Checkpoints: one safetensors file holding any number of modules under key
//! prefixes (`G.`, `D.`, `G_ema.`, ...), each tensor under its official
//! `state_dict` key, and a JSON header (`__metadata__`) that describes every
//! network it holds (class and constructor kwargs), so that a file alone
//! rebuilds its networks. Writes go to a temporary file that is then renamed:
//! a crash never leaves a half-written checkpoint.
//!
//! Header entries: `format` = `tcgan-checkpoint`, `version` = `1`, `modules` =
//! `{"G": {"class": "Generator", "kwargs": {...}}, ...}`, plus any entries the
//! caller adds (training state, ...).

use crate::module::Module;
use crate::networks::{
    Discriminator, DiscriminatorKwargs, Generator, GeneratorKwargs, MappingNetwork,
    MappingNetworkKwargs,
};
use crate::{Error, Init, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use tcgan_core::{DType, Device, Generator as Rng, HostBuffer, Tensor};

pub const FORMAT: &str = "tcgan-checkpoint";
pub const VERSION: &str = "1";

/// A module that a checkpoint can rebuild: its class and constructor kwargs.
pub trait Network: Module {
    fn class_name(&self) -> &'static str;
    fn kwargs_json(&self) -> Value;
}

impl Network for Generator {
    fn class_name(&self) -> &'static str {
        "Generator"
    }
    fn kwargs_json(&self) -> Value {
        serde_json::to_value(&self.kwargs).expect("kwargs serialize")
    }
}

impl Network for Discriminator {
    fn class_name(&self) -> &'static str {
        "Discriminator"
    }
    fn kwargs_json(&self) -> Value {
        serde_json::to_value(&self.kwargs).expect("kwargs serialize")
    }
}

impl Network for MappingNetwork {
    fn class_name(&self) -> &'static str {
        "MappingNetwork"
    }
    fn kwargs_json(&self) -> Value {
        serde_json::to_value(&self.kwargs).expect("kwargs serialize")
    }
}

/// One tensor's value on the host, as stored.
#[derive(Debug, Clone)]
struct HostTensor {
    shape: Vec<usize>,
    data: HostBuffer,
}

impl HostTensor {
    fn bytes(&self) -> Vec<u8> {
        match &self.data {
            HostBuffer::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            HostBuffer::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            HostBuffer::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
    fn dtype(&self) -> Dtype {
        match self.data {
            HostBuffer::F32(_) => Dtype::F32,
            HostBuffer::F64(_) => Dtype::F64,
            HostBuffer::F16(_) => Dtype::F16,
        }
    }
}

struct View<'a> {
    dtype: Dtype,
    shape: &'a [usize],
    bytes: Vec<u8>,
}

impl safetensors::View for View<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn full_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Collects modules, tensors and header entries, then writes them at once.
#[derive(Default)]
pub struct CheckpointWriter {
    tensors: BTreeMap<String, HostTensor>,
    modules: Map<String, Value>,
    metadata: HashMap<String, String>,
}

impl CheckpointWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a network (every parameter and buffer, under `prefix.`) and its
    /// description in the header, so that the file can rebuild it.
    pub fn add_network(&mut self, prefix: &str, net: &dyn Network) -> Result<&mut Self> {
        self.add_module_state(prefix, net)?;
        self.modules.insert(
            prefix.to_string(),
            json!({"class": net.class_name(), "kwargs": net.kwargs_json()}),
        );
        Ok(self)
    }

    /// Adds the tensors of any module under `prefix.` (no header entry).
    pub fn add_module_state(&mut self, prefix: &str, m: &dyn Module) -> Result<&mut Self> {
        for t in m.named_tensors() {
            self.add_tensor(&full_key(prefix, &t.key), &t.tensor)?;
        }
        Ok(self)
    }

    /// Adds one tensor (e.g. an optimizer moment) under `key`.
    pub fn add_tensor(&mut self, key: &str, t: &Tensor) -> Result<&mut Self> {
        if self.tensors.contains_key(key) {
            return Err(Error::state(key, "added twice to the checkpoint"));
        }
        self.tensors.insert(
            key.to_string(),
            HostTensor {
                shape: t.dims().to_vec(),
                data: t.to_host()?,
            },
        );
        Ok(self)
    }

    /// Adds a header entry (`format`, `version` and `modules` are reserved).
    pub fn set_metadata(&mut self, key: &str, value: impl Into<String>) -> Result<&mut Self> {
        if matches!(key, "format" | "version" | "modules") {
            return Err(Error::config(
                "checkpoint",
                format!("header entry {key:?} is reserved"),
            ));
        }
        self.metadata.insert(key.to_string(), value.into());
        Ok(self)
    }

    /// Writes the file atomically (a temporary file beside it, then a rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        let err = |msg: String| Error::Checkpoint {
            path: path.to_path_buf(),
            msg,
        };
        let mut meta = self.metadata.clone();
        meta.insert("format".into(), FORMAT.into());
        meta.insert("version".into(), VERSION.into());
        meta.insert(
            "modules".into(),
            Value::Object(self.modules.clone()).to_string(),
        );
        let views: Vec<(String, View)> = self
            .tensors
            .iter()
            .map(|(k, t)| {
                (
                    k.clone(),
                    View {
                        dtype: t.dtype(),
                        shape: &t.shape,
                        bytes: t.bytes(),
                    },
                )
            })
            .collect();
        let bytes = safetensors::serialize(views, Some(meta))
            .map_err(|e| err(format!("cannot serialize: {e}")))?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .ok_or_else(|| err("not a file path".into()))?
            .to_string_lossy();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!("cannot write: {e}")));
        }
        Ok(())
    }
}

/// Saves networks under their prefixes, e.g. `save(path, &[("G", &g), ("D", &d)])`.
pub fn save(path: &Path, networks: &[(&str, &dyn Network)]) -> Result<()> {
    let mut w = CheckpointWriter::new();
    for (prefix, net) in networks {
        w.add_network(prefix, *net)?;
    }
    w.write(path)
}

/// A checkpoint read into memory.
#[derive(Debug)]
pub struct Checkpoint {
    pub path: PathBuf,
    tensors: HashMap<String, HostTensor>,
    metadata: HashMap<String, String>,
    modules: Map<String, Value>,
}

fn host_tensor(name: &str, view: &TensorView) -> std::result::Result<HostTensor, String> {
    let raw = view.data();
    let data = match view.dtype() {
        Dtype::F32 => HostBuffer::F32(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect(),
        ),
        Dtype::F64 => HostBuffer::F64(
            raw.chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect(),
        ),
        // Half-size conversions load into the networks' f32 parameters.
        Dtype::F16 => HostBuffer::F16(
            raw.chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ),
        Dtype::BF16 => HostBuffer::F32(
            raw.chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        ),
        other => {
            return Err(format!(
                "tensor {name:?} has dtype {other:?}; F32, F64, F16 and BF16 are read (convert to float32)"
            ))
        }
    };
    Ok(HostTensor {
        shape: view.shape().to_vec(),
        data,
    })
}

impl Checkpoint {
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let err = |msg: String| Error::Checkpoint {
            path: path.to_path_buf(),
            msg,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| err(format!("not a valid safetensors file: {e}")))?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| err(format!("not a valid safetensors file: {e}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        match metadata.get("format").map(String::as_str) {
            Some(FORMAT) => {}
            Some(other) => return Err(err(format!("format {other:?} is not {FORMAT:?}"))),
            None => {
                return Err(err(
                    "no tcgan header (missing \"format\"); see the converter note".into(),
                ))
            }
        }
        if metadata.get("version").map(String::as_str) != Some(VERSION) {
            return Err(err(format!(
                "version {:?} is not supported (expected {VERSION})",
                metadata.get("version")
            )));
        }
        let modules = match metadata.get("modules") {
            None => Map::new(),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(err("header \"modules\" is not a JSON object".into())),
                Err(e) => return Err(err(format!("header \"modules\" is not valid JSON: {e}"))),
            },
        };
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            let t = host_tensor(&name, &view).map_err(err)?;
            tensors.insert(name, t);
        }
        Ok(Checkpoint {
            path: path.to_path_buf(),
            tensors,
            metadata,
            modules,
        })
    }

    fn err(&self, msg: String) -> Error {
        Error::Checkpoint {
            path: self.path.clone(),
            msg,
        }
    }

    /// The prefixes of the networks described in the header.
    pub fn networks(&self) -> Vec<String> {
        self.modules.keys().cloned().collect()
    }

    /// A header entry added by `CheckpointWriter::set_metadata`.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// The class name and kwargs of the network under `prefix`.
    pub fn network_entry(&self, prefix: &str) -> Result<(&str, &Value)> {
        let e = self.modules.get(prefix).ok_or_else(|| {
            self.err(format!(
                "no network {prefix:?} in the header (has {:?})",
                self.networks()
            ))
        })?;
        let class = e
            .get("class")
            .and_then(Value::as_str)
            .ok_or_else(|| self.err(format!("network {prefix:?} has no class")))?;
        let kwargs = e
            .get("kwargs")
            .ok_or_else(|| self.err(format!("network {prefix:?} has no kwargs")))?;
        Ok((class, kwargs))
    }

    fn kwargs<T: DeserializeOwned>(&self, prefix: &str, class: &str) -> Result<T> {
        let (c, kwargs) = self.network_entry(prefix)?;
        if c != class {
            return Err(self.err(format!("network {prefix:?} is a {c}, not a {class}")));
        }
        serde_json::from_value(kwargs.clone()).map_err(|e| {
            self.err(format!(
                "kwargs of {prefix:?} do not describe a {class}: {e}"
            ))
        })
    }

    /// Every tensor whose key starts with `prefix.`, keys without the prefix.
    pub fn state(&self, prefix: &str, device: &Device) -> Result<HashMap<String, Tensor>> {
        let p = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}.")
        };
        let mut out = HashMap::new();
        for (k, t) in &self.tensors {
            if let Some(rest) = k.strip_prefix(&p) {
                out.insert(
                    rest.to_string(),
                    Tensor::from_host(t.data.clone(), t.shape.clone(), device)?,
                );
            }
        }
        Ok(out)
    }

    /// One tensor by its full key.
    pub fn tensor(&self, key: &str, device: &Device) -> Result<Tensor> {
        let t = self
            .tensors
            .get(key)
            .ok_or_else(|| self.err(format!("no tensor {key:?}")))?;
        Ok(Tensor::from_host(t.data.clone(), t.shape.clone(), device)?)
    }

    /// Loads the tensors under `prefix.` into `m`: every key must be present
    /// with the module's shape, and none may be left over.
    pub fn load_into(&self, prefix: &str, m: &dyn Module, device: &Device) -> Result<()> {
        let state = self.state(prefix, device)?;
        if state.is_empty() {
            return Err(self.err(format!("no tensor under the prefix {prefix:?}")));
        }
        m.load_state(&state).map_err(|e| match e {
            Error::StateDict { key, msg } => self.err(format!("{}: {msg}", full_key(prefix, &key))),
            other => other,
        })
    }

    fn build<T: Module>(
        &self,
        prefix: &str,
        device: &Device,
        dtype: DType,
        make: impl FnOnce(&mut Init) -> Result<T>,
    ) -> Result<T> {
        // Every value is overwritten by the file; the initial draws do not matter.
        let mut rng = Rng::new(0);
        let mut init = Init::new(&mut rng, device, dtype);
        let net = make(&mut init)?;
        self.load_into(prefix, &net, device)?;
        Ok(net)
    }

    /// Rebuilds the Generator stored under `prefix` (e.g. `"G"`, `"G_ema"`).
    pub fn generator(&self, prefix: &str, device: &Device, dtype: DType) -> Result<Generator> {
        let kwargs: GeneratorKwargs = self.kwargs(prefix, "Generator")?;
        self.build(prefix, device, dtype, |init| Generator::new(init, &kwargs))
    }

    /// Rebuilds the Discriminator stored under `prefix` (e.g. `"D"`).
    pub fn discriminator(
        &self,
        prefix: &str,
        device: &Device,
        dtype: DType,
    ) -> Result<Discriminator> {
        let kwargs: DiscriminatorKwargs = self.kwargs(prefix, "Discriminator")?;
        self.build(prefix, device, dtype, |init| {
            Discriminator::new(init, &kwargs)
        })
    }

    /// Rebuilds a standalone MappingNetwork stored under `prefix`.
    pub fn mapping(&self, prefix: &str, device: &Device, dtype: DType) -> Result<MappingNetwork> {
        let kwargs: MappingNetworkKwargs = self.kwargs(prefix, "MappingNetwork")?;
        self.build(prefix, device, dtype, |init| {
            MappingNetwork::new(init, &kwargs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_tensors_are_read_and_others_named() {
        let values = [1.5f32, -2.0, 0.099_609_375];
        let bf16: Vec<u8> = values
            .iter()
            .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
            .collect();
        let view = TensorView::new(Dtype::BF16, vec![3], &bf16).unwrap();
        let t = host_tensor("w", &view).unwrap();
        assert_eq!(
            (t.shape, t.data),
            (vec![3], HostBuffer::F32(values.to_vec()))
        );

        let f16: Vec<u8> = values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let view = TensorView::new(Dtype::F16, vec![3], &f16).unwrap();
        assert_eq!(host_tensor("w", &view).unwrap().data.into_f32(), values);

        let ints = [0u8; 12];
        let view = TensorView::new(Dtype::I32, vec![3], &ints).unwrap();
        let e = host_tensor("w", &view).unwrap_err();
        assert!(e.contains("\"w\"") && e.contains("I32"), "{e}");
    }
}
