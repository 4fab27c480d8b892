//! Selection between two tensors by a mask: `cond != 0 ? a : b`, with broadcasting.

use crate::autograd::GradFn;
use crate::{Result, Shape, Tensor};
use std::sync::Arc;

struct WhereGrad {
    /// The mask is not differentiated; it is kept to route the gradient.
    cond: Tensor,
    inputs: [Tensor; 2],
}

impl GradFn for WhereGrad {
    fn name(&self) -> &'static str {
        "where_cond"
    }

    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }

    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let [a, b] = &self.inputs;
        let zeros = g.zeros_like()?;
        let da = needs[0]
            .then(|| Tensor::where_cond(&self.cond, g, &zeros)?.sum_to(a.shape()))
            .transpose()?;
        let db = needs[1]
            .then(|| Tensor::where_cond(&self.cond, &zeros, g)?.sum_to(b.shape()))
            .transpose()?;
        Ok(vec![da, db])
    }
}

impl Tensor {
    /// `cond != 0 ? a : b` elementwise; unlike `cond * a + (1 - cond) * b` it never
    /// mixes in an infinity or NaN from the branch that is not taken.
    pub fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        a.check_same("where_cond", b)?;
        a.check_same("where_cond", cond)?;
        let ab = Shape::broadcast("where_cond", a.shape(), b.shape())?;
        let out = Shape::broadcast("where_cond", cond.shape(), &ab)?;
        let storage = a.device().backend().where_cond(
            (&cond.storage(), cond.shape()),
            (&a.storage(), a.shape()),
            (&b.storage(), b.shape()),
            &out,
        )?;
        Ok(Tensor::from_op(storage, out, a.device(), &[a, b], || {
            Arc::new(WhereGrad {
                cond: cond.detach(),
                inputs: [a.clone(), b.clone()],
            })
        }))
    }
}
