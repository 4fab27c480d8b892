//! Bilinear `grid_sample` and its adjoint: two primitives whose gradient rules
//! call each other, so the augmentation pipe can be differentiated to any order
//! with respect to the images (R1 is taken through it). The grid is a constant:
//! the official pipe never differentiates it.

use crate::autograd::GradFn;
use crate::backend::GridSampleSpec;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

enum Kind {
    /// inputs: [x]
    Forward,
    /// inputs: [dy]
    Backward,
}

struct GridSampleGrad {
    kind: Kind,
    grid: Tensor,
    spec: GridSampleSpec,
    inputs: [Tensor; 1],
}

impl GradFn for GridSampleGrad {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Forward => "grid_sample",
            Kind::Backward => "grid_sample_backward",
        }
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        // Both directions are linear in their input and adjoint to each other.
        let d = match self.kind {
            Kind::Forward => {
                g.grid_sample_backward(&self.grid, self.inputs[0].shape(), &self.spec)?
            }
            Kind::Backward => g.grid_sample(&self.grid, &self.spec)?,
        };
        Ok(vec![Some(d)])
    }
}

fn check(op: &'static str, x: &Shape, grid: &Tensor) -> Result<()> {
    let g = grid.shape();
    if x.rank() != 4 || g.rank() != 4 || g.dim(3) != 2 || g.dim(0) != x.dim(0) {
        return Err(Error::shape(
            op,
            x,
            g,
            "expected x [N, C, H, W] and grid [N, Ho, Wo, 2]",
        ));
    }
    // PyTorch refuses an empty plane too: there is nothing to sample from.
    if x.dim(2) == 0 || x.dim(3) == 0 {
        return Err(Error::shape(op, x, g, "x has an empty H x W plane"));
    }
    if grid.requires_grad() {
        return Err(Error::invalid(
            op,
            g,
            "gradients with respect to the grid are not supported: detach it",
        ));
    }
    Ok(())
}

impl Tensor {
    /// `torch.nn.functional.grid_sample(self, grid, mode='bilinear', ...)`.
    pub fn grid_sample(&self, grid: &Tensor, spec: &GridSampleSpec) -> Result<Tensor> {
        self.check_same("grid_sample", grid)?;
        check("grid_sample", self.shape(), grid)?;
        let out = Shape::new([self.dim(0), self.dim(1), grid.dim(1), grid.dim(2)]);
        let storage = self.device().backend().grid_sample(
            (&self.storage(), self.shape()),
            (&grid.storage(), grid.shape()),
            spec,
        )?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self],
            || {
                Arc::new(GridSampleGrad {
                    kind: Kind::Forward,
                    grid: grid.clone(),
                    spec,
                    inputs: [self.clone()],
                })
            },
        ))
    }

    /// The adjoint of `grid_sample` with respect to its input of `x_shape`.
    pub fn grid_sample_backward(
        &self,
        grid: &Tensor,
        x_shape: &Shape,
        spec: &GridSampleSpec,
    ) -> Result<Tensor> {
        self.check_same("grid_sample_backward", grid)?;
        check("grid_sample_backward", x_shape, grid)?;
        let expect = [x_shape.dim(0), x_shape.dim(1), grid.dim(1), grid.dim(2)];
        if self.dims() != expect {
            return Err(Error::shape(
                "grid_sample_backward",
                self.shape(),
                &Shape::new(expect),
                "gradient vs sampled shape",
            ));
        }
        let storage = self.device().backend().grid_sample_backward(
            (&self.storage(), self.shape()),
            (&grid.storage(), grid.shape()),
            x_shape,
            spec,
        )?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            x_shape.clone(),
            self.device(),
            &[self],
            || {
                Arc::new(GridSampleGrad {
                    kind: Kind::Backward,
                    grid: grid.clone(),
                    spec,
                    inputs: [self.clone()],
                })
            },
        ))
    }
}
