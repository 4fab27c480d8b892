//! Mixed precision as the official networks do it: the `num_fp16_res` highest
//! resolutions run their blocks in f16 (with `conv_clamp` keeping activations
//! in range), everything else in f32. Off unless switched on at run time.

use std::sync::atomic::{AtomicBool, Ordering};
use tcgan_core::DType;

/// The lowest resolution whose block runs in f16: `max(2^(log2(R) + 1 - n), 8)`
/// (the 4x4 block and epilogue never do). `num_fp16_res = 0` gives a
/// resolution above the image's, so no block.
pub fn fp16_resolution(img_resolution: usize, num_fp16_res: usize) -> usize {
    let log2 = img_resolution.trailing_zeros() as usize;
    let exp = (log2 + 1).saturating_sub(num_fp16_res);
    (1usize << exp).max(8)
}

/// Whether the f16 blocks of a network use f16: the inverse of the official
/// `force_fp32`, which is false there. Here it starts false (every block in
/// f32): the CPU backend gains nothing from f16, and the golden vectors are
/// f32. `train --fp16=1` switches it on.
#[derive(Debug, Default)]
pub struct Fp16Switch(AtomicBool);

impl Fp16Switch {
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The dtype of a block: f16 when `use_fp16` marks it and the switch is
    /// on, else the network's own (`base`: f32, or f64 in gradient checks).
    pub fn block_dtype(&self, use_fp16: bool, base: DType) -> DType {
        if use_fp16 && self.is_on() {
            DType::F16
        } else {
            base
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp16_resolution_matches_the_official_formula() {
        // 256x256 with 4: blocks 32..256 in f16; never below 8; 0 disables.
        assert_eq!(fp16_resolution(256, 4), 32);
        assert_eq!(fp16_resolution(32, 4), 8);
        assert_eq!(fp16_resolution(32, 1), 32);
        assert_eq!(fp16_resolution(32, 0), 64);
        assert_eq!(fp16_resolution(4, 9), 8);
    }

    #[test]
    fn only_marked_blocks_of_a_switched_on_network_use_f16() {
        let s = Fp16Switch::default();
        assert_eq!(s.block_dtype(true, DType::F32), DType::F32);
        s.set(true);
        assert_eq!(s.block_dtype(true, DType::F32), DType::F16);
        assert_eq!(s.block_dtype(false, DType::F32), DType::F32);
        assert_eq!(s.block_dtype(false, DType::F64), DType::F64);
    }
}
