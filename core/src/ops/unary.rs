//! Elementwise functions of one tensor and their derivatives.

use crate::autograd::GradFn;
use crate::backend::{UnaryOp, SELU_ALPHA, SELU_SCALE};
use crate::{Result, Tensor};
use std::sync::Arc;

struct UnaryGrad {
    op: UnaryOp,
    inputs: [Tensor; 1],
}

impl GradFn for UnaryGrad {
    fn name(&self) -> &'static str {
        "unary"
    }

    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }

    fn backward(&self, y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let x = &self.inputs[0];
        use UnaryOp::*;
        let dx = match self.op {
            Neg => g.neg()?,
            Exp => g.mul(y)?,
            Log => g.div(x)?,
            // d sqrt(x) = 0.5 / sqrt(x)
            Sqrt => g.div(y)?.mul_scalar(0.5)?,
            // d x^-1/2 = -0.5 x^-3/2 = -0.5 * y^3
            Rsqrt => g.mul(&y.powf(3.0)?)?.mul_scalar(-0.5)?,
            // d 1/x = -1/x^2 = -y^2
            Recip => g.mul(&y.square()?)?.neg()?,
            Abs => g.mul(&x.sign()?)?,
            Sign | Step | LeakyStep(_) | InRange { .. } => g.zeros_like()?,
            Square => g.mul(x)?.mul_scalar(2.0)?,
            // 1 - tanh^2
            Tanh => g.mul(&y.square()?.affine(-1.0, 1.0)?)?,
            // s (1 - s)
            Sigmoid => g.mul(&y.mul(&y.affine(-1.0, 1.0)?)?)?,
            Softplus => g.mul(&x.sigmoid()?)?,
            Relu => g.mul(&x.step()?)?,
            LeakyRelu(alpha) => g.mul(&x.leaky_step(alpha)?)?,
            // 1 where x > 0, else exp(x) = y + 1
            Elu => {
                let neg = y.add_scalar(1.0)?;
                g.mul(&Tensor::where_cond(&x.step()?, &g.ones_like()?, &neg)?)?
            }
            // scale where x > 0, else scale * alpha * exp(x) = y + scale * alpha
            Selu => {
                let neg = y.add_scalar(SELU_SCALE * SELU_ALPHA)?;
                let pos = g.full_like(SELU_SCALE)?;
                g.mul(&Tensor::where_cond(&x.step()?, &pos, &neg)?)?
            }
            // s + x s (1 - s)
            Swish => {
                let s = x.sigmoid()?;
                let ds = s.mul(&s.affine(-1.0, 1.0)?)?.mul(x)?;
                g.mul(&s.add(&ds)?)?
            }
            PowScalar(p) => {
                if p == 0.0 {
                    g.zeros_like()?
                } else if p == 1.0 {
                    g.clone()
                } else if p == 2.0 {
                    g.mul(x)?.mul_scalar(2.0)?
                } else {
                    g.mul(&x.powf(p - 1.0)?)?.mul_scalar(p)?
                }
            }
            Affine { mul, .. } => g.mul_scalar(mul)?,
            Clamp { lo, hi } => g.mul(&x.unary(InRange { lo, hi })?)?,
        };
        Ok(vec![Some(dx)])
    }
}

impl Tensor {
    /// Applies an elementwise primitive. The named methods below are the usual way in.
    pub fn unary(&self, op: UnaryOp) -> Result<Tensor> {
        let storage = self.device().backend().unary(op, &self.storage())?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            self.device(),
            &[self],
            || {
                Arc::new(UnaryGrad {
                    op,
                    inputs: [self.clone()],
                })
            },
        ))
    }

    pub fn neg(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Neg)
    }
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp)
    }
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log)
    }
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt)
    }
    pub fn rsqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Rsqrt)
    }
    pub fn recip(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Recip)
    }
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs)
    }
    pub fn sign(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sign)
    }
    pub fn square(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Square)
    }
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tanh)
    }
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sigmoid)
    }
    pub fn softplus(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Softplus)
    }
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Relu)
    }
    /// 1 where x > 0, else 0 (no gradient).
    pub fn step(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Step)
    }
    pub fn leaky_relu(&self, alpha: f64) -> Result<Tensor> {
        self.unary(UnaryOp::LeakyRelu(alpha))
    }
    /// 1 where x > 0, else alpha (no gradient).
    pub fn leaky_step(&self, alpha: f64) -> Result<Tensor> {
        self.unary(UnaryOp::LeakyStep(alpha))
    }
    pub fn elu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Elu)
    }
    pub fn selu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Selu)
    }
    pub fn swish(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Swish)
    }
    /// x ^ p for a constant exponent.
    pub fn powf(&self, p: f64) -> Result<Tensor> {
        self.unary(UnaryOp::PowScalar(p))
    }
    /// x * mul + add.
    pub fn affine(&self, mul: f64, add: f64) -> Result<Tensor> {
        self.unary(UnaryOp::Affine { mul, add })
    }
    pub fn mul_scalar(&self, s: f64) -> Result<Tensor> {
        if s == 1.0 {
            return Ok(self.clone());
        }
        self.affine(s, 0.0)
    }
    pub fn add_scalar(&self, s: f64) -> Result<Tensor> {
        if s == 0.0 {
            return Ok(self.clone());
        }
        self.affine(1.0, s)
    }
    pub fn clamp(&self, lo: f64, hi: f64) -> Result<Tensor> {
        self.unary(UnaryOp::Clamp { lo, hi })
    }
}
