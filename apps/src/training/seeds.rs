//! The random streams of a run. Each is a fresh Philox generator keyed by the
//! run seed, its purpose, the training step and the minibatch chunk, so a step
//! draws the same numbers whether the batch is split into rounds on one device
//! or over several data-parallel ranks, and a resumed run needs no generator
//! state: the step counter is enough.

use tcgan_core::Generator;

/// What a stream is used for (part of its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Initial weights of the networks.
    Init = 1,
    /// Latents of the generated images of a step.
    Latents = 2,
    /// Labels of the generated images of a step.
    Labels = 3,
    /// Synthesis noise, style mixing and path-length noise of one chunk of a phase.
    Noise = 4,
    /// Augmentation draws of one chunk of a phase.
    Augment = 5,
    /// Latents of the snapshot image grid.
    Grid = 6,
}

/// splitmix64: a bijective mix, so distinct inputs give unrelated keys.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of `purpose` at `step`, for minibatch chunk `chunk` of phase `phase`.
pub fn stream(seed: u64, purpose: Purpose, step: u64, phase: u64, chunk: u64) -> Generator {
    let mut k = mix(seed ^ mix(purpose as u64));
    for v in [step, phase, chunk] {
        k = mix(k ^ v);
    }
    Generator::new(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = stream(0, Purpose::Noise, 5, 1, 2).normal_vec(8);
        assert_eq!(a, stream(0, Purpose::Noise, 5, 1, 2).normal_vec(8));
        for other in [
            stream(1, Purpose::Noise, 5, 1, 2),
            stream(0, Purpose::Augment, 5, 1, 2),
            stream(0, Purpose::Noise, 6, 1, 2),
            stream(0, Purpose::Noise, 5, 0, 2),
            stream(0, Purpose::Noise, 5, 1, 3),
        ] {
            assert_ne!(a, other.clone().normal_vec(8));
        }
    }
}
