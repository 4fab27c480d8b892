//! Reading a TorchScript archive (a zip holding `data.pkl` and one raw
//! little-endian file per storage) into the module tree and float32 tensors.

use super::error::InceptionError;
use super::pickle::{self, StorageType, TensorRef, Value};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use zip::ZipArchive;

/// `data.pkl` larger than this is not a module pickle (Inception's is 28 KB).
const MAX_PICKLE_BYTES: u64 = 16 << 20;

pub struct TorchArchive {
    path: PathBuf,
    zip: ZipArchive<BufReader<File>>,
    /// The archive's top folder (`out_jit_module` for default_1.pt).
    prefix: String,
}

/// A float32 tensor read from an archive, row-major.
pub struct HostTensor {
    pub data: Vec<f32>,
    pub shape: Vec<usize>,
}

impl TorchArchive {
    pub fn open(path: &Path) -> Result<TorchArchive, InceptionError> {
        if !path.exists() {
            return Err(InceptionError::Missing {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(|source| InceptionError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let zip = ZipArchive::new(BufReader::new(file)).map_err(|e| InceptionError::Format {
            path: path.to_path_buf(),
            msg: format!("not a readable zip ({e})"),
        })?;
        let prefix = zip
            .file_names_raw()
            .filter_map(|n| std::str::from_utf8(n).ok())
            .find_map(|n| {
                n.strip_suffix("/data.pkl")
                    .filter(|p| !p.is_empty() && !p.contains('/'))
                    .map(str::to_string)
            })
            .ok_or_else(|| InceptionError::Format {
                path: path.to_path_buf(),
                msg: "no <folder>/data.pkl entry".into(),
            })?;
        Ok(TorchArchive {
            path: path.to_path_buf(),
            zip,
            prefix,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn format_err(&self, msg: impl Into<String>) -> InceptionError {
        InceptionError::Format {
            path: self.path.clone(),
            msg: msg.into(),
        }
    }

    /// The bytes of entry `<prefix>/<rel>`, which must hold exactly `expect`
    /// bytes when given, and at most `limit` otherwise.
    fn entry(
        &mut self,
        rel: &str,
        expect: Option<u64>,
        limit: u64,
    ) -> Result<Vec<u8>, InceptionError> {
        let name = format!("{}/{rel}", self.prefix);
        let path = self.path.clone();
        let format_err = |msg: String| InceptionError::Format {
            path: path.clone(),
            msg,
        };
        let mut f = self
            .zip
            .by_name(&name)
            .map_err(|e| format_err(format!("entry {name}: {e}")))?;
        let size = f.size();
        if let Some(n) = expect {
            if size != n {
                return Err(format_err(format!(
                    "entry {name} holds {size} bytes, expected {n}"
                )));
            }
        } else if size > limit {
            return Err(format_err(format!(
                "entry {name} is too large ({size} bytes)"
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        match f.read_to_end(&mut buf) {
            Ok(n) if n as u64 == size => Ok(buf),
            Ok(n) => Err(format_err(format!(
                "entry {name}: read {n} of {size} bytes"
            ))),
            Err(e) => Err(format_err(format!("entry {name}: {e}"))),
        }
    }

    /// The module tree of `data.pkl`.
    pub fn root(&mut self) -> Result<Value, InceptionError> {
        let bytes = self.entry("data.pkl", None, MAX_PICKLE_BYTES)?;
        let name = format!("{}:{}/data.pkl", self.path.display(), self.prefix);
        Ok(pickle::read(&bytes, &name)?)
    }

    /// The values of a tensor: its storage file must hold exactly the storage's
    /// elements and the tensor must be a contiguous row-major slice of it.
    pub fn tensor(&mut self, t: &TensorRef) -> Result<HostTensor, InceptionError> {
        let StorageType::Float = t.storage.dtype;
        let numel = t
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| self.format_err("tensor size overflows"))?;
        let mut expect = 1usize;
        for (&d, &s) in t.shape.iter().zip(&t.stride).rev() {
            if d > 1 && s != expect {
                return Err(self.format_err(format!(
                    "storage {}: tensor of size {:?} has non-contiguous strides {:?}",
                    t.storage.key, t.shape, t.stride
                )));
            }
            expect = expect.saturating_mul(d);
        }
        let end = t.offset.checked_add(numel);
        if end.is_none_or(|e| e > t.storage.numel) {
            return Err(self.format_err(format!(
                "storage {}: tensor of size {:?} at offset {} overruns {} elements",
                t.storage.key, t.shape, t.offset, t.storage.numel
            )));
        }
        let bytes = (t.storage.numel as u64)
            .checked_mul(4)
            .ok_or_else(|| self.format_err("storage size overflows"))?;
        let raw = self.entry(&format!("data/{}", t.storage.key), Some(bytes), 0)?;
        let data = raw[t.offset * 4..(t.offset + numel) * 4]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(HostTensor {
            data,
            shape: t.shape.clone(),
        })
    }
}
