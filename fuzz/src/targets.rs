//! The fuzz targets: each takes arbitrary bytes and may only return (errors are fine) or
//! panic (a bug); the result says whether the input was accepted. Usable from the tests here
//! or from any other fuzzing driver.

use std::path::{Path, PathBuf};

use tcgan_nn::checkpoint::Checkpoint;

use tcgan_apps::dataset::archive::Archive;
use tcgan_apps::dataset::cifar::parse_batch;
use tcgan_apps::dataset::decode::{decode_image, decode_image_ignoring_checksums};
use tcgan_apps::dataset::error::Location;
use tcgan_apps::dataset::resample::{resize, ResizeFilter};
use tcgan_apps::dataset::{DatasetJson, DatasetOptions, ImageFolderDataset};

/// `dataset.json` parsing; what parses must serialize and parse back to the same value.
pub fn dataset_json(data: &[u8]) -> bool {
    let Ok(meta) = DatasetJson::parse(data, "fuzz/dataset.json") else {
        return false;
    };
    let text = meta.to_json();
    let again =
        DatasetJson::parse(text.as_bytes(), "fuzz/dataset.json").expect("our own output parses");
    assert_eq!(again, meta);
    let _ = meta.label_map();
    true
}

/// PNG/JPEG decoding and the conversion steps that follow it (PNG checksums are checked, then
/// ignored so that mutations reach the image data).
pub fn image_decode(data: &[u8]) -> bool {
    let _ = decode_image(data, "fuzz.img");
    let Ok(d) = decode_image_ignoring_checksums(data, "fuzz.img") else {
        return false;
    };
    let img = d.image;
    assert_eq!(img.data.len(), img.width * img.height * img.channels);
    if img.width * img.height <= 1 << 16 {
        let rgb = img.to_channels(3);
        let _ = resize(&rgb, 4, 4, ResizeFilter::Lanczos);
        let _ = img.to_channels(1);
    }
    true
}

/// CIFAR pickle batches.
pub fn cifar_pickle(data: &[u8]) -> bool {
    let accepted = tcgan_apps::dataset::pickle::parse(data).is_ok();
    if let Ok(images) = parse_batch(data, "labels", Location("fuzz.pkl".into())) {
        for (img, _) in images.iter().take(2) {
            assert_eq!((img.width, img.height, img.channels), (32, 32, 3));
        }
    }
    accepted
}

/// A scratch path per process and thread, reused across iterations; [`cleanup`] removes it.
fn scratch() -> PathBuf {
    let dir = scratch_path();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Per process and thread: test harnesses run several targets at once.
fn scratch_path() -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    std::env::temp_dir().join(format!("tcgan-fuzz-{}-{thread}", std::process::id()))
}

/// Removes the files the `archive` and `snapshot` targets wrote (this thread's).
pub fn cleanup() {
    let _ = std::fs::remove_dir_all(scratch_path());
}

/// The archive reader on a zip, then on a folder holding the same entries: listing, reading,
/// the loader (labels, first images) and the converter's source side.
pub fn archive(data: &[u8]) -> bool {
    let dir = scratch();
    let zip = dir.join("fuzz.zip");
    std::fs::write(&zip, data).unwrap();
    let accepted = exercise(&zip);
    // Materialise the entries (safe names only) as a folder and read that too.
    let folder = dir.join("folder");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    if let Ok(a) = Archive::open(&zip) {
        for name in a.names().iter().take(16) {
            let safe = !name.is_empty()
                && name.split('/').all(|c| {
                    !c.is_empty() && c != "." && c != ".." && !c.contains(['\\', ':', '\0'])
                });
            if let (true, Ok(bytes)) = (safe, a.read(name)) {
                let p = folder.join(name);
                if std::fs::create_dir_all(p.parent().unwrap()).is_ok() {
                    let _ = std::fs::write(p, bytes);
                }
            }
        }
    }
    exercise(&folder);
    accepted
}

/// True when the archive opened.
fn exercise(path: &Path) -> bool {
    let opened = Archive::open(path).map(|a| {
        for name in a.names().iter().take(16) {
            let _ = a.read(name);
        }
    });
    for opts in [
        DatasetOptions {
            use_labels: true,
            ..Default::default()
        },
        DatasetOptions {
            xflip: true,
            max_size: Some(1),
            ..Default::default()
        },
    ] {
        if let Ok(ds) = ImageFolderDataset::open(path, &opts) {
            for i in 0..ds.len().min(4) {
                let _ = ds.get_image(i);
                assert_eq!(ds.get_label(i).len(), ds.label_dim());
            }
        }
    }
    if let Ok(src) = tcgan_apps::dataset::source::Source::open(path, Some(4)) {
        for item in &src.items {
            let _ = src.load(item);
        }
    }
    opened.is_ok()
}

/// The TorchScript pickle reader of the Inception weights: a value or an error
/// that names the file and a byte offset inside the input.
pub fn inception_pickle(data: &[u8]) -> bool {
    match tcgan_nn::inception::pickle::read(data, "fuzz.pkl") {
        Ok(_) => true,
        Err(e) => {
            assert!(
                e.to_string().starts_with("fuzz.pkl: pickle byte "),
                "error without file/offset: {e}"
            );
            assert!(
                e.offset <= data.len(),
                "offset {} past the end {}",
                e.offset,
                data.len()
            );
            false
        }
    }
}

/// The snapshot reader (`--resume`, `generate`, `calc_metrics`): the header,
/// the tensor table, every tensor under each prefix, and the stored training
/// options and state. Networks are not rebuilt from the (fuzzed) kwargs here:
/// that would allocate whatever sizes the mutated header names.
pub fn snapshot(data: &[u8]) -> bool {
    let path = scratch().join("fuzz.safetensors");
    std::fs::write(&path, data).unwrap();
    let Ok(ck) = Checkpoint::read(&path) else {
        return false;
    };
    let dev = tcgan_ops_cpu::cpu();
    for prefix in ck.networks() {
        let _ = ck.network_entry(&prefix);
        let _ = ck.state(&prefix, &dev);
    }
    for prefix in ["opt_G", "opt_D", "loss"] {
        let _ = ck.state(prefix, &dev);
    }
    if let Some(t) = ck.metadata("training_state") {
        let _ = serde_json::from_str::<tcgan_apps::training::state::TrainingState>(t);
    }
    let _ = tcgan_apps::training::state::stored_options(&path);
    true
}
