//! An 8-bit interleaved image (HWC) and the explicit mode conversions the tool applies.

/// What a source file held before conversion; reported per run so that users see what was converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceMode {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
    Palette,
    Gray16,
    Rgb16,
}

impl SourceMode {
    pub fn name(self) -> &'static str {
        match self {
            SourceMode::Gray => "grayscale",
            SourceMode::GrayAlpha => "grayscale+alpha",
            SourceMode::Rgb => "RGB",
            SourceMode::Rgba => "RGBA",
            SourceMode::Palette => "palette",
            SourceMode::Gray16 => "16-bit grayscale",
            SourceMode::Rgb16 => "16-bit colour",
        }
    }
}

/// Row-major, channel-interleaved 8-bit pixels; `channels` is 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

impl Image {
    pub fn new(width: usize, height: usize, channels: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), width * height * channels, "image buffer size");
        Image {
            width,
            height,
            channels,
            data,
        }
    }

    pub fn zeros(width: usize, height: usize, channels: usize) -> Self {
        Image::new(width, height, channels, vec![0; width * height * channels])
    }

    /// Rows `y0..y0+h`, columns `x0..x0+w` (the caller keeps them inside the image).
    pub fn crop(&self, x0: usize, y0: usize, w: usize, h: usize) -> Image {
        let c = self.channels;
        let mut data = Vec::with_capacity(w * h * c);
        for y in y0..y0 + h {
            let row = (y * self.width + x0) * c;
            data.extend_from_slice(&self.data[row..row + w * c]);
        }
        Image::new(w, h, c, data)
    }

    /// Converts to `channels` (1 or 3). Alpha is composited over white (a transparent pixel
    /// becomes white, as image viewers show it); colour to gray uses Pillow's `convert('L')`
    /// weights (ITU-R 601-2 luma, 16-bit fixed point).
    pub fn to_channels(&self, channels: usize) -> Image {
        self.clone().into_channels(channels)
    }

    /// [`Image::to_channels`] without a copy when the image already has `channels`.
    pub fn into_channels(self, channels: usize) -> Image {
        assert!(channels == 1 || channels == 3);
        let opaque = self.into_opaque();
        match (opaque.channels, channels) {
            (1, 1) | (3, 3) => opaque,
            (1, 3) => {
                let data = opaque.data.iter().flat_map(|&v| [v, v, v]).collect();
                Image::new(opaque.width, opaque.height, 3, data)
            }
            (3, 1) => {
                let data = opaque
                    .data
                    .chunks_exact(3)
                    .map(|p| {
                        ((p[0] as u32 * 19595 + p[1] as u32 * 38470 + p[2] as u32 * 7471 + 0x8000)
                            >> 16) as u8
                    })
                    .collect();
                Image::new(opaque.width, opaque.height, 1, data)
            }
            _ => unreachable!("flatten_alpha leaves 1 or 3 channels"),
        }
    }

    /// Composites LA / RGBA over white; L and RGB are returned unchanged.
    pub fn flatten_alpha(&self) -> Image {
        self.clone().into_opaque()
    }

    fn into_opaque(self) -> Image {
        if self.channels == 1 || self.channels == 3 {
            return self;
        }
        let c = self.channels - 1;
        let mut data = Vec::with_capacity(self.width * self.height * c);
        for px in self.data.chunks_exact(self.channels) {
            let a = px[c] as u32;
            for &v in &px[..c] {
                data.push(((v as u32 * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
        Image::new(self.width, self.height, c, data)
    }

    /// Mirror left-right (the `--mirror` x-flip).
    pub fn flip_x(&self) -> Image {
        let c = self.channels;
        let mut data = Vec::with_capacity(self.data.len());
        for row in self.data.chunks_exact(self.width * c) {
            for px in row.chunks_exact(c).rev() {
                data.extend_from_slice(px);
            }
        }
        Image::new(self.width, self.height, c, data)
    }
}
