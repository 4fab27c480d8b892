//! Read access to a dataset archive or image source: a folder (walked recursively) or a zip.
//!
//! Names are relative paths with `/` separators whatever the OS (a `\` in a zip entry name, as
//! some Windows tools write, is read as a separator too). Zip entries are read through a
//! shared file handle with positional reads, so threads read in parallel without reopening
//! the archive or parsing its central directory again.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{DatasetError, Location, Result};

/// Entries larger than this are refused (a zip bomb guard; 1 GiB is far above any image).
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// A folder or a zip archive, listed once at open.
pub struct Archive {
    path: PathBuf,
    names: Vec<String>,
    kind: Kind,
}

enum Kind {
    Dir,
    Zip {
        zip: zip::ZipArchive<SharedFile>,
        /// Our `/`-separated name -> the entry's own name.
        raw_names: std::collections::HashMap<String, String>,
    },
}

impl Archive {
    /// Opens a folder or a `.zip` file (told by its content, not its extension).
    pub fn open(path: &Path) -> Result<Archive> {
        let meta = std::fs::metadata(path).map_err(|e| DatasetError::io(path, e))?;
        if meta.is_dir() {
            let mut names = Vec::new();
            walk(path, path, &mut names)?;
            return Ok(Archive {
                path: path.to_path_buf(),
                names,
                kind: Kind::Dir,
            });
        }
        let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
        let shared = SharedFile::new(file).map_err(|e| DatasetError::io(path, e))?;
        Self::from_zip_reader(path, shared)
    }

    fn from_zip_reader(path: &Path, reader: SharedFile) -> Result<Archive> {
        let zip = zip::ZipArchive::new(reader).map_err(|e| DatasetError::zip(path, e))?;
        let mut names = Vec::new();
        let mut raw_names = std::collections::HashMap::new();
        for raw in zip.file_names() {
            let raw = raw.map_err(|e| DatasetError::zip(path, e))?;
            if raw.ends_with('/') || raw.ends_with('\\') {
                continue;
            }
            let name = raw.replace('\\', "/");
            names.push(name.clone());
            raw_names.insert(name, raw.to_string());
        }
        Ok(Archive {
            path: path.to_path_buf(),
            names,
            kind: Kind::Zip { zip, raw_names },
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_zip(&self) -> bool {
        matches!(self.kind, Kind::Zip { .. })
    }

    /// Every file in the archive (folders excluded), in no particular order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn contains(&self, name: &str) -> bool {
        match &self.kind {
            Kind::Dir => self.path.join(name).is_file(),
            Kind::Zip { raw_names, .. } => raw_names.contains_key(name),
        }
    }

    /// How a name is shown in errors: `archive.zip:dir/file.png` or `folder/dir/file.png`.
    pub fn location(&self, name: &str) -> Location {
        match self.kind {
            Kind::Dir => Location::from(self.path.join(name)),
            Kind::Zip { .. } => Location(format!("{}:{}", self.path.display(), name)),
        }
    }

    /// Reads one file; safe to call from many threads at once.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        match &self.kind {
            Kind::Dir => {
                let p = self.path.join(name);
                let len = std::fs::metadata(&p)
                    .map_err(|e| DatasetError::io(&p, e))?
                    .len();
                if len > MAX_ENTRY_BYTES {
                    return Err(DatasetError::invalid(
                        p,
                        format!("file too large ({len} bytes)"),
                    ));
                }
                std::fs::read(&p).map_err(|e| DatasetError::io(&p, e))
            }
            Kind::Zip { zip, raw_names } => {
                let loc = || self.location(name);
                let raw = raw_names
                    .get(name)
                    .ok_or_else(|| DatasetError::invalid(loc(), "no such entry"))?;
                let mut zip = zip.clone();
                let mut entry = zip.by_name(raw).map_err(|e| DatasetError::zip(loc(), e))?;
                let size = entry.size();
                if size > MAX_ENTRY_BYTES {
                    return Err(DatasetError::invalid(
                        loc(),
                        format!("entry too large ({size} bytes)"),
                    ));
                }
                let mut buf = Vec::with_capacity(size as usize);
                (&mut entry)
                    .take(MAX_ENTRY_BYTES + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| DatasetError::zip(loc(), e))?;
                if buf.len() as u64 > MAX_ENTRY_BYTES {
                    return Err(DatasetError::invalid(loc(), "entry too large"));
                }
                Ok(buf)
            }
        }
    }
}

/// Recursive listing; symlinks to files are followed, symlinked folders are not (no cycles).
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DatasetError::io(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| DatasetError::io(&path, e))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            let rel = path.strip_prefix(root).expect("walk stays under its root");
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| DatasetError::invalid(&path, "file name is not valid UTF-8"))?;
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// A file shared between clones, read with positional reads so clones never disturb each other.
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl SharedFile {
    pub fn new(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
        })
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}
