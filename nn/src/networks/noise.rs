//! Where random draws come from: a seeded `tcgan_core::Generator` (never a
//! global generator), or draws recorded elsewhere and replayed by name, so that
//! a run of the official code can be reproduced exactly.

use crate::{Error, Result};
use std::collections::HashMap;
use tcgan_core::{Generator as Rng, Tensor};

/// How synthesis layers get their per-pixel noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseMode {
    /// A fresh standard-normal draw per call, from the `NoiseSource`.
    Random,
    /// The layer's `noise_const` buffer.
    Const,
    /// No noise.
    None,
}

impl NoiseMode {
    /// `'random'`, `'const'` or `'none'`, as in the official code.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "random" => Ok(NoiseMode::Random),
            "const" => Ok(NoiseMode::Const),
            "none" => Ok(NoiseMode::None),
            _ => Err(Error::config(
                "noise_mode",
                format!("{name:?} is not one of 'random', 'const', 'none'"),
            )),
        }
    }
}

/// A source of named random draws. Names are the official module path of the
/// layer that draws (`"synthesis.b8.conv0"`) or the purpose of the draw
/// (`"pl_noise"`, `"style_mixing.z"`, ...).
pub trait NoiseSource {
    /// Standard-normal values of `shape`, with the dtype and device of `like`.
    fn randn(&mut self, name: &str, shape: &[usize], like: &Tensor) -> Result<Tensor>;
    /// A uniform value in `[0, 1)`.
    fn rand(&mut self, name: &str) -> Result<f64>;
    /// A uniform integer in `lo..hi`.
    fn randint(&mut self, name: &str, lo: i64, hi: i64) -> Result<i64>;
}

impl NoiseSource for Rng {
    fn randn(&mut self, _name: &str, shape: &[usize], like: &Tensor) -> Result<Tensor> {
        Ok(self.normal(shape.to_vec(), like.dtype(), like.device())?)
    }
    fn rand(&mut self, _name: &str) -> Result<f64> {
        Ok(self.next_f64())
    }
    fn randint(&mut self, name: &str, lo: i64, hi: i64) -> Result<i64> {
        if hi <= lo {
            return Err(Error::Noise {
                name: name.into(),
                msg: format!("empty range {lo}..{hi}"),
            });
        }
        Ok(lo + self.below((hi - lo) as u64) as i64)
    }
}

/// Replays recorded draws: tensors by name, scalars in call order. Asking for
/// a draw it does not hold, or of another shape, is an error.
#[derive(Debug, Default, Clone)]
pub struct RecordedNoise {
    pub tensors: HashMap<String, Tensor>,
    /// `(name, value)` of scalar draws, consumed front to back.
    pub scalars: Vec<(String, f64)>,
    next_scalar: usize,
}

impl RecordedNoise {
    pub fn new(tensors: HashMap<String, Tensor>, scalars: Vec<(String, f64)>) -> Self {
        RecordedNoise {
            tensors,
            scalars,
            next_scalar: 0,
        }
    }

    fn scalar(&mut self, name: &str) -> Result<f64> {
        let v = self
            .scalars
            .get(self.next_scalar)
            .ok_or_else(|| Error::Noise {
                name: name.into(),
                msg: format!("only {} recorded scalar draws", self.scalars.len()),
            })?;
        self.next_scalar += 1;
        Ok(v.1)
    }
}

impl NoiseSource for RecordedNoise {
    fn randn(&mut self, name: &str, shape: &[usize], like: &Tensor) -> Result<Tensor> {
        let t = self.tensors.get(name).ok_or_else(|| Error::Noise {
            name: name.into(),
            msg: "no recorded draw of this name".into(),
        })?;
        if t.dims() != shape {
            return Err(Error::Noise {
                name: name.into(),
                msg: format!("recorded shape {:?}, asked for {shape:?}", t.dims()),
            });
        }
        Ok(t.to_dtype(like.dtype())?.to_device(like.device())?)
    }
    fn rand(&mut self, name: &str) -> Result<f64> {
        self.scalar(name)
    }
    fn randint(&mut self, name: &str, lo: i64, hi: i64) -> Result<i64> {
        let v = self.scalar(name)? as i64;
        if v < lo || v >= hi {
            return Err(Error::Noise {
                name: name.into(),
                msg: format!("recorded {v} outside {lo}..{hi}"),
            });
        }
        Ok(v)
    }
}
