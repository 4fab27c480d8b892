//! The constructor arguments of the official `AugmentPipe` (probability
//! multipliers and strengths, official names and defaults) and the named
//! presets of `train.py --augpipe`.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Every augmentation is off by default; a multiplier of 1 enables one with
/// probability `p`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentKwargs {
    // Pixel blitting.
    pub xflip: f64,
    pub rotate90: f64,
    pub xint: f64,
    /// Range of integer translation, relative to the image size.
    pub xint_max: f64,
    // General geometric transformations.
    pub scale: f64,
    pub rotate: f64,
    pub aniso: f64,
    pub xfrac: f64,
    /// Log2 standard deviation of isotropic scaling.
    pub scale_std: f64,
    /// Range of arbitrary rotation, 1 = full circle.
    pub rotate_max: f64,
    /// Log2 standard deviation of anisotropic scaling.
    pub aniso_std: f64,
    /// Standard deviation of fractional translation, relative to the image size.
    pub xfrac_std: f64,
    // Colour transformations.
    pub brightness: f64,
    pub contrast: f64,
    pub lumaflip: f64,
    pub hue: f64,
    pub saturation: f64,
    pub brightness_std: f64,
    /// Log2 standard deviation of contrast.
    pub contrast_std: f64,
    /// Range of hue rotation, 1 = full circle.
    pub hue_max: f64,
    /// Log2 standard deviation of saturation.
    pub saturation_std: f64,
    // Image-space filtering.
    pub imgfilter: f64,
    /// Probability multipliers of the four frequency bands.
    pub imgfilter_bands: Vec<f64>,
    /// Log2 standard deviation of the band amplification.
    pub imgfilter_std: f64,
    // Image-space corruptions.
    pub noise: f64,
    pub cutout: f64,
    pub noise_std: f64,
    /// Size of the cutout square, relative to the image size.
    pub cutout_size: f64,
}

impl Default for AugmentKwargs {
    fn default() -> Self {
        AugmentKwargs {
            xflip: 0.0,
            rotate90: 0.0,
            xint: 0.0,
            xint_max: 0.125,
            scale: 0.0,
            rotate: 0.0,
            aniso: 0.0,
            xfrac: 0.0,
            scale_std: 0.2,
            rotate_max: 1.0,
            aniso_std: 0.2,
            xfrac_std: 0.125,
            brightness: 0.0,
            contrast: 0.0,
            lumaflip: 0.0,
            hue: 0.0,
            saturation: 0.0,
            brightness_std: 0.2,
            contrast_std: 0.5,
            hue_max: 1.0,
            saturation_std: 1.0,
            imgfilter: 0.0,
            imgfilter_bands: vec![1.0; 4],
            imgfilter_std: 1.0,
            noise: 0.0,
            cutout: 0.0,
            noise_std: 0.1,
            cutout_size: 0.5,
        }
    }
}

/// The names `train.py --augpipe` accepts, in its order.
pub const PRESETS: [&str; 11] = [
    "blit", "geom", "color", "filter", "noise", "cutout", "bg", "bgc", "bgcf", "bgcfn", "bgcfnc",
];

impl AugmentKwargs {
    /// A preset of `train.py`: its letters enable the groups b(lit), g(eom),
    /// c(olor), f(ilter), n(oise), c(utout) with multiplier 1.
    pub fn preset(name: &str) -> Result<Self> {
        let (blit, geom, color, filter, noise, cutout) = match name {
            "blit" => (true, false, false, false, false, false),
            "geom" => (false, true, false, false, false, false),
            "color" => (false, false, true, false, false, false),
            "filter" => (false, false, false, true, false, false),
            "noise" => (false, false, false, false, true, false),
            "cutout" => (false, false, false, false, false, true),
            "bg" => (true, true, false, false, false, false),
            "bgc" => (true, true, true, false, false, false),
            "bgcf" => (true, true, true, true, false, false),
            "bgcfn" => (true, true, true, true, true, false),
            "bgcfnc" => (true, true, true, true, true, true),
            _ => {
                return Err(Error::config(
                    "augpipe",
                    format!("unknown preset {name:?}; expected one of {PRESETS:?}"),
                ))
            }
        };
        let on = |b: bool| if b { 1.0 } else { 0.0 };
        Ok(AugmentKwargs {
            xflip: on(blit),
            rotate90: on(blit),
            xint: on(blit),
            scale: on(geom),
            rotate: on(geom),
            aniso: on(geom),
            xfrac: on(geom),
            brightness: on(color),
            contrast: on(color),
            lumaflip: on(color),
            hue: on(color),
            saturation: on(color),
            imgfilter: on(filter),
            noise: on(noise),
            cutout: on(cutout),
            ..AugmentKwargs::default()
        })
    }

    /// Whether any augmentation that moves pixels is enabled: then the
    /// pad / upsample / grid_sample / downsample path runs for every sample.
    pub fn any_geometric(&self) -> bool {
        [
            self.xflip,
            self.rotate90,
            self.xint,
            self.scale,
            self.rotate,
            self.aniso,
            self.xfrac,
        ]
        .iter()
        .any(|&m| m > 0.0)
    }

    /// Whether the colour matrix is built for images of `channels` channels
    /// (hue and saturation need colour).
    pub fn any_color(&self, channels: usize) -> bool {
        self.brightness > 0.0
            || self.contrast > 0.0
            || self.lumaflip > 0.0
            || (channels > 1 && (self.hue > 0.0 || self.saturation > 0.0))
    }

    /// Rejects values the official code would fail on later, naming the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("xflip", self.xflip),
            ("rotate90", self.rotate90),
            ("xint", self.xint),
            ("xint_max", self.xint_max),
            ("scale", self.scale),
            ("rotate", self.rotate),
            ("aniso", self.aniso),
            ("xfrac", self.xfrac),
            ("scale_std", self.scale_std),
            ("rotate_max", self.rotate_max),
            ("aniso_std", self.aniso_std),
            ("xfrac_std", self.xfrac_std),
            ("brightness", self.brightness),
            ("contrast", self.contrast),
            ("lumaflip", self.lumaflip),
            ("hue", self.hue),
            ("saturation", self.saturation),
            ("brightness_std", self.brightness_std),
            ("contrast_std", self.contrast_std),
            ("hue_max", self.hue_max),
            ("saturation_std", self.saturation_std),
            ("imgfilter", self.imgfilter),
            ("imgfilter_std", self.imgfilter_std),
            ("noise", self.noise),
            ("cutout", self.cutout),
            ("noise_std", self.noise_std),
            ("cutout_size", self.cutout_size),
        ];
        for (name, v) in fields {
            if !v.is_finite() {
                return Err(Error::config("AugmentPipe", format!("{name} = {v}")));
            }
        }
        if self.imgfilter_bands.len() != 4 || self.imgfilter_bands.iter().any(|b| !b.is_finite()) {
            return Err(Error::config(
                "AugmentPipe",
                format!(
                    "imgfilter_bands must hold 4 finite values, got {:?}",
                    self.imgfilter_bands
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_enable_their_groups_only() {
        let bgc = AugmentKwargs::preset("bgc").unwrap();
        assert!(bgc.any_geometric() && bgc.any_color(3));
        assert_eq!((bgc.imgfilter, bgc.noise, bgc.cutout), (0.0, 0.0, 0.0));
        let color = AugmentKwargs::preset("color").unwrap();
        assert!(!color.any_geometric());
        // Grayscale images keep brightness, contrast and lumaflip.
        assert!(color.any_color(1));
        let hue_only = AugmentKwargs {
            hue: 1.0,
            ..Default::default()
        };
        assert!(!hue_only.any_color(1) && hue_only.any_color(3));
        let all = AugmentKwargs::preset("bgcfnc").unwrap();
        assert_eq!((all.imgfilter, all.noise, all.cutout), (1.0, 1.0, 1.0));
        for name in PRESETS {
            AugmentKwargs::preset(name).unwrap().validate().unwrap();
        }
        assert!(AugmentKwargs::preset("bgcx").is_err());
    }

    #[test]
    fn official_kwargs_json_parses_and_rejects_unknown_keys() {
        let k: AugmentKwargs =
            serde_json::from_str(r#"{"xflip": 1, "rotate90": 1, "xint": 1, "hue": 1}"#).unwrap();
        assert_eq!((k.xflip, k.hue, k.xint_max), (1.0, 1.0, 0.125));
        assert!(serde_json::from_str::<AugmentKwargs>(r#"{"xflp": 1}"#).is_err());
    }
}
