//! The input side of dataset_tool: which images a source holds, in which order, with which labels.
//!
//! Order and names follow the official tool (sorted paths; the position `i` in that list names
//! the output `f'{i:08d}'[:5]/img{i:08d}.png`). Labels come from the source's `dataset.json`
//! when it has one, otherwise from class folders: the first folder below the source root is
//! the class, classes are numbered in sorted order of their names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::archive::Archive;
use super::cifar::{read_cifar, CifarKind};
use super::decode::{decode_image, is_image_name, Decoded};
use super::error::{DatasetError, Result};
use super::image::{Image, SourceMode};
use super::metadata::{DatasetJson, Label};

/// One input image.
#[derive(Debug, Clone)]
pub struct InputItem {
    /// Position in the sorted input list: it names the output file.
    pub index: usize,
    /// Relative path (`/`-separated) or, for CIFAR, `data_batch_N[i]`.
    pub name: String,
    pub label: Option<Label>,
}

enum Store {
    Archive(Archive),
    Memory(Vec<Image>),
}

/// An opened source.
pub struct Source {
    pub items: Vec<InputItem>,
    /// Class name -> index, when labels came from folders or a dataset.json that had them.
    pub class_names: Option<BTreeMap<String, u64>>,
    /// Images found before `--max-images` cut the list.
    pub total_found: usize,
    store: Store,
}

impl Source {
    /// Opens a folder, a zip, or a CIFAR tarball, keeping the first `max_images` images.
    pub fn open(path: &Path, max_images: Option<usize>) -> Result<Source> {
        if !path.exists() {
            return Err(DatasetError::invalid(path, "no such file or folder"));
        }
        if let Some(kind) = CifarKind::from_file_name(path).filter(|_| path.is_file()) {
            return Self::open_cifar(path, kind, max_images);
        }
        if path.is_file()
            && !path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            return Err(DatasetError::invalid(
                path,
                "unknown source type: give a folder, a .zip, cifar-10-python.tar.gz or cifar-100-python.tar.gz",
            ));
        }
        let archive = Archive::open(path)?;
        Self::from_archive(archive, max_images)
    }

    fn open_cifar(path: &Path, kind: CifarKind, max_images: Option<usize>) -> Result<Source> {
        let all = read_cifar(path, kind)?;
        let total_found = all.len();
        let keep = max_images.unwrap_or(usize::MAX).min(all.len());
        let mut images = Vec::with_capacity(keep);
        let mut items = Vec::with_capacity(keep);
        for (index, (img, label)) in all.into_iter().take(keep).enumerate() {
            images.push(img);
            items.push(InputItem {
                index,
                name: format!("image {index}"),
                label: Some(Label::Class(label)),
            });
        }
        Ok(Source {
            items,
            class_names: None,
            total_found,
            store: Store::Memory(images),
        })
    }

    fn from_archive(archive: Archive, max_images: Option<usize>) -> Result<Source> {
        let mut names: Vec<String> = archive
            .names()
            .iter()
            .filter(|n| is_image_name(n))
            .cloned()
            .collect();
        if archive.is_zip() {
            names.sort();
        } else {
            // Python sorts Path objects component by component.
            names.sort_by(|a, b| a.split('/').cmp(b.split('/')));
        }
        if names.is_empty() {
            return Err(DatasetError::invalid(
                archive.path(),
                "no images found (looked for PNG and JPEG files, recursively)",
            ));
        }
        let total_found = names.len();
        let (labels, class_names) = if archive.contains("dataset.json") {
            let bytes = archive.read("dataset.json")?;
            let meta = DatasetJson::parse(&bytes, archive.location("dataset.json"))?;
            let map = meta.label_map().unwrap_or_default();
            (
                names.iter().map(|n| map.get(n).cloned()).collect(),
                meta.class_names,
            )
        } else {
            folder_labels(&archive, &names)?
        };
        let keep = max_images.unwrap_or(usize::MAX).min(names.len());
        let items = names
            .into_iter()
            .zip(labels)
            .take(keep)
            .enumerate()
            .map(|(index, (name, label))| InputItem { index, name, label })
            .collect();
        Ok(Source {
            items,
            class_names,
            total_found,
            store: Store::Archive(archive),
        })
    }

    /// How an item is named in messages.
    pub fn describe(&self, item: &InputItem) -> String {
        match &self.store {
            Store::Archive(a) => a.location(&item.name).0,
            Store::Memory(_) => item.name.clone(),
        }
    }

    /// Reads and decodes one item; safe to call from many threads.
    pub fn load(&self, item: &InputItem) -> Result<Decoded> {
        match &self.store {
            Store::Archive(a) => {
                let bytes = a.read(&item.name)?;
                decode_image(&bytes, a.location(&item.name))
            }
            Store::Memory(images) => Ok(Decoded {
                image: images[item.index].clone(),
                mode: SourceMode::Rgb,
            }),
        }
    }
}

/// Labels from class folders (the first path component). Images directly in the root have no
/// class: if all do, the set is unlabelled; a mix of both is an error.
#[allow(clippy::type_complexity)]
fn folder_labels(
    archive: &Archive,
    names: &[String],
) -> Result<(Vec<Option<Label>>, Option<BTreeMap<String, u64>>)> {
    let classes: Vec<Option<&str>> = names
        .iter()
        .map(|n| n.split_once('/').map(|(c, _)| c))
        .collect();
    let with_class = classes.iter().filter(|c| c.is_some()).count();
    if with_class == 0 {
        return Ok((vec![None; names.len()], None));
    }
    if with_class < names.len() {
        let root_image = &names[classes.iter().position(|c| c.is_none()).unwrap()];
        return Err(DatasetError::invalid(
            archive.location(root_image),
            "this image is not in a class folder while others are: put every image in a class folder (labels come from the folder names) or none",
        ));
    }
    let sorted: BTreeSet<&str> = classes.iter().map(|c| c.unwrap()).collect();
    let class_names: BTreeMap<String, u64> = sorted
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i as u64))
        .collect();
    let labels = classes
        .iter()
        .map(|c| Some(Label::Class(class_names[c.unwrap()])))
        .collect();
    Ok((labels, Some(class_names)))
}
