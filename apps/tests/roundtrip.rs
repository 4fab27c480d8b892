//! Archives go round: ours load in our loader with the right labels, the official tool's golden
//! zips load too, and the loader's subset, mirror, batches and CIFAR input behave as the
//! official code does.

mod common;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use common::*;
use tcgan_apps::dataset::loader::select_subset;
use tcgan_apps::dataset::{BatchLoader, DatasetOptions, ImageFolderDataset, InfiniteSampler};

fn labelled() -> DatasetOptions {
    DatasetOptions {
        use_labels: true,
        ..Default::default()
    }
}

fn convert(name: &str, src: &Path, dest_name: &str, extra: &[&str]) -> std::path::PathBuf {
    let dest = scratch(name).join(dest_name);
    let mut args = vec![
        "--source",
        src.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = dataset_tool(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dest
}

fn hwc_to_chw(img: &tcgan_apps::dataset::Image) -> Vec<u8> {
    let plane = img.width * img.height;
    let mut out = vec![0; img.data.len()];
    for (p, px) in img.data.chunks_exact(img.channels).enumerate() {
        for (c, &v) in px.iter().enumerate() {
            out[c * plane + p] = v;
        }
    }
    out
}

#[test]
fn our_archive_loads_with_folder_labels() {
    let src = golden_dir().join("dataset_tool/src/mixed");
    for dest_name in ["mixed.zip", "mixed_folder"] {
        let dest = convert(
            &format!("rt_ours_{dest_name}"),
            &src,
            dest_name,
            &["--transform=center-crop", "--width=16", "--height=16"],
        );
        let ds = ImageFolderDataset::open(&dest, &labelled()).unwrap();
        assert_eq!(
            (ds.len(), ds.resolution(), ds.num_channels(), ds.label_dim()),
            (13, 16, 3, 3)
        );
        let names = ds.class_names().unwrap();
        // Archive order follows the sorted sources: 4 apple, 4 banana, 5 cherry.
        let expected = ["apple"; 4]
            .iter()
            .chain(&["banana"; 4])
            .chain(&["cherry"; 5])
            .copied()
            .collect::<Vec<_>>();
        for (i, class) in expected.iter().enumerate() {
            assert_eq!(ds.get_class(i), Some(names[*class]), "item {i}");
            let onehot = ds.get_label(i);
            assert_eq!(onehot.iter().sum::<f32>(), 1.0);
            assert_eq!(onehot[names[*class] as usize], 1.0);
        }
        // Unlabelled use gives c_dim 0.
        let plain = ImageFolderDataset::open(&dest, &DatasetOptions::default()).unwrap();
        assert_eq!(plain.label_dim(), 0);
        assert!(plain.get_label(0).is_empty());
    }
}

#[test]
fn official_archives_load() {
    for id in ["center_crop_16", "no_transform"] {
        let case = manifest_case(&format!("dataset_tool.{id}"));
        let zip = golden_dir().join(case["zip"].as_str().unwrap());
        let tensors = read_tensors(&golden_dir().join(case["file"].as_str().unwrap()));
        let ds = ImageFolderDataset::open(&zip, &labelled()).unwrap();
        let labels = case["dataset_json"]["labels"].as_array().unwrap();
        assert_eq!(ds.len(), labels.len());
        let c_dim = labels.iter().map(|l| l[1].as_u64().unwrap()).max().unwrap() as usize + 1;
        assert_eq!(ds.label_dim(), c_dim);
        assert_eq!(ds.resolution(), 16);
        for (i, l) in labels.iter().enumerate() {
            let name = l[0].as_str().unwrap();
            assert_eq!(ds.image_fname(ds.details(i).0), name);
            assert_eq!(ds.get_class(i), Some(l[1].as_u64().unwrap()));
            let want = hwc_to_chw(&tensor_image(&tensors[&format!("out/{name}")]));
            assert_eq!(ds.get_image(i).unwrap(), want, "{id}: {name}");
        }
    }
}

#[test]
fn mirror_and_subset_follow_the_official_dataset() {
    let src = golden_dir().join("dataset_tool/src/mixed");
    let dest = convert(
        "rt_mirror",
        &src,
        "m.zip",
        &["--transform=center-crop", "--width=16", "--height=16"],
    );
    let full = ImageFolderDataset::open(&dest, &labelled()).unwrap();
    let opts = DatasetOptions {
        xflip: true,
        max_size: Some(5),
        random_seed: 7,
        ..labelled()
    };
    let ds = ImageFolderDataset::open(&dest, &opts).unwrap();
    assert_eq!(ds.len(), 10);
    let chosen = select_subset(13, Some(5), 7);
    for (i, &raw) in chosen.iter().enumerate() {
        assert_eq!(ds.details(i), (raw, false));
        assert_eq!(ds.details(i + 5), (raw, true));
        assert_eq!(ds.get_label(i + 5), ds.get_label(i));
        let plain = ds.get_image(i).unwrap();
        assert_eq!(plain, full.get_image(raw).unwrap());
        // The mirrored copy is the x-flip: column x of each row becomes column 15 - x.
        let flipped = ds.get_image(i + 5).unwrap();
        for row in 0..3 * 16 {
            for x in 0..16 {
                assert_eq!(flipped[row * 16 + x], plain[row * 16 + 15 - x]);
            }
        }
    }
}

#[test]
fn batches_are_prefetched_in_sampler_order() {
    let src = golden_dir().join("dataset_tool/src/same_size");
    let dest = convert("rt_batches", &src, "b.zip", &[]);
    let ds = Arc::new(ImageFolderDataset::open(&dest, &labelled()).unwrap());
    let mut loader = BatchLoader::new(ds.clone(), InfiniteSampler::with_seed(ds.len(), 3), 4, 2);
    let expected: Vec<usize> = InfiniteSampler::with_seed(ds.len(), 3).take(12).collect();
    for b in 0..3 {
        let batch = loader.next_batch().unwrap();
        assert_eq!(batch.indices, expected[b * 4..b * 4 + 4]);
        assert_eq!(
            (
                batch.batch_size,
                batch.channels,
                batch.resolution,
                batch.label_dim
            ),
            (4, 3, 16, 3)
        );
        assert_eq!(batch.images.len(), 4 * 3 * 16 * 16);
        assert_eq!(batch.labels.len(), 4 * 3);
        for (k, &idx) in batch.indices.iter().enumerate() {
            let img = ds.get_image(idx).unwrap();
            let got = &batch.images[k * 768..(k + 1) * 768];
            for (g, &v) in got.iter().zip(&img) {
                assert_eq!(*g, v as f32 / 127.5 - 1.0);
                assert!((-1.0..=1.0).contains(g));
            }
            assert_eq!(
                &batch.labels[k * 3..k * 3 + 3],
                ds.get_label(idx).as_slice()
            );
        }
    }
    drop(loader); // stops the worker thread
}

#[test]
fn grayscale_archive_and_reconversion_keep_labels() {
    let src = golden_dir().join("dataset_tool/src/same_size");
    let gray = convert("rt_gray", &src, "g.zip", &["--channels=1"]);
    let ds = ImageFolderDataset::open(&gray, &labelled()).unwrap();
    assert_eq!((ds.num_channels(), ds.len()), (1, 9));
    // Converting our own archive again reads its dataset.json: same labels and class names.
    let again = convert("rt_again", &gray, "again.zip", &["--channels=1"]);
    let (_, j1) = read_archive(&gray);
    let (_, j2) = read_archive(&again);
    assert_eq!(j1, j2);
    assert_eq!(
        j2["class_names"],
        serde_json::json!({"blue": 0, "green": 1, "red": 2})
    );
}

#[test]
fn max_images_keeps_the_first_sorted_inputs() {
    let src = golden_dir().join("dataset_tool/src/same_size");
    let dest = convert("rt_max", &src, "m.zip", &["--max-images=4"]);
    let (images, json) = read_archive(&dest);
    let mut names: Vec<_> = images.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        (0..4)
            .map(tcgan_apps::dataset::archive_name)
            .collect::<Vec<_>>()
    );
    // Classes are numbered over every folder found, as in the official tool.
    assert_eq!(
        json["class_names"],
        serde_json::json!({"blue": 0, "green": 1, "red": 2})
    );
}

// ---- CIFAR ----------------------------------------------------------------------------------

/// A CIFAR batch pickled the way the real files are (Python 2 cPickle, protocol 2, numpy array
/// via `_reconstruct`, `str` payloads as BINSTRING).
fn cifar_pickle(data: &[u8], labels: &[u8], label_key: &str) -> Vec<u8> {
    let rows = data.len() / 3072;
    let mut p = vec![0x80, 2, b'}', b'q', 1, b'('];
    let short = |p: &mut Vec<u8>, s: &[u8]| {
        p.push(b'U');
        p.push(s.len() as u8);
        p.extend_from_slice(s);
    };
    short(&mut p, b"batch_label");
    short(&mut p, b"training batch 1 of 5");
    short(&mut p, b"data");
    p.extend_from_slice(
        b"cnumpy.core.multiarray\n_reconstruct\nq\x05cnumpy\nndarray\nq\x06K\x00\x85",
    );
    short(&mut p, b"b");
    p.extend_from_slice(b"\x87Rq\x07(K\x01M");
    p.extend_from_slice(&(rows as u16).to_le_bytes());
    p.extend_from_slice(b"M\x00\x0c\x86cnumpy\ndtype\nq\x08");
    short(&mut p, b"u1");
    p.extend_from_slice(b"K\x00K\x01\x87Rq\t(K\x03");
    short(&mut p, b"|");
    p.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T");
    p.extend_from_slice(&(data.len() as u32).to_le_bytes());
    p.extend_from_slice(data);
    p.extend_from_slice(b"tbq\n");
    short(&mut p, label_key.as_bytes());
    p.extend_from_slice(b"]q\x0b(");
    for &l in labels {
        p.extend_from_slice(&[b'K', l]);
    }
    p.extend_from_slice(b"eu.");
    p
}

fn write_tar_gz(path: &Path, members: &[(String, Vec<u8>)]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

#[test]
fn cifar10_tarball_converts() {
    let dir = scratch("rt_cifar10_src");
    let mut members = Vec::new();
    let mut all = Vec::new();
    for b in 1..=5u8 {
        // Two images per batch; pixel value encodes (batch, image, channel, position).
        let mut data = Vec::new();
        for i in 0..2u8 {
            for c in 0..3u8 {
                for pos in 0..1024u32 {
                    data.push(
                        ((b as u32 * 40 + i as u32 * 13 + c as u32 * 70 + pos % 7) % 256) as u8,
                    );
                }
            }
        }
        let labels = [b % 10, (b + 5) % 10];
        all.push((data.clone(), labels));
        members.push((
            format!("cifar-10-batches-py/data_batch_{b}"),
            cifar_pickle(&data, &labels, "labels"),
        ));
    }
    members.push((
        "cifar-10-batches-py/readme.html".into(),
        b"<html/>".to_vec(),
    ));
    let src = dir.join("cifar-10-python.tar.gz");
    write_tar_gz(&src, &members);
    let dest = convert("rt_cifar10", &src, "c.zip", &[]);
    let ds = ImageFolderDataset::open(&dest, &labelled()).unwrap();
    assert_eq!((ds.len(), ds.resolution(), ds.num_channels()), (10, 32, 3));
    for (b, (data, labels)) in all.iter().enumerate() {
        for i in 0..2 {
            let idx = b * 2 + i;
            assert_eq!(ds.get_class(idx), Some(labels[i] as u64));
            // Stored CHW rows come back as CHW from the loader.
            assert_eq!(ds.get_image(idx).unwrap(), data[i * 3072..(i + 1) * 3072]);
        }
    }
    let first3 = convert("rt_cifar10_max", &src, "c3.zip", &["--max-images=3"]);
    assert_eq!(
        ImageFolderDataset::open(&first3, &labelled())
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn cifar100_uses_fine_labels() {
    let dir = scratch("rt_cifar100_src");
    let data: Vec<u8> = (0..3 * 3072u32).map(|i| (i * 7 % 251) as u8).collect();
    let members = vec![(
        "cifar-100-python/train".to_string(),
        cifar_pickle(&data, &[42, 0, 99], "fine_labels"),
    )];
    let src = dir.join("cifar-100-python.tar.gz");
    write_tar_gz(&src, &members);
    let dest = convert("rt_cifar100", &src, "c.zip", &[]);
    let ds = ImageFolderDataset::open(&dest, &labelled()).unwrap();
    assert_eq!(ds.label_dim(), 100);
    assert_eq!(
        [ds.get_class(0), ds.get_class(1), ds.get_class(2)],
        [Some(42), Some(0), Some(99)]
    );
    assert_eq!(ds.get_image(2).unwrap(), data[2 * 3072..]);
}

#[test]
fn bundled_emoji32_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emoji32.zip");
    let ds = ImageFolderDataset::open(&path, &labelled()).unwrap();
    assert_eq!(
        (ds.len(), ds.resolution(), ds.num_channels(), ds.label_dim()),
        (1906, 32, 3, 9)
    );
    let mut counts = [0usize; 9];
    for i in 0..ds.len() {
        counts[ds.get_class(i).unwrap() as usize] += 1;
    }
    assert_eq!(counts, [85, 159, 270, 131, 264, 386, 169, 224, 218]);
    let names = ds.class_names().unwrap();
    assert_eq!(names["Activities"], 0);
    assert_eq!(names["Travel & Places"], 8);
    // Transparent corners were composited over white.
    let img = ds.get_image(0).unwrap();
    assert_eq!([img[0], img[1024], img[2048]], [255, 255, 255]);
}
