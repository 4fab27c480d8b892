//! Dataset archives in the official format (ZIP or folder of PNGs + `dataset.json`): the
//! dataset_tool conversion and the training-time loader. Independent of the tensor crates.

pub mod archive;
pub mod cifar;
pub mod cli;
pub mod convert;
pub mod decode;
pub mod error;
pub mod image;
pub mod loader;
pub mod metadata;
pub mod pickle;
pub mod prefetch;
pub mod resample;
pub mod sampler;
pub mod source;
pub mod transform;
pub mod writer;

pub use convert::{archive_name, convert_dataset, ConvertOptions, ConvertReport};
pub use error::{DatasetError, Result};
pub use image::Image;
pub use loader::{DatasetOptions, ImageFolderDataset};
pub use metadata::{DatasetJson, Label};
pub use prefetch::{Batch, BatchLoader};
pub use resample::ResizeFilter;
pub use sampler::InfiniteSampler;
pub use transform::{Geometry, Transform};
