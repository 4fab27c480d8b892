//! A seeded, counter-based random generator (Philox4x32-10). Element `i` of a draw
//! depends only on (seed, offset + i), so results are identical on any thread
//! count and device, and the state is two integers that snapshots can store.

use crate::{DType, Device, HostBuffer, Result, Shape, Tensor};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    seed: u64,
    offset: u64,
}

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// The Philox4x32 block function with 10 rounds.
#[inline]
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for _ in 0..10 {
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
        k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
    }
    c
}

/// A uniform in the open interval (0, 1) with 53 random bits.
#[inline]
fn open01(hi: u32, lo: u32) -> f64 {
    let bits = ((hi as u64) << 21) ^ (lo as u64 >> 11);
    (bits as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator { seed, offset: 0 }
    }

    /// Restores a state returned by `state()`.
    pub fn from_state(seed: u64, offset: u64) -> Self {
        Generator { seed, offset }
    }

    /// `(seed, offset)`: enough to continue the exact same stream later.
    pub fn state(&self) -> (u64, u64) {
        (self.seed, self.offset)
    }

    /// An independent generator for a sub-task (e.g. one data-parallel rank).
    pub fn fork(&mut self) -> Generator {
        let s = self.next_u64();
        Generator::new(s ^ 0x5851_F42D_4C95_7F2D)
    }

    #[inline]
    fn block(&self, index: u64) -> [u32; 4] {
        let c = self.offset.wrapping_add(index);
        philox4x32(
            [c as u32, (c >> 32) as u32, 0x7463_6761, 0x6e00_0000],
            [self.seed as u32, (self.seed >> 32) as u32],
        )
    }

    pub fn next_u64(&mut self) -> u64 {
        let b = self.block(0);
        self.offset = self.offset.wrapping_add(1);
        ((b[0] as u64) << 32) | b[1] as u64
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        let b = self.block(0);
        self.offset = self.offset.wrapping_add(1);
        let bits = ((b[0] as u64) << 21) ^ (b[1] as u64 >> 11);
        bits as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// `n` standard normal values (Box-Muller on two 53-bit uniforms per value).
    pub fn normal_vec(&mut self, n: usize) -> Vec<f64> {
        let out = (0..n as u64)
            .map(|i| {
                let b = self.block(i);
                let r = (-2.0 * open01(b[0], b[1]).ln()).sqrt();
                r * (std::f64::consts::TAU * open01(b[2], b[3])).cos()
            })
            .collect();
        self.offset = self.offset.wrapping_add(n as u64);
        out
    }

    /// `n` values uniform in [lo, hi).
    pub fn uniform_vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        let out = (0..n as u64)
            .map(|i| {
                let b = self.block(i);
                let bits = ((b[0] as u64) << 21) ^ (b[1] as u64 >> 11);
                lo + (hi - lo) * (bits as f64 * (1.0 / (1u64 << 53) as f64))
            })
            .collect();
        self.offset = self.offset.wrapping_add(n as u64);
        out
    }

    pub fn normal(
        &mut self,
        shape: impl Into<Shape>,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let v = self.normal_vec(shape.numel());
        Tensor::from_host(host(v, dtype), shape, device)
    }

    pub fn uniform(
        &mut self,
        shape: impl Into<Shape>,
        lo: f64,
        hi: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let v = self.uniform_vec(shape.numel(), lo, hi);
        Tensor::from_host(host(v, dtype), shape, device)
    }
}

fn host(v: Vec<f64>, dtype: DType) -> HostBuffer {
    match dtype {
        DType::F64 => HostBuffer::F64(v),
        DType::F32 => HostBuffer::F32(v.into_iter().map(|x| x as f32).collect()),
        // Drawn as f32 and rounded, as PyTorch fills a half tensor.
        DType::F16 => HostBuffer::F16(
            v.into_iter()
                .map(|x| half::f16::from_f32(x as f32))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_matches_the_published_known_answer() {
        // Random123 kat_vectors: philox4x32_10 with zero counter and key.
        assert_eq!(
            philox4x32([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
    }

    #[test]
    fn same_seed_same_stream_and_offsets_compose() {
        let mut a = Generator::new(7);
        let mut b = Generator::new(7);
        assert_eq!(a.normal_vec(10), b.normal_vec(10));
        // Drawing 4 + 6 equals drawing 10 at once.
        let mut c = Generator::new(3);
        let mut d = Generator::new(3);
        let mut split = c.uniform_vec(4, 0.0, 1.0);
        split.extend(c.uniform_vec(6, 0.0, 1.0));
        assert_eq!(split, d.uniform_vec(10, 0.0, 1.0));
        // A restored state continues the stream.
        let (s, o) = c.state();
        assert_eq!(Generator::from_state(s, o).next_u64(), c.next_u64());
        assert_ne!(
            Generator::new(1).normal_vec(4),
            Generator::new(2).normal_vec(4)
        );
    }

    #[test]
    fn normal_moments_are_standard() {
        let v = Generator::new(0).normal_vec(200_000);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
    }
}
