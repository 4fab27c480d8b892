//! Reading `cifar-10-python.tar.gz` and `cifar-100-python.tar.gz` (the python-pickle batches).

use std::io::Read;
use std::path::Path;

use super::error::{DatasetError, Location, Result};
use super::image::Image;
use super::pickle::{self, Value};

/// Which CIFAR tarball, told by its file name as in the official tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CifarKind {
    Cifar10,
    Cifar100,
}

impl CifarKind {
    pub fn from_file_name(path: &Path) -> Option<CifarKind> {
        match path.file_name()?.to_str()? {
            "cifar-10-python.tar.gz" => Some(CifarKind::Cifar10),
            "cifar-100-python.tar.gz" => Some(CifarKind::Cifar100),
            _ => None,
        }
    }

    /// The training members, in the order the official tool concatenates them.
    fn members(self) -> Vec<String> {
        match self {
            CifarKind::Cifar10 => (1..=5)
                .map(|b| format!("cifar-10-batches-py/data_batch_{b}"))
                .collect(),
            CifarKind::Cifar100 => vec!["cifar-100-python/train".to_string()],
        }
    }

    fn label_key(self) -> &'static str {
        match self {
            CifarKind::Cifar10 => "labels",
            CifarKind::Cifar100 => "fine_labels",
        }
    }
}

/// The training images (32x32 RGB) and their class indices.
pub fn read_cifar(path: &Path, kind: CifarKind) -> Result<Vec<(Image, u64)>> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let wanted = kind.members();
    let mut batches: Vec<Option<Vec<u8>>> = vec![None; wanted.len()];
    let entries = tar.entries().map_err(|e| DatasetError::cifar(path, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| DatasetError::cifar(path, e))?;
        let name = entry
            .path()
            .map_err(|e| DatasetError::cifar(path, e))?
            .to_string_lossy()
            .to_string();
        if let Some(i) = wanted.iter().position(|w| *w == name) {
            let mut buf = Vec::new();
            entry
                .read_to_end(&mut buf)
                .map_err(|e| DatasetError::cifar(path, e))?;
            batches[i] = Some(buf);
        }
    }
    let mut out = Vec::new();
    for (name, data) in wanted.iter().zip(batches) {
        let loc = Location(format!("{}:{}", path.display(), name));
        let data =
            data.ok_or_else(|| DatasetError::cifar(path, format!("member {name} is missing")))?;
        out.extend(parse_batch(&data, kind.label_key(), loc)?);
    }
    Ok(out)
}

/// Parses one pickled batch: a dict with `data` (uint8 array [N, 3072], CHW rows) and a list
/// of labels.
pub fn parse_batch(bytes: &[u8], label_key: &str, loc: Location) -> Result<Vec<(Image, u64)>> {
    let bad = |msg: String| DatasetError::cifar(loc.clone(), msg);
    let value = pickle::parse(bytes).map_err(|e| bad(e.to_string()))?;
    let data = value
        .dict_get("data")
        .ok_or_else(|| bad("no \"data\" key".into()))?;
    let (rows, cols, raw) = numpy_u8_matrix(data)
        .ok_or_else(|| bad("\"data\" is not a uint8 numpy array of shape [N, 3072]".into()))?;
    if cols != 3 * 32 * 32 {
        return Err(bad(format!("\"data\" has {cols} columns, expected 3072")));
    }
    let labels = match value.dict_get(label_key).map(|v| &**v) {
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match **v {
                Value::Int(i) if i >= 0 => Some(i as u64),
                _ => None,
            })
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| {
                bad(format!(
                    "\"{label_key}\" holds a value that is not a class index"
                ))
            })?,
        _ => return Err(bad(format!("no \"{label_key}\" list"))),
    };
    if labels.len() != rows {
        return Err(bad(format!("{} labels for {rows} images", labels.len())));
    }
    let plane = 32 * 32;
    Ok(raw
        .chunks_exact(cols)
        .zip(labels)
        .map(|(chw, label)| {
            let mut hwc = Vec::with_capacity(cols);
            for i in 0..plane {
                hwc.extend_from_slice(&[chw[i], chw[plane + i], chw[2 * plane + i]]);
            }
            (Image::new(32, 32, 3, hwc), label)
        })
        .collect())
}

/// Recognises `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')` with the state
/// `(1, (rows, cols), dtype('u1'), False, raw)` and returns `(rows, cols, raw)`.
fn numpy_u8_matrix(v: &Value) -> Option<(usize, usize, Vec<u8>)> {
    let Value::Object {
        callable,
        state: Some(state),
        ..
    } = v
    else {
        return None;
    };
    match &**callable {
        Value::Global { module, name }
            if (module == "numpy.core.multiarray" || module == "numpy._core.multiarray")
                && name == "_reconstruct" => {}
        _ => return None,
    }
    let Value::Tuple(st) = &**state else {
        return None;
    };
    if st.len() != 5 {
        return None;
    }
    let Value::Tuple(shape) = &*st[1] else {
        return None;
    };
    let dims: Vec<usize> = shape
        .iter()
        .map(|d| match **d {
            Value::Int(i) if i >= 0 => Some(i as usize),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let [rows, cols] = dims[..] else { return None };
    // dtype('u1', 0, 1): an object whose args start with the type code.
    let Value::Object { args, .. } = &*st[2] else {
        return None;
    };
    let Value::Tuple(dargs) = &**args else {
        return None;
    };
    match dargs.first().map(|a| &**a) {
        Some(Value::Str(code)) if code == "u1" => {}
        _ => return None,
    }
    if *st[3] != Value::Bool(false) && *st[3] != Value::Int(0) {
        return None;
    }
    let raw = st[4].as_latin1_bytes()?;
    (rows.checked_mul(cols)? == raw.len()).then_some((rows, cols, raw))
}
