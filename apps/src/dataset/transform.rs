//! The `--transform` crop/resize step of dataset_tool, with the official tool's geometry.

use super::image::Image;
use super::resample::{resize, ResizeFilter};

/// `--transform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transform {
    /// Keep the image, resizing only when `--width`/`--height` ask for another size.
    #[default]
    None,
    /// Crop the centred square, then resize to `--width` x `--height`.
    CenterCrop,
    /// Crop the centred band of aspect `width/height`, resize, and centre it on a black
    /// `width` x `width` canvas (for wide scenes such as LSUN cars).
    CenterCropWide,
}

/// The geometry of a conversion: transform, output size and resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Geometry {
    pub transform: Transform,
    pub width: Option<usize>,
    pub height: Option<usize>,
    pub filter: ResizeFilter,
}

impl Geometry {
    /// Checks the options alone; returns a message for the user when they cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.width == Some(0) || self.height == Some(0) {
            return Err("--width and --height must be positive".into());
        }
        match self.transform {
            Transform::None => Ok(()),
            Transform::CenterCrop | Transform::CenterCropWide => {
                let (Some(w), Some(h)) = (self.width, self.height) else {
                    return Err("--transform needs both --width and --height".into());
                };
                if self.transform == Transform::CenterCropWide && h > w {
                    return Err(format!(
                        "center-crop-wide needs --height <= --width (got {w}x{h})"
                    ));
                }
                Ok(())
            }
        }
    }

    /// Applies the transform; `None` means the image is dropped (center-crop-wide only, when the
    /// image is narrower than the output, as in the official tool).
    pub fn apply(&self, img: &Image) -> Option<Image> {
        match self.transform {
            Transform::None => {
                let w = self.width.unwrap_or(img.width);
                let h = self.height.unwrap_or(img.height);
                Some(resize(img, w, h, self.filter))
            }
            Transform::CenterCrop => {
                let (w, h) = (self.width.unwrap(), self.height.unwrap());
                let s = img.width.min(img.height);
                if img.width == img.height {
                    return Some(resize(img, w, h, self.filter));
                }
                let crop = img.crop((img.width - s) / 2, (img.height - s) / 2, s, s);
                Some(resize(&crop, w, h, self.filter))
            }
            Transform::CenterCropWide => {
                let (w, h) = (self.width.unwrap(), self.height.unwrap());
                // numpy's round() rounds half to even.
                let ch =
                    (w as f64 * img.height as f64 / img.width as f64).round_ties_even() as usize;
                if img.width < w || ch < h {
                    return None;
                }
                let y0 = (img.height - ch) / 2;
                let band = img.crop(0, y0, img.width, (img.height + ch) / 2 - y0);
                let scaled = resize(&band, w, h, self.filter);
                let mut canvas = Image::zeros(w, w, img.channels);
                let top = (w - h) / 2;
                let row = w * img.channels;
                canvas.data[top * row..(top + h) * row].copy_from_slice(&scaled.data);
                Some(canvas)
            }
        }
    }
}
