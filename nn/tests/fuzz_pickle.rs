//! Fuzzing of the TorchScript pickle reader on stable Rust: a seeded mutation
//! loop (bit flips, byte inserts and deletes, truncation, splices) over small
//! pickles shaped like `data.pkl`, asserting that every input gives a value or
//! an error and never a panic or a hang. `TCGAN_FUZZ_ITERS` sets the number of
//! inputs (default 200000), `TCGAN_FUZZ_SEED` the seed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use tcgan_core::Generator;
use tcgan_nn::inception::pickle;

fn unicode(s: &str) -> Vec<u8> {
    let mut v = vec![b'X'];
    v.extend((s.len() as u32).to_le_bytes());
    v.extend(s.as_bytes());
    v
}

fn global(module: &str, name: &str) -> Vec<u8> {
    format!("c{module}\n{name}\n").into_bytes()
}

/// A tensor as TorchScript pickles it: storage persistent id + rebuild call.
fn tensor(key: &str, shape: &[u8]) -> Vec<u8> {
    let numel: u32 = shape.iter().map(|&d| d as u32).product();
    let mut v = global("torch._utils", "_rebuild_tensor_v2");
    v.extend(b"((");
    v.extend(unicode("storage"));
    v.extend(global("torch", "FloatStorage"));
    v.extend(unicode(key));
    v.extend(unicode("cpu"));
    v.push(b'J');
    v.extend(numel.to_le_bytes());
    v.extend(b"tQK\x00(");
    for &d in shape {
        v.extend([b'K', d]);
    }
    v.push(b't');
    v.push(b'(');
    let mut stride = 1u8;
    let mut strides = Vec::new();
    for &d in shape.iter().rev() {
        strides.push(stride);
        stride = stride.wrapping_mul(d);
    }
    for s in strides.iter().rev() {
        v.extend([b'K', *s]);
    }
    v.extend(b"t\x89");
    v.extend(global("collections", "OrderedDict"));
    v.extend(b")RtR");
    v
}

/// `Conv2dLayer` with its four tensors and int / int-list padding.
fn conv_layer(key0: u8, list_padding: bool) -> Vec<u8> {
    let mut v = global("__torch__.inceptionv3.___torch_mangle_2", "Conv2dLayer");
    v.extend(b"q\x01)\x81}(");
    v.extend(unicode("training"));
    v.push(0x89);
    v.extend(unicode("weight"));
    v.extend(tensor(&key0.to_string(), &[2, 3, 1, 3]));
    for (i, name) in ["beta", "mean", "var"].iter().enumerate() {
        v.extend(unicode(name));
        v.extend(tensor(&(key0 + 1 + i as u8).to_string(), &[2]));
    }
    v.extend(unicode("stride"));
    v.extend(b"K\x01");
    v.extend(unicode("padding"));
    if list_padding {
        v.extend(global("torch.jit._pickle", "build_intlist"));
        v.extend(b"(](K\x00K\x01etR");
    } else {
        v.extend(b"K\x01");
    }
    v.extend(b"ub");
    v
}

fn corpus() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    // A whole small module tree with memo puts and gets.
    let mut p = vec![0x80, 2];
    p.extend(global("__torch__.wrap_net", "WrapNet"));
    p.extend(b"q\x00)\x81}(");
    p.extend(unicode("_is_full_backward_hook"));
    p.extend(b"q\x02N");
    p.extend(unicode("net"));
    p.extend(global("__torch__.torch.nn.modules.container", "Sequential"));
    p.extend(b")\x81}(h\x02N");
    p.extend(unicode("conv"));
    p.extend(conv_layer(0, false));
    p.extend(unicode("conv_1"));
    p.extend(conv_layer(4, true));
    p.extend(unicode("pool"));
    p.extend(global(
        "__torch__.torch.nn.modules.pooling.___torch_mangle_6",
        "MaxPool2d",
    ));
    p.extend(b"r\x03\x00\x00\x00)\x81}(j\x02\x00\x00\x00Nub");
    p.extend(b"ubub.");
    seeds.push(p);
    // Containers and scalars.
    let mut q = vec![0x80, 2];
    q.extend(b"}q\x00(");
    q.extend(unicode("a"));
    q.extend(b"q\x01](K\x01M\xff\xffJ\xff\xff\xff\xff\x88\x89Ne");
    q.extend(unicode("b"));
    q.extend(b"(K\x02h\x01tu.");
    seeds.push(q);
    seeds.push(b"\x80\x02).".to_vec());
    seeds
}

fn mutate(g: &mut Generator, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + g.below(4);
    for _ in 0..rounds {
        let len = v.len();
        match g.below(6) {
            0 if len > 0 => {
                let i = g.below(len as u64) as usize;
                v[i] ^= 1 << g.below(8);
            }
            1 => {
                let i = g.below(len as u64 + 1) as usize;
                // Interesting bytes: opcodes and boundary values.
                let b = [
                    b'(', b')', b't', b'u', b'e', b'R', b'b', b'Q', b'h', b'q', 0x81, 0xff, 0x00,
                    0x7f,
                ][g.below(14) as usize];
                v.insert(i, b);
            }
            2 if len > 0 => {
                let i = g.below(len as u64) as usize;
                v.remove(i);
            }
            3 if len > 0 => {
                v.truncate(g.below(len as u64) as usize);
            }
            4 => {
                // Splice a piece of another seed in.
                let other = &corpus[g.below(corpus.len() as u64) as usize];
                if !other.is_empty() {
                    let a = g.below(other.len() as u64) as usize;
                    let b = a + g.below((other.len() - a) as u64 + 1) as usize;
                    let i = g.below(len as u64 + 1) as usize;
                    v.splice(i..i, other[a..b].iter().copied());
                }
            }
            _ if len > 0 => {
                let i = g.below(len as u64) as usize;
                v[i] = g.below(256) as u8;
            }
            _ => {}
        }
    }
    v
}

#[test]
fn the_seed_corpus_parses() {
    for s in corpus() {
        pickle::read(&s, "seed.pkl").unwrap();
    }
}

#[test]
fn mutated_pickles_never_panic() {
    let iters: usize = std::env::var("TCGAN_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let seed: u64 = std::env::var("TCGAN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2015);
    let corpus = corpus();
    let mut g = Generator::new(seed);
    let (mut ok, mut rejected) = (0usize, 0usize);
    for i in 0..iters {
        let base = &corpus[g.below(corpus.len() as u64) as usize];
        let input = mutate(&mut g, base, &corpus);
        match catch_unwind(AssertUnwindSafe(|| pickle::read(&input, "fuzz.pkl"))) {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(e)) => {
                rejected += 1;
                let msg = e.to_string();
                assert!(
                    msg.starts_with("fuzz.pkl: pickle byte "),
                    "error without file/offset: {msg}"
                );
                assert!(
                    e.offset <= input.len(),
                    "offset {} past the end {}",
                    e.offset,
                    input.len()
                );
            }
            Err(_) => panic!("input #{i} (seed {seed}) panicked: {input:02x?}"),
        }
    }
    // The mutations must reach both outcomes, or the loop tests nothing.
    assert!(ok > 0 && rejected > 0, "ok {ok}, rejected {rejected}");
}
