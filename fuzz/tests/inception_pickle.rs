//! Fuzz target `inception_pickle` (the TorchScript pickle reader of the
//! Inception weights): never panics, errors name the file and the byte offset.
//! Longer runs: `TCGAN_FUZZ_ITERS=1000000 cargo test -p tcgan-fuzz --release --test inception_pickle`.

#[test]
fn fuzz_inception_pickle() {
    tcgan_fuzz::fuzz(
        "inception_pickle",
        20_000,
        4096,
        tcgan_fuzz::targets::inception_pickle,
    );
}

/// The seed corpus: small pickles shaped like `data.pkl` (a module tree with
/// tensors, memo puts and gets, containers and scalars). Rewrite the files with
/// `cargo test -p tcgan-fuzz --test inception_pickle -- --ignored`.
#[test]
#[ignore = "rewrites fuzz/corpus/inception_pickle"]
fn write_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/inception_pickle");
    for (i, seed) in corpus().into_iter().enumerate() {
        std::fs::write(dir.join(format!("seed{i}.pkl")), seed).unwrap();
    }
}

#[test]
fn the_seed_corpus_parses() {
    for s in corpus() {
        tcgan_nn::inception::pickle::read(&s, "seed.pkl").unwrap();
    }
}

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
