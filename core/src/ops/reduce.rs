//! Reductions over chosen axes (sum, max, min) and the statistics built on them.

use crate::autograd::GradFn;
use crate::backend::ReduceOp;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct ReduceGrad {
    op: ReduceOp,
    /// The output shape with the reduced axes kept as size 1.
    keep_shape: Shape,
    axes: Vec<usize>,
    inputs: [Tensor; 1],
}

impl GradFn for ReduceGrad {
    fn name(&self) -> &'static str {
        "reduce"
    }

    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }

    fn backward(&self, y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let x = &self.inputs[0];
        let g = g.reshape(self.keep_shape.clone())?;
        let dx = match self.op {
            ReduceOp::Sum => g.broadcast_as(x.shape())?,
            // Ties share the gradient equally (PyTorch's amax rule).
            ReduceOp::Max | ReduceOp::Min => {
                let y = y.reshape(self.keep_shape.clone())?;
                let mask = x.eq_(&y)?;
                let axes: Vec<isize> = self.axes.iter().map(|&a| a as isize).collect();
                let count = mask.sum_keepdim(&axes)?;
                mask.div(&count)?.mul(&g)?
            }
        };
        Ok(vec![Some(dx)])
    }
}

impl Tensor {
    fn reduce(&self, op: ReduceOp, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let axes = self.shape().axes("reduce", axes)?;
        if op != ReduceOp::Sum && axes.iter().any(|&a| self.dim(a) == 0) {
            return Err(Error::invalid(
                "reduce",
                self.shape(),
                "max/min over an empty axis",
            ));
        }
        let mut keep = self.dims().to_vec();
        for &a in &axes {
            keep[a] = 1;
        }
        let keep_shape = Shape::new(keep);
        let out_shape = if keepdim {
            keep_shape.clone()
        } else {
            Shape::new(
                self.dims()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, &d)| d)
                    .collect::<Vec<_>>(),
            )
        };
        let storage = self
            .device()
            .backend()
            .reduce(op, &self.storage(), self.shape(), &axes)?;
        Ok(Tensor::from_op(
            storage,
            out_shape,
            self.device(),
            &[self],
            || {
                Arc::new(ReduceGrad {
                    op,
                    keep_shape,
                    axes,
                    inputs: [self.clone()],
                })
            },
        ))
    }

    /// Sum over `axes`, dropping them (`keepdim = false`).
    pub fn sum(&self, axes: &[isize]) -> Result<Tensor> {
        self.reduce(ReduceOp::Sum, axes, false)
    }
    pub fn sum_keepdim(&self, axes: &[isize]) -> Result<Tensor> {
        self.reduce(ReduceOp::Sum, axes, true)
    }
    /// Sum of every element, as a scalar tensor.
    pub fn sum_all(&self) -> Result<Tensor> {
        let axes: Vec<isize> = (0..self.rank() as isize).collect();
        self.reduce(ReduceOp::Sum, &axes, false)
    }
    pub fn max(&self, axes: &[isize]) -> Result<Tensor> {
        self.reduce(ReduceOp::Max, axes, false)
    }
    pub fn max_keepdim(&self, axes: &[isize]) -> Result<Tensor> {
        self.reduce(ReduceOp::Max, axes, true)
    }
    pub fn min(&self, axes: &[isize]) -> Result<Tensor> {
        self.reduce(ReduceOp::Min, axes, false)
    }
    pub fn min_keepdim(&self, axes: &[isize]) -> Result<Tensor> {
        self.reduce(ReduceOp::Min, axes, true)
    }

    fn reduced_count(&self, axes: &[isize]) -> Result<usize> {
        let axes = self.shape().axes("mean", axes)?;
        Ok(axes.iter().map(|&a| self.dim(a)).product())
    }

    pub fn mean(&self, axes: &[isize]) -> Result<Tensor> {
        let n = self.reduced_count(axes)?;
        self.sum(axes)?.mul_scalar(1.0 / n as f64)
    }
    pub fn mean_keepdim(&self, axes: &[isize]) -> Result<Tensor> {
        let n = self.reduced_count(axes)?;
        self.sum_keepdim(axes)?.mul_scalar(1.0 / n as f64)
    }
    pub fn mean_all(&self) -> Result<Tensor> {
        let n = self.numel();
        self.sum_all()?.mul_scalar(1.0 / n as f64)
    }

    /// Variance over `axes`; `unbiased` divides by n - 1 (PyTorch's default).
    pub fn var(&self, axes: &[isize], keepdim: bool, unbiased: bool) -> Result<Tensor> {
        let n = self.reduced_count(axes)?;
        let centered = self.sub(&self.mean_keepdim(axes)?)?;
        let ss = centered.square()?;
        let ss = if keepdim {
            ss.sum_keepdim(axes)?
        } else {
            ss.sum(axes)?
        };
        let denom = if unbiased { n.saturating_sub(1) } else { n };
        ss.mul_scalar(1.0 / denom as f64)
    }

    /// Sums over the dimensions that were broadcast to make `self` from `shape`
    /// (the gradient of broadcasting).
    pub fn sum_to(&self, shape: &Shape) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        if !shape.broadcasts_to(self.shape()) {
            return Err(Error::shape(
                "sum_to",
                self.shape(),
                shape,
                "target does not broadcast to source",
            ));
        }
        let off = self.rank() - shape.rank();
        let axes: Vec<isize> = (0..self.rank())
            .filter(|&i| i < off || (shape.dim(i - off) == 1 && self.dim(i) != 1))
            .map(|i| i as isize)
            .collect();
        let summed = if axes.is_empty() {
            self.clone()
        } else {
            self.sum_keepdim(&axes)?
        };
        summed.reshape(shape.clone())
    }
}
