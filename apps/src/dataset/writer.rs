//! The output side of dataset_tool: a STORED zip or a folder, written under a temporary name
//! beside the destination and renamed into place only when complete, so that an interrupted or
//! failed run never leaves a valid-looking archive.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::{DatasetError, Result};
use super::image::Image;

/// Encodes an 8-bit L or RGB image as an uncompressed PNG (the official `compress_level=0`).
pub fn encode_png(img: &Image) -> Vec<u8> {
    let mut out = Vec::with_capacity(img.data.len() + img.height + 1024);
    let mut enc = png::Encoder::new(&mut out, img.width as u32, img.height as u32);
    enc.set_color(match img.channels {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        c => panic!("encode_png: {c} channels"),
    });
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::NoCompression);
    enc.set_filter(png::Filter::NoFilter);
    let mut w = enc.write_header().expect("PNG header to memory");
    w.write_image_data(&img.data).expect("PNG data to memory");
    w.finish().expect("PNG end to memory");
    out
}

enum Kind {
    Zip(Box<zip::ZipWriter<BufWriter<File>>>),
    Dir,
}

/// An archive being written; dropped without [`ArchiveWriter::commit`], it removes its
/// temporary file or folder.
pub struct ArchiveWriter {
    kind: Option<Kind>,
    tmp: PathBuf,
    dest: PathBuf,
}

/// `dest` names a zip when its extension is `.zip` (as in the official tool), a folder otherwise.
pub fn is_zip_dest(dest: &Path) -> bool {
    dest.extension().is_some_and(|e| e == "zip")
}

impl ArchiveWriter {
    pub fn create(dest: &Path) -> Result<ArchiveWriter> {
        if dest.as_os_str().is_empty() {
            return Err(DatasetError::Options("--dest must not be empty".into()));
        }
        let file_name = dest
            .file_name()
            .ok_or_else(|| DatasetError::invalid(dest, "--dest has no file name"))?
            .to_string_lossy()
            .to_string();
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| DatasetError::io(&parent, e))?;
        let tmp = parent.join(format!(".{file_name}.partial-{}", std::process::id()));
        if is_zip_dest(dest) {
            if dest.is_dir() {
                return Err(DatasetError::invalid(
                    dest,
                    "--dest ends in .zip but is a folder",
                ));
            }
            let file = File::create(&tmp).map_err(|e| DatasetError::io(&tmp, e))?;
            let zip = Box::new(zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file)));
            Ok(ArchiveWriter {
                kind: Some(Kind::Zip(zip)),
                tmp,
                dest: dest.to_path_buf(),
            })
        } else {
            if dest.is_file() {
                return Err(DatasetError::invalid(
                    dest,
                    "--dest is a file; give a folder or a .zip",
                ));
            }
            if dest.is_dir() {
                let mut entries = std::fs::read_dir(dest).map_err(|e| DatasetError::io(dest, e))?;
                if entries.next().is_some() {
                    return Err(DatasetError::invalid(dest, "--dest folder must be empty"));
                }
            }
            if tmp.exists() {
                std::fs::remove_dir_all(&tmp).map_err(|e| DatasetError::io(&tmp, e))?;
            }
            std::fs::create_dir(&tmp).map_err(|e| DatasetError::io(&tmp, e))?;
            Ok(ArchiveWriter {
                kind: Some(Kind::Dir),
                tmp,
                dest: dest.to_path_buf(),
            })
        }
    }

    /// Adds one file (`name` is `/`-separated).
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        match self.kind.as_mut().expect("writer used after commit") {
            Kind::Zip(zip) => {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored)
                    .large_file(bytes.len() as u64 >= u32::MAX as u64);
                zip.start_file(name, opts)
                    .map_err(|e| DatasetError::zip(&self.tmp, e))?;
                zip.write_all(bytes)
                    .map_err(|e| DatasetError::io(&self.tmp, e))
            }
            Kind::Dir => {
                let path = self.tmp.join(name);
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p).map_err(|e| DatasetError::io(p, e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| DatasetError::io(&path, e))
            }
        }
    }

    /// Finishes the archive and moves it to its destination.
    pub fn commit(mut self) -> Result<()> {
        match self.kind.take().expect("commit twice") {
            Kind::Zip(zip) => {
                let buf = zip.finish().map_err(|e| DatasetError::zip(&self.tmp, e))?;
                let file = buf
                    .into_inner()
                    .map_err(|e| DatasetError::io(&self.tmp, e.into_error()))?;
                file.sync_all()
                    .map_err(|e| DatasetError::io(&self.tmp, e))?;
            }
            Kind::Dir => {
                if self.dest.is_dir() {
                    std::fs::remove_dir(&self.dest).map_err(|e| DatasetError::io(&self.dest, e))?;
                }
            }
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| DatasetError::io(&self.dest, e))?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for ArchiveWriter {
    fn drop(&mut self) {
        if self.tmp.as_os_str().is_empty() {
            return;
        }
        self.kind = None; // closes the zip file before removing it
        let _ = if self.tmp.is_dir() {
            std::fs::remove_dir_all(&self.tmp)
        } else {
            std::fs::remove_file(&self.tmp)
        };
    }
}
