//! The `dataset_tool` group: the official `dataset_tool.py` command of each case,
//! replayed through our conversion, and the pixels of every archive image the
//! official tool wrote, compared exactly.
//!
//! What is compared, and what is not:
//! - PNG sources: our decoder, crop and Lanczos resize, end to end.
//! - JPEG sources: the case holds the pixels Pillow decoded (`src/<path>`); our
//!   crop and resize run on those, so the comparison measures resampling, not
//!   the JPEG decoder. Our own decoder (jpeg-decoder) differs from Pillow's
//!   libjpeg-turbo by a few levels; its end-to-end output must stay within
//!   `JPEG_DECODER_TOL` of the official output, or the case fails.
//! - RGBA sources: the official tool (Pillow 9.5) wrote them with scrambled
//!   pixels, while we composite alpha over white, so their golden tensors are
//!   reported as not comparable (`apps/tests/golden_dataset_tool.rs` checks our
//!   compositing against Pillow).
//! - Grayscale and palette sources were dropped by the official tool and have no
//!   golden output; class label numbers are not pixels and are not compared here.

use crate::golden::{CaseCtx, GoldenTensor, Outputs};
use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tcgan_apps::dataset::archive::Archive;
use tcgan_apps::dataset::cli::DatasetToolArgs;
use tcgan_apps::dataset::convert_dataset;
use tcgan_apps::dataset::decode::decode_image;
use tcgan_apps::dataset::Image;

/// Largest end-to-end difference allowed on outputs of JPEG sources (decoders differ).
const JPEG_DECODER_TOL: u8 = 3;

fn is_jpeg(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".jpg", ".jpeg", ".jpe", ".jfif"]
        .iter()
        .any(|e| lower.ends_with(e))
}

fn to_golden(img: &Image) -> GoldenTensor {
    GoldenTensor {
        shape: vec![img.height, img.width, img.channels],
        data: img.data.iter().map(|&v| v as f64).collect(),
        dtype: "U8".into(),
    }
}

/// An HW or HWC uint8 case tensor as an image.
fn from_golden(t: &GoldenTensor, name: &str) -> Result<Image> {
    let (h, w, c) = match t.shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => bail!(
            "{name}: expected an HW or HWC image, got shape {:?}",
            t.shape
        ),
    };
    Ok(Image::new(
        w,
        h,
        c,
        t.data.iter().map(|&v| v as u8).collect(),
    ))
}

/// A folder of its own under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The flags of the case's `python dataset_tool.py --flag=... ...` command.
fn parse_command(ctx: &CaseCtx) -> Result<DatasetToolArgs> {
    let command = ctx
        .case
        .raw
        .get("command")
        .and_then(Value::as_str)
        .context("the case has no \"command\"")?;
    let flags = command
        .split_whitespace()
        .skip_while(|w| !w.starts_with("--"));
    DatasetToolArgs::try_parse_from(std::iter::once("dataset_tool").chain(flags))
        .with_context(|| format!("cannot parse the command {command:?}"))
}

pub fn run(ctx: &CaseCtx) -> Result<Outputs> {
    let mut args = parse_command(ctx)?;
    // The official command ran inside the group folder.
    let case_dir: &Path = &ctx.path("dataset_tool");
    args.source = case_dir.join(&args.source);
    let tmp = TempDir(std::env::temp_dir().join(format!(
        "tcgan-golden-{}-{}",
        ctx.case.id,
        std::process::id()
    )));
    let _ = std::fs::remove_dir_all(&tmp.0);
    std::fs::create_dir_all(&tmp.0)?;
    let dest_name = args.dest.file_name().context("--dest has no file name")?;
    args.dest = tmp.0.join(dest_name);
    let opts = args.convert_options(false);
    convert_dataset(&args.source, &args.dest, &opts)
        .with_context(|| format!("converting {}", args.source.display()))?;
    let archive = Archive::open(&args.dest)?;

    let modes = ctx.case.raw.get("source_modes");
    let entries = ctx
        .case
        .raw
        .get("archive_to_source")
        .and_then(Value::as_array)
        .context("the case has no \"archive_to_source\"")?;
    let mut out = Outputs::new();
    for e in entries {
        let (Some(name), Some(source)) = (
            e.get("archive").and_then(Value::as_str),
            e.get("source").and_then(Value::as_str),
        ) else {
            bail!("malformed archive_to_source entry {e}");
        };
        let key = format!("out/{name}");
        let mode = modes
            .and_then(|m| m.get(source))
            .and_then(Value::as_str)
            .with_context(|| format!("no source mode for {source}"))?;
        let ours = decode_image(&archive.read(name)?, name)
            .with_context(|| format!("our archive's {name} (from {source})"))?
            .image;
        if mode == "RGBA" {
            ctx.not_comparable(
                &key,
                &format!("{source} is RGBA: the official tool wrote scrambled pixels, we composite alpha over white"),
            );
            continue;
        }
        if is_jpeg(source) {
            let golden = from_golden(ctx.tensor(&key)?, &key)?;
            let d = max_abs_diff(&ours, &golden)?;
            if d > JPEG_DECODER_TOL {
                bail!("{name} (from {source}): our JPEG decoding gives {d} levels off the official output, more than the {JPEG_DECODER_TOL} decoders differ by");
            }
            let src_key = format!("src/{source}");
            let src = from_golden(ctx.tensor(&src_key)?, &src_key)?;
            let converted = opts
                .geometry
                .apply(&src.into_channels(opts.channels))
                .with_context(|| format!("{source} was dropped by the transform"))?;
            out.insert(key, to_golden(&converted));
        } else {
            out.insert(key, to_golden(&ours));
        }
    }
    Ok(out)
}

fn max_abs_diff(a: &Image, b: &Image) -> Result<u8> {
    if (a.width, a.height, a.channels) != (b.width, b.height, b.channels) {
        bail!(
            "image sizes differ: {}x{}x{} vs {}x{}x{}",
            a.width,
            a.height,
            a.channels,
            b.width,
            b.height,
            b.channels
        );
    }
    Ok(a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0))
}
