//! Reordering axes (materialised as a copy: every tensor stays contiguous).

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct PermuteGrad {
    perm: Vec<usize>,
    inputs: [Tensor; 1],
}

impl GradFn for PermuteGrad {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let mut inverse = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            inverse[p] = i;
        }
        Ok(vec![Some(g.permute(&inverse)?)])
    }
}

impl Tensor {
    /// Output axis `i` is input axis `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        let r = self.rank();
        let mut seen = vec![false; r];
        if perm.len() != r
            || perm
                .iter()
                .any(|&p| p >= r || std::mem::replace(&mut seen[p], true))
        {
            return Err(Error::invalid(
                "permute",
                self.shape(),
                format!("{perm:?} is not a permutation of 0..{r}"),
            ));
        }
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(self.clone());
        }
        let out = Shape::new(perm.iter().map(|&p| self.dim(p)).collect::<Vec<_>>());
        // Moving only size-1 axes does not change the memory order.
        let moved: Vec<usize> = perm.iter().copied().filter(|&p| self.dim(p) != 1).collect();
        if moved.windows(2).all(|w| w[0] < w[1]) {
            return self.reshape(out);
        }
        let storage = self
            .device()
            .backend()
            .permute(&self.storage(), self.shape(), perm)?;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self],
            || {
                Arc::new(PermuteGrad {
                    perm: perm.to_vec(),
                    inputs: [self.clone()],
                })
            },
        ))
    }

    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        if a >= self.rank() || b >= self.rank() {
            return Err(Error::invalid(
                "transpose",
                self.shape(),
                format!("axes {a} and {b}"),
            ));
        }
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Transpose of the last two axes.
    pub fn t(&self) -> Result<Tensor> {
        if self.rank() < 2 {
            return Err(Error::invalid("t", self.shape(), "needs at least 2 axes"));
        }
        self.transpose(self.rank() - 2, self.rank() - 1)
    }
}
