//! The one way to reach the state of a network: every module lists its
//! parameters and buffers under the official `state_dict` keys, in the official
//! order (a module's own parameters, then its own buffers, then its children in
//! registration order). Copying G to G_ema, switching `requires_grad` per phase,
//! all-reducing gradients and saving or loading all go through this list.

use crate::{Error, Result};
use std::collections::{BTreeSet, HashMap};
use tcgan_core::{DType, Device, Generator as Rng, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TensorKind {
    /// Trained: a leaf tensor that requires grad during its network's phases.
    Parameter,
    /// State that is not trained (`w_avg`, `transition`, `noise_const`,
    /// `resample_filter`, frozen weights); updated with `Tensor::set_data`.
    Buffer,
}

#[derive(Debug, Clone)]
pub struct NamedTensor {
    pub key: String,
    pub tensor: Tensor,
    pub kind: TensorKind,
}

/// A callback receiving `(key, tensor, kind)`.
pub type Visitor<'a> = dyn FnMut(String, &Tensor, TensorKind) + 'a;

pub trait Module {
    /// Calls `f` for every parameter and buffer, keys prefixed by `prefix`
    /// (empty, or ending in a dot), in official `state_dict` order.
    fn visit(&self, prefix: &str, f: &mut Visitor);

    /// Every `(key, tensor, kind)` in official `state_dict` order.
    fn named_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        self.visit("", &mut |key, tensor, kind| {
            out.push(NamedTensor {
                key,
                tensor: tensor.clone(),
                kind,
            })
        });
        out
    }

    /// The trainable tensors, in `state_dict` order.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_tensors()
            .into_iter()
            .filter(|t| t.kind == TensorKind::Parameter)
            .map(|t| t.tensor)
            .collect()
    }

    /// Switches gradient recording for every parameter (PyTorch's
    /// `module.requires_grad_(on)`); buffers never require grad.
    fn set_requires_grad(&self, on: bool) -> Result<()> {
        for p in self.parameters() {
            p.set_requires_grad(on)?;
        }
        Ok(())
    }

    /// Clears the accumulated gradient of every parameter (`set_to_none`).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// Copies the values of `state` (keys without prefix) into this module:
    /// every key must be present with the same shape, and no key may be left
    /// over. Values are converted to this module's dtype and device.
    fn load_state(&self, state: &HashMap<String, Tensor>) -> Result<()> {
        let mut used = BTreeSet::new();
        for t in self.named_tensors() {
            let v = state
                .get(&t.key)
                .ok_or_else(|| Error::state(&t.key, "missing from the loaded state"))?;
            if v.dims() != t.tensor.dims() {
                return Err(Error::state(
                    &t.key,
                    format!(
                        "shape {:?} in the loaded state, but the network has {:?}",
                        v.dims(),
                        t.tensor.dims()
                    ),
                ));
            }
            let v = v
                .detach()
                .to_dtype(t.tensor.dtype())?
                .to_device(t.tensor.device())?;
            t.tensor.set_data(&v)?;
            used.insert(t.key);
        }
        if let Some(extra) = state.keys().find(|k| !used.contains(*k)) {
            return Err(Error::state(
                extra,
                "is not a parameter or buffer of this network",
            ));
        }
        Ok(())
    }

    /// Copies every parameter and buffer of `other` (same architecture) into
    /// this module, e.g. G into G_ema.
    fn copy_state_from(&self, other: &dyn Module) -> Result<()> {
        let state: HashMap<String, Tensor> = other
            .named_tensors()
            .into_iter()
            .map(|t| (t.key, t.tensor))
            .collect();
        self.load_state(&state)
    }
}

/// `prefix + name`, the key of a tensor of the module at `prefix`.
pub(crate) fn key(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
}

/// The prefix of a child module.
pub(crate) fn child(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}.")
}

/// Where and how a network's tensors are created: the random generator of the
/// initial values, the device and the dtype.
pub struct Init<'a> {
    pub rng: &'a mut Rng,
    pub device: Device,
    pub dtype: DType,
}

impl<'a> Init<'a> {
    pub fn new(rng: &'a mut Rng, device: &Device, dtype: DType) -> Self {
        Init {
            rng,
            device: device.clone(),
            dtype,
        }
    }

    pub fn randn(&mut self, shape: &[usize]) -> Result<Tensor> {
        Ok(self.rng.normal(shape.to_vec(), self.dtype, &self.device)?)
    }

    pub fn full(&self, shape: &[usize], value: f64) -> Result<Tensor> {
        Ok(Tensor::full(
            value,
            shape.to_vec(),
            self.dtype,
            &self.device,
        )?)
    }

    /// A constant from host values (filters).
    pub fn constant(&self, values: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        Ok(Tensor::from_vec(values, shape.to_vec(), &self.device)?.to_dtype(self.dtype)?)
    }
}

/// Marks a fresh tensor as a parameter (a leaf that requires grad) or leaves it
/// a buffer.
pub(crate) fn leaf(t: Tensor, kind: TensorKind) -> Result<Tensor> {
    t.set_requires_grad(kind == TensorKind::Parameter)?;
    Ok(t)
}
