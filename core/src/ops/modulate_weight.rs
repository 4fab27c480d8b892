//! The weight preparation of StyleGAN2's fused modulated convolution as one
//! primitive: per-sample weights `w[n, o, i, k] = weight[o, i, k] * styles[n, i]`,
//! demodulated by `d[n, o] = rsqrt(sum_{i, k} w[n, o, i, k]^2 + 1e-8)` when asked.
//! Done with elementwise ops this is five passes over an `[N, O, I, kh, kw]`
//! tensor; fused it is one.
//!
//! Gradient (`u = weight * styles`, `y = u * d`, `G` the output gradient):
//! `dL/du = G d - u d^3 sum_{i, k}(G u)` with demodulation, `G` without;
//! `dweight = sum_n dL/du * styles`, `dstyles = sum_{o, k} dL/du * weight`.
//! The rule is written with tensor ops, so it can be differentiated again.

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

/// The demodulation epsilon of the official code.
pub const DEMOD_EPS: f64 = 1e-8;

struct ModulateWeightGrad {
    demodulate: bool,
    transpose: bool,
    inputs: [Tensor; 2],
}

impl GradFn for ModulateWeightGrad {
    fn name(&self) -> &'static str {
        "modulate_weight"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let [weight, styles] = &self.inputs;
        let (o, i) = (weight.dim(0), weight.dim(1));
        let k = weight.numel() / (o * i).max(1);
        let n = styles.dim(0);
        let w = weight.reshape([1, o, i, k])?;
        let s = styles.reshape([n, 1, i, 1])?;
        let g = if self.transpose {
            g.reshape([n, i, o, k])?.permute(&[0, 2, 1, 3])?
        } else {
            g.reshape([n, o, i, k])?
        };
        let gu = if self.demodulate {
            let u = w.mul(&s)?;
            let d = u
                .square()?
                .sum_keepdim(&[2, 3])?
                .add_scalar(DEMOD_EPS)?
                .rsqrt()?;
            let proj = g.mul(&u)?.sum_keepdim(&[2, 3])?;
            g.mul(&d)?.sub(&u.mul(&d.powf(3.0)?)?.mul(&proj)?)?
        } else {
            g
        };
        let dweight = needs[0]
            .then(|| gu.mul(&s)?.sum(&[0])?.reshape(weight.shape().clone()))
            .transpose()?;
        let dstyles = needs[1].then(|| gu.mul(&w)?.sum(&[1, 3])).transpose()?;
        Ok(vec![dweight, dstyles])
    }
}

impl Tensor {
    /// Per-sample modulated (and optionally demodulated) weights
    /// `[N, O, I, kh, kw]` from `self = weight [O, I, kh, kw]` and `styles [N, I]`;
    /// with `transpose`, laid out `[N, I, O, kh, kw]` (what a grouped
    /// `conv_transpose2d` reads), at no extra cost.
    pub fn modulate_weight(
        &self,
        styles: &Tensor,
        demodulate: bool,
        transpose: bool,
    ) -> Result<Tensor> {
        self.check_same("modulate_weight", styles)?;
        if self.rank() != 4 || styles.rank() != 2 || styles.dim(1) != self.dim(1) {
            return Err(Error::shape(
                "modulate_weight",
                self.shape(),
                styles.shape(),
                "weight [O, I, kh, kw] and styles [N, I]",
            ));
        }
        let (n, o, i) = (styles.dim(0), self.dim(0), self.dim(1));
        let k = self.dim(2) * self.dim(3);
        let storage = self.device().backend().modulate_weight(
            &self.storage(),
            &styles.storage(),
            [n, o, i, k],
            demodulate,
            transpose,
        )?;
        let out = if transpose {
            Shape::new([n, i, o, self.dim(2), self.dim(3)])
        } else {
            Shape::new([n, o, i, self.dim(2), self.dim(3)])
        };
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self, styles],
            || {
                Arc::new(ModulateWeightGrad {
                    demodulate,
                    transpose,
                    inputs: [self.clone(), styles.clone()],
                })
            },
        ))
    }
}
