//! Joining tensors along an axis (`cat`) and along a new axis (`stack`).

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct ConcatGrad {
    axis: usize,
    inputs: Vec<Tensor>,
}

impl GradFn for ConcatGrad {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.inputs.len());
        for (x, &need) in self.inputs.iter().zip(needs) {
            let len = x.dim(self.axis);
            out.push(need.then(|| g.narrow(self.axis, start, len)).transpose()?);
            start += len;
        }
        Ok(out)
    }
}

impl Tensor {
    pub fn concat(xs: &[&Tensor], axis: usize) -> Result<Tensor> {
        let first = xs
            .first()
            .ok_or_else(|| Error::invalid("concat", &Shape::scalar(), "no tensors given"))?;
        if axis >= first.rank() {
            return Err(Error::invalid(
                "concat",
                first.shape(),
                format!("axis {axis}"),
            ));
        }
        let mut total = 0;
        for x in xs {
            first.check_same("concat", x)?;
            let same_rest = x.rank() == first.rank()
                && (0..x.rank()).all(|i| i == axis || x.dim(i) == first.dim(i));
            if !same_rest {
                return Err(Error::shape(
                    "concat",
                    first.shape(),
                    x.shape(),
                    format!("must agree except on axis {axis}"),
                ));
            }
            total += x.dim(axis);
        }
        if xs.len() == 1 {
            return Ok((*first).clone());
        }
        let mut out = first.dims().to_vec();
        out[axis] = total;
        let storages: Vec<_> = xs.iter().map(|x| x.storage()).collect();
        let parts: Vec<_> = storages
            .iter()
            .zip(xs)
            .map(|(s, x)| (s, x.shape()))
            .collect();
        let storage = first.device().backend().concat(&parts, axis)?;
        Ok(Tensor::from_op(
            storage,
            Shape::new(out),
            first.device(),
            xs,
            || {
                Arc::new(ConcatGrad {
                    axis,
                    inputs: xs.iter().map(|&x| x.clone()).collect(),
                })
            },
        ))
    }

    /// Stacks equally shaped tensors along a new axis.
    pub fn stack(xs: &[&Tensor], axis: usize) -> Result<Tensor> {
        let expanded = xs
            .iter()
            .map(|x| x.unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Tensor::concat(&expanded.iter().collect::<Vec<_>>(), axis)
    }
}
