//! A small seeded mutation fuzzer that runs on stable Rust as ordinary tests, and the fuzz
//! targets for every parser of outside input (see `targets`).
//!
//! Each run starts from a seed corpus (`fuzz/corpus/<target>/`), applies random mutations (bit
//! flips, interesting values, byte insertion/deletion, duplication, truncation, splicing with
//! another input) and calls the target. A panic is a failure: the input is saved under
//! `fuzz/artifacts/<target>/` and the test fails naming the file, the seed and the iteration.
//! `TCGAN_FUZZ_ITERS` (iterations) and `TCGAN_FUZZ_SEED` run longer or elsewhere.

pub mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// SplitMix64: tiny, seedable, good enough to drive mutations.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Values that often sit on a boundary of a length or size field.
const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    1023,
    1024,
    4096,
    32767,
    32768,
    65535,
    65536,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// Applies one to four random mutations to `input`, keeping it at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut data = input.to_vec();
    // Mostly one mutation: stacked ones rarely keep a file parseable.
    let rounds = [1, 1, 1, 1, 2, 2, 3, 4][rng.below(8)];
    for _ in 0..rounds {
        let len = data.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next_u64() as u8;
            }
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = [0u8, 0xff, 0x7f, 0x80, 1][rng.below(5)];
            }
            3 if len >= 4 => {
                // A 16- or 32-bit field set to an interesting value, either byte order.
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let wide = rng.chance(2) && len >= 4;
                let bytes: Vec<u8> = match (wide, rng.chance(2)) {
                    (true, true) => v.to_le_bytes().to_vec(),
                    (true, false) => v.to_be_bytes().to_vec(),
                    (false, true) => (v as u16).to_le_bytes().to_vec(),
                    (false, false) => (v as u16).to_be_bytes().to_vec(),
                };
                let i = rng.below(len - bytes.len() + 1);
                data[i..i + bytes.len()].copy_from_slice(&bytes);
            }
            4 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let fill: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(i..i, fill);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                data.drain(i..i + n);
            }
            6 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            7 if len > 0 => data.truncate(rng.below(len)),
            8 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let cut = rng.below(len + 1);
                    let from = rng.below(other.len());
                    data.truncate(cut);
                    data.extend_from_slice(&other[from..]);
                }
            }
            _ if len > 1 => {
                // Swap two bytes.
                let (a, b) = (rng.below(len), rng.below(len));
                data.swap(a, b);
            }
            _ => data.push(rng.next_u64() as u8),
        }
        data.truncate(max_len);
    }
    data
}

/// `fuzz/corpus/<name>/`, every file, sorted by name.
pub fn load_corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("seed corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "seed corpus {} is empty", dir.display());
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}"))
    })
}

/// Runs `target` on every corpus input, then on `TCGAN_FUZZ_ITERS` (default `default_iters`)
/// mutated inputs. Panics, with the input saved, if the target panics. The target returns
/// whether it accepted the input; accepted mutants join the pool that later mutations start
/// from (a cheap stand-in for coverage feedback).
pub fn fuzz(name: &str, default_iters: u64, max_len: usize, target: impl Fn(&[u8]) -> bool) {
    let corpus = load_corpus(name);
    let iters = env_number("TCGAN_FUZZ_ITERS").unwrap_or(default_iters);
    let seed = env_number("TCGAN_FUZZ_SEED").unwrap_or(0x7c6a_2022);
    let mut rng = Rng::new(
        seed ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)),
    );
    // Mutated inputs join a bounded pool, so mutations stack up over the run.
    let mut pool = corpus.clone();
    let run = |input: &[u8], iteration: Option<u64>| {
        let result = catch_unwind(AssertUnwindSafe(|| target(input)));
        match result {
            Ok(accepted) => accepted,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let path = save_artifact(name, input);
                panic!(
                "fuzz target {name} panicked ({msg}) on {} (seed {seed:#x}, iteration {iteration:?}); reproduce with the saved input",
                path.display()
            );
            }
        }
    };
    for input in &corpus {
        run(input, None);
    }
    for i in 0..iters {
        let base = &pool[rng.below(pool.len())];
        let input = mutate(&mut rng, base, &corpus, max_len);
        if run(&input, Some(i)) {
            if pool.len() < 256 {
                pool.push(input);
            } else {
                let slot = corpus.len() + rng.below(256 - corpus.len());
                pool[slot] = input;
            }
        }
    }
}

fn save_artifact(name: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts")
        .join(name);
    let _ = std::fs::create_dir_all(&dir);
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("crash-{hash:016x}"));
    let _ = std::fs::write(&path, input);
    path
}
