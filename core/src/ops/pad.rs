//! Zero padding per axis, where negative amounts crop; `narrow` is a crop.

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct PadGrad {
    pads: Vec<(isize, isize)>,
    inputs: [Tensor; 1],
}

impl GradFn for PadGrad {
    fn name(&self) -> &'static str {
        "pad"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // Padding and cropping are adjoint: undo with the opposite amounts.
        let inverse: Vec<(isize, isize)> = self.pads.iter().map(|&(a, b)| (-a, -b)).collect();
        Ok(vec![Some(g.pad(&inverse)?)])
    }
}

impl Tensor {
    /// Pads (or crops, for negative amounts) every axis by `(before, after)` zeros.
    /// `pads` has one entry per axis.
    pub fn pad(&self, pads: &[(isize, isize)]) -> Result<Tensor> {
        if pads.len() != self.rank() {
            return Err(Error::invalid(
                "pad",
                self.shape(),
                format!("{} pad pairs for rank {}", pads.len(), self.rank()),
            ));
        }
        if pads.iter().all(|&p| p == (0, 0)) {
            return Ok(self.clone());
        }
        let mut out = Vec::with_capacity(self.rank());
        for (&d, &(a, b)) in self.dims().iter().zip(pads) {
            let n = d as isize + a + b;
            if n < 0 || (a < 0 && -a > d as isize) || (b < 0 && -b > d as isize) {
                return Err(Error::invalid(
                    "pad",
                    self.shape(),
                    format!("padding {pads:?} crops more than the tensor holds"),
                ));
            }
            out.push(n as usize);
        }
        let out = Shape::new(out);
        let storage = self
            .device()
            .backend()
            .pad(&self.storage(), self.shape(), pads, 0.0)?;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self],
            || {
                Arc::new(PadGrad {
                    pads: pads.to_vec(),
                    inputs: [self.clone()],
                })
            },
        ))
    }

    /// Pads the last two axes (H, W) as `[left, right, top, bottom]`, like
    /// `torch.nn.functional.pad` with four values.
    pub fn pad2d(&self, lrtb: [isize; 4]) -> Result<Tensor> {
        if self.rank() < 2 {
            return Err(Error::invalid(
                "pad2d",
                self.shape(),
                "needs at least 2 axes",
            ));
        }
        let mut pads = vec![(0, 0); self.rank()];
        let r = self.rank();
        pads[r - 1] = (lrtb[0], lrtb[1]);
        pads[r - 2] = (lrtb[2], lrtb[3]);
        self.pad(&pads)
    }

    /// Elements `start..start + len` along `axis`.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Tensor> {
        if axis >= self.rank() || start + len > self.dim(axis) {
            return Err(Error::invalid(
                "narrow",
                self.shape(),
                format!("axis {axis}, range {start}..{}", start + len),
            ));
        }
        let mut pads = vec![(0, 0); self.rank()];
        pads[axis] = (
            -(start as isize),
            -((self.dim(axis) - start - len) as isize),
        );
        self.pad(&pads)
    }

    /// Splits into pieces of `size` along `axis` (the last may be shorter).
    pub fn split(&self, size: usize, axis: usize) -> Result<Vec<Tensor>> {
        if axis >= self.rank() || size == 0 {
            return Err(Error::invalid(
                "split",
                self.shape(),
                format!("size {size} along axis {axis}"),
            ));
        }
        let n = self.dim(axis);
        (0..n)
            .step_by(size)
            .map(|s| self.narrow(axis, s, size.min(n - s)))
            .collect()
    }
}
