//! dataset_tool on bad input: a clear error naming the file, a non-zero exit code, no panic, and
//! nothing written (no archive, no temporary file, an existing archive left as it was).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use tcgan_apps::dataset::writer::encode_png;
use tcgan_apps::dataset::Image;

fn write_png(path: &Path, w: usize, h: usize, seed: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let data = (0..w * h * 3)
        .map(|i| (i as u8).wrapping_mul(seed))
        .collect();
    std::fs::write(path, encode_png(&Image::new(w, h, 3, data))).unwrap();
}

/// Runs the tool into `out/` and checks the failure; returns stderr.
fn expect_failure(
    name: &str,
    source: &Path,
    dest_name: &str,
    extra: &[&str],
    must_mention: &[&str],
) -> String {
    let out_dir = scratch(&format!("bad_{name}_out"));
    let dest = out_dir.join(dest_name);
    let mut args = vec![
        "--source",
        source.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = dataset_tool(&args);
    assert_ne!(
        run.code, 0,
        "{name}: expected failure; stdout: {}",
        run.stdout
    );
    assert_ne!(run.code, 101, "{name}: panicked: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
    for m in must_mention {
        assert!(
            run.stderr.contains(m),
            "{name}: error should mention {m:?}: {}",
            run.stderr
        );
    }
    assert!(
        list_files(&out_dir).is_empty(),
        "{name}: left files behind: {:?}",
        list_files(&out_dir)
    );
    run.stderr
}

fn source_dir(name: &str) -> PathBuf {
    scratch(&format!("bad_{name}_src"))
}

#[test]
fn corrupt_png_is_named() {
    let src = source_dir("corrupt_png");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    std::fs::write(src.join("cat/b.png"), b"\x89PNG\r\n\x1a\nthis is not a png").unwrap();
    expect_failure(
        "corrupt_png",
        &src,
        "out.zip",
        &[],
        &["b.png", "cannot decode"],
    );
}

#[test]
fn truncated_png_is_named() {
    let src = source_dir("truncated_png");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    let bytes = std::fs::read(src.join("cat/a.png")).unwrap();
    std::fs::write(src.join("cat/c.png"), &bytes[..bytes.len() / 2]).unwrap();
    expect_failure("truncated_png", &src, "out.zip", &[], &["c.png"]);
}

#[test]
fn truncated_jpeg_is_named() {
    let src = source_dir("truncated_jpeg");
    let jpeg = std::fs::read(golden_dir().join("dataset_tool/src/same_size/blue/u2.jpg")).unwrap();
    std::fs::create_dir_all(src.join("dog")).unwrap();
    std::fs::write(src.join("dog/x.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    expect_failure("truncated_jpeg", &src, "out.zip", &[], &["x.jpg"]);
}

#[test]
fn empty_image_file_is_named() {
    let src = source_dir("empty_file");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    std::fs::write(src.join("cat/empty.jpg"), b"").unwrap();
    expect_failure("empty_file", &src, "out", &[], &["empty.jpg", "empty"]);
}

#[test]
fn unsupported_format_is_named() {
    let src = source_dir("bmp");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    std::fs::write(src.join("cat/z.bmp"), b"BM\x00\x00\x00\x00").unwrap();
    expect_failure("bmp", &src, "out.zip", &[], &["z.bmp", "only PNG and JPEG"]);
}

#[test]
fn zip_that_is_not_a_zip() {
    let dir = source_dir("notzip");
    let src = dir.join("images.zip");
    std::fs::write(&src, b"PK but not really a zip archive at all").unwrap();
    expect_failure("notzip", &src, "out.zip", &[], &["images.zip", "zip"]);
}

#[test]
fn empty_folder() {
    let src = source_dir("empty");
    std::fs::write(src.join("notes.txt"), b"no images here").unwrap();
    expect_failure("empty", &src, "out.zip", &[], &["no images found"]);
}

#[test]
fn missing_source() {
    let src = source_dir("missing").join("does-not-exist");
    expect_failure(
        "missing",
        &src,
        "out.zip",
        &[],
        &["does-not-exist", "no such file"],
    );
}

#[test]
fn mixed_resolutions_without_size() {
    let src = source_dir("mixed_res");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    write_png(&src.join("cat/b.png"), 32, 32, 5);
    expect_failure(
        "mixed_res",
        &src,
        "out.zip",
        &[],
        &["b.png", "32x32", "16x16", "--width"],
    );
}

#[test]
fn non_power_of_two_size() {
    let src = source_dir("npot");
    write_png(&src.join("cat/a.png"), 12, 12, 3);
    expect_failure("npot", &src, "out.zip", &[], &["a.png", "power of two"]);
    let src2 = source_dir("npot_opt");
    write_png(&src2.join("cat/a.png"), 16, 16, 3);
    expect_failure(
        "npot_opt",
        &src2,
        "out.zip",
        &["--width=24", "--height=24"],
        &["power of two", "24"],
    );
}

#[test]
fn non_square_images_and_options() {
    let src = source_dir("nonsquare");
    write_png(&src.join("cat/a.png"), 16, 8, 3);
    expect_failure("nonsquare", &src, "out.zip", &[], &["a.png", "square"]);
    expect_failure(
        "nonsquare_opt",
        &src,
        "out.zip",
        &["--transform=center-crop", "--width=16", "--height=8"],
        &["square"],
    );
    expect_failure(
        "crop_without_size",
        &src,
        "out.zip",
        &["--transform=center-crop"],
        &["--width"],
    );
}

#[test]
fn invalid_dataset_json_in_source() {
    let src = source_dir("badjson");
    write_png(&src.join("a.png"), 16, 16, 3);
    std::fs::write(src.join("dataset.json"), b"{\"labels\": [[\"a.png\", ").unwrap();
    expect_failure("badjson", &src, "out.zip", &[], &["dataset.json"]);
}

#[test]
fn images_outside_class_folders_mixed_with_classes() {
    let src = source_dir("mixed_layout");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    write_png(&src.join("loose.png"), 16, 16, 5);
    expect_failure(
        "mixed_layout",
        &src,
        "out.zip",
        &[],
        &["loose.png", "class folder"],
    );
}

#[test]
fn non_empty_dest_folder_is_refused_and_kept() {
    let src = source_dir("dest_nonempty");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    let dest = scratch("bad_dest_nonempty_out").join("out");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("keep.txt"), b"mine").unwrap();
    let run = dataset_tool(&[
        "--source",
        src.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("must be empty"), "{}", run.stderr);
    assert_eq!(list_files(dest.parent().unwrap()), ["out/keep.txt"]);
}

/// A failed run leaves an existing archive of the same name untouched (we write elsewhere and
/// rename only on success).
#[test]
fn failure_keeps_previous_archive() {
    let src = source_dir("keep_prev");
    write_png(&src.join("cat/a.png"), 16, 16, 3);
    let out_dir = scratch("bad_keep_prev_out");
    let dest = out_dir.join("data.zip");
    let ok = dataset_tool(&[
        "--source",
        src.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let before = std::fs::read(&dest).unwrap();
    std::fs::write(src.join("cat/b.png"), b"garbage").unwrap();
    let run = dataset_tool(&[
        "--source",
        src.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("b.png"), "{}", run.stderr);
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    assert_eq!(list_files(&out_dir), ["data.zip"]);
}

#[test]
fn corrupt_cifar_tarball() {
    let dir = source_dir("cifar_bad");
    let src = dir.join("cifar-10-python.tar.gz");
    std::fs::write(&src, b"\x1f\x8b\x08\x00 not really gzip").unwrap();
    expect_failure(
        "cifar_bad",
        &src,
        "out.zip",
        &[],
        &["cifar-10-python.tar.gz"],
    );
}
