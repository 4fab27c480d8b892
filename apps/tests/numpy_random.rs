//! numpy legacy RandomState, the `--subset` selection and the InfiniteSampler against numbers
//! computed with numpy 2.4.6: `np.random.RandomState(seed)` driving the official
//! `Dataset.__init__` max_size selection and `torch_utils/misc.py::InfiniteSampler.__iter__`
//! (the same statements, run in Python).

use tcgan_apps::dataset::loader::select_subset;
use tcgan_apps::dataset::InfiniteSampler;
use tcgan_apps::numpy_rng::RandomState;

#[test]
fn mt19937_matches_numpy() {
    // RandomState(0).randint(0, 2**32, dtype=np.uint64), three times.
    let mut r = RandomState::new(0);
    assert_eq!(
        [r.next_u32(), r.next_u32(), r.next_u32()],
        [2357136044, 2546248239, 3071714933]
    );
}

#[test]
fn randint_matches_numpy() {
    // r = RandomState(5); [r.randint(w) for w in [2, 3, 5, 1000, 2**31, 2**33, 10**12]]
    let mut r = RandomState::new(5);
    let got: Vec<u64> = [2u64, 3, 5, 1000, 1 << 31, 1 << 33, 1_000_000_000_000]
        .iter()
        .map(|&w| r.randint(w))
        .collect();
    assert_eq!(got, [1, 2, 0, 73, 2097710088, 2627419879, 819333335451]);
}

#[test]
fn subset_matches_official_selection() {
    assert_eq!(select_subset(20, Some(7), 0), [1, 6, 8, 10, 17, 18, 19]);
    assert_eq!(
        select_subset(1906, Some(50), 123),
        [
            12, 28, 43, 182, 206, 266, 277, 301, 328, 535, 554, 566, 630, 657, 701, 721, 733, 759,
            767, 779, 827, 842, 857, 861, 870, 879, 911, 914, 991, 1175, 1192, 1216, 1241, 1272,
            1296, 1440, 1451, 1497, 1604, 1641, 1659, 1660, 1723, 1728, 1770, 1811, 1843, 1889,
            1894, 1899
        ]
    );
    assert_eq!(
        select_subset(100000, Some(10), 7),
        [3703, 9538, 20435, 31008, 33909, 62938, 71012, 71305, 89107, 92307]
    );
    // No selection when the subset is not smaller than the set.
    assert_eq!(select_subset(5, Some(5), 3), [0, 1, 2, 3, 4]);
    assert_eq!(select_subset(4, None, 3), [0, 1, 2, 3]);
}

#[test]
fn infinite_sampler_matches_official() {
    let take = |s: InfiniteSampler, n: usize| s.take(n).collect::<Vec<_>>();
    assert_eq!(
        take(InfiniteSampler::with_seed(10, 0), 40),
        [
            2, 8, 4, 9, 1, 6, 2, 3, 0, 9, 7, 8, 1, 5, 6, 4, 3, 8, 2, 1, 9, 6, 7, 5, 8, 4, 0, 9, 6,
            7, 3, 1, 2, 8, 4, 7, 6, 3, 1, 8
        ]
    );
    assert_eq!(
        take(InfiniteSampler::with_seed(5, 3), 20),
        [3, 4, 1, 0, 2, 3, 4, 0, 2, 3, 1, 0, 2, 3, 4, 0, 2, 1, 3, 4]
    );
    assert_eq!(
        take(InfiniteSampler::with_seed(1000, 42), 30),
        [
            521, 737, 740, 660, 411, 678, 626, 513, 859, 136, 811, 76, 636, 973, 938, 899, 280,
            883, 761, 319, 549, 174, 371, 527, 210, 235, 101, 986, 902, 947
        ]
    );
    // rank 1 of 2 replicas.
    assert_eq!(
        take(InfiniteSampler::new(7, 1, 2, true, 1, 0.5), 20),
        [2, 0, 2, 5, 1, 0, 5, 3, 4, 2, 4, 0, 5, 1, 5, 2, 5, 6, 4, 5]
    );
}

#[test]
fn unshuffled_sampler_cycles_in_order() {
    let got: Vec<usize> = InfiniteSampler::new(3, 0, 1, false, 0, 0.5)
        .take(7)
        .collect();
    assert_eq!(got, [0, 1, 2, 0, 1, 2, 0]);
}

#[test]
fn randn_matches_numpy() {
    // RandomState(seed).randn(...).tolist() with numpy 2.4 (the legacy polar method).
    let cases: [(u32, &[f64]); 3] = [
        (
            0,
            &[
                1.764052345967664,
                0.4001572083672233,
                0.9787379841057392,
                2.240893199201458,
                1.8675579901499675,
                -0.977277879876411,
                0.9500884175255894,
                -0.1513572082976979,
                -0.10321885179355784,
                0.41059850193837233,
            ],
        ),
        (
            42,
            &[
                0.4967141530112327,
                -0.13826430117118466,
                0.6476885381006925,
                1.5230298564080254,
                -0.23415337472333597,
            ],
        ),
        (
            4294967295,
            &[0.6484086742306527, 0.6693235306338161, -1.0805437227474493],
        ),
    ];
    for (seed, want) in cases {
        let got = RandomState::new(seed).randn(want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 4.0 * f64::EPSILON * w.abs(),
                "seed {seed}: {got:?}"
            );
        }
    }
}
