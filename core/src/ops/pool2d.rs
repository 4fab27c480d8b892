//! Max and average pooling over H, W, and the adjoint of average pooling. The
//! gradient rules are written with tensor ops (scatter_add for max, the adjoint
//! primitive for average, whose own gradient is average pooling again), so any
//! order of derivative works.

use crate::autograd::GradFn;
use crate::backend::{Pool2dSpec, PoolKind};
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

enum Kind {
    /// inputs: [x]
    Pool,
    /// inputs: [dy]; output has the pooled input's shape.
    AvgAdjoint,
}

struct PoolGrad {
    kind: Kind,
    spec: Pool2dSpec,
    inputs: [Tensor; 1],
}

impl GradFn for PoolGrad {
    fn name(&self) -> &'static str {
        match (&self.kind, self.spec.kind) {
            (Kind::Pool, PoolKind::Max) => "max_pool2d",
            (Kind::Pool, PoolKind::Avg { .. }) => "avg_pool2d",
            (Kind::AvgAdjoint, _) => "avg_pool2d_backward",
        }
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let x = &self.inputs[0];
        let dx = match (&self.kind, self.spec.kind) {
            (Kind::Pool, PoolKind::Avg { .. }) => g.avg_pool2d_backward(x.shape(), &self.spec)?,
            // Linear in dy: its adjoint is the forward pooling.
            (Kind::AvgAdjoint, _) => g.pool2d(&self.spec)?,
            (Kind::Pool, PoolKind::Max) => {
                // The gradient goes to the first maximum of each window; the
                // indices are constants, so this is linear in g (zero curvature in x).
                let index = x
                    .device()
                    .backend()
                    .max_pool2d_argmax((&x.storage(), x.shape()), &self.spec)?;
                let (n, c) = (x.dim(0), x.dim(1));
                let planes = n * c;
                g.reshape([planes, g.dim(2) * g.dim(3)])?
                    .scatter_add(1, &index, &Shape::new([planes, x.dim(2) * x.dim(3)]))?
                    .reshape(x.shape().clone())?
            }
        };
        Ok(vec![Some(dx)])
    }
}

fn check_input(op: &'static str, x: &Shape, spec: &Pool2dSpec) -> Result<[usize; 2]> {
    if x.rank() != 4 {
        return Err(Error::invalid(op, x, "input must be 4-D (NCHW)"));
    }
    spec.output_hw([x.dim(2), x.dim(3)]).ok_or_else(|| {
        Error::invalid(
            op,
            x,
            format!("window does not fit or invalid arguments ({spec:?})"),
        )
    })
}

impl Tensor {
    /// `torch.nn.functional.max_pool2d(x, kernel, stride, padding)` (square
    /// windows, `ceil_mode=False`).
    pub fn max_pool2d(&self, kernel: usize, stride: usize, padding: usize) -> Result<Tensor> {
        self.pool2d(&Pool2dSpec {
            kind: PoolKind::Max,
            kernel: [kernel; 2],
            stride: [stride; 2],
            padding: [padding; 2],
        })
    }

    /// `torch.nn.functional.avg_pool2d(x, kernel, stride, padding,
    /// count_include_pad=count_include_pad)` (square windows, `ceil_mode=False`).
    pub fn avg_pool2d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        count_include_pad: bool,
    ) -> Result<Tensor> {
        self.pool2d(&Pool2dSpec {
            kind: PoolKind::Avg { count_include_pad },
            kernel: [kernel; 2],
            stride: [stride; 2],
            padding: [padding; 2],
        })
    }

    pub fn pool2d(&self, spec: &Pool2dSpec) -> Result<Tensor> {
        let op = match spec.kind {
            PoolKind::Max => "max_pool2d",
            PoolKind::Avg { .. } => "avg_pool2d",
        };
        let [ho, wo] = check_input(op, self.shape(), spec)?;
        let out = Shape::new([self.dim(0), self.dim(1), ho, wo]);
        let storage = self
            .device()
            .backend()
            .pool2d((&self.storage(), self.shape()), spec)?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self],
            || {
                Arc::new(PoolGrad {
                    kind: Kind::Pool,
                    spec,
                    inputs: [self.clone()],
                })
            },
        ))
    }

    /// The adjoint of `avg_pool2d` with `spec`: from an output gradient (`self`,
    /// `[N, C, Ho, Wo]`) to the gradient of an input of `x_shape`.
    pub fn avg_pool2d_backward(&self, x_shape: &Shape, spec: &Pool2dSpec) -> Result<Tensor> {
        const OP: &str = "avg_pool2d_backward";
        if !matches!(spec.kind, PoolKind::Avg { .. }) {
            return Err(Error::invalid(
                OP,
                self.shape(),
                "needs an average pooling spec",
            ));
        }
        let [ho, wo] = check_input(OP, x_shape, spec)?;
        if self.rank() != 4 || self.dims() != [x_shape.dim(0), x_shape.dim(1), ho, wo] {
            return Err(Error::shape(
                OP,
                self.shape(),
                x_shape,
                format!("gradient vs input for {spec:?}"),
            ));
        }
        let storage = self.device().backend().avg_pool2d_backward(
            (&self.storage(), self.shape()),
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
                Arc::new(PoolGrad {
                    kind: Kind::AvgAdjoint,
                    spec,
                    inputs: [self.clone()],
                })
            },
        ))
    }
}
