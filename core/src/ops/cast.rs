//! Conversion between f32 and f64 (differentiable: the gradient converts back).

use crate::autograd::GradFn;
use crate::{DType, Result, Tensor};
use std::sync::Arc;

struct CastGrad {
    inputs: [Tensor; 1],
}

impl GradFn for CastGrad {
    fn name(&self) -> &'static str {
        "to_dtype"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(g.to_dtype(self.inputs[0].dtype())?)])
    }
}

impl Tensor {
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let storage = self.device().backend().cast(&self.storage(), dtype)?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            self.device(),
            &[self],
            || {
                Arc::new(CastGrad {
                    inputs: [self.clone()],
                })
            },
        ))
    }
}
