//! f32 <-> f16 conversion of whole buffers (round to nearest even), split over
//! the thread pool: the mixed-precision blocks convert every activation.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

/// Elements per parallel piece; small buffers convert on the calling thread.
const PIECE: usize = 1 << 16;

pub fn f32_to_f16(v: &[f32]) -> Vec<f16> {
    let mut out = vec![f16::ZERO; v.len()];
    out.par_chunks_mut(PIECE)
        .zip(v.par_chunks(PIECE))
        .for_each(|(o, i)| o.convert_from_f32_slice(i));
    out
}

pub fn f16_to_f32(v: &[f16], out: &mut [f32]) {
    out.par_chunks_mut(PIECE)
        .zip(v.par_chunks(PIECE))
        .for_each(|(o, i)| i.convert_to_f32_slice(o));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_nearest_even_and_saturates_to_infinity() {
        // 1 + 2^-11 lies halfway between 1 and the next f16 (1 + 2^-10): even is 1.
        let halfway = 1.0 + 2f32.powi(-11);
        let above = 1.0 + 2f32.powi(-11) + 2f32.powi(-20);
        let v = [halfway, above, 65504.0, 65520.0, -1e6, 6e-8, f32::NAN];
        let h = f32_to_f16(&v);
        let mut back = vec![0.0; v.len()];
        f16_to_f32(&h, &mut back);
        assert_eq!(back[0], 1.0);
        assert_eq!(back[1], 1.0 + 2f32.powi(-10));
        assert_eq!(back[2], 65504.0, "the largest f16");
        assert_eq!(
            back[3],
            f32::INFINITY,
            "past the largest f16 by half a step"
        );
        assert_eq!(back[4], f32::NEG_INFINITY);
        assert_eq!(back[5], 2f32.powi(-24), "the smallest subnormal");
        assert!(back[6].is_nan());
    }

    #[test]
    fn long_buffers_convert_piece_by_piece_like_short_ones() {
        let v: Vec<f32> = (0..3 * PIECE + 17)
            .map(|i| (i as f32).sin() * 100.0)
            .collect();
        let h = f32_to_f16(&v);
        for (a, b) in v.iter().zip(&h) {
            assert_eq!(f16::from_f32(*a), *b);
        }
    }
}
