//! The official `InfiniteSampler`: a seeded shuffle, then an endless walk over it in which each
//! visited slot swaps with a random slot up to `window` places behind, so the order keeps
//! changing without epochs.

use crate::numpy_rng::RandomState;

pub struct InfiniteSampler {
    order: Vec<usize>,
    rnd: Option<RandomState>,
    window: usize,
    rank: usize,
    num_replicas: usize,
    idx: usize,
}

impl InfiniteSampler {
    /// `InfiniteSampler(dataset, rank, num_replicas, shuffle, seed, window_size)` for a data
    /// set of `len` items.
    pub fn new(
        len: usize,
        rank: usize,
        num_replicas: usize,
        shuffle: bool,
        seed: u32,
        window_size: f64,
    ) -> Self {
        assert!(len > 0, "InfiniteSampler over an empty data set");
        assert!(num_replicas > 0 && rank < num_replicas);
        assert!((0.0..=1.0).contains(&window_size));
        let mut order: Vec<usize> = (0..len).collect();
        let mut rnd = None;
        let mut window = 0;
        if shuffle {
            let mut r = RandomState::new(seed);
            r.shuffle(&mut order);
            // np.rint rounds half to even.
            window = (len as f64 * window_size).round_ties_even() as usize;
            rnd = Some(r);
        }
        InfiniteSampler {
            order,
            rnd,
            window,
            rank,
            num_replicas,
            idx: 0,
        }
    }

    /// The official defaults: one process, shuffled, window 0.5.
    pub fn with_seed(len: usize, seed: u32) -> Self {
        Self::new(len, 0, 1, true, seed, 0.5)
    }
}

impl Iterator for InfiniteSampler {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let n = self.order.len();
            let i = self.idx % n;
            let out = (self.idx % self.num_replicas == self.rank).then_some(self.order[i]);
            if self.window >= 2 {
                let rnd = self.rnd.as_mut().expect("a window implies shuffling");
                let back = rnd.randint(self.window as u64) as usize;
                let j = (i + n - back % n) % n;
                self.order.swap(i, j);
            }
            self.idx += 1;
            if out.is_some() {
                return out;
            }
        }
    }
}
