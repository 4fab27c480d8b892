//! Reversing the order of elements along axes.

use crate::autograd::GradFn;
use crate::{Result, Tensor};
use std::sync::Arc;

struct FlipGrad {
    axes: Vec<usize>,
    inputs: [Tensor; 1],
}

impl GradFn for FlipGrad {
    fn name(&self) -> &'static str {
        "flip"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let axes: Vec<isize> = self.axes.iter().map(|&a| a as isize).collect();
        Ok(vec![Some(g.flip(&axes)?)])
    }
}

impl Tensor {
    pub fn flip(&self, axes: &[isize]) -> Result<Tensor> {
        let axes = self.shape().axes("flip", axes)?;
        if axes.iter().all(|&a| self.dim(a) <= 1) {
            return Ok(self.clone());
        }
        let storage = self
            .device()
            .backend()
            .flip(&self.storage(), self.shape(), &axes)?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            self.device(),
            &[self],
            || {
                Arc::new(FlipGrad {
                    axes,
                    inputs: [self.clone()],
                })
            },
        ))
    }
}
