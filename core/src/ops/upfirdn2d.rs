//! `upfirdn2d`: upsample (zero insertion), pad or crop, FIR filter, downsample,
//! in one primitive. It is linear in `x`, and its adjoint is `upfirdn2d` again
//! with `up` and `down` swapped, the filter flipped and the padding of the
//! adjoint (see `Upfirdn2dSpec::adjoint`), so every order of derivative exists.
//!
//! Forward, per plane and axis: `u = up(x)` with `u[i * up] = x[i]` and zeros
//! between, `p = pad(u, p0, p1)`, `y[o] = sum_k fe[k] p[o * down + k]` where
//! `fe` is the filter reversed (a true convolution) unless `flip_filter`, times
//! `gain` (2-D filter) or `sqrt(gain)` per pass (1-D separable filter).

use crate::autograd::GradFn;
use crate::backend::Upfirdn2dSpec;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct Upfirdn2dGrad {
    /// The filter is a constant of the op, not an input.
    f: Tensor,
    spec: Upfirdn2dSpec,
    inputs: [Tensor; 1],
}

impl GradFn for Upfirdn2dGrad {
    fn name(&self) -> &'static str {
        "upfirdn2d"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let x = &self.inputs[0];
        let adj = self.spec.adjoint(
            [x.dim(2), x.dim(3)],
            [g.dim(2), g.dim(3)],
            filter_hw(&self.f),
        );
        let dx = g.upfirdn2d(&self.f, &adj)?;
        if dx.shape() != x.shape() {
            return Err(Error::Autograd(format!(
                "upfirdn2d: adjoint gave {} for an input of {}",
                dx.shape(),
                x.shape()
            )));
        }
        Ok(vec![Some(dx)])
    }
}

/// `[fh, fw]` of a 2-D filter, `[taps, taps]` of a separable one.
fn filter_hw(f: &Tensor) -> [usize; 2] {
    match f.rank() {
        1 => [f.dim(0), f.dim(0)],
        _ => [f.dim(0), f.dim(1)],
    }
}

impl Tensor {
    /// Upsample, pad, FIR-filter and downsample `self [N, C, H, W]` with the
    /// filter `f` (`[fh, fw]`, or `[taps]` for a separable filter). The filter is
    /// treated as a constant (no gradient flows into it) and converted to the
    /// dtype of `self`.
    pub fn upfirdn2d(&self, f: &Tensor, spec: &Upfirdn2dSpec) -> Result<Tensor> {
        if self.rank() != 4 {
            return Err(Error::invalid(
                "upfirdn2d",
                self.shape(),
                "input must be 4-D [N, C, H, W]",
            ));
        }
        if !(f.rank() == 1 || f.rank() == 2) || f.numel() == 0 {
            return Err(Error::shape(
                "upfirdn2d",
                self.shape(),
                f.shape(),
                "the filter must be non-empty [fh, fw] or [taps]",
            ));
        }
        if !f.device().same(self.device()) {
            return Err(Error::DeviceMismatch {
                op: "upfirdn2d",
                lhs: self.device().name(),
                rhs: f.device().name(),
            });
        }
        let [oh, ow] = spec
            .output_hw([self.dim(2), self.dim(3)], filter_hw(f))
            .ok_or_else(|| {
                Error::shape(
                    "upfirdn2d",
                    self.shape(),
                    f.shape(),
                    format!("the padded image is smaller than the filter ({spec:?})"),
                )
            })?;
        let f = f.detach().to_dtype(self.dtype())?;
        let out = Shape::new([self.dim(0), self.dim(1), oh, ow]);
        let storage = self.device().backend().upfirdn2d(
            (&self.storage(), self.shape()),
            (&f.storage(), f.shape()),
            spec,
        )?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self],
            || {
                Arc::new(Upfirdn2dGrad {
                    f,
                    spec,
                    inputs: [self.clone()],
                })
            },
        ))
    }
}
