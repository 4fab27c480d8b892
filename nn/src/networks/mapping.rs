//! The mapping network z -> w, with the authors' label injection: the label
//! embedding enters after the first layer, scaled by the `transition` buffer
//! (0 = unconditional, 1 = fully conditional). Its `z_dim = 0` form maps labels
//! alone and is the Discriminator's label mapping.

use super::kwargs::{act, MappingNetworkKwargs};
use super::layers::FullyConnectedLayer;
use crate::module::{child, key, leaf, Init, Module, TensorKind, Visitor};
use crate::ops::normalize_2nd_moment;
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use tcgan_core::{no_grad, Tensor};

#[derive(Debug)]
pub struct MappingNetwork {
    pub kwargs: MappingNetworkKwargs,
    pub embed: Option<FullyConnectedLayer>,
    /// Authors' addition: projects the normalised embedding onto fc0's output.
    pub proj_embedd: Option<FullyConnectedLayer>,
    /// Authors' addition: the weight of the label path (a scalar buffer).
    pub transition: Option<Tensor>,
    pub fcs: Vec<FullyConnectedLayer>,
    pub w_avg: Option<Tensor>,
    training: AtomicBool,
}

impl MappingNetwork {
    pub fn new(init: &mut Init, kwargs: &MappingNetworkKwargs) -> Result<Self> {
        let k = kwargs;
        let activation = act(&k.activation)?;
        if k.num_layers == 0 {
            return Err(Error::config("MappingNetwork", "num_layers must be >= 1"));
        }
        let embed_features = if k.c_dim == 0 {
            0
        } else {
            k.embed_features.unwrap_or(k.w_dim)
        };
        let layer_features = k.layer_features.unwrap_or(k.w_dim);
        let first = if k.z_dim > 0 { k.z_dim } else { embed_features };
        if first == 0 {
            return Err(Error::config(
                "MappingNetwork",
                "needs z_dim > 0 or c_dim > 0",
            ));
        }
        if k.z_dim > 0 && k.c_dim > 0 && k.z_dim != layer_features {
            return Err(Error::config(
                "MappingNetwork",
                format!(
                    "the label projection outputs z_dim = {} features but fc0 outputs {layer_features}; \
                     the official code requires them equal",
                    k.z_dim
                ),
            ));
        }
        let mut features = vec![first];
        features.extend(std::iter::repeat_n(layer_features, k.num_layers - 1));
        features.push(k.w_dim);

        let mut embed = None;
        let mut proj_embedd = None;
        let mut transition = None;
        if k.c_dim > 0 {
            embed = Some(FullyConnectedLayer::linear(init, k.c_dim, embed_features)?);
            if k.z_dim > 0 {
                proj_embedd = Some(FullyConnectedLayer::new(
                    init,
                    embed_features,
                    features[0],
                    true,
                    activation,
                    k.lr_multiplier,
                    0.0,
                )?);
                transition = Some(leaf(init.full(&[], 0.0)?, TensorKind::Buffer)?);
            }
        }
        let fcs = (0..k.num_layers)
            .map(|i| {
                FullyConnectedLayer::new(
                    init,
                    features[i],
                    features[i + 1],
                    true,
                    activation,
                    k.lr_multiplier,
                    0.0,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let w_avg = match (k.num_ws, k.w_avg_beta) {
            (Some(_), Some(_)) => Some(init.full(&[k.w_dim], 0.0)?),
            _ => None,
        };
        Ok(MappingNetwork {
            kwargs: kwargs.clone(),
            embed,
            proj_embedd,
            transition,
            fcs,
            w_avg,
            training: AtomicBool::new(false),
        })
    }

    /// Training mode updates `w_avg` on every call (PyTorch's `module.train()`).
    pub fn set_training(&self, on: bool) {
        self.training.store(on, Ordering::Relaxed);
    }

    pub fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    /// Sets the `transition` buffer (an error for networks without one).
    pub fn set_transition(&self, value: f64) -> Result<()> {
        let t = self.transition.as_ref().ok_or_else(|| {
            Error::config(
                "MappingNetwork",
                "has no transition buffer (needs z_dim > 0 and c_dim > 0)",
            )
        })?;
        t.set_data(&t.full_like(value)?)?;
        Ok(())
    }

    /// `ws = mapping(z, c, truncation_psi, truncation_cutoff, skip_w_avg_update)`:
    /// `[N, num_ws, w_dim]`, or `[N, w_dim]` when `num_ws` is `None`.
    pub fn forward(
        &self,
        z: Option<&Tensor>,
        c: Option<&Tensor>,
        truncation_psi: f64,
        truncation_cutoff: Option<usize>,
        skip_w_avg_update: bool,
    ) -> Result<Tensor> {
        let k = &self.kwargs;
        let mut x = None;
        let mut n = None;
        if k.z_dim > 0 {
            let z =
                z.ok_or_else(|| Error::config("MappingNetwork", "z is required (z_dim > 0)"))?;
            if z.rank() != 2 || z.dim(1) != k.z_dim {
                return Err(Error::shape(
                    "MappingNetwork z",
                    format!("[N, {}]", k.z_dim),
                    z.dims(),
                ));
            }
            n = Some(z.dim(0));
            x = Some(normalize_2nd_moment(z, 1)?);
        }
        let mut y = None;
        if let Some(embed) = &self.embed {
            let c =
                c.ok_or_else(|| Error::config("MappingNetwork", "c is required (c_dim > 0)"))?;
            if c.rank() != 2 || c.dim(1) != k.c_dim || n.is_some_and(|n| n != c.dim(0)) {
                let rows = n.map_or("N".to_string(), |n| n.to_string());
                return Err(Error::shape(
                    "MappingNetwork c",
                    format!("[{rows}, {}]", k.c_dim),
                    c.dims(),
                ));
            }
            let e = normalize_2nd_moment(&embed.forward(c)?, 1)?;
            if x.is_none() {
                x = Some(e.clone());
            }
            y = Some(e);
        }
        let mut x = x.expect("checked in new: z_dim > 0 or c_dim > 0");
        for (idx, fc) in self.fcs.iter().enumerate() {
            x = fc.forward(&x)?;
            if idx == 0 {
                if let (Some(proj), Some(t), Some(y)) = (&self.proj_embedd, &self.transition, &y) {
                    x = x.add(&proj.forward(y)?.mul(t)?)?;
                }
            }
        }

        if let (Some(beta), Some(w_avg)) = (k.w_avg_beta, &self.w_avg) {
            if self.is_training() && !skip_w_avg_update {
                no_grad(|| -> Result<()> {
                    let mean = x.detach().mean(&[0])?;
                    w_avg.set_data(&mean.lerp(&w_avg.detach(), beta)?)?;
                    Ok(())
                })?;
            }
        }

        if let Some(num_ws) = k.num_ws {
            x = x.unsqueeze(1)?.repeat(&[1, num_ws, 1])?;
        }

        if truncation_psi != 1.0 {
            let w_avg = self.w_avg.as_ref().ok_or_else(|| {
                Error::config(
                    "MappingNetwork",
                    "truncation needs w_avg (num_ws and w_avg_beta set)",
                )
            })?;
            match (k.num_ws, truncation_cutoff) {
                (Some(_), Some(0)) => {}
                (Some(num_ws), Some(cutoff)) if cutoff < num_ws => {
                    let head = x.narrow(1, 0, cutoff)?;
                    let tail = x.narrow(1, cutoff, num_ws - cutoff)?;
                    let head = w_avg.lerp(&head, truncation_psi)?;
                    x = Tensor::concat(&[&head, &tail], 1)?;
                }
                _ => x = w_avg.lerp(&x, truncation_psi)?,
            }
        }
        Ok(x)
    }
}

impl Module for MappingNetwork {
    fn visit(&self, prefix: &str, f: &mut Visitor) {
        if let Some(t) = &self.transition {
            f(key(prefix, "transition"), t, TensorKind::Buffer);
        }
        if let Some(w) = &self.w_avg {
            f(key(prefix, "w_avg"), w, TensorKind::Buffer);
        }
        if let Some(e) = &self.embed {
            e.visit(&child(prefix, "embed"), f);
        }
        if let Some(p) = &self.proj_embedd {
            p.visit(&child(prefix, "proj_embedd"), f);
        }
        for (i, fc) in self.fcs.iter().enumerate() {
            fc.visit(&child(prefix, &format!("fc{i}")), f);
        }
    }
}
