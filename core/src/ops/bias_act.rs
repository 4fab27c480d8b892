//! StyleGAN2's fused bias + activation + gain + clamp (`bias_act`), and its
//! gradient as a primitive of its own whose rule uses itself again (the official
//! `BiasActCudaGrad` pattern), so R1 and path-length terms stay on fused kernels.
//!
//! Forward: `y = clamp(act(z) * gain, -c, c)` with `z = x + b` (`b` broadcast
//! along `dim`).
//! Gradient: `dx = G(dy, x, b) = dy * gain * act'(z) * [-c <= act(z) * gain <= c]`,
//! `db = sum(dx)` over every axis but `dim` (the clamp mask is taken before
//! clamping and is inclusive, as PyTorch's `clamp`).
//! Second order: `G` is linear in `dy`, so `dG/d(dy)` is `G` itself; `dG/dz` is
//! `dy * gain * act''(z) * mask`, written with elementwise ops (zero for the
//! piecewise-linear activations).

use crate::autograd::GradFn;
use crate::backend::{Activation, BiasActSpec, BiasLayout, UnaryOp, SELU_ALPHA, SELU_SCALE};
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

/// Gradient of `bias_act`; inputs `[x]` or `[x, b]`.
struct BiasActGrad {
    dim: usize,
    spec: BiasActSpec,
    inputs: Vec<Tensor>,
}

impl GradFn for BiasActGrad {
    fn name(&self) -> &'static str {
        "bias_act"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let x = &self.inputs[0];
        let b = self.inputs.get(1);
        let dx = if self.spec.is_identity() {
            g.clone()
        } else {
            g.bias_act_grad(x, b, self.dim, &self.spec)?
        };
        let db = match b {
            Some(_) if needs[1] => Some(sum_except(&dx, self.dim)?),
            _ => None,
        };
        let mut out = vec![needs[0].then_some(dx)];
        if b.is_some() {
            out.push(db);
        }
        Ok(out)
    }
}

/// Gradient of `bias_act_grad`; inputs `[dy, x]` or `[dy, x, b]`.
struct BiasActGradGrad {
    dim: usize,
    spec: BiasActSpec,
    inputs: Vec<Tensor>,
}

impl GradFn for BiasActGradGrad {
    fn name(&self) -> &'static str {
        "bias_act_grad"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let dy = &self.inputs[0];
        let x = &self.inputs[1];
        let b = self.inputs.get(2);
        let d_dy = needs[0]
            .then(|| g.bias_act_grad(x, b, self.dim, &self.spec))
            .transpose()?;
        let wants_x = needs[1] || (b.is_some() && needs[2]);
        let d_x = if wants_x && self.spec.act.has_second_derivative() {
            Some(second_order(g, dy, x, b, self.dim, &self.spec)?)
        } else {
            None
        };
        let d_b = match (&d_x, b) {
            (Some(d), Some(_)) if needs[2] => Some(sum_except(d, self.dim)?),
            _ => None,
        };
        let mut out = vec![d_dy, d_x.filter(|_| needs[1])];
        if b.is_some() {
            out.push(d_b);
        }
        Ok(out)
    }
}

/// `g * dy * gain * act''(z) * mask` with elementwise ops (differentiable again).
fn second_order(
    g: &Tensor,
    dy: &Tensor,
    x: &Tensor,
    b: Option<&Tensor>,
    dim: usize,
    spec: &BiasActSpec,
) -> Result<Tensor> {
    let z = match b {
        Some(b) => x.add(&b.reshape(bias_shape(x.shape(), dim))?)?,
        None => x.clone(),
    };
    let one_minus = |t: &Tensor| t.affine(-1.0, 1.0);
    let d2 = match spec.act {
        Activation::Tanh => {
            let t = z.tanh()?;
            t.mul(&one_minus(&t.square()?)?)?.mul_scalar(-2.0)?
        }
        Activation::Sigmoid => {
            let s = z.sigmoid()?;
            s.mul(&one_minus(&s)?)?.mul(&s.affine(-2.0, 1.0)?)?
        }
        Activation::Elu => z.exp()?.mul(&one_minus(&z.step()?)?)?,
        Activation::Selu => z
            .exp()?
            .mul(&one_minus(&z.step()?)?)?
            .mul_scalar(SELU_SCALE * SELU_ALPHA)?,
        Activation::Softplus => {
            let s = z.sigmoid()?;
            s.mul(&one_minus(&s)?)?
        }
        // d/dz (s + z s (1 - s)) = s (1 - s) (2 + z (1 - 2 s))
        Activation::Swish => {
            let s = z.sigmoid()?;
            let q = s.mul(&one_minus(&s)?)?;
            q.mul(&z.mul(&s.affine(-2.0, 1.0)?)?.add_scalar(2.0)?)?
        }
        Activation::Linear | Activation::Relu | Activation::Lrelu => z.zeros_like()?,
    };
    let mut factor = d2.mul_scalar(spec.gain)?;
    if let Some(c) = spec.clamp {
        let unclamped = BiasActSpec {
            clamp: None,
            ..*spec
        };
        let v = x
            .detach()
            .bias_act(b.map(|b| b.detach()).as_ref(), dim, &unclamped)?;
        factor = factor.mul(&v.unary(UnaryOp::InRange { lo: -c, hi: c })?)?;
    }
    g.mul(dy)?.mul(&factor)
}

/// `[C]` -> `[C, 1, ..., 1]` so that it broadcasts along `dim` of `shape`.
fn bias_shape(shape: &Shape, dim: usize) -> Vec<usize> {
    let mut s = vec![shape.dim(dim)];
    s.extend(std::iter::repeat_n(1, shape.rank() - dim - 1));
    s
}

/// Sum over every axis except `dim`, leaving shape `[C]`.
fn sum_except(t: &Tensor, dim: usize) -> Result<Tensor> {
    let axes: Vec<isize> = (0..t.rank())
        .filter(|&a| a != dim)
        .map(|a| a as isize)
        .collect();
    if axes.is_empty() {
        return Ok(t.clone());
    }
    t.sum(&axes)
}

fn layout(op: &'static str, x: &Tensor, b: Option<&Tensor>, dim: usize) -> Result<BiasLayout> {
    if x.rank() == 0 {
        if b.is_some() {
            return Err(Error::invalid(
                op,
                x.shape(),
                "a bias needs a tensor of rank >= 1",
            ));
        }
        return Ok(BiasLayout {
            outer: 1,
            channels: 1,
            inner: 1,
        });
    }
    if dim >= x.rank() {
        return Err(Error::invalid(
            op,
            x.shape(),
            format!("dim {dim} out of range for rank {}", x.rank()),
        ));
    }
    if let Some(b) = b {
        x.check_same(op, b)?;
        if b.rank() != 1 || b.dim(0) != x.dim(dim) {
            return Err(Error::shape(
                op,
                x.shape(),
                b.shape(),
                format!("the bias must be 1-D with one value per index of axis {dim}"),
            ));
        }
    }
    let d = x.dims();
    Ok(BiasLayout {
        outer: d[..dim].iter().product(),
        channels: d[dim],
        inner: d[dim + 1..].iter().product(),
    })
}

fn check_spec(op: &'static str, x: &Tensor, spec: &BiasActSpec) -> Result<()> {
    if let Some(c) = spec.clamp {
        if c.is_nan() || c < 0.0 {
            return Err(Error::invalid(
                op,
                x.shape(),
                format!("clamp must be >= 0, got {c}"),
            ));
        }
    }
    Ok(())
}

impl Tensor {
    /// `clamp(act(self + b) * gain, -clamp, clamp)` with `b` (1-D) broadcast along
    /// axis `dim`: the official `bias_act`.
    pub fn bias_act(&self, b: Option<&Tensor>, dim: usize, spec: &BiasActSpec) -> Result<Tensor> {
        let layout = layout("bias_act", self, b, dim)?;
        check_spec("bias_act", self, spec)?;
        if spec.is_identity() && b.is_none() {
            return Ok(self.clone());
        }
        let b_storage = b.map(|b| b.storage());
        let storage =
            self.device()
                .backend()
                .bias_act(&self.storage(), b_storage.as_ref(), layout, spec)?;
        let mut inputs: Vec<&Tensor> = vec![self];
        inputs.extend(b);
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            self.device(),
            &inputs,
            || {
                Arc::new(BiasActGrad {
                    dim,
                    spec,
                    inputs: inputs.iter().map(|&t| t.clone()).collect(),
                })
            },
        ))
    }

    /// The gradient of `x.bias_act(b, dim, spec)` with respect to `x`, for the
    /// output gradient `self`.
    pub fn bias_act_grad(
        &self,
        x: &Tensor,
        b: Option<&Tensor>,
        dim: usize,
        spec: &BiasActSpec,
    ) -> Result<Tensor> {
        let layout = layout("bias_act_grad", x, b, dim)?;
        check_spec("bias_act_grad", x, spec)?;
        self.check_same("bias_act_grad", x)?;
        if self.shape() != x.shape() {
            return Err(Error::shape(
                "bias_act_grad",
                self.shape(),
                x.shape(),
                "output gradient vs input",
            ));
        }
        let b_storage = b.map(|b| b.storage());
        let storage = self.device().backend().bias_act_grad(
            &self.storage(),
            &x.storage(),
            b_storage.as_ref(),
            layout,
            spec,
        )?;
        let mut inputs: Vec<&Tensor> = vec![self, x];
        inputs.extend(b);
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            self.device(),
            &inputs,
            || {
                Arc::new(BiasActGradGrad {
                    dim,
                    spec,
                    inputs: inputs.iter().map(|&t| t.clone()).collect(),
                })
            },
        ))
    }
}
