//! PNG and JPEG decoding into 8-bit images, with the source's mode kept for reporting.
//!
//! The format is told by the file's signature, not its extension. 16-bit samples keep their high
//! byte (as Pillow does for 16-bit colour PNGs), palettes are expanded, and images above
//! [`MAX_PIXELS`] are refused before any pixel buffer is allocated.

use super::error::{DatasetError, Location, Result};
use super::image::{Image, SourceMode};

/// Pillow's decompression-bomb limit (2 * 89,478,485 pixels): larger images are refused.
pub const MAX_PIXELS: u64 = 178_956_970;

/// Extensions Pillow would open: files with these are images to us too. Only PNG and JPEG are
/// decoded; the rest give a clear "unsupported" error instead of being silently skipped.
const DECODED_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "jpe", "jfif"];
const OTHER_IMAGE_EXTENSIONS: &[&str] = &[
    "bmp", "dib", "gif", "tif", "tiff", "webp", "ppm", "pgm", "pbm", "pnm", "tga", "ico", "jp2",
    "j2k", "jpx", "pcx", "psd", "sgi", "rgb", "rgba", "bw", "dds", "icns", "im", "xbm", "xpm",
    "apng", "avif", "heic", "qoi", "blp", "eps", "ps", "msp", "ras", "fli", "flc", "ftc", "ftu",
    "gbr", "h5", "hdf", "mpo", "pxr", "sun", "mpg", "mpeg", "emf", "wmf", "fits", "grib", "bufr",
    "dcx", "vda", "vst", "icb", "pcd", "jpc", "jpf", "j2c",
];

fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    }
}

/// True when the name has an image extension (the official tool's `is_image_ext`).
pub fn is_image_name(name: &str) -> bool {
    let ext = extension(name);
    DECODED_EXTENSIONS.contains(&ext.as_str()) || OTHER_IMAGE_EXTENSIONS.contains(&ext.as_str())
}

/// A decoded image and what its file held.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub image: Image,
    pub mode: SourceMode,
}

/// Decodes PNG or JPEG bytes; `name` is used in errors only.
pub fn decode_image(bytes: &[u8], name: impl Into<Location>) -> Result<Decoded> {
    decode_with(bytes, name.into(), true)
}

/// As [`decode_image`] but ignoring PNG checksums, so that fuzzing reaches past them.
#[doc(hidden)]
pub fn decode_image_ignoring_checksums(bytes: &[u8], name: impl Into<Location>) -> Result<Decoded> {
    decode_with(bytes, name.into(), false)
}

fn decode_with(bytes: &[u8], name: Location, checksums: bool) -> Result<Decoded> {
    let is_png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
    if is_png || bytes.starts_with(&[0xff, 0xd8]) {
        // The decoders are third-party code: should one of them panic on malformed data that we
        // do not screen out ourselves, report it as a decode error for this file instead.
        let decoded = std::panic::catch_unwind(|| {
            if is_png {
                decode_png(bytes, name.clone(), checksums)
            } else {
                decode_jpeg(bytes, name.clone())
            }
        });
        return decoded.unwrap_or_else(|_| {
            Err(DatasetError::decode(
                name.clone(),
                "malformed data (the decoder gave up)",
            ))
        });
    }
    if bytes.is_empty() {
        Err(DatasetError::decode(name, "the file is empty"))
    } else {
        let ext = extension(&name.0);
        if DECODED_EXTENSIONS.contains(&ext.as_str()) {
            Err(DatasetError::decode(
                name,
                format!("not a valid {ext} file (bad signature)"),
            ))
        } else {
            Err(DatasetError::unsupported(
                name,
                "only PNG and JPEG are read; convert it to PNG first",
            ))
        }
    }
}

fn check_size(width: u64, height: u64, name: &Location) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(DatasetError::decode(
            name.clone(),
            format!("empty image ({width}x{height})"),
        ));
    }
    if width * height > MAX_PIXELS {
        return Err(DatasetError::unsupported(
            name.clone(),
            format!("{width}x{height} is more than {MAX_PIXELS} pixels"),
        ));
    }
    Ok(())
}

fn decode_png(bytes: &[u8], name: Location, checksums: bool) -> Result<Decoded> {
    use png::{BitDepth, ColorType, Transformations};
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: (MAX_PIXELS as usize) * 4 + (1 << 20),
        },
    );
    decoder.set_transformations(Transformations::normalize_to_color8());
    decoder.ignore_checksums(!checksums);
    let mut reader = decoder
        .read_info()
        .map_err(|e| DatasetError::decode(name.clone(), e))?;
    let info = reader.info();
    check_size(info.width as u64, info.height as u64, &name)?;
    if let Some(plte) = &info.palette {
        if plte.is_empty() || plte.len() % 3 != 0 || plte.len() > 768 {
            return Err(DatasetError::decode(
                name,
                format!("invalid palette of {} bytes", plte.len()),
            ));
        }
    }
    let mode = match (info.color_type, info.bit_depth) {
        (ColorType::Indexed, _) => SourceMode::Palette,
        (ColorType::Grayscale, BitDepth::Sixteen) => SourceMode::Gray16,
        (ColorType::Rgb | ColorType::Rgba, BitDepth::Sixteen) => SourceMode::Rgb16,
        (ColorType::Grayscale, _) if info.trns.is_some() => SourceMode::GrayAlpha,
        (ColorType::Rgb, _) if info.trns.is_some() => SourceMode::Rgba,
        (ColorType::Grayscale, _) => SourceMode::Gray,
        (ColorType::GrayscaleAlpha, _) => SourceMode::GrayAlpha,
        (ColorType::Rgb, _) => SourceMode::Rgb,
        (ColorType::Rgba, _) => SourceMode::Rgba,
    };
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| DatasetError::decode(name.clone(), "image too large"))?;
    let mut buf = vec![0u8; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| DatasetError::decode(name.clone(), e))?;
    let channels = match frame.color_type {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => {
            return Err(DatasetError::decode(name, "palette was not expanded"));
        }
    };
    if frame.bit_depth != BitDepth::Eight {
        return Err(DatasetError::decode(
            name,
            "unexpected bit depth after expansion",
        ));
    }
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut data = Vec::with_capacity(w * h * channels);
    for row in buf.chunks(frame.line_size).take(h) {
        data.extend_from_slice(&row[..w * channels]);
    }
    Ok(Decoded {
        image: Image::new(w, h, channels, data),
        mode,
    })
}

fn decode_jpeg(bytes: &[u8], name: Location) -> Result<Decoded> {
    use jpeg_decoder::PixelFormat;
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size((MAX_PIXELS as usize) * 4);
    decoder
        .read_info()
        .map_err(|e| DatasetError::decode(name.clone(), e))?;
    let info = decoder
        .info()
        .ok_or_else(|| DatasetError::decode(name.clone(), "no header"))?;
    check_size(info.width as u64, info.height as u64, &name)?;
    let pixels = decoder
        .decode()
        .map_err(|e| DatasetError::decode(name.clone(), e))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let (data, channels, mode) = match info.pixel_format {
        PixelFormat::L8 => (pixels, 1, SourceMode::Gray),
        PixelFormat::RGB24 => (pixels, 3, SourceMode::Rgb),
        // Big-endian samples: keep the high byte.
        PixelFormat::L16 => (
            pixels.chunks_exact(2).map(|p| p[0]).collect(),
            1,
            SourceMode::Gray16,
        ),
        PixelFormat::CMYK32 => {
            return Err(DatasetError::unsupported(
                name,
                "CMYK JPEG: convert it to RGB first (colour profiles decide the result)",
            ));
        }
    };
    if data.len() != w * h * channels {
        return Err(DatasetError::decode(
            name,
            "decoded size does not match the header",
        ));
    }
    let image = Image::new(w, h, channels, data);
    Ok(Decoded { image, mode })
}
