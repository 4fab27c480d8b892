//! Elementwise functions of two tensors with broadcasting, and comparisons.

use crate::autograd::GradFn;
use crate::backend::BinaryOp;
use crate::{Result, Shape, Tensor};
use std::sync::Arc;

struct BinaryGrad {
    op: BinaryOp,
    inputs: [Tensor; 2],
}

impl GradFn for BinaryGrad {
    fn name(&self) -> &'static str {
        "binary"
    }

    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }

    fn backward(&self, y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let [a, b] = &self.inputs;
        use BinaryOp::*;
        let (da, db) = match self.op {
            Add => (Some(g.clone()), Some(g.clone())),
            Sub => (Some(g.clone()), needs[1].then(|| g.neg()).transpose()?),
            Mul => (
                needs[0].then(|| g.mul(b)).transpose()?,
                needs[1].then(|| g.mul(a)).transpose()?,
            ),
            // d(a/b)/db = -a/b^2 = -y/b
            Div => {
                let ga = g.div(b)?;
                let gb = if needs[1] {
                    Some(ga.mul(y)?.neg()?)
                } else {
                    None
                };
                (Some(ga), gb)
            }
            // Ties split the gradient evenly, as PyTorch does.
            Maximum | Minimum => {
                let (win_a, tie) = if self.op == Maximum {
                    (a.gt(b)?, a.eq_(b)?)
                } else {
                    (a.lt(b)?, a.eq_(b)?)
                };
                let share_a = win_a.add(&tie.mul_scalar(0.5)?)?;
                let share_b = share_a.affine(-1.0, 1.0)?;
                (
                    needs[0].then(|| g.mul(&share_a)).transpose()?,
                    needs[1].then(|| g.mul(&share_b)).transpose()?,
                )
            }
            // d a^b / da = b a^(b-1);  d a^b / db = a^b log a
            Pow => (
                needs[0]
                    .then(|| g.mul(&b.mul(&a.pow(&b.add_scalar(-1.0)?)?)?))
                    .transpose()?,
                needs[1].then(|| g.mul(&y.mul(&a.log()?)?)).transpose()?,
            ),
            Gt | Ge | Lt | Le | Eq | Ne => (Some(g.zeros_like()?), Some(g.zeros_like()?)),
        };
        Ok(vec![
            da.filter(|_| needs[0])
                .map(|d| d.sum_to(a.shape()))
                .transpose()?,
            db.filter(|_| needs[1])
                .map(|d| d.sum_to(b.shape()))
                .transpose()?,
        ])
    }
}

impl Tensor {
    /// Applies a two-input primitive with broadcasting.
    pub fn binary(&self, op: BinaryOp, other: &Tensor) -> Result<Tensor> {
        self.check_same("binary", other)?;
        let out = Shape::broadcast("binary", self.shape(), other.shape())?;
        let storage = self.device().backend().binary(
            op,
            (&self.storage(), self.shape()),
            (&other.storage(), other.shape()),
            &out,
        )?;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self, other],
            || {
                Arc::new(BinaryGrad {
                    op,
                    inputs: [self.clone(), other.clone()],
                })
            },
        ))
    }

    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Add, other)
    }
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Sub, other)
    }
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Mul, other)
    }
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Div, other)
    }
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Maximum, other)
    }
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Minimum, other)
    }
    pub fn pow(&self, exponent: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Pow, exponent)
    }
    /// 1.0 where self > other, else 0.0 (no gradient).
    pub fn gt(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Gt, other)
    }
    pub fn ge(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Ge, other)
    }
    pub fn lt(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Lt, other)
    }
    pub fn le(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Le, other)
    }
    /// Elementwise equality (named with an underscore: `eq` is `PartialEq`'s).
    pub fn eq_(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Eq, other)
    }
    pub fn ne_(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Ne, other)
    }
}
