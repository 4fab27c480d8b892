//! Reinterpreting a contiguous value under another shape (no copy).

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct ReshapeGrad {
    inputs: [Tensor; 1],
}

impl GradFn for ReshapeGrad {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(g.reshape(self.inputs[0].shape().clone())?)])
    }
}

impl Tensor {
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.numel() != self.numel() {
            return Err(Error::shape(
                "reshape",
                self.shape(),
                &shape,
                "element counts differ",
            ));
        }
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        Ok(Tensor::from_op(
            self.storage(),
            shape,
            self.device(),
            &[self],
            || {
                Arc::new(ReshapeGrad {
                    inputs: [self.clone()],
                })
            },
        ))
    }

    /// Reshape where one entry may be -1 (inferred from the element count).
    pub fn reshape_infer(&self, dims: &[isize]) -> Result<Tensor> {
        let known: usize = dims
            .iter()
            .filter(|&&d| d >= 0)
            .map(|&d| d as usize)
            .product();
        let holes = dims.iter().filter(|&&d| d < 0).count();
        let err = || {
            Error::invalid(
                "reshape",
                self.shape(),
                format!("cannot reshape to {dims:?}"),
            )
        };
        if holes > 1 || dims.iter().any(|&d| d < -1) {
            return Err(err());
        }
        let out: Vec<usize> = if holes == 1 {
            if known == 0 || self.numel() % known != 0 {
                return Err(err());
            }
            dims.iter()
                .map(|&d| {
                    if d < 0 {
                        self.numel() / known
                    } else {
                        d as usize
                    }
                })
                .collect()
        } else {
            dims.iter().map(|&d| d as usize).collect()
        };
        self.reshape(out)
    }

    /// Merges axes `start..=end` into one.
    pub fn flatten(&self, start: usize, end: usize) -> Result<Tensor> {
        if start > end || end >= self.rank() {
            return Err(Error::invalid(
                "flatten",
                self.shape(),
                format!("axes {start}..={end}"),
            ));
        }
        let d = self.dims();
        let mut out: Vec<usize> = d[..start].to_vec();
        out.push(d[start..=end].iter().product());
        out.extend_from_slice(&d[end + 1..]);
        self.reshape(out)
    }

    /// Inserts an axis of size 1 at `axis` (0..=rank).
    pub fn unsqueeze(&self, axis: usize) -> Result<Tensor> {
        if axis > self.rank() {
            return Err(Error::invalid(
                "unsqueeze",
                self.shape(),
                format!("axis {axis}"),
            ));
        }
        let mut d = self.dims().to_vec();
        d.insert(axis, 1);
        self.reshape(d)
    }

    /// Removes an axis of size 1.
    pub fn squeeze(&self, axis: usize) -> Result<Tensor> {
        if axis >= self.rank() || self.dim(axis) != 1 {
            return Err(Error::invalid(
                "squeeze",
                self.shape(),
                format!("axis {axis} is not of size 1"),
            ));
        }
        let mut d = self.dims().to_vec();
        d.remove(axis);
        self.reshape(d)
    }
}
