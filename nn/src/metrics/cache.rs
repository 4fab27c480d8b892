//! Real-image statistics cached on disk, keyed by the dataset's content hash
//! and every option that changes them (not by the dataset's path), written
//! atomically (temporary file in the same folder, then rename).
//!
//! File layout: `TCGANFS1`, a little-endian u64 header length, a JSON header
//! listing the statistics, then their raw little-endian arrays in order.

use super::error::{MetricError, Result};
use super::extract::Features;
use super::feature_stats::FeatureStats;
use serde_json::{json, Value};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TCGANFS1";

/// SHA-1 of a file's bytes, or of a folder's files (relative paths, sizes and
/// bytes, in sorted order): the same data gives the same hash wherever it lives.
pub fn content_hash(path: &Path) -> Result<String> {
    let io = |source| MetricError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut h = sha1_smol::Sha1::new();
    let mut files = Vec::new();
    let meta = fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).map_err(io)? {
                let p = e.map_err(io)?.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let rel = f.strip_prefix(path).unwrap_or(f);
        h.update(rel.to_string_lossy().as_bytes());
        h.update(&[0]);
        let mut file = fs::File::open(f).map_err(|source| MetricError::Io {
            path: f.clone(),
            source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        h.update(&len.to_le_bytes());
        loop {
            let n = file.read(&mut buf).map_err(|source| MetricError::Io {
                path: f.clone(),
                source,
            })?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(h.digest().to_string())
}

pub struct StatsCache {
    dir: PathBuf,
}

impl StatsCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StatsCache { dir: dir.into() }
    }

    /// `<TCGAN_CACHE_DIR or ~/.cache/tcgan>/gan-metrics`.
    pub fn default_location() -> Self {
        Self::new(crate::inception::cache_dir().join("gan-metrics"))
    }

    /// The file for dataset `name` with the options `key_parts` (the content
    /// hash among them).
    pub fn path(&self, name: &str, key_parts: &[(&str, String)]) -> PathBuf {
        let mut h = sha1_smol::Sha1::new();
        for (k, v) in key_parts {
            h.update(format!("{k}={v}\n").as_bytes());
        }
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        self.dir.join(format!("{safe}-{}.stats", h.digest()))
    }

    /// The cached statistics, `None` when there are none; an error when the
    /// file exists but is damaged.
    pub fn load(&self, path: &Path) -> Result<Option<Features>> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(MetricError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        decode(&bytes).map(Some).map_err(|msg| MetricError::Cache {
            path: path.to_path_buf(),
            msg: format!("damaged statistics cache: {msg}"),
        })
    }

    /// Writes atomically: a reader sees the old file or the whole new one.
    pub fn store(&self, path: &Path, f: &Features) -> Result<()> {
        let io = |source| MetricError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&encode(f))?;
            file.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
        fs::rename(&tmp, path).map_err(io)
    }
}

fn entries(f: &Features) -> impl Iterator<Item = &FeatureStats> {
    std::iter::once(&f.global).chain(&f.per_class)
}

fn encode(f: &Features) -> Vec<u8> {
    let header: Vec<Value> = entries(f)
        .map(|s| {
            json!({
                "num_features": s.num_features,
                "num_items": s.num_items,
                "max_items": s.max_items,
                "all": s.all.is_some(),
                "mean_cov": s.raw_mean.is_some(),
            })
        })
        .collect();
    let header = serde_json::to_vec(&header).expect("plain JSON");
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for s in entries(f) {
        for v in s.all.iter().flatten() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in s
            .raw_mean
            .iter()
            .flatten()
            .chain(s.raw_cov.iter().flatten())
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

fn decode(b: &[u8]) -> std::result::Result<Features, String> {
    if b.len() < 16 || &b[..8] != MAGIC {
        return Err("not a tcgan statistics file".into());
    }
    let hlen = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")) as usize;
    let header = b
        .get(16..16usize.saturating_add(hlen))
        .ok_or("truncated header")?;
    let header: Vec<Value> =
        serde_json::from_slice(header).map_err(|e| format!("bad header: {e}"))?;
    let mut pos = 16 + hlen;
    let mut take = |n: usize, size: usize| -> std::result::Result<&[u8], String> {
        let len = n.checked_mul(size).ok_or("size overflow")?;
        let s = b
            .get(pos..pos.checked_add(len).ok_or("size overflow")?)
            .ok_or("truncated data")?;
        pos += len;
        Ok(s)
    };
    let mut stats = Vec::new();
    for h in &header {
        let int = |k: &str| {
            h.get(k)
                .and_then(Value::as_u64)
                .map(|v| v as usize)
                .ok_or(format!("header lacks {k}"))
        };
        let flag = |k: &str| {
            h.get(k)
                .and_then(Value::as_bool)
                .ok_or(format!("header lacks {k}"))
        };
        let (d, n) = (int("num_features")?, int("num_items")?);
        let max_items = h
            .get("max_items")
            .and_then(Value::as_u64)
            .map(|v| v as usize);
        let mut s = FeatureStats::new(d, flag("all")?, flag("mean_cov")?, max_items);
        s.num_items = n;
        if s.all.is_some() {
            let raw = take(n.checked_mul(d).ok_or("size overflow")?, 4)?;
            s.all = Some(
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
                    .collect(),
            );
        }
        if s.raw_mean.is_some() {
            let f64s = |raw: &[u8]| -> Vec<f64> {
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8")))
                    .collect()
            };
            s.raw_mean = Some(f64s(take(d, 8)?));
            s.raw_cov = Some(f64s(take(d.checked_mul(d).ok_or("size overflow")?, 8)?));
        }
        stats.push(s);
    }
    if pos != b.len() {
        return Err(format!("{} bytes of trailing data", b.len() - pos));
    }
    let mut it = stats.into_iter();
    let global = it.next().ok_or("no statistics in file")?;
    Ok(Features {
        global,
        per_class: it.collect(),
    })
}
