//! generate: the files it writes, the grid layout, reproducibility and bad input.

mod fixtures;

use fixtures::*;
use tcgan_apps::dataset::decode::decode_image;
use tcgan_apps::dataset::Image;
use tcgan_apps::generate::{generate_image, latent, parse_seeds, GenerateOptions};
use tcgan_nn::networks::NoiseMode;

const EXE: &str = env!("CARGO_BIN_EXE_generate");

fn png(path: &std::path::Path) -> Image {
    decode_image(&std::fs::read(path).unwrap(), path.to_str().unwrap())
        .unwrap()
        .image
}

fn fixture(name: &str, c_dim: usize, channels: usize) -> (std::path::PathBuf, String) {
    let dir = scratch(name);
    let snap = dir.join("network-snapshot-000000.safetensors");
    write_snapshot(&snap, &tiny_generator(c_dim, channels, 9), None);
    (dir, snap.to_str().unwrap().into())
}

#[test]
fn one_png_per_seed_with_the_official_names() {
    let (dir, snap) = fixture("gen_files", 3, 3);
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let r = run_bin(
        EXE,
        &[
            "--network",
            &snap,
            "--seeds=0-2,5",
            "--class=1",
            "--outdir",
            o,
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "seed0000.png",
            "seed0001.png",
            "seed0002.png",
            "seed0005.png"
        ]
    );
    let imgs: Vec<Image> = names.iter().map(|n| png(&out.join(n))).collect();
    for img in &imgs {
        assert_eq!((img.width, img.height, img.channels), (RES, RES, 3));
    }
    assert_ne!(imgs[0].data, imgs[1].data, "seeds differ");

    // Same seeds again (noise mode random, seeded per image): identical files.
    let run_random = |dir: &str| {
        let r = run_bin(
            EXE,
            &[
                "--network",
                &snap,
                "--seeds=3",
                "--class=2",
                "--noise-mode=random",
                "--trunc=0.7",
                "--outdir",
                dir,
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        std::fs::read(std::path::Path::new(dir).join("seed0003.png")).unwrap()
    };
    let a = run_random(dir.join("r1").to_str().unwrap());
    let b = run_random(dir.join("r2").to_str().unwrap());
    assert_eq!(a, b);
    // The class and the noise mode change the image.
    let r = run_bin(
        EXE,
        &["--network", &snap, "--seeds=0", "--class=2", "--outdir", o],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(png(&out.join("seed0000.png")).data, imgs[0].data);
}

#[test]
fn grid_has_a_row_per_class_and_a_column_per_seed() {
    let (dir, snap) = fixture("gen_grid", 3, 3);
    let out = dir.join("grid");
    let o = out.to_str().unwrap();
    let r = run_bin(
        EXE,
        &["--network", &snap, "--seeds=4,7", "--grid", "--outdir", o],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let grid = png(&out.join("grid.png"));
    assert_eq!((grid.width, grid.height), (2 * RES, 3 * RES));
    // Cell (row = class 2, column = seed 7) is the image generate makes for them.
    let g = tiny_generator(3, 3, 9);
    let cell = generate_image(
        &g,
        7,
        Some(2),
        &GenerateOptions::default(),
        &tcgan_ops_cpu::cpu(),
    )
    .unwrap();
    let cropped = grid.crop(RES, 2 * RES, RES, RES);
    assert_eq!(cropped.data, cell);
    // --class picks one row.
    let r = run_bin(
        EXE,
        &[
            "--network",
            &snap,
            "--seeds=4-7",
            "--grid",
            "--class=0",
            "--outdir",
            o,
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let grid = png(&out.join("grid.png"));
    assert_eq!((grid.width, grid.height), (4 * RES, RES));
}

#[test]
fn unconditional_networks_make_a_single_row_and_gray_images() {
    let (dir, snap) = fixture("gen_uncond", 0, 1);
    let o = dir.join("out");
    let r = run_bin(
        EXE,
        &[
            "--network",
            &snap,
            "--seeds=1-3",
            "--grid",
            "--class=4",
            "--outdir",
            o.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("--class is ignored"), "{}", r.stdout);
    let grid = png(&o.join("grid.png"));
    assert_eq!((grid.width, grid.height, grid.channels), (3 * RES, RES, 1));
}

#[test]
fn bad_input_is_a_clear_error() {
    let (dir, snap) = fixture("gen_bad", 2, 3);
    let o = dir.join("out");
    let o = o.to_str().unwrap();
    let fails = |args: &[&str], want: &str| {
        let r = run_bin(EXE, args, &[]);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    };
    fails(
        &["--network", &snap, "--seeds=0", "--outdir", o],
        "Must specify class label with --class",
    );
    fails(
        &["--network", &snap, "--seeds=0", "--class=2", "--outdir", o],
        "--class=2 is out of range",
    );
    fails(
        &[
            "--network",
            &snap,
            "--seeds=3-1",
            "--class=0",
            "--outdir",
            o,
        ],
        "empty",
    );
    let missing = dir.join("missing.safetensors");
    let m = missing.to_str().unwrap();
    fails(
        &["--network", m, "--seeds=0", "--class=0", "--outdir", o],
        m,
    );
    assert!(!dir.join("out").exists(), "nothing written on error");
}

#[test]
fn seeds_and_latents() {
    assert_eq!(parse_seeds("0-3,5").unwrap(), [0, 1, 2, 3, 5]);
    assert_eq!(parse_seeds("7").unwrap(), [7]);
    assert_eq!(parse_seeds("4294967295").unwrap(), [u32::MAX]);
    for bad in ["", "a", "1,,2", "-1", "2-1", "4294967296"] {
        assert!(parse_seeds(bad).is_err(), "{bad:?}");
    }
    // np.random.RandomState(42).randn(1, 3)
    let z = latent(42, 3);
    let want = [0.4967141530112327, -0.13826430117118466, 0.6476885381006925];
    for (a, b) in z.iter().zip(want) {
        assert!((a - b).abs() < 1e-15);
    }
    // The official noise modes and truncation are what the options hold.
    let o = GenerateOptions::default();
    assert_eq!((o.truncation_psi, o.noise_mode), (1.0, NoiseMode::Const));
}
