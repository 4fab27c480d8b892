//! Materialised broadcasting (`expand`) and tiling (`repeat`).

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct BroadcastGrad {
    inputs: [Tensor; 1],
}

impl GradFn for BroadcastGrad {
    fn name(&self) -> &'static str {
        "broadcast_as"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(g.sum_to(self.inputs[0].shape())?)])
    }
}

impl Tensor {
    /// Copies `self` to `shape` along broadcast (size-1 or missing leading) axes.
    pub fn broadcast_as(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        if !self.shape().broadcasts_to(&shape) {
            return Err(Error::shape(
                "broadcast_as",
                self.shape(),
                &shape,
                "source does not broadcast to target",
            ));
        }
        if shape.numel() == self.numel() {
            return self.reshape(shape);
        }
        let storage =
            self.device()
                .backend()
                .broadcast_to(&self.storage(), self.shape(), &shape)?;
        Ok(Tensor::from_op(
            storage,
            shape,
            self.device(),
            &[self],
            || {
                Arc::new(BroadcastGrad {
                    inputs: [self.clone()],
                })
            },
        ))
    }

    /// Tiles the tensor `reps[i]` times along axis `i` (`torch.Tensor.repeat`).
    pub fn repeat(&self, reps: &[usize]) -> Result<Tensor> {
        if reps.len() < self.rank() {
            return Err(Error::invalid(
                "repeat",
                self.shape(),
                format!("{} repeats for rank {}", reps.len(), self.rank()),
            ));
        }
        let x = self.reshape(
            std::iter::repeat_n(1, reps.len() - self.rank())
                .chain(self.dims().iter().copied())
                .collect::<Vec<_>>(),
        )?;
        // [d0, d1, ..] -> [1, d0, 1, d1, ..] -> [r0, d0, r1, d1, ..] -> [r0*d0, r1*d1, ..]
        let mut split = Vec::with_capacity(2 * reps.len());
        let mut expanded = Vec::with_capacity(2 * reps.len());
        for (&d, &r) in x.dims().iter().zip(reps) {
            split.extend([1, d]);
            expanded.extend([r, d]);
        }
        let out: Vec<usize> = x.dims().iter().zip(reps).map(|(&d, &r)| d * r).collect();
        x.reshape(split)?.broadcast_as(expanded)?.reshape(out)
    }
}
