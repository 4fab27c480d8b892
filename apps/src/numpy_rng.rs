//! numpy's legacy `RandomState` (MT19937) for the draws the official code makes with it:
//! `shuffle`, `randint` and `randn`, bit-exact, so that `--subset` and the sampler pick what the
//! official training picks, and `generate` draws the official latents, for the same seed.

const N: usize = 624;
const M: usize = 397;

/// `np.random.RandomState(seed)`.
#[derive(Clone)]
pub struct RandomState {
    mt: [u32; N],
    pos: usize,
    /// The second value of the last polar-method pair, served by the next `standard_normal`.
    gauss: Option<f64>,
}

impl RandomState {
    /// Seeds like `RandomState(seed)` with an integer seed (`init_genrand`).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = seed;
        for i in 1..N {
            mt[i] = 1812433253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        RandomState {
            mt,
            pos: N,
            gauss: None,
        }
    }

    fn generate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..N {
            let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % N] & LOWER);
            let mut v = self.mt[(i + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= MATRIX_A;
            }
            self.mt[i] = v;
        }
        self.pos = 0;
    }

    /// `genrand_int32`.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.generate();
        }
        let mut y = self.mt[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn next_u64(&mut self) -> u64 {
        ((self.next_u32() as u64) << 32) | self.next_u32() as u64
    }

    /// numpy's `random_interval`: uniform in `0..=max` by masked rejection.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = mask_for(max);
        if max <= 0xffff_ffff {
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `random_sample()`: 53 bits from two draws (`(a >> 5) * 2^26 + (b >> 6)) / 2^53`).
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// `standard_normal()` / `randn()`: numpy's legacy Marsaglia polar method, which makes
    /// values in pairs and returns the second of a pair first.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.next_f64() - 1.0;
            let x2 = 2.0 * self.next_f64() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `randn(n)`.
    pub fn randn(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.standard_normal()).collect()
    }

    /// `RandomState.shuffle` of a 1-D array (Fisher-Yates from the end).
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.random_interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// `RandomState.randint(high)` for `high >= 1` (int64 dtype, masked rejection).
    pub fn randint(&mut self, high: u64) -> u64 {
        assert!(high >= 1, "randint(0)");
        let rng = high - 1;
        if rng == 0 {
            return 0;
        }
        if rng <= 0xffff_ffff {
            if rng == 0xffff_ffff {
                return self.next_u32() as u64;
            }
            let mask = mask_for(rng);
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= rng {
                    return v;
                }
            }
        }
        if rng == u64::MAX {
            return self.next_u64();
        }
        let mask = mask_for(rng);
        loop {
            let v = self.next_u64() & mask;
            if v <= rng {
                return v;
            }
        }
    }
}

/// Smallest `2^k - 1 >= max`.
fn mask_for(max: u64) -> u64 {
    u64::MAX >> max.leading_zeros()
}
