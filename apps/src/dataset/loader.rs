//! The training-time reader of an archive, as the official `ImageFolderDataset`: every image file
//! of a zip or folder in sorted order, labels from `dataset.json`, `--subset` (`max_size`) chosen
//! with numpy's seeded shuffle, and `--mirror` x-flips doubling the set.

use std::collections::BTreeMap;
use std::path::Path;

use super::archive::Archive;
use super::decode::{decode_image, is_image_name};
use super::error::{DatasetError, Result};
use super::image::Image;
use super::metadata::{DatasetJson, Label};
use crate::numpy_rng::RandomState;

/// The official `Dataset` keyword arguments.
#[derive(Debug, Clone, Default)]
pub struct DatasetOptions {
    /// Required resolution; `None` accepts the archive's.
    pub resolution: Option<usize>,
    /// `--subset`: keep this many images (before mirroring), chosen with `random_seed`.
    pub max_size: Option<usize>,
    /// `--cond`: load labels.
    pub use_labels: bool,
    /// `--mirror`: add an x-flipped copy of every image.
    pub xflip: bool,
    pub random_seed: u32,
}

enum RawLabels {
    None,
    /// One class per image; one-hot of `c_dim = max + 1`.
    Class(Vec<u64>),
    /// A float vector per image, used as is.
    Vector(Vec<Vec<f32>>, usize),
}

pub struct ImageFolderDataset {
    name: String,
    archive: Archive,
    image_fnames: Vec<String>,
    channels: usize,
    resolution: usize,
    raw_labels: RawLabels,
    label_dim: usize,
    raw_idx: Vec<usize>,
    xflip: Vec<bool>,
    class_names: Option<BTreeMap<String, u64>>,
}

impl ImageFolderDataset {
    pub fn open(path: &Path, opts: &DatasetOptions) -> Result<ImageFolderDataset> {
        let meta = std::fs::metadata(path).map_err(|e| DatasetError::io(path, e))?;
        if !meta.is_dir()
            && !path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            return Err(DatasetError::invalid(
                path,
                "a dataset must be a folder or a .zip",
            ));
        }
        let archive = Archive::open(path)?;
        let mut image_fnames: Vec<String> = archive
            .names()
            .iter()
            .filter(|n| is_image_name(n))
            .cloned()
            .collect();
        image_fnames.sort();
        if image_fnames.is_empty() {
            return Err(DatasetError::invalid(path, "no image files found"));
        }
        let first = decode_image(
            &archive.read(&image_fnames[0])?,
            archive.location(&image_fnames[0]),
        )?
        .image;
        check_shape(&first, &archive.location(&image_fnames[0]).0)?;
        if let Some(r) = opts.resolution {
            if first.width != r {
                return Err(DatasetError::invalid(
                    path,
                    format!("images are {0}x{0}, not the requested {r}x{r}", first.width),
                ));
            }
        }
        let n = image_fnames.len();

        let (raw_labels, class_names) = if opts.use_labels {
            load_labels(&archive, &image_fnames)?
        } else {
            (RawLabels::None, None)
        };
        let label_dim = match &raw_labels {
            RawLabels::None => 0,
            RawLabels::Class(c) => (c.iter().copied().max().unwrap_or(0) + 1) as usize,
            RawLabels::Vector(_, d) => *d,
        };

        let mut raw_idx = select_subset(n, opts.max_size, opts.random_seed);
        let mut xflip = vec![false; raw_idx.len()];
        if opts.xflip {
            raw_idx.extend_from_within(..);
            xflip.extend(std::iter::repeat_n(true, xflip.len()));
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        Ok(ImageFolderDataset {
            name,
            archive,
            image_fnames,
            channels: first.channels,
            resolution: first.width,
            raw_labels,
            label_dim,
            raw_idx,
            xflip,
            class_names,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    /// Items, counting mirrored copies.
    pub fn len(&self) -> usize {
        self.raw_idx.len()
    }
    pub fn is_empty(&self) -> bool {
        self.raw_idx.is_empty()
    }
    /// Images in the archive.
    pub fn raw_len(&self) -> usize {
        self.image_fnames.len()
    }
    pub fn num_channels(&self) -> usize {
        self.channels
    }
    pub fn resolution(&self) -> usize {
        self.resolution
    }
    /// `c_dim`: 0 without labels.
    pub fn label_dim(&self) -> usize {
        self.label_dim
    }
    pub fn has_labels(&self) -> bool {
        self.label_dim > 0
    }
    pub fn class_names(&self) -> Option<&BTreeMap<String, u64>> {
        self.class_names.as_ref()
    }
    /// The archive index of item `idx` and whether it is mirrored (the official `get_details`).
    pub fn details(&self, idx: usize) -> (usize, bool) {
        (self.raw_idx[idx], self.xflip[idx])
    }
    pub fn image_fname(&self, raw_idx: usize) -> &str {
        &self.image_fnames[raw_idx]
    }

    /// Item `idx` as CHW uint8 (x-flipped when it is a mirrored copy).
    pub fn get_image(&self, idx: usize) -> Result<Vec<u8>> {
        let raw = self.raw_idx[idx];
        let fname = &self.image_fnames[raw];
        let loc = self.archive.location(fname);
        let mut img = decode_image(&self.archive.read(fname)?, loc.clone())?.image;
        check_shape(&img, &loc.0)?;
        if (img.width, img.channels) != (self.resolution, self.channels) {
            return Err(DatasetError::invalid(
                loc,
                format!(
                    "image is {0}x{0}x{1} but the data set is {2}x{2}x{3}",
                    img.width, img.channels, self.resolution, self.channels
                ),
            ));
        }
        if self.xflip[idx] {
            img = img.flip_x();
        }
        let plane = img.width * img.height;
        let mut chw = vec![0u8; img.data.len()];
        for (p, px) in img.data.chunks_exact(img.channels).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                chw[c * plane + p] = v;
            }
        }
        Ok(chw)
    }

    /// Label of item `idx`: one-hot for class labels, the vector for vector labels, empty
    /// without labels.
    pub fn get_label(&self, idx: usize) -> Vec<f32> {
        let raw = self.raw_idx[idx];
        match &self.raw_labels {
            RawLabels::None => Vec::new(),
            RawLabels::Class(c) => {
                let mut v = vec![0.0; self.label_dim];
                v[c[raw] as usize] = 1.0;
                v
            }
            RawLabels::Vector(v, _) => v[raw].clone(),
        }
    }

    /// The class index of item `idx`, for class-labelled sets.
    pub fn get_class(&self, idx: usize) -> Option<u64> {
        match &self.raw_labels {
            RawLabels::Class(c) => Some(c[self.raw_idx[idx]]),
            _ => None,
        }
    }
}

/// The official `max_size` selection: `RandomState(seed).shuffle(arange(n))`, keep the first
/// `max_size`, sorted. All of `0..n` when `max_size` is `None` or not smaller than `n`.
pub fn select_subset(n: usize, max_size: Option<usize>, seed: u32) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    if let Some(max) = max_size.filter(|&m| m < n) {
        RandomState::new(seed).shuffle(&mut idx);
        idx.truncate(max);
        idx.sort_unstable();
    }
    idx
}

fn check_shape(img: &Image, name: &str) -> Result<()> {
    if img.width != img.height || !img.width.is_power_of_two() {
        return Err(DatasetError::invalid(
            name,
            format!(
                "images must be square with a power-of-two side, this one is {}x{}",
                img.width, img.height
            ),
        ));
    }
    if img.channels != 1 && img.channels != 3 {
        return Err(DatasetError::invalid(
            name,
            format!("images must have 1 or 3 channels, this one has {} (re-create the archive with dataset_tool)", img.channels),
        ));
    }
    Ok(())
}

#[allow(clippy::type_complexity)]
fn load_labels(
    archive: &Archive,
    image_fnames: &[String],
) -> Result<(RawLabels, Option<BTreeMap<String, u64>>)> {
    if !archive.contains("dataset.json") {
        return Ok((RawLabels::None, None));
    }
    let loc = archive.location("dataset.json");
    let meta = DatasetJson::parse(&archive.read("dataset.json")?, loc.clone())?;
    let Some(map) = meta.label_map() else {
        return Ok((RawLabels::None, None));
    };
    let mut labels = Vec::with_capacity(image_fnames.len());
    for f in image_fnames {
        labels.push(
            map.get(f)
                .ok_or_else(|| DatasetError::json(loc.clone(), format!("no label for {f}")))?,
        );
    }
    let raw = match labels.first() {
        Some(Label::Class(_)) => RawLabels::Class(
            labels
                .iter()
                .map(|l| match l {
                    Label::Class(c) if *c < 1 << 24 => Ok(*c),
                    Label::Class(c) => Err(DatasetError::json(
                        loc.clone(),
                        format!("class index {c} is too large"),
                    )),
                    Label::Vector(_) => Err(DatasetError::json(
                        loc.clone(),
                        "labels mix classes and vectors",
                    )),
                })
                .collect::<Result<_>>()?,
        ),
        Some(Label::Vector(first)) => {
            let d = first.len();
            let v = labels
                .iter()
                .map(|l| match l {
                    Label::Vector(v) if v.len() == d => Ok(v.iter().map(|&x| x as f32).collect()),
                    _ => Err(DatasetError::json(
                        loc.clone(),
                        "label vectors differ in kind or length",
                    )),
                })
                .collect::<Result<_>>()?;
            RawLabels::Vector(v, d)
        }
        None => RawLabels::None,
    };
    Ok((raw, meta.class_names))
}
